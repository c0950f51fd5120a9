"""The wide-read box filter of ``generate_mipmaps``: one level made from a level above
that halves evenly on every axis, each thread making ``OX`` neighbouring texels of a
row from unformatted surface reads of 16 bytes (every texel of the level above read
once, 16 bytes at a time) and one surface write of ``WB`` bytes.

A level's first pass is bound by the surface-read instructions, not the bytes: the
per-level kernel issues one 4-byte read per texel of an 8192^2 RGBA8 level 0 (67 M of
them). Reading 16 bytes at a time issues a quarter of them; the bytes are the same
(a 32-byte sector of a block-linear CUDA array is 16 bytes of two neighbouring rows,
which is what one thread's two reads of a row pair take).

Each texel is computed as ``box()`` in ``mipkernels`` computes it for an even level
(taps z, y, x outermost first, weight 0.5 * 0.5 [* 0.5], one fused multiply-add per
tap from 0, rounded to the storage type once): the same bits. Texels of a row's end
that do not fill a thread's ``OX`` are made one by one with ``box()`` itself.
"""

from __future__ import annotations

import numpy

from imagearray.sampling import mipkernels as mk
from imagearray.sampling.mipkernels import _common, level_sizes

__all__ = [
    "DESTINATIONS",
    "WIDE_FLOOR",
    "WIDE_LEVELS",
    "WIDE_WRITE",
    "chain_plan",
    "wide_grid",
    "wide_kernel",
    "wide_outputs",
    "wide_source",
]

#: Bytes each thread writes (its texels of the level made, at least one): 8, one 16-byte
#: read per row of taps. On the H200 an 8192^2 RGBA8 level 1 took 0.1036 ms with 8,
#: 0.1050 with 16 and 0.137 with 32; 4096^2 float32 0.0243 / 0.0288 / 0.0385 ms, and
#: two levels at once 0.1010 / 0.0254 ms with 8, 0.1295 / 0.0299 with 16
#: (tools/probes/mip_wide.py).
WIDE_WRITE = 8

#: On: the wide passes read the level above and write the level made (the one from
#: memory) with PTX's streaming cache operator (``.cs``, evict first) instead of the
#: default, as each byte of them is used once. Off: CUDA's surf*read / surf*write. On
#: the H100 the first wide pass of the 4096^2 float32 chain (level 0 -> 1, 2, 3) took
#: 28.9 us back to back against 33.9 with the default operators (3.08 against 2.63
#: TB/s); streaming reads alone 30.7, reads cached in L2 only (``.cg``) 35.5; the same
#: bits (tools/probes/mip_wide_cop.py, one run). Off until the GPU tests have run it
#: (the ``wide3cs`` chain way of tests/sampling/_mipchains.py): that probe checked
#: one 2D float32 case, and the layered, cubemap and deep passes' suld/sust are
#: checked by ptxas only.
STREAMING = False

# Threads of a block: a warp across x, 8 rows.
BLOCK = (32, 8, 1)

_WIDE = r"""
#define OX {ox}      // texels of the level made per thread
#define NR {nr}      // 16-byte reads per row of taps
#define NWR {nwr}    // writes of WT per thread
#define LEVELS {levels}  // levels made (2D: the ones below the first from shared memory)
typedef {wt} WT;     // one write
#define TB ((int)sizeof(RT))
#define BX 32
#define BY 8

{io16}
#if LEVELS >= 2 && DIMS != 2
#error "more than one level a wide pass is for 2D images"
#endif
#if LEVELS >= 2
// The level below a tile of H x W texels (per channel) in shared memory: texel (qx, qy)
// of the block's (W / 2) x (H / 2) is the 2 x 2 taps with weight 0.25 in box()'s
// order (rows outer); written at (gx0 + qx, gy0 + qy) where inside (ew, eh), and kept
// in ``out`` (as stored) for the level below it, where given.
template <int H, int W>
__device__ __forceinline__ void down(const float (*in)[H][W], float (*out)[H / 2][W / 2],
                                     unsigned long long dst, int gx0, int gy0, int ew,
                                     int eh, int z, int L) {{
    const int t = threadIdx.y * BX + threadIdx.x;
    for (int k = t; k < (W / 2) * (H / 2); k += BX * BY) {{
        const int qx = k % (W / 2), qy = k / (W / 2);
        if (gx0 + qx >= ew || gy0 + qy >= eh) continue;
        float acc[C];
#pragma unroll
        for (int c = 0; c < C; ++c) {{
            acc[c] = 0.f;
#pragma unroll
            for (int ky = 0; ky < 2; ++ky) {{
                const float2 p = *reinterpret_cast<const float2*>(&in[c][2 * qy + ky][2 * qx]);
                acc[c] = __fmaf_rn(0.25f, p.x, acc[c]);
                acc[c] = __fmaf_rn(0.25f, p.y, acc[c]);
            }}
        }}
        wr(dst, gx0 + qx, gy0 + qy, z, L, acc);
        if (out != nullptr)
#pragma unroll
            for (int c = 0; c < C; ++c) out[c][qy][qx] = acc[c];
    }}
}}
#endif

extern "C" __global__ void __launch_bounds__(BX * BY{min_blocks}) ia_mipgen_wide(
    unsigned long long src, unsigned long long dst, unsigned long long dst2,
    unsigned long long dst3, int dw, int dh, int dd{tail_params})
{{
    IA_PDL_START();  // (sampling/pdl.py)
    (void)dst2; (void)dst3;
    const int x = (blockIdx.x * BX + threadIdx.x) * OX;
    const int y = blockIdx.y * BY + threadIdx.y;
#if LAYERED
    const int z = 0, L = blockIdx.z;
#else
    const int z = blockIdx.z, L = 0;
#endif
    (void)dd;
#if LEVELS >= 2
    // the block's (BX * OX) x BY texels of this level, as stored (rounded), channel-major
    __shared__ __align__(16) float sm[C][BY][BX * OX];
#define KEEP(i, a) \
    do {{ for (int c_ = 0; c_ < C; ++c_) \
        sm[c_][threadIdx.y][threadIdx.x * OX + (i)] = (a)[c_]; }} while (0)
#else
#define KEEP(i, a) do {{ }} while (0)
#endif
    if (x < dw && y < dh) {{
        if (x + OX > dw) {{  // the row's last texels: one by one, as box() makes them
            for (int i = x; i < dw; ++i) {{
                float acc[C];
                box(i, y, z, 2 * dw, 2 * dh, 2 * dd, dw, dh, dd,
                    [&](int a, int b, int c, float* v) {{ rd(src, a, b, c, L, v); }}, acc);
                wr(dst, i, y, z, L, acc);
                KEEP(i - x, acc);
            }}
        }} else {{
            const int NZ = DIMS == 3 ? 2 : 1, NY = DIMS >= 2 ? 2 : 1;
            // every tap row first (NZ * NY * NR reads in flight), then the arithmetic
            uint4 raw[NZ * NY * NR];
#pragma unroll
            for (int kz = 0; kz < NZ; ++kz)
#pragma unroll
                for (int ky = 0; ky < NY; ++ky)
#pragma unroll
                    for (int r = 0; r < NR; ++r)
                        raw[(kz * NY + ky) * NR + r] =
                            rd16(src, 2 * x * TB + 16 * r, NY * y + ky, NZ * z + kz, L);
            const float w = DIMS == 3 ? 0.125f : DIMS == 2 ? 0.25f : 0.5f;  // box()'s 0.5s
            ST out[OX * C];
#pragma unroll
            for (int i = 0; i < OX; ++i) {{
                float acc[C];
#pragma unroll
                for (int c = 0; c < C; ++c) acc[c] = 0.f;
#pragma unroll
                for (int row = 0; row < NZ * NY; ++row) {{
                    ST t[2 * OX * C];
                    memcpy(t, &raw[row * NR], sizeof(t));
#pragma unroll
                    for (int kx = 0; kx < 2; ++kx)
#pragma unroll
                        for (int c = 0; c < C; ++c)
                            acc[c] = __fmaf_rn(w, load(t[(2 * i + kx) * C + c]), acc[c]);
                }}
#pragma unroll
                for (int c = 0; c < C; ++c) {{
                    out[i * C + c] = store(acc[c]);
                    acc[c] = load(out[i * C + c]);
                }}
                KEEP(i, acc);
            }}
#pragma unroll
            for (int q = 0; q < NWR; ++q) {{
                WT v;
                memcpy(&v, reinterpret_cast<const char*>(out) + q * sizeof(WT), sizeof(WT));
                wrw(dst, v, x * TB + q * (int)sizeof(WT), y, z, L);
            }}
        }}
    }}
#if LEVELS >= 2
    __syncthreads();
#if LEVELS >= 3
    __shared__ __align__(16) float sm2[C][BY / 2][BX * OX / 2];
    float (*keep2)[BY / 2][BX * OX / 2] = sm2;
#else
    float (*keep2)[BY / 2][BX * OX / 2] = nullptr;
#endif
    down<BY, BX * OX>(sm, keep2, dst2, blockIdx.x * (BX * OX / 2), blockIdx.y * (BY / 2),
                      dw >> 1, dh >> 1, z, L);
#endif
#if LEVELS >= 3
    __syncthreads();
    down<BY / 2, BX * OX / 2>(sm2, nullptr, dst3, blockIdx.x * (BX * OX / 4),
                              blockIdx.y * (BY / 4), dw >> 2, dh >> 2, z, L);
#endif
{tail}
}}
"""

# A write's bytes -> its type WT, and (STREAMING) its PTX vector type, value operands
# and their registers
_WRITES = {
    4: ("unsigned int", "b32", "%5", '"r"(v)'),
    8: ("uint2", "v2.b32", "{%5, %6}", '"r"(v.x), "r"(v.y)'),
    16: ("uint4", "v4.b32", "{%5, %6, %7, %8}", '"r"(v.x), "r"(v.y), "r"(v.z), "r"(v.w)'),
}

# The PTX geometry of suld/sust and its coordinates, from the operands x (bytes), y, z
# and the layer L (a 3D or layered 2D coordinate has 4 elements, the last unused)
_GEOMETRY = {
    (1, False): (".1d", "{x}"),
    (2, False): (".2d", "{x, y}"),
    (3, False): (".3d", "{x, y, z, z}"),
    (1, True): (".a1d", "{L, x}"),
    (2, True): (".a2d", "{L, x, y, y}"),
}

# A 16-byte surface read and a write of WT at byte xb of a row (after WT's typedef)
_IO16 = r"""
__device__ __forceinline__ uint4 rd16(unsigned long long s, int xb, int y, int z, int L) {{
    (void)y; (void)z; (void)L;
    return {kind}read<uint4>(s, xb{c});
}}
__device__ __forceinline__ void wrw(unsigned long long s, WT v, int xb, int y, int z, int L) {{
    (void)y; (void)z; (void)L;
    {kind}write<WT>(v, s, xb{c});
}}
"""[1:]

# The same, streaming (STREAMING): as CUDA's surf*read / surf*write compile them
# (boundary mode trap), with the cache operator .cs. Volatile, so that neither moves
# above IA_PDL_START's wait.
_IO16_STREAMING = r"""
__device__ __forceinline__ uint4 rd16(unsigned long long s, int xb, int y, int z, int L) {{
    uint4 r;
    asm volatile("suld.b{geom}.cs.v4.b32.trap {{%0, %1, %2, %3}}, [%4, {rc}];"
                 : "=r"(r.x), "=r"(r.y), "=r"(r.z), "=r"(r.w)
                 : "l"(s), "r"(xb), "r"(y), "r"(z), "r"(L));
    return r;
}}
__device__ __forceinline__ void wrw(unsigned long long s, WT v, int xb, int y, int z, int L) {{
    asm volatile("sust.b{geom}.cs.{vec}.trap [%0, {wc}], {values};"
                 :: "l"(s), "r"(xb), "r"(y), "r"(z), "r"(L), {regs} : "memory");
}}
"""[1:]


def _operands(coords: str, first: int) -> str:
    """``coords`` (of x, y, z, L) as the operand numbers from ``first`` on."""
    for k, name in enumerate("xyzL"):
        coords = coords.replace(name, f"%{first + k}")
    return coords


def wide_outputs(texel_bytes: int, write: int = WIDE_WRITE) -> int:
    """Texels of the level made per thread: ``write`` bytes of them (at least one).
    Their taps in a row, twice as many texels, are whole 16-byte reads for every
    texel size CUDA arrays have (1 to 16 bytes) with ``write`` 8 or more."""
    return max(1, write // texel_bytes)


def _coords(dims: int, layered: bool) -> str:
    if layered:
        return {1: "", 2: ", y"}[dims] + ", L"
    return {1: "", 2: ", y", 3: ", y, z"}[dims]


def wide_source(
    dtype: numpy.dtype,
    channels: int,
    dims: int,
    layered: bool,
    write: int = WIDE_WRITE,
    levels: int = 1,
    tail: tuple[str, str, str] = ("", "", ""),
    min_blocks: int = 0,
) -> str:
    """``ia_mipgen_wide(src, dst, dst2, dst3, dw, dh, dd)``: level (dw, dh, dd) (1 for
    unused axes) from the level above, (2 dw, 2 dh, 2 dd) on the used axes, and (2D)
    with ``levels`` 2 or 3 the levels below it into ``dst2`` and ``dst3`` (every level
    but the last even); grid ``wide_grid``. ``tail``: (code after ``_common``, more
    parameters, code at the kernel's end) of the one-launch chain (``mipchain``);
    ``min_blocks``, where nonzero, the blocks an SM must hold (``__launch_bounds__``)."""
    dtype = numpy.dtype(dtype)
    io = io_fields(dtype.itemsize * channels, dims, layered, write)
    bounds = f", {min_blocks}" if min_blocks else ""
    body = _WIDE.format(levels=levels, tail_params=tail[1], tail=tail[2], min_blocks=bounds, **io)
    return _common(dtype, channels, dims, layered) + tail[0] + body


def io_fields(texel_bytes: int, dims: int, layered: bool, write: int = WIDE_WRITE) -> dict:
    """The fields of a wide-read kernel's template (this module's and ``mipdeep``'s):
    ``ox`` texels made per thread and row, ``nr`` 16-byte reads per row of taps, ``nwr``
    writes of ``wt`` (the write type) each, and ``io16``, the read and write helpers
    ``rd16(s, xb, y, z, L)`` and ``wrw(s, v, xb, y, z, L)``."""
    ox = wide_outputs(texel_bytes, write)
    wb = ox * texel_bytes
    nwr, wt = (wb // 16, 16) if wb > 16 else (1, wb)
    if STREAMING:
        geom, coords = _GEOMETRY[dims, layered]
        _, vec, values, regs = _WRITES[wt]
        rc, wc = _operands(coords, 5), _operands(coords, 1)
        io16 = _IO16_STREAMING.format(geom=geom, rc=rc, wc=wc, vec=vec, values=values, regs=regs)
    else:
        kind = f"surf{dims}DLayered" if layered else f"surf{dims}D"
        io16 = _IO16.format(kind=kind, c=_coords(dims, layered))
    return dict(ox=ox, nr=2 * wb // 16, nwr=nwr, wt=_WRITES[wt][0], io16=io16)


def wide_grid(
    size: tuple[int, int, int],
    texel_bytes: int,
    layers: int,
    layered: bool,
    write: int = WIDE_WRITE,
) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """(grid, block) making level ``size`` (w, h, d): a thread per ``OX`` texels of a row."""
    w, h, d = size
    ox = wide_outputs(texel_bytes, write)
    threads = -(-w // ox)
    gz = layers if layered else d
    return ((-(-threads // BLOCK[0]), -(-h // BLOCK[1]), gz), BLOCK)


def wide_kernel(
    dtype_name: str,
    channels: int,
    dims: int,
    layered: bool,
    write: int = WIDE_WRITE,
    levels: int = 1,
):
    src = wide_source(numpy.dtype(dtype_name), channels, dims, layered, write, levels)
    return mk.compiled(src, "ia_mipgen_wide")


#: Wide passes run while the level they make is at least this many texels wide; the
#: levels below are the fused kernel's (H200, 8192^2 RGBA8 / 4096^2 float32 chains:
#: 0.1205 / 0.0370 ms with 64, 0.1215 / 0.0385 ms with 1024; tools/probes/mip_wide.py).
WIDE_FLOOR = 64

#: The most levels one wide pass makes (2D): the first from memory, the others from
#: shared memory (a block's 8 rows of the first are 2 of the third). At most
#: :data:`DESTINATIONS`. On the H200 3 and 2 were within noise of each other: 8192^2
#: RGBA8 chains 0.125 / 0.126 ms, 4096^2 float32 0.039 / 0.040 ms (benchmarks/
#: mipmaps.py); the probe's back-to-back replays 0.1202 / 0.1207 and 0.0387 / 0.0373.
WIDE_LEVELS = 3

#: Surfaces of levels made that ``ia_mipgen_wide`` takes (``dst``, ``dst2``, ``dst3``;
#: 0 past the levels a pass makes).
DESTINATIONS = 3


def _halves(size: tuple[int, ...]) -> bool:
    """Every axis of ``size`` is even (the level below is exactly half on each)."""
    return all(n >= 2 and n % 2 == 0 for n in size)


def chain_plan(
    extent: tuple[int, ...], dims: int, levels: int, fused_tail: bool = True, deep: int = 0
) -> list[tuple[str, int, int]]:
    """``(kind, s, k)`` of each launch making levels 1 .. levels - 1: it reads level
    ``s`` and makes ``s + 1 .. s + k``.

    ``"wide"`` (2D, layered 2D and cubemaps): ``ia_mipgen_wide`` while the level read
    halves evenly and the level made is at least :data:`WIDE_FLOOR` wide, up to
    :data:`WIDE_LEVELS` levels at once while the levels made halve evenly too (with
    ``deep`` nonzero: ``"deep"`` passes of ``mipdeep``, up to ``deep`` levels at
    once, instead); then ``"fused"`` passes
    (``mipkernels.fused_passes``) for the rest, or with ``fused_tail`` False one
    ``"level"`` launch of the per-level kernel per level (1D and 3D images, where the
    wide passes do not apply).

    >>> chain_plan((4096, 4096), 2, 13)
    [('wide', 0, 3), ('wide', 3, 3), ('fused', 6, 6)]
    >>> chain_plan((130, 256), 2, 9)
    [('wide', 0, 1), ('fused', 1, 6), ('fused', 7, 1)]
    >>> chain_plan((8, 4, 4), 3, 4, fused_tail=False)
    [('level', 0, 1), ('level', 1, 1), ('level', 2, 1)]
    >>> chain_plan((4096, 4096), 2, 13, deep=7)
    [('deep', 0, 7), ('fused', 7, 5)]
    """
    sizes = level_sizes(extent, dims, levels)
    plan, s = [], 0
    most = deep or min(WIDE_LEVELS, DESTINATIONS)
    while dims == 2 and s < levels - 1 and _halves(sizes[s]) and sizes[s + 1][0] >= WIDE_FLOOR:
        k = 1
        while k < most and s + k < levels - 1 and _halves(sizes[s + k]):
            k += 1
        plan.append(("deep" if deep else "wide", s, k))
        s += k
    if not fused_tail:
        return plan + [("level", lv, 1) for lv in range(s, levels - 1)]
    rest = mk.fused_passes(sizes[s] + (1,) * (len(extent) - dims), dims, levels - s)
    return plan + [("fused", s + a, k) for a, k in rest]
