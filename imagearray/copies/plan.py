"""Copy planning (plain Python, no CUDA): the two endpoints of a copy, the spec's ten
copy-failure scenarios (:func:`plan_copy`) and the plan the Cython executor runs.

Offsets and extents are in **texture order and texels**: ``(x, y, z)`` where x is
the width; for layered and cubemap images z is the layer (face) index. Each failure
raises :class:`CopyError` naming the scenario (1-10) and the offending numbers; a
refused copy writes nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy

from imagearray import _copy as _cy  # the Cython executor: its endpoint codes
from imagearray._descriptor import ImageDescriptor
from imagearray._errors import CopyError, ImageArrayTypeError
from imagearray.memory import image_box

__all__ = ["DEVICE", "HOST", "IMAGE", "CopyPlan", "Endpoint", "plan_copy", "plan_region"]

HOST, DEVICE, IMAGE = "host", "device", "image"
#: Pitches, offsets and extents go to size_t fields of CUDA_MEMCPY3D: refuse what no
#: allocation can have (a 1D copy never reads the pitch, so no bound check catches it).
_SIZE_LIMIT = 2**63
#: The endpoint kinds as the Cython executor numbers them (its module exports the codes).
KIND_CODE = {HOST: _cy.HOST, DEVICE: _cy.DEVICE, IMAGE: _cy.ARRAY}


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
        return (KIND_CODE[ep.kind], int(ep.address), pitch, rows, o[0] * texel, o[1], o[2])

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


def plan_region(
    handle: Any,
    desc: ImageDescriptor,
    origin: tuple[int, int, int],
    lo: tuple[int, int, int],
    ext: tuple[int, int, int],
    buf_kind: str,
    buf_address: int,
    buf_device: int | None,
    to_image: bool,
) -> CopyPlan:
    """The plan of a copy between the box ``lo``..``lo + ext`` (x, y, z) of an image
    view (``handle``, its descriptor ``desc`` and ``origin`` in the allocation) and a
    tightly packed host or device buffer holding exactly that box. The caller made
    the box from the view's own shape (``ImageArray`` indexing): nothing here can
    fail, so :func:`plan_copy`'s checks are not run again."""
    t = desc.texel_size
    img = (
        KIND_CODE[IMAGE],
        handle.raw(),
        0,
        0,
        (lo[0] + origin[0]) * t,
        lo[1] + origin[1],
        lo[2] + origin[2],
    )
    other = (KIND_CODE[buf_kind], int(buf_address), ext[0] * t, ext[1], 0, 0, 0)
    dev = handle.device
    return CopyPlan(
        src=other if to_image else img,
        dst=img if to_image else other,
        extent=(ext[0] * t, ext[1], ext[2]),
        src_device=buf_device if to_image else dev,
        dst_device=dev if to_image else buf_device,
    )
