"""GPU tests of linearly filtered 8/16-bit integer images: a kernel reading
``ia::filtered_integer_image_handle<C>`` with ``ia::sample_image<short>`` /
``<unsigned short>`` / ``<float>`` (and sample_mipmap, fetch_image, four channels), and
``ImageArray.sample``, against the NumPy reference of the texture unit
(``reference.sample``: the normalized read filtered as the unit does, scaled back to
the image's units and rounded, or unrounded for float results)."""

from __future__ import annotations

import numpy as np
import pytest
from _spec_kernels import raw_module
from test_filtered_integer_header import FILTERED_GPU_KERNELS

import imagearray as ia
from imagearray.testing import reference

pytestmark = pytest.mark.gpu

SIZES = {1: (13,), 2: (7, 9), 3: (5, 4, 6)}  # NumPy order
#: dtype -> (the kernels' name, C++ channel type, integer result dtype, scale)
TYPES = {
    "int8": ("int8", "signed char", np.int16, 127),
    "uint8": ("uint8", "unsigned char", np.uint16, 255),
    "int16": ("int16", "short", np.int16, 32767),
    "uint16": ("uint16", "unsigned short", np.uint16, 65535),
}
SAMPLERS = [
    ia.Sampler("clamp_to_edge", "unnormalized", "linear"),
    ia.Sampler("repeat", "normalized", "linear"),
    ia.Sampler("mirrored_repeat", "normalized", "linear"),
]


@pytest.fixture(scope="module")
def module():
    return raw_module(FILTERED_GPU_KERNELS)


def _data(rng, dtype, shape):
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, shape, endpoint=True).astype(dtype)


def _coords(rng, extents, normalized, n=301):
    """Points over the image and one image around it, whose xB = x - 0.5 sits a quarter
    of a weight step from every 8-bit quantization boundary (as in
    tests/sampling/test_sampling_gpu.py: round or truncate give the same weight)."""
    size = np.array(extents[::-1], np.float64)  # texture order
    t = rng.integers(-size.astype(int), 2 * size.astype(int), (n, len(extents)))
    t = t + 0.5 + (rng.integers(0, 256, t.shape) + 0.25) / 256
    if normalized:
        t /= size
    return t.astype(np.float32)


def _launch(fn, n, *args):
    fn(((n + 127) // 128,), (128,), args)


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("dtype", list(TYPES))
def test_sample_image_matches_reference(module, dtype, dims, rng):
    import cupy

    name, ctype, out_dtype, scale = TYPES[dtype]
    data = _data(rng, dtype, SIZES[dims])
    img = ia.asimage(data)
    for s in SAMPLERS:
        tex = img.texture(s)
        assert tex.kernel_type == f"ia::filtered_integer_image_handle<{ctype}>"
        c = _coords(rng, SIZES[dims], s.normalized)
        n = len(c)
        out = cupy.zeros(n, out_dtype)
        outf = cupy.zeros(n, np.float32)
        _launch(
            module.get_function(f"sample_{name}"),
            n,
            tex,
            cupy.asarray(c),
            np.int32(n),
            np.int32(dims),
            out,
            outf,
        )
        want = reference.sample(data, c, s, dims=dims)
        want_f = reference.sample(data, c, s, dims=dims, rounded=False)
        ctx = f"{dtype} {dims}D {s}"
        assert want.dtype == np.dtype(dtype)
        # rounded to nearest in the image's units: bit-exact
        np.testing.assert_array_equal(out.get(), want.astype(out_dtype), err_msg=ctx)
        # unrounded: the reference's bar for a linear read (1e-6 of the normalized
        # value) in the image's units
        np.testing.assert_allclose(outf.get(), want_f, rtol=0, atol=1e-6 * scale, err_msg=ctx)
        # ImageArray.sample is the same read
        got = img.sample(cupy.asarray(c if dims > 1 else c[:, 0]), s).get()
        assert got.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(got, want, err_msg=ctx)
        # the points really blend texels: many differ from a nearest read
        nearest = ia.Sampler(s.addressing, s.coordinates, "nearest")
        # (clamp_to_edge: about two thirds of the points lie outside, at an edge)
        assert np.count_nonzero(want != reference.sample(data, c, nearest, dims=dims)) > n // 5


@pytest.mark.parametrize("dtype", list(TYPES))
def test_four_channels(module, dtype, rng):
    import cupy

    name, _, out_dtype, scale = TYPES[dtype]
    data = _data(rng, dtype, (6, 10, 4))
    img = ia.asimage(data, channels=4)
    s = SAMPLERS[0]
    c = _coords(rng, (6, 10), False)
    n = len(c)
    out = cupy.zeros((n, 4), out_dtype)
    outf = cupy.zeros((n, 4), np.float32)
    _launch(
        module.get_function(f"sample4_{name}"),
        n,
        img.texture(s),
        cupy.asarray(c),
        np.int32(n),
        out,
        outf,
    )
    want = reference.sample(data, c, s, dims=2)
    np.testing.assert_array_equal(out.get(), want.astype(out_dtype))
    want_f = reference.sample(data, c, s, dims=2, rounded=False)
    np.testing.assert_allclose(outf.get(), want_f, rtol=0, atol=1e-6 * scale)


@pytest.mark.parametrize("dtype", list(TYPES))
def test_fetch_returns_the_texels(module, dtype, rng):
    import cupy

    name, _, out_dtype, _ = TYPES[dtype]
    h, w = 7, 9
    data = _data(rng, dtype, (h, w))
    info = np.iinfo(dtype)
    data.flat[:2] = info.min, info.max  # the extremes are there
    img = ia.asimage(data)
    out = cupy.zeros((h, w), out_dtype)
    module.get_function(f"fetch_{name}")(
        (1, h), (w,), (img.texture(SAMPLERS[1]), np.int32(w), np.int32(h), out)
    )
    # the normalized read gives -128 (-32768) as -1.0, like -127 (-32767)
    want = np.maximum(data, -info.max) if info.min < 0 else data
    np.testing.assert_array_equal(out.get(), want.astype(out_dtype))


@pytest.mark.parametrize("dtype", list(TYPES))
def test_sample_mipmap_level(module, dtype, rng):
    import cupy

    name, ctype, out_dtype, _ = TYPES[dtype]
    img = ia.empty((16, 32), dtype, levels=3)
    levels = []
    for level in range(3):
        d = _data(rng, dtype, img.mip(level).shape)
        img.mip(level).set(d)
        levels.append(d)
    c = _coords(rng, (16, 32), True)
    n = len(c)
    for mf in ("nearest", "linear"):
        s = ia.Sampler(
            "clamp_to_edge",
            "normalized",
            "linear",
            mipmap_filtering=mf,
            max_mipmap_level_clamp=2.0,
        )
        tex = img.texture(s)
        assert tex.kernel_type == f"ia::filtered_integer_image_handle<{ctype}>"
        for lv in (0.0, 0.25, 1.0, 1.375, 2.0):  # no tie of nearest levels
            out = cupy.zeros(n, out_dtype)
            outf = cupy.zeros(n, np.float32)
            _launch(
                module.get_function(f"level_{name}"),
                n,
                tex,
                cupy.asarray(c),
                np.int32(n),
                np.float32(lv),
                out,
                outf,
            )
            want = reference.sample_mipmap(levels, c, s, dims=2, level=lv)
            got_py = img.sample(cupy.asarray(c), s, level=lv).get()
            ctx = f"{dtype} {mf} level {lv}"
            # the kernel and ImageArray.sample read alike
            np.testing.assert_array_equal(out.get(), got_py.astype(out_dtype), err_msg=ctx)
            if mf == "nearest" or lv == int(lv):
                # one level, filtered as sample_image is: bit-exact
                np.testing.assert_array_equal(got_py, want, err_msg=ctx)
            else:
                # a blend of two levels: the reference models the level weight only to
                # reference.filter_tolerance (as test_level_sampling_matches_reference
                # holds float images); in the image's units, plus one rounding step. The
                # H200 put 16-bit blends at level 0.25 up to 214 units (of a span of
                # ~65535) off the model, 8-bit ones within 1: the same fraction of the
                # span. Not the driver's trilinear optimization: with
                # CU_TRSF_DISABLE_TRILINEAR_OPTIMIZATION the blends were the same bits,
                # and float32 blends spread alike (tools/probes/mip_blend_weight.py).
                tol = reference.filter_tolerance(levels, s, dims=2, mip_blend=True) + 1.0
                diff = np.abs(got_py.astype(np.int64) - want.astype(np.int64))
                assert diff.max() <= tol, (ctx, diff.max(), tol)
                want_f = reference.sample_mipmap(levels, c, s, dims=2, level=lv, rounded=False)
                np.testing.assert_allclose(outf.get(), want_f, rtol=0, atol=tol, err_msg=ctx)


def test_nearest_handles_stay_integer_reads():
    data = np.arange(12, dtype=np.int16).reshape(3, 4)
    img = ia.asimage(data)
    assert img.texture(ia.Sampler()).kernel_type == "ia::sampled_image_handle"
    assert img.texture(ia.Sampler(filtering="linear")).kernel_type == (
        "ia::filtered_integer_image_handle<short>"
    )
    f = ia.asimage(data.astype(np.float32))
    assert f.texture(ia.Sampler(filtering="linear")).kernel_type == "ia::sampled_image_handle"
