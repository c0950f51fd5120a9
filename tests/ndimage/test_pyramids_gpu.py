"""GPU tests of ia.ndimage's pyramids against scikit-image on the CPU: pyramid_reduce,
pyramid_expand, pyramid_gaussian and pyramid_laplacian of 2D grayscale, 2D RGB
(channel_axis=-1, and channels first), and 3D images, float32 and uint8, for
several downscale / sigma / mode / cval values, every layer within 1e-5 (even sizes
at downscale 2: the fused filter-and-decimate kernel); the
``out=`` ImageArray whose mip levels are filled; results on the input's device.
The argument checks and the same math on host ops: test_resize_cpu.py."""

from __future__ import annotations

import cupy
import numpy as np
import pytest

import imagearray as ia
import imagearray.ndimage as iand

transform = pytest.importorskip("skimage.transform")

pytestmark = [pytest.mark.gpu, pytest.mark.filterwarnings("error::imagearray.FallbackWarning")]

ATOL = 1e-5  # the bound: float32 on the GPU against scikit-image's float64/32


def _images():
    rng = np.random.default_rng(11)
    return {
        "2d-float32": (rng.random((37, 50)).astype(np.float32), None),
        "2d-uint8": ((rng.random((33, 29)) * 255).astype(np.uint8), None),
        "rgb-float32": (rng.random((30, 41, 3)).astype(np.float32), -1),
        "rgb-uint8": ((rng.random((30, 41, 3)) * 255).astype(np.uint8), -1),
        "3d-float32": (rng.random((13, 17, 19)).astype(np.float32), None),
        "3d-uint8": ((rng.random((11, 14, 9)) * 255).astype(np.uint8), None),
        "channels-first": (rng.random((3, 20, 21)).astype(np.float32), 0),
        # even sizes: downscale 2 runs the fused filter-and-decimate kernel (_decimate)
        "even-2d-float32": (rng.random((64, 96)).astype(np.float32), None),
        "even-rgb-uint8": ((rng.random((32, 48, 3)) * 255).astype(np.uint8), -1),
        "even-rgba-float32": (rng.random((40, 24, 4)).astype(np.float32), -1),
        "even-3d-float32": (rng.random((16, 12, 20)).astype(np.float32), None),
    }


IMAGES = _images()
ARGS = [
    {"downscale": 2},
    {"downscale": 3, "sigma": 1.3, "mode": "constant", "cval": 0.25},
    {"downscale": 1.5, "mode": "wrap"},
    {"downscale": 2.5, "sigma": 0.0},
    {"downscale": 2, "sigma": 2.0, "mode": "constant", "cval": -0.5},
    {"downscale": 2, "sigma": 0.0, "mode": "wrap"},
]


def _ids(kw):
    return "-".join(f"{k}={v}" for k, v in kw.items())


def _close(got, want, what, atol=ATOL):
    assert isinstance(got, cupy.ndarray), what
    assert got.dtype == np.float32, what
    assert got.shape == want.shape, f"{what}: shape {got.shape}, scikit-image {want.shape}"
    d = float(np.abs(got.get().astype(np.float64) - want).max()) if got.size else 0.0
    assert d <= atol, f"{what}: max |difference| {d:.3g} > {atol:g}"


def _layers(got, want, what, atol=ATOL):
    got, want = list(got), list(want)
    assert len(got) == len(want), f"{what}: {len(got)} layers, scikit-image {len(want)}"
    for k, (g, w) in enumerate(zip(got, want)):
        _close(g, w, f"{what} layer {k}", atol)


@pytest.mark.parametrize("name", IMAGES)
@pytest.mark.parametrize("kw", ARGS, ids=_ids)
def test_reduce_and_expand_match_scikit_image(name, kw):
    img, axis = IMAGES[name]
    kw = dict(kw, channel_axis=axis)
    factor = kw.pop("downscale")
    gpu = cupy.asarray(img)
    want = transform.pyramid_reduce(img, factor, **kw)
    _close(iand.pyramid_reduce(gpu, factor, **kw), want, f"reduce {name} {kw}")
    want = transform.pyramid_expand(img, factor, **kw)
    _close(iand.pyramid_expand(gpu, factor, **kw), want, f"expand {name} {kw}")


@pytest.mark.parametrize("name", IMAGES)
@pytest.mark.parametrize("kw", ARGS, ids=_ids)
def test_gaussian_and_laplacian_pyramids_match_scikit_image(name, kw):
    img, axis = IMAGES[name]
    kw = dict(kw, channel_axis=axis)
    gpu = cupy.asarray(img)
    _layers(
        iand.pyramid_gaussian(gpu, **kw), transform.pyramid_gaussian(img, **kw), f"gaussian {name}"
    )
    _layers(
        iand.pyramid_laplacian(gpu, **kw),
        transform.pyramid_laplacian(img, **kw),
        f"laplacian {name}",
    )


@pytest.mark.parametrize("max_layer", [0, 1, 3])
def test_max_layer_and_preserve_range(max_layer):
    img, _ = IMAGES["2d-uint8"]
    kw = {"max_layer": max_layer, "preserve_range": True}
    # values 0..255: the bound scales with the range
    _layers(
        iand.pyramid_gaussian(cupy.asarray(img), **kw),
        transform.pyramid_gaussian(img, **kw),
        "gaussian 0..255",
        ATOL * 255,
    )
    _layers(
        iand.pyramid_laplacian(cupy.asarray(img), **kw),
        transform.pyramid_laplacian(img, **kw),
        "laplacian 0..255",
        ATOL * 255,
    )


def test_a_numpy_input_is_uploaded_and_the_result_stays_on_the_input_device():
    img, _ = IMAGES["2d-float32"]
    _close(iand.pyramid_reduce(img), transform.pyramid_reduce(img), "numpy input")
    last = cupy.cuda.runtime.getDeviceCount() - 1
    with cupy.cuda.Device(last):
        gpu = cupy.asarray(img)
    got = iand.pyramid_reduce(gpu)
    assert got.device.id == last
    _close(got, transform.pyramid_reduce(img), "input on the last device")


@pytest.mark.parametrize("channels", [1, 4])
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_gaussian_pyramid_fills_the_mip_levels_of_an_image_array(channels, dtype):
    rng = np.random.default_rng(3)
    shape = (32, 64) + ((channels,) if channels > 1 else ())
    img = rng.random(shape).astype(np.float32)
    axis = -1 if channels > 1 else None
    levels = 7  # 32x64 down to 1x1 (CUDA's floor halving is the pyramid's ceil one here)
    out = ia.empty(shape, dtype, channels, levels=levels)
    try:
        assert iand.pyramid_gaussian(cupy.asarray(img), channel_axis=axis, out=out) is out
        want = list(transform.pyramid_gaussian(img, channel_axis=axis))
        assert len(want) == levels
        atol = ATOL if dtype == np.float32 else 1e-3  # float16 storage
        for lv in range(levels):
            got = np.asarray(out.mip(lv).get(), np.float64)
            np.testing.assert_allclose(got, want[lv], rtol=0, atol=atol, err_msg=f"level {lv}")
    finally:
        out.free()


def test_filling_stops_at_max_layer_and_refuses_a_chain_of_other_shapes():
    a = cupy.asarray(np.random.default_rng(4).random((24, 40)).astype(np.float32))
    out = ia.empty((24, 40), np.float32, levels=4)  # 24x40 .. 3x5: ceil and floor agree
    try:
        iand.pyramid_gaussian(a, out=out, max_layer=1)
        want = list(transform.pyramid_gaussian(a.get(), max_layer=3))
        np.testing.assert_allclose(out.mip(1).get(), want[1], rtol=0, atol=ATOL)
        iand.pyramid_gaussian(a, out=out)
        np.testing.assert_allclose(out.mip(3).get(), want[3], rtol=0, atol=ATOL)
    finally:
        out.free()
    deep = ia.empty((24, 40), np.float32, levels=5)  # level 4: CUDA 1x2, the pyramid 2x3
    try:
        with pytest.raises(ia.ImageArrayValueError, match="mip level 4"):
            iand.pyramid_gaussian(a, out=deep)
    finally:
        deep.free()
    ints = ia.empty((24, 40), np.uint8, levels=2)
    try:
        with pytest.raises(ia.ImageArrayTypeError, match="float"):
            iand.pyramid_gaussian(a, out=ints)
    finally:
        ints.free()


@pytest.mark.parametrize(
    "shape,axis",
    [((200, 320), None), ((2, 64, 96), 0), ((70, 66, 3), -1), ((4, 6), None)],
)
@pytest.mark.parametrize("mode,cval", [("reflect", 0.0), ("constant", 0.3), ("wrap", 0.0)])
@pytest.mark.parametrize("sigma", [None, 2.0, 9.0])
def test_reduce_by_two_in_one_pass_matches_scikit_image(shape, axis, mode, cval, sigma):
    """Both spatial axes of an even 2D reduce-by-2 in one shared-memory pass
    (_decimate's ia_decimate2x2: many tiles, channels after or before, taps folding
    past a small image), and axis by axis where its tile would not fit (sigma 9)."""
    from imagearray.ndimage import _decimate

    img = np.random.default_rng(5).random(shape).astype(np.float32)
    axes = [a for a in range(img.ndim) if a != (axis % img.ndim if axis is not None else None)]
    taps = _decimate.taps(2 / 3 if sigma is None else sigma).size
    fused = _decimate._plane_pair(img.shape, axes, taps) is not None
    assert fused == (sigma != 9.0)
    kw = dict(sigma=sigma, mode=mode, cval=cval, channel_axis=axis)
    want = transform.pyramid_reduce(img, 2, **kw)
    _close(iand.pyramid_reduce(cupy.asarray(img), 2, **kw), want, f"{shape} {kw}")
