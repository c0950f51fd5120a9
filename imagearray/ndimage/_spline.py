"""The B-spline coefficients that ``order=3`` reads: cupyx's prefilter, per
(sample, channel) plane, as float32 (what cupyx's ``_filter_input`` computes for the
input dtypes the textures take).

- ``opencv`` / ``_opencv_edge``: cupyx's map_coordinates pads the input (in its own
  dtype) by one sample of ``cval`` per side and continues with mode ``constant``.
- ``nearest`` and ``grid-constant`` with the prefilter: cupyx pads by 12 samples
  (``edge``; ``cval`` on the float input) before filtering (``nprepad``).
- The prefilter along each spatial axis in turn, with the spline boundary cupyx's
  ``_get_spline_mode`` gives the caller's mode (:data:`FILTER_MODE`): cupyx runs the
  recursive (IIR) filter, one thread per line; here the same filter is its impulse
  response ``sqrt(3) * z**|k|`` (``z = sqrt(3) - 2``) truncated at ``|k| <= 16``
  (``|z|**17 < 2e-10``), one thread per sample over the signal extended by the
  boundary's symmetry (mirror, reflect, periodic), which is what the IIR's
  initial conditions solve for: the same coefficients within float32 rounding, and
  every sample computed in parallel (:func:`prefilter`). Short reflect-family axes
  (fewer than 16 samples), where SciPy's and cupyx's initial condition is itself
  an approximation, take cupyx's ``spline_filter1d``.
"""

from __future__ import annotations

import functools

import numpy

from imagearray.ndimage import _cubic, _modes, _textures

OPENCV_MODES = ("opencv", "_opencv_edge")
NPREPAD = 12  # cupyx's (and SciPy's) padding before filtering nearest / grid-constant
# cupyx's _get_spline_mode: the boundary of the prefilter for each mode it is given
FILTER_MODE = {"mirror": "mirror", "reflect": "reflect", "grid-wrap": "grid-wrap"}
FILTER_MODE |= {"grid-mirror": "reflect", "nearest": "reflect"}
FIR_HALF = 16  # taps each side of the prefilter's truncated impulse response
SHORT_REFLECT = 16  # reflect axes shorter than this: cupyx's recursive filter
_POLE = 3.0**0.5 - 2.0
# False: every axis by cupyx's recursive spline_filter1d (what cupyx computes, the
# way it computes it); True: the parallel truncated filter where it is exact
FAST_PREFILTER = True
# Samples of one line each thread of the parallel prefilter makes (sliding its window
# of 2 * FIR_HALF + PREFILTER_RUN samples along the line: ~5 loads a sample instead
# of 33 at 8); 1: one sample a thread. The same sums either way, bit for bit.
PREFILTER_RUN = 16
# The pass along a contiguous axis (stride 1) by blocks that load segments of
# ROW_TILE samples of 2048 / ROW_TILE lines, with their 2 * FIR_HALF neighbours,
# into shared memory (coalesced; the sliding window's reads would be RUN samples
# apart across a warp on such an axis), each thread then sliding a window of 8
# samples along a segment there (rows padded so that a warp's reads hit 32 banks).
# 32, 64, 128 or 256; 0: that pass as the others. The same sums.
ROW_TILE = 256
# The last pass through a surface: a warp makes SURFACE_LANES neighbouring x of
# 32 / SURFACE_LANES rows (16: a warp's stores cover 64 bytes of 2 rows, within one
# 64-byte-wide tile of the CUDA array's block-linear layout).
SURFACE_LANES = 16


def layout(mode: str, prefilter: bool) -> tuple[str, int]:
    """(the kernel mode of order 3, the coefficients' padding per side)."""
    if mode in OPENCV_MODES:
        return "constant", 1
    if prefilter and mode in ("nearest", "grid-constant"):
        return mode, NPREPAD
    return _modes.kernel_mode(mode), 0


def coefficients(
    x, nshape: tuple, ndim: int, mode: str, cval: float, prefilter: bool, to_image: bool = False
):
    """``(coef, image)``: float32 coefficients of shape ``(nb, *padded spatial,
    channels)`` of ``x`` (a CuPy array of ``nshape`` elements; never modified) as a new
    C-contiguous array, or (``prefilter=False`` on float32 data) ``x`` itself, read
    where it is; ``image`` None. With ``to_image``, where :func:`fills_image` allows,
    ``coef`` is None and ``image`` a scratch-image lease (``_scratch.Lease``) of a
    float32 3D image of the padded volume, whose last prefilter pass wrote it through
    a surface (no copy into a CUDA array afterwards)."""
    import cupy

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
    if not prefilter:
        return (a if a.dtype == numpy.float32 else a.astype(numpy.float32)), None  # read
    if to_image and fills_image(a.shape, ndim, filter_mode):
        lease = _textures.take_scratch(a.shape[1:-1], numpy.float32, 1)
        prefilter_axes(a, ndim, filter_mode, fresh, into=lease.image)
        return None, lease
    return prefilter_axes(a, ndim, filter_mode, fresh), None


def fills_image(shape: tuple, ndim: int, mode: str) -> bool:
    """Whether :func:`prefilter_axes` can write coefficients of ``shape`` (``(nb,
    *spatial, channels)``) into a 3D CUDA array through a surface: one single-channel
    volume whose every axis takes the parallel filter (longer than one sample, and
    not a short reflect axis)."""
    fmode = FILTER_MODE.get(mode, "mirror")
    if ndim != 3 or len(shape) != 5 or shape[0] != 1 or shape[-1] != 1 or not FAST_PREFILTER:
        return False
    return all(n > 1 and not (fmode == "reflect" and n < SHORT_REFLECT) for n in shape[1:4])


def prefilter_axes(a, ndim: int, mode: str, fresh: bool = False, into=None):
    """The cubic B-spline coefficients of ``a`` (``(nb, *spatial, channels)``, any
    float dtype) along spatial axes ndim..1 (the last first) with cupyx's boundary
    for ``mode``, as a new float32 C-contiguous array (``a`` is read, never written;
    ``fresh``: ``a`` is this call's own, so it may be filtered in place). ``into``: a
    float32 3D ``ImageArray`` of the spatial shape (where :func:`fills_image`), which
    the last pass (along axis 1) writes through its surface; returns None then."""
    import cupy
    import cupyx.scipy.ndimage as ndi

    fmode = FILTER_MODE.get(mode, "mirror")
    cur = cupy.ascontiguousarray(a)
    if cur.dtype != numpy.float32:
        cur, fresh = cur.astype(numpy.float32), True
    spare = None
    for axis in range(ndim, 0, -1):
        n = cur.shape[axis]
        if n == 1:
            continue  # cupyx: a line of one sample is its own coefficient
        if not FAST_PREFILTER or fmode == "reflect" and n < SHORT_REFLECT:
            if not fresh:
                cur, fresh = cur.copy(), True
            ndi.spline_filter1d(cur, 3, axis, output=cur, mode=mode)
            continue
        surface = into is not None and axis == 1
        if spare is None and not surface:
            spare = cupy.empty_like(cur)
        stride = int(numpy.prod(cur.shape[axis + 1 :], dtype=numpy.int64))
        size = cur.size
        run = max(1, int(PREFILTER_RUN))
        threads = size // n * -(-n // run)  # every line cut into runs of `run` samples
        block = 256
        grid = ((threads + block - 1) // block,)
        tail = (numpy.int64(threads), numpy.int64(stride), numpy.int32(n))
        if surface:
            surf = numpy.uint64(int(into.surface()))
            h, w = cur.shape[2], cur.shape[3]
            lanes = SURFACE_LANES
            grid = (-(-w // lanes), -(-h // (block // lanes)), -(-n // run))
            tail = (numpy.int32(h), numpy.int32(w), numpy.int32(n))
            _fir(fmode, run, True, lanes)(grid, (block,), (cur, surf, *tail))
            return None
        if stride == 1 and ROW_TILE:
            lines = size // n
            grid = (-(-lines // (2048 // ROW_TILE)) * -(-n // ROW_TILE),)
            _fir_rows(fmode, ROW_TILE)(
                grid, (256,), (cur, spare, numpy.int32(n), numpy.int64(lines))
            )
        else:
            _fir(fmode, run)(grid, (block,), (cur, spare, *tail))
        cur, spare = spare, (cur if fresh else None)
        fresh = True
    if not fresh:
        cur = cur.copy()
    return cur


def _fir_prelude(mode: str) -> tuple[str, str]:
    """What both prefilter sources start from: the mode codes (``#define`` lines, FM
    the pass's boundary) and the impulse response's ``FIR_HALF + 1`` weights as a C
    initializer list."""
    codes = [f"#define M_{m.upper().replace('-', '_')} {c}" for m, c in _modes.MODE_CODES.items()]
    codes.append(f"#define FM {_modes.MODE_CODES[mode]}")
    w = ", ".join(f"{3.0**0.5 * _POLE**k!r}f" for k in range(FIR_HALF + 1))
    return "\n".join(codes), w


def _fir_sums(out: str) -> str:
    """The ``RUN`` sums of a thread's window ``win`` (the outermost taps first, the
    centre last: the same order in every pass), each stored by ``out(v, r)``."""
    return f"""#pragma unroll
    for (int r = 0; r < RUN; r++) {{
        float acc = 0.f;
#pragma unroll
        for (int k = H; k >= 1; k--) acc += w[k] * (win[H + r - k] + win[H + r + k]);
        {out}(acc + w[0] * win[H + r], r);
    }}"""


def fir_source(mode: str, run: int = 1, surface: bool = False, lanes: int = 16) -> str:
    """CUDA source of one prefilter pass (``ia_bspline3``) with boundary ``mode``: each
    thread makes ``run`` consecutive samples of one line, from a window of the
    ``run + 2 * FIR_HALF`` samples around them held in registers (folded by the mode
    where the window leaves the line), each sum in the same order as one sample a
    thread (:func:`_fir_sums`). ``surface``: the pass along the first axis of one
    single-channel volume ``(n, h, w)``, writing sample ``(z, y, x)`` through the
    surface object ``surf`` of a 3D float32 CUDA array instead of to ``dst``; blocks
    of 256 threads over (x, y) tiles of ``lanes`` x ``256 / lanes``, grid z the runs."""
    codes, w = _fir_prelude(mode)
    if surface:
        head = """const unsigned long long surf, const int h, const int width, const int n)"""
        where = f"""const int x = blockIdx.x * {lanes} + (int)(threadIdx.x % {lanes});
    const int y = blockIdx.y * {256 // lanes} + (int)(threadIdx.x / {lanes});
    if (x >= width || y >= h) return;
    const long long stride = (long long)h * width;
    const long long base = (long long)y * width + x;
    const int t0 = blockIdx.z * RUN;"""
        store = "if (t0 + r < n) surf3Dwrite(v, surf, x * 4, y, t0 + r)"
    else:
        head = """float* __restrict__ dst, const long long threads,
                                       const long long stride, const int n)"""
        where = """const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= threads) return;
    // thread i: line (outer, inner), samples t0 .. t0 + RUN - 1 of it
    const long long runs = (n + RUN - 1) / RUN;
    const long long inner = i % stride;
    const long long rest = i / stride;
    const int t0 = (int)(rest % runs) * RUN;
    const long long base = (rest / runs) * (long long)n * stride + inner;"""
        store = "if (t0 + r < n) dst[base + (long long)(t0 + r) * stride] = v"
    return f"""{codes}
#define H {FIR_HALF}
#define RUN {run}
#define STORE(v, r) {store}
{_cubic.FOLD}
extern "C" __global__ void ia_bspline3(const float* __restrict__ src, {head}
{{
    const float w[H + 1] = {{{w}}};
    {where}
    float win[RUN + 2 * H];
    if (t0 >= H && t0 + RUN - 1 + H < n) {{
#pragma unroll
        for (int k = 0; k < RUN + 2 * H; k++)
            win[k] = __ldg(src + base + (long long)(t0 - H + k) * stride);
    }} else {{
#pragma unroll
        for (int k = 0; k < RUN + 2 * H; k++)
            win[k] = __ldg(src + base + (long long)fold<FM>(t0 - H + k, n) * stride);
    }}
    {_fir_sums("STORE")}
}}
"""


def fir_rows_source(mode: str, tile: int) -> str:
    """CUDA source of the prefilter pass along a contiguous axis (``ia_bspline3_rows``,
    256 threads a block): block b makes samples ``t0 .. t0 + tile - 1`` of lines
    ``R * (b / segs) ..`` (``R = 2048 / tile`` lines, ``segs`` blocks a line), from
    the ``tile + 2 * FIR_HALF`` samples around them loaded into shared memory
    (folded by the mode outside the line) by coalesced reads; each thread slides a
    window of 8 samples along one line's segment there (a warp: 8 lines x 4
    segments, whose reads fall in 32 banks as rows are ``tile + 2 * FIR_HALF + 1``
    apart), its sums (:func:`_fir_sums`) go back through shared memory and out
    coalesced: :func:`fir_source`'s bits."""
    if tile not in (32, 64, 128, 256):
        raise ValueError(f"ROW_TILE must be 32, 64, 128 or 256, not {tile}")
    codes, w = _fir_prelude(mode)
    return f"""{codes}
#define H {FIR_HALF}
#define NT {tile}
#define R (2048 / NT)
#define SEGS (NT / 8)
#define P (NT + 2 * H + 1)
#define RUN 8
#define STORE(v, r) o[r] = v
{_cubic.FOLD}
extern "C" __global__ void __launch_bounds__(256) ia_bspline3_rows(
    const float* __restrict__ src, float* __restrict__ dst, const int n, const long long lines)
{{
    const float w[H + 1] = {{{w}}};
    __shared__ float s[R * P];
    const long long segs = (n + NT - 1) / NT;
    const long long line0 = (long long)(blockIdx.x / segs) * R;
    const int t0 = (int)(blockIdx.x % segs) * NT;
    for (int k = threadIdx.x; k < R * (NT + 2 * H); k += 256) {{
        const int r = k / (NT + 2 * H), c = k - r * (NT + 2 * H);
        const int t = t0 - H + c;
        if (line0 + r < lines)
            s[r * P + c] = __ldg(src + (line0 + r) * n + ((t >= 0 && t < n) ? t : fold<FM>(t, n)));
    }}
    __syncthreads();
    const int r = (threadIdx.x & 7) + (int)((threadIdx.x >> 3) / SEGS) * 8;
    const int seg = (threadIdx.x >> 3) % SEGS;
    float win[RUN + 2 * H];
#pragma unroll
    for (int k = 0; k < RUN + 2 * H; k++) win[k] = s[r * P + seg * 8 + k];
    float o[RUN];
    {_fir_sums("STORE")}
    __syncthreads();
#pragma unroll
    for (int q = 0; q < RUN; q++) s[r * P + seg * 8 + q] = o[q];
    __syncthreads();
    for (int k = threadIdx.x; k < R * NT; k += 256) {{
        const int rr = k / NT, c = k - rr * NT;
        if (line0 + rr < lines && t0 + c < n) dst[(line0 + rr) * n + t0 + c] = s[rr * P + c];
    }}
}}
"""


@functools.lru_cache(maxsize=16)
def _fir_rows(mode: str, tile: int):
    import cupy

    src = fir_rows_source(mode, tile)
    return cupy.RawKernel(src, "ia_bspline3_rows", options=("-std=c++17",))


@functools.lru_cache(maxsize=16)
def _fir(mode: str, run: int = 1, surface: bool = False, lanes: int = 16):
    import cupy

    src = fir_source(mode, run, surface, lanes)
    return cupy.RawKernel(src, "ia_bspline3", options=("-std=c++17",))


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
    out = _modes.sum_taps(coef, axes, cval)
    return numpy.where(outside, cval, out).reshape(shape)
