"""CUDA sources of the order=3 prefilter's passes (:func:`_spline.prefilter_axes`):
the cubic B-spline's inverse filter, whose impulse response is ``sqrt(3) * z**|k|``
(``z = sqrt(3) - 2``), along one axis of float32 samples, the signal extended by the
boundary rule ``mode``, truncated at ``FIR_HALF`` samples each side of a stretch.
Each thread holds a window of ``FIR_HALF`` samples each side of the ones it makes
and computes them by :func:`_fir_sums`: with :data:`RECURSIVE`, in stretches of
:data:`CHUNK` (aligned on the line) by the recursive filter's two passes, each
started ``FIR_HALF`` samples away; else each as the truncated impulse response's
sum. Every source computes a sample the same way, so each pass and each way of
cutting it into threads gives the same bits."""

from __future__ import annotations

import functools

from imagearray.ndimage import _cubic, _modes

FIR_HALF = 16  # samples each side of a thread's outputs its window holds
_POLE = 3.0**0.5 - 2.0
# The samples of a thread made by the causal and anticausal recursions of the
# factored filter, 6 / ((1 - z/q)(1 - z q)) (Unser's), in stretches of CHUNK: the
# causal one runs from FIR_HALF samples before the stretch, the anticausal one from
# FIR_HALF after it (its start a sum over those causal values): 3 * FIR_HALF + 23
# fused multiply-adds for 8 samples instead of 33 instructions a sample, the same
# values within float32 rounding and 1.2e-9 of the largest sample. False: the
# impulse response's 2 * FIR_HALF + 1 taps a sample.
RECURSIVE = True
CHUNK = 8  # samples a thread makes are whole stretches of CHUNK (see RECURSIVE)
# Blocks of the plane pass (fir_plane_source) an SM must hold at once: the
# registers a thread may take, __launch_bounds__'s second argument (0: no bound). Left
# free the recursive pass takes 64 (4 blocks of 256 threads an SM, where its 37 KB of
# shared memory leave room for 6); at 5, 48 registers (NVRTC, sm_90: no spills for
# mirror, 4 and 24 bytes for grid-wrap and reflect). At 5 the 256^3 prefilter took
# 0.195 ms against 0.183 at 0 (H100, two runs of benchmarks/ndimage.py, not one: to be
# compared in one run, tools/probes/prefilter_passes.py).
PLANE_BLOCKS = 0
_LAMBDA = 12.0 - 6.0 * 3.0**0.5  # the recursions' gain: 6 (-z) = sqrt(3) (1 - z**2)


def _fir_prelude(mode: str, recursive: bool | None) -> tuple[str, str, bool]:
    """What every prefilter source starts from: the mode codes (``#define`` lines, FM
    the pass's boundary), the declaration of the filter's constants (the
    recursion's pole powers, or the impulse response's ``FIR_HALF + 1`` weights) and
    whether the recursions make the samples (``recursive``; None: :data:`RECURSIVE`)."""
    recursive = RECURSIVE if recursive is None else recursive
    codes = [f"#define M_{m.upper().replace('-', '_')} {c}" for m, c in _modes.MODE_CODES.items()]
    codes.append(f"#define FM {_modes.MODE_CODES[mode]}")
    if recursive:
        zp = ", ".join(f"{_POLE**k!r}f" for k in range(FIR_HALF))
        consts = f"const float zp[H] = {{{zp}}};  // z**m"
        codes += [f"#define ZP {_POLE!r}f", f"#define LAMBDA {_LAMBDA!r}f"]
    else:
        w = ", ".join(f"{3.0**0.5 * _POLE**k!r}f" for k in range(FIR_HALF + 1))
        consts = f"const float w[H + 1] = {{{w}}};"
    return "\n".join(codes), consts, recursive


def _fir_sums(out: str, recursive: bool) -> str:
    """The ``RUN`` outputs of a thread's window ``win`` (``win[H + r]`` is output
    ``r``'s sample), each stored by ``out(v, r)``: by stretches of CHUNK (``RUN`` a
    multiple of it, the first output at a multiple of it on the line) through the
    two recursions (:data:`RECURSIVE`), or each by its taps, the outermost first."""
    if not recursive:
        return f"""#pragma unroll
    for (int r = 0; r < RUN; r++) {{
        float acc = 0.f;
#pragma unroll
        for (int k = H; k >= 1; k--) acc += w[k] * (win[H + r - k] + win[H + r + k]);
        {out}(acc + w[0] * win[H + r], r);
    }}"""
    return f"""static_assert(RUN % {CHUNK} == 0, "a thread's outputs are whole stretches");
#pragma unroll
    for (int c = 0; c < RUN; c += {CHUNK}) {{
        float p = win[c];  // the causal recursion from H samples before the stretch
#pragma unroll
        for (int k = c + 1; k < c + H; k++) p = fmaf(ZP, p, win[k]);
        float cp[{CHUNK}];
#pragma unroll
        for (int k = 0; k < {CHUNK}; k++) {{
            p = fmaf(ZP, p, win[c + H + k]);
            cp[k] = p;
        }}
        float a = 0.f;  // the anticausal one's start: sum_m z**m causal(after + m)
#pragma unroll
        for (int m = 0; m < H; m++) {{
            p = fmaf(ZP, p, win[c + H + {CHUNK} + m]);
            a = fmaf(zp[m], p, a);
        }}
#pragma unroll
        for (int k = {CHUNK} - 1; k >= 0; k--) {{
            a = fmaf(ZP, a, cp[k]);
            {out}(LAMBDA * a, c + k);
        }}
    }}"""


def fir_source(
    mode: str,
    run: int = CHUNK,
    surface: bool = False,
    lanes: int = 16,
    halo: int = 0,
    hmode: str = "",
    recursive: bool | None = None,
) -> str:
    """CUDA source of one prefilter pass (``ia_bspline3``) with boundary ``mode``: each
    thread makes ``run`` consecutive samples of one line, from a window of the
    ``run + 2 * FIR_HALF`` samples around them held in registers (folded by the mode
    where the window leaves the line), each sum in the same order as one sample a
    thread (:func:`_fir_sums`). ``surface``: the pass along the first axis of one
    single-channel volume ``(n, h, w)``, writing sample ``(z, y, x)`` through the
    surface object ``surf`` of a 3D float32 CUDA array instead of to ``dst``; blocks
    of 256 threads over (x, y) tiles of ``lanes`` x ``256 / lanes``, grid z the runs.
    ``halo`` (surface only): the CUDA array is ``halo`` texels larger on each side of
    each axis, and texel ``i + halo`` of an axis holds coefficient ``fold(i)`` by the
    rule ``hmode`` (the order-3 kernels' spline boundary) for ``-halo <= i < n +
    halo``: the grid covers the x and y of the border too (each such thread makes its
    folded line), and a thread writes each of its samples also to the border planes
    that fold to it."""
    codes, consts, rec = _fir_prelude(mode, recursive)
    if surface:
        head = """const unsigned long long surf, const int h, const int width, const int n)"""
        where = f"""const int xo = blockIdx.x * {lanes} + (int)(threadIdx.x % {lanes}) - HALO;
    const int yo = blockIdx.y * {256 // lanes} + (int)(threadIdx.x / {lanes}) - HALO;
    if (xo >= width + HALO || yo >= h + HALO) return;
    const int x = HALO ? fold<HM>(xo, width) : xo, y = HALO ? fold<HM>(yo, h) : yo;
    const long long stride = (long long)h * width;
    const long long base = (long long)y * width + x;
    const int t0 = blockIdx.z * RUN;
    int border[2 * HALO + 1];  // the sample each border plane holds
#pragma unroll
    for (int j = 0; j < HALO; j++) {{
        border[j] = fold<HM>(j - HALO, n);
        border[HALO + j] = fold<HM>(n + j, n);
    }}"""
        store = """if (t0 + r < n) { \\
        surf3Dwrite(v, surf, (xo + HALO) * 4, yo + HALO, t0 + r + HALO); \\
        for (int j = 0; j < 2 * HALO; j++) if (border[j] == t0 + r) \\
            surf3Dwrite(v, surf, (xo + HALO) * 4, yo + HALO, j < HALO ? j : n + j); \\
    }"""
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
    hm = _modes.MODE_CODES[hmode] if halo else 0
    rule = f"#define HALO {halo}\n#define HM {hm}"
    return f"""{codes}
#define H {FIR_HALF}
#define RUN {run}
{rule if surface else ""}
#define STORE(v, r) {store}
{_cubic.FOLD}
extern "C" __global__ void ia_bspline3(const float* __restrict__ src, {head}
{{
    {consts}
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
    {_fir_sums("STORE", rec)}
}}
"""


def fir_rows_source(mode: str, tile: int, recursive: bool | None = None) -> str:
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
    codes, consts, rec = _fir_prelude(mode, recursive)
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
    {consts}
    __shared__ float s[R * P];
    const long long segs = (n + NT - 1) / NT;
    const long long line0 = (long long)(blockIdx.x / segs) * R;
    const int t0 = (int)(blockIdx.x % segs) * NT;
    if (t0 >= H && t0 + NT + H <= n) {{  // the whole window inside the lines: no folds
        for (int k = threadIdx.x; k < R * (NT + 2 * H); k += 256) {{
            const int r = k / (NT + 2 * H), c = k - r * (NT + 2 * H);
            if (line0 + r < lines) s[r * P + c] = __ldg(src + (line0 + r) * n + t0 - H + c);
        }}
    }} else {{
        for (int k = threadIdx.x; k < R * (NT + 2 * H); k += 256) {{
            const int r = k / (NT + 2 * H), c = k - r * (NT + 2 * H);
            const int t = t0 - H + c, f = (t >= 0 && t < n) ? t : fold<FM>(t, n);
            if (line0 + r < lines) s[r * P + c] = __ldg(src + (line0 + r) * n + f);
        }}
    }}
    __syncthreads();
    const int r = (threadIdx.x & 7) + (int)((threadIdx.x >> 3) / SEGS) * 8;
    const int seg = (threadIdx.x >> 3) % SEGS;
    float win[RUN + 2 * H];
#pragma unroll
    for (int k = 0; k < RUN + 2 * H; k++) win[k] = s[r * P + seg * 8 + k];
    float o[RUN];
    {_fir_sums("STORE", rec)}
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


def fir_plane_source(
    mode: str, tile: int, recursive: bool | None = None, blocks: int | None = None
) -> str:
    """CUDA source of the prefilter's passes along the last two axes at once
    (``ia_bspline3_plane``, 256 threads a block) of float32 samples ``(planes, h, w)``,
    C-contiguous: block (bx, by, plane) makes the ``tile`` x ``tile`` outputs from
    row ``by * tile`` and column ``bx * tile`` of its plane. It loads the
    ``tile + 2 * FIR_HALF`` square around them (rows and columns folded by the mode
    outside the plane) into shared memory by coalesced reads, filters each of its
    rows along x there (a window of 8 samples a thread, as :func:`fir_rows_source`;
    rows ``tile + 2 * FIR_HALF + 1`` apart: a warp's reads in 32 banks), then each
    column of those along y (8 a thread, a warp on 32 neighbouring columns) and
    stores the outputs coalesced. Every sum is :func:`_fir_sums`' of the same
    floats as the pass along x followed by the pass along y: their bits, with one
    read and one write of the volume instead of two each. ``blocks``: the blocks an SM
    holds at once, at least (:data:`PLANE_BLOCKS` where None)."""
    if tile not in (32, 64):
        raise ValueError(f"PLANE_TILE must be 32 or 64, not {tile}")
    codes, consts, rec = _fir_prelude(mode, recursive)
    blocks = PLANE_BLOCKS if blocks is None else blocks
    bounds = f"256, {blocks}" if blocks else "256"
    return f"""{codes}
#define H {FIR_HALF}
#define NT {tile}
#define E (NT + 2 * H)
#define P (E + 1)
#define RUN 8
{_cubic.FOLD}
__device__ __forceinline__ int at(int t, int n) {{ return (t >= 0 && t < n) ? t : fold<FM>(t, n); }}
// the x pass's task: (row r, segment seg of 8 outputs); a warp: 8 rows x 4 segments
__device__ __forceinline__ int xseg(int task) {{
    return ((task & 31) >> 3) + 4 * ((task >> 5) % (NT / 32));
}}
__device__ __forceinline__ int xrow(int task) {{
    return (task & 7) + 8 * ((task >> 5) / (NT / 32));
}}
extern "C" __global__ void __launch_bounds__({bounds}) ia_bspline3_plane(
    const float* __restrict__ src, float* __restrict__ dst, const int h, const int width)
{{
    {consts}
    __shared__ float s[E * P];  // the input square, then its rows filtered along x
    const int x0 = blockIdx.x * NT, y0 = blockIdx.y * NT;
    const long long plane = (long long)blockIdx.z * h * width;
    // every load of a thread issued before any is used (the loop unrolled)
    const bool aligned = width % 4 == 0 && (reinterpret_cast<unsigned long long>(src) & 15) == 0;
    if (aligned && x0 >= H && x0 + NT + H <= width && y0 >= H && y0 + NT + H <= h) {{
        // inside the plane, rows 16-byte aligned: float4 reads, no folds
        float4 v[E * E / 1024];
#pragma unroll
        for (int i = 0; i < E * E / 1024; i++) {{
            const int k = threadIdx.x + 256 * i, r = k / (E / 4), c = (k - r * (E / 4)) * 4;
            const float* p = src + plane + (long long)(y0 - H + r) * width + x0 - H + c;
            v[i] = __ldg(reinterpret_cast<const float4*>(p));
        }}
#pragma unroll
        for (int i = 0; i < E * E / 1024; i++) {{
            const int k = threadIdx.x + 256 * i, r = k / (E / 4), c = (k - r * (E / 4)) * 4;
            float* q = s + r * P + c;
            q[0] = v[i].x, q[1] = v[i].y, q[2] = v[i].z, q[3] = v[i].w;
        }}
    }} else {{
#pragma unroll
        for (int half = 0; half < 2; half++) {{
            float v[E * E / 512];
#pragma unroll
            for (int i = 0; i < E * E / 512; i++) {{
                const int k = threadIdx.x + 256 * (i + half * (E * E / 512)), r = k / E;
                const long long row = plane + (long long)at(y0 - H + r, h) * width;
                v[i] = __ldg(src + row + at(x0 - H + k - r * E, width));
            }}
#pragma unroll
            for (int i = 0; i < E * E / 512; i++) {{
                const int k = threadIdx.x + 256 * (i + half * (E * E / 512)), r = k / E;
                s[r * P + k - r * E] = v[i];
            }}
        }}
    }}
    __syncthreads();
    // along x: the tasks q of this thread (xseg, xrow)
    float xo[(E * (NT / 8) + 255) / 256][RUN];
#pragma unroll
    for (int q = 0; q < (E * (NT / 8) + 255) / 256; q++) {{
        const int task = threadIdx.x + 256 * q, seg = xseg(task), r = xrow(task);
        if (task < E * (NT / 8)) {{
            float win[RUN + 2 * H];
#pragma unroll
            for (int k = 0; k < RUN + 2 * H; k++) win[k] = s[r * P + seg * 8 + k];
#define STORE(v, i) xo[q][i] = v
            {_fir_sums("STORE", rec)}
#undef STORE
        }}
    }}
    __syncthreads();
#pragma unroll
    for (int q = 0; q < (E * (NT / 8) + 255) / 256; q++) {{
        const int task = threadIdx.x + 256 * q, seg = xseg(task), r = xrow(task);
        if (task < E * (NT / 8)) {{
#pragma unroll
            for (int i = 0; i < RUN; i++) s[r * P + seg * 8 + i] = xo[q][i];
        }}
    }}
    __syncthreads();
    // along y: task = (column, segment of 8 outputs); a warp: 32 neighbouring columns
    for (int task = threadIdx.x; task < NT * (NT / 8); task += 256) {{
        const int c = task % NT, seg = task / NT;
        float win[RUN + 2 * H];
#pragma unroll
        for (int k = 0; k < RUN + 2 * H; k++) win[k] = s[(seg * 8 + k) * P + c];
        const int x = x0 + c;
        float* out = dst + plane + (long long)(y0 + seg * 8) * width + x;
#define STORE(v, i) if (x < width && y0 + seg * 8 + i < h) out[(long long)(i) * width] = v
        {_fir_sums("STORE", rec)}
#undef STORE
    }}
}}
"""


def fir_plane(mode: str, tile: int):
    return _kernel("ia_bspline3_plane", fir_plane_source, mode, tile, RECURSIVE, PLANE_BLOCKS)


def fir_rows(mode: str, tile: int):
    return _kernel("ia_bspline3_rows", fir_rows_source, mode, tile, RECURSIVE)


def fir(mode: str, run: int = CHUNK, surface: bool = False, lanes: int = 16, halo=0, hmode=""):
    return _kernel("ia_bspline3", fir_source, mode, run, surface, lanes, halo, hmode, RECURSIVE)


@functools.lru_cache(maxsize=64)
def _kernel(name: str, source, *args):
    import cupy

    return cupy.RawKernel(source(*args), name, options=("-std=c++17",))
