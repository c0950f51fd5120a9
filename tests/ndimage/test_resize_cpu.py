"""resize and the pyramids without a GPU: every argument check (raised before any
CUDA call, so they hold on a GPU machine too), scikit-image's orchestration (float
conversion, output shapes, sigmas, the mode translation of both halves, clipping)
run on host ops (SciPy) against scikit-image itself, the mip method's plan, and the
derivation of its documented error bound on the NumPy texture-unit model.
The GPU results: test_resize_gpu.py and test_pyramids_gpu.py."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _nvrtc import compile_log, needs_nvrtc
from _resize_util import MIP_BOUND, MIP_MEAN_BOUND, mip_model, photo, skimage_resize

import imagearray.ndimage as iand
from imagearray._errors import ImageArrayTypeError, ImageArrayValueError
from imagearray.ndimage import _mipresize, resizing

transform = pytest.importorskip("skimage.transform")

BAD = (ImageArrayValueError, ImageArrayTypeError)
PYRAMIDS = ("pyramid_reduce", "pyramid_expand", "pyramid_gaussian", "pyramid_laplacian")
FACTOR_NAME = {"pyramid_expand": "upscale"}


def _pyramid(fn: str, image, **kw):
    """Call ``fn``; the generators are made (their checks are eager), not run."""
    return getattr(iand, fn)(image, **kw)


# ------------------------------------------------------------------ argument checks


@pytest.mark.parametrize("fn", PYRAMIDS)
@pytest.mark.parametrize(
    "arg, value",
    [
        ("factor", 1),
        ("factor", 0.5),
        ("factor", -2),
        ("factor", math.nan),
        ("factor", math.inf),
        ("factor", "2"),
        ("factor", None),
        ("factor", True),
        ("sigma", -1.0),
        ("sigma", math.nan),
        ("sigma", math.inf),
        ("sigma", "wide"),
        ("order", 0),
        ("order", 3),
        ("order", 6),
        ("order", 1.5),
        ("mode", "edge"),
        ("mode", "symmetric"),
        ("mode", "nearest"),
        ("mode", "grid-wrap"),
        ("mode", 3),
        ("cval", "zero"),
        ("channel_axis", 2),
        ("channel_axis", -3),
        ("channel_axis", 1.0),
        ("channel_axis", True),
    ],
)
def test_pyramid_arguments_are_checked_and_named(fn, arg, value):
    name = FACTOR_NAME.get(fn, "downscale") if arg == "factor" else arg
    img = np.zeros((8, 6), np.float32)
    with pytest.raises(BAD, match=name):
        _pyramid(fn, img, **{name: value})


@pytest.mark.parametrize("fn", ["pyramid_gaussian", "pyramid_laplacian"])
@pytest.mark.parametrize("value", [-2, 1.5, "all", None])
def test_max_layer_is_checked(fn, value):
    with pytest.raises(BAD, match="max_layer"):
        _pyramid(fn, np.zeros((8, 8)), max_layer=value)


@pytest.mark.parametrize(
    "out",
    [np.zeros((8, 8), np.float32), "img", None.__class__],
)
def test_pyramid_out_must_be_a_mipmapped_image_array(out):
    with pytest.raises(ImageArrayTypeError, match="out must be a whole mipmapped ImageArray"):
        iand.pyramid_gaussian(np.zeros((8, 8), np.float32), out=out)


@pytest.mark.parametrize(
    "kw, name",
    [
        ({"output_shape": ()}, "output_shape"),
        ({"output_shape": (4, 4, 4, 4)}, "output_shape"),
        ({"output_shape": (0, 4)}, "output_shape"),
        ({"output_shape": (-1, 4)}, "output_shape"),
        ({"output_shape": (4.5, 4)}, "output_shape"),
        ({"output_shape": "ab"}, "output_shape"),
        ({"output_shape": 4}, "output_shape"),
        ({"mode": "nearest"}, "mode"),
        ({"mode": "grid-wrap"}, "mode"),
        ({"mode": None}, "mode"),
        ({"order": 0}, "order"),
        ({"order": 3}, "order"),
        ({"order": 6}, "order"),
        ({"order": -1}, "order"),
        ({"order": 1.0}, "order"),
        ({"cval": "zero"}, "cval"),
        ({"cval": [1, 2]}, "cval"),
        ({"anti_aliasing_sigma": -1.0}, "anti_aliasing_sigma"),
        ({"anti_aliasing_sigma": math.nan}, "anti_aliasing_sigma"),
        ({"anti_aliasing_sigma": (1.0, 2.0, 3.0)}, "anti_aliasing_sigma"),
        ({"anti_aliasing_sigma": "big"}, "anti_aliasing_sigma"),
        ({"method": "fast"}, "method"),
        ({"method": None}, "method"),
    ],
)
def test_resize_arguments_are_checked_and_named(kw, name):
    kw = {"output_shape": (4, 3)} | kw
    with pytest.raises(BAD, match=name):
        iand.resize(np.zeros((8, 6), np.float32), **kw)


@pytest.mark.parametrize(
    "image, shape, match",
    [
        (np.zeros((8, 6), bool), (4, 3), "boolean"),
        (np.zeros((8, 6), np.complex64), (4, 3), "dtype"),
        (np.zeros((0, 6), np.float32), (4, 3), "non-empty"),
    ],
)
def test_resize_refuses_what_it_cannot_interpolate(image, shape, match):
    with pytest.raises(BAD, match=match):
        iand.resize(image, shape)


@pytest.mark.parametrize(
    "shape, out",
    [
        ((16, 16, 16), (8, 8, 8)),  # 3D: no mip chain of volumes here
        ((16, 16, 5), (8, 8, 5)),  # more than 4 channels
        ((16, 16, 3), (8, 8, 4)),  # the channel count cannot change
    ],
)
def test_mip_method_refuses_what_it_cannot_read(shape, out):
    with pytest.raises(ImageArrayValueError, match="method='mip'"):
        iand.resize(np.zeros(shape, np.float32), out, method="mip")


def test_sigma_on_an_axis_that_grows_warns_as_scikit_image():
    with pytest.warns(UserWarning, match="not down-sampling along all axes"):
        resizing._prepare(np.zeros((8, 6)), (4, 12), None, "reflect", 0, True, 1.0)


# ------------------------------------------------- scikit-image's math on host ops

CPU = resizing.CpuOps
RNG = np.random.default_rng(7)
IMAGES = {
    "2d-float32": (RNG.random((37, 50)).astype(np.float32), None),
    "2d-uint8": ((RNG.random((33, 29)) * 255).astype(np.uint8), None),
    "rgb-float32": (RNG.random((30, 41, 3)).astype(np.float32), -1),
    "rgb-uint8": ((RNG.random((30, 41, 3)) * 255).astype(np.uint8), -1),
    "3d-float32": (RNG.random((13, 17, 19)).astype(np.float32), None),
    "3d-uint8": ((RNG.random((11, 14, 9)) * 255).astype(np.uint8), None),
    "channels-first": (RNG.random((3, 20, 21)).astype(np.float32), 0),
    # even sizes: downscale 2 takes the fused filter-and-decimate pass (_decimate)
    "even-2d-float32": (RNG.random((64, 96)).astype(np.float32), None),
    "even-rgb-uint8": ((RNG.random((32, 48, 3)) * 255).astype(np.uint8), -1),
    "even-3d-float32": (RNG.random((16, 12, 20)).astype(np.float32), None),
}
PYRAMID_ARGS = [
    {"downscale": 2},
    {"downscale": 2, "sigma": 3.0, "mode": "constant", "cval": 1.7},  # cval off the range
    {"downscale": 2, "sigma": 0.0, "mode": "wrap"},
    {"downscale": 3, "sigma": 1.3, "mode": "constant", "cval": 0.25},
    {"downscale": 1.5, "mode": "wrap"},
    {"downscale": 2.5, "sigma": 0.0, "mode": "reflect"},
]


def _same_layers(got, want, atol):
    got, want = list(got), list(want)
    assert [g.shape for g in got] == [w.shape for w in want]
    for k, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, w, rtol=0, atol=atol, err_msg=f"layer {k}")


@pytest.mark.parametrize("name", IMAGES)
@pytest.mark.parametrize("kw", PYRAMID_ARGS, ids=lambda kw: "-".join(map(str, kw.values())))
def test_pyramids_on_host_ops_are_scikit_images(name, kw):
    """The orchestration is scikit-image's: float64 inputs give its numbers exactly,
    float32 and uint8 within float32 rounding."""
    img, axis = IMAGES[name]
    kw = kw | {"channel_axis": axis}
    atol = 0 if img.dtype == np.float64 else 1e-6
    _same_layers(
        iand.pyramid_gaussian(img, _ops=CPU, **kw), transform.pyramid_gaussian(img, **kw), atol
    )
    _same_layers(
        iand.pyramid_laplacian(img, _ops=CPU, **kw), transform.pyramid_laplacian(img, **kw), atol
    )
    factor = kw.pop("downscale")
    np.testing.assert_allclose(
        iand.pyramid_reduce(img, factor, _ops=CPU, **kw),
        transform.pyramid_reduce(img, factor, **kw),
        rtol=0,
        atol=atol,
    )
    np.testing.assert_allclose(
        iand.pyramid_expand(img, factor, _ops=CPU, **kw),
        transform.pyramid_expand(img, factor, **kw),
        rtol=0,
        atol=atol,
    )


def test_fused_reduce_by_two_is_scikit_images_even_where_the_taps_fold_twice():
    """_decimate's twin of the kernel on a float64 line of 4 with sigma 3 (radius 12:
    three periods of every boundary rule) equals scikit-image to float64 rounding."""
    from imagearray.ndimage import _decimate

    img = RNG.random((2, 4))
    assert _decimate.applies(img.shape, [0, 1], 2.0)
    assert not _decimate.applies((4, 5), [0, 1], 2.0) and not _decimate.applies((4, 4), [0], 3)
    for mode in ("reflect", "constant", "wrap"):
        want = transform.pyramid_reduce(img, 2, 3.0, mode=mode, cval=0.4)
        got = _decimate.reduce2(img, [0, 1], 3.0, mode, 0.4, np)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-15, err_msg=mode)
    h = _decimate.taps(2 / 3)  # radius 3: 8 taps, (g[m] + g[m - 1]) / 2, sum 1
    assert h.size == 8 and h.sum() == pytest.approx(1.0) and np.allclose(h, h[::-1])


@needs_nvrtc
def test_fused_kernel_source_compiles_with_nvrtc():
    from imagearray.ndimage import _decimate

    log = compile_log(_decimate.SOURCE)
    assert log is None, log


def test_pyramid_preserve_range_and_max_layer():
    img, _ = IMAGES["2d-uint8"]
    kw = {"max_layer": 2, "preserve_range": True}
    got = list(iand.pyramid_gaussian(img, _ops=CPU, **kw))
    assert len(got) == 3 and float(got[0].max()) > 1  # 0..255 kept
    _same_layers(got, transform.pyramid_gaussian(img, **kw), 1e-4)
    _same_layers(
        iand.pyramid_laplacian(img, _ops=CPU, **kw), transform.pyramid_laplacian(img, **kw), 1e-4
    )


RESIZES = [
    ((13, 19), {}),  # down: antialiased by default
    ((80, 101), {"mode": "constant", "cval": 0.3}),  # up: grid-constant reaches cval
    ((20, 90), {"mode": "wrap"}),  # one axis down, one up (grid-wrap)
    ((9, 11), {"mode": "symmetric", "anti_aliasing_sigma": 0.8}),
    ((9, 11), {"mode": "edge", "anti_aliasing": False}),
    ((31, 17), {"mode": "reflect", "clip": False}),
]


@pytest.mark.filterwarnings("ignore:Anti-aliasing standard deviation")  # as scikit-image
@pytest.mark.parametrize("name", [n for n in IMAGES if n[:5] not in ("chann", "even-")])
@pytest.mark.parametrize("shape, kw", RESIZES, ids=lambda v: str(v))
def test_resize_on_host_ops_is_scikit_images(name, shape, kw):
    img, axis = IMAGES[name]
    if img.ndim == 3:
        shape = shape + ((img.shape[2],) if axis is not None else (7,))
    got = iand.resize(img, shape, _ops=CPU, **kw)
    want = transform.resize(img, shape, **kw)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=0 if img.dtype == np.float64 else 1e-6)


def test_resize_keeps_the_last_axis_when_output_shape_has_one_fewer():
    img, _ = IMAGES["rgb-uint8"]
    got = iand.resize(img, (10, 20), preserve_range=True, _ops=CPU)
    want = transform.resize(img, (10, 20), preserve_range=True)
    assert got.shape == (10, 20, 3)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-4)


# ------------------------------------------------------------- the mip method's plan


def test_mip_plan_of_a_power_of_two_downscale_reads_one_level_once():
    p = _mipresize.plan((4096, 4096), (1024, 1024), "reflect", 0.0)
    assert p.lod == 2.0 and p.levels == 4  # levels 0..3: 2 and its upper neighbour
    assert p.offsets == ((0.0, 0.0),)
    assert p.sampler.max_mipmap_level_clamp == 3.0  # not Sampler's default 0: level 0 only
    assert p.sampler.normalized and str(p.sampler.mipmap_filtering).lower().endswith("linear")


def test_mip_plan_of_an_anisotropic_downscale_spreads_reads_on_the_major_axis():
    # rows 4x, columns 512 / 300: the level of the smaller factor, ceil(4 / 1.71) = 3 reads
    p = _mipresize.plan((512, 512), (128, 300), "symmetric", 0.0)
    fx = 512 / 300
    assert p.lod == pytest.approx(math.log2(fx))
    assert len(p.offsets) == 3
    dys = [dy for dx, dy in p.offsets]
    assert all(dx == 0 for dx, _ in p.offsets)
    # evenly over one output row (1 / 128 normalized), centred on the pixel
    np.testing.assert_allclose(dys, np.array([-1, 0, 1]) / 3 / 128)
    assert p.levels == 2


@pytest.mark.parametrize(
    "mode, addressing",
    [("constant", "CLAMP"), ("edge", "CLAMP_TO_EDGE"), ("symmetric", "MIRRORED_REPEAT")],
)
def test_mip_plan_border_rules(mode, addressing):
    p = _mipresize.plan((64, 64), (16, 16), mode, 0.25)
    assert all(a.name == addressing for a in p.sampler.addressing)
    if mode == "constant":
        assert tuple(p.sampler.border_color) == (0.25,) * 4


# -------------------------------------- the mip method's error bound (its derivation)


def _weights(n: int, o: int) -> tuple[np.ndarray, np.ndarray]:
    """(o, n) weights of one axis: the mip model's and scikit-image's (antialiased),
    from unit impulses (columns constant, so the other axis plays no part)."""
    mip, sk = np.zeros((o, n)), np.zeros((o, n))
    for j in range(n):
        e = np.zeros((n, 8), np.float32)
        e[j] = 1
        mip[:, j] = mip_model(e, (o, 8))[0][:, 0]
        sigma = ((n / o - 1) / 2, 0.0)
        sk[:, j] = skimage_resize(e, (o, 8), anti_aliasing=True, anti_aliasing_sigma=sigma)[:, 0]
    return mip, sk


@pytest.mark.parametrize("factor, d", [(2, 0.20), (4, 0.36), (8, 0.45)])
def test_mip_weights_differ_from_scikit_images_by_the_documented_d(factor, d):
    """resizing's docstring: an output differs by at most D * (max - min) of what it
    reads, D half the l1 distance of the two 2D weight sets (separable here)."""
    mip, sk = _weights(64, 64 // factor)
    i = 64 // factor // 2  # an interior pixel
    assert mip[i].sum() == pytest.approx(1, abs=1e-6) and (mip >= 0).all()
    got = 0.5 * np.abs(np.outer(mip[i], mip[i]) - np.outer(sk[i], sk[i])).sum()
    assert got == pytest.approx(d, abs=0.006)


@pytest.mark.parametrize("kind", ["gray", "rgb"])
@pytest.mark.parametrize("shape", [(128, 128), (200, 200), (64, 64), (128, 300), (100, 333)])
@pytest.mark.parametrize("mode", ["reflect", "constant", "wrap", "symmetric"])
def test_mip_model_is_within_the_documented_bound_on_photographs(kind, shape, mode):
    img = photo(kind)
    got, _, _ = mip_model(img, shape, mode)
    want = skimage_resize(img, shape, mode=mode, anti_aliasing=True)
    d = np.abs(got - want)
    assert d.max() <= MIP_BOUND - 0.015  # room for the hardware's 8-bit weights
    assert d.mean() <= MIP_MEAN_BOUND - 0.001


# ------------------------------------------------------------- zoom(antialias=True)


@pytest.mark.parametrize("value", ["yes", 1, None, 0.0])
def test_zoom_antialias_must_be_a_bool(value):
    with pytest.raises(ImageArrayTypeError, match="antialias"):
        iand.zoom(np.zeros((8, 8), np.float32), 0.5, antialias=value)


def test_zoom_antialias_leaves_bad_arguments_to_zooms_own_checks():
    from imagearray.ndimage import _antialias

    img = np.zeros((8, 8), np.float32)
    with pytest.raises(ImageArrayValueError, match="mode"):
        iand.zoom(img, 0.5, mode="edge", antialias=True)
    for bad in ((0.5, 0.5, 0.5), "half", (0.5, float("nan"))):  # nothing smoothed
        assert _antialias.apply(img, bad, None, "constant", 0.0, None, None) == (img, None)


def test_zoom_antialias_sigmas_are_scikit_images():
    from imagearray.ndimage import _antialias

    # (rows, cols, channels): rows 64 -> 16 (sigma 1.5), cols 30 -> 60 (none)
    axes = _antialias.spatial_axes(3, -1, None)
    assert axes == [0, 1]
    assert _antialias.sigmas((64, 30, 3), axes, [0.25, 2.0]) == [1.5, 0.0, 0.0]
    # a batch first: 45 -> round(45 * 0.4) = 18, sigma (45 / 18 - 1) / 2
    axes = _antialias.spatial_axes(3, None, 0)
    assert axes == [1, 2]
    assert _antialias.sigmas((4, 45, 52), axes, [0.4, 1.0]) == [0.0, 0.75, 0.0]
    for mode, want in [("grid-wrap", "wrap"), ("grid-constant", "constant"), ("mirror", "mirror")]:
        assert _antialias.filter_mode(mode) == want


def test_zoom_antialias_sigmas_match_scikit_images_rescale_on_host():
    """The prefilter (SciPy here) then SciPy's grid-mode zoom is rescale(anti_aliasing)."""
    from scipy import ndimage as ndi

    from imagearray.ndimage import _antialias

    img = IMAGES["2d-float32"][0].astype(np.float64)
    for scale in (0.5, 0.3, (0.25, 0.6)):
        factors = list(scale) if isinstance(scale, tuple) else [scale] * 2
        sigma = _antialias.sigmas(img.shape, [0, 1], factors)
        smooth = ndi.gaussian_filter(img, sigma, mode="nearest")
        out = [round(n * z) for n, z in zip(img.shape, factors)]
        got = ndi.zoom(
            smooth, [o / n for o, n in zip(out, img.shape)], order=1, mode="nearest", grid_mode=True
        )
        want = transform.rescale(img, scale, order=1, mode="edge", anti_aliasing=True)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
