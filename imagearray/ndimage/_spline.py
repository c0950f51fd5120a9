"""The B-spline coefficients that ``order=3`` reads: cupyx's prefilter, per
(sample, channel) plane, as float32 (what cupyx's ``_filter_input`` computes for the
input dtypes the textures take).

- ``opencv`` / ``_opencv_edge``: cupyx's map_coordinates pads the input (in its own
  dtype) by one sample of ``cval`` per side and continues with mode ``constant``.
- ``nearest`` and ``grid-constant`` with the prefilter: cupyx pads by 12 samples
  (``edge``; ``cval`` on the float input) before filtering (``nprepad``).
- The prefilter is ``cupyx.scipy.ndimage.spline_filter1d`` along each spatial axis
  in turn (in place, float32), with the caller's mode: cupyx maps it to its spline
  boundary (``_get_spline_mode``).
"""

from __future__ import annotations

import numpy

from imagearray.ndimage import _cubic, _modes

OPENCV_MODES = ("opencv", "_opencv_edge")
NPREPAD = 12  # cupyx's (and SciPy's) padding before filtering nearest / grid-constant


def layout(mode: str, prefilter: bool) -> tuple[str, int]:
    """(the kernel mode of order 3, the coefficients' padding per side)."""
    if mode in OPENCV_MODES:
        return "constant", 1
    if prefilter and mode in ("nearest", "grid-constant"):
        return mode, NPREPAD
    return _modes.kernel_mode(mode), 0


def coefficients(x, nshape: tuple, ndim: int, mode: str, cval: float, prefilter: bool):
    """float32 C-contiguous coefficients of shape ``(nb, *padded spatial, channels)``
    of ``x`` (a CuPy array of ``nshape`` elements; never modified)."""
    import cupy
    import cupyx.scipy.ndimage as ndi

    a = x.reshape(nshape)
    fresh = False  # a is an array of this call's own (else: the caller's memory)
    spatial = [(0, 0)] + [(1, 1)] * ndim + [(0, 0)]
    filter_mode = mode
    if mode in OPENCV_MODES:  # in the input's dtype, as cupyx pads
        a, fresh = cupy.pad(a, spatial, "constant", constant_values=cval), True
        filter_mode = "constant"
    if a.dtype.kind in "iu":
        a, fresh = a.astype(numpy.float32), True
    if prefilter and filter_mode in ("nearest", "grid-constant"):
        pads = [(0, 0)] + [(NPREPAD, NPREPAD)] * ndim + [(0, 0)]
        kw = {"constant_values": cval} if filter_mode == "grid-constant" else {}
        a = cupy.pad(a, pads, "edge" if filter_mode == "nearest" else "constant", **kw)
        fresh = True
    coef = cupy.array(a, dtype=numpy.float32, order="C", copy=not fresh)
    if prefilter:
        for axis in range(1, ndim + 1):
            ndi.spline_filter1d(coef, 3, axis, output=coef, mode=filter_mode)
    return coef


def model(coef, coords, mode: str, cval: float = 0.0, pad: int = 0):
    """NumPy model of the ``exact`` order-3 kernels: coefficients ``coef`` (any ndim,
    one channel, padded as :func:`coefficients` pads) at ``coords`` (shape
    ``(coef.ndim, ...)``, SciPy order, on the unpadded input) with the kernel mode and
    padding of :func:`layout`. Returns float64 values (the CPU tests hold it against
    ``scipy.ndimage``)."""
    coef = numpy.asarray(coef, dtype=numpy.float64)
    c = numpy.asarray(coords, dtype=numpy.float32)
    shape = c.shape[1:]
    c = c.reshape(coef.ndim, -1) + numpy.float32(pad)
    outside = numpy.isnan(c).any(axis=0)
    if mode == "constant":
        for j, n in enumerate(coef.shape):
            outside |= (c[j] < 0) | (c[j] > n - 1)
    c = numpy.where(numpy.isnan(c), 0, c)
    smode = _cubic.SPLINE_MODE[mode]
    axes = []
    for j, n in enumerate(coef.shape):
        wx = c[j] - numpy.floor(c[j])
        wy = numpy.float32(1) - wx
        w1 = (wx * wx * (wx - 2) * 3 + 4) / numpy.float32(6)
        w2 = (wy * wy * (wy - 2) * 3 + 4) / numpy.float32(6)
        w0 = wy * wy * wy / numpy.float32(6)
        w3 = numpy.float32(1) - w0 - w1 - w2
        dc = _modes.wrap_coordinate(c[j], n) if mode == "wrap" else c[j]
        st = numpy.floor(dc).astype(numpy.int64) - 1
        taps = [_modes.boundary(smode, st + k, n) for k in range(4)]
        axes.append(list(zip(taps, (w0, w1, w2, w3))))
    out = numpy.zeros(c.shape[1])
    for combo in numpy.ndindex(*(4,) * coef.ndim):
        w = numpy.ones(c.shape[1], dtype=numpy.float32)
        bad = numpy.zeros(c.shape[1], dtype=bool)
        idx = []
        for j, k in enumerate(combo):
            t, wj = axes[j][k]
            w = w * wj
            bad |= t < 0
            idx.append(numpy.clip(t, 0, coef.shape[j] - 1))
        out += numpy.where(bad, cval, coef[tuple(idx)]) * w
    return numpy.where(outside, cval, out).reshape(shape)
