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

import functools
import math

import numpy

#: ndimage filter mode -> the kernel's code (see SOURCE)
MODE_CODES = {"constant": 0, "reflect": 1, "wrap": 2}

#: Output tile of ``ia_decimate2x2`` (rows, columns): SOURCE's IA_TY x IA_TX.
TILE = (16, 32)

SOURCE = (
    f"#define IA_TY {TILE[0]}\n#define IA_TX {TILE[1]}\n"
    + r"""
// A sample index m of a line of n under the mode's boundary rule; -1: outside in
// constant mode (the sample is cval).
__device__ __forceinline__ int ia_fold(long long m, long long n, int mode) {
    if (m >= 0 && m < n) return (int)m;
    if (mode == 0) return -1;                 // constant: cval outside
    if (mode == 1) {                          // ndimage reflect: period 2n, edges repeated
        m %= 2 * n;
        if (m < 0) m += 2 * n;
        return (int)(m >= n ? 2 * n - 1 - m : m);
    }
    m %= n;                                   // wrap: period n
    if (m < 0) m += n;
    return (int)m;
}

// One axis: y[.., o, ..] = sum_k h[k] x[.., 2 o + k - r, ..], the taps summed in order.
// I: the index type (int where every index fits).
template <typename I>
__device__ __forceinline__ void ia_decimate_axis(
    const float* __restrict__ x, float* __restrict__ y, const float* __restrict__ h,
    int taps, int r, I n, I inner, I total, int mode, float cval)
{
    const I half = n / 2;
    for (I i = blockIdx.x * (I)blockDim.x + threadIdx.x; i < total;
         i += (I)blockDim.x * gridDim.x) {
        const I b = i % inner;
        const I t = i / inner;
        const I o = t % half;
        const float* line = x + (long long)(t / half) * n * inner + b;
        const I m0 = 2 * o - r;
        float acc = 0.0f;
        if (m0 >= 0 && m0 + taps <= n) {      // inside the line: no boundary rule
            for (int k = 0; k < taps; ++k) acc += h[k] * line[(long long)(m0 + k) * inner];
        } else {
            for (int k = 0; k < taps; ++k) {
                const int m = ia_fold(m0 + k, n, mode);
                acc += h[k] * (m < 0 ? cval : line[(long long)m * inner]);
            }
        }
        y[i] = acc;
    }
}

extern "C" __global__ void ia_decimate2(
    const float* __restrict__ x, float* __restrict__ y, const float* __restrict__ h,
    int taps, int r, long long n, long long inner, long long total, int mode, float cval)
{
    ia_decimate_axis<long long>(x, y, h, taps, r, n, inner, total, mode, cval);
}

extern "C" __global__ void ia_decimate2_i32(
    const float* __restrict__ x, float* __restrict__ y, const float* __restrict__ h,
    int taps, int r, int n, int inner, int total, int mode, float cval)
{
    ia_decimate_axis<int>(x, y, h, taps, r, n, inner, total, mode, cval);
}

// Two neighbouring axes (H, W) at once, of x as (outer, H, W, inner): the axis pass
// above on H, then on W, from shared memory. A block of 32 x 8 threads makes a TY x TX
// tile of the output of one (outer, inner) plane: it loads the (2 TY + taps - 2) x
// (2 TX + taps - 2) input samples the tile's taps reach (folded by the boundary
// rule), filters the rows into TY x (2 TX + taps - 2) (the H pass's outputs at those
// columns; cval at columns outside the image in constant mode, as the W pass would
// read them), and the columns into the tile: the same taps, in the same order, as
// the two passes.
extern "C" __global__ void __launch_bounds__(256) ia_decimate2x2(
    const float* __restrict__ x, float* __restrict__ y, const float* __restrict__ h,
    int taps, int r, int H, int W, int inner, int mode, float cval)
{
    extern __shared__ float sm[];
    const int IW = 2 * IA_TX + taps - 2, IH = 2 * IA_TY + taps - 2;
    float* tin = sm;
    float* mid = tin + IH * IW;
    float* hs = mid + IA_TY * IW;
    const int tx0 = threadIdx.x, ty0 = threadIdx.y;
    const int tid = ty0 * 32 + tx0;
    const int ox0 = blockIdx.x * IA_TX, oy0 = blockIdx.y * IA_TY;
    const int o = blockIdx.z / inner, c = blockIdx.z - o * inner;
    const float* src = x + (long long)o * H * W * inner + c;
    const int H2 = H / 2, W2 = W / 2;
    float* dst = y + (long long)o * H2 * W2 * inner + c;
    const int gx0 = 2 * ox0 - r, gy0 = 2 * oy0 - r;
    for (int k = tid; k < taps; k += 256) hs[k] = h[k];
    for (int ty = ty0; ty < IH; ty += 8) {
        const int gy = ia_fold(gy0 + ty, H, mode);
        for (int tx = tx0; tx < IW; tx += 32) {
            const int gx = ia_fold(gx0 + tx, W, mode);
            tin[ty * IW + tx] = (gy < 0 || gx < 0) ? cval : src[((long long)gy * W + gx) * inner];
        }
    }
    __syncthreads();
    for (int ty = ty0; ty < IA_TY; ty += 8)
        for (int tx = tx0; tx < IW; tx += 32) {
            float acc = 0.0f;
            for (int k = 0; k < taps; ++k) acc += hs[k] * tin[(2 * ty + k) * IW + tx];
            const bool outside = mode == 0 && (gx0 + tx < 0 || gx0 + tx >= W);
            mid[ty * IW + tx] = outside ? cval : acc;
        }
    __syncthreads();
    const int ox = ox0 + tx0;
    for (int ty = ty0; ty < IA_TY; ty += 8) {
        const int oy = oy0 + ty;
        if (oy >= H2 || ox >= W2) continue;
        float acc = 0.0f;
        for (int k = 0; k < taps; ++k) acc += hs[k] * mid[ty * IW + 2 * tx0 + k];
        dst[((long long)oy * W2 + ox) * inner] = acc;
    }
}
"""
)

#: The most shared memory ``ia_decimate2x2`` may take (bytes); wider Gaussians run
#: axis by axis.
SHARED_MAX = 48 * 1024


def shared_bytes(taps: int) -> int:
    """Shared memory of one ``ia_decimate2x2`` block for ``taps`` taps."""
    ty, tx = TILE
    iw, ih = 2 * tx + taps - 2, 2 * ty + taps - 2
    return 4 * (ih * iw + ty * iw + taps)


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


_FUNCTIONS: dict = {}
_INT_MAX = 2**31 - 1


def _function(name: str):
    """SOURCE's kernel ``name`` for the current device (compiled once per device; the
    function kept, as a pyramid launches one per layer)."""
    import cupy

    dev = cupy.cuda.Device().id
    fn = _FUNCTIONS.get((dev, name))
    if fn is None:
        mod = _FUNCTIONS.get(dev)
        if mod is None:
            mod = _FUNCTIONS[dev] = cupy.RawModule(code=SOURCE, options=("-std=c++17",))
        fn = _FUNCTIONS[(dev, name)] = mod.get_function(name)
    return fn


@functools.lru_cache(maxsize=64)
def _device_taps(sigma: float, device: int):
    """``taps(sigma)`` in float32 on ``device`` (uploaded once, not per layer)."""
    import cupy

    with cupy.cuda.Device(device):
        return cupy.asarray(taps(sigma).astype(numpy.float32))


def _decimate_gpu(x, axis: int, h, r: int, mode: str, cval: float):
    import cupy

    x = cupy.ascontiguousarray(x, dtype=numpy.float32)
    shape = x.shape
    n = shape[axis]
    inner = math.prod(shape[axis + 1 :])
    y = cupy.empty(shape[:axis] + (n // 2,) + shape[axis + 1 :], numpy.float32)
    total = y.size
    blocks = min((total + 255) // 256, 1 << 20)
    if x.size <= _INT_MAX:
        kernel, i = _function("ia_decimate2_i32"), numpy.int32
    else:
        kernel, i = _function("ia_decimate2"), numpy.int64
    args = (x, y, h, numpy.int32(h.size), numpy.int32(r), i(n), i(inner), i(total))
    args += (numpy.int32(MODE_CODES[mode]), numpy.float32(cval))
    kernel((blocks,), (256,), args)
    return y


def _plane_pair(shape: tuple, axes: list, taps_: int):
    """(outer, H, W, inner) where ``axes`` are two neighbouring axes that
    ``ia_decimate2x2`` can take at once (grid and shared memory in bounds), else None."""
    if len(axes) != 2 or axes[1] != axes[0] + 1 or shared_bytes(taps_) > SHARED_MAX:
        return None
    a = axes[0]
    outer, inner = math.prod(shape[:a]), math.prod(shape[a + 2 :])
    h, w = shape[a], shape[a + 1]
    if outer * inner > 65535 or math.prod(shape) > _INT_MAX or h // 2 > 65535 * TILE[0]:
        return None
    return outer, h, w, inner


def _decimate2x2_gpu(x, axes: list, plane: tuple, h, r: int, mode: str, cval: float):
    import cupy

    outer, hh, ww, inner = plane
    x = cupy.ascontiguousarray(x, dtype=numpy.float32)
    shape = list(x.shape)
    shape[axes[0]], shape[axes[1]] = hh // 2, ww // 2
    y = cupy.empty(tuple(shape), numpy.float32)
    ty, tx = TILE
    grid = (-(-(ww // 2) // tx), -(-(hh // 2) // ty), outer * inner)
    args = (x, y, h, numpy.int32(h.size), numpy.int32(r), numpy.int32(hh), numpy.int32(ww))
    args += (numpy.int32(inner), numpy.int32(MODE_CODES[mode]), numpy.float32(cval))
    _function("ia_decimate2x2")(grid, (32, 8, 1), args, shared_mem=shared_bytes(h.size))
    return y


def reduce2(image, axes: list, sigma: float, mode: str, cval: float, xp):
    """scikit-image's ``pyramid_reduce(image, 2, sigma, mode=mode, cval=cval)`` of a
    float image whose spatial ``axes`` are all even (:func:`applies`), with ``xp``
    (NumPy: :func:`decimate_host`; CuPy: the kernels, float32: two neighbouring axes
    in one pass where they fit, else one pass per axis)."""
    out = image
    if xp is numpy:
        h = taps(sigma)
        r = (h.size - 2) // 2
        for ax in axes:
            out = decimate_host(out, ax, h, r, mode, cval)
        return out
    h32 = _device_taps(float(sigma), xp.cuda.Device().id)  # made once per sigma
    r = (h32.size - 2) // 2
    plane = _plane_pair(tuple(image.shape), list(axes), h32.size)
    if plane is not None:
        return _decimate2x2_gpu(out, list(axes), plane, h32, r, mode, cval)
    for ax in axes:
        out = _decimate_gpu(out, ax, h32, r, mode, cval)
    return out
