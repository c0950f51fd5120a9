"""The spec's ``image_descriptor::verify()`` rules, as :meth:`ImageDescriptor.verify`
applies them (plain Python, no CUDA): each broken rule's message quotes the value and
what is allowed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from imagearray._enums import ImageType

if TYPE_CHECKING:
    from imagearray._descriptor import ImageDescriptor

__all__ = ["CUBE_FACES", "find_problem", "size_text"]

#: A cubemap has this many faces (layers).
CUBE_FACES = 6


def find_problem(desc: ImageDescriptor) -> str | None:
    """The first broken rule of ``desc``, as a message; None if it is valid."""
    if desc.width < 1:
        return f"width must be >= 1, got width={desc.width}"
    if desc.height == 0 and desc.depth != 0:
        return (
            f"depth={desc.depth} with height=0: a 3D image needs height >= 1 "
            "(1D: height=depth=0, 2D: depth=0)"
        )
    if desc.num_levels < 1:
        return f"num_levels must be >= 1, got num_levels={desc.num_levels}"
    if desc.array_size < 1:
        return f"array_size must be >= 1, got array_size={desc.array_size}"
    if desc.num_channels == 3:
        return (
            f"channel_order={desc.channel_order} has 3 channels: CUDA arrays cannot "
            "hold 3-channel texels; use ChannelOrder.RGBA (or RGBX) with 4 channels"
        )

    kind = desc.type
    if kind.is_mipmapped:
        if desc.num_levels < 2:
            return f"{kind} needs num_levels > 1, got num_levels={desc.num_levels}"
        if desc.num_levels > desc.max_levels:
            return (
                f"num_levels={desc.num_levels} exceeds the full mip chain of "
                f"{desc.max_levels} levels for extent {size_text(desc)}; allowed: 2 to "
                f"{desc.max_levels}"
            )
    elif desc.num_levels != 1:
        hint = {
            ImageType.STANDARD: "MIPMAP",
            ImageType.ARRAY: "MIPMAP_ARRAY",
            ImageType.CUBEMAP: "MIPMAP_CUBEMAP",
        }.get(kind)
        use = f"; use ImageType.{hint} for more levels" if hint else ""
        return f"{kind} needs num_levels == 1, got num_levels={desc.num_levels}{use}"

    if kind in (ImageType.STANDARD, ImageType.MIPMAP):
        if desc.array_size != 1:
            hint = "ARRAY" if kind is ImageType.STANDARD else "MIPMAP_ARRAY"
            return (
                f"{kind} needs array_size == 1, got array_size={desc.array_size}; "
                f"use ImageType.{hint} for layers"
            )
    elif kind in (ImageType.ARRAY, ImageType.MIPMAP_ARRAY):
        if desc.array_size < 2:
            return f"{kind} needs array_size > 1, got array_size={desc.array_size}"
        if desc.dimensions == 3:
            return (
                f"{kind} must be 1D or 2D (CUDA layered arrays have no 3D), got depth={desc.depth}"
            )
    else:  # the cubemap types
        if desc.depth != 0 or desc.height != desc.width:
            return (
                f"{kind} needs square 2D faces (width == height, depth == 0), got "
                f"width={desc.width}, height={desc.height}, depth={desc.depth}"
            )
        if kind is not ImageType.CUBEMAP_ARRAY and desc.array_size != CUBE_FACES:
            return (
                f"{kind} needs array_size == 6 (one layer per face), got "
                f"array_size={desc.array_size}; use ImageType.CUBEMAP_ARRAY for "
                "several cubemaps"
            )
    return None


def size_text(desc: ImageDescriptor) -> str:
    """Used extents in texture order, e.g. ``"64x32"``."""
    dims = [desc.width]
    if desc.height or desc.depth:
        dims.append(desc.height)
    if desc.depth:
        dims.append(desc.depth)
    return "x".join(map(str, dims))
