"""``ImageArray`` and the functions that make one (the user level)."""

from imagearray.array.factories import (
    asimage,
    empty,
    empty_like,
    full,
    full_like,
    ones,
    ones_like,
    zeros,
    zeros_like,
)
from imagearray.array.image_array import ImageArray

__all__ = [
    "ImageArray",
    "asimage",
    "empty",
    "empty_like",
    "full",
    "full_like",
    "ones",
    "ones_like",
    "zeros",
    "zeros_like",
]
