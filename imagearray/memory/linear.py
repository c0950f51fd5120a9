"""Linear device memory as CUDA sees it: what a CuPy array (or any object with
``__cuda_array_interface__``) holds, for copies and USM image handles.

Plain Python over the interface's dict, except for the device of a bare pointer.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import operator
import threading
from typing import Any

import numpy

from imagearray._descriptor import ImageDescriptor
from imagearray._device import is_available
from imagearray._errors import (
    CopyError,
    CUDAUnavailableError,
    ImageArrayTypeError,
    ReleasedResourceError,
)

__all__ = [
    "LinearImageMem",
    "LinearMemory",
    "describe_linear",
    "infer_usm_desc",
    "linear_layout",
]


@dataclasses.dataclass(frozen=True)
class LinearMemory:
    """Row-contiguous device memory: ``pitch`` 0 means tightly packed rows;
    ``shape_bytes`` the array's shape with its last axis counted in bytes."""

    device: int
    address: int
    nbytes: int
    pitch: int
    desc: ImageDescriptor | None
    writable: bool
    shape_bytes: tuple[int, ...] = ()


def _device_of_pointer(ptr: int) -> int:
    import cupy

    if not is_available():
        raise CUDAUnavailableError("no CUDA device: cannot tell which device holds the memory")
    try:
        return int(cupy.cuda.runtime.pointerGetAttributes(ptr).device)
    except cupy.cuda.runtime.CUDARuntimeError as exc:
        raise CopyError(f"{ptr:#x} is not device memory known to CUDA ({exc})") from None


def linear_layout(shape, strides, itemsize) -> tuple[int, int] | None:
    """(pitch, nbytes) of a row-contiguous array (rows may be padded), or None."""
    if len(shape) == 0:
        return itemsize, itemsize
    if len(shape) == 1:
        return (shape[0] * itemsize, shape[0] * itemsize) if strides[0] == itemsize else None
    inner = shape[1:]
    expected = itemsize
    for n, s in zip(reversed(inner), reversed(strides[1:])):
        if n > 1 and s != expected:
            return None
        expected *= n
    row = expected
    pitch = strides[0] if shape[0] > 1 else row
    if pitch < row:
        return None
    return pitch, pitch * (shape[0] - 1) + row


@functools.lru_cache(maxsize=256)
def infer_usm_desc(shape, dtype) -> ImageDescriptor | None:
    """The image a device array of ``shape`` and ``dtype`` holds: 1D or 2D, with the
    last axis as channels for (height, width, 1|2|4); None where it holds none."""
    # Cached: building a descriptor costs more than a small copy's launch, and the
    # same (immutable) descriptor object lets plan_copy reuse its plan.
    try:
        if len(shape) == 3 and shape[-1] in (1, 2, 4):
            return ImageDescriptor.from_shape(shape[:2], dtype, shape[-1])
        if len(shape) in (1, 2):
            return ImageDescriptor.from_shape(shape, dtype)
    except (ValueError, TypeError):
        return None
    return None


def describe_linear(obj: Any, role: str) -> LinearMemory:
    """What ``obj``'s ``__cuda_array_interface__`` describes; ``role`` names it in
    errors (``source``, ``memory``, ...)."""
    try:
        cai = obj.__cuda_array_interface__
        dtype = numpy.dtype(cai["typestr"])
        shape = tuple(operator.index(n) for n in cai["shape"])
        strides = cai.get("strides") or tuple(
            math.prod(shape[i + 1 :]) * dtype.itemsize for i in range(len(shape))
        )
        strides = tuple(operator.index(s) for s in strides)
        ptr = operator.index(cai["data"][0])
        read_only = bool(cai["data"][1])
        if len(strides) != len(shape) or any(n < 0 for n in shape) or ptr < 0:
            raise ValueError("negative or mismatched values")
    except Exception as exc:
        raise ImageArrayTypeError(
            f"the {role} has a malformed __cuda_array_interface__ ({exc!r}): expected a "
            "dict with 'shape', 'typestr', 'data' (ptr, read_only) and optional 'strides'"
        ) from None
    layout = linear_layout(shape, strides, dtype.itemsize)
    if layout is None:
        raise CopyError(
            f"the {role} device array must be C-contiguous or a pitched 2D array "
            f"(shape {shape}, strides {tuple(strides)})"
        )
    pitch = layout[0]
    if len(shape) < 2 or (len(shape) > 2 and pitch * shape[0] == layout[1]):
        # Tightly packed. For 3+ axes the first axis' stride is a slice (depth,
        # layers) or a row of (height, width, channels) data: 0 lets the plan use
        # the descriptor's row, right in both cases.
        pitch = 0
    dev = (
        int(obj.device.id)
        if hasattr(obj, "device") and hasattr(obj.device, "id")
        else (_device_of_pointer(ptr))
    )
    return LinearMemory(
        dev,
        ptr,
        layout[1],
        pitch,
        infer_usm_desc(shape, dtype),
        writable=not read_only,
        shape_bytes=shape[:-1] + (shape[-1] * dtype.itemsize,) if shape else (dtype.itemsize,),
    )


class LinearImageMem:
    """Image memory that is linear device memory: a 1D or a 2D pitched CuPy array
    (``asimage(a, copy=False)``, ``memory="linear"``). It plays both parts an
    ``ImageMem`` and its memory handle play for a view (``view._mem`` and
    ``view._handle``): the descriptor, the device, liveness and the engines' cache.

    The CuPy array owns the memory; this holds a reference to it, dropped by
    :meth:`free`. Handles made from it hold their own reference, so the memory
    outlives every handle that reads it (CuPy's pool gets it back after the last)."""

    __slots__ = ("array", "descriptor", "device", "pitch", "lock", "_cache", "__weakref__")

    linear = True

    def __init__(self, array: Any, desc: ImageDescriptor, device: int, pitch: int) -> None:
        self.array = array
        self.descriptor = desc
        self.device = device
        self.pitch = pitch  # bytes between rows (2D), the row size for 1D
        # As the image memory handles' lock: held by free() and by the engines'
        # cache while it makes a handle, so that free() destroys every cached one.
        self.lock = threading.RLock()
        self._cache = None

    @property
    def handle(self) -> LinearImageMem:
        return self

    @property
    def desc(self) -> ImageDescriptor:
        return self.descriptor

    @property
    def alive(self) -> bool:
        return self.array is not None

    def free(self) -> None:
        """Drop this image's reference to the array (CuPy views of it keep it)."""
        with self.lock:
            if self.array is None:
                raise ReleasedResourceError("this linear image memory was already freed")
            self.array = None

    def __repr__(self) -> str:
        state = "" if self.alive else ", freed"
        return f"LinearImageMem({self.descriptor}, pitch={self.pitch}, device={self.device}{state})"
