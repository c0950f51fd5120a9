"""Texture-sampled drop-ins for ``cupyx.scipy.ndimage`` interpolation
(``map_coordinates``, ``affine_transform``, ``zoom``, ``shift``, ``rotate``) and the
warps cupyx lacks (``warp_perspective``, ``remap``), batched, every mode, hardware or
exact precision. Built on ``imagearray.sampling``'s textures; see
:mod:`imagearray.ndimage.interpolation` for what is shared by all of them.
scikit-image's ``resize`` (antialiased by a Gaussian or through the mip chain) and
its pyramids are in
:mod:`imagearray.ndimage.resizing` and :mod:`imagearray.ndimage.pyramids`."""

from imagearray._errors import FallbackWarning
from imagearray.ndimage._textures import free_scratch
from imagearray.ndimage.interpolation import (
    affine_transform,
    map_coordinates,
    rotate,
    shift,
    zoom,
)
from imagearray.ndimage.pyramids import (
    pyramid_expand,
    pyramid_gaussian,
    pyramid_laplacian,
    pyramid_reduce,
)
from imagearray.ndimage.resizing import resize
from imagearray.ndimage.warps import remap, warp_perspective

__all__ = [
    "FallbackWarning",
    "affine_transform",
    "free_scratch",
    "map_coordinates",
    "pyramid_expand",
    "pyramid_gaussian",
    "pyramid_laplacian",
    "pyramid_reduce",
    "remap",
    "resize",
    "rotate",
    "shift",
    "warp_perspective",
    "zoom",
]
