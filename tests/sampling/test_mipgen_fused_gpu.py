"""GPU tests of the default mip chain of ``generate_mipmaps`` (2D: the wide-read
passes of ``mipwide``, then fused passes; 1D and 3D with ``mipgen.FUSED``: fused
passes): every level equals the per-level box filter's bit for bit (float) / to
0 LSB (integer), for odd and even, non-square and 1-texel sizes, 2D / 3D / 1D /
layered / cubemap, every channel type and count, rows whose last texels a wide
thread makes one by one; and both are the exact box filter of ``testing.reference``
within its rounding."""

from __future__ import annotations

import numpy as np
import pytest
from _mipchains import _assert_same, _data

import imagearray as ia
from imagearray.sampling import mipkernels as mk
from imagearray.testing import reference

# every test each way a 2D chain runs (conftest.py, _mipchains.CHAINS)
pytestmark = [pytest.mark.gpu, pytest.mark.usefixtures("_fused")]

DTYPES = ["int8", "uint8", "int16", "uint16", "int32", "uint32", "float16", "float32"]


def _chains(shape, dtype, channels, rng, *, layered=False, cubemap=False, normalized=False):
    """(level 0, fused levels, per-level levels) of one random image."""
    full = tuple(shape) + ((channels,) if channels > 1 else ())
    data = _data(rng, full, dtype)
    spatial = shape[1:] if layered or cubemap else shape
    levels = max(spatial).bit_length()
    kw = dict(layered=layered, cubemap=cubemap, levels=levels, normalized=normalized)
    fused = ia.empty(full, dtype, channels, **kw)
    per_level = ia.empty(full, dtype, channels, **kw)
    fused.mip(0).set(data)
    per_level.mip(0).set(data)
    fused.generate_mipmaps()  # the default: fused
    kernel = mk.mipgen_kernel(np.dtype(dtype).name, channels, len(spatial), layered or cubemap)
    per_level.generate_mipmaps(kernel)
    got = [fused.mip(lv).get() for lv in range(levels)]
    want = [per_level.mip(lv).get() for lv in range(levels)]
    return data, got, want


def _assert_box(data, got, dims, dtype, what, layered=False):
    """Each level within rounding of the exact box filter of the level above."""
    slices = list(data) if layered else [data]
    for i, layer in enumerate(slices):
        want = reference.box_pyramid(layer, len(got), dims=dims)
        for lv in range(1, len(got)):
            g = got[lv][i] if layered else got[lv]
            if np.dtype(dtype).kind == "f":
                rtol = 2e-3 if dtype == "float16" else 2e-6
                scale = np.abs(want[lv - 1]).max() + 1  # cancellations: relative to data
                np.testing.assert_allclose(
                    g, want[lv], rtol=rtol, atol=rtol * scale, err_msg=f"{what} level {lv}"
                )
            else:
                d = np.abs(g.astype(np.int64) - want[lv].astype(np.int64))
                # 8/16-bit: +-1 LSB; 32-bit integers are averaged in float32 (24 bits)
                tol = 1
                if np.dtype(dtype).itemsize == 4:
                    tol = max(1, int(2.0**-20 * np.abs(want[lv - 1].astype(np.int64)).max()))
                assert d.max() <= tol, f"{what}: level {lv} off by {d.max()} > {tol}"


SHAPES_2D = [
    (64, 64),  # one pass of 6 levels, then one
    (48, 64),  # even until 4 x 3
    (23, 37),  # odd at once
    (1, 40),  # height 1
    (40, 1),  # width 1
    (257, 130),  # partial tiles, odd
    (8, 256),  # height reaches 1 mid-pass
    (600, 1000),  # many blocks, partial tiles, odd late
    (1024, 1024),  # wide passes (two levels each), then fused
    (140, 292),  # wide: 2 levels, rows ending mid-thread for 1- and 2-byte texels
    (264, 520),  # wide: 3 levels, then fused
    (200, 130),  # wide: 1 level (65 wide next), then fused
]


@pytest.mark.parametrize("shape", SHAPES_2D)
@pytest.mark.parametrize(
    "dtype,channels,normalized",
    [("float32", 1, False), ("float32", 4, False), ("uint8", 4, True), ("float16", 2, False)],
)
def test_fused_2d_equals_per_level(shape, dtype, channels, normalized, rng):
    data, got, want = _chains(shape, dtype, channels, rng, normalized=normalized)
    what = f"{shape} {dtype} x{channels}"
    _assert_same(got, want, what)
    _assert_box(data, got, 2, dtype, what)


SHAPES_3D = [(16, 16, 16), (7, 9, 15), (20, 8, 32), (40, 1, 1), (1, 1, 40), (2, 64, 33), (64,) * 3]


@pytest.mark.parametrize("shape", SHAPES_3D)
@pytest.mark.parametrize("dtype,channels", [("float32", 1), ("uint8", 4), ("float32", 2)])
def test_fused_3d_equals_per_level(shape, dtype, channels, rng):
    data, got, want = _chains(shape, dtype, channels, rng)
    what = f"3D {shape} {dtype} x{channels}"
    _assert_same(got, want, what)
    _assert_box(data, got, 3, dtype, what)


SHAPES_1D = [(40,), (3,), (1000,), (2048,), (4096,), (5000,)]


@pytest.mark.parametrize("shape", SHAPES_1D)
@pytest.mark.parametrize("dtype,channels", [("float32", 1), ("uint8", 4), ("int16", 2)])
def test_fused_1d_equals_per_level(shape, dtype, channels, rng):
    data, got, want = _chains(shape, dtype, channels, rng)
    what = f"1D {shape} {dtype} x{channels}"
    _assert_same(got, want, what)
    _assert_box(data, got, 1, dtype, what)


@pytest.mark.parametrize(
    "shape,layered,cubemap",
    [
        ((3, 23, 37), True, False),
        ((2, 64, 64), True, False),
        ((5, 1, 70), True, False),
        ((4, 100), True, False),  # 1D layered
        ((6, 32, 32), False, True),
    ],
)
@pytest.mark.parametrize("dtype,channels", [("float32", 1), ("uint8", 4), ("float16", 4)])
def test_fused_layered_equals_per_level(shape, layered, cubemap, dtype, channels, rng):
    data, got, want = _chains(shape, dtype, channels, rng, layered=layered, cubemap=cubemap)
    what = f"{'cubemap' if cubemap else 'layered'} {shape} {dtype} x{channels}"
    _assert_same(got, want, what)
    _assert_box(data, got, len(shape) - 1, dtype, what, layered=True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("channels", [1, 2, 4])
@pytest.mark.parametrize(
    "shape,layered",
    [
        ((45, 70), False),
        ((5, 9, 12), False),
        ((2, 33, 16), True),
        ((140, 292), False),  # wide passes, 2 levels, partial threads at row ends
        ((2, 132, 200), True),  # wide passes, layered
        ((264, 520), False),  # wide: 3 levels, rows ending mid-thread for 1-byte texels
    ],
)
def test_fused_every_channel_type(dtype, channels, shape, layered, rng):
    normalized = np.dtype(dtype).itemsize <= 2 and np.dtype(dtype).kind in "iu"
    data, got, want = _chains(shape, dtype, channels, rng, layered=layered, normalized=normalized)
    what = f"{shape} {dtype} x{channels}"
    _assert_same(got, want, what)
    dims = len(shape) - (1 if layered else 0)
    _assert_box(data, got, dims, dtype, what, layered=layered)


def test_fused_is_few_launches_and_replays(rng):
    import cupy

    # 4096 texels wide: two fused launches (11 levels, then 1), graph-captured,
    # re-reading level 0 as it is on each call, on the stream given.
    img = ia.empty((4096,), np.float32, levels=13)
    stream = cupy.cuda.Stream(non_blocking=True)
    for _ in range(2):
        data = _data(rng, (4096,), "float32")
        img.mip(0).set(data)
        img.generate_mipmaps(stream=stream)
        stream.synchronize()
        want = reference.box_pyramid(data, 13, dims=1)
        for lv in range(13):
            np.testing.assert_allclose(img.mip(lv).get(), want[lv], rtol=2e-6, atol=1e-3)
    launches, _ = img._mem._cache.mipfused
    assert [args[-1] for _, _, _, args in launches] == [11, 1]  # levels per pass
    graph_of, graph = img._mem._cache.mipgen_graph
    assert graph_of is launches and graph is not None


def test_2d_chains_take_the_planned_passes(rng, _fused):
    """A 4096^2 chain is one deep pass of 7 levels (6 with ROWS=4) and one fused pass;
    one launch with ONE_LAUNCH (mipchain: the wide pass, then two fused stages in the
    blocks that finish last); or two wide passes of three levels (three of two), then
    one fused pass of six (mipwide.chain_plan), with TAIL_ONE_LAUNCH the first wide
    pass and one launch of mipchain's kernel for the 512^2 chain below it (its wide
    pass, then one fused stage of six levels); captured as one graph; its levels are
    the per-level filter's."""
    from imagearray.sampling import mipchain as mc
    from imagearray.sampling import mipdeep as md
    from imagearray.sampling import mipwide as mw
    from imagearray.sampling import pdl

    wide_levels, one_launch, rows, programmatic, tail, *_ = _fused
    data, got, want = _chains((4096, 4096), "float32", 1, rng)
    _assert_same(got, want, "4096^2 float32")
    img = ia.empty((4096, 4096), np.float32, levels=13)
    img.generate_mipmaps()
    launches, _ = img._mem._cache.mipfused
    assert img._mem._cache.mipgen_graph[1] is not None
    if one_launch:
        one = mc.plan((4096, 4096), 13, 4, 1, False)
        assert [(t.s, t.k) for t in one.stages] == [(3, 6), (9, 3)]
        assert len(launches) == 1
        fn = mc.chain_kernel("float32", 1, False, wide_levels, 2).kernel
        assert launches[0][0] is fn and launches[0][1] == one.grid
        return
    plan = mw.chain_plan((4096, 4096), 2, 13, deep=md.deep_levels(4))
    if rows:
        k = {8: 7, 4: 6}[rows]
        assert plan == [("deep", 0, k), ("fused", k, 12 - k)]
        first = md.deep_kernel("float32", 1, False, rows).kernel
        assert launches[0][0] is first and launches[0][1] == ((32, 2048 // (8 * rows), 1))
    elif wide_levels == 3:
        assert plan == [("wide", 0, 3), ("wide", 3, 3), ("fused", 6, 6)]
    else:
        assert plan == [("wide", 0, 2), ("wide", 2, 2), ("wide", 4, 2), ("fused", 6, 6)]
    if tail:  # the first wide pass, then 512^2 -> 1 in one launch
        sub = mc.plan((512, 512), 10, 4, 1, False)
        assert sub.head == 3 and [(t.s, t.k) for t in sub.stages] == [(3, 6)]
        plan = plan[:1] + [("one", 3, 9)]
    assert len(launches) == len(plan)
    # every launch after the first a programmatic dependent one where PDL is on and
    # the device runs it (compute capability 9.0: sampling/pdl.py)
    dependent = programmatic and pdl.supported(img._handle.device)
    kinds = [isinstance(fn, pdl.Launcher) for fn, _, _, _ in launches]
    assert kinds == [False] + [dependent] * (len(launches) - 1)
    functions = [getattr(fn, "function", fn) for fn, _, _, _ in launches]
    if not rows:
        wide = mw.wide_kernel("float32", 1, 2, False, mw.WIDE_WRITE, wide_levels).kernel
        assert all(fn is wide for fn in functions[:-1])
    if tail:
        assert functions[-1] is mc.chain_kernel("float32", 1, False, 3, 1).kernel
        assert launches[-1][1] == sub.grid
        return
    assert functions[-1] is mk.fused_kernel("float32", 1, 2, False).kernel
