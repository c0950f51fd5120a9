"""CUDA kernels behind ``generate_mipmaps``: the per-level box filter (one launch per
level, also the argument convention of user kernels) and the fused downsampler (one
launch per run of levels, in the spirit of AMD FidelityFX SPD), and the pure plan of
the fused launches.

Both kernels compute every texel with the same device code (``box`` for a texel
read from the level above in memory, the same taps, weights and order of float
operations, written with explicit ``__fmul_rn`` / ``__fmaf_rn`` so that no compiler
choice can make them differ), and both round a level to the storage type before
the next one is made from it: the fused chain equals the per-level chain bit for
bit. Coordinates are texture order (x = width, y = height, z = depth).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy

from imagearray.sampling import pdl
from imagearray.sampling.kernels import _CTYPES, fetch_types

__all__ = [
    "FUSED_THREADS",
    "PREREAD",
    "FusedTile",
    "by_value",
    "fused_grid",
    "fused_kernel",
    "fused_passes",
    "fused_pass_source",
    "fused_source",
    "fused_tile",
    "handles",
    "level_sizes",
    "mipgen_kernel",
    "mipgen_source",
]

#: Threads per block of the fused kernel.
FUSED_THREADS = 256

#: The fused passes' first level (the level read halving evenly) reads every tap of a
#: thread's texels before adding any (``_FIRST_PREREAD``), where it read and added tap
#: by tap: the SASS of ``ia_mipgen_fused`` (sm_90, nvdisasm) showed each row of taps'
#: surface reads waiting on the adds before them, eight round trips to memory for the
#: four texels of a thread, on the critical path of a chain's last, one-block passes.
#: The same bits by construction (the sums in box()'s order). Off until a GPU run has
#: tested and timed it (tests: chain way ``preread``; benchmarks/mipmaps.py settings).
PREREAD = False


@dataclass(frozen=True)
class FusedTile:
    """The region of the first level a pass makes that one block of the fused kernel
    owns (``px`` x ``py`` x ``pz`` texels: twice that of the level it reads), and
    ``kmax``, the most levels one pass makes from it (down to one texel)."""

    px: int
    py: int
    pz: int

    @property
    def texels(self) -> int:
        return self.px * self.py * self.pz

    @property
    def kmax(self) -> int:
        return max(self.px, self.py, self.pz).bit_length()


# 2D: a 64 x 64 tile of the level read, 6 levels (32^2 .. 1) from shared memory; 3D:
# 16^3, 4 levels; 1D: 2048 texels, 11 levels. Each keeps every thread busy on the
# first level (1024 / 512 / 1024 texels for 256 threads).
_TILES = {1: FusedTile(1024, 1, 1), 2: FusedTile(32, 32, 1), 3: FusedTile(8, 8, 8)}


def fused_tile(dims: int) -> FusedTile:
    return _TILES[dims]


def level_sizes(extent: tuple[int, ...], dims: int, levels: int) -> list[tuple[int, ...]]:
    """(w[, h[, d]]) of each level: ``max(1, extent >> level)`` per used axis, as
    ``ImageDescriptor.mip_level_desc`` sizes them."""
    return [tuple(max(1, int(e) >> lv) for e in extent[:dims]) for lv in range(levels)]


def fused_passes(extent: tuple[int, ...], dims: int, levels: int) -> list[tuple[int, int]]:
    """``(s, k)`` of each launch of the fused kernel: it reads level ``s`` and makes
    levels ``s + 1 .. s + k``.

    A pass makes its first level from memory with the general filter (any sizes,
    odd included: up to 3 taps per axis), and each further level from shared
    memory, which is exact only where the level it filters halves evenly (every axis
    even, or 1 and kept): a pass ends before a level with an odd axis > 1, or after
    ``kmax`` levels (the tile is one texel).

    >>> fused_passes((4096, 4096), 2, 13)
    [(0, 6), (6, 6)]
    >>> fused_passes((37, 23), 2, 6)
    [(0, 1), (1, 1), (2, 3)]
    """
    kmax = fused_tile(dims).kmax
    sizes = level_sizes(extent, dims, levels)
    passes, s = [], 0
    while s < levels - 1:
        k = 1
        while s + k < levels - 1 and k < kmax and all(n == 1 or n % 2 == 0 for n in sizes[s + k]):
            k += 1
        passes.append((s, k))
        s += k
    return passes


def fused_grid(
    extent: tuple[int, ...], dims: int, s: int, layers: int
) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """(grid, block) of the pass reading level ``s``: one block per tile of level
    ``s + 1``, layers (and cubemap faces) in z."""
    tile = fused_tile(dims)
    n = level_sizes(extent, dims, s + 2)[s + 1] + (1, 1)
    gz = -(-n[2] // tile.pz) if dims == 3 else layers
    return ((-(-n[0] // tile.px), -(-n[1] // tile.py), gz), (FUSED_THREADS, 1, 1))


# ------------------------------------------------------------------ device code

# One stored channel type ST, one texel RT (an unsigned vector of its bytes), the
# conversions, the surface reads/writes and the box filter of one texel, shared by both
# kernels.
_COMMON = r"""
typedef {st} ST;  // one stored channel
typedef {raw} RT;  // one texel, read and written as an unsigned vector of its size
#define C {channels}
#define DIMS {dims}
#define LAYERED {layered}
__device__ __forceinline__ float load(ST s) {{ return {to_float}; }}
__device__ __forceinline__ ST store(float f) {{ return {from_float}; }}

// Exact box filter: output texel i of an axis n -> m covers input [i*r, (i+1)*r),
// r = n/m, each input texel weighted by its overlap / r; at most 3 taps per axis
// (m = max(1, n/2)). In units of 1/m texel output i is [i*n, (i+1)*n) and input j is
// [j*m, (j+1)*m): integer overlaps, so every weight is exactly overlap / n, rounded once
// (float i * r would misplace the taps' edges and make the weights not sum to 1).
// Even n: taps 2i, 2i+1 with (float)m / (float)(2m) = 0.5 exactly, as the loop gives.
__device__ __forceinline__ int taps(int i, int n, int m, int* j0, float* w) {{
    if (n == 2 * m) {{
        *j0 = 2 * i;
        w[0] = w[1] = 0.5f;
        return 2;
    }}
    int a = i * n, b = a + n;  // i < m <= n / 2, so i * n < 2**29 for n <= 32768
    int first = a / m;
    int k = 0;
    for (int j = first; j < n && j * m < b && k < 3; ++j, ++k) {{
        int lo = max(a, j * m), hi = min(b, (j + 1) * m);
        w[k] = (float)(hi - lo) / (float)n;
    }}
    *j0 = first;
    return k;
}}

// Texel (x, y, z) of layer L (z, or L, unused where the image has none) as C floats.
__device__ __forceinline__ void rd(unsigned long long s, int x, int y, int z, int L, float* v) {{
    (void)y; (void)z; (void)L;
    RT r = {read};
    ST t[C];
    memcpy(t, &r, sizeof(RT));
#pragma unroll
    for (int c = 0; c < C; ++c) v[c] = load(t[c]);
}}
{raw_read}
// Stores a's C floats at texel (x, y, z) of layer L, rounded to the storage type, and
// leaves in a what was stored (as the next level will read it back).
__device__ __forceinline__ void wr(unsigned long long s, int x, int y, int z, int L, float* a) {{
    (void)y; (void)z; (void)L;
    ST o[C];
#pragma unroll
    for (int c = 0; c < C; ++c) o[c] = store(a[c]);
    RT r;
    memcpy(&r, o, sizeof(RT));
    {write};
#pragma unroll
    for (int c = 0; c < C; ++c) a[c] = load(o[c]);
}}

// acc = the box filter of texel (x, y, z) of a level (dw, dh, dd) made from the level
// (sw, sh, sd) that fetch(x, y, z, v) reads: taps z outermost, x innermost, each
// weight (wx * wy) * wz, accumulated with one rounding per tap from 0.
template <class F>
__device__ __forceinline__ void box(int x, int y, int z, int sw, int sh, int sd,
                                    int dw, int dh, int dd, F fetch, float* acc) {{
    (void)y; (void)z; (void)sh; (void)sd; (void)dh; (void)dd;
    float wx[3], wy[3] = {{1.f, 0.f, 0.f}}, wz[3] = {{1.f, 0.f, 0.f}};
    int x0, y0 = y, z0 = z;
    int nx = taps(x, sw, dw, &x0, wx), ny = 1, nz = 1;
#if DIMS >= 2
    ny = taps(y, sh, dh, &y0, wy);
#endif
#if DIMS == 3
    nz = taps(z, sd, dd, &z0, wz);
#endif
#pragma unroll
    for (int c = 0; c < C; ++c) acc[c] = 0.f;
#pragma unroll
    for (int kz = 0; kz < 3; ++kz) {{
        if (kz >= nz) break;
#pragma unroll
        for (int ky = 0; ky < 3; ++ky) {{
            if (ky >= ny) break;
#pragma unroll
            for (int kx = 0; kx < 3; ++kx) {{
                if (kx >= nx) break;
                float t[C];
                fetch(x0 + kx, y0 + ky, z0 + kz, t);
                float w = __fmul_rn(__fmul_rn(wx[kx], wy[ky]), wz[kz]);
#pragma unroll
                for (int c = 0; c < C; ++c) acc[c] = __fmaf_rn(w, t[c], acc[c]);
            }}
        }}
    }}
}}
"""

_PER_LEVEL = r"""
extern "C" __global__ void ia_mipgen(unsigned long long src, unsigned long long dst,
                                     int sw, int sh, int sd, int dw, int dh, int dd,
                                     int layers, int layered)
{
    (void)layers;
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    int y = blockIdx.y * blockDim.y + threadIdx.y;
    int zz = blockIdx.z;  // depth slice, or layer for layered images
    if (x >= dw || y >= dh) return;
    int z = layered ? 0 : zz, L = layered ? zz : 0;
    float acc[C];
    box(x, y, z, sw, sh, sd, dw, dh, dd,
        [&](int i, int j, int k, float* v) { rd(src, i, j, k, L, v); }, acc);
    wr(dst, x, y, z, L, acc);
}
"""

# The fused downsampler. A block owns a PX x PY x PZ region of level s + 1 (clipped at
# the level's edge): it makes those texels from level s in memory with box() (reads
# of neighbouring threads are neighbouring texels), keeps them in shared memory, and
# makes each further level of the pass from the one before in shared memory, which
# is exact because the pass's plan (fused_passes) halves every axis evenly there (or
# keeps an axis of 1): the region of the next level is the region of this one halved,
# and its taps are the pairs (2i, 2i+1) with weight 0.5 (or i with 1), the weights
# box() gives for such sizes. Shared memory holds one float per channel per texel,
# channel-major, so each thread reads its pair of a row as one 8-byte load
# (conflict-free) and writes one float (consecutive threads, consecutive words).
_FUSED = r"""
#define NT {threads}
#define PX {px}
#define PY {py}
#define PZ {pz}
#define KMAX {kmax}
#define TILE (PX * PY * PZ)
#define SMS {sms}  // floats per channel: every level of a tile, padded to 32 words

__device__ __forceinline__ int half_of(int n) {{ return n > 1 ? n >> 1 : 1; }}

// One block's pass (block (bx, by, bzl): bzl is the layer of layered images; thread tid
// of NT), into ``sm`` (C * SMS floats of shared memory): also the tail stages of the
// one-launch chain (mipchain), which run it for a block index of their own.
__device__ {inline} void fused_pass(float* sm, unsigned long long src,
                                           const unsigned long long* dst, int sw, int sh,
                                           int sd, int nlev, int bx, int by, int bzl, int tid)
{{
#if LAYERED
    const int L = bzl, bz = 0;
#else
    const int L = 0, bz = bzl;
#endif
    // level s + 1, and the block's region of it: origin (ox, oy, oz), extent (rx, ry, rz)
    int nw = half_of(sw), nh = half_of(sh), nd = half_of(sd);
    int ox = bx * PX, oy = by * PY, oz = bz * PZ;
    int rx = min(PX, nw - ox), ry = min(PY, nh - oy), rz = min(PZ, nd - oz);

    // level s + 1 from level s in memory. Where level s halves evenly (the usual
    // case; the same for every block) its taps are the pairs box() would find, with
    // weights 0.5 (or the texel itself, 1, on an axis of 1), so they are read without
    // taps()' arithmetic: a product of 0.5s and 1s is exact, box()'s (wx * wy) * wz.
    const int ex = sw > 1 ? 2 : 1, ey = sh > 1 ? 2 : 1, ez = sd > 1 ? 2 : 1;
    const bool even = sw % ex == 0 && sh % ey == 0 && sd % ez == 0;
    const float we = (ex == 2 ? 0.5f : 1.f) * (ey == 2 ? 0.5f : 1.f) * (ez == 2 ? 0.5f : 1.f);
    // every texel's reads first, then the writes: a surface write keeps the surface
    // reads after it waiting behind it, so reads and writes in turn would wait for
    // memory TILE / NT times over (a pass over a few blocks, the chain's last, is that
    // latency)
{first_level}#pragma unroll
    for (int k = 0; k < TILE / NT; ++k) {{
        const int t = tid + k * NT;
        const int x = t % PX, y = (t / PX) % PY, z = t / (PX * PY);
        if (mine[k]) {{
            wr(dst[0], ox + x, oy + y, oz + z, L, acc[k]);
            const int o = (z * ry + y) * rx + x;
#pragma unroll
            for (int c = 0; c < C; ++c) sm[c * SMS + o] = acc[k][c];
        }}
    }}

    // levels s + 2 .. s + nlev from the level before, in shared memory
    int off = 0, cap = TILE;
    for (int j = 1; j < nlev; ++j) {{
        __syncthreads();
        const int fx = nw > 1 ? 2 : 1, fy = nh > 1 ? 2 : 1, fz = nd > 1 ? 2 : 1;
        // products of 0.5 and 1: exact, the (wx * wy) * wz of box()
        const float w = (fx == 2 ? 0.5f : 1.f) * (fy == 2 ? 0.5f : 1.f) * (fz == 2 ? 0.5f : 1.f);
        const int qx = rx / fx, qy = ry / fy, qz = rz / fz;
        const int noff = off + cap;
        ox /= fx; oy /= fy; oz /= fz;
        const int cnt = qx * qy * qz;
        for (int t = tid; t < cnt; t += NT) {{
            const int x = t % qx, y = (t / qx) % qy, z = t / (qx * qy);
            float acc[C];
#pragma unroll
            for (int c = 0; c < C; ++c) acc[c] = 0.f;
            for (int kz = 0; kz < fz; ++kz)
                for (int ky = 0; ky < fy; ++ky) {{
                    const int b = off + ((z * fz + kz) * ry + (y * fy + ky)) * rx + x * fx;
                    if (fx == 2) {{
#pragma unroll
                        for (int c = 0; c < C; ++c) {{
                            const float2 p = *reinterpret_cast<const float2*>(&sm[c * SMS + b]);
                            acc[c] = __fmaf_rn(w, p.x, acc[c]);
                            acc[c] = __fmaf_rn(w, p.y, acc[c]);
                        }}
                    }} else {{
#pragma unroll
                        for (int c = 0; c < C; ++c) acc[c] = __fmaf_rn(w, sm[c * SMS + b], acc[c]);
                    }}
                }}
            wr(dst[j], ox + x, oy + y, oz + z, L, acc);
            const int o = noff + (z * qy + y) * qx + x;
#pragma unroll
            for (int c = 0; c < C; ++c) sm[c * SMS + o] = acc[c];
        }}
        off = noff;
        cap >>= DIMS;
        rx = qx; ry = qy; rz = qz;
        nw = half_of(nw); nh = half_of(nh); nd = half_of(nd);
    }}
}}
"""

# The first level of a fused pass, tap by tap (PREREAD off): each texel's taps read
# and added in turn, which waits for memory once per row of taps.
_FIRST_TAPS = r"""    float acc[TILE / NT][C];
    bool mine[TILE / NT];
#pragma unroll
    for (int k = 0; k < TILE / NT; ++k) {
        const int t = tid + k * NT;
        const int x = t % PX, y = (t / PX) % PY, z = t / (PX * PY);
        mine[k] = x < rx && y < ry && z < rz;
        if (mine[k]) {
            const int gx = ox + x, gy = oy + y, gz = oz + z;
            if (even) {
#pragma unroll
                for (int c = 0; c < C; ++c) acc[k][c] = 0.f;
#pragma unroll
                for (int kz = 0; kz < 2; ++kz)
#pragma unroll
                    for (int ky = 0; ky < 2; ++ky) {
                        if (kz >= ez || ky >= ey) continue;
#pragma unroll
                        for (int kx = 0; kx < 2; ++kx)
                            if (kx < ex) {
                                float v[C];
                                rd(src, ex * gx + kx, ey * gy + ky, ez * gz + kz, L, v);
#pragma unroll
                                for (int c = 0; c < C; ++c)
                                    acc[k][c] = __fmaf_rn(we, v[c], acc[k][c]);
                            }
                    }
            } else {
                box(gx, gy, gz, sw, sh, sd, nw, nh, nd,
                    [&](int i, int j, int q, float* v) { rd(src, i, j, q, L, v); }, acc[k]);
            }
        }
    }
"""

# PREREAD on: where the level read halves evenly, every tap of this thread's texels is
# read (as stored, RT) in straight-line code before any is added, so the reads are in
# flight together; then the sums, in box()'s order (the same bits). A tap past an axis
# of 1 reads the tap before it, and a texel outside the tile the level's last texel
# (clamped): in bounds either way, and neither is added. The odd levels as before.
_FIRST_PREREAD = r"""    float acc[TILE / NT][C];
    bool mine[TILE / NT];
    if (even) {
        const int TY = DIMS >= 2 ? 2 : 1, TZ = DIMS == 3 ? 2 : 1;  // taps per axis
        RT raw[TILE / NT][4 * TZ];
#pragma unroll
        for (int k = 0; k < TILE / NT; ++k) {
            const int t = tid + k * NT;
            const int x = t % PX, y = (t / PX) % PY, z = t / (PX * PY);
            mine[k] = x < rx && y < ry && z < rz;
            const int gx = min(ox + x, nw - 1), gy = min(oy + y, nh - 1);
            const int gz = min(oz + z, nd - 1);
#pragma unroll
            for (int kz = 0; kz < TZ; ++kz)
#pragma unroll
                for (int ky = 0; ky < TY; ++ky)
#pragma unroll
                    for (int kx = 0; kx < 2; ++kx)
                        raw[k][(kz * TY + ky) * 2 + kx] =
                            rdr(src, ex * gx + (kx < ex ? kx : 0), ey * gy + (ky < ey ? ky : 0),
                                ez * gz + (kz < ez ? kz : 0), L);
        }
#pragma unroll
        for (int k = 0; k < TILE / NT; ++k) {
            if (!mine[k]) continue;
#pragma unroll
            for (int c = 0; c < C; ++c) acc[k][c] = 0.f;
#pragma unroll
            for (int kz = 0; kz < TZ; ++kz)
#pragma unroll
                for (int ky = 0; ky < TY; ++ky) {
                    if (kz >= ez || ky >= ey) continue;
#pragma unroll
                    for (int kx = 0; kx < 2; ++kx)
                        if (kx < ex) {
                            float v[C];
                            unpack(raw[k][(kz * TY + ky) * 2 + kx], v);
#pragma unroll
                            for (int c = 0; c < C; ++c)
                                acc[k][c] = __fmaf_rn(we, v[c], acc[k][c]);
                        }
                }
        }
    } else {
#pragma unroll
        for (int k = 0; k < TILE / NT; ++k) {
            const int t = tid + k * NT;
            const int x = t % PX, y = (t / PX) % PY, z = t / (PX * PY);
            mine[k] = x < rx && y < ry && z < rz;
            if (mine[k])
                box(ox + x, oy + y, oz + z, sw, sh, sd, nw, nh, nd,
                    [&](int i, int j, int q, float* v) { rd(src, i, j, q, L, v); }, acc[k]);
        }
    }
"""

# With PREREAD: texel (x, y, z) of layer L as stored, and a stored texel as C floats.
_RAW_READ = r"""
__device__ __forceinline__ RT rdr(unsigned long long s, int x, int y, int z, int L) {{
    (void)y; (void)z; (void)L;
    return {read};
}}
__device__ __forceinline__ void unpack(RT r, float* v) {{
    ST t[C];
    memcpy(t, &r, sizeof(RT));
#pragma unroll
    for (int c = 0; c < C; ++c) v[c] = load(t[c]);
}}
"""

_FUSED_KERNEL = r"""
extern "C" __global__ void __launch_bounds__(NT) ia_mipgen_fused(
    unsigned long long src, {dst_params}, int sw, int sh, int sd, int nlev)
{{
    IA_PDL_START();  // (sampling/pdl.py)
    __shared__ __align__(16) float sm[C * SMS];
    const unsigned long long dst[KMAX] = {{{dst_names}}};
    fused_pass(sm, src, dst, sw, sh, sd, nlev, blockIdx.x, blockIdx.y, blockIdx.z, threadIdx.x);
}}
"""

_LOADS = {
    "float32": ("float", "s", "f"),
    "float16": (
        "unsigned short",
        "__half2float(__ushort_as_half(s))",
        "__half_as_ushort(__float2half_rn(f))",
    ),
}


def _int_conv(dtype: numpy.dtype) -> tuple[str, str, str]:
    info = numpy.iinfo(dtype)
    scalar = _CTYPES[dtype.name][0]
    # round half to even, then clamp to the type's range (as numpy.rint + clip)
    return (
        scalar,
        "(float)s",
        f"({scalar})fminf(fmaxf(rintf(f), {float(info.min)}f), {float(info.max)}f)",
    )


def _common(dtype: numpy.dtype, channels: int, dims: int, layered: bool) -> str:
    dtype = numpy.dtype(dtype)
    if dtype.name in _LOADS:
        st, to_f, from_f = _LOADS[dtype.name]
    else:
        st, to_f, from_f = _int_conv(dtype)
    coords = {1: "", 2: ", y", 3: ", y, z"}[dims]
    xb = "x * (int)sizeof(RT)"
    if layered:
        lc = {1: "", 2: ", y"}[dims] + ", L"
        read = f"surf{dims}DLayeredread<RT>(s, {xb}{lc})"
        write = f"surf{dims}DLayeredwrite<RT>(r, s, {xb}{lc})"
    else:
        read = f"surf{dims}Dread<RT>(s, {xb}{coords})"
        write = f"surf{dims}Dwrite<RT>(r, s, {xb}{coords})"
    src = _COMMON.format(
        st=st,
        raw=fetch_types(dtype.itemsize * channels, channels),
        channels=channels,
        dims=dims,
        layered=int(layered),
        to_float=to_f,
        from_float=from_f,
        read=read,
        write=write,
        raw_read=_RAW_READ.format(read=read) if PREREAD else "",
    )
    if dtype.name == "float16":
        src = "#include <cuda_fp16.h>\n" + src
    return src + pdl.PRELUDE


def mipgen_source(dtype: numpy.dtype, channels: int, dims: int, layered: bool) -> str:
    """The per-level box filter ``ia_mipgen`` (arguments: see ``generate_mipmaps``)."""
    return _common(dtype, channels, dims, layered) + _PER_LEVEL


def fused_pass_source(dims: int, inline: bool = True) -> str:
    """The fused downsampler's block, ``fused_pass`` (and its defines), after
    ``_common``: the kernel below and the one-launch chain (``mipchain``) run it;
    ``inline`` False makes it a call (``__noinline__``)."""
    tile = fused_tile(dims)
    total = sum(tile.texels >> (dims * j) for j in range(tile.kmax))
    return _FUSED.format(
        threads=FUSED_THREADS,
        px=tile.px,
        py=tile.py,
        pz=tile.pz,
        kmax=tile.kmax,
        sms=-(-total // 32) * 32,
        inline="__forceinline__" if inline else "__noinline__",
        first_level=_FIRST_PREREAD if PREREAD else _FIRST_TAPS,
    )


def fused_source(dtype: numpy.dtype, channels: int, dims: int, layered: bool) -> str:
    """The fused downsampler ``ia_mipgen_fused(src, d0 .. d{kmax-1}, sw, sh, sd, nlev)``:
    surfaces of level s and of levels s + 1 .. s + kmax (0 past s + nlev), level s's
    extent (1 for unused axes) and nlev, the levels this pass makes."""
    kmax = fused_tile(dims).kmax
    kernel = _FUSED_KERNEL.format(
        dst_params=", ".join(f"unsigned long long d{j}" for j in range(kmax)),
        dst_names=", ".join(f"d{j}" for j in range(kmax)),
    )
    return _common(numpy.dtype(dtype), channels, dims, layered) + fused_pass_source(dims) + kernel


_OPTIONS = ("-std=c++17",)


def by_value(a: numpy.ndarray) -> numpy.ndarray:
    """``a``'s bytes as one NumPy void scalar array, which CuPy passes by value (a
    kernel's struct argument)."""
    return numpy.frombuffer(a.tobytes(), numpy.dtype(f"V{a.nbytes}"))


def handles(surfaces: list, n: int) -> numpy.ndarray:
    """The surface handles ``surfaces``, then 0s, as a struct of ``n`` by value."""
    dst = numpy.zeros(n, numpy.uint64)
    dst[: len(surfaces)] = [int(h) for h in surfaces]
    return by_value(dst)


@functools.cache
def compiled(src: str, name: str):
    """The RawKernel ``name`` of ``src``, one per source: a kernel whose source reads a
    module setting (``mipwide.STREAMING``) gets one for each value."""
    import cupy

    return cupy.RawKernel(src, name, options=_OPTIONS)


@functools.cache
def mipgen_kernel(dtype_name: str, channels: int, dims: int, layered: bool):
    src = mipgen_source(numpy.dtype(dtype_name), channels, dims, layered)
    return compiled(src, "ia_mipgen")


@functools.cache
def fused_kernel(dtype_name: str, channels: int, dims: int, layered: bool):
    src = fused_source(numpy.dtype(dtype_name), channels, dims, layered)
    return compiled(src, "ia_mipgen_fused")
