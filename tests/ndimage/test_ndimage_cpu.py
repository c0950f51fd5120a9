"""ia.ndimage without a GPU: the boundary modes' coordinate mapping against SciPy, the
argument rules, and every kind of kernel source compiled by NVRTC (with the host's
parameter packing checked against the device struct's layout)."""

from __future__ import annotations

import itertools

import numpy
import pytest
from _nvrtc import compile_log, needs_nvrtc

import imagearray as ia
from imagearray.ndimage import _call, _common, _launch, _modes, _source, interpolation

scipy_ndimage = pytest.importorskip("scipy.ndimage")

SCIPY_MODES = [m for m in _modes.MODES if "opencv" not in m]  # the modes SciPy knows


def _coords(shape, seed, n=600, lo=-12.0, hi=12.0):
    rng = numpy.random.default_rng(seed)
    c = rng.uniform(lo, hi, (len(shape), n)).astype(numpy.float32)
    c[:, : n // 6] = numpy.round(c[:, : n // 6])  # integers: one tap
    return c


@pytest.mark.parametrize("shape", [(7, 5), (1, 4), (2, 3), (4, 3, 5), (6, 1, 2)])
@pytest.mark.parametrize("mode", SCIPY_MODES)
@pytest.mark.parametrize("order", [0, 1])
def test_mode_model_matches_scipy(shape, mode, order):
    """The kernels' algorithm (its NumPy model) is SciPy's for every mode, on points
    far outside the input (several periods of the periodic modes)."""
    img = numpy.random.default_rng(1).random(shape).astype(numpy.float32)
    c = _coords(shape, 2)
    if order == 0:
        # SciPy rounds a coordinate exactly half-way between texels after mapping it;
        # cupyx (and so imagearray) before: ties are checked on their own below
        c = numpy.where(numpy.abs(c - numpy.floor(c) - 0.5) < 1e-3, c + 0.01, c)
    ref = scipy_ndimage.map_coordinates(
        img.astype(numpy.float64), c.astype(numpy.float64), order=order, mode=mode, cval=0.7
    )
    got = _modes.interpolate(img, c, order, _modes.kernel_mode(mode), 0.7)
    numpy.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("mode", ["mirror", "reflect"])
def test_order0_ties_round_before_mapping(mode):
    """cupyx's order 0: floor(c + 0.5) first, then the boundary rule (hand-computed on
    a 4-texel axis: -0.5 -> tap 0; -1.5 -> tap -1 -> mirror 1, reflect 0; 4.5 -> tap 5 ->
    mirror 1, reflect 2)."""
    img = numpy.array([10.0, 20.0, 30.0, 40.0], dtype=numpy.float32)
    c = numpy.array([[-0.5, -1.5, 3.5, 4.5]], dtype=numpy.float32)
    got = _modes.interpolate(img, c, 0, mode)
    expected = {"mirror": [10, 20, 30, 20], "reflect": [10, 10, 40, 30]}[mode]
    numpy.testing.assert_array_equal(got, expected)


def test_boundary_rules_by_hand():
    ix = numpy.arange(-6, 10)
    n = 4
    assert _modes.boundary("nearest", ix, n).tolist() == [0] * 6 + [0, 1, 2, 3] + [3] * 6
    assert _modes.boundary("grid-wrap", ix, n).tolist() == [i % 4 for i in range(-6, 10)]
    # reflect (half-sample): d c b a | a b c d | d c b a
    assert _modes.boundary("reflect", [-1, -2, -4, -5, 4, 5, 8], n).tolist() == [
        0,
        1,
        3,
        3,
        3,
        2,
        0,
    ]
    # mirror (whole-sample): d c b | a b c d | c b a
    assert _modes.boundary("mirror", [-1, -2, -3, 4, 5, 6, 7], n).tolist() == [1, 2, 3, 2, 1, 0, 1]
    assert _modes.boundary("constant", [-1, 0, 3, 4], n).tolist() == [-1, 0, 3, -1]
    assert _modes.boundary("mirror", [-3, 5], 1).tolist() == [0, 0]
    # wrap: period n - 1 = 3 on the coordinate
    numpy.testing.assert_allclose(
        _modes.wrap_coordinate([-0.5, 3.5, 6.25, 3.0], n), [2.5, 0.5, 0.25, 3.0]
    )


def test_kernel_mode_aliases():
    assert _modes.kernel_mode("grid-mirror") == "reflect"
    assert _modes.kernel_mode("opencv") == "grid-constant"
    assert _modes.kernel_mode("_opencv_edge") == "grid-constant"
    assert set(_modes.MODE_CODES) == {_modes.kernel_mode(m) for m in _modes.MODES}


def test_opencv_border_equals_grid_constant_for_orders_0_and_1():
    """cupyx's opencv map_coordinates pads one cval texel around the input and uses
    'constant': for orders 0 and 1 that is grid-constant."""
    img = numpy.random.default_rng(3).random((6, 5))
    c = _coords(img.shape, 4, lo=-3, hi=8)
    c = numpy.where(numpy.abs(c - numpy.floor(c) - 0.5) < 1e-3, c + 0.01, c)
    padded = numpy.pad(img, 1, constant_values=0.3)
    for order in (0, 1):
        ref = scipy_ndimage.map_coordinates(
            padded, c.astype(numpy.float64) + 1, order=order, mode="constant", cval=0.3
        )
        got = _modes.interpolate(img, c, order, _modes.kernel_mode("opencv"), 0.3)
        numpy.testing.assert_allclose(got, ref, atol=1e-6)


# ---------------------------------------------------------------- arguments
@pytest.mark.parametrize("bad", ["fast", None, 1])
def test_precision_must_be_named(bad):
    with pytest.raises(ia.ImageArrayValueError, match="precision="):
        _call.check_precision(bad)


def test_order_rules():
    assert _call.check_order("zoom", 0) == 0
    assert _call.check_order("zoom", numpy.int64(1)) == 1
    with pytest.warns(UserWarning, match="default order"):
        assert _call.check_order("zoom", None) == 1
    with pytest.raises(ia.ImageArrayValueError, match="order=7"):
        _call.check_order("zoom", 7)
    with pytest.raises(ia.ImageArrayTypeError, match="order must be an int"):
        _call.check_order("zoom", 1.5)


@pytest.mark.parametrize("mode", ["edge", "constant ", 3, None])
def test_unknown_modes_name_the_allowed_ones(mode):
    with pytest.raises(ia.ImageArrayValueError, match="grid-wrap"):
        _modes.check_mode(mode)


def test_channel_and_batch_axes():
    assert _call._channel_axis(-1, 3) and _call._channel_axis(2, 3)
    assert not _call._channel_axis(None, 3)
    with pytest.raises(ia.ImageArrayValueError, match="last axis"):
        _call._channel_axis(0, 3)
    with pytest.raises(ia.ImageArrayTypeError):
        _call._channel_axis("x", 3)
    for flag in (True, False, numpy.True_):  # True is 1: the last axis of a 2D input
        with pytest.raises(ia.ImageArrayTypeError, match="channel_axis must be an int"):
            _call._channel_axis(flag, 2)
    assert _call._batch_axes(0, 3) and _call._batch_axes((0,), 3)
    assert not _call._batch_axes(None, 3)
    for bad in (1, (0, 1), True):
        with pytest.raises(ia.ImageArrayValueError, match="batch_axes"):
            _call._batch_axes(bad, 3)


def test_sequence_arguments():
    assert _common.sequence(2, 3, "zoom") == [2.0, 2.0, 2.0]
    assert _common.sequence((1, 2), 2, "zoom") == [1.0, 2.0]
    with pytest.raises(ia.ImageArrayValueError, match="2 spatial axes"):
        _common.sequence((1, 2, 3), 2, "zoom")
    with pytest.raises(ia.ImageArrayTypeError):
        _common.sequence("2", 2, "zoom")


def test_matrix_forms():
    """cupyx's four matrix forms give the kernel's (ndim, ndim + 1) parameters; a
    diagonal gives zoom-shift with offset = -offset / matrix (float32)."""
    off = [1.5, -2.0]
    lin = numpy.array([[0.5, 0.25], [-0.25, 2.0]])
    expected = [0.5, 0.25, 1.5, -0.25, 2.0, -2.0]
    homog = numpy.array([[0.5, 0.25, 1.5], [-0.25, 2.0, -2.0], [0, 0, 1]])
    for m in (lin, homog, homog[:2]):
        kind, params = interpolation._matrix(m, off, 2, False, numpy.float32)
        assert kind == _source.AFFINE
        numpy.testing.assert_array_equal(params, expected)
    kind, params = interpolation._matrix(numpy.array([2.0, 4.0]), off, 2, False, numpy.float32)
    assert kind == _source.ZOOM_SHIFT
    numpy.testing.assert_array_equal(params, [2, 4, 0, 0, -0.75, 0.5, 0, 0])
    for bad in (numpy.eye(4), numpy.ones(3), numpy.ones((2, 2, 2))):
        with pytest.raises(ia.ImageArrayValueError, match="matrix"):
            interpolation._matrix(bad, off, 2, False, numpy.float32)


def test_opencv_matrix_is_inverted_and_swapped():
    """cupyx's opencv affine rule on a hand-made matrix: the inverse of a scaling by
    (2, 4) with a shift, its two axes swapped."""
    m = numpy.array([[2.0, 0, 1], [0, 4.0, 2], [0, 0, 1]])
    got = interpolation._opencv_inverse(m, [0, 0], 2)
    numpy.testing.assert_allclose(got, [[0.25, 0, -0.5], [0, 0.5, -0.5]])


# ---------------------------------------------------------------- kernel sources


def _mlayout(kind, i):
    if kind == "affine":
        return (0, 1, 2)[i % 3]
    return 3 if kind == "zoom_shift" and i % 2 else 0


def _keys():
    """Every kind x mode x order, with dims, channels, types and flags rotating."""
    kinds = _source.KINDS
    reads = {1: ("uchar", "float"), 2: ("short2", ""), 3: ("float", ""), 4: ("uchar4", "float4")}
    outs = ["float", "unsigned char", "unsigned short /*half*/", "double", "short"]
    for i, (kind, mode, order) in enumerate(itertools.product(kinds, _modes.MODE_CODES, (0, 1))):
        ndim = 2 if kind in ("homography", "remap", "remap_rel") or i % 3 else 3
        ch = (1, 2, 3, 4)[i % 4]
        read, filt = reads[ch]
        tiled = i % 5 == 0
        hw = bool(filt) and not tiled and order == 1
        yield _source.KernelKey(
            ndim,
            ch,
            kind,
            mode,
            order,
            hw,
            read,
            filt,
            outs[i % 5],
            "double" if i % 7 == 0 else "float",
            ndim == 2 and i % 4 == 1,
            kind == "affine" and i % 2 == 0,
            ch == 3,
            tiled,
            mlayout=_mlayout(kind, i) if not (kind == "affine" and i % 2 == 0) else 0,
            mdouble=bool(_mlayout(kind, i)) and i % 4 >= 2,
            vstore=ch in (2, 4) and not tiled and i % 3 != 1,
            coarsen=1 if tiled else (1, 2, 4)[i % 3],
        )


@needs_nvrtc
@pytest.mark.parametrize("key", list(_keys()), ids=lambda k: f"{k.kind}-{k.mode}-o{k.order}")
def test_kernel_sources_compile(key):
    log = compile_log(_source.source(key))
    assert log is None, log


def _linear_keys():
    return [k for k in _keys() if k.kind in _source.LINEAR_KINDS]


@needs_nvrtc
@pytest.mark.parametrize("key", _linear_keys(), ids=lambda k: f"{k.kind}-{k.mode}-o{k.order}")
def test_preloading_kernel_sources_compile(key):
    """_source.PRELOAD: the linear kinds' kernels with every point's coordinates read
    first (a key with ``preload``)."""
    log = compile_log(_source.source(key._replace(preload=True)))
    assert log is None, log


@needs_nvrtc
@pytest.mark.parametrize("kind", _source.LINEAR_KINDS)
@pytest.mark.parametrize("coarsen", [2, 4])
def test_preload_reads_every_point_s_coordinates_before_the_first_fetch(kind, coarsen):
    """With ``preload`` the PTX loads the coordinates of all ``coarsen`` points (two
    numbers each in 2D) before its first texture fetch; without, only the first
    point's come before it."""
    import _nvrtc

    key = _source.KernelKey(
        2, 1, kind, "constant", 1, True, "float", "float", "float", "float",
        False, False, False, False, coarsen=coarsen,
    )  # fmt: skip
    for preload, want in ((True, 2 * coarsen), (False, 2)):
        result = _nvrtc.compile(_source.source(key._replace(preload=preload)))
        assert result.ok, result.log
        ops = [ln.split()[0] for ln in result.ptx.splitlines() if ln.strip()[:3] in ("ld.", "tex")]
        first_fetch = next(i for i, op in enumerate(ops) if op.startswith("tex."))
        loads = sum(op.startswith("ld.global") for op in ops[:first_fetch])
        assert loads == want, (preload, ops[: first_fetch + 1])


@needs_nvrtc
@pytest.mark.parametrize("coord", ["float", "double"])
def test_params_struct_layout_matches_the_packer(coord):
    """The device struct and the host's struct.Struct agree on size and offsets
    (static_asserts compiled by NVRTC)."""
    key = _source.KernelKey(
        2,
        1,
        "affine",
        "constant",
        1,
        False,
        "float",
        "",
        "float",
        coord,
        False,
        False,
        False,
        False,
    )
    pack = _launch._PACK["d" if coord == "double" else "f"]
    w = 8 if coord == "double" else 4
    # sizeof only (NVRTC 13.0 refuses offsetof): m is the last field and 8-aligned, so
    # it starts where the packer puts it when the whole struct has the packer's size
    checks = f"""
static_assert(sizeof(Params) == {pack.size}, "size");
static_assert(sizeof(Params) - 12 * sizeof(W) == 136, "m at 136");
static_assert(sizeof(W) == {w}, "W");
"""
    src = _source.source(key).replace('extern "C" __global__', checks + 'extern "C" __global__', 1)
    log = compile_log(src)
    assert log is None, log


def test_params_pack_values():
    raw = _launch._params(
        "float",
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        8,
        9,
        (10, 11, 12),
        (13, 14, 15),
        16,
        (17, 18, 19),
        (20, 21, 22),
        23,
        2.5,
        -1.0,
        tuple(float(i) for i in range(12)),
    )
    assert raw.shape == (1,) and raw.nbytes == 184
    b = raw.tobytes()
    assert numpy.frombuffer(b[:56], numpy.uint64).tolist() == [1, 2, 3, 4, 5, 6, 7]
    assert numpy.frombuffer(b[56:72], numpy.int64).tolist() == [8, 9]
    assert numpy.frombuffer(b[72:128], numpy.int32).tolist() == list(range(10, 24))
    assert numpy.frombuffer(b[128:136], numpy.float32).tolist() == [2.5, -1.0]
    assert numpy.frombuffer(b[136:], numpy.float32).tolist() == list(range(12))


def test_ndimage_namespace():
    for name in (
        "map_coordinates",
        "affine_transform",
        "zoom",
        "shift",
        "rotate",
        "warp_perspective",
        "remap",
    ):
        assert callable(getattr(ia.ndimage, name))
    assert issubclass(ia.FallbackWarning, UserWarning)
    assert ia.ndimage.FallbackWarning is ia.FallbackWarning
