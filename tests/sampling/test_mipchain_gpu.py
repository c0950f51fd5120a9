"""GPU tests of the one-launch mip chain (``mipchain``, with ``ONE_LAUNCH``) and of the
separate launches on the shapes it takes, each way of ``_mipchains.CHAINS``: levels
equal to the per-level box filter's bits on a first call and on replays (a file of
its own: with test_mipgen_fused_gpu it ran past one pytest process's share of
tools/gpu-test.sh's time)."""

from __future__ import annotations

import numpy as np
import pytest
from _mipchains import _assert_same, _data

import imagearray as ia
from imagearray.sampling import mipkernels as mk

# every test each way a 2D chain runs (conftest.py, _mipchains.CHAINS)
pytestmark = [pytest.mark.gpu, pytest.mark.usefixtures("_fused")]


# shapes the one-launch chain takes (mipchain.plan): groups cut at the image's edges,
# one and several stages, layers counted apart; (layers, cubemap) where layered
ONE_LAUNCH_SHAPES = [
    ((128, 128), 0, False),  # one group, one stage
    ((512, 2048), 0, False),  # 4 x 1 groups; 2-byte texels: 4 a thread
    ((1024, 256), 0, False),  # one row of groups, the last stage 2 x 1
    ((256, 4096), 0, False),  # tall: one column of groups
    ((4096, 64), 0, False),  # wide and low: the stage's groups 1 high
    ((2048, 2048), 0, False),
    ((3, 512, 768), 3, False),  # layered
    ((6, 256, 256), 6, True),  # cubemap faces
]


@pytest.mark.parametrize("shape,layers,cubemap", ONE_LAUNCH_SHAPES)
@pytest.mark.parametrize(
    "dtype,channels",
    [("float32", 1), ("uint8", 4), ("uint8", 1), ("float16", 2), ("float32", 4), ("int16", 1)],
)
def test_one_launch_chain_equals_per_level_on_every_replay(
    shape, layers, cubemap, dtype, channels, rng, _fused
):
    """The one-launch chain's levels are the per-level filter's bits, on a first call
    and on replays over new level-0 data (its group counters are back to 0 after
    every launch); it is one launch where ``mipchain.plan`` takes the shape."""
    from imagearray.sampling import mipchain as mc

    spatial = shape[1:] if layers else shape
    levels = max(spatial).bit_length()
    full = tuple(shape) + ((channels,) if channels > 1 else ())
    normalized = np.dtype(dtype).kind in "iu"
    kw = dict(layered=bool(layers) and not cubemap, cubemap=cubemap, levels=levels)
    img = ia.empty(full, dtype, channels, normalized=normalized, **kw)
    ref = ia.empty(full, dtype, channels, normalized=normalized, **kw)
    texel = np.dtype(dtype).itemsize * channels
    one = mc.ONE_LAUNCH and mc.plan(spatial[::-1], levels, texel, max(layers, 1), bool(layers))
    for call in range(3):
        data = _data(rng, full, dtype)
        img.mip(0).set(data)
        ref.mip(0).set(data)
        img.generate_mipmaps()
        ref.generate_mipmaps(mk.mipgen_kernel(dtype, channels, 2, bool(layers)))
        got = [img.mip(lv).get() for lv in range(levels)]
        want = [ref.mip(lv).get() for lv in range(levels)]
        _assert_same(got, want, f"{shape} {dtype} x{channels}, call {call}")
    if one:
        assert len(img._mem._cache.mipfused[0]) == 1
    else:  # separate launches: as many as the chain's plan has passes
        from imagearray.sampling import mipdeep as md
        from imagearray.sampling import mipwide as mw

        plan = mw.chain_plan(spatial[::-1], 2, levels, True, md.deep_levels(texel))
        if mc.TAIL_ONE_LAUNCH and len(plan) > 2 and plan[0][0] == "wide":
            s0 = plan[0][2]  # the rest, from the level the first pass made last
            sub = [max(1, n >> s0) for n in spatial[::-1]]
            if mc.plan(tuple(sub), levels - s0, texel, max(layers, 1), bool(layers)):
                plan = plan[:1] + [("one", s0, levels - 1 - s0)]
        assert len(img._mem._cache.mipfused[0]) == len(plan)
