"""Copies between two host memories: the USM-to-USM overload of ``ext_oneapi_copy``
with host memory on both sides.

They are planned by :func:`imagearray.copies.plan.plan_copy` like every other copy
(the same offsets, extents, descriptors, pitches and failure scenarios) and the plan
is run here with NumPy, byte for byte as ``cuMemcpy3D`` would run it.

Stream semantics: synchronous. Where CUDA is usable the copy first waits for the work
already queued on the stream (CuPy's current one, or ``stream=``), so that a
device-to-host copy into prepared (page-locked, asynchronous) host memory enqueued
before it has landed; then NumPy copies on the calling thread, and the event
returned is complete when ``copy`` returns. Without CUDA (and no ``stream=``) there
is nothing to wait for: the copy runs and a completed stand-in event is returned.
"""

from __future__ import annotations

from typing import Any

import numpy

from imagearray._device import (
    call_on_device,
    get_device,
    get_stream,
    is_available,
    record_event,
    stream_device,
)
from imagearray._errors import CopyError
from imagearray.copies.plan import CopyPlan, Endpoint, plan_copy

__all__ = ["CompletedCopy", "copy_host_to_host", "run_on_host"]


class CompletedCopy:
    """What a host-to-host copy returns where there is no CUDA stream to record an
    event on: the copy is done, ``synchronize()`` returns at once."""

    __slots__ = ()
    done = True

    def synchronize(self) -> None:
        return None

    def query(self) -> bool:
        return True

    def __repr__(self) -> str:
        return "CompletedCopy()"


def _box_view(side: tuple, extent: tuple[int, int, int], buf: numpy.ndarray, writeable: bool):
    """The (depth, height, width_bytes) bytes a plan's side addresses in ``buf`` (the
    memory's flat uint8 bytes), as the driver addresses linear memory: from
    ``(z * height + y) * pitch + x_bytes``, rows ``pitch`` apart, slices ``height``
    rows apart."""
    _kind, _address, pitch, height, xb, y, z = side
    w, h, d = extent
    start = (z * height + y) * pitch + xb
    end = start + ((d - 1) * height + h - 1) * pitch + w
    if start < 0 or end > buf.size or (h > 1 or d > 1) and pitch < w:
        # plan_copy never plans this: refuse rather than read or write past the memory
        raise CopyError(f"a host copy would touch bytes {start}..{end} of {buf.size}")
    return numpy.lib.stride_tricks.as_strided(
        buf[start:end],
        shape=(d, h, w),
        strides=(height * pitch, pitch, 1),
        writeable=writeable,
    )


def run_on_host(plan: CopyPlan, src: numpy.ndarray, dst: numpy.ndarray) -> None:
    """Run a host-to-host ``plan`` on the flat uint8 bytes of its two memories.

    Overlapping boxes (one array on both sides) copy as if through a temporary, as
    NumPy assignment does."""
    sv = _box_view(plan.src, plan.extent, src, False)
    dv = _box_view(plan.dst, plan.extent, dst, True)
    dv[...] = sv


def _bytes_of(ep: Endpoint) -> numpy.ndarray:
    arr = ep.owner  # endpoint() keeps the (C-contiguous) NumPy array of host memory
    if not isinstance(arr, numpy.ndarray) or int(arr.ctypes.data) != ep.address:
        raise CopyError("host memory without its NumPy array cannot be copied on the host")
    return arr.reshape(-1).view(numpy.uint8)


def _wait_for_stream(stream: Any):
    """An event recorded on the stream and waited for (None without CUDA and stream=)."""
    if stream is None and not is_available():
        return None
    device = get_device(None)
    handle = get_stream(stream, device if stream is None else None)
    if handle > 2:
        device = stream_device(handle)
    event = call_on_device(device, record_event, handle)
    event.synchronize()
    return event


def copy_host_to_host(src: Endpoint, dst: Endpoint, stream: Any, args: dict) -> Any:
    """``copy`` between two host memories (see the module docstring)."""
    plan = plan_copy(src, dst, **args)  # every check first: a refused copy writes nothing
    event = _wait_for_stream(stream)
    run_on_host(plan, _bytes_of(src), _bytes_of(dst))
    return CompletedCopy() if event is None else event
