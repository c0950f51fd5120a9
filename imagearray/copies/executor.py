"""``copy``: every overload of the spec's ``ext_oneapi_copy``, validated before any
CUDA call.

Offsets and extents are in **texture order and texels**: ``(x, y, z)`` where x is
the width. For layered and cubemap images z is the layer (face) index, so a copy of
layers 2..3 is ``dst_offset=(0, 0, 2), extent=(w, h, 2)``; a 1D layered image is
addressed as ``(x, 1, layers)``. Host memory is a tightly packed (C-contiguous) NumPy
array or buffer; device (USM) memory is a CuPy array or anything with
``__cuda_array_interface__`` (row-contiguous, possibly pitched); image memory is an
``ImageArray``, ``ImageMem`` or image_mem_handle.

Validation (:func:`imagearray.copies.plan.plan_copy`) is plain Python, so it runs and
is tested without a GPU; this module runs the plans, and keeps the fast path that
replays them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy

from imagearray import _copy as _cy  # the Cython executor
from imagearray._descriptor import ImageDescriptor
from imagearray._device import (
    call_on_device,
    current_stream,
    device_info,
    get_device,
    get_stream,
    record_event,
    stream_device,
)
from imagearray.copies.endpoints import endpoint
from imagearray.copies.hostcopy import copy_host_to_host
from imagearray.copies.hostmem import end_host_copy, hold_host_ranges, is_prepared
from imagearray.copies.plan import DEVICE, HOST, IMAGE, KIND_CODE, CopyPlan, plan_copy
from imagearray.memory import ImageView

if TYPE_CHECKING:
    import cupy

__all__ = ["copy", "execute"]


def copy(
    src: Any,
    dst: Any,
    *,
    desc: ImageDescriptor | None = None,
    src_desc: ImageDescriptor | None = None,
    dst_desc: ImageDescriptor | None = None,
    src_offset: Any = None,
    dst_offset: Any = None,
    extent: Any = None,
    src_extent: Any = None,
    dst_extent: Any = None,
    host_extent: Any = None,
    device_row_pitch: int | None = None,
    stream: Any = None,
) -> cupy.cuda.Event:
    """Copy between host memory, device (USM) memory and image memory.

    Covers every overload of the spec's ``ext_oneapi_copy``: host↔image,
    host↔USM (pitched), image↔image (also between two GPUs), image↔USM, USM↔USM
    and host↔host, each whole or as a sub-region. Coordinates are texture order
    (x, y, z) in texels; z is the layer/face index of layered and cubemap images.
    An extent of 0 along a dimension the image does not have counts as 1 (the
    spec writes ``{w, 0, 0}``); along one it has, it is refused.

    Parameters
    ----------
    src, dst
        NumPy array or buffer (host, tightly packed), CuPy array (device), or
        ``ImageArray`` / ``ImageMem`` / image_mem_handle (image).
    desc : ImageDescriptor, optional
        The spec's Src/Dest/DeviceImgDesc. A whole copy has one descriptor for all
        device-side memory: ``desc``, else the image's own (or the one a CuPy
        array's shape implies). In a sub-region copy each side has its own: ``desc``
        describes the image(s), or the USM memory where there is no image; every
        other side takes its own (a CuPy or NumPy array's shape and dtype, read as
        rows of bytes in the copy's texels), else the other side's.
    src_desc, dst_desc : ImageDescriptor, optional
        The descriptor of one side (the spec's SrcImgDesc / DestImgDesc), e.g. of a
        CuPy array whose shape says another format; for an image it must match the
        allocation (copy failure scenario 2).
    src_offset, dst_offset : int or sequence of up to 3 ints, optional
        Where the copied box starts in each memory (default 0).
    extent : sequence of up to 3 ints, optional
        The copied box (CopyExtent). Default: the host box when one is given, else
        the whole image.
    src_extent, dst_extent, host_extent : sequence of up to 3 ints, optional
        The box of the host memory (SrcExtent / DestExtent / HostExtent); for
        device-side memory they must not exceed the allocation.
    device_row_pitch : int, optional
        Bytes between rows of the device memory (default: the CuPy array's stride).
        Ignored for 1D USM images (spec: they need no pitch), so 0 is accepted there.
        Between two host memories: the rows' pitch of both (default: packed).
    stream : cupy.cuda.Stream or int, optional
        Default: CuPy's current stream. For a peer copy, a stream of either device.

    Returns
    -------
    cupy.cuda.Event
        Recorded on the stream after the copy: ``.synchronize()`` waits for it.
        A host-to-host copy is synchronous (``imagearray.copies.hostcopy``): it
        waits for the work queued on the stream, copies with NumPy and returns a
        completed event (a ``CompletedCopy`` stand-in where CUDA is not usable).

    Raises
    ------
    CopyError
        One of the spec's copy-failure scenarios (``.scenario``), or unusable memory.

    Notes
    -----
    A copy without ``stream=`` between NumPy arrays, CuPy arrays and ImageArrays that
    were copied between before with the same keyword values (ints, tuples or lists of
    ints, descriptors) reuses the plan validated then: only the image memory still
    being alive, the current stream and prepared host memory are looked at again.
    Refused copies are never remembered.

    Examples
    --------
    >>> img = ia.empty((480, 640, 4), numpy.uint8, channels=4)
    >>> host = numpy.zeros((480, 640, 4), numpy.uint8)
    >>> ia.copy(host, img).synchronize()
    >>> part = numpy.zeros((32, 64, 4), numpy.uint8)
    >>> ev = ia.copy(img, part, src_offset=(10, 20), extent=(64, 32))
    """
    key = None
    if stream is None:
        key = _fast_key(src, dst)
        if key is not None:
            args_key = _args_key(
                (
                    desc,
                    src_desc,
                    dst_desc,
                    src_offset,
                    dst_offset,
                    extent,
                    src_extent,
                    dst_extent,
                    host_extent,
                    device_row_pitch,
                )
            )
            key = None if args_key is None else (*key, args_key)
        if key is not None:
            hit = _FAST.get(key)
            if hit is not None:
                # Validated and planned before for these very values (see _FAST): only
                # what can change between calls is looked at again (the host ranges
                # by _run's hold, which also notes the event on prepared ones).
                plan, queue_device, spans = hit[0], hit[1], hit[2]
                return _run(plan, spans, current_stream(queue_device), queue_device)

    s = endpoint(src, "source")
    d = endpoint(dst, "destination")
    args = dict(
        desc=desc,
        src_desc=src_desc,
        dst_desc=dst_desc,
        src_offset=src_offset,
        dst_offset=dst_offset,
        extent=extent,
        src_extent=src_extent,
        dst_extent=dst_extent,
        host_extent=host_extent,
        device_row_pitch=device_row_pitch,
    )
    if s.kind == HOST and d.kind == HOST:
        return copy_host_to_host(s, d, stream, args)
    devices = [ep.device for ep in (s, d) if ep.kind != HOST]
    # Every check that needs no device first, so that bad arguments are reported as
    # such (not as a CUDA error, nor CUDAUnavailableError on a machine without GPU);
    # the plan is made again below with the queue's device and pitch alignment.
    plan_copy(s, d, queue_device=devices[-1] if devices else None, **args)
    queue_device = get_device(devices[-1] if stream is None and devices else None)
    # CuPy's current stream is per device: with stream=None, the queue device's.
    handle = get_stream(stream, queue_device if stream is None else None)
    if handle > 2:
        queue_device = stream_device(handle)
    plan = plan_copy(
        s,
        d,
        queue_device=queue_device,
        pitch_align=device_info("image_row_pitch_align", queue_device),
        **args,
    )
    # Prepared (registered) host memory makes the copy truly asynchronous: the hold
    # that _run takes on the host ranges leaves the event with the registry, so that
    # releasing the memory waits for it.
    spans = _host_spans(plan)
    event = _run(plan, spans, handle, queue_device)
    if key is not None:
        if len(_FAST) >= _FAST_MAX:
            _FAST.clear()
        # The descriptors are held so that the ids in the key stay theirs.
        _FAST[key] = (plan, queue_device, spans, s.desc, d.desc, desc, src_desc, dst_desc)
    return event


def execute(
    plan: CopyPlan, stream_handle: int, queue_device: int, record: bool = True
) -> cupy.cuda.Event | None:
    """Run a validated plan on ``stream_handle`` and return an event recorded after it
    (``record=False``: None, for a caller whose result is ordered by the stream alone,
    e.g. a new CuPy array; an event costs a create, a record and a destroy)."""
    return _run(plan, _host_spans(plan), stream_handle, queue_device, record)


def _run(plan: CopyPlan, spans: tuple, stream_handle: int, queue_device: int, record=True):
    """:func:`execute` with the plan's host spans (:func:`_host_spans`) given."""
    # With queue_device current in CuPy the driver's current context is that device's
    # primary context, so the Cython layer never switches it behind CuPy's back.
    if not spans:
        return call_on_device(queue_device, _enqueue, plan, stream_handle, queue_device, record)
    # Prepared host ranges the copy touches are not unregistered while it is being
    # enqueued, and their releases wait for its event (hostmem.hold_host_ranges).
    held = hold_host_ranges(spans)
    event = None
    try:
        event = call_on_device(queue_device, _enqueue, plan, stream_handle, queue_device)
    finally:
        end_host_copy(held, event)
    return event


_HOST = KIND_CODE[HOST]


def _host_spans(plan: CopyPlan) -> tuple:
    """(first byte, bytes up to the last one) of each host side of ``plan``."""
    width, height, depth = plan.extent
    return tuple(
        (
            address + (z * rows + y) * pitch + x_bytes,
            ((depth - 1) * rows + height - 1) * pitch + width,
        )
        for kind, address, pitch, rows, x_bytes, y, z in (plan.src, plan.dst)
        if kind == _HOST
    )


#: Image <-> host copies of at least this many bytes get the aligned split.
_SPLIT_MIN_BYTES = 1 << 20


def _head_bytes(plan: CopyPlan) -> int:
    """Bytes at the start of each row to copy apart so that an image <-> host copy's
    host rows start on 64 bytes, or 0 for one copy.

    The copy engines move images (block-linear CUDA arrays) to and from host rows
    that start off a 64-byte line at 85-89 % of the speed of aligned rows (measured
    on the H100, tools/probes/hostmem_probe.py: NumPy's large arrays start 16 bytes
    past a page). Copying the first ``64 - start % 64`` bytes of every row apart
    (one narrow copy) lets the rest run aligned. Only when every row has the same
    misalignment (a pitch of whole lines), the head is a multiple of 16 bytes (so of
    every texel size) and the copy is large; only for prepared (page-locked) host
    memory: the driver stages pageable memory through buffers of its own, and split
    the H100 ran a pageable 8192^2 RGBA8 source 24 % slower than CuPy, a pageable
    destination between 9 % slower and 23 % faster from run to run."""
    width, height, depth = plan.extent
    if width * height * depth < _SPLIT_MIN_BYTES:  # first: small copies leave at once
        return 0
    kinds = (plan.src[0], plan.dst[0])
    if set(kinds) != {KIND_CODE[HOST], KIND_CODE[IMAGE]}:
        return 0
    from_host = kinds[0] == KIND_CODE[HOST]
    _, address, pitch, rows, x_bytes, y, z = plan.src if from_host else plan.dst
    start = address + (z * rows + y) * pitch + x_bytes
    misaligned = start % 64
    head = 64 - misaligned
    if misaligned == 0 or head % 16 or width < 4 * head:
        return 0
    if (height > 1 or depth > 1) and pitch % 64:
        return 0
    if not is_prepared(start, ((depth - 1) * rows + height - 1) * pitch + width):
        return 0
    return head


def _shifted(side: tuple, head: int) -> tuple:
    return side[:4] + (side[4] + head,) + side[5:]


def _enqueue(plan: CopyPlan, stream_handle: int, queue_device: int, record: bool = True):
    if plan.is_peer:
        _cy.memcpy3d_peer(
            plan.src_device, plan.dst_device, stream_handle, plan.src, plan.dst, plan.extent
        )
    elif head := _head_bytes(plan):
        width, height, depth = plan.extent
        _cy.memcpy3d(
            queue_device,
            stream_handle,
            _shifted(plan.src, head),
            _shifted(plan.dst, head),
            (width - head, height, depth),
        )
        _cy.memcpy3d(queue_device, stream_handle, plan.src, plan.dst, (head, height, depth))
    else:
        _cy.memcpy3d(queue_device, stream_handle, plan.src, plan.dst, plan.extent)
    return record_event(stream_handle) if record else None


# ------------------------------------------------------------------ the fast path

# copy(src, dst, **keywords) without stream= between memories it has copied between
# before with the same keywords (a frame loop, a tile loop, a benchmark) replays the
# plan made then, skipping endpoint(), both plan_copy() calls and the device
# queries. A side's key holds every value its Endpoint is made of: an equal key
# gives an equal Endpoint, and the plan is a pure function of the two endpoints, the
# keyword values (_args_key: exact ints, tuples and lists of them, descriptors by
# id), the queue device (the memory's: devices[-1]) and that device's pitch
# alignment (a constant). What can change between two calls is
# still looked at on each: image memory still alive (else no key: the full path
# raises ReleasedResourceError), CuPy's current stream of the device and the device
# it belongs to (get_stream, for any but the default streams), prepared host memory
# (_run's hold of the plan's host spans). Only exact NumPy and CuPy arrays and
# ImageArrays have keys; refused copies are never remembered. Keys hold values,
# never the user's arrays: equal values on new memory (a pool's reused pointer) are
# the same copy.
_FAST: dict[tuple, tuple] = {}
_FAST_MAX = 256
_KEYERS: dict[type, Any] = {}


def _image_key(img: ImageView) -> tuple | None:
    h = img._handle
    if not h.alive:
        return None
    # The descriptor by id: the remembered entry holds the object, so the id stays its.
    return (IMAGE, h.device, h.raw(), id(img._vdesc), img._origin)


def _usm_key(arr: Any) -> tuple:
    # What CuPy's __cuda_array_interface__ is made of, read without building it.
    return (DEVICE, arr.data.ptr, arr.shape, arr.strides, arr.dtype, arr.device.id)


def _host_key(arr: numpy.ndarray) -> tuple | None:
    # (HOST, address, nbytes, writeable) of a C-contiguous array, else None
    return _cy.host_key(arr, HOST)


def _args_key(values: tuple) -> tuple | None:
    """The keyword arguments of a copy as a key, or None where a value is of a type the
    key does not cover (NumPy integers, other sequences: the full path takes them).
    Offsets, extents and the pitch are ints or tuples / lists of ints (a list keys as
    the tuple of its values: plan_copy reads both alike); descriptors key by id, the
    entry holding them. Every value is kept as it was given, so the full path's
    checks of it (types, signs, zeros, bounds) were made for this very key. The
    common case (None, ints and tuples of ints only) is ``values`` itself."""
    plain = True
    for v in values:
        if v is None:
            continue
        t = type(v)
        if t is int:
            continue
        if t is tuple or t is list:
            for c in v:
                if type(c) is not int:
                    return None
            if t is list:
                plain = False
        elif t is ImageDescriptor:
            plain = False
        else:
            return None
    if plain:
        return values
    return tuple(
        tuple(v)
        if type(v) is list
        else (ImageDescriptor, id(v))  # tagged: no int or int tuple equals it
        if type(v) is ImageDescriptor
        else v
        for v in values
    )


def _fast_key(src: Any, dst: Any) -> tuple | None:
    keyers = _KEYERS or _init_keyers()
    ks = keyers.get(type(src)) or _keyer_of(type(src))
    kd = keyers.get(type(dst)) or _keyer_of(type(dst))
    if ks is None or kd is None:
        return None
    s = ks(src)
    if s is None:
        return None
    d = kd(dst)
    if d is None:
        return None
    return (s, d)


def _keyer_of(tp: type) -> Any:
    """The keyer of an image view type (ImageArray, seen first here), remembered."""
    if issubclass(tp, ImageView):
        _KEYERS[tp] = _image_key
        return _image_key
    return None


def _init_keyers() -> dict[type, Any]:
    keyers: dict[type, Any] = {ImageView: _image_key, numpy.ndarray: _host_key}
    try:
        import cupy

        keyers[cupy.ndarray] = _usm_key
    except Exception:  # no usable CuPy: its arrays take the full path (which reports it)
        pass
    _KEYERS.update(keyers)
    return _KEYERS
