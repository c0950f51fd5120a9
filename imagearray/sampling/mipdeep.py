"""The deep first pass of ``generate_mipmaps`` (2D, layered 2D and cubemaps): one launch
makes up to seven levels from level 0, where the wide pass of
:mod:`~imagearray.sampling.mipwide` makes three. Each block owns a tile of
``32 * OX`` x ``8 * ROWS`` texels of the first level it makes: every thread makes
``OX`` texels of each of ``ROWS`` rows from 16-byte surface reads (the wide pass's
reads and arithmetic, all of a thread's reads issued before their values are used),
keeps the tile in shared memory as stored (the storage type's bytes), writes it, and
makes each further level of the tile from the one before in shared memory, down to a
tile one texel high or wide.

A 4096^2 float32 chain is then two launches (this pass to 32 x 32, then one fused
block for the rest) instead of three, and the levels below the first are made while
level 0 is still being read by other blocks: the separate passes of 512^2 and 64^2
texels, which ran on a nearly idle GPU for ~11 us of a 46 us chain (H100), would be
gone. Measured, it is slower (:data:`ROWS`); not profiled yet: the likely cause is
that its blocks, each holding a tile in shared memory until its last row has come
in, keep fewer reads of level 0 in flight than the wide pass does.

Every texel is computed as the wide pass and ``down()`` compute it (box() of
``mipkernels`` for even levels: taps rows outer, x inner, weight 0.25, one fused
multiply-add per tap from 0, rounded to the storage type once), from the stored values
of the level above: the per-level filter's bits.
"""

from __future__ import annotations

import numpy

from imagearray.sampling import mipkernels as mk
from imagearray.sampling import mipwide as mw

__all__ = [
    "MAX_LEVELS",
    "ROWS",
    "deep_grid",
    "deep_kernel",
    "deep_levels",
    "deep_source",
]

#: Rows of the first level each thread makes (the block's tile is 8 * ROWS rows);
#: 0: no deep pass (the chain starts with wide passes), the default: on the H100
#: (``tools/probes/mip_variants.py``) a 4096^2 float32 chain takes 57.5 us with
#: ROWS=8 and 51.5 us with ROWS=4 against 45.7 us for the wide passes, an 8192^2
#: RGBA8 chain 170 us against 136 us; the levels are the same bits every way
#: (``test_mipgen_fused_gpu``, ways ``deep8`` and ``deep4``).
ROWS = 0

#: The most levels one deep pass makes (the size of its destination list).
MAX_LEVELS = 8

# a thread's reads issued together: this many rows' taps (2 rows of 16-byte reads each)
_CHUNK = 4

_DEEP = r"""
#define OX {ox}      // texels of the first level made per thread and row
#define NR {nr}      // 16-byte reads per row of taps
#define NWR {nwr}    // writes of WT per thread and row
#define ROWS {rows}  // rows of the first level per thread
#define CHUNK {chunk}  // rows whose reads are issued together
#define MAXLV {maxlv}
#define BX 32
#define BY 8
#define NT (BX * BY)
#define TW (BX * OX)    // the block's tile of the first level made: TW x TH texels
#define TH (BY * ROWS)
#define TB ((int)sizeof(RT))
typedef {wt} WT;     // one write
struct IaDeepDst {{ unsigned long long v[MAXLV]; }};

{io16}__device__ __forceinline__ void wrt(unsigned long long s, RT r, int x, int y, int L) {{
    (void)L;
    {writet};
}}
__device__ __forceinline__ void to_raw(const float* a, RT* r) {{
    ST o[C];
#pragma unroll
    for (int c = 0; c < C; ++c) o[c] = store(a[c]);
    memcpy(r, o, sizeof(RT));
}}

// Tile of the first level in shared memory: row-major, TW texels a row (as stored),
// then each level below it, packed (TW x TH / 4, ...).
#define SMT ((TW * TH * 4 + 2) / 3 + TW)

extern "C" __global__ void __launch_bounds__(NT) ia_mipgen_deep(
    unsigned long long src, IaDeepDst dst, int dw, int dh, int nlev)
{{
    __shared__ __align__(16) RT sm[SMT];
    const int tx = threadIdx.x, ty = threadIdx.y, tid = ty * BX + tx;
    const int x0 = blockIdx.x * TW, y0 = blockIdx.y * TH;
    const int x = x0 + tx * OX;
#if LAYERED
    const int L = blockIdx.z;
#else
    const int L = 0;
#endif
    const int rx = min(TW, dw - x0), ry = min(TH, dh - y0);  // the tile, clipped
    const float w = 0.25f;  // box()'s 0.5 * 0.5 for an even level
    const bool whole = x + OX <= dw;  // else the row's last texels one by one
    // the first level: every tap row of CHUNK rows read, then their arithmetic
#pragma unroll
    for (int r0 = 0; r0 < ROWS; r0 += CHUNK) {{
        uint4 raw[CHUNK][2 * NR];
#pragma unroll
        for (int r = 0; r < CHUNK; ++r) {{
            const int y = y0 + (r0 + r) * BY + ty;
            if (whole && y < dh)
#pragma unroll
                for (int ky = 0; ky < 2; ++ky)
#pragma unroll
                    for (int q = 0; q < NR; ++q)
                        raw[r][ky * NR + q] = rd16(src, 2 * x * TB + 16 * q, 2 * y + ky, 0, L);
        }}
#pragma unroll
        for (int r = 0; r < CHUNK; ++r) {{
            const int y = y0 + (r0 + r) * BY + ty;
            if (y >= dh || x >= dw) continue;
            RT* row = sm + (y - y0) * TW + (x - x0);
            if (!whole) {{
                for (int i = x; i < dw; ++i) {{
                    float acc[C];
                    box(i, y, 0, 2 * dw, 2 * dh, 1, dw, dh, 1,
                        [&](int a, int b, int c, float* v) {{ rd(src, a, b, c, L, v); }}, acc);
                    to_raw(acc, row + (i - x));
                }}
                continue;
            }}
#pragma unroll
            for (int i = 0; i < OX; ++i) {{
                float acc[C];
#pragma unroll
                for (int c = 0; c < C; ++c) acc[c] = 0.f;
#pragma unroll
                for (int ky = 0; ky < 2; ++ky) {{
                    ST t[2 * OX * C];
                    memcpy(t, &raw[r][ky * NR], sizeof(t));
#pragma unroll
                    for (int kx = 0; kx < 2; ++kx)
#pragma unroll
                        for (int c = 0; c < C; ++c)
                            acc[c] = __fmaf_rn(w, load(t[(2 * i + kx) * C + c]), acc[c]);
                }}
                to_raw(acc, row + i);
            }}
        }}
    }}
    __syncthreads();
    // the first level to its surface, each thread its own texels
#pragma unroll
    for (int r = 0; r < ROWS; ++r) {{
        const int y = y0 + r * BY + ty;
        if (y >= dh || x >= dw) continue;
        const RT* row = sm + (y - y0) * TW + (x - x0);
        if (whole) {{
#pragma unroll
            for (int q = 0; q < NWR; ++q) {{
                WT v;
                memcpy(&v, reinterpret_cast<const char*>(row) + q * sizeof(WT), sizeof(WT));
                wrw(dst.v[0], v, x * TB + q * (int)sizeof(WT), y, 0, L);
            }}
        }} else {{
            for (int i = x; i < dw; ++i) wrt(dst.v[0], row[i - x], i, y, L);
        }}
    }}
    // each level below from the one before, in shared memory
    // (the first level's rows are TW apart; the levels below are packed)
    int off = 0, stride = TW, tw = rx, th = ry, gx = x0, gy = y0, used = TW * TH;
    for (int j = 1; j < nlev; ++j) {{
        const int nw = tw >> 1, nh = th >> 1, noff = off + used;
        gx >>= 1;
        gy >>= 1;
        for (int t = tid; t < nw * nh; t += NT) {{
            const int qx = t % nw, qy = t / nw;
            float acc[C];
#pragma unroll
            for (int c = 0; c < C; ++c) acc[c] = 0.f;
#pragma unroll
            for (int ky = 0; ky < 2; ++ky) {{
                ST t2[2 * C];
                memcpy(t2, sm + off + (2 * qy + ky) * stride + 2 * qx, sizeof(t2));
#pragma unroll
                for (int kx = 0; kx < 2; ++kx)
#pragma unroll
                    for (int c = 0; c < C; ++c)
                        acc[c] = __fmaf_rn(w, load(t2[kx * C + c]), acc[c]);
            }}
            RT v;
            to_raw(acc, &v);
            wrt(dst.v[j], v, gx + qx, gy + qy, L);
            sm[noff + t] = v;
        }}
        __syncthreads();
        off = noff;
        used = stride = nw;
        used *= nh;
        tw = nw;
        th = nh;
    }}
}}
"""


def _rows(texel_bytes: int, rows: int) -> int:
    """Rows a thread makes: ``rows`` (:data:`ROWS` where 0), half for 16-byte texels
    (whose tile is twice the bytes: 32 KiB of shared memory a block otherwise)."""
    rows = rows or ROWS
    return max(1, rows // 2) if texel_bytes > 8 else rows


def _tile(texel_bytes: int, rows: int) -> tuple[int, int]:
    """(TW, TH): a block's tile of the first level it makes."""
    return mw.BLOCK[0] * mw.wide_outputs(texel_bytes), mw.BLOCK[1] * _rows(texel_bytes, rows)


def deep_levels(texel_bytes: int, rows: int = 0) -> int:
    """The most levels a deep pass makes for texels of ``texel_bytes``: the tile's
    first level, then halvings while the tile is at least 2 x 2 (at most
    :data:`MAX_LEVELS`); 0 where :data:`ROWS` (or ``rows``) is 0.

    >>> deep_levels(4, 8), deep_levels(1, 8), deep_levels(16, 8), deep_levels(4, 4)
    (7, 7, 6, 6)
    """
    if not (rows or ROWS):
        return 0
    tw, th = _tile(texel_bytes, rows)
    return min(MAX_LEVELS, min(tw, th).bit_length())  # 1 + log2 of the shorter side


def deep_grid(
    size: tuple[int, int], texel_bytes: int, layers: int, rows: int = 0
) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """(grid, block) making the first level ``size`` (w, h): a block per tile."""
    tw, th = _tile(texel_bytes, rows)
    return ((-(-size[0] // tw), -(-size[1] // th), layers), mw.BLOCK)


def deep_source(dtype: numpy.dtype, channels: int, layered: bool, rows: int = 0) -> str:
    """``ia_mipgen_deep(src, dst, dw, dh, nlev)``: levels s + 1 .. s + nlev from level
    s (``src``) into the surfaces ``dst`` (a struct of :data:`MAX_LEVELS` handles, 0
    past nlev: ``mipkernels.handles``), the first made (dw, dh), every level made but
    the last even; grid :func:`deep_grid`, layers (cubemap faces) in z."""
    dtype = numpy.dtype(dtype)
    tb = dtype.itemsize * channels
    rows = _rows(tb, rows)
    kind = "surf2DLayered" if layered else "surf2D"
    c = ", y, L" if layered else ", y"
    body = _DEEP.format(
        rows=rows,
        chunk=min(_CHUNK, rows),
        maxlv=MAX_LEVELS,
        writet=f"{kind}write<RT>(r, s, x * TB{c})",
        **mw.io_fields(tb, 2, layered),
    )
    return mk._common(dtype, channels, 2, layered) + body


def deep_kernel(dtype_name: str, channels: int, layered: bool, rows: int):
    """The compiled :func:`deep_source` (``rows`` given, as mipgen passes it)."""
    src = deep_source(numpy.dtype(dtype_name), channels, layered, rows)
    return mk.compiled(src, "ia_mipgen_deep")
