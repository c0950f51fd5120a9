"""``ImageArray`` and the functions that make one (the user level)."""

from imagearray.array.factories import asimage, empty, zeros
from imagearray.array.image_array import ImageArray

__all__ = ["ImageArray", "asimage", "empty", "zeros"]
