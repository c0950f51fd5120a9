"""The texture cache bound on the GPU: 2,000 distinct samplers sampled on one image
leave at most MAX_TEXTURES + EVICT_BATCH + 1 live texture objects (the issue: ~1,900),
every sample reads right, and free() destroys the rest."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import imagearray as ia
from imagearray.sampling import cache as c

pytestmark = pytest.mark.gpu


def _live_textures() -> int:
    from imagearray import _handles

    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, _handles.TextureObject) and o.alive)


def test_two_thousand_samplers_stay_bounded_and_sample_right():
    import cupy

    data = np.arange(16 * 16, dtype=np.float32).reshape(16, 16)
    img = ia.asimage(data)
    base = _live_textures()
    c_pts = cupy.asarray([[3.5, 5.5], [15.5, 0.5]], dtype=cupy.float32)  # texel centres
    want = [data[5, 3], data[0, 15]]
    s = cupy.cuda.Stream(non_blocking=True)
    for i in range(2000):  # distinct samplers (the border colour differs)
        sampler = ia.Sampler("clamp", "unnormalized", "nearest", border_color=(i, 0, 0, 0))
        got = img.sample(c_pts, sampler, stream=s if i % 2 else None)
        if i % 97 == 0:
            np.testing.assert_array_equal(got.get(), want)
        if i % 250 == 0:
            assert _live_textures() - base <= c.MAX_TEXTURES + c.EVICT_BATCH + 1
    s.synchronize()
    assert _live_textures() - base <= c.MAX_TEXTURES + c.EVICT_BATCH + 1
    pinned = img.texture(ia.Sampler("clamp", "unnormalized", "nearest"))
    for i in range(200):
        img.sample(c_pts, ia.Sampler("clamp", "unnormalized", "nearest", border_color=(0, i, 0, 0)))
    assert pinned.alive  # handed out: never evicted
    img.free()
    assert not pinned.alive and _live_textures() == base
