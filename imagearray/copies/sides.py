"""Each side of a copy (plain Python, no CUDA): the argument triples, the descriptor
each side is read with, and the box of memory that descriptor or the memory's own
shape gives.

The spec gives each side of a sub-region copy its own descriptor (SrcImgDesc,
DestImgDesc, DeviceImgDesc); a simple copy has one for all. Which one a side takes
is decided here (:func:`side_descs`); :mod:`imagearray.copies.plan` checks the copy
against them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy

from imagearray._descriptor import ImageDescriptor
from imagearray._errors import CopyError, ImageArrayTypeError
from imagearray.copies.model import HOST, IMAGE, SIZE_LIMIT, Endpoint
from imagearray.memory import image_box, infer_usm_desc

__all__ = [
    "GIVEN",
    "OTHER",
    "OWN",
    "SHAPE",
    "box_in",
    "check_desc",
    "extent_arg",
    "fmt",
    "pitch_arg",
    "shape_box",
    "side_descs",
    "triple",
    "used_axes",
]

#: How a side got its descriptor: passed for it; the memory's own (an image's
#: allocation, or what a NumPy / CuPy array's shape says between two linear
#: memories); read from a CuPy array's shape in the image's dimensions (the
#: descriptor is the image's, the box the array's); or the other side's.
GIVEN, OWN, SHAPE, OTHER = "given", "own", "shape", "other"


def fmt(t: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(v) for v in t) + ")"


def triple(name: str, value: Any, fill: int, minimum: int) -> tuple[int, int, int]:
    """``value`` (an int or 1 to 3 ints, x first) as (x, y, z) Python ints."""
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
        if v >= SIZE_LIMIT:
            raise CopyError(f"{name} components must be < 2**63, not {tuple(value)}")
        out.append(int(v))
    return tuple(out + [fill] * (3 - len(out)))  # type: ignore[return-value]


def extent_arg(name: str, value: Any, used: tuple[bool, bool, bool]) -> tuple[int, int, int]:
    """An extent (x, y, z) in texels. 0 is how the spec writes a dimension the image
    does not have (``range<3>{w, 0, 0}``, ``get_image_range``): it counts as 1 there.
    Along a dimension the image has, 0 would be an empty copy, which is refused."""
    box = triple(name, value, 1, 0)
    out = []
    for axis, v, u in zip("xyz", box, used, strict=True):
        if v == 0 and u:
            has = ", ".join(a for a, b in zip("xyz", used, strict=True) if b)
            raise CopyError(
                f"{name} {fmt(box)} is 0 along {axis}: components must be >= 1 along the "
                f"dimensions the image has ({has}); 0 stands only for a dimension it does "
                "not have"
            )
        out.append(v or 1)
    return (out[0], out[1], out[2])


def used_axes(desc: ImageDescriptor) -> tuple[bool, bool, bool]:
    """Which of x, y, z a copy of ``desc`` addresses: z is the depth of a 3D image or
    the layer (face) index of layered and cubemap images."""
    layered = desc.type.is_layered or desc.type.is_cubemap
    return (True, desc.dimensions >= 2, desc.dimensions == 3 or layered)


def check_desc(name: str, desc: Any) -> ImageDescriptor:
    if not isinstance(desc, ImageDescriptor):
        raise ImageArrayTypeError(f"{name} must be an ImageDescriptor, not {type(desc).__name__}")
    desc.verify()
    if desc.type.is_mipmapped:
        raise CopyError(
            f"{desc} describes a whole mipmap: copy one level at a time, with "
            "get_mip_level_mem_handle(level) and desc.mip_level_desc(level)",
            scenario=2,
        )
    return desc


def pitch_arg(value: Any) -> int | None:
    """``device_row_pitch`` as a Python int (NumPy integer arithmetic would wrap)."""
    if value is None:
        return None
    if (
        isinstance(value, (bool, numpy.bool_))
        or not isinstance(value, (int, numpy.integer))
        or not 0 <= value < SIZE_LIMIT
    ):
        # size_t fields of CUDA_MEMCPY3D: refuse what no allocation can have (a 1D
        # copy never reads the pitch, so no bound check would catch it).
        raise CopyError(f"device_row_pitch must be an int >= 0 and < 2**63, not {value!r}")
    return int(value)


def _host_desc(ep: Endpoint) -> ImageDescriptor | None:
    """What a host NumPy array's shape and dtype describe (as for a CuPy array)."""
    arr = ep.owner
    if not isinstance(arr, numpy.ndarray):
        return None
    return infer_usm_desc(arr.shape, arr.dtype)


def _packed(ep: Endpoint) -> bool:
    """Whether a device array's rows follow one another without padding."""
    return not ep.pitch or ep.pitch == math.prod(ep.shape_bytes[1:])


def _outer_axes(desc: ImageDescriptor) -> int:
    """How many leading axes of an array hold rows and slices of ``desc``'s image."""
    layered = desc.type.is_layered or desc.type.is_cubemap
    return desc.dimensions - 1 + layered


def side_descs(
    src: Endpoint,
    dst: Endpoint,
    desc: ImageDescriptor | None,
    src_desc: ImageDescriptor | None,
    dst_desc: ImageDescriptor | None,
    per_side: bool,
) -> dict[str, tuple[ImageDescriptor, str]]:
    """role -> (descriptor, how) of each side that has one: image and device memory,
    and host memory when both sides are host.

    A simple copy (no offsets or extents: the spec's overloads with one descriptor)
    has one descriptor for all of them: ``desc``, else the first image's or device
    array's. A sub-region copy gives each side its own, as the spec's SrcImgDesc /
    DestImgDesc / DeviceImgDesc: ``src_desc`` / ``dst_desc``; else ``desc`` (the
    image's where there is an image, else the USM memory's); else the memory's own:
    an image's allocation, a CuPy array's shape read in the image's dimensions
    (SHAPE: leading axes are slices and rows, the rest one row of bytes), between
    two linear memories what the array's shape says; else the other side's."""
    eps = {"src": src, "dst": dst}
    host_host = src.kind == HOST and dst.kind == HOST
    roles = [r for r, ep in eps.items() if ep.kind != HOST or host_host]
    out: dict[str, tuple[ImageDescriptor, str]] = {}
    if not per_side:
        one = desc
        if one is None:
            for r in roles:
                if eps[r].kind == IMAGE or eps[r].desc is not None:
                    one = eps[r].desc
                    break
        if one is not None:
            for r in roles:
                out[r] = (one, OWN if eps[r].desc is one else GIVEN)
        return out
    image = next((ep.desc for ep in (src, dst) if ep.kind == IMAGE), None)
    if image is not None and desc is not None and src_desc is None and dst_desc is None:
        image = desc
    for r in roles:
        ep = eps[r]
        given = src_desc if r == "src" else dst_desc
        if given is not None:
            out[r] = (given, GIVEN)
        elif desc is not None and (ep.kind == IMAGE or image is None):
            out[r] = (desc, GIVEN)
        elif ep.kind == IMAGE:
            out[r] = (ep.desc, OWN)
        elif image is not None:
            outer = _outer_axes(image)
            # The pitch of an array of 3+ axes is that of its first axis: rows only
            # when it holds rows (slices of rows would need two pitches).
            if len(ep.shape_bytes) > outer and (outer < 2 or _packed(ep)):
                out[r] = (image, SHAPE)
        else:
            own = _host_desc(ep) if ep.kind == HOST else ep.desc
            if own is not None:
                out[r] = (own, OWN)
    for r in roles:
        if r not in out:
            other = "dst" if r == "src" else "src"
            if other in out:
                out[r] = (out[other][0], OTHER)
    return out


def box_in(desc: ImageDescriptor, how: str, texel: int, role: str) -> tuple[int, int, int]:
    """The memory box of ``desc`` in texels of ``texel`` bytes. A memory's own
    descriptor (a CuPy array of uint8 rows next to another one of RGBA8 texels) is
    read as rows of bytes; a descriptor passed for it must have the copy's texel size."""
    box = image_box(desc)
    if desc.texel_size == texel:
        return box
    row = box[0] * desc.texel_size
    if how == OWN and row % texel == 0:
        return (row // texel, box[1], box[2])
    raise CopyError(
        f"the {role} memory is described as {desc} ({desc.texel_size} B texels, rows of "
        f"{row} B), the copy moves {texel} B texels: copies move texels of one format "
        f"(pass {role}_desc= to describe the {role} memory in them)",
        scenario=2,
    )


def shape_box(
    ep: Endpoint, image: ImageDescriptor, texel: int, role: str
) -> tuple[tuple[int, int, int], int]:
    """(box in texels, rows per slice) of a CuPy array read in the dimensions of the
    ``image`` it is copied with: its leading axes are the image's slices (depth, or
    layers) and rows, as in ``image.host_shape``; what follows is one row, read as
    bytes in texels of ``texel`` bytes (uint8 rows of an RGBA8 image: 4 to a texel).
    A 1D layered image's layers are slices of one row each."""
    shape = ep.shape_bytes
    outer = _outer_axes(image)
    if outer == 0 and not _packed(ep):
        shape = shape[1:]  # a pitched 2D array next to a 1D image: its first row
    row = math.prod(shape[outer:])
    if row % texel:
        raise CopyError(
            f"rows of the {role} device array are {row} B, not a whole number of the "
            f"copy's {texel} B texels (its shape read as {fmt(shape[:outer])} rows and "
            f"slices of {image}); pass {role}_desc= to describe it",
            scenario=2,
        )
    lead = shape[:outer]
    w = row // texel
    if outer == 0:
        return (w, 1, 1), 1
    if outer == 1:
        if image.dimensions == 1:  # 1D layered: (x, 1, layer)
            return (w, 1, lead[0]), 1
        return (w, lead[0], 1), lead[0]
    return (w, lead[1], lead[0]), lead[1]
