"""GPU tests of ia.ndimage.resize against scikit-image on the CPU.

``method="exact"``: 2D grayscale, 2D RGB (the last axis kept) and 3D, float32, uint8
and float64, down (antialiased by default), up, mixed, every mode, a given
``anti_aliasing_sigma``, no antialiasing, no clip, ``preserve_range``: within 1e-4.

``zoom(..., antialias=True)``: scikit-image's ``rescale(anti_aliasing=True)`` within
1e-4, the dtype kept.

``method="mip"``: against its NumPy texture-unit model (``_resize_util.mip_model``:
``box_pyramid`` + ``sample_mipmap`` with the method's plan) within the texture unit's
documented tolerance (8-bit weights, 8/16-bit storage of the levels), and against
scikit-image's ``anti_aliasing=True`` on photographs within the bound resizing's
docstring derives (``MIP_BOUND`` max, ``MIP_MEAN_BOUND`` mean; the test prints the
figures the device gives). The argument checks: test_resize_cpu.py."""

from __future__ import annotations

import cupy
import numpy as np
import pytest
from _resize_util import (
    MIP_BOUND,
    MIP_MEAN_BOUND,
    mip_model,
    photo,
    skimage_resize,
    smooth_random,
)

import imagearray.ndimage as iand
from imagearray.testing import reference as ref

transform = pytest.importorskip("skimage.transform")

pytestmark = [pytest.mark.gpu, pytest.mark.filterwarnings("error::imagearray.FallbackWarning")]

ATOL = 1e-4  # the exact method against scikit-image (issue 18)


def _images():
    rng = np.random.default_rng(5)
    return {
        "2d-float32": rng.random((64, 81)).astype(np.float32),
        "2d-uint8": (rng.random((57, 48)) * 255).astype(np.uint8),
        "2d-float64": rng.random((40, 33)),
        "rgb-float32": rng.random((48, 60, 3)).astype(np.float32),
        "rgb-uint8": (rng.random((45, 52, 3)) * 255).astype(np.uint8),
        "rgba-uint8": (rng.random((45, 52, 4)) * 255).astype(np.uint8),
        "3d-float32": rng.random((20, 26, 23)).astype(np.float32),
        "3d-uint8": (rng.random((18, 15, 21)) * 255).astype(np.uint8),
    }


IMAGES = _images()
RESIZES = [
    ((16, 20), {}),  # about 4x down: antialiased by default
    ((31, 27), {"mode": "constant", "cval": 0.3}),
    ((90, 101), {"mode": "constant", "cval": 0.7}),  # up: grid-constant reaches cval
    ((25, 120), {"mode": "wrap"}),  # one axis down, one up: grid-wrap
    ((11, 13), {"mode": "symmetric", "anti_aliasing_sigma": 1.5}),
    ((11, 13), {"mode": "edge", "anti_aliasing": False}),
    ((33, 17), {"mode": "reflect", "clip": False}),
    ((20, 30), {"mode": "reflect", "anti_aliasing": True, "anti_aliasing_sigma": (2.0, 0.5)}),
]


def _shape(name, img, shape):
    if img.ndim == 3 and name.startswith("3d"):
        return shape + (9,)
    return shape  # channels kept: one size fewer


def _close(got, want, what, atol):
    assert isinstance(got, cupy.ndarray) and got.dtype == np.float32, what
    assert got.shape == want.shape, f"{what}: shape {got.shape}, scikit-image {want.shape}"
    d = np.abs(got.get().astype(np.float64) - want)
    assert float(d.max()) <= atol, f"{what}: max |difference| {float(d.max()):.3g} > {atol:g}"


@pytest.mark.filterwarnings("ignore:Anti-aliasing standard deviation")  # scikit-image's too
@pytest.mark.parametrize("name", IMAGES)
@pytest.mark.parametrize("shape, kw", RESIZES, ids=[str(r) for r in RESIZES])
def test_exact_method_matches_scikit_image(name, shape, kw):
    img = IMAGES[name]
    if kw.get("anti_aliasing_sigma") == (2.0, 0.5) and img.ndim == 3:
        kw = dict(kw, anti_aliasing_sigma=(2.0, 0.5, 0.0))
    shape = _shape(name, img, shape)
    want = skimage_resize(img, shape, **kw)
    got = iand.resize(cupy.asarray(img), shape, **kw)
    _close(got, want, f"{name} -> {shape} {kw}", ATOL)


@pytest.mark.parametrize("name", ["2d-uint8", "rgb-uint8"])
def test_exact_method_preserve_range(name):
    img = IMAGES[name]
    for shape in ((20, 17), (70, 61)):
        kw = {"preserve_range": True, "mode": "constant", "cval": 40}
        want = skimage_resize(img, shape, **kw)
        _close(iand.resize(cupy.asarray(img), shape, **kw), want, f"{name} 0..255", ATOL * 255)


def test_exact_method_takes_numpy_input_and_keeps_the_input_device():
    img = IMAGES["2d-float32"]
    want = skimage_resize(img, (16, 20))
    _close(iand.resize(img, (16, 20)), want, "numpy input", ATOL)
    last = cupy.cuda.runtime.getDeviceCount() - 1
    with cupy.cuda.Device(last):
        gpu = cupy.asarray(img)
    got = iand.resize(gpu, (16, 20))
    assert got.device.id == last
    _close(got, want, "input on the last device", ATOL)


# ------------------------------------------------------------------ method="mip"

MIP_SHAPES = [(24, 32), (48, 65), (12, 16), (40, 20), (30, 130)]
MIP_MODES = ["reflect", "constant", "edge", "symmetric", "wrap"]


def _mip_tolerance(levels, sampler, dtype) -> float:
    """The texture unit against the model: 8-bit filter weights and level blend
    (``filter_tolerance``), plus, for 8/16-bit data, one storage step per level made
    (the GPU's rounding of a box average may fall on the other side of a tie, and a
    level is made from the one above it)."""
    dt = np.dtype(dtype)
    ct = None
    if dt.kind in "iu":
        ct = {"u": "unorm_int", "i": "snorm_int"}[dt.kind] + str(8 * dt.itemsize)
    tol = ref.filter_tolerance(levels, sampler, ct, dims=2, mip_blend=len(levels) > 1)
    if dt.kind in "iu":
        tol += (len(levels) - 1) / np.iinfo(dt).max
    else:
        tol += 1e-5 * float(np.abs(levels[0]).max())
    return tol


@pytest.mark.parametrize("channels", [None, 3, 4])
@pytest.mark.parametrize("dtype", [np.float32, np.uint8])
@pytest.mark.parametrize("shape", MIP_SHAPES)
@pytest.mark.parametrize("mode", MIP_MODES)
def test_mip_method_is_its_texture_unit_model(channels, dtype, shape, mode):
    size = (97, 130) + ((channels,) if channels else ())
    img = smooth_random(size, dtype, seed=sum(shape) + (channels or 0))
    cval = 0.25  # inside the data's [0, 1]: scikit-image's clip changes nothing
    want, levels, sampler = mip_model(img, shape, mode, cval)
    got = iand.resize(cupy.asarray(img), shape, mode=mode, cval=cval, method="mip")
    assert got.dtype == np.float32
    assert got.shape == want.shape
    tol = _mip_tolerance(levels, sampler, dtype)
    d = float(np.abs(got.get() - want).max())
    assert d <= tol, f"{img.shape} {img.dtype} -> {shape} {mode}: {d:.3g} > {tol:.3g}"


@pytest.mark.parametrize("kind", ["gray", "rgb"])
@pytest.mark.parametrize("shape", [(128, 128), (200, 200), (64, 64), (128, 300), (100, 333)])
@pytest.mark.parametrize("mode", ["reflect", "constant", "wrap", "symmetric"])
def test_mip_method_is_within_its_documented_bound_of_scikit_image(kind, shape, mode, capsys):
    img = photo(kind)
    want = skimage_resize(img, shape, mode=mode, anti_aliasing=True)
    got = iand.resize(cupy.asarray(img), shape, mode=mode, method="mip").get()
    d = np.abs(got.astype(np.float64) - want)
    with capsys.disabled():
        print(f"\nmip vs skimage {kind} -> {shape} {mode}: max {d.max():.4f} mean {d.mean():.5f}")
    assert d.max() <= MIP_BOUND, f"max |difference| {d.max():.4f} > {MIP_BOUND}"
    assert d.mean() <= MIP_MEAN_BOUND, f"mean |difference| {d.mean():.5f} > {MIP_MEAN_BOUND}"


def test_mip_method_preserve_range_and_other_dtypes():
    img = photo("rgb")[:256, :256]
    want = skimage_resize(img, (64, 64), preserve_range=True)
    got = iand.resize(cupy.asarray(img), (64, 64), preserve_range=True, method="mip")
    d = np.abs(got.get() - want)
    assert d.max() <= MIP_BOUND * 255 and float(got.max()) > 1.0  # 0..255 kept
    base = iand.resize(cupy.asarray(img), (64, 64), method="mip").get()
    for dtype, scale in ((np.uint16, 257), (np.float64, 1 / 255), (np.int16, 128)):
        other = cupy.asarray((img.astype(np.float64) * scale).astype(dtype))
        got = iand.resize(other, (64, 64), method="mip").get()
        # img_as_float of each: the same picture in [0, 1] (int16: * 128 / 32767)
        expect = base * (128 * 255 / 32767 if dtype == np.int16 else 1.0)
        np.testing.assert_allclose(got, expect, rtol=0, atol=3 / 256 + 2 / 255, err_msg=str(dtype))


def test_mip_method_without_shrinking_is_the_exact_method():
    img = cupy.asarray(IMAGES["2d-float32"])
    a = iand.resize(img, (90, 101), method="mip")
    b = iand.resize(img, (90, 101), method="exact")
    cupy.testing.assert_array_equal(a, b)
    a = iand.resize(img, (16, 20), anti_aliasing=False, method="mip")
    b = iand.resize(img, (16, 20), anti_aliasing=False)
    cupy.testing.assert_array_equal(a, b)


# ------------------------------------------------------------ zoom(antialias=True)


@pytest.mark.parametrize("name", ["2d-float32", "rgb-float32", "3d-float32", "2d-uint8"])
@pytest.mark.parametrize("scale", [0.5, 0.3, (0.25, 0.6)])
@pytest.mark.parametrize("mode, sk_mode", [("nearest", "edge"), ("mirror", "reflect")])
def test_antialiased_zoom_is_scikit_images_rescale(name, scale, mode, sk_mode):
    """zoom(grid_mode=True, antialias=True) is rescale(anti_aliasing=True): the same
    Gaussian and the same grid-mode zoom (uint8: compared in [0, 1] as rescale's)."""
    img = IMAGES[name]
    rgb = name.startswith("rgb")
    nd = 2 if rgb else img.ndim
    if isinstance(scale, tuple) and nd == 3:
        scale = scale + (0.5,)
    src = img.astype(np.float32) / 255 if img.dtype == np.uint8 else img
    want = transform.rescale(
        src, scale, order=1, mode=sk_mode, anti_aliasing=True, channel_axis=-1 if rgb else None
    )
    got = iand.zoom(
        cupy.asarray(src),
        scale,
        order=1,
        mode=mode,
        grid_mode=True,
        precision="exact",
        channel_axis=-1 if rgb else None,
        antialias=True,
    )
    _close(got, want, f"{name} x{scale} {mode}", ATOL)


@pytest.mark.parametrize("dtype", [np.uint8, np.float16])
def test_antialiased_zoom_keeps_the_dtype_and_is_cupyxs_gaussian_then_zoom(dtype):
    import cupyx.scipy.ndimage as ndi

    img = cupy.asarray(IMAGES["rgba-uint8"]).astype(dtype)
    kw = {"order": 1, "mode": "constant", "cval": 3.0}
    got = iand.zoom(img, 0.4, channel_axis=-1, antialias=True, precision="exact", **kw)
    assert got.dtype == dtype and got.shape == (18, 21, 4)
    sigma = [(45 / 18 - 1) / 2, (52 / 21 - 1) / 2, 0]
    # float32 (exact for float16, which cupyx's filter cannot compile with a cval)
    smooth = ndi.gaussian_filter(
        img.astype(np.float32), sigma, output=np.float32, mode="constant", cval=3.0
    )
    want = ndi.zoom(smooth, (0.4, 0.4, 1), output=dtype, **kw)
    diff = cupy.abs(got.astype(cupy.float32) - want.astype(cupy.float32))
    assert float(diff.max()) <= (1 if dtype == np.uint8 else 0.25)  # a rounding step (0..255)


def test_antialias_changes_nothing_where_nothing_shrinks():
    img = cupy.asarray(IMAGES["2d-float32"])
    a = iand.zoom(img, 2.0, order=1, antialias=True)
    b = iand.zoom(img, 2.0, order=1)
    cupy.testing.assert_array_equal(a, b)


def test_mip_method_one_channel_last_is_the_grayscale_image():
    img = photo("gray")
    gray = iand.resize(cupy.asarray(img), (100, 128), method="mip")
    one = iand.resize(cupy.asarray(img[..., None]), (100, 128), method="mip")
    assert one.shape == (100, 128, 1)
    cupy.testing.assert_array_equal(one[..., 0], gray)
