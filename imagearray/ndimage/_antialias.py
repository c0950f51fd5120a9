"""``zoom(..., antialias=True)``: scikit-image's Gaussian prefilter before a zoom that
shrinks (as its ``rescale(anti_aliasing=True)`` and cuCIM's apply it).

Each spatial axis that shrinks from ``n`` to ``o = round(n * zoom)`` samples is first
smoothed by a Gaussian of ``sigma = (n / o - 1) / 2`` (truncated at 4 sigma, in
float32), with the ndimage filter mode that extends the input as the zoom's ``mode``
does; channel and batch axes are not smoothed. :func:`sigmas` and :func:`filter_mode`
are pure (tested without a GPU).
"""

from __future__ import annotations

from typing import Any

import numpy

from imagearray._errors import ImageArrayTypeError
from imagearray.ndimage._modes import check_mode

#: zoom mode -> the gaussian_filter mode that extends the input alike (a filter's
#: ``constant`` / ``wrap`` / ``reflect`` are the grid ones; opencv pads with cval)
_FILTER_MODES = {
    "grid-constant": "constant",
    "grid-wrap": "wrap",
    "grid-mirror": "reflect",
    "opencv": "constant",
    "_opencv_edge": "constant",
}


def filter_mode(mode: str) -> str:
    """The ``gaussian_filter`` mode for a (checked) zoom ``mode``."""
    return _FILTER_MODES.get(mode, mode)


def check_antialias(antialias: Any) -> bool:
    if not isinstance(antialias, (bool, numpy.bool_)):
        raise ImageArrayTypeError(f"antialias must be True or False, not {antialias!r}")
    return bool(antialias)


def spatial_axes(ndim: int, channel_axis: Any, batch_axes: Any) -> list[int]:
    """The input axes that are zoomed: all but a last channel axis and a first batch
    axis (the forms ``zoom`` takes; others are refused by it later)."""
    axes = list(range(ndim))
    if channel_axis is not None and axes:
        axes.pop()
    if batch_axes is not None and axes:
        axes.pop(0)
    return axes


def sigmas(shape: tuple, axes: list[int], factors: list[float]) -> list[float]:
    """One sigma per input axis: ``(n / round(n * z) - 1) / 2`` on the spatial axes
    that shrink, 0 elsewhere."""
    out = [0.0] * len(shape)
    for ax, z in zip(axes, factors):
        n = shape[ax]
        o = int(round(n * z))
        if 0 < o < n:
            out[ax] = (n / o - 1) / 2
    return out


def prefilter(input: Any, sigma: list[float], mode: str, cval: float):
    """``input`` smoothed by ``sigma`` per axis, float32, on its device (a NumPy input
    is uploaded to the current one)."""
    import cupy
    import cupyx.scipy.ndimage as ndi

    if not isinstance(input, (cupy.ndarray, numpy.ndarray)):
        raise ImageArrayTypeError(
            f"antialias=True smooths a CuPy or NumPy array, not {type(input).__name__}: "
            "pass img.to_cupy() for an ImageArray"
        )
    a = cupy.asarray(input)
    if a.dtype == numpy.float16:  # exactly: cupyx's filter with a cval does not compile
        a = a.astype(numpy.float32)  # for float16 (NVRTC: ambiguous ?: float / float16)
    with a.device:
        return ndi.gaussian_filter(
            a, sigma, output=numpy.float32, mode=filter_mode(mode), cval=float(cval)
        )


def apply(input: Any, zoom: Any, output: Any, mode: Any, cval: Any, channel_axis, batch_axes):
    """``zoom``'s antialiased input and output: (the smoothed input, ``output`` or the
    input's dtype, so the zoom keeps it). Arguments zoom would refuse are left for it
    to refuse with its own errors (nothing is smoothed then)."""
    try:
        ndim = numpy.ndim(input)
        shape = tuple(input.shape)
        axes = spatial_axes(ndim, channel_axis, batch_axes)
        items = list(zoom) if numpy.ndim(zoom) else [zoom] * len(axes)
        factors = [float(z) for z in items]
        check_mode(mode)
        cval = float(cval)
    except Exception:  # zoom's own checks come next and name the argument
        return input, output
    if len(factors) != len(axes) or not all(numpy.isfinite(factors)):
        return input, output
    sigma = sigmas(shape, axes, factors)
    if not any(s > 0 for s in sigma):
        return input, output
    if output is None:
        output = numpy.dtype(input.dtype)
    return prefilter(input, sigma, mode, cval), output
