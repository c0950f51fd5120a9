"""The cubic-convolution model (imagearray.ndimage._cubicconv) against hand-computed
weights and the polynomials Keys' kernel reproduces; cv2.remap is the judge on the GPU
machine (test_cubicconv_gpu.py), where OpenCV is installed."""

from __future__ import annotations

import numpy as np
import pytest

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
