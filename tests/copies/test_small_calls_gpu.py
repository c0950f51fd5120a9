"""GPU tests of issue 21 item 10's fast paths: copies replayed from the memo (with
keywords), plain-slice region views, move the bytes NumPy says, call after call and
tile after tile; a cached plan still refuses freed memory."""

from __future__ import annotations

import numpy as np
import pytest

import imagearray as ia
from imagearray.copies import executor as _copies

pytestmark = pytest.mark.gpu

T = 16  # tile size


def same_bytes(a, b):
    np.testing.assert_array_equal(
        np.ascontiguousarray(a).view(np.uint8), np.ascontiguousarray(b).view(np.uint8)
    )


def test_a_tile_loop_through_the_memo_moves_every_tile(rng):
    full = rng.integers(0, 256, (5 * T, 7 * T, 4), np.uint8)
    img = ia.zeros(full.shape, np.uint8, 4)
    tile = np.empty((T, T, 4), np.uint8)
    for _ in range(2):  # the second pass replays every plan of the first
        for ty in range(5):
            for tx in range(7):
                tile[...] = full[ty * T : (ty + 1) * T, tx * T : (tx + 1) * T]
                ia.copy(tile, img, dst_offset=(tx * T, ty * T), extent=(T, T)).synchronize()
    same_bytes(img.get(), full)
    assert len(_copies._FAST) >= 5 * 7
    out = np.zeros((T, T, 4), np.uint8)
    for ty, tx in [(0, 0), (4, 6), (2, 3), (4, 6)]:
        ia.copy(img, out, src_offset=(tx * T, ty * T), extent=[T, T]).synchronize()
        same_bytes(out, full[ty * T : (ty + 1) * T, tx * T : (tx + 1) * T])


def test_image_to_image_and_cupy_regions_replayed(rng):
    import cupy

    a = rng.standard_normal((40, 50)).astype(np.float32)
    src, dst = ia.asimage(a), ia.zeros((40, 50), np.float32)
    want = np.zeros_like(a)
    for i in range(3):
        ia.copy(src, dst, src_offset=(i, 2 * i), dst_offset=(10, 5), extent=(8, 6))
        want[5:11, 10:18] = a[2 * i : 2 * i + 6, i : i + 8]
        same_bytes(dst.get(), want)
    dev = cupy.zeros((6, 8), cupy.float32)
    for _ in range(3):
        dev.fill(0)
        ia.copy(src, dev, src_offset=(3, 4), extent=(8, 6)).synchronize()
        same_bytes(dev.get(), a[4:10, 3:11])


def test_region_views_read_and_write_what_numpy_does(rng):
    import cupy

    full = rng.standard_normal((33, 47, 2)).astype(np.float16)
    img = ia.asimage(full, channels=2)
    for y, x in [(0, 0), (5, 9), (17, 31), (5, 9)]:
        view = img[y : y + 16, x : x + 16]
        same_bytes(view.to_cupy().get(), full[y : y + 16, x : x + 16])
        same_bytes(view.get(), full[y : y + 16, x : x + 16])
    img[-8:, -10:] = cupy.asarray(full[:8, :10])
    full[-8:, -10:] = full[:8, :10]
    same_bytes(img.get(), full)


def test_a_cached_plan_refuses_freed_memory(rng):
    img = ia.zeros((16, 16), np.float32)
    host = rng.standard_normal((4, 4)).astype(np.float32)
    for _ in range(2):
        ia.copy(host, img, dst_offset=(2, 3), extent=(4, 4)).synchronize()
    img.free()
    with pytest.raises(ia.ReleasedResourceError):
        ia.copy(host, img, dst_offset=(2, 3), extent=(4, 4))


_READ = r"""
extern "C" __global__ void read(unsigned long long tex, float* out, int w, int h) {
    int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x < w && y < h) out[y * w + x] = tex2D<float>(tex, x + 0.5f, y + 0.5f);
}
"""


def test_texture_handles_made_again_and_again_read_the_image(rng):
    import cupy

    a = rng.standard_normal((12, 20)).astype(np.float32)
    img = ia.asimage(a)
    s = ia.Sampler()
    kernel = cupy.RawKernel(_READ, "read")
    for _ in range(5):
        out = cupy.full((12, 20), np.nan, cupy.float32)
        with ia.create_image(img.mem, img.descriptor, s) as tex:
            kernel((2, 1), (16, 16), (tex, out, np.int32(20), np.int32(12)))
            got = out.get()
        same_bytes(got, a)


def test_recipe_handles_are_the_general_paths_and_hold_the_memory_alive():
    """Handles made again from create_image's recipe (HandleRecipe: the driver call
    and the owner's registration in Cython) have the first handle's type, descriptor
    and kernel type, and are registered as dependents: the memory refuses to be
    freed until every one is destroyed."""
    from imagearray.handles import live_handles

    img = ia.asimage(np.arange(64, dtype=np.uint16).reshape(8, 8))
    lin = ia.Sampler(filtering="linear")
    made = [ia.create_image(img.mem, img.descriptor, lin) for _ in range(3)]
    made += [ia.create_image(img.mem, img.descriptor) for _ in range(3)]
    for first, again in (made[0:2], made[3:5]):
        assert type(again) is type(first) and again.descriptor is first.descriptor
        assert int(again) != int(first) and again.alive
    assert {type(h).__name__ for h in made[3:]} == {"UnsampledImageHandle"}
    kinds = {h.kernel_type for h in made[:3]}
    assert kinds == {"ia::filtered_integer_image_handle<unsigned short>"}
    assert set(live_handles(img.mem.handle)) == {h._obj for h in made}
    for h in made:
        with pytest.raises(ia.ImageArrayValueError, match="still alive"):
            img.mem.free()
        h.destroy()
    assert live_handles(img.mem.handle) == []
    # destroyed or collected, a handle takes its entry out of the owner's set
    assert len(img.mem.handle.dependents.data) == 0
    dropped = [ia.create_image(img.mem, img.descriptor, s) for s in (lin, None, lin)]
    assert len(img.mem.handle.dependents.data) == 3
    del dropped, h, made, first, again
    assert len(img.mem.handle.dependents.data) == 0
    img.free()
