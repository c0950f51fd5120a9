"""The pyramids' fast path: scikit-image's ``pyramid_reduce`` by 2 of even-sized axes,
fused into one filter-and-decimate pass per axis.

scikit-image smooths every spatial axis with a Gaussian ``g`` (radius
``int(4 * sigma + 0.5)``, ndimage's ``mode``) and then resizes ``n`` samples to
``n / 2`` by a grid-mode linear zoom: output ``i`` reads the smoothed line at
``2 i + 0.5``, the mean of samples ``2 i`` and ``2 i + 1``, both inside the line, so
the zoom's own boundary rule and scikit-image's clip (to the smoothed image's
range) change nothing. That is one filter ``h[m] = (g[m] + g[m - 1]) / 2``, ``m`` in
``-r .. r + 1``, evaluated at the even samples only: per axis half the outputs of
the Gaussian's pass, and no full-size smoothed image for the zoom to read.

:data:`SOURCE` is the CUDA kernel (float32, one thread per output sample, the taps
summed in order); :func:`decimate_host` is its NumPy twin, which the CPU tests hold
against scikit-image.
"""

from __future__ import annotations

import math

import numpy

#: ndimage filter mode -> the kernel's code (see SOURCE)
MODE_CODES = {"constant": 0, "reflect": 1, "wrap": 2}

SOURCE = r"""
extern "C" __global__ void ia_decimate2(
    const float* __restrict__ x, float* __restrict__ y, const float* __restrict__ h,
    int taps, int r, long long n, long long inner, long long total, int mode, float cval)
{
    const long long half = n / 2;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
         i += (long long)blockDim.x * gridDim.x) {
        const long long b = i % inner;
        const long long t = i / inner;
        const long long o = t % half;
        const float* line = x + (t / half) * n * inner + b;
        float acc = 0.0f;
        for (int k = 0; k < taps; ++k) {
            long long m = 2 * o + k - r;
            float v;
            if (m < 0 || m >= n) {
                if (mode == 0) {          // constant: cval outside
                    acc += h[k] * cval;
                    continue;
                }
                if (mode == 1) {          // ndimage reflect: period 2n, edges repeated
                    m %= 2 * n;
                    if (m < 0) m += 2 * n;
                    if (m >= n) m = 2 * n - 1 - m;
                } else {                  // wrap: period n
                    m %= n;
                    if (m < 0) m += n;
                }
            }
            v = line[m * inner];
            acc += h[k] * v;
        }
        y[i] = acc;
    }
}
"""

_KERNELS: dict = {}


def applies(shape: tuple, axes: list, factor: float) -> bool:
    """Whether the fused pass computes this reduction: by exactly 2, every spatial
    axis of even size."""
    return factor == 2.0 and bool(axes) and all(shape[a] % 2 == 0 for a in axes)


def taps(sigma: float) -> numpy.ndarray:
    """``h`` (float64, ``2 r + 2`` taps for offsets ``-r .. r + 1``): ndimage's
    normalized Gaussian (truncated at 4 sigma; ``[1]`` for sigma 0, which ndimage
    skips) followed by the mean of two neighbours."""
    if sigma > 0:
        r = int(4.0 * float(sigma) + 0.5)
        x = numpy.arange(-r, r + 1, dtype=numpy.float64)
        g = numpy.exp(-0.5 / (float(sigma) * float(sigma)) * x * x)
        g /= g.sum()
    else:
        g = numpy.ones(1)
    return 0.5 * (numpy.concatenate([g, [0.0]]) + numpy.concatenate([[0.0], g]))


def _fold(m: numpy.ndarray, n: int, mode: str) -> numpy.ndarray:
    """SOURCE's boundary rule on sample indices (constant: -1 outside)."""
    if mode == "constant":
        return numpy.where((m < 0) | (m >= n), -1, m)
    if mode == "reflect":
        m = numpy.mod(m, 2 * n)
        return numpy.where(m >= n, 2 * n - 1 - m, m)
    return numpy.mod(m, n)


def decimate_host(x: numpy.ndarray, axis: int, h, r: int, mode: str, cval: float):
    """SOURCE on the host: one axis of a float array, the taps ``h`` summed in order
    in float32 (float64 for a float64 array, as scikit-image computes it)."""
    dt = numpy.float64 if x.dtype == numpy.float64 else numpy.float32
    x = numpy.ascontiguousarray(x, dtype=dt)
    h = numpy.asarray(h, dt)
    n = x.shape[axis]
    lines = numpy.moveaxis(x, axis, 0)
    o = numpy.arange(n // 2)
    acc = numpy.zeros((n // 2,) + lines.shape[1:], dt)
    for k, w in enumerate(h):
        m = _fold(2 * o + k - r, n, mode)
        v = lines[numpy.maximum(m, 0)]
        if mode == "constant":
            shape = (-1,) + (1,) * (lines.ndim - 1)
            v = numpy.where((m < 0).reshape(shape), dt(cval), v)
        acc = acc + w * v
    return numpy.ascontiguousarray(numpy.moveaxis(acc, 0, axis))


def _decimate_gpu(x, axis: int, h, r: int, mode: str, cval: float):
    import cupy

    x = cupy.ascontiguousarray(x, dtype=numpy.float32)
    shape = x.shape
    n = shape[axis]
    inner = math.prod(shape[axis + 1 :])
    y = cupy.empty(shape[:axis] + (n // 2,) + shape[axis + 1 :], numpy.float32)
    total = y.size
    dev = x.device.id
    kernel = _KERNELS.get(dev)
    if kernel is None:
        kernel = _KERNELS[dev] = cupy.RawKernel(SOURCE, "ia_decimate2")
    blocks = min((total + 255) // 256, 1 << 20)
    args = (x, y, h, numpy.int32(h.size), numpy.int32(r), numpy.int64(n), numpy.int64(inner))
    args += (numpy.int64(total), numpy.int32(MODE_CODES[mode]), numpy.float32(cval))
    kernel((blocks,), (256,), args)
    return y


def reduce2(image, axes: list, sigma: float, mode: str, cval: float, xp):
    """scikit-image's ``pyramid_reduce(image, 2, sigma, mode=mode, cval=cval)`` of a
    float image whose spatial ``axes`` are all even (:func:`applies`), with ``xp``
    (NumPy: :func:`decimate_host`; CuPy: the kernel, float32)."""
    h = taps(sigma)
    r = (h.size - 2) // 2
    out = image
    if xp is numpy:
        for ax in axes:
            out = decimate_host(out, ax, h, r, mode, cval)
        return out
    h32 = xp.asarray(h.astype(numpy.float32))
    for ax in axes:
        out = _decimate_gpu(out, ax, h32, r, mode, cval)
    return out
