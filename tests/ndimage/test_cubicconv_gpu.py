"""remap and warp_perspective with interpolation="cubic" (Keys' cubic convolution)
against OpenCV's CPU cv2.remap / cv2.warpPerspective (INTER_CUBIC, installed on the GPU
machine) and against the NumPy model (imagearray.ndimage._cubicconv) off OpenCV's 1/32
grid, for every dtype, border, channel count and both coefficients."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gpu

# our mode -> OpenCV's border (opencv: BORDER_CONSTANT with a cval per tap)
BORDERS = {
    "opencv": "BORDER_CONSTANT",
    "nearest": "BORDER_REPLICATE",
    "reflect": "BORDER_REFLECT",
    "mirror": "BORDER_REFLECT_101",
    "grid-wrap": "BORDER_WRAP",
}
DTYPES = ("uint8", "int16", "uint16", "float32")
SHAPE = (37, 29)
OUT = (31, 41)


def _image(dtype, channels, seed=0):
    rng = np.random.default_rng(seed)
    shape = SHAPE + ((channels,) if channels > 1 else ())
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return rng.uniform(-1, 1, shape).astype(dt)
    info = np.iinfo(dt)
    return rng.integers(info.min, info.max, shape, endpoint=True).astype(dt)


def _maps(seed=1, grid=True):
    """float32 maps reaching 6 px past every border; on OpenCV's 1/32 grid by default
    (where it rounds nothing)."""
    rng = np.random.default_rng(seed)
    my = rng.uniform(-6, SHAPE[0] + 5, OUT)
    mx = rng.uniform(-6, SHAPE[1] + 5, OUT)
    if grid:
        my, mx = np.round(my * 32) / 32, np.round(mx * 32) / 32
    return my.astype(np.float32), mx.astype(np.float32)


def _tolerance(img):
    dt = img.dtype
    if dt.kind == "f":
        return 1e-4 * max(float(np.ptp(img)), 1e-30)
    return 1.0  # integers: the sums round to nearest; ties may round either way


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", list(BORDERS))
def test_remap_cubic_matches_opencv(mode, dtype, channels):
    import cupy
    import cv2

    import imagearray as ia

    img = _image(dtype, channels)
    my, mx = _maps()
    cval = 7.0 if img.dtype.kind != "f" else 0.5
    want = cv2.remap(
        img,
        mx,
        my,
        cv2.INTER_CUBIC,
        borderMode=getattr(cv2, BORDERS[mode]),
        borderValue=(cval,) * 4,
    )
    got = ia.ndimage.remap(
        cupy.asarray(img),
        cupy.asarray(my),
        cupy.asarray(mx),
        mode=mode,
        cval=cval,
        interpolation="cubic",
        channel_axis=-1 if channels > 1 else None,
    )
    assert got.dtype == img.dtype
    diff = np.abs(got.get().astype(np.float64) - want.astype(np.float64))
    assert diff.max() <= _tolerance(img), (cv2.__version__, diff.max())


@pytest.mark.parametrize("a", [-0.75, -0.5])
@pytest.mark.parametrize(
    "mode", ["constant", "grid-constant", "nearest", "mirror", "reflect", "grid-wrap"]
)
def test_remap_cubic_matches_the_model_off_grid(mode, a):
    import cupy

    import imagearray as ia
    from imagearray.ndimage import _cubicconv

    img = _image("float32", 1)
    my, mx = _maps(grid=False)
    got = ia.ndimage.remap(
        cupy.asarray(img),
        cupy.asarray(my),
        cupy.asarray(mx),
        mode=mode,
        cval=0.5,
        interpolation="cubic",
        cubic_a=a,
    )
    want = _cubicconv.interpolate(img, np.stack([my, mx]), mode, 0.5, a)
    np.testing.assert_allclose(got.get(), want, rtol=0, atol=1e-5 * float(np.ptp(img)))


@pytest.mark.parametrize("dtype", ["uint8", "float32"])
@pytest.mark.parametrize("mode", ["opencv", "nearest", "mirror"])
def test_warp_perspective_cubic_matches_opencv(mode, dtype):
    import cupy
    import cv2

    import imagearray as ia

    img = _image(dtype, 3)
    # dyadic entries, projective row 0: coordinates on the 1/32 grid in both
    m = np.array([[0.875, 0.125, -3.0], [-0.0625, 1.125, 2.5], [0.0, 0.0, 1.0]])
    want = cv2.warpPerspective(
        img,
        m,
        OUT[::-1],
        flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
        borderMode=getattr(cv2, BORDERS[mode]),
        borderValue=(3, 3, 3, 3),
    )
    got = ia.ndimage.warp_perspective(
        cupy.asarray(img),
        m,
        output_shape=OUT,
        mode=mode,
        cval=3,
        inverse_map=True,
        interpolation="cubic",
        channel_axis=-1,
    )
    diff = np.abs(got.get().astype(np.float64) - want.astype(np.float64))
    assert diff.max() <= _tolerance(img), (cv2.__version__, diff.max())


def test_cubic_argument_errors():
    import cupy

    import imagearray as ia
    from imagearray import ImageArrayValueError

    x = cupy.zeros((8, 8), cupy.float32)
    my = mx = cupy.zeros((4, 4), cupy.float32)
    with pytest.raises(ImageArrayValueError, match="interpolation="):
        ia.ndimage.remap(x, my, mx, interpolation="lanczos")
    with pytest.raises(ImageArrayValueError, match="mode='wrap'"):
        ia.ndimage.remap(x, my, mx, mode="wrap", interpolation="cubic")
    with pytest.raises(ImageArrayValueError, match="cubic_a="):
        ia.ndimage.remap(x, my, mx, interpolation="cubic", cubic_a=0.5)
    with pytest.raises(ImageArrayValueError, match="order=3"):
        ia.ndimage.remap(x, my, mx, order=3, interpolation="cubic")


@pytest.mark.parametrize("dtype", ["uint8", "float32"])
@pytest.mark.parametrize("mode", ["opencv", "mirror", "grid-wrap"])
def test_remap_cubic_on_tiles_equals_one_texture(monkeypatch, mode, dtype):
    # An input past the CUDA-array limits is cut into tiles, each adding the taps it
    # holds; forced here on a small one: the same values (integers saturated once at
    # the end, rounded as the untiled kernel rounds).
    import cupy

    import imagearray as ia
    from imagearray.ndimage import _textures

    img = _image(dtype, 3)
    my, mx = (cupy.asarray(m) for m in _maps(grid=False))
    kw = dict(mode=mode, cval=5, interpolation="cubic", channel_axis=-1)
    whole = ia.ndimage.remap(cupy.asarray(img), my, mx, **kw).get()
    monkeypatch.setattr(_textures, "TILE_OVERRIDE", 8)
    tiled = ia.ndimage.remap(cupy.asarray(img), my, mx, **kw).get()
    if img.dtype.kind == "f":
        np.testing.assert_allclose(tiled, whole, rtol=0, atol=1e-5 * float(np.ptp(img)))
    else:
        assert np.abs(tiled.astype(int) - whole.astype(int)).max() <= 1


def test_cubic_convolution_is_a_repeatable_plan_and_reads_the_caller_maps():
    import cupy

    import imagearray as ia

    img = cupy.asarray(_image("float32", 1))
    my, mx = (cupy.asarray(m) for m in _maps())
    first = ia.ndimage.remap(img, my, mx, interpolation="cubic")
    mx += 0.25  # the caller's maps, changed in place: the repeat must read them
    second = ia.ndimage.remap(img, my, mx, interpolation="cubic")
    from imagearray.ndimage import _cubicconv

    want = _cubicconv.interpolate(img.get(), np.stack([my.get(), mx.get()]), "constant")
    np.testing.assert_allclose(second.get(), want, rtol=0, atol=1e-5 * 2)
    assert not np.allclose(first.get(), second.get())
    # a Catmull-Rom call is not served by the -0.75 plan
    cr = ia.ndimage.remap(img, my, mx, interpolation="cubic", cubic_a=-0.5)
    want = _cubicconv.interpolate(img.get(), np.stack([my.get(), mx.get()]), "constant", a=-0.5)
    np.testing.assert_allclose(cr.get(), want, rtol=0, atol=1e-5 * 2)
