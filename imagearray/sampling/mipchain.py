"""The one-launch mip chain of ``generate_mipmaps`` (2D, layered 2D and cubemaps): the
first wide pass of :mod:`~imagearray.sampling.mipwide` makes its levels, and the levels
below are made in the same launch by blocks that finish last, as AMD's FidelityFX SPD
does. The image's tiles of the wide pass's last level are counted in groups: a group is
the 64 x 64 texels that one block of the fused downsampler
(:mod:`~imagearray.sampling.mipkernels`, ``fused_pass``) reads. Each block, done with
its tile, adds one to its group's counter (after a memory fence); the block that brings
the count to the group's size runs the fused pass of that group, making up to six more
levels, and is counted in turn in the groups of the next stage, down to one texel.

A chain of separate launches (three for 4096^2) waits for each launch to drain before
the next starts, and its small levels run on a nearly idle GPU; here the levels below
the first pass are made while the first pass's other blocks still run, and only the
last group's stages are left at its end.

Every texel is made by the kernels' own arithmetic (the wide pass, then ``fused_pass``
as ``ia_mipgen_fused`` runs it), so the bits are the per-level box filter's. A group
reads only texels its own blocks wrote, which is why every stage's level must halve
evenly (or be 1) on each axis: an odd level's taps reach into the next group. Other
chains keep their separate launches (:func:`plan` returns None).

Counters: one int32 per group, per layer and stage, zero between launches (the last
block of a group sets its counter back to 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy

from imagearray.sampling import mipkernels as mk
from imagearray.sampling import mipwide as mw

__all__ = [
    "MIN_BLOCKS",
    "ONE_LAUNCH",
    "TAILS",
    "TAIL_ONE_LAUNCH",
    "ChainPlan",
    "Stage",
    "chain_kernel",
    "chain_source",
    "plan",
    "stage_args",
]

#: Chains that :func:`plan` takes run as one launch (off: the separate launches of
#: ``mipwide.chain_plan``; both give the per-level filter's bytes). Off by default:
#: slower on the H100 (benchmarks/mipmaps.py, one run): 0.056 ms for a 4096^2 float32
#: chain against 0.045 for the separate launches (with PDL), 0.197 against 0.136 ms
#: for 8192^2 RGBA8. Its wide part now runs as fast as the wide pass alone: with the
#: stages compiled in but not run the kernel took 34.4 us against 34.0 (at 32
#: registers, :data:`MIN_BLOCKS`; and since the stages' surfaces are copied in the last
#: blocks only, where the compiler had stored all 12 into local memory at the kernel's
#: start: 75.6 us then). What is slower is the stages after the wide pass's last
#: blocks: with them 52.1 us, 47.4 with the fences left out (wrong; timing only), so
#: the last groups' two fused passes and their fences are ~17 us on the launch's
#: critical path, against ~9 us the two separate launches add
#: (tools/probes/mip_one_variants.py).
ONE_LAUNCH = False

#: Without ONE_LAUNCH: the launches after the first wide pass (the small levels, two
#: launches for 4096^2) run as one launch of this module's kernel for the chain below
#: that pass's last level (:func:`plan` of it), where it takes one. Off by default:
#: slower on the H100 (benchmarks/mipmaps.py, one run, PDL on): 0.049 ms for a 4096^2
#: float32 chain against 0.046 for the separate launches, 0.142 against 0.136 ms for
#: 8192^2 RGBA8; the counted stages cost more than the launch boundary they remove,
#: as in the one launch above.
TAIL_ONE_LAUNCH = False

#: The blocks of 256 threads an SM holds of the one-launch kernel (``__launch_bounds__``):
#: 8 keeps it at the wide pass's 32 registers a thread. With ``fused_pass`` inlined and
#: no bound NVRTC gives it 48 (64 for RGBA8), 5 blocks an SM (4) against the wide
#: pass's 8; with it a call and the bound, 32, and the spills (28 bytes of stores, 52
#: of loads a thread for float32) are in ``fused_pass``, which only the groups' last
#: blocks run.
MIN_BLOCKS = 8

#: The most stages after the wide pass one launch makes (each up to six levels): a
#: 32768^2 RGBA8 chain needs 2.
TAILS = 3

# the region of the level a fused block reads (PX x PY of the level it makes, halved)
_GROUP = 2 * mk.fused_tile(2).px


@dataclass(frozen=True)
class Stage:
    """A stage after the wide pass: ``fused_pass`` reading level ``s`` (``sw`` x
    ``sh``) and making ``s + 1 .. s + k``, one block per group of ``gx`` x ``gy``
    blocks of the stage before (which has ``pbx`` x ``pby`` of them); ``ngx`` x
    ``ngy`` blocks a layer, counted from counter ``offset``."""

    s: int
    k: int
    sw: int
    sh: int
    gx: int
    gy: int
    pbx: int
    pby: int
    ngx: int
    ngy: int
    offset: int


@dataclass(frozen=True)
class ChainPlan:
    """The wide pass (reads level 0, makes ``1 .. head``; ``grid``), its ``stages`` and
    the counters they use (``counters`` int32s)."""

    head: int
    grid: tuple[int, int, int]
    stages: tuple[Stage, ...]
    counters: int


def _region(sizes: list, s: int, k: int) -> tuple[int, int]:
    """A fused block's region of level ``s + k`` (x, y), the pass reading level ``s``:
    its PX x PY of level ``s + 1``, halved per further level on the axes that halve."""
    tile = mk.fused_tile(2)
    rx, ry = tile.px, tile.py
    for lv in range(s + 1, s + k):
        rx >>= sizes[lv][0] > 1
        ry >>= sizes[lv][1] > 1
    return rx, ry


def plan(extent: tuple, levels: int, texel_bytes: int, layers: int, layered: bool):
    """The one-launch chain of a 2D image of ``extent`` (w, h) and ``levels`` levels, or
    None where it does not apply: the chain does not start with a wide pass, a stage's
    level does not halve evenly, a group is not whole blocks, or more than
    :data:`TAILS` stages.

    >>> p = plan((4096, 4096), 13, 4, 1, False)
    >>> p.head, [(t.s, t.k, t.gx, t.gy, t.ngx) for t in p.stages], p.counters
    (3, [(3, 6, 4, 32, 8), (9, 3, 64, 64, 1)], 65)
    >>> plan((4096, 4000), 13, 4, 1, False) is None  # level 5 is 125 high
    True
    """
    steps = mw.chain_plan(extent, 2, levels)
    if len(steps) < 2 or steps[0][0] != "wide":
        return None
    head = steps[0][2]
    sizes = mk.level_sizes(extent, 2, levels)
    rest = mk.fused_passes(sizes[head] + (1,), 2, levels - head)
    if len(rest) > TAILS:
        return None
    size = sizes[1] + (1,)
    grid, _ = mw.wide_grid(size, texel_bytes, layers, layered)
    ox = mw.wide_outputs(texel_bytes)
    rx, ry = (mw.BLOCK[0] * ox) >> (head - 1), mw.BLOCK[1] >> (head - 1)
    pbx, pby = grid[0], grid[1]
    stages, offset = [], 0
    for a, k in rest:
        s = head + a
        if any(n > 1 and n % 2 for n in sizes[s]) or rx > _GROUP or ry > _GROUP or ry < 1:
            return None
        (ngx, ngy, _), _ = mk.fused_grid(extent, 2, s, layers)
        gx, gy = _GROUP // rx, _GROUP // ry
        if -(-pbx // gx) != ngx or -(-pby // gy) != ngy:
            return None  # (not expected: the groups are the fused pass's blocks)
        stages.append(Stage(s, k, *sizes[s], gx, gy, pbx, pby, ngx, ngy, offset))
        offset += ngx * ngy * layers
        rx, ry = _region(sizes, s, k)
        pbx, pby = ngx, ngy
    return ChainPlan(head, grid, tuple(stages), offset)


_STAGE = r"""
    {{  // stage {i}: the last block of each group of the stage before makes its block
        const int* g = g{i}_.v;
        const int gx = vbx / g[0], gy = vby / g[1];
        __threadfence();  // this thread's writes, before the group's count says so
        __syncthreads();
        if (tid == 0) {{
            const int need = min(g[0], g[2] - gx * g[0]) * min(g[1], g[3] - gy * g[1]);
            int* c = cnt + g[6] + (Lz * g[5] + gy) * g[4] + gx;
            last = atomicAdd(c, 1) == need - 1;
            if (last) atomicExch(c, 0);  // counted out: 0 again for the next launch
        }}
        __syncthreads();
        if (!last) return;
        __threadfence();  // the group's writes, before this block reads them
        // the surfaces copied here, by the last blocks only: fused_pass indexes them at
        // run time, which takes them out of the parameters into local memory, and a
        // copy the compiler makes at the kernel's start (as it did of d{i}_ read
        // through a pointer) costs every block of the wide pass 96 bytes a thread of
        // local stores
        unsigned long long dl[KMAX];
#pragma unroll
        for (int k = 0; k < KMAX; ++k) dl[k] = d{i}_.v[k];
        fused_pass(smf, s{i}, dl, n{i}_.v[0], n{i}_.v[1], 1, n{i}_.v[2], gx, gy, Lz, tid);
        vbx = gx;
        vby = gy;
    }}"""


def chain_source(
    dtype: numpy.dtype,
    channels: int,
    layered: bool,
    head: int,
    tails: int,
    inline: bool = False,
    min_blocks: int = MIN_BLOCKS,
) -> str:
    """``ia_mipgen_wide(src, dst, dst2, dst3, dw, dh, dd, cnt, s0, d0, n0, g0, ..)``: the
    wide pass (``mipwide.wide_source``, ``head`` levels) and ``tails`` stages, each with
    its level's surface ``s{i}``, the surfaces it makes ``d{i}`` (``KMAX``, 0 past its
    levels), ``n{i}`` (w, h of the level read, levels made) and ``g{i}`` (gx, gy, pbx,
    pby, ngx, ngy, offset: :class:`Stage`), passed by value as arrays of a struct.
    ``fused_pass`` is a call unless ``inline``, and the kernel bounded to
    ``min_blocks`` blocks an SM (:data:`MIN_BLOCKS`)."""
    kmax = mk.fused_tile(2).kmax
    decl = ["struct IaU64x6 { unsigned long long v[6]; };", "struct IaI3 { int v[3]; };"]
    decl.append("struct IaI7 { int v[7]; };")
    params = ", int* __restrict__ cnt"
    for i in range(tails):
        params += f", unsigned long long s{i}, IaU64x6 d{i}_, IaI3 n{i}_, IaI7 g{i}_"
    body = [
        '    static_assert(BX * BY == NT, "the fused pass takes the wide block\'s threads");',
        "    __shared__ __align__(16) float smf[C * SMS];",
        "    __shared__ int last;",
        "    const int tid = threadIdx.y * BX + threadIdx.x, Lz = blockIdx.z;",
        "    int vbx = blockIdx.x, vby = blockIdx.y;",
    ]
    body += [_STAGE.format(i=i) for i in range(tails)]
    assert kmax == 6  # IaU64x6
    prelude = mk.fused_pass_source(2, inline) + "\n".join(decl) + "\n"
    tail = (prelude, params, "\n".join(body))
    return mw.wide_source(dtype, channels, 2, layered, mw.WIDE_WRITE, head, tail, min_blocks)


def chain_kernel(dtype_name: str, channels: int, layered: bool, head: int, tails: int):
    src = chain_source(numpy.dtype(dtype_name), channels, layered, head, tails)
    return mk.compiled(src, "ia_mipgen_wide")


def stage_args(p: ChainPlan, surfaces: list) -> tuple:
    """The stages' kernel arguments (after ``cnt``) for the levels' ``surfaces``."""
    args = []
    for t in p.stages:
        dst = mk.handles(surfaces[t.s + 1 : t.s + 1 + t.k], mk.fused_tile(2).kmax)
        geometry = (t.gx, t.gy, t.pbx, t.pby, t.ngx, t.ngy, t.offset)
        args += [surfaces[t.s], dst, mk.by_value(numpy.array((t.sw, t.sh, t.k), "i4"))]
        args.append(mk.by_value(numpy.array(geometry, "i4")))
    return tuple(args)
