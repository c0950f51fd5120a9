"""The cubic-convolution model (imagearray.ndimage._cubicconv) against hand-computed
weights and the polynomials Keys' kernel reproduces; cv2.remap is the judge on the GPU
machine (test_cubicconv_gpu.py), where OpenCV is installed."""

from __future__ import annotations

import numpy as np
import pytest
from _nvrtc import compile_log, needs_nvrtc

from imagearray._errors import ImageArrayValueError
from imagearray.ndimage import _cubicconv as cc
from imagearray.ndimage import _modes


@pytest.mark.parametrize("a", [-0.75, -0.5])
def test_weights_by_hand(a):
    # t = 0: the kernel interpolates (0, 1, 0, 0); t = 0.5: outer a/8, inner 1/2 - a/8
    np.testing.assert_array_equal(cc.weights([0.0], a)[0], [0, 1, 0, 0])
    w = cc.weights([0.5], a)[0]
    np.testing.assert_allclose(w, [a / 8, 0.5 - a / 8, 0.5 - a / 8, a / 8], atol=1e-7)
    t = np.linspace(0, 1, 33, dtype=np.float32)
    np.testing.assert_allclose(cc.weights(t, a).sum(axis=-1), 1, atol=1e-6)


def test_catmull_rom_reproduces_quadratics_opencv_constants():
    y, x = np.mgrid[0:12, 0:13].astype(np.float64)
    rng = np.random.default_rng(1)
    c = np.stack([rng.uniform(1, 9, 200), rng.uniform(1, 10, 200)]).astype(np.float32)
    cy, cx = c.astype(np.float64)
    quad = 0.3 * x * x - 0.2 * x * y + 0.1 * y * y + x - 2 * y
    got = cc.interpolate(quad, c, "nearest", a=-0.5)  # taps inside: mode unused
    np.testing.assert_allclose(
        got, 0.3 * cx * cx - 0.2 * cx * cy + 0.1 * cy * cy + cx - 2 * cy, atol=1e-4
    )
    # a = -0.75 reproduces constants only (Keys: -0.5 alone is third-order)
    np.testing.assert_allclose(cc.interpolate(np.full((12, 13), 7.0), c, "nearest"), 7, atol=1e-5)
    lin = 2 * x - 3 * y + 1
    assert np.abs(cc.interpolate(lin, c, "nearest") - (2 * cx - 3 * cy + 1)).max() > 1e-2


@pytest.mark.parametrize("mode", cc.MODES)
def test_taps_fold_per_mode(mode):
    # integer coordinates: the value is the tap itself, read through the mode
    img = np.arange(7, dtype=np.float64) * 10 + 1
    c = np.arange(-9, 16, dtype=np.float32)[None]
    got = cc.interpolate(img, c, mode, cval=-5.0)
    taps = _modes.boundary(mode, np.arange(-9, 16), 7)
    want = np.where(taps < 0, -5.0, img[np.clip(taps, 0, 6)])
    if mode == "constant":
        want = np.where((c[0] < 0) | (c[0] > 6), -5.0, want)
    np.testing.assert_allclose(got, want, atol=1e-12)


def test_constant_modes_blend_cval_per_tap():
    img = np.ones((4, 4))
    # 0.5 px left of the first column: taps -2, -1 read cval, weights a/8 and 1/2 - a/8
    got = cc.interpolate(img, np.array([[1.5], [-0.5]], np.float32), "grid-constant", cval=3.0)
    w = cc.weights([0.5])[0].astype(np.float64)
    np.testing.assert_allclose(got, [3 * (w[0] + w[1]) + w[2] + w[3]])
    out = cc.interpolate(img, np.array([[1.5], [-0.5]], np.float32), "constant", cval=3.0)
    np.testing.assert_allclose(out, [3.0])  # outside [0, n - 1]: cval


def test_bad_arguments():
    with pytest.raises(ImageArrayValueError, match=r"mode='wrap' does not fold"):
        cc.check_mode("wrap")
    for bad in ("x", None, 0.0, 1, float("nan")):
        with pytest.raises(ImageArrayValueError, match="cubic_a="):
            cc.check_a(bad)
    assert cc.check_a(-0.5) == -0.5


# ------------------------------------------------------------ kernel and arguments
def _conv_keys():
    """Cubic-convolution kernels: every mode it takes, the warps' coordinate kinds,
    integer and float outputs (the saturation), 1/2/3/4 channels, tiles."""
    from imagearray.ndimage import _source

    reads = {1: "uchar", 2: "short2", 3: "float", 4: "uchar4"}
    outs = ("float", "unsigned char", "short", "unsigned short /*half*/", "unsigned int")
    kinds = (_source.REMAP, _source.REMAP_REL, _source.HOMOGRAPHY)
    for i, (mode, kind) in enumerate((m, k) for m in cc.MODES for k in kinds):
        ch = 1 + i % 4
        yield _source.KernelKey(
            2, ch, kind, mode, _source.CUBIC_CONV, False, reads[ch], "", outs[i % 5],
            "double" if i % 4 == 0 else "float", i % 3 == 1, False, ch == 3, i % 6 == 0,
            vstore=ch in (2, 4) and i % 2 == 0, coarsen=1, conv_a=(-0.75, -0.5)[i % 2],
        )  # fmt: skip


@needs_nvrtc
@pytest.mark.parametrize("key", list(_conv_keys()), ids=lambda k: f"{k.kind}-{k.mode}-{k.out}")
def test_cubic_convolution_sources_compile(key):
    from imagearray.ndimage import _source

    src = _source.source(key)
    assert "cubic_weights(" in src and f"{key.conv_a!r}f" in src
    # integer outputs saturate (untiled: in the kernel), float ones do not
    saturates = "fminf(fmaxf(v[ch]" in src
    assert saturates == (key.out in ("unsigned char", "short", "unsigned int") and not key.tiled)
    log = compile_log(src)
    assert log is None, log


def test_saturation_bounds_fit_the_type():
    assert cc.saturation(np.uint8) == (0.0, 255.0)
    assert cc.saturation(np.int16) == (-32768.0, 32767.0)
    lo, hi = cc.saturation(np.int32)
    assert lo == -(2.0**31) and hi < 2**31 and np.float32(hi) == hi
    assert np.nextafter(np.float32(hi), np.float32(np.inf)) >= 2**31
    lo, hi = cc.saturation(np.uint32)
    assert lo == 0.0 and hi < 2**32 and np.nextafter(np.float32(hi), np.float32(np.inf)) >= 2**32


@pytest.mark.parametrize(
    ("order", "interpolation", "a", "want"),
    [
        (1, None, -0.75, (1, 0.0)),
        (0, None, -0.75, (0, 0.0)),
        (1, "nearest", -0.75, (0, 0.0)),
        (0, "nearest", -0.75, (0, 0.0)),
        (1, "linear", -0.75, (1, 0.0)),
        (1, "cubic", -0.75, (-1, -0.75)),
        (1, "cubic", -0.5, (-1, -0.5)),
        (None, "cubic", -0.5, (-1, -0.5)),
    ],
)
def test_interpolation_names_resolve_to_orders(order, interpolation, a, want):
    from imagearray.ndimage import warps

    assert warps._order("remap", order, interpolation, a) == want


@pytest.mark.parametrize(
    ("order", "interpolation", "a", "match"),
    [
        (1, "lanczos", -0.75, "interpolation='lanczos' is not one of"),
        (1, 3, -0.75, "interpolation=3 is not one of"),
        (3, "cubic", -0.75, "order=3 and interpolation='cubic' disagree"),
        (0, "linear", -0.75, "order=0 and interpolation='linear' disagree"),
        (1, None, -0.5, "cubic_a=-0.5 applies to interpolation='cubic' only"),
        (1, None, np.array([1.0, 2.0]), "applies to interpolation='cubic' only"),
        (1, "cubic", 0.5, r"cubic_a=0.5 is outside \[-3, 0\)"),
        (1, "cubic", "x", "cubic_a='x' is not a real number"),
    ],
)
def test_interpolation_argument_errors(order, interpolation, a, match):
    from imagearray.ndimage import warps

    with pytest.raises(ImageArrayValueError, match=match):
        warps._order("remap", order, interpolation, a)
