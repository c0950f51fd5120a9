"""GPU tests of ia.ndimage against cupyx.scipy.ndimage on the same data: every function,
mode, order (0, 1) and texture dtype, 2D and 3D, with precision='exact' (cupyx to
float32 rounding) and 'hardware' (the documented bound of the texture unit's 8-bit
weights); cupyx's argument forms, the OpenCV-style warps, the fallbacks to cupyx, NaN
and far coordinates, and the errors. Channels, batches, input kinds and tiling:
test_ndimage_batch_gpu.py; helpers and the comparison rule: _ndimage_util.py."""

from __future__ import annotations

import warnings

import cupy
import cupyx.scipy.ndimage as ndi
import numpy as np
import pytest
from _ndimage_util import (
    AFFINE,
    FUNCS,
    GRID,
    MODES,
    OTHER_DTYPES,
    PERSPECTIVE,
    SHAPES,
    SHIFTS,
    WARP,
    WARPS,
    ZOOMS,
    check,
    coords,
    cval_of,
    data,
    fn_args,
    hw_bound,
    loose,
    ours,
    planes_ref,
    ref,
    span,
    tie_mask,
    warp_coords,
)

import imagearray as ia

pytestmark = [pytest.mark.gpu, pytest.mark.filterwarnings("error::imagearray.FallbackWarning")]

EVERY_FN_ND = [(fn, nd) for fn in FUNCS for nd in (2, 3) if nd == 2 or fn not in WARPS]


def compare(fn, x, order, mode, precision="exact", args=None, kw=None, **extra):
    """ia.ndimage's ``fn`` of ``x`` against cupyx's on the same data (cval non-zero)."""
    cval = cval_of(x.dtype)
    if args is None:
        args, kw = fn_args(fn, x.shape, order)
    got = ours(fn, x, order, mode, cval, args, kw, precision=precision, **extra)
    want = ref(fn, x, order, mode, cval, args, kw)
    s = span(x)
    hw = hw_bound(x.ndim, s) if precision == "hardware" and order == 1 else 0.0
    mask = tie_mask(fn, x.shape, order, mode, args, kw)
    what = f"{fn} {x.dtype} {x.ndim}D order {order} {mode} {precision} {kw}"
    check(got, want, s, hw=hw, mask=mask, handful=0.02 if loose(fn, mode) else 0.001, what=what)


# ------------------------------------------------------------------ exact: every mode
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize(("fn", "nd"), EVERY_FN_ND)
def test_float32_every_mode(fn, nd, order, mode):
    compare(fn, data(SHAPES[nd], "float32"), order, mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("dtype", OTHER_DTYPES)
@pytest.mark.parametrize("fn", ["map_coordinates", "affine_transform"])
def test_dtypes_every_mode_2d(fn, dtype, order, mode):
    compare(fn, data(SHAPES[2], dtype), order, mode)


@pytest.mark.parametrize(("order", "mode"), [(0, "mirror"), (1, "constant")])
@pytest.mark.parametrize("dtype", OTHER_DTYPES)
@pytest.mark.parametrize("fn", ["zoom", "shift", "rotate", "warp_perspective", "remap"])
def test_dtypes_other_functions_2d(fn, dtype, order, mode):
    compare(fn, data(SHAPES[2], dtype), order, mode)


@pytest.mark.parametrize("mode", ["nearest", "grid-wrap"])
@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("dtype", OTHER_DTYPES)
@pytest.mark.parametrize("fn", ["map_coordinates", "affine_transform", "zoom"])
def test_dtypes_3d(fn, dtype, order, mode):
    compare(fn, data(SHAPES[3], dtype), order, mode)


# ------------------------------------------------------------------ hardware precision
@pytest.mark.parametrize("dtype", ["float32", "uint8", "uint16", "float16"])
@pytest.mark.parametrize("mode", ["constant", "nearest", "mirror", "grid-wrap"])
@pytest.mark.parametrize("nd", [2, 3])
@pytest.mark.parametrize("fn", ["map_coordinates", "affine_transform"])
def test_hardware_within_bound(fn, nd, mode, dtype):
    compare(fn, data(SHAPES[nd], dtype), 1, mode, "hardware")


@pytest.mark.parametrize("dtype", ["float32", "uint8"])
@pytest.mark.parametrize("fn", ["zoom", "shift", "rotate", "warp_perspective", "remap"])
def test_hardware_other_functions(fn, dtype):
    compare(fn, data(SHAPES[2], dtype), 1, "nearest", "hardware")


@pytest.mark.parametrize("nd", [2, 3])
@pytest.mark.parametrize("dtype", ["int8", "int16", "uint8", "float32"])
def test_default_precision_is_hardware(dtype, nd):
    """The default is 'hardware'; order 0, and signed inputs (whose normalized reads
    would clamp the minimum), are computed exactly by it."""
    x = data(SHAPES[nd], dtype)
    c = coords(x.shape, GRID[nd], 1)
    for order in (0, 1):
        kw = dict(order=order, mode="reflect", cval=cval_of(dtype))
        default = ia.ndimage.map_coordinates(x, c, **kw)
        hardware = ia.ndimage.map_coordinates(x, c, precision="hardware", **kw)
        cupy.testing.assert_array_equal(default, hardware)
        if order == 0 or dtype.startswith("int"):
            exact = ia.ndimage.map_coordinates(x, c, precision="exact", **kw)
            cupy.testing.assert_array_equal(hardware, exact)


# ------------------------------------------------------------------ argument forms
@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("mode", ["nearest", "grid-constant"])
@pytest.mark.parametrize("grid_mode", [False, True])
@pytest.mark.parametrize("factor", ["x0.5", "x2", "non-uniform"])
@pytest.mark.parametrize("nd", [2, 3])
def test_zoom_variants(nd, factor, grid_mode, mode, order):
    x = data(SHAPES[nd], "float32")
    z = {"x0.5": 0.5, "x2": 2.0, "non-uniform": ZOOMS[nd]}[factor]
    kw = dict(order=order, mode=mode, cval=0.5, grid_mode=grid_mode)
    got = ia.ndimage.zoom(x, z, precision="exact", **kw)
    if mode == "grid-constant" and order == 1:
        # cupyx's zoom kernel is made without cval (0 is used): SciPy's result is the
        # reference for the cval blend, cupyx's for cval=0
        import scipy.ndimage as sndi

        want = sndi.zoom(cupy.asnumpy(x).astype(np.float64), z, **kw).astype(np.float32)
        check(got, cupy.asarray(want), span(x), what=f"zoom {z} vs scipy")
        kw["cval"] = 0.0
        got = ia.ndimage.zoom(x, z, precision="exact", **kw)
    check(got, ndi.zoom(x, z, **kw), span(x), what=f"zoom {z}")


def test_zoom_grid_mode_constant_warns_like_cupyx():
    x = data(SHAPES[2], "float32")
    with pytest.warns(UserWarning, match="grid-constant") as rec:
        got = ia.ndimage.zoom(x, 1.5, order=1, mode="constant", grid_mode=True)
    assert not [w for w in rec if issubclass(w.category, ia.FallbackWarning)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        want = ndi.zoom(x, 1.5, order=1, mode="constant", grid_mode=True)
    check(got, want, span(x), hw=hw_bound(2, span(x)))


SHIFT_CASES = {
    "scalar": 2.5,
    "half": (0.5, 0.25),
    "integer": (3, -2),
    "far": (-30.5, 21.25),
    "3d": (0.5, -1.25, 2.75),
}


@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("mode", ["constant", "wrap", "opencv"])
@pytest.mark.parametrize("case", list(SHIFT_CASES))
def test_shift_variants(case, mode, order):
    x = data(SHAPES[3] if case == "3d" else SHAPES[2], "float32")
    s = SHIFT_CASES[case]
    compare("shift", x, order, mode, args=(s,), kw={})


ROTATIONS = [
    (2, 30.0, (1, 0), True),
    (2, 30.0, (1, 0), False),
    (2, -47.5, (0, 1), True),
    (2, 90.0, (1, 0), True),
    (3, 30.0, (1, 2), True),
    (3, 30.0, (1, 2), False),
    (3, 30.0, (0, 2), True),
    (3, -20.0, (2, 0), False),
]


@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("mode", ["constant", "opencv"])
@pytest.mark.parametrize(("nd", "angle", "axes", "reshape"), ROTATIONS)
def test_rotate_variants(nd, angle, axes, reshape, mode, order):
    x = data(SHAPES[nd], "float32")
    compare("rotate", x, order, mode, args=(angle,), kw=dict(axes=axes, reshape=reshape))


@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("xp", ["numpy", "cupy"])
@pytest.mark.parametrize("form", ["(nd,nd)", "(nd,)", "(nd,nd+1)", "(nd+1,nd+1)"])
@pytest.mark.parametrize("nd", [2, 3])
def test_affine_matrix_forms(nd, form, xp, order):
    a, off, out = AFFINE[nd]
    if form == "(nd,nd)":
        m, offset = a, off
    elif form == "(nd,)":
        m, offset = np.diag(a).copy(), off
    else:
        m = np.eye(nd + 1)
        m[:nd, :nd], m[:nd, nd] = a, off
        m = m[:nd] if form == "(nd,nd+1)" else m
        offset = 3.0  # ignored by the homogeneous forms
    x = data(SHAPES[nd], "float32")
    kw = dict(order=order, mode="grid-constant", cval=0.5)
    mat = cupy.asarray(m) if xp == "cupy" else m
    got = ia.ndimage.affine_transform(x, mat, offset, out, precision="exact", **kw)
    check(got, ndi.affine_transform(x, cupy.asarray(m), offset, out, **kw), span(x), what=form)
    if form != "(nd,)":  # the same transformation as (nd, nd) with its offset
        base = ia.ndimage.affine_transform(x, a, off, out, precision="exact", **kw)
        check(got, base, span(x), what=f"{form} vs (nd, nd)")


@pytest.mark.parametrize("out_shape", [(5, 40), (40, 5), (1, 1), (23, 17), (0, 5)])
def test_affine_output_shape(out_shape):
    x = data(SHAPES[2], "float32")
    a, off, _ = AFFINE[2]
    kw = dict(order=1, mode="nearest")
    got = ia.ndimage.affine_transform(x, a, off, output_shape=out_shape, precision="exact", **kw)
    want = ndi.affine_transform(x, cupy.asarray(a), off, output_shape=out_shape, **kw)
    check(got, want, span(x))


OUTPUTS = [
    "float32<-uint8",
    "str float32<-uint8",
    "int16<-uint8",
    "float64<-float32",
    "float16<-float32",
    "array",
    "transposed view",
    "strided view",
]


@pytest.mark.parametrize("case", OUTPUTS)
@pytest.mark.parametrize("fn", ["map_coordinates", "affine_transform", "shift", "warp_perspective"])
def test_output_argument(fn, case):
    x = data(SHAPES[2], "uint8" if case.endswith("uint8") else "float32")
    cval = cval_of(x.dtype)
    args, kw = fn_args(fn, x.shape, 1)
    if "<-" in case:
        name = case.split("<-")[0].replace("str ", "")
        dtype = np.dtype(name)
        got = ours(fn, x, 1, "nearest", cval, args, kw, output=name if "str" in case else dtype)
    else:
        dtype = np.dtype(np.float32)
        shape = ref(fn, x, 1, "nearest", cval, args, kw).shape
        if case == "array":
            out = cupy.full(shape, -7, dtype)
        elif case == "transposed view":
            out = cupy.full(shape[::-1], -7, dtype).T
        else:
            out = cupy.full((shape[0], 2 * shape[1]), -7, dtype)[:, ::2]
        got = ours(fn, x, 1, "nearest", cval, args, kw, output=out, precision="exact")
        assert got is out
    want = ref(fn, x, 1, "nearest", cval, args, kw, output=dtype)
    check(got, want, span(x), hw=hw_bound(2, span(x)) if "<-" in case else 0.0, what=case)


@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("nd", [2, 3])
def test_affine_float64_coords(nd, order):
    x = data(SHAPES[nd], "float32")
    a, off, out = AFFINE[nd]
    a = a + 0.0123  # not dyadic: float64 coordinates matter
    kw = dict(order=order, mode="mirror", float64_coords=True)
    got = ia.ndimage.affine_transform(x, a, off, out, precision="exact", **kw)
    want = ndi.affine_transform(x, cupy.asarray(a), off, out, **kw)
    check(got, want, span(x), free=1 if order == 0 else 0)


@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("cdtype", ["float64", "float16", "int64", "int32", "numpy"])
@pytest.mark.parametrize("nd", [2, 3])
def test_map_coordinates_coordinate_dtypes(nd, cdtype, order):
    x = data(SHAPES[nd], "float32")
    c = coords(x.shape, GRID[nd], order)
    if cdtype.startswith("int"):
        c = cupy.rint(c).astype(cdtype)
    elif cdtype != "numpy":
        c = c.astype(cdtype)
    kw = dict(order=order, mode="reflect", cval=0.5)
    host = cupy.asnumpy(c) if cdtype == "numpy" else c
    got = ia.ndimage.map_coordinates(x, host, precision="exact", **kw)
    check(got, ndi.map_coordinates(x, c, **kw), span(x), what=cdtype)


@pytest.mark.parametrize("grid", [(50,), (), (3, 4, 5), (2, 3, 4, 5)])
@pytest.mark.parametrize("nd", [2, 3])
def test_map_coordinates_output_ranks(nd, grid):
    """coordinates (ndim, *grid) of any rank: (ndim, npoints) is the usual list of
    points, (ndim,) one point (a 0-d output)."""
    x = data(SHAPES[nd], "float32")
    c = coords(x.shape, grid, 1)
    for precision in ("exact", "hardware"):
        got = ia.ndimage.map_coordinates(x, c, order=1, mode="nearest", precision=precision)
        hw = hw_bound(nd, span(x)) if precision == "hardware" else 0.0
        want = ndi.map_coordinates(x, c, order=1, mode="nearest")
        check(got, want, span(x), hw=hw, what=f"grid {grid} {precision}")


# ------------------------------------------------------------------ warps
@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("mode", ["constant", "nearest", "reflect", "opencv"])
@pytest.mark.parametrize("inverse_map", [True, False])
def test_warp_perspective_projective(inverse_map, mode, order):
    x = data(SHAPES[2], "float32")
    out_shape = (15, 26)
    m = PERSPECTIVE if inverse_map else np.linalg.inv(PERSPECTIVE)
    kw = dict(order=order, mode=mode, cval=0.5, inverse_map=inverse_map, precision="exact")
    got = ia.ndimage.warp_perspective(x, m, out_shape, **kw)
    c = warp_coords(PERSPECTIVE, out_shape)
    want = ndi.map_coordinates(x, cupy.asarray(c.astype(np.float32)), None, order, mode, 0.5)
    # order 0: points near a .5 tie may take either neighbour (float32 vs float64)
    mask = ~(np.abs(c - np.floor(c) - 0.5) < 1e-3).any(axis=0) if order == 0 else None
    check(got, want, span(x), atol=1e-4, mask=mask)


@pytest.mark.parametrize("xp", ["numpy", "cupy"])
@pytest.mark.parametrize("order", [0, 1])
def test_warp_perspective_inverts_by_default(order, xp):
    x = data(SHAPES[2], "uint8")
    fwd = np.linalg.inv(WARP)  # input -> output; inverted back to WARP
    kw = dict(order=order, mode="grid-constant", cval=7, precision="exact")
    got = ia.ndimage.warp_perspective(x, cupy.asarray(fwd) if xp == "cupy" else fwd, **kw)
    inverse = ia.ndimage.warp_perspective(x, WARP, inverse_map=True, **kw)
    want = ref("warp_perspective", x, order, "grid-constant", 7, (WARP,), {"inverse_map": True})
    check(got, want, span(x), free=1 if order == 0 else 0, what="default")
    check(inverse, want, span(x), what="inverse_map=True")


def test_warp_perspective_w_zero_reads_cval():
    x = data(SHAPES[2], "float32")
    m = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, -5.0]])  # w = x - 5
    got = ia.ndimage.warp_perspective(
        x, m, order=1, mode="nearest", cval=0.5, inverse_map=True, precision="exact"
    )
    assert (cupy.asnumpy(got[:, 5]) == np.float32(0.5)).all()
    with np.errstate(divide="ignore", invalid="ignore"):
        c = warp_coords(m, x.shape)
    c[:, :, 5] = 0
    want = ndi.map_coordinates(x, cupy.asarray(c.astype(np.float32)), order=1, mode="nearest")
    mask = np.arange(x.shape[1]) != 5
    check(got, want, span(x), atol=1e-4, mask=mask)


@pytest.mark.parametrize("mapdtype", ["float32", "float64"])
@pytest.mark.parametrize("relative", [False, True])
@pytest.mark.parametrize("order", [0, 1])
def test_remap_maps(order, relative, mapdtype):
    x = data(SHAPES[2], "float32")
    c = coords(x.shape, (15, 26), order, seed=3)  # output shape other than the input's
    my, mx = c[0].astype(mapdtype), c[1].astype(mapdtype)
    if relative:
        rows, cols = cupy.indices(my.shape, dtype=mapdtype)
        my, mx = my - rows, mx - cols
    kw = {"relative": relative}
    got = ours("remap", x, order, "mirror", 0.5, (my, mx), kw, precision="exact")
    check(got, ref("remap", x, order, "mirror", 0.5, (my, mx), kw), span(x))


# ------------------------------------------------------------------ fallbacks
@pytest.mark.parametrize("fn", FUNCS)
def test_fallback_order2(fn):
    """order=2 (orders 2, 4, 5: not on textures) is cupyx's spline, with a
    FallbackWarning (order 3: test_ndimage_cubic_gpu.py)."""
    x = data(SHAPES[2], "float32")
    args, kw = fn_args(fn, x.shape, 2)
    with pytest.warns(ia.FallbackWarning, match="order=2"):
        got = getattr(ia.ndimage, fn)(x, *args, order=2, mode="mirror", **kw)
    want = ref(fn, x, 2, "mirror", 0.0, args, kw)
    cupy.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("fn", FUNCS)
def test_fallback_float64_input(fn):
    x = data(SHAPES[2], "float64")
    args, kw = fn_args(fn, x.shape, 1)
    with pytest.warns(ia.FallbackWarning, match="float64"):
        got = ours(fn, x, 1, "nearest", 0.5, args, kw)
    assert got.dtype == np.float64
    cupy.testing.assert_allclose(got, ref(fn, x, 1, "nearest", 0.5, args, kw), rtol=1e-12)


@pytest.mark.parametrize("case", ["1d shift", "1d zoom", "1d map_coordinates", "4d shift", "empty"])
def test_fallback_other_ranks_and_empty(case):
    shape = {"1d": (29,), "4d": (4, 5, 6, 7), "empty": (0, 17)}[case.split()[0]]
    x = data(shape, "float32")
    fn = case.split()[1] if " " in case else "shift"
    args = {
        "shift": (1.5,),
        "zoom": (1.7,),
        "map_coordinates": (cupy.linspace(-3, 33, 40, dtype=cupy.float32)[None],),
    }[fn]
    with pytest.warns(ia.FallbackWarning, match="empty" if case == "empty" else "spatial axes"):
        got = getattr(ia.ndimage, fn)(x, *args, order=1, mode="reflect")
    want = getattr(ndi, fn)(x, *args, order=1, mode="reflect")
    assert got.shape == want.shape
    cupy.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


PLANE_CASES = {
    # name: (shape, dtype, fn, order, channel_axis, batch_axes, ia.asimage keywords, warning)
    "channels order 2": ((23, 17, 4), "float32", "zoom", 2, -1, None, None, "order=2"),
    "batch order 2": ((3, 23, 17), "float32", "rotate", 2, None, 0, None, "order=2"),
    "batch+channels order 2": ((3, 23, 17, 2), "float32", "shift", 2, -1, 0, None, "order=2"),
    "per-sample matrices": ((3, 23, 17), "float32", "affine_transform", 2, None, 0, None, "=2"),
    "5 channels": ((23, 17, 5), "uint8", "map_coordinates", 1, -1, None, None, "5 channels"),
    "batch of 3D volumes": ((2, 9, 11, 7), "float32", "affine_transform", 1, None, 0, None, "3D"),
    "ImageArray 2D": ((23, 17), "float32", "zoom", 2, None, None, {}, "order=2"),
    "ImageArray rgba": ((23, 17, 4), "uint8", "zoom", 2, None, None, {"channels": 4}, "=2"),
    "ImageArray layered": ((3, 23, 17), "uint8", "shift", 2, None, None, {"layered": True}, "=2"),
}


@pytest.mark.parametrize("case", list(PLANE_CASES))
def test_fallback_per_plane(case):
    """The fallback loops over the (sample, channel) planes: each equals cupyx's."""
    shape, dtype, fn, order, ch, batch, image, match = PLANE_CASES[case]
    x = data(shape, dtype)
    batched = batch is not None or bool(image and image.get("layered"))
    channels = ch is not None or bool(image and image.get("channels"))
    spatial = shape[int(batched) : len(shape) - int(channels)]
    args, kw = fn_args(fn, spatial, order)
    each = None
    if case.startswith("per-sample"):
        stack = np.stack([np.eye(3) + np.diag([0.03125 * b, -0.0625 * b, 0]) for b in range(3)])
        args, kw, each = (stack,), {}, lambda b: ((cupy.asarray(stack[b]),), {})
    src = x if image is None else ia.asimage(x, **image)
    with pytest.warns(ia.FallbackWarning, match=match):
        got = ours(fn, src, order, "nearest", 0.0, args, kw, channel_axis=ch, batch_axes=batch)
    want = planes_ref(
        fn, x, order, "nearest", 0.0, args, kw, batched=batched, channels=channels, each=each
    )
    cupy.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6 * span(x))


def test_order_none_warns_and_means_1():
    x = data(SHAPES[2], "float32")
    with pytest.warns(UserWarning, match="default order") as rec:
        got = ia.ndimage.shift(x, SHIFTS[2], order=None, precision="exact")
    assert not [w for w in rec if issubclass(w.category, ia.FallbackWarning)]
    cupy.testing.assert_array_equal(got, ia.ndimage.shift(x, SHIFTS[2], order=1, precision="exact"))


def test_texture_memory_is_ignored():
    x = data(SHAPES[2], "float32")
    a, off, out = AFFINE[2]
    kw = dict(order=1, mode="nearest", precision="exact")
    on = ia.ndimage.affine_transform(x, a, off, out, texture_memory=True, **kw)
    cupy.testing.assert_array_equal(on, ia.ndimage.affine_transform(x, a, off, out, **kw))


# ------------------------------------------------------------------ NaN and far coordinates
@pytest.mark.parametrize(
    ("dtype", "precision"), [("float32", "exact"), ("float32", "hardware"), ("uint8", "hardware")]
)
@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("mode", MODES)
def test_nan_coordinates_give_cval(mode, order, dtype, precision):
    x = data(SHAPES[2], dtype)
    cval = cval_of(dtype)
    c = coords(x.shape, GRID[2], order)
    c[0, ::5] = cupy.nan
    c[1, :, ::4] = cupy.nan
    nan = cupy.asnumpy(cupy.isnan(c).any(axis=0))
    kw = dict(order=order, mode=mode, cval=cval)
    got = ia.ndimage.map_coordinates(x, c, precision=precision, **kw)
    assert (cupy.asnumpy(got)[nan] == cval).all(), "NaN coordinates must read cval"
    want = ndi.map_coordinates(x, cupy.where(cupy.isnan(c), 0, c), **kw)
    hw = hw_bound(2, span(x)) if precision == "hardware" and order == 1 else 0.0
    ties = tie_mask("map_coordinates", x.shape, order, mode, (c,), {})
    check(got, want, span(x), hw=hw, mask=~nan if ties is None else ~nan & ties)


@pytest.mark.parametrize("cdtype", ["float32", "float64"])
@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("mode", MODES)
def test_far_coordinates_do_not_crash(mode, order, cdtype):
    x = data(SHAPES[2], "float32")
    far = np.array([1e20, -1e20, 3e9, -3e9, np.inf, -np.inf, 2.0**31, 5.5])
    c = cupy.asarray(np.stack(np.meshgrid(far, far, indexing="ij")).astype(cdtype))
    got = ia.ndimage.map_coordinates(x, c, order=order, mode=mode, cval=0.5, precision="exact")
    cupy.cuda.Device().synchronize()
    assert got.shape == (8, 8) and bool(cupy.isfinite(got).all())
    if mode == "constant":
        assert (cupy.asnumpy(got)[:-1, :-1] == np.float32(0.5)).all()
    # the device is still sound afterwards
    compare("map_coordinates", x, order, mode)


# ------------------------------------------------------------------ bad input
def _inputs():
    x = data(SHAPES[2], "float32")
    return {
        "x": x,
        "u8": data(SHAPES[2], "uint8"),
        "rgba": data(SHAPES[2] + (4,), "uint8"),
        "batch": data((3,) + SHAPES[2], "float32"),
        "vol": data(SHAPES[3], "float32"),
        "c": coords(x.shape, GRID[2], 1),
    }


E = ia.ndimage
BAD = {
    "unknown mode": lambda d: E.shift(d["x"], 1.5, order=1, mode="bogus"),
    "mode not a str": lambda d: E.zoom(d["x"], 2.0, order=1, mode=3),
    "precision fast": lambda d: E.zoom(d["x"], 2.0, order=1, precision="fast"),
    "order 7": lambda d: E.map_coordinates(d["x"], d["c"], order=7),
    "order -1": lambda d: E.shift(d["x"], 1.0, order=-1),
    "order 1.5": lambda d: E.shift(d["x"], 1.0, order=1.5),
    "channel_axis 0": lambda d: E.zoom(d["rgba"], 2.0, order=1, channel_axis=0),
    "channel_axis 1": lambda d: E.zoom(d["rgba"], 2.0, order=1, channel_axis=1),
    "batch_axes 1": lambda d: E.shift(d["batch"], 1.0, order=1, batch_axes=1),
    "batch_axes (0, 1)": lambda d: E.shift(d["batch"], 1.0, order=1, batch_axes=(0, 1)),
    "matrix (3, 2)": lambda d: E.affine_transform(d["x"], np.ones((3, 2)), order=1),
    "matrix (4, 4)": lambda d: E.affine_transform(d["x"], np.eye(4), order=1),
    "matrix (3,)": lambda d: E.affine_transform(d["x"], np.ones(3), order=1),
    "matrix cupy (2, 4)": lambda d: E.affine_transform(d["x"], cupy.ones((2, 4)), order=1),
    "output of wrong shape": lambda d: E.shift(
        d["x"], 1.0, order=1, output=cupy.empty((5, 5), cupy.float32)
    ),
    "output without the channels": lambda d: E.shift(
        d["rgba"], 1.0, order=1, channel_axis=-1, output=cupy.empty(SHAPES[2], cupy.uint8)
    ),
    "output not a dtype": lambda d: E.shift(d["x"], 1.0, order=1, output="no such dtype"),
    "matrices != batch": lambda d: E.affine_transform(
        d["batch"], np.stack([np.eye(3)] * 2), order=1, batch_axes=0
    ),
    "matrices without batch": lambda d: E.affine_transform(
        d["x"], np.stack([np.eye(3)] * 3), order=1
    ),
    "offsets without matrices": lambda d: E.affine_transform(
        d["x"], np.eye(2), np.zeros((3, 2)), order=1
    ),
    "opencv with matrices": lambda d: E.affine_transform(
        d["batch"], np.stack([np.eye(3)] * 3), order=1, mode="opencv", batch_axes=0
    ),
    "homographies != batch": lambda d: E.warp_perspective(
        d["batch"], np.stack([np.eye(3)] * 2), batch_axes=0
    ),
    "homography (2, 3)": lambda d: E.warp_perspective(d["x"], np.eye(3)[:2]),
    "warp 3D input": lambda d: E.warp_perspective(d["vol"], np.eye(3)),
    "remap 3D input": lambda d: E.remap(d["vol"], d["c"][0], d["c"][1]),
    "remap maps' shapes": lambda d: E.remap(d["x"], d["c"][0], d["c"][1, :5]),
    "nan cval, integer output": lambda d: E.shift(d["u8"], 1.5, order=1, cval=np.nan),
    "inf cval, integer output": lambda d: E.map_coordinates(d["u8"], d["c"], order=0, cval=np.inf),
    "nan cval, integer output dtype": lambda d: E.shift(
        d["x"], 1.5, order=1, cval=np.nan, output=np.int16
    ),
    "cval not a number": lambda d: E.shift(d["x"], 1.5, order=1, cval="a"),
    "coordinates rows": lambda d: E.map_coordinates(d["x"], cupy.zeros((3, 5)), order=1),
    "coordinates complex": lambda d: E.map_coordinates(
        d["x"], cupy.zeros((2, 5), cupy.complex64), order=1
    ),
    "zoom length": lambda d: E.zoom(d["x"], (1.0, 2.0, 3.0), order=1),
    "shift a str": lambda d: E.shift(d["x"], "a", order=1),
    "rotate axes (0, 0)": lambda d: E.rotate(d["x"], 30.0, axes=(0, 0), order=1),
    "rotate axes (0, 2)": lambda d: E.rotate(d["x"], 30.0, axes=(0, 2), order=1),
    "output_shape negative": lambda d: E.affine_transform(
        d["x"], np.eye(2), output_shape=(-1, 5), order=1
    ),
    "output_shape rank": lambda d: E.affine_transform(
        d["x"], np.eye(2), output_shape=(5,), order=1
    ),
    "input a list": lambda d: E.shift([[1.0, 2.0], [3.0, 4.0]], 1.0, order=1),
    "no spatial axis": lambda d: E.shift(d["x"][0], 1.0, order=1, channel_axis=-1),
    "ImageArray channel_axis": lambda d: E.zoom(ia.asimage(d["x"]), 2.0, order=1, channel_axis=-1),
    "ImageArray batch_axes": lambda d: E.zoom(ia.asimage(d["x"]), 2.0, order=1, batch_axes=0),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_raises_imagearray_error(case):
    d = _inputs()
    with pytest.raises(ia.ImageArrayError):
        BAD[case](d)
    cupy.cuda.Device().synchronize()


DEFAULT_ORDER_BAD = {  # the same checks where order is left at its default (3, a fallback)
    "matrix (3, 2)": lambda d: E.affine_transform(d["x"], np.ones((3, 2))),
    "matrix (3,)": lambda d: E.affine_transform(d["x"], np.ones(3)),
    "nan cval, integer output": lambda d: E.shift(d["u8"], 1.5, cval=np.nan),
    "precision fast": lambda d: E.zoom(d["x"], 2.0, precision="fast"),
    "output of wrong shape": lambda d: E.zoom(d["x"], 2.0, output=cupy.empty((5, 5))),
    "unknown mode": lambda d: E.rotate(d["x"], 30.0, mode="bogus"),
}


@pytest.mark.parametrize("case", list(DEFAULT_ORDER_BAD))
def test_bad_input_raises_imagearray_error_at_default_order(case):
    d = _inputs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ia.FallbackWarning)
        with pytest.raises(ia.ImageArrayError):
            DEFAULT_ORDER_BAD[case](d)
