"""GPU tests of ia.ndimage's per-call plans (imagearray.ndimage._plan): a repeated call
skips the full path and still equals cupyx, follows what the caller's arrays hold now,
and takes the full path again where a plan would be wrong (textures evicted, image
freed, data converted, warnings)."""

from __future__ import annotations

import cupy
import cupyx.scipy.ndimage as ndi
import numpy as np
import pytest
from _ndimage_util import spy

import imagearray as ia
from imagearray.ndimage import _call, _launch, _plan, _textures

pytestmark = [pytest.mark.gpu, pytest.mark.filterwarnings("error::imagearray.FallbackWarning")]

KW = {"order": 1, "mode": "nearest", "precision": "exact"}
M = np.array([[0.875, 0.1875, 1.5], [-0.125, 1.0625, -2.25]])  # dyadic: exact in float32


@pytest.fixture
def fresh(monkeypatch):
    """No plan left from other tests; returns the list of full-path calls."""
    _plan.clear()
    return spy(monkeypatch, _call.Call, "source")


def _img(shape=(40, 48), seed=0):
    return cupy.asarray(np.random.default_rng(seed).random(shape, dtype=np.float32))


def _cupyx_affine(x, m):
    return ndi.affine_transform(x, cupy.asarray(m), order=1, mode="nearest")


def test_a_repeat_runs_the_plan_and_equals_cupyx(fresh):
    x = _img()
    first = ia.ndimage.affine_transform(x, M, **KW)
    again = ia.ndimage.affine_transform(x, M, **KW)
    assert len(fresh) == 1, "the second call took the full path"
    assert again.data.ptr != first.data.ptr  # a new output each call
    want = _cupyx_affine(x, M)
    cupy.testing.assert_allclose(first, want, rtol=1e-5, atol=1e-6)
    cupy.testing.assert_array_equal(again, first)


@pytest.mark.parametrize("fn", ["zoom", "shift", "rotate", "map_coordinates", "remap"])
def test_every_function_plans(fresh, fn):
    x = _img((24, 32))  # rows of 128 bytes: sampled in place
    rc = cupy.asarray(np.random.default_rng(1).random((2, 9, 11)) * 30 - 5)
    calls = {
        "zoom": (lambda: ia.ndimage.zoom(x, 1.5, **KW), lambda: ndi.zoom(x, 1.5, order=1)),
        "shift": (
            lambda: ia.ndimage.shift(x, (2.5, -1.25), **KW),
            lambda: ndi.shift(x, (2.5, -1.25), order=1, mode="nearest"),
        ),
        "rotate": (
            lambda: ia.ndimage.rotate(x, 30, **KW),
            lambda: ndi.rotate(x, 30, order=1, mode="nearest"),
        ),
        "map_coordinates": (
            lambda: ia.ndimage.map_coordinates(x, rc, **KW),
            lambda: ndi.map_coordinates(x, rc, order=1, mode="nearest"),
        ),
        "remap": (
            lambda: ia.ndimage.remap(x, rc[0], rc[1], **KW),
            lambda: ndi.map_coordinates(x, rc, order=1, mode="nearest"),
        ),
    }
    ours, theirs = calls[fn]
    want = theirs()
    for _ in range(3):
        cupy.testing.assert_allclose(ours(), want, rtol=1e-5, atol=1e-5)
    assert len(fresh) == 1  # rc and its rows are C-contiguous float64: read in place


def test_a_copied_input_makes_no_plan(fresh):
    x = _img((24, 20))  # rows of 80 bytes: CUDA cannot address them, copied per call
    for _ in range(2):
        got = ia.ndimage.affine_transform(x, M, **KW)
    assert len(fresh) == 2
    cupy.testing.assert_allclose(got, _cupyx_affine(x, M), rtol=1e-5, atol=1e-6)


def test_the_plan_reads_the_callers_arrays_as_they_are_now(fresh):
    x = _img()
    m = cupy.asarray(M, dtype=cupy.float64)  # read in place, float64 included
    ia.ndimage.affine_transform(x, m, **KW)
    x[...] = _img(seed=5)  # new data at the same address
    m[0, 2] = 3.25  # and a new matrix
    got = ia.ndimage.affine_transform(x, m, **KW)
    assert len(fresh) == 1
    cupy.testing.assert_allclose(got, _cupyx_affine(x, m), rtol=1e-5, atol=1e-6)


def test_coordinates_changed_in_place_are_followed(fresh):
    x = _img()
    rc = cupy.asarray(np.random.default_rng(2).random((2, 7, 5)) * 40, dtype=cupy.float32)
    ia.ndimage.map_coordinates(x, rc, **KW)
    rc *= 0.5
    got = ia.ndimage.map_coordinates(x, rc, **KW)
    assert len(fresh) == 1
    want = ndi.map_coordinates(x, rc, order=1, mode="nearest")
    cupy.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_converted_device_data_makes_no_plan(fresh):
    """A stack of CuPy matrices is converted each call: its new values count."""
    x = cupy.stack([_img(seed=s) for s in range(3)])
    mats = cupy.asarray(np.stack([M, M, M]))
    ia.ndimage.affine_transform(x, mats, batch_axes=0, **KW)
    mats[1, 0, 0] = 0.5
    got = ia.ndimage.affine_transform(x, mats, batch_axes=0, **KW)
    assert len(fresh) == 2
    want = _cupyx_affine(x[1], mats[1])
    cupy.testing.assert_allclose(got[1], want, rtol=1e-5, atol=1e-6)


def test_a_new_array_or_layout_is_a_new_plan(fresh):
    x, y = _img(), _img(seed=3)
    ia.ndimage.affine_transform(x, M, **KW)
    got = ia.ndimage.affine_transform(y, M, **KW)
    assert len(fresh) == 2
    cupy.testing.assert_allclose(got, _cupyx_affine(y, M), rtol=1e-5, atol=1e-6)
    sub = x[:, :32]  # same address, other layout
    got = ia.ndimage.affine_transform(sub, M, **KW)
    assert len(fresh) == 3
    cupy.testing.assert_allclose(got, _cupyx_affine(sub, M), rtol=1e-5, atol=1e-6)


def test_evicted_textures_invalidate_the_plan(fresh, monkeypatch):
    monkeypatch.setattr(_textures, "_MAX_IN_PLACE", 2)
    x = _img()
    ia.ndimage.affine_transform(x, M, **KW)
    others = [_img(seed=s) for s in range(4)]
    for o in others:  # evicts x's textures
        ia.ndimage.affine_transform(o, M, **KW)
    got = ia.ndimage.affine_transform(x, M, **KW)
    assert len(fresh) == 6
    cupy.testing.assert_allclose(got, _cupyx_affine(x, M), rtol=1e-5, atol=1e-6)


def test_output_arrays(fresh):
    x = _img()
    out = cupy.empty_like(x)
    r = ia.ndimage.affine_transform(x, M, output=out, **KW)
    r2 = ia.ndimage.affine_transform(x, M, output=out, **KW)
    assert r is out and r2 is out and len(fresh) == 1
    cupy.testing.assert_allclose(out, _cupyx_affine(x, M), rtol=1e-5, atol=1e-6)
    strided = cupy.zeros((x.shape[1], x.shape[0]), cupy.float32).T  # not C-contiguous
    for _ in range(2):
        ia.ndimage.affine_transform(x, M, output=strided, **KW)
    cupy.testing.assert_allclose(strided, _cupyx_affine(x, M), rtol=1e-5, atol=1e-6)
    typed = ia.ndimage.affine_transform(x, M, output=np.float64, **KW)
    assert typed.dtype == np.float64


def test_a_misaligned_output_takes_the_per_value_stores(fresh):
    """RGBA8 points are written as one 4-byte store where the output allows it; an
    output 1 byte off that alignment (same shape: the same plan key) is written per
    value, and right."""
    rgba = cupy.asarray(np.random.default_rng(4).integers(0, 256, (24, 32, 4), np.uint8))
    want = ndi.affine_transform(rgba[..., 2], cupy.asarray(M), order=1, mode="nearest")
    ours = ia.ndimage.affine_transform(rgba, M, output=cupy.empty_like(rgba), channel_axis=-1, **KW)
    raw = cupy.zeros(rgba.size + 1, cupy.uint8)
    off = raw[1:].reshape(rgba.shape)
    ia.ndimage.affine_transform(rgba, M, output=off, channel_axis=-1, **KW)
    assert len(fresh) == 2
    cupy.testing.assert_array_equal(ours[..., 2], want)
    cupy.testing.assert_array_equal(off, ours)
    assert int(raw[0]) == 0


def test_image_plans_go_with_the_image(fresh):
    data = _img()
    img = ia.asimage(data)
    first = ia.ndimage.affine_transform(img, M, **KW)
    ia.ndimage.affine_transform(img, M, **KW)
    assert len(fresh) == 1
    cupy.testing.assert_allclose(first, _cupyx_affine(data, M), rtol=1e-5, atol=1e-6)
    img.free()
    with pytest.raises(ia.ImageArrayError):
        ia.ndimage.affine_transform(img, M, **KW)


def test_calls_that_warn_warn_every_time(fresh):
    x = _img()
    for _ in range(2):
        with pytest.warns(UserWarning, match="default order"):
            ia.ndimage.zoom(x, 2.0, order=None)
        with pytest.warns(UserWarning, match="grid-constant"):
            ia.ndimage.zoom(x, 2.0, order=1, grid_mode=True, mode="constant")


def test_threads_sharing_a_plan_each_get_their_own_output(fresh):
    """8 threads on their own streams run one plan at once: every output is whole."""
    x = _img((64, 96))
    want = _cupyx_affine(x, M)
    ia.ndimage.affine_transform(x, M, **KW)  # the plan
    for g in _in_threads(lambda: ia.ndimage.affine_transform(x, M, **KW), 50):
        cupy.testing.assert_allclose(g, want, rtol=1e-5, atol=1e-6)
    assert len(fresh) == 1


def _in_threads(call, reps: int, threads: int = 8) -> list:
    """The results of ``call()`` made ``reps`` times by each of ``threads`` threads
    on non-blocking streams of their own (after a synchronize: the inputs ready)."""
    import threading

    cupy.cuda.Device().synchronize()
    outs, errors = {}, []

    def work(t):
        try:
            with cupy.cuda.Stream(non_blocking=True) as st:
                got = [call() for _ in range(reps)]
                st.synchronize()
            outs[t] = got
        except Exception as exc:  # reported below, not lost in the thread
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join(timeout=120)
    assert not errors and len(outs) == threads, errors
    return [g for got in outs.values() for g in got]


# ---------------------------------------------------------------- order 3
K3 = {"order": 3, "mode": "mirror", "precision": "exact"}
KX3 = {"order": 3, "mode": "mirror"}  # cupyx's


@pytest.fixture
def fresh3(monkeypatch):
    """No plan left from other tests; returns the list of full-path order-3 calls."""
    _plan.clear()
    return spy(monkeypatch, _call.Call, "cubic_source")


@pytest.mark.parametrize("nd", [2, 3])
@pytest.mark.parametrize("fn", ["zoom", "shift", "rotate", "map_coordinates", "affine_transform"])
def test_order3_plans_run_the_prefilter_on_what_the_input_holds_now(fresh3, fn, nd):
    """An order-3 plan skips the checks and the coordinates but filters the input
    again on every run: new data at the same address gives cupyx's new result."""
    shape = (24, 32) if nd == 2 else (12, 16, 20)
    x = _img(shape)
    rng = np.random.default_rng(1)
    rc = cupy.asarray(rng.random((nd, 6, 7)) * 20 - 2, dtype=cupy.float32)
    m = cupy.asarray(np.eye(nd) * 0.9 + 0.05)
    ang = {"axes": (1, 0)} if nd == 2 else {"axes": (2, 1)}
    calls = {
        "zoom": (lambda: ia.ndimage.zoom(x, 1.5, **K3), lambda: ndi.zoom(x, 1.5, **KX3)),
        "shift": (lambda: ia.ndimage.shift(x, 1.25, **K3), lambda: ndi.shift(x, 1.25, **KX3)),
        "rotate": (
            lambda: ia.ndimage.rotate(x, 25, **ang, **K3),
            lambda: ndi.rotate(x, 25, **ang, **KX3),
        ),
        "map_coordinates": (
            lambda: ia.ndimage.map_coordinates(x, rc, **K3),
            lambda: ndi.map_coordinates(x, rc, **KX3),
        ),
        "affine_transform": (
            lambda: ia.ndimage.affine_transform(x, m, **K3),
            lambda: ndi.affine_transform(x, m, **KX3),
        ),
    }
    ours, theirs = calls[fn]
    first = ours()
    again = ours()
    assert len(fresh3) == 1, "the second call took the full path"
    cupy.testing.assert_array_equal(again, first)
    cupy.testing.assert_allclose(first, theirs(), rtol=1e-5, atol=1e-5)
    x[...] = _img(shape, seed=7)  # new data at the same address
    got = ours()
    assert len(fresh3) == 1
    cupy.testing.assert_allclose(got, theirs(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("nd", [2, 3])
def test_order3_plan_of_an_image_and_into_outputs(fresh3, nd):
    shape = (24, 32) if nd == 2 else (12, 16, 20)
    data = _img(shape)
    img = ia.asimage(data)
    want = ndi.zoom(data, 0.75, **KX3)
    a = ia.ndimage.zoom(img, 0.75, **K3)
    out = cupy.empty_like(want)
    b = ia.ndimage.zoom(img, 0.75, output=out, **K3)
    c = ia.ndimage.zoom(img, 0.75, output=out, **K3)
    assert b is out and c is out and len(fresh3) == 2  # None and an array: two keys
    cupy.testing.assert_allclose(a, want, rtol=1e-5, atol=1e-5)
    cupy.testing.assert_array_equal(out, a)
    img.free()
    with pytest.raises(ia.ImageArrayError):
        ia.ndimage.zoom(img, 0.75, **K3)


def test_order3_threads_sharing_a_plan(fresh3):
    """8 threads on their own streams run one order-3 plan (each run takes its own
    scratch CUDA array for the coefficients): every output is cupyx's."""
    x = _img((16, 20, 24))
    m = cupy.asarray(np.array([[0.9, 0.1, 0.0], [-0.1, 0.9, 0.05], [0.0, 0.02, 1.0]]))
    want = ndi.affine_transform(x, m, **KX3)
    ia.ndimage.affine_transform(x, m, **K3)  # the plan
    for g in _in_threads(lambda: ia.ndimage.affine_transform(x, m, **K3), 20):
        cupy.testing.assert_allclose(g, want, rtol=1e-5, atol=1e-5)
    assert len(fresh3) == 1


@pytest.mark.parametrize("mode", ["mirror", "constant", "reflect", "grid-wrap", "nearest"])
@pytest.mark.parametrize("kind", ["float32", "uint8", "strided"])
def test_order3_volume_plans_prepare_the_prefilter(fresh3, mode, kind):
    """The plan of a C-contiguous float32 volume, which the prefilter reads as it is
    (no padding: not ``nearest``), runs the prepared fill (``_call.filled_source``);
    other volumes run the full prefilter again. Either way each repeat gives cupyx's
    result for what the input holds then. (Every axis is at least _spline.SHORT_REFLECT
    long: reflect fills the image too.)"""
    base = cupy.asarray(np.random.default_rng(2).random((16, 18, 44), dtype=np.float32))
    if kind == "uint8":
        base = (base * 255).astype(cupy.uint8)
    x = base[:, :, ::2] if kind == "strided" else base[:, :, :22]
    if kind != "strided":
        x = cupy.ascontiguousarray(x)
    m = cupy.asarray(np.array([[0.95, 0.1, 0.0, 0.5], [-0.1, 0.9, 0.05, 1.0], [0, 0.02, 1.0, -1]]))
    kw = {"order": 3, "mode": mode}
    for seed in (3, 4):
        got = ia.ndimage.affine_transform(x, m, precision="exact", **kw).astype(cupy.float32)
        want = ndi.affine_transform(x, m, **kw).astype(cupy.float32)
        cupy.testing.assert_allclose(got, want, rtol=1e-5, atol=1 if kind == "uint8" else 1e-5)
        new = np.random.default_rng(seed).random(x.shape, dtype=np.float32)
        x[...] = cupy.asarray(new * 255 if kind == "uint8" else new).astype(x.dtype)
    assert len(fresh3) == 1, "the repeat took the full path"
    (plan,) = [p for p in _plan._PLANS.values() if isinstance(p, _launch.Refilled)]
    prepared = plan.refill.func is _call.filled_source
    assert prepared == (kind == "float32" and mode != "nearest")
