"""The fused mip generator without a GPU: its kernel compiles with NVRTC for every
variant, its plan of passes is right, and a NumPy model of its blocks (regions,
shared-memory offsets, pair taps) makes every texel of every level exactly once and
equal to a model of the per-level filter."""

from __future__ import annotations

import numpy as np
import pytest
from test_kernels_compile import assert_compiles

from imagearray.sampling import mipkernels as mk
from imagearray.testing import reference

DTYPES = ["int8", "uint8", "int16", "uint16", "int32", "uint32", "float16", "float32"]
VARIANTS = [(1, False), (2, False), (3, False), (1, True), (2, True)]


@pytest.mark.parametrize("preread", [False, True])  # mipkernels.PREREAD
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("channels", [1, 2, 4])
def test_fused_kernels_compile(monkeypatch, dtype, channels, preread):
    monkeypatch.setattr(mk, "PREREAD", preread)
    for dims, layered in VARIANTS:  # each has its own includes and macros
        src = mk.fused_source(np.dtype(dtype), channels, dims, layered)
        assert_compiles(src)  # without a warning either


def _longest_read_run(ptx: str) -> int:
    """The most surface reads (suld) in a row, with no add (fma) or branch between."""
    best = run = 0
    for line in ptx.splitlines():
        if "suld." in line:
            run += 1
            best = max(best, run)
        elif "fma." in line or "bra" in line.split():
            run = 0
    return best


@pytest.mark.parametrize("dims,layered", VARIANTS)
@pytest.mark.parametrize("dtype,channels", [("float32", 1), ("uint8", 4), ("float16", 2)])
def test_preread_issues_every_tap_read_before_the_first_sum(
    monkeypatch, dims, layered, dtype, channels
):
    """mipkernels.PREREAD: the first level's reads of a thread (TILE / NT texels of
    2**dims taps each where the level read halves evenly) come one after another in
    the PTX, with no add or branch between; tap by tap (off) every read but one is
    followed by its add before the next."""
    import _nvrtc

    tile = mk.fused_tile(dims)
    for preread, want in ((True, tile.texels // mk.FUSED_THREADS * 2**dims), (False, 1)):
        monkeypatch.setattr(mk, "PREREAD", preread)
        result = _nvrtc.compile(mk.fused_source(np.dtype(dtype), channels, dims, layered))
        assert result.ok, result.log
        assert _longest_read_run(result.ptx) == want, (preread, dims, layered)


def test_fused_shared_memory_fits_and_aligns():
    for dims in (1, 2, 3):
        tile = mk.fused_tile(dims)
        assert tile.texels % mk.FUSED_THREADS == 0  # the first level's loop is exact
        assert tile.texels >> (dims * (tile.kmax - 1)) == 1  # the last level is 1 texel
        src = mk.fused_source(np.dtype("float32"), 4, dims, False)
        sms = int(src.split("#define SMS ")[1].split()[0])
        assert sms % 32 == 0 and 4 * 4 * sms <= 48 * 1024  # static shared limit
        assert sms >= sum(tile.texels >> (dims * j) for j in range(tile.kmax))


@pytest.mark.parametrize(
    "extent,dims,levels,want",
    [
        ((4096, 4096), 2, 13, [(0, 6), (6, 6)]),
        ((8192, 8192), 2, 14, [(0, 6), (6, 6), (12, 1)]),
        ((37, 23), 2, 6, [(0, 1), (1, 1), (2, 3)]),
        ((48, 64), 2, 7, [(0, 4), (4, 2)]),
        ((256, 8), 2, 9, [(0, 6), (6, 2)]),  # height 1 from level 3: kept, 1:1
        ((4096,), 1, 13, [(0, 11), (11, 1)]),
        ((64, 64, 64), 3, 7, [(0, 4), (4, 2)]),
        ((15, 9, 7), 3, 4, [(0, 1), (1, 1), (2, 1)]),
        ((8, 8), 2, 1, []),
    ],
)
def test_fused_passes(extent, dims, levels, want):
    assert mk.fused_passes(extent, dims, levels) == want


def test_fused_grid():
    assert mk.fused_grid((4096, 4096), 2, 0, 1) == ((64, 64, 1), (256, 1, 1))
    assert mk.fused_grid((4096, 4096), 2, 6, 1) == ((1, 1, 1), (256, 1, 1))
    assert mk.fused_grid((37, 23), 2, 0, 5) == ((1, 1, 5), (256, 1, 1))
    assert mk.fused_grid((40, 20, 34), 3, 0, 1) == ((3, 2, 3), (256, 1, 1))
    assert mk.fused_grid((5000,), 1, 0, 3) == ((3, 1, 3), (256, 1, 1))


# ------------------------------------------------------------ a model of the kernels


def _taps(i: int, n: int, m: int):
    """The kernel's taps(): (first input, weights) of output ``i`` of ``n -> m``."""
    if n == 2 * m:
        return 2 * i, [np.float32(0.5)] * 2
    a, b = i * n, i * n + n
    first, w, j = a // m, [], a // m
    while j < n and j * m < b and len(w) < 3:
        lo, hi = max(a, j * m), min(b, (j + 1) * m)
        w.append(np.float32(hi - lo) / np.float32(n))
        j += 1
    return first, w


def _box(src: np.ndarray, out_shape) -> np.ndarray:
    """The per-level filter of a (z, y, x, C) float32 level (its arithmetic order, with
    float32 multiply-adds standing in for the kernel's fused ones)."""
    n, m = src.shape[:3], out_shape
    out = np.zeros(tuple(m) + src.shape[3:], np.float32)
    tz = [_taps(i, n[0], m[0]) for i in range(m[0])]
    ty = [_taps(i, n[1], m[1]) for i in range(m[1])]
    tx = [_taps(i, n[2], m[2]) for i in range(m[2])]
    for z, (z0, wz) in enumerate(tz):
        for y, (y0, wy) in enumerate(ty):
            for x, (x0, wx) in enumerate(tx):
                acc = np.zeros(src.shape[3:], np.float32)
                for kz, a in enumerate(wz):
                    for ky, b in enumerate(wy):
                        for kx, c in enumerate(wx):
                            acc = acc + (a * b * c) * src[z0 + kz, y0 + ky, x0 + kx]
                out[z, y, x] = acc
    return out


def _pairs(src: np.ndarray, f) -> np.ndarray:
    """The fused kernel's even step of a (z, y, x, C) region: taps (2i, 2i + 1) on the
    axes where ``f`` is 2 (i on those where it is 1), weight the product of 0.5s."""
    w = np.float32(1.0)
    for fa in (f[2], f[1], f[0]):  # (wx * wy) * wz, exact
        w = w * np.float32(0.5 if fa == 2 else 1.0)
    shape = tuple(src.shape[a] // f[a] for a in range(3)) + src.shape[3:]
    acc = np.zeros(shape, np.float32)
    for kz in range(f[0]):
        for ky in range(f[1]):
            for kx in range(f[2]):
                acc = acc + w * src[kz :: f[0], ky :: f[1], kx :: f[2]]
    return acc


def _sizes(extent, levels):
    """(d, h, w) of each level."""
    return [tuple(max(1, e >> lv) for e in extent[::-1]) for lv in range(levels)]


def _per_level(level0, levels):
    chain = [level0]
    for size in _sizes(level0.shape[2::-1], levels)[1:]:
        chain.append(_box(chain[-1], size))
    return chain


def _fused(level0, dims, levels):
    """The fused kernel's blocks, region by region, on level 0 (z, y, x, C)."""
    extent = level0.shape[2::-1][:dims]
    sizes = _sizes(level0.shape[2::-1], levels)
    chain = [level0] + [np.full(s + level0.shape[3:], np.nan, np.float32) for s in sizes[1:]]
    writes = [np.zeros(s, int) for s in sizes]
    tile = mk.fused_tile(dims)
    p = (tile.pz, tile.py, tile.px)
    for s, k in mk.fused_passes(extent, dims, levels):
        (gx, gy, gz), _ = mk.fused_grid(extent, dims, s, 1)
        n = sizes[s]
        f = [2 if n[a] > 1 else 1 for a in range(3)]
        if all(n[a] % f[a] == 0 for a in range(3)):  # the kernel's even path: pairs
            first = _pairs(chain[s], f)
        else:  # box() reads level s from memory
            first = _box(chain[s], sizes[s + 1])
        assert first.shape[:3] == sizes[s + 1]
        for bz in range(gz):
            for by in range(gy):
                for bx in range(gx):
                    o = [bz * p[0], by * p[1], bx * p[2]]
                    r = [min(p[a], sizes[s + 1][a] - o[a]) for a in range(3)]
                    cap, off = tile.texels, 0
                    assert 0 < r[0] * r[1] * r[2] <= cap
                    reg = first[o[0] : o[0] + r[0], o[1] : o[1] + r[1], o[2] : o[2] + r[2]]
                    chain[s + 1][o[0] : o[0] + r[0], o[1] : o[1] + r[1], o[2] : o[2] + r[2]] = reg
                    writes[s + 1][o[0] : o[0] + r[0], o[1] : o[1] + r[1], o[2] : o[2] + r[2]] += 1
                    for j in range(1, k):
                        n = sizes[s + j]
                        f = [2 if n[a] > 1 else 1 for a in range(3)]
                        assert all(n[a] % f[a] == 0 for a in range(3))  # the plan's promise
                        assert all(r[a] % f[a] == 0 and o[a] % f[a] == 0 for a in range(3))
                        if f[2] == 2:  # float2 reads: even rows at even offsets
                            assert off % 2 == 0 and r[2] % 2 == 0
                        reg = _pairs(reg, f)
                        off, cap = off + cap, cap >> dims
                        r = list(reg.shape[:3])
                        o = [o[a] // f[a] for a in range(3)]
                        assert r[0] * r[1] * r[2] <= cap
                        sl = tuple(slice(o[a], o[a] + r[a]) for a in range(3))
                        chain[s + j + 1][sl] = reg
                        writes[s + j + 1][sl] += 1
    for lv in range(1, levels):
        assert (writes[lv] == 1).all(), f"level {lv}: texels written {np.unique(writes[lv])}"
    return chain


@pytest.mark.parametrize(
    "extent",
    [
        (64, 64),
        (48, 64),
        (37, 23),
        (1, 40),
        (40, 1),
        (130, 257),
        (256, 8),
        (200, 96),
        (130,),
        (2048,),
        (2500,),
        (16, 16, 16),
        (15, 9, 7),
        (32, 8, 20),
        (1, 1, 40),
        (33, 64, 2),
    ],
)
def test_fused_model_equals_per_level_model(extent, rng):
    dims = len(extent)
    levels = max(extent).bit_length()
    spatial = tuple(reversed(extent))  # (d, h, w) of the used axes
    zyx = (1,) * (3 - dims) + spatial
    level0 = rng.standard_normal(zyx + (2,)).astype(np.float32)
    got = _fused(level0, dims, levels)
    want = _per_level(level0, levels)
    for lv in range(levels):
        np.testing.assert_array_equal(got[lv], want[lv], err_msg=f"{extent} level {lv}")
    # and the model of the per-level filter is the exact box filter within rounding
    ref = reference.box_pyramid(level0.reshape(spatial + (2,)), levels, dims=dims)
    for lv in range(levels):
        np.testing.assert_allclose(
            want[lv].reshape(ref[lv].shape), ref[lv], rtol=1e-5, atol=1e-5 * (lv + 1)
        )


# ------------------------------------------------------------ the wide-read passes


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("channels", [1, 2, 4])
def test_wide_kernels_compile(dtype, channels):
    from imagearray.sampling import mipwide as mw

    tb = np.dtype(dtype).itemsize * channels
    ox = mw.wide_outputs(tb)
    # a thread's taps in a row are whole 16-byte reads; it writes WIDE_WRITE bytes or
    # one texel
    assert (2 * ox * tb) % 16 == 0 and ox * tb == max(tb, mw.WIDE_WRITE)
    for dims, layered in VARIANTS:
        for levels in (1, 2, 3) if dims == 2 else (1,):
            src = mw.wide_source(np.dtype(dtype), channels, dims, layered, levels=levels)
            assert f"#define LEVELS {levels}" in src and f"#define OX {ox}" in src
            assert_compiles(src, arch="sm_90")  # a CUBIN: ptxas reads rd16/wrw's PTX


@pytest.mark.parametrize("streaming", [True, False])
@pytest.mark.parametrize("dims,layered", [(1, False), (2, False), (3, False), (2, True)])
def test_wide_passes_stream_the_level_read_and_the_level_made(
    monkeypatch, streaming, dims, layered
):
    """mipwide.STREAMING: the 16-byte reads and the writes of the level made are PTX's
    suld/sust with .cs (evict first) in the geometry of the image's surface, or (off)
    CUDA's surf*read / surf*write; the other texel writes (the levels below, from
    shared memory) are CUDA's surf*write either way."""
    from imagearray.sampling import mipwide as mw

    monkeypatch.setattr(mw, "STREAMING", streaming)
    src = mw.wide_source(np.dtype("float32"), 1, dims, layered)
    geom = {(1, False): "1d", (2, False): "2d", (3, False): "3d", (2, True): "a2d"}[dims, layered]
    kind = f"surf{dims}DLayered" if layered else f"surf{dims}D"
    n = 1 if streaming else 0
    assert src.count(f"suld.b.{geom}.cs.v4.b32.trap") == n
    assert src.count(f"sust.b.{geom}.cs.v2.b32.trap") == n  # 8 bytes: WIDE_WRITE
    assert src.count(f"{kind}read<uint4>(s, xb") == 1 - n
    assert src.count(f"{kind}write<WT>(v, s, xb") == 1 - n
    assert f"{kind}write<RT>(r, s" in src
    assert_compiles(src, arch="sm_90")


@pytest.mark.parametrize(
    "extent,dims,levels,want",
    [
        # 8192^2: wide while the level made is >= 64 wide, three levels a pass
        (
            (8192, 8192),
            2,
            14,
            [("wide", 0, 3), ("wide", 3, 3), ("wide", 6, 3), ("fused", 9, 4)],
        ),
        ((4096, 4096), 2, 13, [("wide", 0, 3), ("wide", 3, 3), ("fused", 6, 6)]),
        # level 2 is 73 wide: a pass of two levels, then fused from the odd one
        ((292, 140), 2, 9, [("wide", 0, 2), ("fused", 2, 1), ("fused", 3, 2), ("fused", 5, 3)]),
        # level 1 is 65 wide: one wide level, then fused from an odd level
        ((130, 256), 2, 9, [("wide", 0, 1), ("fused", 1, 6), ("fused", 7, 1)]),
        # level 1 is 48 wide (< 64): fused only
        ((96, 64), 2, 7, [("fused", 0, 5), ("fused", 5, 1)]),
        ((37, 23), 2, 6, [("fused", 0, 1), ("fused", 1, 1), ("fused", 2, 3)]),
        # an axis of 1 does not halve: fused from there
        ((512, 2), 2, 10, [("wide", 0, 1), ("fused", 1, 6), ("fused", 7, 2)]),
        # 1D / 3D: no wide passes; per level without the fused tail
        ((4096,), 1, 13, [("fused", 0, 11), ("fused", 11, 1)]),
        ((8, 4, 4), 3, 4, [("fused", 0, 3)]),
    ],
)
def test_chain_plan(extent, dims, levels, want):
    from imagearray.sampling import mipwide as mw

    plan = mw.chain_plan(extent, dims, levels)
    assert plan == want
    # every level 1 .. levels - 1 made once, in order
    made = [lv for _, s, k in plan for lv in range(s + 1, s + k + 1)]
    assert made == list(range(1, levels))
    per_level = mw.chain_plan(extent, dims, levels, fused_tail=False)
    assert [p for p in per_level if p[0] == "wide"] == [p for p in plan if p[0] == "wide"]
    assert all(k == 1 for kind, _, k in per_level if kind == "level")


def test_wide_grid():
    from imagearray.sampling import mipwide as mw

    # RGBA8 (2 texels a thread): 4096 wide -> 2048 threads = 64 warps; 8 rows a block
    assert mw.wide_grid((4096, 4096, 1), 4, 1, False) == ((64, 512, 1), (32, 8, 1))
    # 1-byte texels: 8 a thread; layers in z
    assert mw.wide_grid((100, 10, 1), 1, 3, True) == ((1, 2, 3), (32, 8, 1))
    # 16-byte texels: one a thread
    assert mw.wide_grid((65, 9, 1), 16, 1, False) == ((3, 2, 1), (32, 8, 1))


# ------------------------------------------------------------ the one-launch chain


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("channels", [1, 2, 4])
def test_chain_kernels_compile(monkeypatch, dtype, channels):
    from imagearray.sampling import mipchain as mc

    # the stages' fused_pass with mipkernels.PREREAD on, for the types of 4 bytes
    monkeypatch.setattr(mk, "PREREAD", np.dtype(dtype).itemsize * channels == 4)
    for layered in (False, True):
        for head, tails in ((3, 2), (2, 3), (1, 1)):
            src = mc.chain_source(np.dtype(dtype), channels, layered, head, tails)
            assert f"#define LEVELS {head}" in src and src.count("// stage ") == tails
            assert_compiles(src, clean=False, arch="sm_90")


def _blocks_of(extent, levels, texel, plan):
    """Model of the kernel's counting: for each stage, the blocks of the stage before
    that each group counts (its counter's size), from the level regions the blocks
    make; and the texels of the level a stage reads that each group covers."""
    from imagearray.sampling import mipkernels as mk
    from imagearray.sampling import mipwide as mw

    sizes = mk.level_sizes(extent, 2, levels)
    ox = mw.wide_outputs(texel)
    stride = ((32 * ox) >> (plan.head - 1), 8 >> (plan.head - 1))
    blocks = [(bx, by) for bx in range(plan.grid[0]) for by in range(plan.grid[1])]
    for t in plan.stages:
        w, h = sizes[t.s]
        # every texel of level s is made by exactly one block of the stage before
        owner = {}
        for bx, by in blocks:
            for x in range(bx * stride[0], min(w, (bx + 1) * stride[0])):
                for y in range(by * stride[1], min(h, (by + 1) * stride[1])):
                    assert (x, y) not in owner
                    owner[x, y] = (bx, by)
        assert len(owner) == w * h
        # the texels group (gx, gy) reads (fused: 64 x 64 at 64 * g, or the axis of 1)
        for gx in range(t.ngx):
            for gy in range(t.ngy):
                reads = {
                    owner[x, y]
                    for x in range(64 * gx, min(w, 64 * gx + 64))
                    for y in range(64 * gy, min(h, 64 * gy + 64))
                }
                counted = {(bx, by) for bx, by in blocks if bx // t.gx == gx and by // t.gy == gy}
                assert reads == counted, (t, gx, gy)
                need = min(t.gx, t.pbx - gx * t.gx) * min(t.gy, t.pby - gy * t.gy)
                assert need == len(counted)
        assert (t.pbx, t.pby) == (max(b[0] for b in blocks) + 1, max(b[1] for b in blocks) + 1)
        blocks = [(gx, gy) for gx in range(t.ngx) for gy in range(t.ngy)]
        # a fused block's stride at its last level: 32 halved where the level halves
        sx, sy = 32, 32
        for lv in range(t.s + 1, t.s + t.k):
            sx >>= sizes[lv][0] > 1
            sy >>= sizes[lv][1] > 1
        stride = (sx, sy)
    # every level made once, in order, the last one texel
    made = list(range(1, plan.head + 1)) + [
        lv for t in plan.stages for lv in range(t.s + 1, t.s + t.k + 1)
    ]
    assert made == list(range(1, levels)) and sizes[-1] == (1, 1)


@pytest.mark.parametrize(
    "extent,texel",
    [
        ((4096, 4096), 4),
        ((4096, 4096), 1),
        ((8192, 8192), 16),
        ((2048, 512), 2),
        ((1024, 256), 4),
        ((256, 4096), 8),
        ((4096, 64), 4),
        ((128, 128), 4),
    ],
)
def test_one_launch_plan_counts_each_group_s_blocks(extent, texel):
    from imagearray.sampling import mipchain as mc

    levels = max(extent).bit_length()
    plan = mc.plan(extent, levels, texel, 1, False)
    assert plan is not None
    _blocks_of(extent, levels, texel, plan)
    layered = mc.plan(extent, levels, texel, 3, True)
    assert layered.counters == 3 * plan.counters and layered.grid[2] == 3


@pytest.mark.parametrize(
    "extent,texel",
    [
        ((4096, 4000), 4),  # level 5 is 125 high: its taps cross groups
        ((96, 64), 4),  # no wide pass (level 1 is 48 wide)
        ((1024, 1024), 1),  # 8 texels a thread with a first pass of 1 level: 256 wide
    ],
)
def test_one_launch_plan_declines(extent, texel, monkeypatch):
    from imagearray.sampling import mipchain as mc
    from imagearray.sampling import mipwide as mw

    if extent == (1024, 1024):
        monkeypatch.setattr(mw, "WIDE_LEVELS", 1)
    assert mc.plan(extent, max(extent).bit_length(), texel, 1, False) is None


@pytest.mark.parametrize(
    "extent,texel,levels",
    [((4096, 4096), 4, 13), ((8192, 8192), 4, 14), ((4096, 1024), 16, 13), ((2048, 2048), 1, 12)],
)
def test_tail_plan_makes_every_level_below_the_first_pass_once(extent, texel, levels):
    """With ``mipchain.TAIL_ONE_LAUNCH``, the first wide pass makes levels 1 .. s0 and
    the one launch after it (mipchain's plan of the chain from level s0) every level
    below, each once, down to 1 x 1."""
    from imagearray.sampling import mipgen
    from imagearray.sampling import mipwide as mw

    steps = mw.chain_plan(extent, 2, levels)
    s0, sub, plan = mipgen._tail_plan(steps, extent, levels, texel, 1, False)
    assert steps[0] == ("wide", 0, s0) and len(steps) >= 3
    assert sub == tuple(n >> s0 for n in extent)
    made = list(range(1, s0 + 1)) + [s0 + lv for lv in range(1, plan.head + 1)]
    made += [s0 + lv for t in plan.stages for lv in range(t.s + 1, t.s + t.k + 1)]
    assert made == list(range(1, levels))
    assert plan.grid[2] == 1


def test_tail_plan_declines_a_tail_of_one_launch_and_other_first_passes():
    from imagearray.sampling import mipgen

    one = [("wide", 0, 1), ("fused", 1, 6)]
    assert mipgen._tail_plan(one, (64, 64), 7, 4, 1, False) is None
    deep = [("deep", 0, 3), ("deep", 3, 3), ("fused", 6, 6)]  # (mipdeep's first passes)
    assert mipgen._tail_plan(deep, (4096, 4096), 13, 4, 1, False) is None
