"""Two devices (issue 19; marker ``multigpu``: skipped where fewer than two). Work on
an image of device 1 asked for while device 0 is current runs on the image's device,
its results there, with CuPy arguments given on device 0 copied over (as CuPy's own
``asarray`` does); a stream of the other device is refused, by sample() and fetch()
with :class:`DeviceMismatchError` naming both devices, by a copy with
:class:`CopyError` (scenario 1). The peer copies, host memory prepared on one device
and copied from another, and the threads spread over both devices are in
tests/copies and tests/reliability."""

from __future__ import annotations

import numpy as np
import pytest

import imagearray as ia
from imagearray.testing import reference

pytestmark = pytest.mark.multigpu

NEAREST = ia.Sampler("clamp_to_edge", "unnormalized", "nearest")
H, W = 24, 40


@pytest.fixture
def on_1(rng):
    """(data, the image of it on device 1), device 0 current."""
    import cupy

    data = rng.standard_normal((H, W)).astype(np.float32)
    img = ia.asimage(data, device=1)
    with cupy.cuda.Device(1):
        cupy.cuda.Device().synchronize()
    with cupy.cuda.Device(0):
        yield data, img
    img.free()


def _texels(rng, n=300):
    """(x, y) int32 texel indices of an H x W image."""
    return np.stack([rng.integers(0, W, n), rng.integers(0, H, n)], -1).astype(np.int32)


def test_sample_and_fetch_run_on_the_image_s_device_with_arguments_from_the_other(on_1, rng):
    import cupy

    data, img = on_1
    xy = _texels(rng)
    centres = xy.astype(np.float32) + 0.5  # nearest: exactly the texel
    assert cupy.cuda.runtime.getDevice() == 0
    got = img.sample(cupy.asarray(centres), NEAREST)  # coordinates on device 0
    fetched = img.fetch(cupy.asarray(xy))
    assert got.device.id == 1 and fetched.device.id == 1
    want = reference.sample(data, centres, NEAREST, dims=2)
    np.testing.assert_array_equal(got.get(), want.astype(np.float32))
    np.testing.assert_array_equal(fetched.get(), data[xy[:, 1], xy[:, 0]])
    assert cupy.cuda.runtime.getDevice() == 0  # left as it was


def test_a_stream_of_the_other_device_is_refused(on_1):
    import cupy

    data, img = on_1
    s0 = cupy.cuda.Stream(non_blocking=True)  # device 0's
    pts = cupy.zeros((4, 2), cupy.float32)
    idx = cupy.zeros((4, 2), cupy.int32)
    for call in (
        lambda: img.sample(pts, NEAREST, stream=s0),
        lambda: img.fetch(idx, stream=s0),
    ):
        with pytest.raises(ia.DeviceMismatchError, match=r"device 0\b.*\b1\b"):
            call()  # "stream belongs to device 0, the operation to 1"
    with pytest.raises(ia.CopyError) as info:
        ia.copy(img, np.empty_like(data), stream=s0)
    assert info.value.scenario == 1
    np.testing.assert_array_equal(img.get(), data)  # nothing was written


def test_mipmaps_of_a_device_1_image_from_device_0(rng):
    import cupy

    data = rng.integers(0, 256, (64, 48), np.uint8)
    img = ia.empty((64, 48), np.uint8, levels=7, normalized=True, device=1)
    with cupy.cuda.Device(0):
        img.mip(0).set(data)
        img.generate_mipmaps()
        img.generate_mipmaps()  # the replay, asked for from the other device too
        got = [img.mip(lv).get() for lv in range(7)]
    want = reference.box_pyramid(data, 7, dims=2, channel_type="unorm_int8")
    for lv, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_array_equal(g, w, err_msg=f"level {lv}")
    img.free()


def test_ndimage_on_a_device_1_array_from_device_0(rng):
    import cupy
    import cupyx.scipy.ndimage as ndi

    data = rng.standard_normal((H, W)).astype(np.float32)
    # rows and columns a quarter off the texel: order 0 picks one texel, no ties
    coords = np.stack([rng.integers(0, H, 200), rng.integers(0, W, 200)]).astype(np.float32)
    coords += 0.25
    with cupy.cuda.Device(1):
        x1 = cupy.asarray(data)
        want = ndi.map_coordinates(x1, cupy.asarray(coords), order=0).get()
        zoomed = ndi.zoom(x1, 0.5, order=1, mode="nearest", grid_mode=False).get()
    with cupy.cuda.Device(0):
        got = ia.ndimage.map_coordinates(x1, cupy.asarray(coords), order=0)
        z = ia.ndimage.zoom(x1, 0.5, order=1, mode="nearest", precision="exact")
    assert got.device.id == 1 and z.device.id == 1
    np.testing.assert_array_equal(got.get(), want)
    np.testing.assert_allclose(z.get(), zoomed, rtol=0, atol=1e-5)


def test_affine_transform_with_a_matrix_on_the_other_device(rng):
    """A CuPy matrix is read by the kernel where it is (no copy per call) only on the
    input's device: one on the other device is copied over, where a kernel given its
    pointer would read memory it cannot reach without peer access."""
    import cupy
    import cupyx.scipy.ndimage as ndi

    data = rng.standard_normal((H, W)).astype(np.float32)
    m = np.array([[0.9, 0.1], [-0.05, 1.1]], np.float32)
    offset = (1.5, -2.25)
    with cupy.cuda.Device(1):
        x1 = cupy.asarray(data)
        want = ndi.affine_transform(x1, cupy.asarray(m), offset, order=1).get()
    with cupy.cuda.Device(0):
        m0 = cupy.asarray(m)
        for _ in range(2):  # the second call: no stale plan of the first's copy
            got = ia.ndimage.affine_transform(x1, m0, offset, order=1, precision="exact")
            assert got.device.id == 1
            np.testing.assert_allclose(got.get(), want, rtol=0, atol=1e-5)


@pytest.mark.parametrize("order", [1, 2])  # 2: cupyx's fallback (FallbackWarning)
def test_ndimage_output_on_the_other_device(rng, order):
    """An ``output`` array on another device than the input's is filled there, from
    the texture path's result (order 1) or cupyx's (order 2) copied over."""
    import warnings

    import cupy
    import cupyx.scipy.ndimage as ndi

    data = rng.standard_normal((H, W)).astype(np.float32)
    coords = rng.uniform(0, min(H, W) - 1, (2, 150)).astype(np.float32)
    with cupy.cuda.Device(1):
        x1 = cupy.asarray(data)
        want = ndi.map_coordinates(x1, cupy.asarray(coords), order=order).get()
    with cupy.cuda.Device(0):
        out0 = cupy.full(150, np.nan, np.float32)
        c0 = cupy.asarray(coords)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ia.FallbackWarning)
        got = ia.ndimage.map_coordinates(x1, c0, output=out0, order=order, precision="exact")
    assert got is out0 and out0.device.id == 0
    np.testing.assert_allclose(out0.get(), want, rtol=0, atol=1e-5)
