"""scikit-image's conventions that its resize and pyramids share, for any array
library (NumPy or CuPy): its mode names, float conversion, output shapes, prefilter
sigma, interpolation order and clipping (``skimage/_shared/utils.py`` and
``skimage/transform/_warps.py``)."""

from __future__ import annotations

import math
import operator
import warnings
from typing import Any

import numpy

from imagearray._errors import ImageArrayTypeError, ImageArrayValueError

#: numpy.pad mode names (scikit-image's) -> ndimage's (``_to_ndimage_mode``), as its
#: Gaussian prefilter gets them (a filter's ``constant``/``wrap`` are the grid ones).
NDIMAGE_MODES = {
    "constant": "constant",
    "edge": "nearest",
    "symmetric": "reflect",
    "reflect": "mirror",
    "wrap": "wrap",
}
#: ... and as its ``ndimage.zoom(grid_mode=True)`` gets them (``_fix_ndimage_mode``):
#: ``constant``/``wrap`` become ``grid-constant``/``grid-wrap``, which differ from the
#: plain ones where an upscale reads outside ``[0, n - 1]``.
ZOOM_MODES = NDIMAGE_MODES | {"constant": "grid-constant", "wrap": "grid-wrap"}


def number(value: Any, name: str, what: str = "a number") -> float:
    """``value`` as a float, else ``ImageArrayTypeError`` (bools and strings too)."""
    if isinstance(value, (bool, numpy.bool_, str)):
        raise ImageArrayTypeError(f"{name} must be {what}, not {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ImageArrayTypeError(f"{name} must be {what}, not {value!r}") from None


def ndimage_mode(mode: Any) -> str:
    """scikit-image's ``mode`` as ndimage's, else ``ImageArrayValueError``."""
    if not isinstance(mode, str) or mode not in NDIMAGE_MODES:
        raise ImageArrayValueError(
            f"mode={mode!r}: use one of {', '.join(NDIMAGE_MODES)} (numpy.pad's names, "
            "as scikit-image takes them)"
        )
    return NDIMAGE_MODES[mode]


def to_float(image, preserve_range: bool, xp):
    """scikit-image's ``convert_to_float`` in float32 (float64 inputs stay float64
    here; the GPU path converts them once more): ``img_as_float`` maps unsigned
    integers to [0, 1] and signed ones to [-1, 1] (the most negative to -1)."""
    dt = numpy.dtype(image.dtype)
    if dt.kind == "b":
        raise ImageArrayTypeError("boolean images are resized with order=0 only")
    if dt.kind == "f":
        return image.astype(xp.float32) if dt.itemsize < 4 else image
    if dt.kind not in "iu":
        raise ImageArrayTypeError(f"image of dtype {dt}: use an integer or float dtype")
    out = image.astype(xp.float32)
    if preserve_range:
        return out
    out *= xp.float32(1.0 / numpy.iinfo(dt).max)
    if dt.kind == "i":
        xp.maximum(out, -1.0, out=out)
    return out


def output_shape_of(shape: tuple, output_shape: Any) -> tuple:
    """scikit-image's ``_preprocess_resize_output_shape``: one size per axis, or one
    fewer (the last axis, channels, kept). Returns the full output shape."""
    try:
        out = tuple(operator.index(n) for n in output_shape)
    except TypeError:
        raise ImageArrayTypeError(
            f"output_shape must be a tuple of ints, not {output_shape!r}"
        ) from None
    if len(out) == len(shape) - 1:
        out += (shape[-1],)
    if len(out) != len(shape):
        raise ImageArrayValueError(
            f"output_shape={output_shape!r} must have {len(shape)} sizes (or "
            f"{len(shape) - 1}, keeping the last axis) for an image of shape {shape}"
        )
    if any(n < 1 for n in out):
        raise ImageArrayValueError(f"output_shape={output_shape!r}: every size must be >= 1")
    return out


def aa_sigma(factors, anti_aliasing_sigma: Any) -> list:
    """scikit-image's prefilter sigma per axis (``(factor - 1) / 2``, or the given one
    broadcast), checked."""
    if anti_aliasing_sigma is None:
        return [max(0.0, (f - 1) / 2) for f in factors]
    try:
        given = [float(v) for v in numpy.atleast_1d(anti_aliasing_sigma)]
    except (TypeError, ValueError):
        raise ImageArrayTypeError(
            f"anti_aliasing_sigma must be a number or one per axis, not {anti_aliasing_sigma!r}"
        ) from None
    if len(given) == 1:
        given = given * len(factors)
    if len(given) != len(factors):
        raise ImageArrayValueError(
            f"anti_aliasing_sigma has {len(given)} values; the image has {len(factors)} axes"
        )
    if not all(0 <= v < math.inf for v in given):
        raise ImageArrayValueError(
            f"anti_aliasing_sigma={anti_aliasing_sigma!r}: standard deviations must be >= 0 "
            "and finite"
        )
    if any(v > 0 and f <= 1 for v, f in zip(given, factors)):
        warnings.warn(
            "Anti-aliasing standard deviation greater than zero but not down-sampling "
            "along all axes",
            UserWarning,
            stacklevel=4,
        )
    return given


def clip_like(image, out, mode: str, cval: float, xp) -> None:
    """scikit-image's ``_clip_warp_output`` (clip=True): clip ``out`` in place to the
    range of ``image``, widened to ``cval`` where mode 'constant' brought it in."""
    clip_range(float(xp.nanmin(image)), float(xp.nanmax(image)), out, mode, cval, xp)


def clip_range(lo: float, hi: float, out, mode: str, cval: float, xp) -> None:
    """:func:`clip_like` with the input's range ``[lo, hi]`` already known."""
    if mode == "constant" and not lo <= cval <= hi:
        if float(xp.nanmin(out)) <= cval <= float(xp.nanmax(out)):
            lo, hi = min(lo, cval), max(hi, cval)
    xp.clip(out, lo, hi, out=out)


def check_order(order: Any, dtype) -> int:
    """scikit-image's ``_validate_interpolation_order``."""
    if order is None:
        return 0 if numpy.dtype(dtype) == numpy.bool_ else 1
    try:
        order = operator.index(order)
    except TypeError:
        raise ImageArrayTypeError(f"order must be an int in 0..5, not {order!r}") from None
    if not 0 <= order <= 5:
        raise ImageArrayValueError(f"order={order}: spline orders are 0..5")
    return order
