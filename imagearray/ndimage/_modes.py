"""The boundary modes of ``cupyx.scipy.ndimage`` interpolation, in plain Python and
NumPy: their names, how the ``opencv`` aliases resolve, and a NumPy model of what the
kernels compute for orders 0 and 1 (:func:`interpolate`), which the CPU tests hold
against ``scipy.ndimage.map_coordinates``.

The kernels' CUDA twin of :func:`boundary` and :func:`wrap_coordinate` is ``bnd`` and
``wrapc`` in :mod:`imagearray.ndimage._source`; both follow cupyx's
``_generate_boundary_condition_ops`` (C remainder semantics: ``numpy.fmod``).
"""

from __future__ import annotations

import numpy

from imagearray._errors import ImageArrayValueError

# mode -> the kernels' code for it (``#define MODE``); "grid-mirror" is "reflect"
MODE_CODES = {
    "constant": 0,
    "grid-constant": 1,
    "nearest": 2,
    "mirror": 3,
    "reflect": 4,
    "grid-wrap": 5,
    "wrap": 6,
}
# every mode cupyx accepts (its _check_parameter); the opencv ones resolve per function
MODES = (
    "constant",
    "grid-constant",
    "nearest",
    "mirror",
    "reflect",
    "grid-mirror",
    "wrap",
    "grid-wrap",
    "opencv",
    "_opencv_edge",
)


def check_mode(mode: object) -> str:
    """``mode`` if cupyx accepts it, else ``ImageArrayValueError`` naming the modes."""
    if not isinstance(mode, str) or mode not in MODES:
        raise ImageArrayValueError(
            f"mode={mode!r} is not a boundary mode; use one of {', '.join(MODES[:-1])}"
        )
    return mode


def kernel_mode(mode: str) -> str:
    """The kernels' mode for a cupyx mode once the function has applied its own opencv
    rule: ``grid-mirror`` is ``reflect``; ``opencv``/``_opencv_edge`` reach
    map_coordinates as a cval border one pixel wide around the input with mode
    ``constant``, which for orders 0 and 1 is ``grid-constant``."""
    if mode == "grid-mirror":
        return "reflect"
    if mode in ("opencv", "_opencv_edge"):
        return "grid-constant"
    return mode


def boundary(mode: str, ix, n: int):
    """cupyx's boundary rule on integer taps ``ix`` (an int64 array) of an axis of
    ``n`` samples: the tap read, or -1 (outside) for the constant modes."""
    ix = numpy.array(ix, dtype=numpy.int64, copy=True)
    if mode == "reflect":
        ix = numpy.where(ix < 0, -1 - ix, ix)
        ix = numpy.fmod(ix, 2 * n)
        return numpy.minimum(ix, 2 * n - 1 - ix)
    if mode == "mirror":
        if n == 1:
            return numpy.zeros_like(ix)
        ix = numpy.abs(ix)
        ix = 1 + numpy.fmod(ix - 1, 2 * (n - 1))
        return numpy.minimum(ix, 2 * n - 2 - ix)
    if mode == "nearest":
        return numpy.clip(ix, 0, n - 1)
    if mode == "grid-wrap":
        ix = numpy.fmod(ix, n)
        return numpy.where(ix < 0, ix + n, ix)
    if mode in ("constant", "grid-constant"):
        return numpy.where((ix < 0) | (ix >= n), -1, ix)
    raise AssertionError(mode)


def wrap_coordinate(c, n: int):
    """cupyx's ``wrap`` rule on a coordinate (period ``n - 1``; float32 like the
    kernels' coordinates of float32 inputs)."""
    c = numpy.array(c, dtype=numpy.float32, copy=True)
    if n == 1:
        return numpy.zeros_like(c)
    p = numpy.float32(n - 1)
    with numpy.errstate(invalid="ignore"):
        low = c + p * (numpy.trunc(-c / p) + 1).astype(numpy.float32)
        high = c - p * numpy.trunc(c / p).astype(numpy.float32)
    return numpy.where(c < 0, low, numpy.where(c > p, high, c)).astype(numpy.float32)


def sum_taps(image, axes, cval: float, weight_dtype=numpy.float32) -> numpy.ndarray:
    """The NumPy models' weighted sum over every combination of per-axis taps:
    ``axes[j]`` lists (taps, weights) of axis ``j`` (int64 taps, -1 outside: reads
    ``cval``; weights per point), the first axis outermost, each product of weights
    formed in ``weight_dtype``. Returns float64 sums, one per point."""
    n = len(axes[0][0][0])
    out = numpy.zeros(n)
    for combo in numpy.ndindex(*(len(a) for a in axes)):
        w = numpy.ones(n, dtype=weight_dtype)
        bad = numpy.zeros(n, dtype=bool)
        idx = []
        for j, k in enumerate(combo):
            t, wj = axes[j][k]
            w = w * wj
            bad |= t < 0
            idx.append(numpy.clip(t, 0, image.shape[j] - 1))
        out = out + numpy.where(bad, cval, image[tuple(idx)]) * w
    return out


def interpolate(image, coords, order: int, mode: str, cval: float = 0.0):
    """NumPy model of the ``exact`` kernels: ``image`` (any ndim, one channel) at
    ``coords`` (shape ``(image.ndim, ...)``, SciPy axis order) with spline order 0 or
    1 and a kernel mode (:func:`kernel_mode`). Returns float64 values."""
    image = numpy.asarray(image, dtype=numpy.float64)
    coords = numpy.asarray(coords, dtype=numpy.float32)
    nd = image.ndim
    shape = coords.shape[1:]
    c = coords.reshape(nd, -1)
    out = numpy.zeros(c.shape[1])
    outside = numpy.zeros(c.shape[1], dtype=bool)
    for j in range(nd):
        outside |= numpy.isnan(c[j])
        if mode == "constant":
            outside |= (c[j] < 0) | (c[j] > image.shape[j] - 1)
    c = numpy.where(numpy.isnan(c), 0, c)
    if order == 0:
        taps = []
        for j in range(nd):
            n = image.shape[j]
            if mode == "wrap":
                t = numpy.floor(wrap_coordinate(c[j], n) + numpy.float32(0.5)).astype(numpy.int64)
            else:
                t = numpy.floor(c[j] + numpy.float32(0.5)).astype(numpy.int64)
                if mode != "constant":
                    t = boundary(mode, t, n)
            taps.append(t)
        bad = numpy.zeros_like(outside)
        for t in taps:
            bad |= t < 0
        safe = [numpy.clip(t, 0, s - 1) for t, s in zip(taps, image.shape)]
        out = numpy.where(bad, cval, image[tuple(safe)])
    elif order == 1:
        axes = []
        for j in range(nd):
            n = image.shape[j]
            f = numpy.floor(c[j]).astype(numpy.int64)
            wf = (f + 1).astype(numpy.float32) - c[j]
            wc = c[j] - f.astype(numpy.float32)
            if mode == "wrap":
                dc = wrap_coordinate(c[j], n)
                bf = numpy.floor(dc).astype(numpy.int64)
                bc = numpy.floor(dc + numpy.float32(1)).astype(numpy.int64)
                bc = numpy.minimum(bc, n - 1)  # a tap of weight 0 (cupyx reads past the end)
            elif mode == "constant":
                bf, bc = f, numpy.minimum(f + 1, n - 1)  # f + 1 = n only with weight 0
            else:
                bf, bc = boundary(mode, f, n), boundary(mode, f + 1, n)
            axes.append(((bf, wf), (bc, wc)))
        out = sum_taps(image, axes, cval)
    else:
        raise ImageArrayValueError(f"order={order}: the model covers orders 0 and 1")
    return numpy.where(outside, cval, out).reshape(shape)
