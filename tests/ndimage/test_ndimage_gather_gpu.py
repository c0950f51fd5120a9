"""GPU tests of the exact order-1 path through gathers (_textures.EXACT_GATHER): an
ImageArray allocated with gather=True, every mode, texture dtype and channel count,
against cupyx order 1 (the same weights and summation as the point reads: within
1e-6 of the range), and the gather kernel is the one that ran."""

from __future__ import annotations

import pytest
from _ndimage_util import (
    DTYPES,
    MODES,
    SHAPES,
    check,
    cval_of,
    data,
    fn_args,
    ours,
    planes_ref,
    span,
)

import imagearray as ia
from imagearray.ndimage import _source, _textures

pytestmark = [pytest.mark.gpu, pytest.mark.filterwarnings("error::imagearray.FallbackWarning")]


@pytest.fixture
def gathers(monkeypatch):
    """EXACT_GATHER on; returns the KernelKeys launched."""
    monkeypatch.setattr(_textures, "EXACT_GATHER", True)
    keys = []
    orig = _source.kernel

    def spy(key):
        keys.append(key)
        return orig(key)

    monkeypatch.setattr(_source, "kernel", spy)
    return keys


def _compare(fn, x, mode, channels, keys, src=None):
    cval = cval_of(x.dtype)
    args, kw = fn_args(fn, SHAPES[2], 1)
    img = src if src is not None else ia.asimage(x, channels=channels, gather=True)
    assert img.gatherable
    got = ours(fn, img, 1, mode, cval, args, kw, precision="exact")
    want = planes_ref(fn, x, 1, mode, cval, args, kw, channels=channels > 1)
    # opencv: cupyx resolves the border with cupy.dot and a float64 offset, so its
    # coordinates may differ from ours in the last bit (_ndimage_util's docstring)
    atol = 2e-6 if mode == "opencv" else 1e-6
    check(got, want, span(x), atol=atol, what=f"{fn} {x.dtype} x{channels} {mode} gathers")
    assert any(k.gather for k in keys), "the gather kernel did not run"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fn", ["affine_transform", "map_coordinates", "zoom"])
def test_float32_every_mode(gathers, fn, mode):
    _compare(fn, data(SHAPES[2], "float32"), mode, 1, gathers)


@pytest.mark.parametrize("channels", [1, 2, 4])
@pytest.mark.parametrize("dtype", DTYPES)
def test_dtypes_and_channels(gathers, dtype, channels):
    shape = SHAPES[2] + ((channels,) if channels > 1 else ())
    _compare("affine_transform", data(shape, dtype), "reflect", channels, gathers)


def test_off_by_default_and_for_hardware(monkeypatch):
    keys = []
    orig = _source.kernel
    monkeypatch.setattr(_source, "kernel", lambda k: keys.append(k) or orig(k))
    x = data(SHAPES[2], "float32")
    img = ia.asimage(x, gather=True)
    args, kw = fn_args("shift", SHAPES[2], 1)
    ours("shift", img, 1, "nearest", 0.0, args, kw, precision="exact")
    monkeypatch.setattr(_textures, "EXACT_GATHER", True)
    ours("shift", ia.asimage(x, gather=True), 1, "nearest", 0.0, args, kw)  # hardware
    assert keys and not any(k.gather for k in keys)
