"""order=3 without a GPU: the NumPy model of the cubic kernels against SciPy for every
mode (so the mode -> spline-boundary and padding tables are SciPy's), the derived
bound of precision='hardware', the fallback rule, and the generated kernels compile
with NVRTC for every new KernelKey variant (order 3, and order 1's gather variant)."""

from __future__ import annotations

import itertools

import numpy
import pytest
from _nvrtc import compile_log, needs_nvrtc

from imagearray.ndimage import _call, _cubic, _firsource, _modes, _source, _spline, _textures

scipy_ndimage = pytest.importorskip("scipy.ndimage")

SPLINE_MODES = ("constant", "grid-constant", "nearest", "mirror", "reflect", "grid-mirror")
SPLINE_MODES += ("wrap", "grid-wrap")


def _coef(img, mode: str, prefilter: bool, cval: float):
    """SciPy's coefficients of ``img`` as :func:`_spline.coefficients` pads them."""
    kmode, pad = _spline.layout(mode, prefilter)
    a = img.astype(numpy.float64)
    if pad:
        if mode == "nearest":
            a = numpy.pad(a, pad, "edge")
        else:
            a = numpy.pad(a, pad, "constant", constant_values=cval)
    if prefilter:
        a = scipy_ndimage.spline_filter(a, 3, output=numpy.float64, mode=mode)
    return a, kmode, pad


@pytest.mark.parametrize("shape", [(13, 9), (5, 6, 7), (1, 8)])
@pytest.mark.parametrize("mode", SPLINE_MODES)
@pytest.mark.parametrize("prefilter", [True, False])
def test_cubic_model_matches_scipy(shape, mode, prefilter):
    rs = numpy.random.RandomState(len(shape) * 7 + SPLINE_MODES.index(mode))
    img = rs.uniform(-1, 1, shape).astype(numpy.float32)
    c = numpy.stack([rs.uniform(-6, n + 5, 300) for n in shape]).astype(numpy.float32)
    c[:, :40] = numpy.round(c[:, :40])  # integer coordinates: taps at the borders exactly
    c[:, 40:80] = numpy.floor(c[:, 40:80]) + 0.5
    coef, kmode, pad = _coef(img, mode, prefilter, 0.5)
    got = _spline.model(coef, c, kmode, 0.5, pad)
    ref = scipy_ndimage.map_coordinates(
        img.astype(numpy.float64), c.astype(numpy.float64), order=3, mode=mode, cval=0.5,
        prefilter=prefilter,
    )  # fmt: skip
    numpy.testing.assert_allclose(got, ref, rtol=0, atol=1e-5)


def test_layout_table():
    """cupyx's _filter_input / map_coordinates: padding only where it pads."""
    assert _spline.layout("nearest", True) == ("nearest", 12)
    assert _spline.layout("grid-constant", True) == ("grid-constant", 12)
    assert _spline.layout("nearest", False) == ("nearest", 0)
    assert _spline.layout("grid-constant", False) == ("grid-constant", 0)
    assert _spline.layout("grid-mirror", True) == ("reflect", 0)
    assert _spline.layout("opencv", True) == ("constant", 1)
    assert _spline.layout("_opencv_edge", False) == ("constant", 1)
    for m in ("constant", "mirror", "reflect", "wrap", "grid-wrap"):
        assert _spline.layout(m, True) == (m, 0)
    assert set(_cubic.SPLINE_MODE) == set(_modes.MODE_CODES)


def _hardware_model(coef, c):
    """precision='hardware' in NumPy: per axis the two linear fetches at
    ``t0 + w1 / g0`` and ``t2 + w3 / g1``, each fraction rounded to 8 bits (the
    texture unit), blended with weights ``g0``, ``g1``; 2D, interior points."""
    parts = []
    for j in range(2):
        f = numpy.floor(c[j])
        wx = c[j] - f
        wy = 1 - wx
        w = [wy**3 / 6, (wx * wx * (wx - 2) * 3 + 4) / 6, (wy * wy * (wy - 2) * 3 + 4) / 6]
        w.append(1 - w[0] - w[1] - w[2])
        g0, g1 = w[0] + w[1], w[2] + w[3]
        st = f.astype(int) - 1
        a0 = numpy.round(w[1] / g0 * 256) / 256
        a1 = numpy.round(w[3] / g1 * 256) / 256
        parts.append(((st, a0, g0), (st + 2, a1, g1)))
    out = numpy.zeros(c.shape[1])
    for (t0, a0, g0), (t1, a1, g1) in itertools.product(*parts):
        lerp = (
            (1 - a0) * ((1 - a1) * coef[t0, t1] + a1 * coef[t0, t1 + 1])
            + a0 * ((1 - a1) * coef[t0 + 1, t1] + a1 * coef[t0 + 1, t1 + 1])
        )  # fmt: skip
        out += g0 * g1 * lerp
    return out


def test_hardware_bound_derived():
    """The documented bound: ndim / 256 of the largest difference of adjacent
    coefficients (each fetch's 8-bit fraction is off by at most half a step here, a
    full step at most on the hardware), and the unquantized form is exact."""
    rs = numpy.random.RandomState(3)
    img = rs.uniform(-1, 1, (40, 40))
    coef = scipy_ndimage.spline_filter(img, 3, output=numpy.float64, mode="mirror")
    c = rs.uniform(1, 37.99, (2, 4000))
    exact = _spline.model(coef, c, "mirror")
    hw = _hardware_model(coef, c)
    d = max(numpy.abs(numpy.diff(coef, axis=a)).max() for a in range(2))
    err = numpy.abs(hw - exact).max()
    assert err <= 2 / 512 * d + 1e-6, (err, d)
    assert err > 1e-4 * d  # the quantization is visible: the model models it
    span = img.max() - img.min()
    # the prefilter's inverse has l1 norm 3 per axis: coefficients stray at most
    # 3**ndim / 2 of the range from its middle, so adjacent ones differ by <= 3**ndim x
    assert 2 * span < d <= 9 * span


def _fake_call(order_dtype="float32", ndim=2, nb=1, channels=1):
    call = object.__new__(_call.Call)
    call.dtype = numpy.dtype(order_dtype)
    call.ndim, call.nb, call.channels = ndim, nb, channels
    call.shape = (8,) * ndim
    call.device = 0
    return call


@pytest.mark.parametrize("order", [2, 4, 5])
def test_orders_2_4_5_fall_back(order):
    reason = _fake_call().fallback_reason(order, numpy.dtype("float32"))
    assert reason is not None and f"order={order}" in reason


def test_order_3_on_tiles_falls_back(monkeypatch):
    monkeypatch.setattr(_textures, "TILE_OVERRIDE", 4)
    reason = _fake_call().fallback_reason(3, numpy.dtype("float32"))
    assert reason is not None and "order=3" in reason
    assert _fake_call().fallback_reason(1, numpy.dtype("float32")) is None


def test_cubic_sources_read_as_documented():
    """hardware: 2**ndim filtered fetches; exact: one point read in the 4**ndim loop."""
    for nd, n_fetch in ((2, 4), (3, 8)):
        fn = "tex3D" if nd == 3 else "tex2D"
        key = _source.KernelKey(
            nd, 1, "affine", "mirror", 3, True, "float", "float", "float", "float",
            False, False, False, False,
        )  # fmt: skip
        src = _source.source(key)
        assert src.count(f"{fn}<float>(prm.tex_f") == n_fetch
        assert src.count(f"{fn}<RT>(prm.tex_p") == 1
        exact = _source.source(key._replace(hardware=False, filtered=""))
        assert "prm.tex_f" not in exact.split("#if ORDER == 3")[1]


def test_a_border_shifts_every_read_of_order_3():
    """3D coefficients with a border of 2 texels: "inside" reaches 2 taps past each
    edge, the filtered fetches and the exact point reads are 2 texels further in."""
    key = _source.KernelKey(
        3, 1, "affine", "mirror", 3, True, "float", "float", "float", "float",
        False, False, False, False,
    )  # fmt: skip
    plain, border = _source.source(key), _source.source(key._replace(halo=2))
    assert "st0 >= -0 && st0 + 3 <= n[0] - 1 + 0;" in plain
    assert "st0 >= -2 && st0 + 3 <= n[0] - 1 + 2;" in border
    assert "(float)(st2 + 2) + (float)w2[1] / g0_2" in border
    assert "(float)(st2 + 4) + (float)w2[3] / g1_2" in border
    assert "tp0[k0] + 2" in border and "tp0[k0] + 2" not in plain


@needs_nvrtc
@pytest.mark.parametrize("halo", [0, 2])
@pytest.mark.parametrize("rule", ["mirror", "reflect", "nearest", "grid-wrap"])
def test_surface_prefilter_with_a_border_compiles(halo, rule):
    src = _firsource.fir_source("mirror", 16, True, 16, halo, rule if halo else "")
    assert f"#define HALO {halo}" in src
    log = compile_log(src)
    assert log is None, log


def test_padding_in_the_coordinates():
    key = _source.KernelKey(
        2, 1, "affine", "nearest", 3, False, "float", "", "float", "float",
        False, False, False, False, pad=12,
    )  # fmt: skip
    src = _source.source(key)
    assert "c[0] += m[2] + (W)12;" in src  # cupyx: to the offset
    src = _source.source(key._replace(kind="coords"))
    assert "c[1] = prm.ca[pc + 1 * npts] + (W)12;" in src
    src = _source.source(key._replace(pad=1, mode="constant"))
    assert src.count("+= (W)1;") == 2  # opencv's border: to the finished coordinate


# ---------------------------------------------------------------- NVRTC


def _cubic_keys():
    """Every kind x mode at order 3, dims, channels, precision, pads and flags rotating."""
    reads = {1: "float", 2: "float2", 3: "float", 4: "float4"}
    outs = ["float", "unsigned char", "unsigned short /*half*/", "double", "short"]
    for i, (kind, mode) in enumerate(itertools.product(_source.KINDS, _modes.MODE_CODES)):
        ndim = 2 if kind in ("homography", "remap", "remap_rel") or i % 3 else 3
        ch = (1, 2, 3, 4)[i % 4]
        hw = ch != 3 and i % 2 == 0
        pad = 12 if mode in ("nearest", "grid-constant") and i % 3 else (1 if i % 5 == 0 else 0)
        mlayout = (0, 1, 2)[i % 3] if kind == "affine" else 0
        yield _source.KernelKey(
            ndim, ch, kind, mode, 3, hw, reads[ch], reads[ch] if hw else "",
            outs[i % 5], "double" if i % 7 == 0 else "float", ndim == 2 and i % 4 == 1,
            kind == "affine" and mlayout == 0 and i % 2 == 0, ch == 3, False,
            mlayout=mlayout, mdouble=bool(mlayout) and i % 4 >= 2,
            vstore=ch in (2, 4) and i % 3 != 1, coarsen=1, pad=pad,
            halo=2 if ndim == 3 and ch == 1 and i % 2 == 0 else 0,
        )  # fmt: skip


@needs_nvrtc
@pytest.mark.parametrize(
    "key", list(_cubic_keys()), ids=lambda k: f"{k.kind}-{k.mode}-{k.ndim}d-hw{int(k.hardware)}"
)
def test_cubic_kernel_sources_compile(key):
    log = compile_log(_source.source(key))
    assert log is None, log


def _gather_keys():
    """The order-1 exact gather variant (2D, one sample): every mode, read type and
    coordinate source, and its neighbours' flags."""
    reads = {1: ("float", "uchar", "schar", "ushort", "short"), 2: ("float2", "uchar2")}
    reads[4] = ("float4", "short4", "char4")
    combos = [(ch, r) for ch, rs in reads.items() for r in rs]
    for i, (mode, kind) in enumerate(itertools.product(_modes.MODE_CODES, _source.KINDS)):
        ch, read = combos[i % len(combos)]
        yield _source.KernelKey(
            2, ch, kind, mode, 1, False, read, "", ("float", "unsigned char")[i % 2],
            "double" if i % 5 == 0 else "float", False, False, False, False,
            vstore=ch > 1 and i % 2 == 0, coarsen=(1, 2, 4)[i % 3], gather=True,
        )  # fmt: skip


@needs_nvrtc
@pytest.mark.parametrize("key", list(_gather_keys()), ids=lambda k: f"{k.kind}-{k.mode}-{k.read}")
def test_gather_kernel_sources_compile(key):
    src = _source.source(key)
    assert src.count("tex2Dgather<") == 1
    log = compile_log(src)
    assert log is None, log


def test_gather_only_where_allowed(monkeypatch):
    """_launch._gathers: the flag, a gather array, order 1 exact, one 2D sample."""
    from imagearray.ndimage import _launch

    src = _textures.Source((8, 8), 1, 1, numpy.dtype("float32"), 0, gather=True)
    assert not _launch._gathers(src, 1, False, 2, False)  # the flag is off by default
    monkeypatch.setattr(_textures, "EXACT_GATHER", True)
    assert _launch._gathers(src, 1, False, 2, False)
    assert not _launch._gathers(src, 0, False, 2, False)
    assert not _launch._gathers(src, 3, False, 2, False)
    assert not _launch._gathers(src, 1, False, 3, False)
    src.tex_f = object()
    assert not _launch._gathers(src, 1, True, 2, False)  # hardware reads the interior
    src.tex_f = None
    src.gather = False
    assert not _launch._gathers(src, 1, False, 2, False)


# ---------------------------------------------------------------- the parallel prefilter
def _fir(s, mode):
    """NumPy twin of _spline's ia_bspline3 along a 1D signal (float64)."""
    n = len(s)
    w = 3.0**0.5 * (3.0**0.5 - 2.0) ** numpy.arange(_firsource.FIR_HALF + 1)
    k = numpy.arange(-_firsource.FIR_HALF, _firsource.FIR_HALF + 1)
    idx = _modes.boundary(mode, numpy.arange(n)[:, None] + k[None, :], n)
    return (s[idx] * w[numpy.abs(k)]).sum(axis=1)


_FIR_CASES = [
    (m, n)
    for m in ("mirror", "reflect", "grid-wrap")
    for n in (2, 3, 5, 9, 16, 17, 40, 100)
    if m != "reflect" or n >= _spline.SHORT_REFLECT  # short ones: cupyx's own filter
]


def _chunked(s, mode):
    """NumPy twin (float64) of _firsource's recursive stretches (RECURSIVE): each
    CHUNK of outputs by the causal recursion from FIR_HALF samples before it, then
    the anticausal one from the weighted sum of the FIR_HALF causal values after it."""
    n, h, c = len(s), _firsource.FIR_HALF, _firsource.CHUNK
    z = 3.0**0.5 - 2.0
    out = numpy.empty(n)
    for c0 in range(0, n, c):
        win = s[_modes.boundary(mode, numpy.arange(c0 - h, c0 + c + h), n)]
        p, causal = win[0], []
        for v in win[1:]:
            p = z * p + v
            causal.append(p)
        causal = causal[h - 1 :]  # positions c0 .. c0 + c + h - 1
        a = sum(z**m * causal[c + m] for m in range(h))
        for k in range(c - 1, -1, -1):
            a = z * a + causal[k]
            if c0 + k < n:
                out[c0 + k] = (12.0 - 6.0 * 3.0**0.5) * a
    return out


@pytest.mark.parametrize(("mode", "n"), _FIR_CASES)
def test_recursive_stretches_are_scipys(mode, n):
    """The recursions started FIR_HALF samples away from each stretch (RECURSIVE) are
    SciPy's spline_filter1d within what the starts leave out: each recursion's terms
    past FIR_HALF samples, z**(FIR_HALF+1) / (1-|z|)**2 * 6|z| of the largest sample."""
    s = numpy.random.RandomState(n).uniform(-1, 1, n)
    ref = scipy_ndimage.spline_filter1d(s, 3, mode=mode, output=numpy.float64)
    z = abs(3.0**0.5 - 2.0)
    bound = 2 * 6 * z * z ** (_firsource.FIR_HALF + 1) / (1 - z) ** 2 * abs(s).max()
    got = _chunked(s, mode)
    numpy.testing.assert_allclose(got, ref, rtol=0, atol=bound)


@pytest.mark.parametrize(("mode", "n"), _FIR_CASES)
def test_truncated_prefilter_is_scipys(mode, n):
    """The impulse response over the boundary's extension is the recursive filter with
    its initial conditions (SciPy's spline_filter1d), where _spline uses it, within
    the weight of the taps it leaves out: sqrt(3) |z|**k for each |k| > FIR_HALF."""
    s = numpy.random.RandomState(n).uniform(-1, 1, n)
    ref = scipy_ndimage.spline_filter1d(s, 3, mode=mode, output=numpy.float64)
    z = abs(3.0**0.5 - 2.0)
    bound = 2 * 3.0**0.5 * z ** (_firsource.FIR_HALF + 1) / (1 - z) * abs(s).max()
    numpy.testing.assert_allclose(_fir(s, mode), ref, rtol=0, atol=bound)


def test_filter_modes_are_cupyxs():
    """cupyx's _get_spline_mode for every mode (the others: mirror)."""
    want = {"mirror": "mirror", "reflect": "reflect", "grid-wrap": "grid-wrap"}
    want |= {"grid-mirror": "reflect", "nearest": "reflect"}
    for m in _modes.MODES:
        assert _spline.FILTER_MODE.get(m, "mirror") == want.get(m, "mirror")


@needs_nvrtc
@pytest.mark.parametrize(("run", "recursive"), [(8, True), (16, True), (1, False), (8, False)])
@pytest.mark.parametrize("mode", ["mirror", "reflect", "grid-wrap"])
@pytest.mark.parametrize("surface", [False, True])
def test_prefilter_source_compiles(mode, run, surface, recursive):
    src = _firsource.fir_source(mode, run, surface, recursive=recursive)
    assert f"#define RUN {run}" in src and ("fmaf(ZP" in src) is recursive
    assert ("surf3Dwrite" in src) is surface
    log = compile_log(src)
    assert log is None, log


@needs_nvrtc
@pytest.mark.parametrize("mode", ["mirror", "reflect", "grid-wrap"])
def test_row_prefilter_source_compiles(mode):
    src = _firsource.fir_rows_source(mode, 256)
    assert "#define NT 256" in src and "__shared__" in src
    log = compile_log(src)
    assert log is None, log


@needs_nvrtc
@pytest.mark.parametrize("mode", ["mirror", "reflect", "grid-wrap"])
@pytest.mark.parametrize("tile", [32, 64])
def test_plane_prefilter_source_compiles(mode, tile):
    src = _firsource.fir_plane_source(mode, tile)
    assert f"#define NT {tile}" in src and "__shared__" in src
    log = compile_log(src)
    assert log is None, log


def test_plane_prefilter_tile_is_checked():
    with pytest.raises(ValueError, match="PLANE_TILE must be 32 or 64, not 48"):
        _firsource.fir_plane_source("mirror", 48)


def test_which_prefilter_passes_run_as_one(monkeypatch):
    """The last two spatial axes in one pass: one channel, both filtered in parallel
    (not an axis of one sample, not a short reflect axis), not 2D into a CUDA array."""
    monkeypatch.setattr(_spline, "PLANE_TILE", 64)
    assert _spline._fuses((1, 8, 9, 10, 1), 3, "mirror", [3, 2, 1], None)
    assert _spline._fuses((4, 9, 10, 1), 2, "mirror", [2, 1], None)
    assert not _spline._fuses((4, 9, 10, 2), 2, "mirror", [2, 1], None)  # channels
    assert not _spline._fuses((1, 8, 1, 10, 1), 3, "mirror", [3, 1], None)  # one sample
    assert not _spline._fuses((1, 8, 9, 10, 1), 3, "reflect", [3, 2, 1], None)  # short
    assert _spline._fuses((1, 8, 19, 20, 1), 3, "reflect", [3, 2, 1], None)
    assert not _spline._fuses((70000, 9, 10, 1), 2, "mirror", [2, 1], None)  # grid z
    monkeypatch.setattr(_spline, "PLANE_TILE", 0)
    assert not _spline._fuses((1, 8, 9, 10, 1), 3, "mirror", [3, 2, 1], None)


def test_which_coefficients_the_prefilter_writes_into_a_cuda_array(monkeypatch):
    """One single-channel 3D volume whose axes all take the parallel filter; not a
    batch, channels, 2D, an axis of one sample, a short reflect axis (cupyx's
    recursive filter there), nor with the parallel filter switched off."""
    ok = (1, 20, 18, 17, 1)
    assert _spline.fills_image(ok, 3, "mirror")
    assert _spline.fills_image((1, 5, 6, 7, 1), 3, "mirror")  # mirror: any length
    assert not _spline.fills_image((1, 5, 20, 20, 1), 3, "reflect")  # short reflect
    assert not _spline.fills_image((1, 5, 20, 20, 1), 3, "nearest")  # nearest: reflect
    assert _spline.fills_image(ok, 3, "nearest")
    assert not _spline.fills_image((2, 20, 18, 17, 1), 3, "mirror")  # a batch
    assert not _spline.fills_image((1, 20, 18, 17, 2), 3, "mirror")  # channels
    assert not _spline.fills_image((1, 20, 18, 1), 2, "mirror")  # 2D
    assert not _spline.fills_image((1, 20, 1, 17, 1), 3, "mirror")  # an axis of one
    monkeypatch.setattr(_spline, "FAST_PREFILTER", False)
    assert not _spline.fills_image(ok, 3, "mirror")


def test_order_3_is_a_texture_order():
    assert _call.check_order("rotate", 3) == 3
    for dtype in ("float64", "complex64", "int32"):
        reason = _fake_call(dtype).fallback_reason(3, numpy.dtype("float32"))
        assert reason is not None and dtype in reason  # the dtype, not the order
    assert "3D" in _fake_call(ndim=3, nb=2).fallback_reason(3, numpy.dtype("float32"))
    assert "5 channels" in _fake_call(channels=5).fallback_reason(3, numpy.dtype("float32"))
