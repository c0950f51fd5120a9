"""NumPy emulation of CUDA's texture unit, the reference GPU results are checked against.

Written from the CUDA C++ Programming Guide, appendix "Texture Fetching" (nearest-point
sampling, linear filtering with 9-bit fixed-point weights) and its description of the
addressing modes (clamp, border, wrap, mirror) and of the read modes (normalized
integer channels read as float). Where the guide is silent this package says what it
assumes; the GPU tests are the judge of those assumptions.

Conventions
-----------
- ``data`` is the image as a NumPy array in C order: 1D ``(width[, C])``, 2D
  ``(height, width[, C])``, 3D ``(depth, height, width[, C])``; ``dims`` (1, 2 or 3)
  says how many leading axes are spatial, so a trailing channel axis is never
  ambiguous. A texel has 1 to 4 channels.
- Coordinates and indices are in texture order: the last axis of ``coords`` /
  ``indices`` is ``(x[, y[, z]])`` with x along the width, as CUDA's ``tex2D(x, y)``.
- Coordinates are cast to float32 first, as the hardware takes them. The linear
  filter's arithmetic is the texture unit's own, measured where the guide is silent
  (on the H100 and H200, ``tools/probes/sampling_diag.py``): integer corner weights
  (:func:`sampling._corner_weights`), 16-bit or block-floating-point sums per texel
  format (:func:`texels._filter_input`), mirrored repeat filtered in the unmirrored
  tile. It matched every raw sample measured (tens of thousands per format, 1D to 3D).

Gather: :func:`gather` returns one component of the 2x2 footprint a bilinear fetch
would blend (``tex2Dgather``), unfiltered, in CUDA's order (:data:`GATHER_ORDER`).

Beyond one image: :func:`sample_layered` (layered textures, filtered within a layer
only), :func:`sample_cubemap` with :func:`cubemap_face` (the guide's cubemap face
table, disjointed filtering), :func:`sample_mipmap` with :func:`lod_from_gradients`
(level clamped to the sampler's ``min/max_mipmap_level_clamp``, one level or two
blended per ``mipmap_filtering``) and :func:`box_pyramid` / :func:`box_weights`, an
exact box-filtered mip chain to sample. All of them call
:func:`sampling._sample_level`, which samples one level (of one layer) as
:func:`sample` does.

Modules
-------
One module per section of the spec, in this order; a module imports only modules
before it (none imports this package's ``__init__``):

1. :mod:`.texels`: channel types, :func:`read_texels`, the linear filter's input and
   sums per texel format, the shape and coordinate checks.
2. :mod:`.sampling`: addressing, weights, :func:`sample`, :func:`filter_tolerance`,
   :func:`fetch`.
3. :mod:`.gathers`: :data:`GATHER_ORDER`, :func:`gather`.
4. :mod:`.layers`: :func:`sample_layered`.
5. :mod:`.cubemaps`: :data:`CUBEMAP_FACES`, :func:`cubemap_face`,
   :func:`sample_cubemap`.
6. :mod:`.mipmaps`: :func:`sample_mipmap`, :func:`lod_from_gradients`.
7. :mod:`.pyramids`: :func:`box_weights`, :func:`box_pyramid`.
"""

from imagearray.testing.reference.cubemaps import CUBEMAP_FACES, cubemap_face, sample_cubemap
from imagearray.testing.reference.gathers import GATHER_ORDER, gather
from imagearray.testing.reference.layers import sample_layered
from imagearray.testing.reference.mipmaps import lod_from_gradients, sample_mipmap
from imagearray.testing.reference.pyramids import box_pyramid, box_weights
from imagearray.testing.reference.sampling import fetch, filter_tolerance, sample
from imagearray.testing.reference.texels import read_texels

__all__ = [
    "CUBEMAP_FACES",
    "GATHER_ORDER",
    "box_pyramid",
    "box_weights",
    "cubemap_face",
    "fetch",
    "filter_tolerance",
    "gather",
    "lod_from_gradients",
    "read_texels",
    "sample",
    "sample_cubemap",
    "sample_layered",
    "sample_mipmap",
]
