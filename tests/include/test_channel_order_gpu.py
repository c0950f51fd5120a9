"""GPU tests of the channel-order template argument: an RGBA8 image fetched through a
surface and a texture, written, and sampled with each of rgba, argb, bgra and abgr,
against NumPy's permutation of the channels (test_channel_order_header.PERMUTATION,
the peer's swap_order) and, for sampling, the reference of the texture unit."""

from __future__ import annotations

import numpy as np
import pytest
from _spec_kernels import raw_module
from test_channel_order_header import CHANNEL_ORDER_GPU_KERNELS, PERMUTATION

import imagearray as ia
from imagearray.testing import reference

pytestmark = pytest.mark.gpu

H, W = 5, 7
ORDERS = list(PERMUTATION)


@pytest.fixture(scope="module")
def module():
    return raw_module(CHANNEL_ORDER_GPU_KERNELS)


@pytest.fixture
def rgba8(rng):
    # distinct channels in every texel, so that any wrong permutation shows
    base = rng.integers(0, 64, (H, W, 1))
    return (base + np.array([0, 64, 128, 192])).astype(np.uint8)


@pytest.mark.parametrize("order", ORDERS)
def test_fetch_permutes_the_stored_channels(module, rgba8, order):
    import cupy

    img = ia.asimage(rgba8, channels=4)
    from_surface = cupy.zeros((H, W, 4), np.uint8)
    from_texture = cupy.zeros((H, W, 4), np.uint8)
    module.get_function(f"fetch_{order}")(
        (1, H),
        (W,),
        (
            img.surface(),
            img.texture(ia.Sampler()),
            np.int32(W),
            np.int32(H),
            from_surface,
            from_texture,
        ),
    )
    want = rgba8[..., list(PERMUTATION[order])]
    np.testing.assert_array_equal(from_surface.get(), want)
    np.testing.assert_array_equal(from_texture.get(), want)
    if order == "argb":  # (a, r, g, b) of every texel
        np.testing.assert_array_equal(from_surface.get()[..., 0], rgba8[..., 3])


@pytest.mark.parametrize("order", ORDERS)
def test_write_stores_the_channels_in_order(module, rng, order):
    import cupy

    values = rng.integers(0, 256, (H, W, 4)).astype(np.uint8)
    out = ia.zeros((H, W, 4), np.uint8, 4)
    module.get_function(f"write_{order}")(
        (1, H), (W,), (out.surface(), np.int32(W), np.int32(H), cupy.asarray(values))
    )
    np.testing.assert_array_equal(out.get(), values[..., list(PERMUTATION[order])])


def test_argb_read_then_write_rotates_as_the_peer_does(module, rgba8):
    import cupy

    img = ia.asimage(rgba8, channels=4)
    read = cupy.zeros((H, W, 4), np.uint8)
    module.get_function("fetch_argb")(
        (1, H),
        (W,),
        (
            img.surface(),
            img.texture(ia.Sampler()),
            np.int32(W),
            np.int32(H),
            read,
            cupy.zeros_like(read),
        ),
    )
    out = ia.zeros((H, W, 4), np.uint8, 4)
    module.get_function("write_argb")((1, H), (W,), (out.surface(), np.int32(W), np.int32(H), read))
    perm = np.array(PERMUTATION["argb"])
    np.testing.assert_array_equal(out.get(), rgba8[..., perm[perm]])  # twice: not the identity


@pytest.mark.parametrize("order", ORDERS)
def test_sample_permutes_the_filtered_channels(module, rgba8, rng, order):
    import cupy

    img = ia.asimage(rgba8, channels=4, normalized=True)  # unorm8: filters
    s = ia.Sampler("clamp_to_edge", "unnormalized", "linear")
    n = 200
    t = rng.integers(0, [W, H], (n, 2)) + 0.5 + (rng.integers(0, 256, (n, 2)) + 0.25) / 256
    c = t.astype(np.float32)
    out = cupy.zeros((n, 4), np.float32)
    module.get_function(f"sample_{order}")(
        ((n + 127) // 128,), (128,), (img.texture(s), cupy.asarray(c), np.int32(n), out)
    )
    perm = list(PERMUTATION[order])
    # the same read as ImageArray.sample, channels permuted: exactly
    np.testing.assert_array_equal(out.get(), img.sample(cupy.asarray(c), s).get()[..., perm])
    want = reference.sample(rgba8, c, s, "unorm_int8", dims=2)[..., perm]
    np.testing.assert_allclose(out.get(), want, rtol=0, atol=1e-6)
