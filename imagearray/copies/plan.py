"""Copy planning (plain Python, no CUDA): the two endpoints of a copy, the spec's ten
copy-failure scenarios (:func:`plan_copy`) and the plan the Cython executor runs.

Offsets and extents are in **texture order and texels**: ``(x, y, z)`` where x is
the width; for layered and cubemap images z is the layer (face) index. Each failure
raises :class:`CopyError` naming the scenario (1-10) and the offending numbers; a
refused copy writes nothing.
"""

from __future__ import annotations

from typing import Any

from imagearray._descriptor import ImageDescriptor
from imagearray._errors import CopyError
from imagearray.copies.model import DEVICE, HOST, IMAGE, KIND_CODE, CopyPlan, Endpoint
from imagearray.copies.sides import (
    SHAPE,
    box_in,
    check_desc,
    extent_arg,
    fmt,
    pitch_arg,
    shape_box,
    side_descs,
    triple,
    used_axes,
)
from imagearray.memory import image_box

__all__ = [
    "DEVICE",
    "HOST",
    "IMAGE",
    "KIND_CODE",
    "CopyPlan",
    "Endpoint",
    "plan_copy",
    "plan_region",
]


def _box_bytes(box: tuple[int, int, int], texel: int) -> int:
    return box[0] * box[1] * box[2] * texel


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
    src_desc: ImageDescriptor | None = None,
    dst_desc: ImageDescriptor | None = None,
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
    host_host = src.kind == HOST and dst.kind == HOST
    per_side = src_desc is not None or dst_desc is not None
    whole = (
        desc is None
        and device_row_pitch is None
        and not subregion
        and not per_side
        and not host_host
    )
    # A whole copy's plan depends only on the endpoints' values and descriptors:
    # repeated copies between the same memories reuse it (planning costs tens of
    # microseconds, a device-to-image copy of a large image a few hundred).
    key = (_ep_key(src), _ep_key(dst), queue_device, pitch_align) if whole else None
    if key is not None:
        hit = _PLANS.get(key)
        if hit is not None and hit[0] is src.desc and hit[1] is dst.desc:
            return hit[2]
    if not dst.writable:
        raise CopyError("the destination is read-only")
    s_off = triple("src_offset", 0 if src_offset is None else src_offset, 0, 0)
    d_off = triple("dst_offset", 0 if dst_offset is None else dst_offset, 0, 0)
    for name, value in (("extent", extent), ("src_extent", src_extent), ("dst_extent", dst_extent)):
        if value is not None:
            triple(name, value, 1, 0)  # malformed values first, zeros once the image is known
    if host_extent is not None:
        triple("host_extent", host_extent, 1, 0)
        if host_host:
            raise CopyError(
                "host_extent= is the host box of a copy between host and device memory; "
                "between two host memories give src_extent= and dst_extent="
            )
    given_pitch = pitch_arg(device_row_pitch)
    for name, d in (("desc", desc), ("src_desc", src_desc), ("dst_desc", dst_desc)):
        if d is not None:
            check_desc(name, d)

    descs = side_descs(src, dst, desc, src_desc, dst_desc, subregion or per_side or host_host)
    if not descs:
        what = "host" if host_host else "device"
        raise CopyError(f"desc= is required: the {what} memory does not say what image it holds")
    for d, _how in descs.values():
        check_desc("desc", d)
    if host_host and not subregion and src.nbytes != dst.nbytes:
        raise CopyError(
            f"the source host memory holds {src.nbytes} B, the destination {dst.nbytes} B; "
            "capacities must be equal (or give extent=)",
            scenario=2,
        )
    # The copy moves texels of the image's format (of the source where both sides or
    # neither are images); its default extent is that memory's whole box.
    main_role = next(
        (r for r in ("src", "dst") if r in descs and (src if r == "src" else dst).kind == IMAGE),
        "src" if "src" in descs else "dst",
    )
    main = descs[main_role][0]
    texel = main.texel_size
    used = tuple(all(used_axes(d)[i] for d, _ in descs.values()) for i in range(3))

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
    rows: dict[str, int] = {}
    for role, ep in (("src", src), ("dst", dst)):
        if ep.kind == IMAGE:
            d, how = descs[role]
            if d is not ep.desc and (
                not _same_image(ep.desc, d) or (not subregion and ep.desc.type != d.type)
            ):
                raise CopyError(
                    f"the {role} image was allocated as {ep.desc}, the copy describes it as {d}",
                    scenario=2,
                )
            if (ep.desc.texel_size, ep.desc.num_channels) != (texel, main.num_channels):
                raise CopyError(
                    f"the {role} image holds {ep.desc.num_channels} channel(s) of "
                    f"{ep.desc.texel_size} B texels, the source {main.num_channels} of "
                    f"{texel} B: image-to-image copies move texels of one format",
                    scenario=2,
                )
            boxes[role] = image_box(ep.desc)
        elif ep.kind == DEVICE:
            d, how = descs[role]
            if how == SHAPE:
                box, height = shape_box(ep, d, texel, role)
            else:
                box = box_in(d, how, texel, role)
                height = box[1]
            row = box[0] * texel
            if d.dimensions == 1 and d.num_layers == 1:
                pitch = row  # spec: 1D images need no pitch; it is ignored for them
            elif given_pitch is not None:
                pitch = given_pitch
            else:
                pitch = ep.pitch or row
            if box[1] > 1 and pitch % pitch_align:
                raise CopyError(
                    f"device row pitch {pitch} B is not a multiple of the device's "
                    f"image_row_pitch_align {pitch_align} B",
                    scenario=9,
                )
            if pitch < row:
                raise CopyError(
                    f"device row pitch {pitch} B is smaller than a row of the image: "
                    f"{box[0]} texels x {texel} B = {row} B",
                    scenario=10,
                )
            # 3D / layered data in linear memory: slices of `height` rows, one after another.
            need = pitch * ((box[2] - 1) * height + box[1] - 1) + row
            if need > ep.nbytes:
                raise CopyError(
                    f"{d} with row pitch {pitch} B needs {need} B, the {role} device "
                    f"memory holds {ep.nbytes} B",
                    scenario=2,
                )
            boxes[role], pitches[role], rows[role] = box, pitch, height

    # Host memory: its box is given by host_extent / src_extent / dst_extent, or the
    # descriptor; it is tightly packed (spec). Capacities are checked against the host
    # allocation. Between two host memories each side is read as the USM overload
    # reads linear memory: its own box, and device_row_pitch if given.
    ext_given = None if extent is None else extent_arg("extent", extent, used)
    for role, ep, own_extent, own_name, own_scn in (
        ("src", src, src_extent, "src_extent", 5),
        ("dst", dst, dst_extent, "dst_extent", 6),
    ):
        if ep.kind != HOST:
            continue
        if host_extent is not None:
            box, name, scn = extent_arg("host_extent", host_extent, used), "host_extent", 4
        elif own_extent is not None:
            box, name, scn = extent_arg(own_name, own_extent, used), own_name, own_scn
        elif host_host:
            box, name, scn = box_in(*descs[role], texel, role), "the descriptor", 2
        elif ext_given is not None:
            box, name, scn = ext_given, "extent", 3
        else:
            other = "dst" if role == "src" else "src"
            box, name, scn = boxes[other], "the descriptor", 2
        row = box[0] * texel
        pitch = row
        if host_host and given_pitch is not None and box[1] * box[2] > 1:
            pitch = given_pitch
            if pitch < row:
                raise CopyError(
                    f"device_row_pitch {pitch} B is smaller than a row of the {role} host "
                    f"memory: {box[0]} texels x {texel} B = {row} B",
                    scenario=10,
                )
        need = pitch * (box[1] * box[2] - 1) + row
        if not subregion and pitch == row and need != ep.nbytes:
            raise CopyError(
                f"{main} holds {_box_bytes(image_box(main), texel)} B, the {role} host "
                f"memory {ep.nbytes} B; capacities must be equal",
                scenario=2,
            )
        if need > ep.nbytes:
            raise CopyError(
                f"{name} {fmt(box)} x {texel} B = {need} B with rows {pitch} B apart, the "
                f"{role} host memory holds {ep.nbytes} B",
                scenario=scn,
            )
        boxes[role], pitches[role], rows[role] = box, pitch, box[1]

    # src_extent / dst_extent of device-side memory must not exceed the allocation.
    for role, given, name, scn in (
        ("src", src_extent, "src_extent", 5),
        ("dst", dst_extent, "dst_extent", 6),
    ):
        ep = src if role == "src" else dst
        if given is not None and ep.kind != HOST:
            claimed = extent_arg(name, given, used)
            if any(c > b for c, b in zip(claimed, boxes[role])):
                raise CopyError(
                    f"{name} {fmt(claimed)} is larger than the {role} {ep.kind} memory "
                    f"{fmt(boxes[role])}",
                    scenario=scn,
                )
            boxes[role] = claimed

    if ext_given is not None:
        ext = ext_given
    elif host_extent is not None or (src.kind == HOST and src_extent is not None):
        ext = boxes["src" if src.kind == HOST else "dst"]
    elif dst.kind == HOST and dst_extent is not None:
        ext = boxes["dst"]
    else:
        ext = box_in(main, descs[main_role][1], texel, main_role)
    for role in ("src", "dst"):
        if any(e > b for e, b in zip(ext, boxes[role])):
            raise CopyError(
                f"copy extent {fmt(ext)} is larger than the {role} memory {fmt(boxes[role])}",
                scenario=3,
            )
    for role, off, scn in (("src", s_off, 7), ("dst", d_off, 8)):
        end = tuple(o + e for o, e in zip(off, ext))
        if any(x > b for x, b in zip(end, boxes[role])):
            raise CopyError(
                f"{role}_offset {fmt(off)} + extent {fmt(ext)} = {fmt(end)} is outside the "
                f"{role} memory {fmt(boxes[role])}",
                scenario=scn,
            )

    def side(ep: Endpoint, role: str, off: tuple[int, int, int]):
        o = tuple(a + b for a, b in zip(off, ep.origin))
        if ep.kind == IMAGE:
            pitch, height = 0, 0
        else:
            # src_extent / dst_extent of device memory only bound the copy: its
            # slices still hold the rows its own box has.
            pitch, height = pitches[role], rows[role]
        return (KIND_CODE[ep.kind], int(ep.address), pitch, height, o[0] * texel, o[1], o[2])

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
