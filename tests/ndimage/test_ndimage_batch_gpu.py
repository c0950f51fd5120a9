"""GPU tests of ia.ndimage's channel and batch axes, its input kinds (NumPy, ImageArray,
non-contiguous and unaligned CuPy arrays: read in place or copied into a CUDA array)
and its tiling of inputs beyond the device's texture limits, against
cupyx.scipy.ndimage per (sample, channel) plane. Helpers: _ndimage_util.py."""

from __future__ import annotations

import cupy
import cupyx.scipy.ndimage as ndi
import numpy as np
import pytest
from _ndimage_util import (
    AFFINE,
    FUNCS,
    MODES,
    SHAPES,
    WARP,
    WARPS,
    check,
    cval_of,
    data,
    fn_args,
    hw_bound,
    loose,
    ours,
    planes_ref,
    span,
    spy,
    tie_mask,
)

import imagearray as ia
from imagearray.ndimage import _textures

pytestmark = [pytest.mark.gpu, pytest.mark.filterwarnings("error::imagearray.FallbackWarning")]


def compare_planes(
    fn,
    x,
    order,
    mode,
    precision="exact",
    *,
    batched=False,
    channels=False,
    src=None,
    args=None,
    kw=None,
    each=None,
    hw=None,
):
    """ia.ndimage's ``fn`` of ``x`` (or of ``src``, an ImageArray of it) with its batch
    and channel axes, against cupyx per (sample, channel) plane; returns ia's result."""
    spatial = x.shape[int(batched) : x.ndim - int(channels)]
    if args is None:
        args, kw = fn_args(fn, spatial, order)
    cval = cval_of(x.dtype)
    axes = {}
    if src is None:
        axes = {"channel_axis": -1 if channels else None, "batch_axes": 0 if batched else None}
    got = ours(
        fn, x if src is None else src, order, mode, cval, args, kw, precision=precision, **axes
    )
    want = planes_ref(
        fn, x, order, mode, cval, args, kw, batched=batched, channels=channels, each=each
    )
    s = span(x)
    if hw is None:
        hw = hw_bound(len(spatial), s) if precision == "hardware" and order == 1 else 0.0
    mask = tie_mask(fn, spatial, order, mode, args, kw if each is None else each(0)[1])
    if mask is not None:
        mask = mask.reshape((1,) * int(batched) + mask.shape + (1,) * int(channels))
    what = f"{fn} {x.shape} {x.dtype} order {order} {mode} {precision}"
    handful = 0.02 if loose(fn, mode) else 0.005  # +-1 at .5 ties of integer outputs
    check(got, want, s, hw=hw, mask=mask, handful=handful, what=what)
    return got


def with_channels(shape, nch):
    return tuple(shape) + ((nch,) if nch else ())


# ------------------------------------------------------------------ channels
@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("dtype", ["uint8", "float32"])
@pytest.mark.parametrize("nch", [2, 3, 4])
@pytest.mark.parametrize("fn", FUNCS)
def test_channels(fn, nch, dtype, order):
    """channel_axis=-1: each output channel is cupyx's result of that channel's plane."""
    compare_planes(fn, data(SHAPES[2] + (nch,), dtype), order, "constant", channels=True)


@pytest.mark.parametrize("precision", ["exact", "hardware"])
@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("mode", MODES)
def test_rgba_uint8_every_mode(mode, order, precision):
    x = data(SHAPES[2] + (4,), "uint8")
    compare_planes("affine_transform", x, order, mode, precision, channels=True)


@pytest.mark.parametrize("dtype", ["uint8", "float32", "float16"])
@pytest.mark.parametrize("nch", [2, 4])
@pytest.mark.parametrize("fn", ["map_coordinates", "zoom", "rotate", "warp_perspective"])
def test_channels_hardware(fn, nch, dtype):
    x = data(SHAPES[2] + (nch,), dtype)
    compare_planes(fn, x, 1, "nearest", "hardware", channels=True)


@pytest.mark.parametrize("precision", ["exact", "hardware"])
@pytest.mark.parametrize("nch", [2, 3, 4])
@pytest.mark.parametrize("fn", ["map_coordinates", "affine_transform", "zoom", "shift", "rotate"])
def test_channels_3d(fn, nch, precision):
    x = data(SHAPES[3] + (nch,), "uint8" if nch == 4 else "float32")
    compare_planes(fn, x, 1, "reflect", precision, channels=True)


# ------------------------------------------------------------------ batches
@pytest.mark.parametrize("precision", ["exact", "hardware"])
@pytest.mark.parametrize("nch", [0, 4])
@pytest.mark.parametrize("width", [17, 32])  # a layered CUDA array / read in place
@pytest.mark.parametrize("fn", FUNCS)
def test_batch_shared(fn, width, nch, precision):
    """batch_axes=0 with one transformation for every sample."""
    x = data(with_channels((3, 23, width), nch), "uint8" if nch else "float32")
    compare_planes(fn, x, 1, "grid-constant", precision, batched=True, channels=bool(nch))


@pytest.mark.parametrize("nch", [0, 4])
@pytest.mark.parametrize("fn", FUNCS)
def test_batch_order0(fn, nch):
    x = data(with_channels((3, 23, 17), nch), "uint8" if nch else "float32")
    compare_planes(fn, x, 0, "mirror", batched=True, channels=bool(nch))


def sample_affines(n=3):
    """Per-sample (matrix, offset) pairs, dyadic, reaching outside the input."""
    a, off, _ = AFFINE[2]
    step_a = np.array([[0.03125, -0.015625], [0.0078125, 0.046875]])
    return [(a + b * step_a, np.array(off) + b * np.array([0.5, -0.25])) for b in range(n)]


@pytest.mark.parametrize(("order", "precision"), [(0, "exact"), (1, "exact"), (1, "hardware")])
@pytest.mark.parametrize("xp", ["numpy", "cupy"])
@pytest.mark.parametrize("form", ["(N,3,3)", "(N,2,3)", "(N,2,2)+offsets", "(N,2,2)"])
@pytest.mark.parametrize("nch", [0, 4])
def test_batch_per_sample_affine(nch, form, xp, order, precision):
    x = data(with_channels((3, 23, 17), nch), "uint8" if nch else "float32")
    pairs = sample_affines()
    out = AFFINE[2][2]
    shared = pairs[0][1]
    if form in ("(N,3,3)", "(N,2,3)"):
        full = np.stack([np.vstack([np.hstack([a, o[:, None]]), [0, 0, 1]]) for a, o in pairs])
        stack, offset = (full if form == "(N,3,3)" else full[:, :2]), 0.0
    else:
        stack = np.stack([a for a, _ in pairs])
        offset = np.stack([o for _, o in pairs]) if form.endswith("offsets") else shared
    if form == "(N,2,2)":
        pairs = [(a, shared) for a, _ in pairs]
    matrices = cupy.asarray(stack) if xp == "cupy" else stack
    kw = {"output_shape": out}

    def each(b):
        return (cupy.asarray(pairs[b][0]), list(pairs[b][1])), kw

    axes = dict(batched=True, channels=bool(nch))
    args = (matrices, offset)
    compare_planes(
        "affine_transform", x, order, "mirror", precision, args=args, kw=kw, each=each, **axes
    )


@pytest.mark.parametrize("precision", ["exact", "hardware"])
@pytest.mark.parametrize("nch", [0, 3])
@pytest.mark.parametrize("inverse_map", [True, False])
@pytest.mark.parametrize("xp", ["numpy", "cupy"])
def test_batch_per_sample_warp(xp, inverse_map, nch, precision):
    x = data(with_channels((3, 23, 17), nch), "uint8" if nch else "float32")
    step = np.array([[0.0625, 0.0, 0.5], [0.0, -0.03125, -0.25], [0.0, 0.0, 0.0]])
    minv = [WARP + b * step for b in range(3)]  # output -> input, dyadic
    stack = np.stack(minv if inverse_map else [np.linalg.inv(m) for m in minv])
    args = (cupy.asarray(stack) if xp == "cupy" else stack,)
    kw = {"inverse_map": inverse_map}

    def each(b):
        return (minv[b],), {"inverse_map": True}

    axes = dict(batched=True, channels=bool(nch))
    compare_planes(
        "warp_perspective", x, 1, "reflect", precision, args=args, kw=kw, each=each, **axes
    )


# ------------------------------------------------------------------ input kinds
EVERY_FN_ND = [(fn, nd) for fn in FUNCS for nd in (2, 3) if nd == 2 or fn not in WARPS]


@pytest.mark.parametrize(("fn", "nd"), EVERY_FN_ND)
def test_numpy_input_is_the_cupy_result(fn, nd):
    x = data(SHAPES[nd], "uint8")
    args, kw = fn_args(fn, x.shape, 1)
    got = ours(fn, cupy.asnumpy(x), 1, "reflect", 7, args, kw)
    assert isinstance(got, cupy.ndarray)
    cupy.testing.assert_array_equal(got, ours(fn, x, 1, "reflect", 7, args, kw))


IMAGES = {
    # name: (shape, dtype, ia.asimage keywords, batched, channels)
    "2d": ((23, 17), "float32", {}, False, False),
    "2d uint16": ((23, 17), "uint16", {}, False, False),
    "3d": ((9, 11, 7), "float32", {}, False, False),
    "rgba": ((23, 17, 4), "uint8", {"channels": 4}, False, True),
    "3d 2 channels": ((9, 11, 7, 2), "float32", {"channels": 2}, False, True),
    "layered": ((3, 23, 17), "float32", {"layered": True}, True, False),
    "layered rgba": ((3, 23, 17, 4), "uint8", {"channels": 4, "layered": True}, True, True),
    "linear (copy=False)": ((24, 32), "float32", {"copy": False}, False, False),
}
IMAGE_CASES = [
    (case, fn)
    for case in IMAGES
    for fn in ("map_coordinates", "affine_transform", "zoom", "warp_perspective")
    if not (fn == "warp_perspective" and case.startswith("3d"))
]


@pytest.mark.parametrize("precision", ["exact", "hardware"])
@pytest.mark.parametrize(("case", "fn"), IMAGE_CASES)
def test_imagearray_input(case, fn, precision):
    """An ImageArray is read where it is: its channels and layers are the channel axis
    and the batch; the result is the CuPy array's."""
    shape, dtype, kw, batched, channels = IMAGES[case]
    x = data(shape, dtype)
    img = ia.asimage(x, **kw)
    got = compare_planes(fn, x, 1, "mirror", precision, batched=batched, channels=channels, src=img)
    args, fkw = fn_args(fn, shape[int(batched) : len(shape) - int(channels)], 1)
    axes = {"channel_axis": -1 if channels else None, "batch_axes": 0 if batched else None}
    array = ours(fn, x, 1, "mirror", cval_of(dtype), args, fkw, precision=precision, **axes)
    hw = 2 * hw_bound(x.ndim - batched - channels, span(x)) if precision == "hardware" else 0.0
    check(got, array, span(x), hw=hw, what="ImageArray vs CuPy input")


VIEWS = {
    # name: (base shape, dtype, view, batched, channels)
    "x[:, ::2]": ((23, 34), "float32", lambda b: b[:, ::2], False, False),
    "x.T": ((17, 23), "float32", lambda b: b.T, False, False),
    "x[1:, 1:] (unaligned start)": ((24, 64), "float32", lambda b: b[1:, 1:], False, False),
    "x[::2] (pitch 256 B)": ((46, 32), "float32", lambda b: b[::2], False, False),
    "x[::-1]": ((23, 17), "float32", lambda b: b[::-1], False, False),
    "x[:, ::-1]": ((23, 32), "uint8", lambda b: b[:, ::-1], False, False),
    "rgba[..., ::-1]": ((23, 17, 4), "uint8", lambda b: b[..., ::-1], False, True),
    "batch[:, 1:, :32]": ((3, 24, 64), "float32", lambda b: b[:, 1:, :32], True, False),
}


@pytest.mark.parametrize("precision", ["exact", "hardware"])
@pytest.mark.parametrize("fn", ["map_coordinates", "shift"])
@pytest.mark.parametrize("case", list(VIEWS))
def test_noncontiguous_input(case, fn, precision):
    base, dtype, view, batched, channels = VIEWS[case]
    x = view(data(base, dtype))
    assert not x.flags.c_contiguous
    compare_planes(fn, x, 1, "nearest", precision, batched=batched, channels=channels)


PATHS = [
    # (shape, dtype, batched, channels, read in place)
    ((23, 32), "float32", False, False, True),  # 128-byte rows
    ((20, 64), "uint8", False, False, True),
    ((23, 16, 4), "uint8", False, True, True),  # RGBA rows of 64 bytes
    ((23, 32, 3), "uint8", False, True, True),  # RGB rows of 96 bytes (read as 3 x width)
    ((3, 23, 32), "float32", True, False, True),  # a batch stacked row after row
    ((23, 17), "float32", False, False, False),  # 68-byte rows: not a multiple of 32
    ((23, 17), "uint8", False, False, False),
    ((3, 23, 17), "float32", True, False, False),  # a layered CUDA array
    (SHAPES[3], "float32", False, False, False),  # 3D: always a CUDA array
]


@pytest.mark.parametrize("precision", ["exact", "hardware"])
@pytest.mark.parametrize(("shape", "dtype", "batched", "channels", "in_place"), PATHS)
def test_read_in_place_or_copied(monkeypatch, shape, dtype, batched, channels, in_place, precision):
    """2D CuPy inputs whose rows CUDA can address are sampled in place; others (rows
    not 32-byte aligned, 3D) are copied into a CUDA array; both equal cupyx."""
    copied = spy(monkeypatch, _textures, "_copied")
    x = data(shape, dtype)
    for fn in ("affine_transform", "remap") if len(shape) - batched - channels == 2 else ("zoom",):
        compare_planes(fn, x, 1, "wrap", precision, batched=batched, channels=channels)
    assert bool(copied) != in_place, f"copied {len(copied)} times; expected in place: {in_place}"


# ------------------------------------------------------------------ tiling
TILE_SHAPES = {2: (37, 29), 3: (13, 11, 9)}


@pytest.fixture
def tiled(monkeypatch):
    """Inputs cut into tiles of 8 per axis; returns the calls of the tiler."""
    monkeypatch.setattr(_textures, "TILE_OVERRIDE", 8)
    return spy(monkeypatch, _textures, "_tiled")


@pytest.mark.parametrize(("order", "precision"), [(0, "exact"), (1, "exact"), (1, "hardware")])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("fn", "nd"), [("map_coordinates", 2), ("map_coordinates", 3), ("affine_transform", 2)]
)
def test_tiled(tiled, fn, nd, mode, order, precision):
    """Tiles are read with exact point reads, whatever the precision."""
    x = data(TILE_SHAPES[nd], "float32")
    compare_planes(fn, x, order, mode, precision, hw=0.0)
    assert tiled, "the input was not tiled"


TILED_INPUTS = {
    "uint8": ((37, 29), "uint8", False),
    "float16": ((37, 29), "float16", False),
    "rgba uint8": ((37, 29, 4), "uint8", True),
    "3 channels float32": ((37, 29, 3), "float32", True),
    "3d rgba uint8": ((13, 11, 9, 4), "uint8", True),
}
TILED_CASES = [
    (case, fn)
    for case in TILED_INPUTS
    for fn in FUNCS
    if not (fn in WARPS and case.startswith("3d"))
]


@pytest.mark.parametrize(("case", "fn"), TILED_CASES)
def test_tiled_dtypes_and_channels(tiled, case, fn):
    shape, dtype, channels = TILED_INPUTS[case]
    x = data(shape, dtype)
    compare_planes(fn, x, 1, "grid-wrap", "hardware", channels=channels, hw=0.0)
    assert tiled, "the input was not tiled"


def test_oversize_input_is_tiled(monkeypatch):
    """70000 rows: beyond the 2D CUDA-array height (65536) and the linear-texture
    limit; resampled tile by tile, equal to cupyx."""
    tiles = spy(monkeypatch, _textures, "_tiled")
    x = data((70000, 8), "float32")
    s = span(x)
    for order in (0, 1):
        for fn, arg in (("shift", (0.5, 0.25)), ("zoom", (0.5, 1.5))):
            kw = dict(order=order, mode="nearest")
            got = getattr(ia.ndimage, fn)(x, arg, **kw)  # default precision: tiles are exact
            check(got, getattr(ndi, fn)(x, arg, **kw), s, what=f"{fn} order {order}")
    assert len(tiles) == 4, f"tiled {len(tiles)} of 4 calls"
