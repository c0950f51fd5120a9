"""The deep first pass of the mip chain (``mipdeep``) without a GPU: its kernel compiles
with NVRTC for every channel type and count, layered or not, without a warning; the
chain plan takes it where levels halve; and a model of its blocks' tiles (the
kernel's index arithmetic) makes every texel of every level it is given exactly
once."""

from __future__ import annotations

import numpy as np
import pytest
from test_kernels_compile import assert_compiles

from imagearray.sampling import mipdeep as md
from imagearray.sampling import mipkernels as mk
from imagearray.sampling import mipwide as mw

DTYPES = ["int8", "uint8", "int16", "uint16", "int32", "uint32", "float16", "float32"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("channels", [1, 2, 4])
@pytest.mark.parametrize("rows", [8, 4, 1])
def test_deep_kernels_compile(dtype, channels, rows):
    tb = np.dtype(dtype).itemsize * channels
    for layered in (False, True):
        src = md.deep_source(np.dtype(dtype), channels, layered, rows)
        assert f"#define OX {mw.wide_outputs(tb)}" in src
        assert_compiles(src, arch="sm_90")  # a CUBIN: ptxas reads rd16/wrw's PTX


def test_deep_levels_and_grid():
    # 4-byte texels: 2 a thread, a 64 x 64 tile of the first level: 7 levels (64 .. 1)
    assert md.deep_levels(4, 8) == 7
    assert md.deep_grid((2048, 2048), 4, 1, 8) == ((32, 32, 1), (32, 8, 1))
    # 1-byte texels: 8 a thread, 256 x 64: 7 levels (the tile is 4 x 1 at the last)
    assert md.deep_levels(1, 8) == 7
    # 16-byte texels: one a thread, half the rows: 32 x 32, 6 levels
    assert md.deep_levels(16, 8) == 6
    assert md.deep_grid((65, 9), 16, 3, 8) == ((3, 1, 3), (32, 8, 1))
    assert md.deep_levels(4, 4) == 6 and md.deep_levels(4, 1) == 4
    # the tile (and the shared memory the kernel declares) is the same size for all
    for tb in (1, 2, 4, 8, 16):
        tw, th = md._tile(tb, 8)
        assert tw * th * tb <= 16384 and tw % 2 ** (md.deep_levels(tb, 8) - 1) == 0


@pytest.mark.parametrize(
    "extent,texel,want",
    [
        ((4096, 4096), 4, [("deep", 0, 7), ("fused", 7, 5)]),
        ((8192, 8192), 4, [("deep", 0, 7), ("fused", 7, 6)]),
        ((16384, 16384), 4, [("deep", 0, 7), ("deep", 7, 7)]),
        # level 1 is 65 wide: one level, then fused from the odd one
        ((130, 256), 4, [("deep", 0, 1), ("fused", 1, 6), ("fused", 7, 1)]),
        # the level made reaches a height of 1
        ((4096, 64), 4, [("deep", 0, 6), ("fused", 6, 6)]),
        ((256, 256), 16, [("deep", 0, 6), ("fused", 6, 2)]),
        # level 1 is 48 wide (< 64): fused only
        ((96, 64), 4, [("fused", 0, 5), ("fused", 5, 1)]),
    ],
)
def test_chain_plan_takes_deep_passes(extent, texel, want):
    levels = max(extent).bit_length()
    plan = mw.chain_plan(extent, 2, levels, deep=md.deep_levels(texel, 8))
    assert plan == want
    made = [lv for _, s, k in plan for lv in range(s + 1, s + k + 1)]
    assert made == list(range(1, levels))
    # every deep pass's levels but its last halve evenly (its blocks' tiles halve)
    sizes = mk.level_sizes(extent, 2, levels)
    for kind, s, k in plan:
        if kind == "deep":
            assert all(n % 2 == 0 for lv in range(s, s + k) for n in sizes[lv])


def _model_writes(size, k, texel, rows):
    """Texels (level, x, y) each block of a deep pass writes, by the kernel's
    arithmetic: the first level by rows of threads, then each level of the clipped
    tile halved, at (gx >> j) + qx."""
    tw, th = md._tile(texel, rows)
    (gxn, gyn, _), _ = md.deep_grid(size, texel, 1, rows)
    ox, rows_t = mw.wide_outputs(texel), th // 8
    dw, dh = size
    writes = []
    for bx in range(gxn):
        for by in range(gyn):
            x0, y0 = bx * tw, by * th
            rx, ry = min(tw, dw - x0), min(th, dh - y0)
            for ty in range(8):
                for tx in range(32):
                    x = x0 + tx * ox
                    for r in range(rows_t):
                        y = y0 + r * 8 + ty
                        if y < dh and x < dw:
                            writes += [(1, i, y) for i in range(x, min(x + ox, dw))]
            tw_, th_, gx, gy = rx, ry, x0, y0
            for j in range(1, k):
                nw, nh = tw_ >> 1, th_ >> 1
                gx, gy = gx >> 1, gy >> 1
                writes += [(j + 1, gx + t % nw, gy + t // nw) for t in range(nw * nh)]
                tw_, th_ = nw, nh
    return writes


@pytest.mark.parametrize(
    "extent,texel,rows",
    [((512, 256), 4, 8), ((768, 512), 4, 8), ((130, 256), 4, 8), ((1024, 64), 1, 8)]
    + [((384, 128), 16, 8), ((512, 512), 4, 4), ((4096, 64), 4, 8)],
)
def test_deep_blocks_make_every_texel_once(extent, texel, rows):
    levels = max(extent).bit_length()
    plan = mw.chain_plan(extent, 2, levels, deep=md.deep_levels(texel, rows))
    kind, s, k = plan[0]
    assert kind == "deep" and s == 0
    sizes = mk.level_sizes(extent, 2, k + 1)
    writes = _model_writes(sizes[1], k, texel, rows)
    assert len(writes) == len(set(writes))
    want = {
        (lv, x, y)
        for lv in range(1, k + 1)
        for x in range(sizes[lv][0])
        for y in range(sizes[lv][1])
    }
    assert set(writes) == want
