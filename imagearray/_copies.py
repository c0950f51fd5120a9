"""``copy``: every overload of the spec's ``ext_oneapi_copy``, validated before any
CUDA call.

Offsets and extents are in **texture order and texels**: ``(x, y, z)`` where x is
the width. For layered and cubemap images z is the layer (face) index, so a copy of
layers 2..3 is ``dst_offset=(0, 0, 2), extent=(w, h, 2)``; a 1D layered image is
addressed as ``(x, 1, layers)``. Host memory is a tightly packed (C-contiguous) NumPy
array or buffer; device (USM) memory is a CuPy array or anything with
``__cuda_array_interface__`` (row-contiguous, possibly pitched); image memory is an
``ImageArray``, ``ImageMem`` or image_mem_handle.

Validation (:func:`plan_copy`) is plain Python, so it runs and is tested without a
GPU. Each failure raises :class:`CopyError` naming the spec's scenario (1-10) and the
offending numbers; a refused copy writes nothing.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy

from imagearray import _copy as _cy  # the Cython executor
from imagearray._copy_optimize import is_prepared, note_copy
from imagearray._descriptor import ImageDescriptor
from imagearray._device import device_info, get_device, get_stream
from imagearray._errors import (
    CopyError,
    CUDAUnavailableError,
    ImageArrayTypeError,
    ReleasedResourceError,
)
from imagearray._image_mem import ImageMem, call_on_device, image_box, is_image_mem_handle

__all__ = ["copy", "Endpoint", "CopyPlan", "plan_copy", "endpoint"]

HOST, DEVICE, IMAGE = "host", "device", "image"
#: Pitches, offsets and extents go to size_t fields of CUDA_MEMCPY3D: refuse what no
#: allocation can have (a 1D copy never reads the pitch, so no bound check catches it).
_SIZE_LIMIT = 2**63
_KIND_CODE = {HOST: 0, DEVICE: 1, IMAGE: 2}  # as imagearray._copy (Cython) numbers them


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """One side of a copy, described without touching CUDA.

    kind : "host" | "device" | "image"
    device : device ordinal (None for host memory)
    address : host pointer, device pointer or CUarray
    nbytes : capacity of linear memory (host/device)
    pitch : bytes between rows of device memory (0: tightly packed)
    desc : image: the allocation's descriptor (of this level / view);
           device: the descriptor inferred from the array, if any
    origin : image views (a layer or face of a bigger allocation): where the view starts
    """

    kind: str
    device: int | None
    address: int = 0
    nbytes: int = 0
    pitch: int = 0
    desc: ImageDescriptor | None = None
    writable: bool = True
    origin: tuple[int, int, int] = (0, 0, 0)
    owner: Any = None


@dataclasses.dataclass(frozen=True)
class CopyPlan:
    """What the Cython layer runs: ``(kind, address, pitch, height, x_bytes, y, z)``
    for each side and ``(width_bytes, height, depth)``."""

    src: tuple[int, int, int, int, int, int, int]
    dst: tuple[int, int, int, int, int, int, int]
    extent: tuple[int, int, int]
    src_device: int | None
    dst_device: int | None

    @property
    def is_peer(self) -> bool:
        return (
            self.src_device is not None
            and self.dst_device is not None
            and self.src_device != self.dst_device
        )


def _triple(name: str, value: Any, fill: int, minimum: int) -> tuple[int, int, int]:
    if isinstance(value, (int, numpy.integer)) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, Sequence) or not 1 <= len(value) <= 3:
        raise CopyError(
            f"{name} must be an int or a sequence of 1 to 3 ints (x, y, z), not {value!r}"
        )
    out = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, (int, numpy.integer)):
            raise CopyError(f"{name} must hold ints, not {value!r}")
        if v < minimum:
            raise CopyError(f"{name} components must be >= {minimum}, not {tuple(value)}")
        out.append(int(v))
    return tuple(out + [fill] * (3 - len(out)))  # type: ignore[return-value]


def _box_bytes(box: tuple[int, int, int], texel: int) -> int:
    return box[0] * box[1] * box[2] * texel


def _fmt(t: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(v) for v in t) + ")"


def _same_image(a: ImageDescriptor, b: ImageDescriptor) -> bool:
    return (
        a.texel_size == b.texel_size
        and a.num_channels == b.num_channels
        and image_box(a) == image_box(b)
        and a.dimensions == b.dimensions
    )


_PLANS: dict[tuple, tuple] = {}
_PLANS_MAX = 1024


def _ep_key(ep: Endpoint) -> tuple:
    return (
        ep.kind,
        ep.device,
        ep.address,
        ep.nbytes,
        ep.pitch,
        id(ep.desc),
        ep.writable,
        ep.origin,
    )


def plan_copy(
    src: Endpoint,
    dst: Endpoint,
    *,
    desc: ImageDescriptor | None = None,
    src_offset: Any = None,
    dst_offset: Any = None,
    extent: Any = None,
    src_extent: Any = None,
    dst_extent: Any = None,
    host_extent: Any = None,
    device_row_pitch: int | None = None,
    queue_device: int | None = None,
    pitch_align: int = 1,
) -> CopyPlan:
    """Validate a copy against the spec's ten failure scenarios and plan it.

    Plain Python: nothing here calls CUDA. See :func:`copy` for the arguments.
    """
    subregion = any(
        v is not None for v in (src_offset, dst_offset, extent, src_extent, dst_extent, host_extent)
    )
    whole = desc is None and device_row_pitch is None and not subregion
    # A whole copy's plan depends only on the endpoints' values and descriptors:
    # repeated copies between the same memories reuse it (planning costs tens of
    # microseconds, a device-to-image copy of a large image a few hundred).
    key = (_ep_key(src), _ep_key(dst), queue_device, pitch_align) if whole else None
    if key is not None:
        hit = _PLANS.get(key)
        if hit is not None and hit[0] is src.desc and hit[1] is dst.desc:
            return hit[2]
    if src.kind == HOST and dst.kind == HOST:
        raise CopyError("host-to-host copies are not device copies: use numpy.copyto")
    if not dst.writable:
        raise CopyError("the destination is read-only")
    s_off = _triple("src_offset", 0 if src_offset is None else src_offset, 0, 0)
    given_ext = None if extent is None else _triple("extent", extent, 1, 1)
    d_off = _triple("dst_offset", 0 if dst_offset is None else dst_offset, 0, 0)

    # The descriptor of the device-side image (spec: Src/Dest/DeviceImgDesc). An
    # image-to-image copy without desc= takes each image's own (the spec's SrcImgDesc
    # and DestImgDesc): a sub-region may move between images of different sizes.
    own_descs = desc is None and src.kind == IMAGE and dst.kind == IMAGE
    if desc is None:
        for ep in (src, dst):
            if ep.kind == IMAGE or (ep.kind == DEVICE and ep.desc is not None):
                desc = ep.desc
                break
    if desc is None:
        raise CopyError("desc= is required: the device memory does not say what image it holds")
    if not isinstance(desc, ImageDescriptor):
        raise ImageArrayTypeError(f"desc must be an ImageDescriptor, not {type(desc).__name__}")
    desc.verify()
    if desc.type.is_mipmapped:
        raise CopyError(
            f"{desc} describes a whole mipmap: copy one level at a time, with "
            "get_mip_level_mem_handle(level) and desc.mip_level_desc(level)",
            scenario=2,
        )
    texel = desc.texel_size
    dbox = image_box(desc)

    # Scenario 1: memory and queue on one device (peer copies between two devices'
    # memory are allowed, enqueued on a stream of either device).
    devs = {ep.device for ep in (src, dst) if ep.kind != HOST}
    if len(devs) == 2:
        if queue_device not in devs:
            raise CopyError(
                f"peer copy from device {src.device} to device {dst.device} on a stream of "
                f"device {queue_device}",
                scenario=1,
            )
    elif queue_device is not None and devs and devs != {queue_device}:
        raise CopyError(
            f"memory on device {devs.pop()}, queue (stream) on device {queue_device}", scenario=1
        )

    boxes: dict[str, tuple[int, int, int]] = {}
    pitches: dict[str, int] = {}
    for role, ep in (("src", src), ("dst", dst)):
        if ep.kind == IMAGE:
            if own_descs and subregion:
                if (ep.desc.texel_size, ep.desc.num_channels) != (texel, desc.num_channels):
                    raise CopyError(
                        f"the {role} image holds {ep.desc.num_channels} channel(s) of "
                        f"{ep.desc.texel_size} B texels, the source {desc.num_channels} of "
                        f"{texel} B: image-to-image copies move texels of one format",
                        scenario=2,
                    )
            elif not _same_image(ep.desc, desc) or (not subregion and ep.desc.type != desc.type):
                raise CopyError(
                    f"the {role} image was allocated as {ep.desc}, the copy describes it as {desc}",
                    scenario=2,
                )
            boxes[role] = image_box(ep.desc)
        elif ep.kind == DEVICE:
            pitch = (
                device_row_pitch if device_row_pitch is not None else (ep.pitch or dbox[0] * texel)
            )
            if (
                isinstance(pitch, bool)
                or not isinstance(pitch, (int, numpy.integer))
                or not 0 < pitch < _SIZE_LIMIT
            ):
                raise CopyError(f"device_row_pitch must be an int > 0 and < 2**63, not {pitch!r}")
            # A Python int from here on: NumPy integer arithmetic would wrap silently.
            pitch = int(pitch)
            if dbox[1] > 1 and pitch % pitch_align:
                raise CopyError(
                    f"device row pitch {pitch} B is not a multiple of the device's "
                    f"image_row_pitch_align {pitch_align} B",
                    scenario=9,
                )
            if pitch < dbox[0] * texel:
                raise CopyError(
                    f"device row pitch {pitch} B is smaller than a row of the image: "
                    f"{dbox[0]} texels x {texel} B = {dbox[0] * texel} B",
                    scenario=10,
                )
            # 3D / layered data in linear memory: slices of dbox[1] rows, one after another.
            need = pitch * (dbox[1] * dbox[2] - 1) + dbox[0] * texel
            if need > ep.nbytes:
                raise CopyError(
                    f"{desc} with row pitch {pitch} B needs {need} B, the {role} device "
                    f"memory holds {ep.nbytes} B",
                    scenario=2,
                )
            boxes[role], pitches[role] = dbox, int(pitch)

    # Host memory: its box is given by host_extent / src_extent / dst_extent, or the
    # descriptor. Capacities are checked against the host allocation.
    for role, ep, own_extent, own_name, own_scn in (
        ("src", src, src_extent, "src_extent", 5),
        ("dst", dst, dst_extent, "dst_extent", 6),
    ):
        if ep.kind != HOST:
            continue
        if host_extent is not None:
            box, name, scn = _triple("host_extent", host_extent, 1, 1), "host_extent", 4
        elif own_extent is not None:
            box, name, scn = _triple(own_name, own_extent, 1, 1), own_name, own_scn
        elif given_ext is not None:
            box, name, scn = given_ext, "extent", 3
        else:
            box, name, scn = dbox, "the descriptor", 2
        if not subregion and _box_bytes(box, texel) != ep.nbytes:
            raise CopyError(
                f"{desc} holds {_box_bytes(dbox, texel)} B, the {role} host memory "
                f"{ep.nbytes} B; capacities must be equal",
                scenario=2,
            )
        if _box_bytes(box, texel) > ep.nbytes:
            raise CopyError(
                f"{name} {_fmt(box)} x {texel} B = {_box_bytes(box, texel)} B, the {role} "
                f"host memory holds {ep.nbytes} B",
                scenario=scn,
            )
        boxes[role] = box

    # src_extent / dst_extent of device-side memory must not exceed the allocation.
    for role, given, name, scn in (
        ("src", src_extent, "src_extent", 5),
        ("dst", dst_extent, "dst_extent", 6),
    ):
        ep = src if role == "src" else dst
        if given is not None and ep.kind != HOST:
            claimed = _triple(name, given, 1, 1)
            if any(c > b for c, b in zip(claimed, boxes[role])):
                raise CopyError(
                    f"{name} {_fmt(claimed)} is larger than the {role} {ep.kind} memory "
                    f"{_fmt(boxes[role])}",
                    scenario=scn,
                )
            boxes[role] = claimed

    if given_ext is not None:
        ext = given_ext
    elif host_extent is not None or (src.kind == HOST and src_extent is not None):
        ext = boxes["src" if src.kind == HOST else "dst"]
    elif dst.kind == HOST and dst_extent is not None:
        ext = boxes["dst"]
    else:
        ext = dbox
    for role in ("src", "dst"):
        if any(e > b for e, b in zip(ext, boxes[role])):
            raise CopyError(
                f"copy extent {_fmt(ext)} is larger than the {role} memory {_fmt(boxes[role])}",
                scenario=3,
            )
    for role, off, scn in (("src", s_off, 7), ("dst", d_off, 8)):
        end = tuple(o + e for o, e in zip(off, ext))
        if any(x > b for x, b in zip(end, boxes[role])):
            raise CopyError(
                f"{role}_offset {_fmt(off)} + extent {_fmt(ext)} = {_fmt(end)} is outside the "
                f"{role} memory {_fmt(boxes[role])}",
                scenario=scn,
            )

    def side(ep: Endpoint, role: str, off: tuple[int, int, int]):
        o = tuple(a + b for a, b in zip(off, ep.origin))
        box = boxes[role]
        if ep.kind == IMAGE:
            pitch, rows = 0, 0
        elif ep.kind == HOST:
            pitch, rows = box[0] * texel, box[1]
        else:
            # src_extent / dst_extent only bound the copy: the memory's slices still
            # hold dbox[1] rows each.
            pitch, rows = pitches[role], dbox[1]
        return (_KIND_CODE[ep.kind], int(ep.address), pitch, rows, o[0] * texel, o[1], o[2])

    plan = CopyPlan(
        src=side(src, "src", s_off),
        dst=side(dst, "dst", d_off),
        extent=(ext[0] * texel, ext[1], ext[2]),
        src_device=src.device if src.kind != HOST else None,
        dst_device=dst.device if dst.kind != HOST else None,
    )
    if key is not None:
        if len(_PLANS) >= _PLANS_MAX:
            _PLANS.clear()
        _PLANS[key] = (src.desc, dst.desc, plan)  # holds the descriptors: ids stay unique
    return plan


# --------------------------------------------------------------------- endpoints


def _device_of_pointer(ptr: int) -> int:
    import cupy

    from imagearray._device import is_available

    if not is_available():
        raise CUDAUnavailableError("no CUDA device: cannot tell which device holds the memory")
    try:
        return int(cupy.cuda.runtime.pointerGetAttributes(ptr).device)
    except cupy.cuda.runtime.CUDARuntimeError as exc:
        raise CopyError(f"{ptr:#x} is not device memory known to CUDA ({exc})") from None


def _linear_layout(shape, strides, itemsize) -> tuple[int, int] | None:
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
def _infer_usm_desc(shape, dtype) -> ImageDescriptor | None:
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


def endpoint(obj: Any, role: str) -> Endpoint:
    """Classify ``obj`` as host, device (USM) or image memory."""
    from imagearray._image_array import ImageArray

    if isinstance(obj, ImageArray):
        return obj._endpoint()
    if isinstance(obj, ImageMem) or is_image_mem_handle(obj):
        h = obj.handle if isinstance(obj, ImageMem) else obj
        if not h.alive:
            raise ReleasedResourceError(f"the {role} image memory was already freed")
        if not hasattr(h, "query_descriptor"):  # mipmapped array
            raise CopyError(
                f"the {role} is a whole mipmap: copy one level at a time, with "
                "get_mip_level_mem_handle(level)",
                scenario=2,
            )
        return Endpoint(IMAGE, h.device, h.raw(), desc=h.desc, owner=h)
    if hasattr(obj, "__cuda_array_interface__"):
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
        layout = _linear_layout(shape, strides, dtype.itemsize)
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
        return Endpoint(
            DEVICE,
            dev,
            ptr,
            nbytes=layout[1],
            pitch=pitch,
            desc=_infer_usm_desc(shape, dtype),
            writable=not read_only,
            owner=obj,
        )
    if isinstance(obj, numpy.ndarray):
        arr = obj
    else:
        try:
            arr = numpy.frombuffer(memoryview(obj).cast("B"), dtype=numpy.uint8)
        except (TypeError, ValueError):
            raise ImageArrayTypeError(
                f"cannot copy {role} of type {type(obj).__name__}: expected a NumPy array or "
                "buffer (host), a CuPy array (device) or image memory"
            ) from None
    if not arr.flags.c_contiguous:
        raise CopyError(f"the {role} host memory must be tightly packed (C-contiguous)")
    return Endpoint(
        HOST, None, int(arr.ctypes.data), nbytes=arr.nbytes, writable=arr.flags.writeable, owner=arr
    )


def copy(
    src: Any,
    dst: Any,
    *,
    desc: ImageDescriptor | None = None,
    src_offset: Any = None,
    dst_offset: Any = None,
    extent: Any = None,
    src_extent: Any = None,
    dst_extent: Any = None,
    host_extent: Any = None,
    device_row_pitch: int | None = None,
    stream: Any = None,
):
    """Copy between host memory, device (USM) memory and image memory.

    Covers every overload of the spec's ``ext_oneapi_copy``: host↔image,
    host↔USM (pitched), image↔image (also between two GPUs), image↔USM, each
    whole or as a sub-region. Coordinates are texture order (x, y, z) in texels;
    z is the layer/face index of layered and cubemap images.

    Parameters
    ----------
    src, dst
        NumPy array or buffer (host, tightly packed), CuPy array (device), or
        ``ImageArray`` / ``ImageMem`` / image_mem_handle (image).
    desc : ImageDescriptor, optional
        The spec's Src/Dest/DeviceImgDesc: the device-side image. Default: the image's
        own descriptor (or the one a CuPy array's shape implies).
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
    stream : cupy.cuda.Stream or int, optional
        Default: CuPy's current stream. For a peer copy, a stream of either device.

    Returns
    -------
    cupy.cuda.Event
        Recorded on the stream after the copy: ``.synchronize()`` waits for it.

    Raises
    ------
    CopyError
        One of the spec's copy-failure scenarios (``.scenario``), or unusable memory.

    Notes
    -----
    A whole copy (no keyword) between NumPy arrays, CuPy arrays and ImageArrays that
    were copied between before reuses the plan validated then: only the image memory
    still being alive, the current stream and prepared host memory are looked at
    again. Refused copies are never remembered.

    Examples
    --------
    >>> img = ia.empty((480, 640), numpy.uint8, channels=4)  # doctest: +SKIP
    >>> host = numpy.zeros((480, 640, 4), numpy.uint8)
    >>> ia.copy(host, img).synchronize()  # doctest: +SKIP
    >>> part = numpy.zeros((32, 64, 4), numpy.uint8)
    >>> ev = ia.copy(img, part, src_offset=(10, 20), extent=(64, 32))  # doctest: +SKIP
    """
    key = None
    if (
        stream is None
        and desc is None
        and src_offset is None
        and dst_offset is None
        and extent is None
        and src_extent is None
        and dst_extent is None
        and host_extent is None
        and device_row_pitch is None
    ):
        key = _fast_key(src, dst)
        if key is not None:
            hit = _FAST.get(key)
            if hit is not None:
                # Validated and planned before for these very values (see _FAST): only
                # what can change between calls is looked at again.
                plan, queue_device, host_sides = hit[0], hit[1], hit[2]
                event = execute(plan, _current_stream(queue_device), queue_device)
                for address, nbytes in host_sides:
                    note_copy(address, nbytes, event)
                return event

    s = endpoint(src, "source")
    d = endpoint(dst, "destination")
    devices = [ep.device for ep in (s, d) if ep.kind != HOST]
    args = dict(
        desc=desc,
        src_offset=src_offset,
        dst_offset=dst_offset,
        extent=extent,
        src_extent=src_extent,
        dst_extent=dst_extent,
        host_extent=host_extent,
        device_row_pitch=device_row_pitch,
    )
    # Every check that needs no device first, so that bad arguments are reported as
    # such (not as a CUDA error, nor CUDAUnavailableError on a machine without GPU);
    # the plan is made again below with the queue's device and pitch alignment.
    plan_copy(s, d, queue_device=devices[-1] if devices else None, **args)
    queue_device = get_device(devices[-1] if stream is None and devices else None)
    # CuPy's current stream is per device: with stream=None, the queue device's.
    handle = get_stream(stream, queue_device if stream is None else None)
    if handle > 2:
        from imagearray import _driver

        queue_device = _driver.stream_device(handle)
    plan = plan_copy(
        s,
        d,
        queue_device=queue_device,
        pitch_align=device_info("image_row_pitch_align", queue_device),
        **args,
    )
    event = execute(plan, handle, queue_device)
    # Prepared (registered) host memory makes the copy truly asynchronous: the
    # registry keeps the event so that releasing the memory waits for it.
    host_sides = tuple((ep.address, ep.nbytes) for ep in (s, d) if ep.kind == HOST)
    for address, nbytes in host_sides:
        note_copy(address, nbytes, event)
    if key is not None:
        if len(_FAST) >= _FAST_MAX:
            _FAST.clear()
        # The descriptors are held so that the ids in the key stay theirs.
        _FAST[key] = (plan, queue_device, host_sides, s.desc, d.desc)
    return event


def execute(plan: CopyPlan, stream_handle: int, queue_device: int):
    """Run a validated plan on ``stream_handle`` and return an event recorded after it."""
    cuda = _CUDA or _cupy_cuda()
    # With queue_device current in CuPy the driver's current context is that device's
    # primary context, so the Cython layer never switches it behind CuPy's back.
    return call_on_device(queue_device, _enqueue, cuda, plan, stream_handle, queue_device)


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
    kinds = (plan.src[0], plan.dst[0])
    if set(kinds) != {_KIND_CODE[HOST], _KIND_CODE[IMAGE]}:
        return 0
    width, height, depth = plan.extent
    if width * height * depth < _SPLIT_MIN_BYTES:
        return 0
    from_host = kinds[0] == _KIND_CODE[HOST]
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


def _enqueue(cuda: Any, plan: CopyPlan, stream_handle: int, queue_device: int):
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
    event = cuda.Event(block=False, disable_timing=True)
    cuda.runtime.eventRecord(event.ptr, stream_handle)
    return event


_CUDA: Any = None  # cupy.cuda, imported on the first copy (importing imagearray does not)


def _cupy_cuda() -> Any:
    global _CUDA
    import cupy

    _CUDA = cupy.cuda
    return _CUDA


def _current_stream(device: int) -> int:
    """``get_stream(None, device)``: CuPy's current stream of ``device``. A default
    stream (0, 1, 2: the current context's) is taken as it is; any other, and a CuPy
    failure, go through get_stream, which checks the stream's device."""
    try:
        handle = int((_CUDA or _cupy_cuda()).get_current_stream(device).ptr)
    except Exception:
        handle = -1
    return handle if 0 <= handle <= 2 else get_stream(None, device)


# ------------------------------------------------------------------ the fast path

# copy(src, dst) without keywords between memories it has copied between before (a
# frame loop, a benchmark) replays the plan made then, skipping endpoint(), both
# plan_copy() calls and the device queries. A side's key holds every value its
# Endpoint is made of: an equal key gives an equal Endpoint, and the plan is a pure
# function of the two endpoints, the queue device (the memory's: devices[-1]) and
# that device's pitch alignment (a constant). What can change between two calls is
# still looked at on each: image memory still alive (else no key: the full path
# raises ReleasedResourceError), CuPy's current stream of the device and the device
# it belongs to (get_stream, for any but the default streams), prepared host memory
# (note_copy). Only exact NumPy and CuPy arrays and ImageArrays have keys; refused
# copies are never remembered. Keys hold values, never the user's arrays: equal
# values on new memory (a pool's reused pointer) are the same copy.
_FAST: dict[tuple, tuple] = {}
_FAST_MAX = 256
_KEYERS: dict[type, Any] = {}


def _image_key(img: Any) -> tuple | None:
    h = img._handle
    if not h.alive:
        return None
    # The descriptor by id: the remembered entry holds the object, so the id stays its.
    return (IMAGE, h.device, h.raw(), id(img._vdesc), img._origin)


def _usm_key(arr: Any) -> tuple:
    # What CuPy's __cuda_array_interface__ is made of, read without building it.
    return (DEVICE, arr.data.ptr, arr.shape, arr.strides, arr.dtype, arr.device.id)


def _host_key(arr: numpy.ndarray) -> tuple | None:
    flags = arr.flags
    if not flags.c_contiguous:
        return None
    return (HOST, arr.ctypes.data, arr.nbytes, flags.writeable)


def _fast_key(src: Any, dst: Any) -> tuple | None:
    keyers = _KEYERS or _init_keyers()
    ks = keyers.get(type(src))
    kd = keyers.get(type(dst))
    if ks is None or kd is None:
        return None
    s = ks(src)
    if s is None:
        return None
    d = kd(dst)
    if d is None:
        return None
    return (s, d)


def _init_keyers() -> dict[type, Any]:
    from imagearray._image_array import ImageArray

    keyers: dict[type, Any] = {ImageArray: _image_key, numpy.ndarray: _host_key}
    try:
        import cupy

        keyers[cupy.ndarray] = _usm_key
    except Exception:  # no usable CuPy: its arrays take the full path (which reports it)
        pass
    _KEYERS.update(keyers)
    return _KEYERS
