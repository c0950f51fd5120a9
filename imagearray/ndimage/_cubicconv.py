"""Cubic convolution (Keys' bicubic), the ``interpolation="cubic"`` of ``remap`` and
``warp_perspective``: its weights, as CUDA source and in NumPy, and a NumPy model of
what the kernels compute (:func:`interpolate`), which the tests hold against OpenCV's
``cv2.remap(..., INTER_CUBIC)``.

For a coordinate ``x`` with ``f = floor(x)`` and ``t = x - f``, the four taps
``f - 1 .. f + 2`` have the weights of Keys' kernel with parameter ``a``::

    w0 = ((a (t + 1) - 5 a) (t + 1) + 8 a) (t + 1) - 4 a
    w1 = ((a + 2) t - (a + 3)) t t + 1
    w2 = ((a + 2) (1 - t) - (a + 3)) (1 - t) (1 - t) + 1
    w3 = 1 - w0 - w1 - w2

written as OpenCV's ``interpolateCubic`` writes them (``a = -0.75``: OpenCV's
``INTER_CUBIC`` and PyTorch's ``bicubic``; ``a = -0.5``: Catmull-Rom, Pillow's
``BICUBIC``). Each tap is read through the boundary mode on its own
(:func:`imagearray.ndimage._modes.boundary`), as OpenCV's ``borderInterpolate`` does.

OpenCV rounds each map coordinate to 1/32 pixel (``INTER_BITS = 5``) and tabulates
the weights there; these kernels use the coordinate as it is, so they agree with
``cv2.remap`` to float32 rounding where the maps are on that grid, and elsewhere
differ by what the rounding moves (at most 1/64 pixel times the image's slope).
"""

from __future__ import annotations

import numpy

from imagearray._errors import ImageArrayValueError
from imagearray.ndimage import _cubic
from imagearray.ndimage._modes import boundary, sum_taps

#: OpenCV's ``INTER_CUBIC`` (and PyTorch's ``bicubic``); -0.5 is Catmull-Rom
DEFAULT_A = -0.75

#: the modes cubic convolution takes, as kernel modes (``_modes.kernel_mode``): each
#: tap folded on its own. ``wrap`` (SciPy's period of n - 1) has no per-tap meaning.
MODES = ("constant", "grid-constant", "nearest", "mirror", "reflect", "grid-wrap")

#: the weights in CUDA, ``a`` a float literal or variable, ``t`` the fraction
CUDA_WEIGHTS = """
__device__ __forceinline__ void cubic_weights(float t, float a, float w[4]) {
    float t1 = t + 1.0f, u = 1.0f - t;
    w[0] = ((a * t1 - 5.0f * a) * t1 + 8.0f * a) * t1 - 4.0f * a;
    w[1] = ((a + 2.0f) * t - (a + 3.0f)) * t * t + 1.0f;
    w[2] = ((a + 2.0f) * u - (a + 3.0f)) * u * u + 1.0f;
    w[3] = 1.0f - w[0] - w[1] - w[2];
}
"""


def saturation(dtype) -> tuple[float, float]:
    """The float32 range an integer ``dtype`` holds (its bounds, the upper one rounded
    down to a float32 that still fits)."""
    info = numpy.iinfo(dtype)
    hi = numpy.float32(info.max)
    if int(hi) > info.max:
        hi = numpy.nextafter(hi, numpy.float32(0))
    return float(numpy.float32(info.min)), float(hi)


def taps(key, point_read, owned, bounds) -> str:
    """Cubic convolution: per axis the taps ``floor(c) - 1 .. floor(c) + 2``, each
    folded by the mode's rule (``bnd``: -1 outside in the constant modes, which read
    ``cval``), Keys' weights (``cubic_weights``), float32 products summed with the
    first axis outermost; integer outputs saturate to ``bounds`` (OpenCV's
    ``saturate_cast``; None: a float output). ``point_read(idx, dest)``: statements
    reading the taps ``idx``; ``owned(idx)``: (tiled) the condition that this tile
    holds them."""
    d = key.ndim
    constant = key.mode in ("constant", "grid-constant")
    lines = []
    for j in range(d):
        lines += [
            f"const int st{j} = (int)floor(c[{j}]) - 1;",
            f"float w{j}[4]; int tp{j}[4];",
            f"cubic_weights((float)(c[{j}] - floor(c[{j}])), {float(key.conv_a)!r}f, w{j});",
            "#pragma unroll",
            f"for (int k = 0; k < 4; k++) tp{j}[k] = bnd(st{j} + k, n[{j}]);",
        ]
    lines += _cubic.tap_loops(d, point_read, constant, owned if key.tiled else None)
    if bounds is not None and not key.tiled:  # tiles: the caller saturates the total
        lo, hi = bounds
        lines.append(
            f"for (int ch = 0; ch < NCH; ch++) v[ch] = fminf(fmaxf(v[ch], {lo!r}f), {hi!r}f);"
        )
    return "\n".join("        " + x for x in lines)


def check_a(a: object) -> float:
    """``a`` as a float if it is a finite real number in [-3, 0), else
    ``ImageArrayValueError`` (Keys' kernel is interpolating for any ``a``; outside
    that range it rings more than it smooths, and no library uses it)."""
    try:
        v = float(a)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ImageArrayValueError(f"cubic_a={a!r} is not a real number") from None
    if not (-3.0 <= v < 0.0):
        raise ImageArrayValueError(
            f"cubic_a={a!r} is outside [-3, 0): use -0.75 (OpenCV, PyTorch) or -0.5 (Catmull-Rom)"
        )
    return v


def check_mode(mode: str) -> str:
    """``mode`` (a kernel mode) if cubic convolution takes it."""
    if mode not in MODES:
        raise ImageArrayValueError(
            f"mode={mode!r} does not fold each tap on its own, so interpolation='cubic' "
            f"cannot use it; use one of {', '.join(MODES)} (or 'opencv')"
        )
    return mode


def weights(t, a: float = DEFAULT_A) -> numpy.ndarray:
    """The four weights of fractions ``t`` (float32 arithmetic as the kernels'), shape
    ``t.shape + (4,)``."""
    t = numpy.asarray(t, dtype=numpy.float32)
    a = numpy.float32(a)
    one = numpy.float32(1)
    t1, u = t + one, one - t
    w0 = ((a * t1 - numpy.float32(5) * a) * t1 + numpy.float32(8) * a) * t1 - numpy.float32(4) * a
    w1 = ((a + numpy.float32(2)) * t - (a + numpy.float32(3))) * t * t + one
    w2 = ((a + numpy.float32(2)) * u - (a + numpy.float32(3))) * u * u + one
    w3 = one - w0 - w1 - w2
    return numpy.stack([w0, w1, w2, w3], axis=-1).astype(numpy.float32)


def interpolate(image, coords, mode: str, cval: float = 0.0, a: float = DEFAULT_A):
    """NumPy model of the cubic-convolution kernels: ``image`` (2D or 3D, one channel)
    at ``coords`` (shape ``(image.ndim, ...)``, SciPy axis order, float32) through a
    kernel mode (taps outside the input read ``cval`` for the constant modes;
    ``constant`` also gives ``cval`` for points outside ``[0, n - 1]``). NaN
    coordinates give ``cval``. Returns float64 values."""
    check_mode(mode)
    image = numpy.asarray(image, dtype=numpy.float64)
    coords = numpy.asarray(coords, dtype=numpy.float32)
    nd = image.ndim
    shape = coords.shape[1:]
    c = coords.reshape(nd, -1)
    outside = numpy.zeros(c.shape[1], dtype=bool)
    for j in range(nd):
        outside |= ~numpy.isfinite(c[j])
        if mode == "constant":
            outside |= (c[j] < 0) | (c[j] > image.shape[j] - 1)
    c = numpy.where(outside, 0, c).astype(numpy.float32)
    axes = []
    for j in range(nd):
        f = numpy.floor(c[j])
        w = weights(c[j] - f, a)
        fi = f.astype(numpy.int64)
        axes.append([(boundary(mode, fi + k - 1, image.shape[j]), w[:, k]) for k in range(4)])
    out = sum_taps(image, axes, cval, numpy.float64)
    return numpy.where(outside, cval, out).reshape(shape)
