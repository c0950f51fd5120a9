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


def find_problem(self: ImageDescriptor) -> str | None:
    """The first broken rule of descriptor ``self``, as a message; None if it is valid."""
    if self.width < 1:
        return f"width must be >= 1, got width={self.width}"
    if self.height == 0 and self.depth != 0:
        return (
            f"depth={self.depth} with height=0: a 3D image needs height >= 1 "
            "(1D: height=depth=0, 2D: depth=0)"
        )
    if self.num_levels < 1:
        return f"num_levels must be >= 1, got num_levels={self.num_levels}"
    if self.array_size < 1:
        return f"array_size must be >= 1, got array_size={self.array_size}"
    if self.num_channels == 3:
        return (
            f"channel_order={self.channel_order} has 3 channels: CUDA arrays cannot "
            "hold 3-channel texels; use ChannelOrder.RGBA (or RGBX) with 4 channels"
        )

    kind = self.type
    if kind.is_mipmapped:
        if self.num_levels < 2:
            return f"{kind} needs num_levels > 1, got num_levels={self.num_levels}"
        if self.num_levels > self.max_levels:
            return (
                f"num_levels={self.num_levels} exceeds the full mip chain of "
                f"{self.max_levels} levels for extent {size_text(self)}; allowed: 2 to "
                f"{self.max_levels}"
            )
    elif self.num_levels != 1:
        hint = {
            ImageType.STANDARD: "MIPMAP",
            ImageType.ARRAY: "MIPMAP_ARRAY",
            ImageType.CUBEMAP: "MIPMAP_CUBEMAP",
        }.get(kind)
        use = f"; use ImageType.{hint} for more levels" if hint else ""
        return f"{kind} needs num_levels == 1, got num_levels={self.num_levels}{use}"

    if kind in (ImageType.STANDARD, ImageType.MIPMAP):
        if self.array_size != 1:
            hint = "ARRAY" if kind is ImageType.STANDARD else "MIPMAP_ARRAY"
            return (
                f"{kind} needs array_size == 1, got array_size={self.array_size}; "
                f"use ImageType.{hint} for layers"
            )
    elif kind in (ImageType.ARRAY, ImageType.MIPMAP_ARRAY):
        if self.array_size < 2:
            return f"{kind} needs array_size > 1, got array_size={self.array_size}"
        if self.dimensions == 3:
            return (
                f"{kind} must be 1D or 2D (CUDA layered arrays have no 3D), got depth={self.depth}"
            )
    else:  # the cubemap types
        if self.depth != 0 or self.height != self.width:
            return (
                f"{kind} needs square 2D faces (width == height, depth == 0), got "
                f"width={self.width}, height={self.height}, depth={self.depth}"
            )
        if kind is not ImageType.CUBEMAP_ARRAY and self.array_size != CUBE_FACES:
            return (
                f"{kind} needs array_size == 6 (one layer per face), got "
                f"array_size={self.array_size}; use ImageType.CUBEMAP_ARRAY for "
                "several cubemaps"
            )
    return None


def size_text(self: ImageDescriptor) -> str:
    """Used extents in texture order, e.g. ``"64x32"``."""
    dims = [self.width]
    if self.height or self.depth:
        dims.append(self.height)
    if self.depth:
        dims.append(self.depth)
    return "x".join(map(str, dims))
