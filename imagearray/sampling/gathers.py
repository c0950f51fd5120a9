"""Texture gather: ``gather`` of an image view (``tex2Dgather``), one component of the
2x2 footprint a bilinear fetch would blend at each point, in CUDA's order.

A function of an :class:`~imagearray.memory.ImageView` (``ImageArray`` binds it as its
method). Coordinates are texture order (x, y) on the last axis. Every argument is
checked before a texture is made or a kernel launched: CUDA's result for an image
that cannot be gathered is undefined, not an error.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

import numpy

from imagearray._device import Scope
from imagearray._enums import ImageType
from imagearray._errors import ImageArrayTypeError, ImageArrayValueError
from imagearray._sampler import FilteringMode, Sampler
from imagearray.memory import ImageView, is_gatherable
from imagearray.sampling import kernels as k
from imagearray.sampling.cache import texture

if TYPE_CHECKING:
    import cupy

__all__ = ["gather"]

#: gather()'s sampler when none is given: what a bilinear fetch of sample()'s default
#: sampler addresses (clamp-to-edge, texel coordinates), without filtering.
GATHER_SAMPLER = Sampler("clamp_to_edge", "unnormalized", "nearest")

_HOW = (
    "make the image for gather: ia.asimage(data, gather=True) or ia.empty(shape, dtype, "
    "gather=True), or a gatherable copy of this one with ia.asimage(img, gather=True)"
)
_COMPONENTS = ("x/r", "y/g", "z/b", "w/a")


def _check_gatherable(view: ImageView) -> None:
    """Raise, saying why and what to do, unless CUDA can gather from ``view``."""
    desc = view.descriptor
    if desc.type is not ImageType.STANDARD or view._vdesc.dimensions != 2:
        what = f"{desc.dimensions}D image of type {desc.type.value!r}"
        if desc.type is not ImageType.STANDARD and view._vdesc.dimensions == 2:
            what += " (or a layer, face or level of one)"
        raise ImageArrayValueError(
            f"gather() reads 2D standard images only (CUDA's tex2Dgather), not a {what}: "
            "copy the 2D data into its own image, e.g. ia.asimage(img.layer(i).to_cupy(), "
            "gather=True)"
        )
    if view._is_region:
        raise ImageArrayValueError(
            "img[...] with slices is a region, for reads and writes: gather() reads whole "
            "images; gather the image at the region's coordinates"
        )
    if view._linear:
        raise ImageArrayValueError(
            "this image is linear (pitched) memory, which CUDA cannot gather from (only "
            f"CUDA arrays made with the gather flag): {_HOW}"
        )
    if not is_gatherable(view._handle):
        raise ImageArrayValueError(
            "this image's CUDA array was allocated without the gather flag "
            f"(cudaArrayTextureGather), which tex2Dgather needs: {_HOW}"
        )


def _check_component(component: Any, channels: int) -> int:
    if isinstance(component, (bool, numpy.bool_)) or not isinstance(
        component, (int, numpy.integer)
    ):
        raise ImageArrayTypeError(
            f"component must be an int (0..{channels - 1}), not {component!r} of type "
            f"{type(component).__name__}"
        )
    if not 0 <= component < channels:
        allowed = ", ".join(f"{i} ({_COMPONENTS[i]})" for i in range(channels))
        raise ImageArrayValueError(
            f"component={int(component)} is not a channel of this {channels}-channel "
            f"image: allowed {allowed}"
        )
    return int(component)


def _gather_sampler(sampler: Any) -> Sampler:
    """The sampler the gather texture is made with: ``sampler``'s addressing,
    coordinates and border colour, with nearest filtering. CUDA documents no effect
    of the filter mode on tex2Dgather; nearest keeps integer channel types (which
    cannot be filtered) valid and relies on nothing."""
    if sampler is None:
        return GATHER_SAMPLER
    if not isinstance(sampler, Sampler):
        raise ImageArrayTypeError(
            f"sampler must be an ia.Sampler or None, not {type(sampler).__name__}"
        )
    if sampler.filtering is FilteringMode.NEAREST:
        return sampler
    return dataclasses.replace(sampler, filtering=FilteringMode.NEAREST)


def _check_coords(coords: Any) -> Any:
    """``coords`` checked for dtype and shape without touching a device: the array
    itself when it has a shape and dtype (NumPy, CuPy, ...), else it made a NumPy
    array."""
    if not (hasattr(coords, "shape") and hasattr(coords, "dtype")):
        try:
            coords = numpy.asarray(coords)
        except Exception as exc:  # ragged sequences, ...
            raise ImageArrayValueError(
                f"coords cannot be made an array ({type(exc).__name__}: {exc})"
            ) from None
    shape, dtype = tuple(coords.shape), numpy.dtype(coords.dtype)
    if dtype.kind not in "fiu":
        raise ImageArrayTypeError(
            "coords must be real numbers (float32, or integers or floats that convert), "
            f"not dtype {dtype}"
        )
    if not shape or shape[-1] != 2:
        raise ImageArrayValueError(
            "coords must have shape (..., 2), (x, y) in texture order on the last axis, "
            f"not shape {shape}"
        )
    return coords


def _device_coords(coords: Any):
    """Checked ``coords`` as a C-contiguous, 8-byte aligned float32 CuPy array on the
    current device (callers are inside ``Scope``)."""
    import cupy

    c = cupy.ascontiguousarray(cupy.asarray(coords), dtype=cupy.float32)
    if c.data.ptr % 8:
        c = c.copy()  # the kernel reads (x, y) as one float2: 8-byte aligned
    return c


def gather(
    view: ImageView,
    coords: Any,
    component: int = 0,
    sampler: Sampler | None = None,
    *,
    stream: Any = None,
) -> cupy.ndarray:
    """Gather one channel of the 2x2 texels a bilinear sample at each point would
    blend (CUDA's ``tex2Dgather``), unfiltered.

    With ``i0 = floor(x - 0.5)`` and ``j0 = floor(y - 0.5)`` in texels (x = width,
    texture order), the result's last axis is, in CUDA's order (counter-clockwise
    from the lower left, y growing downwards)::

        [T(i0, j0 + 1), T(i0 + 1, j0 + 1), T(i0 + 1, j0), T(i0, j0)]

    ``T(i, j)`` is channel ``component`` of column ``i``, row ``j``, read through the
    sampler's addressing as a bilinear fetch reads it (clamp-to-edge, the border
    colour outside for ``"clamp"``, wrap and mirror for normalized coordinates).
    ``x - 0.5`` keeps 8 fractional bits, so a point within 1/512 texel below a
    texel centre gathers from the next texel on. The NumPy model is
    :func:`imagearray.testing.gather`.

    Only 2D standard images in CUDA arrays allocated for gather can be gathered:
    make them with ``gather=True`` (``ia.asimage(data, gather=True)``,
    ``ia.empty(shape, dtype, gather=True)``, ``ia.asimage(img, gather=True)`` for a
    gatherable copy). :attr:`gatherable` says whether an image is one.

    Parameters
    ----------
    coords : array_like
        Shape ``(..., 2)``: (x, y) in **texture order**, real numbers (cast to
        float32). Unnormalized coordinates are in texels (texel centres at i + 0.5),
        normalized ones in [0, 1] (``Sampler(coordinates="normalized")``).
    component : int, optional
        The channel gathered: 0 (x/r) up to ``channels - 1``.
    sampler : Sampler, optional
        Addressing, coordinate units and border colour. Default: clamp-to-edge,
        unnormalized. Its filtering is ignored (a gather does not filter; the
        texture is made with nearest filtering).
    stream : optional
        Default: CuPy's current stream.

    Returns
    -------
    cupy.ndarray
        Shape ``coords.shape[:-1] + (4,)``; float32 for float and normalized
        channel types, the storage type for integer ones (as :meth:`sample`;
        ``snorm_int8`` texels read widened to 16 bits, 45 as 11610/32767: see
        :func:`imagearray.testing.gather`).

    Raises
    ------
    ImageArrayValueError
        The image is not 2D standard, not allocated for gather, linear memory or a
        region; ``component`` is not a channel of it; ``coords`` do not have 2
        components on the last axis.
    ImageArrayTypeError
        ``component`` is not an int, ``sampler`` not a :class:`Sampler`, or
        ``coords`` not real numbers.

    Examples
    --------
    >>> data = numpy.arange(9, dtype=numpy.float32).reshape(3, 3)  # T(i, j) = 3 j + i
    >>> img = ia.asimage(data, gather=True)
    >>> img.gather(cupy.array([[1.0, 1.0]]))
    array([[3., 4., 1., 0.]], dtype=float32)
    """
    _check_gatherable(view)
    comp = _check_component(component, view.channels)
    tex_sampler = _gather_sampler(sampler)
    coords = _check_coords(coords)
    with Scope(view._handle.device, stream):  # argument arrays on the launch stream
        import cupy

        c = _device_coords(coords)
        vt, ot, out_dtype = k.gather_types(view._vdesc.channel_type)
        tex = texture(view, tex_sampler)  # refuses samplers CUDA cannot make
        pts = c.shape[:-1]
        n = math.prod(pts)
        out = cupy.empty(pts + (4,), out_dtype)
        if n:
            args = (tex, numpy.int32(comp), c, out, numpy.int64(n))
            k.gather_kernel(vt, ot)(*k.grid(n), args)
        return out
