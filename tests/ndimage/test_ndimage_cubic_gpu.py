"""GPU tests of order=3 (cubic B-spline) against cupyx.scipy.ndimage's order 3 on the
same data: every function x mode, 2D and 3D, the texture dtypes, prefilter=False,
precision='exact' (within 1e-5 of the value range) and 'hardware' (within the
documented bound: ndim / 256 of the largest difference of adjacent B-spline
coefficients), channels, batches, ImageArray inputs, and the fallback of orders 2, 4
and 5. Helpers and the comparison rule: _ndimage_util.py."""

from __future__ import annotations

import cupy
import cupyx.scipy.ndimage as ndi
import numpy as np
import pytest
from _ndimage_util import (
    GRID,
    MODES,
    OTHER_DTYPES,
    SHAPES,
    check,
    coords,
    cval_of,
    data,
    fn_args,
    ours,
    planes_ref,
    ref,
    span,
)

import imagearray as ia

pytestmark = [pytest.mark.gpu, pytest.mark.filterwarnings("error::imagearray.FallbackWarning")]

CUBIC_FUNCS = ("map_coordinates", "affine_transform", "zoom", "shift", "rotate")


def coef_step(x, mode: str, prefilter: bool, cval: float, nd: int) -> float:
    """The largest difference of adjacent B-spline coefficients along a spatial axis
    (of the first ``nd`` axes), the coefficients as cupyx's _filter_input makes them
    (its padding for nearest / grid-constant; the opencv modes' cval border)."""
    a = cupy.asarray(x)
    lead = [(1, 1)] * nd + [(0, 0)] * (a.ndim - nd)
    if mode in ("opencv", "_opencv_edge"):
        a = cupy.pad(a, lead, "constant", constant_values=cval)
        mode = "constant"
    a = a.astype(cupy.float32)
    if prefilter and mode in ("nearest", "grid-constant"):
        p = [(12, 12)] * nd + [(0, 0)] * (a.ndim - nd)
        kw = {"constant_values": cval} if mode == "grid-constant" else {}
        a = cupy.pad(a, p, "edge" if mode == "nearest" else "constant", **kw)
    if prefilter:
        for ax in range(nd):
            a = ndi.spline_filter1d(a, 3, ax, output=cupy.float32, mode=mode)
    return max(float(cupy.abs(cupy.diff(a, axis=ax)).max()) for ax in range(nd))


def compare(fn, x, mode, precision="exact", prefilter=True, output=None, args=None, kw=None):
    """ia.ndimage's ``fn`` at order 3 against cupyx's on the same data."""
    cval = cval_of(x.dtype)
    if args is None:
        args, kw = fn_args(fn, x.shape, 3)
    if fn not in ("warp_perspective", "remap"):  # the warps prefilter as map_coordinates
        kw = dict(kw, prefilter=prefilter)
    got = ours(fn, x, 3, mode, cval, args, kw, precision=precision, output=output)
    want = ref(fn, x, 3, mode, cval, args, kw, output=output)
    s = span(x)
    hw = 0.0
    if precision == "hardware":
        hw = x.ndim / 256 * coef_step(x, mode, prefilter, cval, x.ndim)
    what = f"{fn} {x.dtype} {x.ndim}D order 3 {mode} {precision} prefilter={prefilter}"
    check(got, want, s, hw=hw, handful=0.02, what=what)


@pytest.mark.parametrize("precision", ["exact", "hardware"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("nd", [2, 3])
@pytest.mark.parametrize("fn", CUBIC_FUNCS)
def test_float32_every_function_and_mode(fn, nd, mode, precision):
    compare(fn, data(SHAPES[nd], "float32"), mode, precision)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", OTHER_DTYPES)
@pytest.mark.parametrize("fn", ["map_coordinates", "affine_transform"])
def test_dtypes_every_mode_2d(fn, dtype, mode):
    """Other input dtypes, their values compared in float32 (cupyx accumulates a
    float16 output in float16, and rounds integer overshoots its own way)."""
    compare(fn, data(SHAPES[2], dtype), mode, output=np.float32)


@pytest.mark.parametrize("precision", ["exact", "hardware"])
@pytest.mark.parametrize("mode", ["nearest", "grid-wrap", "constant"])
@pytest.mark.parametrize("dtype", OTHER_DTYPES)
@pytest.mark.parametrize("fn", ["map_coordinates", "zoom"])
def test_dtypes_3d(fn, dtype, mode, precision):
    compare(fn, data(SHAPES[3], dtype), mode, precision, output=np.float32)


@pytest.mark.parametrize("dtype", ["uint8", "int8", "uint16", "int16"])
@pytest.mark.parametrize("fn", ["affine_transform", "shift"])
def test_integer_outputs_round_as_cupyx(fn, dtype):
    """The input dtype as output: rounded as cupyx rounds (data kept off the dtype's
    limits, so no overshoot leaves its range)."""
    info = np.iinfo(dtype)
    lo, hi = info.min + (info.max - info.min) // 4, info.max - (info.max - info.min) // 4
    rs = cupy.random.RandomState(5)
    x = rs.randint(lo, hi, size=SHAPES[2], dtype=np.int64).astype(dtype)
    compare(fn, x, "reflect")


@pytest.mark.parametrize("fn", ["map_coordinates", "rotate"])
def test_float16_output(fn):
    """float16 in and out: cupyx sums in float16, so within a few float16 steps."""
    x = data(SHAPES[2], "float16")
    cval = cval_of(x.dtype)
    args, kw = fn_args(fn, x.shape, 3)
    got = ours(fn, x, 3, "mirror", cval, args, kw, precision="exact")
    want = ref(fn, x, 3, "mirror", cval, args, kw)
    check(got, want, span(x), hw=0.02 * span(x), what=f"{fn} float16")


@pytest.mark.parametrize("precision", ["exact", "hardware"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("nd", [2, 3])
@pytest.mark.parametrize("fn", ["map_coordinates", "affine_transform"])
def test_prefilter_false(fn, nd, mode, precision):
    compare(fn, data(SHAPES[nd], "float32"), mode, precision, prefilter=False)


@pytest.mark.parametrize("mode", ["constant", "nearest", "wrap", "opencv"])
@pytest.mark.parametrize("fn", ["warp_perspective", "remap"])
def test_warps_order_3(fn, mode):
    """The warps are map_coordinates at their coordinates: order 3 as cupyx's."""
    compare(fn, data(SHAPES[2], "float32"), mode)


@pytest.mark.parametrize("precision", ["exact", "hardware"])
@pytest.mark.parametrize("channels", [2, 3, 4])
@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("fn", ["affine_transform", "map_coordinates"])
def test_channels_and_batches(fn, batched, channels, precision):
    """channel_axis=-1 / batch_axes=0: each (sample, channel) plane is cupyx's."""
    shape = ((3,) if batched else ()) + SHAPES[2] + (channels,)
    x = data(shape, "float32")
    args, kw = fn_args(fn, SHAPES[2], 3)
    mode = "grid-constant"
    axes = {"channel_axis": -1, "batch_axes": 0 if batched else None}
    got = ours(fn, x, 3, mode, 0.5, args, kw, precision=precision, **axes)
    want = planes_ref(fn, x, 3, mode, 0.5, args, kw, batched=batched, channels=True)
    hw = 0.0
    if precision == "hardware":
        samples = x if batched else x[None]
        hw = 2 / 256 * max(coef_step(xb, mode, True, 0.5, 2) for xb in samples)
    check(got, want, span(x), hw=hw, what=f"{fn} {shape} {precision}")


@pytest.mark.parametrize("nd", [2, 3])
def test_imagearray_input(nd):
    x = data(SHAPES[nd], "float32")
    img = ia.asimage(x)
    c = coords(x.shape, GRID[nd], 3)
    got = ia.ndimage.map_coordinates(img, c, order=3, mode="mirror", precision="exact")
    want = ndi.map_coordinates(x, c, order=3, mode="mirror")
    check(got, want, span(x), what=f"ImageArray {nd}D")


@pytest.mark.parametrize("precision", ["exact", "hardware"])
@pytest.mark.parametrize("fn", ["affine_transform", "map_coordinates"])
def test_2d_coefficients_read_in_place_outlive_the_launch(fn, precision):
    """2D coefficients whose rows CUDA addresses in place (rows of 896 bytes) are read
    by a texture over their own memory: they stay allocated until the launch has run
    (the output, of their size, allocated after them must not take their memory), in
    the full path and in the plan."""
    x = data((160, 224), "float32")
    m = cupy.asarray([[0.96, 0.28, -20.0], [-0.28, 0.96, 35.0]])
    c = (m[:, :2] @ cupy.indices(x.shape).reshape(2, -1) + m[:, 2:]).reshape((2,) + x.shape)
    c = c.astype(cupy.float32)
    args = (m,) if fn == "affine_transform" else (c,)  # outputs of the input's shape
    want = getattr(ndi, fn)(x, *args, order=3, mode="mirror")
    hw = 2 / 256 * coef_step(x, "mirror", True, 0.0, 2) if precision == "hardware" else 0.0
    for i in range(3):
        got = getattr(ia.ndimage, fn)(x, *args, order=3, mode="mirror", precision=precision)
        check(got, want, span(x), hw=hw, handful=0.02, what=f"{fn} call {i}")


def test_input_untouched_and_a_repeat_filters_it_again():
    """The prefilter works on a copy; a repeat recomputes the coefficients (the input
    changed in place between the calls)."""
    x = data(SHAPES[2], "float32")
    keep = x.copy()
    m = np.array([[0.9, 0.1], [-0.1, 0.9]])
    a = ia.ndimage.affine_transform(x, m, order=3, mode="nearest", precision="exact")
    assert bool(cupy.array_equal(x, keep))
    x *= 2
    b = ia.ndimage.affine_transform(x, m, order=3, mode="nearest", precision="exact")
    check(b, ndi.affine_transform(x, cupy.asarray(m), order=3, mode="nearest"), span(x))
    check(b, 2 * a, span(x), what="linear in the input")


@pytest.mark.parametrize("order", [2, 4, 5])
def test_orders_2_4_5_fall_back(order):
    x = data(SHAPES[2], "float32")
    with pytest.warns(ia.FallbackWarning, match=f"order={order}"):
        got = ia.ndimage.zoom(x, 1.5, order=order, mode="mirror")
    check(got, ndi.zoom(x, 1.5, order=order, mode="mirror"), span(x))


@pytest.mark.parametrize(
    "mode", ["constant", "mirror", "reflect", "nearest", "grid-wrap", "wrap", "grid-constant"]
)
def test_3d_border_points_read_the_cuda_arrays_border(monkeypatch, mode):
    """3D coefficients filled through a surface carry a border of folded taps
    (_spline.HALO): the exact results keep their bits with and without it; without
    it the hardware path computes the points whose taps cross an edge exactly (their
    bits are the exact ones), with it by its filtered fetches (their values move by
    its 8-bit fractions, within its bound of cupyx's). nearest and grid-constant
    are padded by 12 samples first: no tap here crosses the padded edge."""
    from imagearray.ndimage import _modes, _plan, _spline

    x = data((20, 22, 18), "float32")
    m = np.array([[0.98, 0.1, 0, 0.4], [-0.1, 0.97, 0.05, -0.3], [0.02, -0.05, 1.01, 0.2]])
    kw = dict(order=3, mode=mode, cval=0.5)
    got = {}
    for halo in (0, 2):
        monkeypatch.setattr(_spline, "HALO", halo)
        _plan.clear()  # (a plan keeps the fill, and its border, it was made with)
        for p in ("exact", "hardware"):
            got[halo, p] = cupy.asnumpy(ia.ndimage.affine_transform(x, m, precision=p, **kw))
    np.testing.assert_array_equal(got[0, "exact"], got[2, "exact"])
    pad = _spline.layout(mode, True)[1]
    idx = np.indices(x.shape).reshape(3, -1)
    c = (m[:, :3] @ idx + m[:, 3:]).reshape((3,) + x.shape).astype(np.float32)
    edge = np.zeros(x.shape, bool)  # output points whose taps cross an edge
    for j, n in enumerate(x.shape):
        cj = _modes.wrap_coordinate(c[j], n) if mode == "wrap" else c[j]
        cj = cj + pad
        edge |= (np.floor(cj) - 1 < 0) | (np.floor(cj) + 2 > n + 2 * pad - 1)
    np.testing.assert_array_equal(got[0, "hardware"][edge], got[0, "exact"][edge])
    moved = got[2, "hardware"][edge] != got[2, "exact"][edge]
    assert bool(moved.any()) == (mode not in ("nearest", "grid-constant"))
    want = ndi.affine_transform(x, cupy.asarray(m), **kw).get()
    bound = 3 / 256 * coef_step(x, mode, True, 0.5, 3) + 1e-5 * span(x)
    assert float(np.abs(got[2, "hardware"] - want).max()) <= bound


def test_hardware_differs_from_exact_inside():
    """precision='hardware' really takes the linear fetches (its 8-bit fractions show)
    and stays within its bound of the exact result."""
    x = data((64, 64), "float32")
    m = np.array([[0.87, 0.31], [-0.29, 0.91]])
    kw = dict(order=3, mode="mirror", offset=(9.3, 4.7), output_shape=(40, 40))
    e = ia.ndimage.affine_transform(x, m, precision="exact", **kw)
    h = ia.ndimage.affine_transform(x, m, precision="hardware", **kw)
    d = float(cupy.abs(h - e).max())
    assert 0 < d <= 2 / 256 * coef_step(x, "mirror", True, 0.0, 2) + 1e-5 * span(x)


@pytest.mark.parametrize("mode", ["mirror", "reflect", "grid-wrap", "nearest", "constant"])
@pytest.mark.parametrize("shape", [(23, 17), (9, 11, 7), (5, 40), (3, 2, 30), (1, 33)])
def test_prefilter_is_cupyxs(shape, mode):
    """The parallel prefilter (and the cupyx path it keeps for short reflect axes)
    against cupyx's spline_filter: within float32 rounding of the coefficients."""
    from imagearray.ndimage import _spline

    x = data(shape, "float32")
    want = ndi.spline_filter(x, 3, output=cupy.float32, mode=mode)
    got = _spline.prefilter_axes(x[None, ..., None], len(shape), mode)[0, ..., 0]
    assert bool(cupy.array_equal(x, data(shape, "float32")))  # the input is not written
    scale = float(cupy.abs(want).max())
    assert float(cupy.abs(got - want).max()) <= 1e-5 * scale


@pytest.mark.parametrize("recursive", [True, False])
@pytest.mark.parametrize("mode", ["mirror", "reflect", "grid-wrap"])
@pytest.mark.parametrize(
    "shape", [(7, 600), (5, 256), (3, 257), (9, 20), (4, 5, 40), (2, 3), (4000, 20, 17)]
)
def test_row_tiled_pass_gives_the_same_bits(monkeypatch, shape, mode, recursive):
    """The contiguous axis's pass by shared-memory row tiles (lines longer than, equal
    to, just over and shorter than a tile, and shorter than the filter's half width;
    a number of lines no tile's line count divides, and many) sums exactly as the
    sliding-window pass does."""
    from imagearray.ndimage import _firsource, _spline

    monkeypatch.setattr(_firsource, "RECURSIVE", recursive)
    x = data(shape, "float32")[None, ..., None]
    got = {}
    monkeypatch.setattr(_spline, "PLANE_TILE", 0)  # the x pass on its own
    for tile in (0, 256, 64, 32):
        monkeypatch.setattr(_spline, "ROW_TILE", tile)
        got[tile] = _spline.prefilter_axes(x, len(shape), mode)
    assert all(bool(cupy.array_equal(got[0], got[t])) for t in (256, 64, 32))
    if x.size > 100_000:  # cupyx fails to launch (70000, 2, 3) on the H200: SciPy
        import scipy.ndimage as sndi

        want = sndi.spline_filter(x[0, ..., 0].get().astype(np.float64), 3, mode=mode)
    else:
        want = ndi.spline_filter(x[0, ..., 0], 3, output=cupy.float32, mode=mode).get()
    scale = float(np.abs(want).max())
    assert float(np.abs(got[256][0, ..., 0].get() - want).max()) <= 1e-5 * scale


@pytest.mark.parametrize("recursive", [True, False])
@pytest.mark.parametrize("mode", ["mirror", "reflect", "grid-wrap", "nearest", "constant"])
@pytest.mark.parametrize(
    "shape",
    [(7, 600), (64, 64), (65, 130), (2, 3), (20, 33), (5, 70, 40), (3, 2, 97), (9, 1, 30)]
    + [(160, 224), (2, 150, 148)],  # inner tiles: rows read as float4 (widths of 4k)
)
def test_plane_pass_gives_the_same_bits(monkeypatch, shape, mode, recursive):
    """The passes along the last two axes as one (tiles of 64 and 32: planes that
    are, are not and are just over a tile, axes shorter than the filter's half
    width, several planes, and an axis of one sample, which is not filtered): the
    bits of the two passes one after the other, and cupyx's within float32 rounding."""
    from imagearray.ndimage import _firsource, _spline

    monkeypatch.setattr(_firsource, "RECURSIVE", recursive)
    x = data(shape, "float32")[None, ..., None]
    got = {}
    for tile in (0, 64, 32):
        monkeypatch.setattr(_spline, "PLANE_TILE", tile)
        got[tile] = _spline.prefilter_axes(x, len(shape), mode)
    assert bool(cupy.array_equal(got[0], got[64])) and bool(cupy.array_equal(got[0], got[32]))
    want = ndi.spline_filter(x[0, ..., 0], 3, output=cupy.float32, mode=mode)
    scale = float(cupy.abs(want).max())
    assert float(cupy.abs(got[64][0, ..., 0] - want).max()) <= 1e-5 * scale


@pytest.mark.parametrize("offset", [0, 1, 2])
def test_plane_pass_reads_any_address(offset):
    """Inner tiles of the plane pass read rows as float4 where the samples start on
    16 bytes: a contiguous view starting 4 or 8 bytes later (read a float at a time)
    gives the bits of an aligned copy of the same samples."""
    from imagearray.ndimage import _spline

    n = 160  # 64 x 64 tiles with a whole border inside the plane
    base = data((n * n + offset,), "float32")
    view = base[offset:].reshape(1, n, n, 1)
    got = _spline.prefilter_axes(view, 2, "mirror")
    want = _spline.prefilter_axes(view.copy(), 2, "mirror")
    assert bool(cupy.array_equal(got, want))
    ref = ndi.spline_filter(view[0, ..., 0], 3, output=cupy.float32, mode="mirror")
    assert float(cupy.abs(got[0, ..., 0] - ref).max()) <= 1e-5 * float(cupy.abs(ref).max())


@pytest.mark.parametrize("mode", ["mirror", "reflect", "grid-wrap", "nearest", "constant"])
@pytest.mark.parametrize("shape", [(19, 23, 17), (40, 9, 33), (70, 3, 2)])
@pytest.mark.parametrize("lanes", [16, 32, 8])
@pytest.mark.parametrize("halo", [2, 0])
def test_prefilter_into_a_cuda_array_gives_the_same_bits(monkeypatch, shape, mode, lanes, halo):
    """The last pass written through a surface into a 3D CUDA array (warps of
    ``lanes`` x ``32 / lanes`` texels), with ``halo`` texels of border each side: the
    coefficients the linear path computes, bit for bit, the border holding those the
    spline rule of the mode folds there (NumPy's fold of the indices), and every
    texel written; cupyx's within float32 rounding."""
    from imagearray.ndimage import _modes, _spline

    monkeypatch.setattr(_spline, "SURFACE_LANES", lanes)
    monkeypatch.setattr(_spline, "HALO", halo)
    x = data(shape, "float32")
    nshape = (1, *shape, 1)
    args = (x, nshape, 3, mode, 0.0, True)
    linear, none = _spline.coefficients(*args)
    other, filled = _spline.coefficients(*args, to_image=True)
    assert none is None
    if not _spline.fills_image(linear.shape, 3, mode):  # short reflect axes: linear
        assert filled is None
        assert bool(cupy.array_equal(other, linear))
        return
    lease, got_halo = filled
    assert got_halo == halo
    img = lease.image
    inner = linear.shape[1:-1]
    assert other is None and isinstance(img, ia.ImageArray)
    assert img.shape == tuple(n + 2 * halo for n in inner) and img.dtype == np.float32
    img.set(np.full(img.shape, np.nan, np.float32))  # a texel left unwritten shows
    a = x[None, ..., None]
    if mode == "nearest":  # padded by NPREPAD samples first, as coefficients() does
        a = cupy.pad(a, [(0, 0)] + [(_spline.NPREPAD,) * 2] * 3 + [(0, 0)], "edge")
    rule = _spline.border(mode, inner, x.device.id)[1]
    _spline.prefilter_axes(a, 3, mode, into=img, halo=(halo, rule))
    idx = [_modes.boundary(rule, np.arange(-halo, n + halo), n) for n in inner]
    want_img = linear[0, ..., 0].get()[np.ix_(*idx)]
    np.testing.assert_array_equal(img.get(), want_img)
    if mode != "nearest":  # (nearest: padded by 12 samples first, as cupyx's zoom does)
        want = ndi.spline_filter(x, 3, output=cupy.float32, mode=mode)
        scale = float(cupy.abs(want).max())
        core = img.get()[tuple(slice(halo, halo + n) for n in inner)]
        assert float(np.abs(core - want.get()).max()) <= 1e-5 * scale


def test_order_3_in_3d_reads_the_prefilters_cuda_array(monkeypatch):
    """A 3D order=3 call takes the surface path (no copy of the coefficients into a
    CUDA array), and gives cupyx's result."""
    from imagearray.ndimage import _plan, _spline, _textures

    seen = []
    fill = _textures.from_filled
    monkeypatch.setattr(
        _textures, "from_filled", lambda ls, b, f: seen.append(ls) or fill(ls, b, f)
    )
    x = data((21, 18, 25), "float32")
    m = np.array([[1, 0.1, 0, 0.5], [0, 0.98, 0.1, -0.2], [0.05, 0, 1, 0.3]])
    want = ndi.affine_transform(x, cupy.asarray(m), order=3, mode="mirror")
    got = ia.ndimage.affine_transform(x, m, order=3, mode="mirror", precision="exact")
    assert len(seen) == 1
    assert float(cupy.abs(got - want).max()) <= 1e-5 * float(cupy.abs(want).max())
    monkeypatch.setattr(_spline, "FAST_PREFILTER", False)  # cupyx's filter: the copy path
    _plan.clear()  # (the plan of the call above keeps its prepared fill)
    ia.ndimage.affine_transform(x, m, order=3, mode="mirror", precision="exact")
    assert len(seen) == 1


@pytest.mark.parametrize("recursive", [True, False])
@pytest.mark.parametrize("mode", ["mirror", "reflect", "grid-wrap", "nearest"])
@pytest.mark.parametrize("shape", [(37, 29), (9, 11, 7), (3, 2, 45), (20, 16), (1, 8, 17)])
def test_prefilter_runs_give_the_same_bits(monkeypatch, shape, mode, recursive):
    """A thread making PREFILTER_RUN samples from its sliding window computes them
    exactly as a thread making fewer does (lines shorter than, equal to and not a
    multiple of the run, and shorter than the filter's half width), three channels in
    the last axis; the recursions' stretches (RECURSIVE) and the impulse response."""
    from imagearray.ndimage import _firsource, _spline

    monkeypatch.setattr(_firsource, "RECURSIVE", recursive)
    x = data(shape + (3,), "float32")
    got = {}
    runs = (8, 16, 24) if recursive else (1, 3, 8)
    for run in runs:
        monkeypatch.setattr(_spline, "PREFILTER_RUN", run)
        got[run] = _spline.prefilter_axes(x[None], len(shape), mode)
    assert all(bool(cupy.array_equal(got[runs[0]], got[r])) for r in runs[1:])
    want = ndi.spline_filter(x[..., 1], 3, output=cupy.float32, mode=mode)
    scale = float(cupy.abs(want).max())
    assert float(cupy.abs(got[8][0, ..., 1] - want).max()) <= 1e-5 * scale


def test_recursive_prefilter_switch(monkeypatch):
    """FAST_PREFILTER=False: cupyx's spline_filter1d on every axis, the same result."""
    from imagearray.ndimage import _spline

    x = data(SHAPES[3], "float32")
    c = coords(x.shape, GRID[3], 3)
    fast = ia.ndimage.map_coordinates(x, c, order=3, mode="mirror", precision="exact")
    monkeypatch.setattr(_spline, "FAST_PREFILTER", False)
    slow = ia.ndimage.map_coordinates(x, c, order=3, mode="mirror", precision="exact")
    check(fast, slow, span(x), what="fast vs recursive prefilter")
    check(slow, ndi.map_coordinates(x, c, order=3, mode="mirror"), span(x), what="recursive")
