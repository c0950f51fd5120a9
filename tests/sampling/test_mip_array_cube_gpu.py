"""GPU tests of mipmaps, image arrays and cubemaps (the spec's worked examples with
their exact expected values, plus comparisons with testing.reference)."""

from __future__ import annotations

import numpy as np
import pytest
from _cubemap import face_directions
from _spec_kernels import SPEC_EXAMPLES, raw_module

import imagearray as ia
from imagearray.testing import reference

pytestmark = pytest.mark.gpu


# ------------------------------------------------------------ the spec's examples

_MIP1D = SPEC_EXAMPLES["1d_mipmap_anisotropic_and_levels"]


def test_spec_example_1d_mipmap():
    import cupy

    width, levels = 16, 2
    data1 = np.arange(width, dtype=np.float32)
    data2 = np.arange(width // 2, dtype=np.float32) + 10
    expected = np.array([i + (i // 2 + 10) for i in range(width)], np.float32)
    desc = ia.ImageDescriptor(width, type="mipmap", num_levels=levels)
    mem = ia.ImageMem(desc)
    ia.copy(data1, mem.get_mip_level_mem_handle(0), desc=desc.mip_level_desc(0))
    ia.copy(data2, mem.get_mip_level_mem_handle(1), desc=desc.mip_level_desc(1))
    samp = ia.Sampler(
        "mirrored_repeat",
        "normalized",
        "nearest",
        mipmap_filtering="nearest",
        min_mipmap_level_clamp=0.0,
        max_mipmap_level_clamp=float(levels),
        max_anisotropy=8.0,
    )
    out = cupy.zeros(width, np.float32)
    with ia.create_image(mem, desc, samp) as h:
        raw_module(_MIP1D).get_function("k")((1,), (width,), (h, out, np.int32(width)))
        np.testing.assert_array_equal(out.get(), expected)
    # the same through ImageArray.sample
    img = ia.ImageArray.from_mem(mem)
    x = (np.arange(width, dtype=np.float32) + 0.5) / width
    got = img.sample(cupy.asarray(x), samp, level=0.0) + img.sample(
        cupy.asarray(x), samp, level=1.0
    )
    np.testing.assert_array_equal(got.get(), expected)


_ARRAY1D = SPEC_EXAMPLES["1d_image_array_read_write"]


def test_spec_example_1d_image_array():
    width, layers = 5, 2
    data1 = np.repeat(np.arange(width * layers, dtype=np.float32), 4).reshape(layers, width, 4)
    data2 = 2 * data1
    expected = data1[..., 0] + data2[..., 0]
    desc = ia.ImageDescriptor(width, channel_order="rgba", type="array", array_size=layers)
    m1, m2, mo = ia.ImageMem(desc), ia.ImageMem(desc), ia.ImageMem(desc)
    ia.copy(data1, m1)
    ia.copy(data2, m2)
    with (
        ia.create_image(m1, desc) as h1,
        ia.create_image(m2, desc) as h2,
        ia.create_image(mo, desc) as ho,
    ):
        raw_module(_ARRAY1D).get_function("k")((1,), (32,), (h1, h2, ho, np.int32(width)))
        out = np.empty((layers, width, 4), np.float32)
        ia.copy(mo, out).synchronize()
    np.testing.assert_array_equal(out[..., 0], expected)


_CUBE = SPEC_EXAMPLES["sampled_cubemap"]


def _spec_cube_data(width=8):
    n = width * width
    data = np.zeros((6, width, width, 4), np.float32)
    idx = np.arange(6 * n, dtype=np.float32).reshape(6, width, width)  # i + w*(j + h*k)
    data[..., 0] = idx
    expected = np.arange(n - 1, -1, -1, dtype=np.float32)
    return data, expected


def test_spec_example_cubemap():
    import cupy

    width = 8
    data, expected = _spec_cube_data(width)
    desc = ia.ImageDescriptor(width, width, channel_order="rgba", type="cubemap", array_size=6)
    samp = ia.Sampler("clamp_to_edge", "normalized", "nearest", cubemap_filtering="seamless")
    mem = ia.ImageMem(desc)
    out = cupy.zeros(width * width, np.float32)
    with ia.create_image(mem, desc, samp) as h:
        ia.copy(data, mem)
        raw_module(_CUBE).get_function("k")(
            (1,), (width, width), (h, out, np.int32(width), np.int32(width))
        )
        np.testing.assert_array_equal(out.get(), expected)
    img = ia.ImageArray.from_mem(mem)
    d0, d1 = np.meshgrid(np.arange(width), np.arange(width), indexing="ij")
    dirs = np.stack(
        [
            np.ones_like(d0, np.float32),
            (d0 / width * 1.98 - 0.99 + 1 / width).astype(np.float32),
            (d1 / width * 1.98 - 0.99 + 1 / width).astype(np.float32),
        ],
        -1,
    )
    got = img.sample_cubemap(cupy.asarray(dirs), samp)[..., 0]
    np.testing.assert_array_equal(got.get().ravel(), expected)


# ------------------------------------------------------------ mipmaps


@pytest.mark.parametrize("shape", [(37, 23), (9, 16, 5)])
def test_every_mip_level_round_trips(shape, rng):
    img = ia.empty(shape + (2,), np.float32, 2, levels=3)
    datas = []
    for level in range(3):
        v = img.mip(level)
        d = rng.standard_normal(v.shape).astype(np.float32)
        v.set(d)
        datas.append(d)
    for level, d in enumerate(datas):
        np.testing.assert_array_equal(img.mip(level).get(), d)
        assert img.mip(level).shape == tuple(max(1, n >> level) for n in shape) + (2,)


def test_level_sampling_matches_reference(rng):
    import cupy

    img = ia.empty((16, 32), np.float32, levels=4)
    levels = []
    for level in range(4):
        d = rng.random(img.mip(level).shape).astype(np.float32)
        img.mip(level).set(d)
        levels.append(d)
    c = rng.random((300, 2)).astype(np.float32)
    for mf in ("nearest", "linear"):
        s = ia.Sampler(
            "clamp_to_edge", "normalized", "linear", mipmap_filtering=mf, max_mipmap_level_clamp=3.0
        )
        # 8-bit filter weights: within 1/256 of the value range per weight (see
        # reference.filter_tolerance).
        tol = reference.filter_tolerance(levels, s, dims=2, mip_blend=mf == "linear")
        # No level half way between two: nearest mipmap filtering's tie is undocumented
        # (floor(lod + 0.5) here, ceil(lod + 0.5) - 1 in OpenGL).
        for lv in (0.0, 0.25, 1.0, 1.375, 1.625, 2.75, 3.0, 5.0):
            got = img.sample(cupy.asarray(c), s, level=lv).get()
            want = reference.sample_mipmap(levels, c, s, dims=2, level=lv)
            np.testing.assert_allclose(got, want, rtol=0, atol=tol, err_msg=f"{mf} level {lv}")


def test_gradients_select_levels(rng):
    import cupy

    img = ia.zeros((64, 64), np.float32, levels=5)
    for level in range(5):
        n = 64 >> level
        img.mip(level).set(np.full((n, n), float(level), np.float32))
    s = ia.Sampler(
        "clamp_to_edge",
        "normalized",
        "linear",
        mipmap_filtering="nearest",
        max_mipmap_level_clamp=4.0,
    )
    c = cupy.asarray(rng.random((100, 2)).astype(np.float32))
    zero = cupy.zeros(2, np.float32)
    np.testing.assert_array_equal(img.sample(c, s, dx=zero, dy=zero).get(), 0.0)
    np.testing.assert_array_equal(
        img.sample(c, s, dx=zero, dy=zero).get(), img.sample(c, s, level=0.0).get()
    )
    for k in (1, 2, 3):
        g = cupy.asarray(np.array([2.0**k / 64, 0], np.float32))
        np.testing.assert_array_equal(img.sample(c, s, dx=g, dy=g[::-1]).get(), float(k))


@pytest.mark.parametrize(
    "shape,dtype,channels,normalized",
    [
        ((37, 23), np.float32, 1, False),
        ((64, 64), np.float32, 4, False),
        ((33, 17), np.uint8, 4, True),
        ((16, 20), np.int16, 2, True),
        ((15, 9, 7), np.float32, 1, False),
        ((40,), np.float16, 2, False),
    ],
)
def test_generate_mipmaps_equals_box_pyramid(shape, dtype, channels, normalized, rng):
    full = shape + ((channels,) if channels > 1 else ())
    if np.dtype(dtype).kind == "f":
        data = rng.random(full).astype(dtype)
    else:
        info = np.iinfo(dtype)
        data = rng.integers(info.min, info.max, full, endpoint=True).astype(dtype)
    n = max(shape).bit_length()
    img = ia.empty(full, dtype, channels, levels=n, normalized=normalized)
    img.mip(0).set(data)
    img.generate_mipmaps()
    want = reference.box_pyramid(data, n, dims=len(shape))
    for level in range(n):
        got = img.mip(level).get()
        assert got.shape == want[level].shape
        if np.dtype(dtype).kind == "f":
            # float32 sums of up to 27 weighted taps against float64 exact averages
            np.testing.assert_allclose(got, want[level], rtol=2e-3 if dtype == np.float16 else 2e-6)
        else:  # +-1 LSB for 8/16-bit data
            diff = np.abs(got.astype(np.int64) - want[level].astype(np.int64))
            assert diff.max() <= 1, f"level {level}"


def test_generate_mipmaps_replays_a_captured_graph(rng):
    import cupy

    # 7 levels: the default chain's two fused launches are captured once into a CUDA
    # graph and replayed; each replay must read level 0 as it is now, on the
    # stream given.
    img = ia.empty((64, 48), np.float32, levels=7)
    stream = cupy.cuda.Stream(non_blocking=True)
    for _ in range(3):
        data = rng.random((64, 48)).astype(np.float32)
        img.mip(0).set(data)
        img.generate_mipmaps(stream=stream)
        stream.synchronize()
        want = reference.box_pyramid(data, 7, dims=2)
        for level in range(7):
            np.testing.assert_allclose(img.mip(level).get(), want[level], rtol=2e-6)
    launches, graph = img._mem._cache.mipgen_graph
    assert graph is not None and launches is img._mem._cache.mipfused[0]
    assert len(launches) == 2  # fused passes: levels 1-4 (level 4 is 3 wide), 5-6
    # a user kernel is launched level by level, never from the graph
    calls = []

    class Recorder:
        def __call__(self, grid, block, args):
            calls.append((grid, block, len(args)))

    img.generate_mipmaps(Recorder())
    assert len(calls) == 6


def test_generate_mipmaps_layers_and_cubemap_faces(rng):
    data = rng.random((3, 16, 16)).astype(np.float32)
    arr = ia.empty((3, 16, 16), np.float32, layered=True, levels=3)
    arr.mip(0).set(data)
    arr.generate_mipmaps()
    for layer in range(3):
        want = reference.box_pyramid(data[layer], 3, dims=2)
        np.testing.assert_allclose(arr.mip(2).get()[layer], want[2], rtol=1e-6)
    cube = ia.empty((6, 8, 8), np.float32, cubemap=True, levels=2)
    faces = rng.random((6, 8, 8)).astype(np.float32)
    cube.mip(0).set(faces)
    cube.generate_mipmaps()
    for f in range(6):
        np.testing.assert_allclose(
            cube.mip(1).get()[f], reference.box_pyramid(faces[f], 2, dims=2)[1], rtol=1e-6
        )
    with pytest.raises(ia.ImageArrayValueError, match="mipmapped"):
        ia.zeros((8, 8), np.float32).generate_mipmaps()


# ------------------------------------------------------------ image arrays


_LAYER_RW = r"""
extern "C" __global__ void k(ia::unsampled_image_handle src, ia::unsampled_image_handle dst,
                             int w, int h, int layers) {
  int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
  int l = blockIdx.z;
  if (x >= w || y >= h) return;
  float2 v = ia::fetch_image_array<float2>(src, make_int2(x, y), l);
  ia::write_image_array<float2>(dst, make_int2(x, y), layers - 1 - l, make_float2(v.y, v.x));
}
"""


def test_layered_fetch_write_sample(rng):
    import cupy

    layers, h, w = 4, 9, 13
    data = rng.random((layers, h, w, 2)).astype(np.float32)
    src = ia.asimage(data, channels=2, layered=True)
    dst = ia.zeros((layers, h, w, 2), np.float32, 2, layered=True)
    raw_module(_LAYER_RW).get_function("k")(
        (2, 2, layers),
        (8, 8, 1),
        (src.surface(), dst.surface(), np.int32(w), np.int32(h), np.int32(layers)),
    )
    np.testing.assert_array_equal(dst.get(), data[::-1, ..., ::-1])
    # fetch through ImageArray: per-point layers and a layer view
    idx = np.stack([rng.integers(0, w, 50), rng.integers(0, h, 50)], -1).astype(np.int32)
    lay = rng.integers(0, layers, 50).astype(np.int32)
    got = src.fetch(cupy.asarray(idx), layer=cupy.asarray(lay)).get()
    np.testing.assert_array_equal(got, data[lay, idx[:, 1], idx[:, 0]])
    np.testing.assert_array_equal(
        src.layer(2).fetch(cupy.asarray(idx)).get(), data[2, idx[:, 1], idx[:, 0]]
    )
    # sampled layered texture against the reference
    s = ia.Sampler("clamp", "unnormalized", "linear")
    c = (rng.random((200, 2)) * [w + 4, h + 4] - 2).astype(np.float32)
    pts_layers = rng.integers(0, layers, 200).astype(np.int32)
    got = src.sample(cupy.asarray(c), s, layer=cupy.asarray(pts_layers)).get()
    want = reference.sample_layered(data, c, pts_layers, s, dims=2)
    tol = reference.filter_tolerance(data, s, dims=2)  # 8-bit filter weights
    np.testing.assert_allclose(got, want, rtol=0, atol=tol)
    np.testing.assert_allclose(
        src.layer(3).sample(cupy.asarray(c), s).get(),
        reference.sample(data[3], c, s, dims=2),
        rtol=0,
        atol=tol,
    )


# ------------------------------------------------------------ cubemaps


def _directions_around_every_face_and_edge(rng, size):
    """Directions to texels all over every face, edge and corner texels included.

    Built from face coordinates by inverting the guide's cubemap table, each at least
    0.1 texel from a texel boundary (the hardware's fixed-point face coordinates may
    round differently from float32 right at one, as in the 2D tests) and never on a tie
    between two faces (|s|, |t| <= 0.975 < 1 = the major component)."""
    n = 60
    dirs = []
    for face in range(6):
        i = rng.integers(0, size, (n, 2))
        i[:10, 0], i[10:20, 0], i[20:30, 1], i[30:40, 1] = 0, size - 1, 0, size - 1
        uv = (i + 0.5 + rng.uniform(-0.4, 0.4, (n, 2))) / size
        d = face_directions(face, uv[:, 0], uv[:, 1])
        dirs.append(d * rng.uniform(0.5, 2.0, (n, 1)))
    return np.concatenate(dirs).astype(np.float32)


def test_cubemap_face_selection_matches_reference(rng):
    import cupy

    size = 8
    faces = np.zeros((6, size, size), np.float32)
    faces += np.arange(6, dtype=np.float32)[:, None, None] * 100
    faces += np.arange(size * size, dtype=np.float32).reshape(size, size)
    cube = ia.asimage(faces, cubemap=True)
    s = ia.Sampler("clamp_to_edge", "normalized", "nearest")
    dirs = _directions_around_every_face_and_edge(rng, size)
    got = cube.sample_cubemap(cupy.asarray(dirs), s).get()
    face, u, v = reference.cubemap_face(dirs)
    np.testing.assert_array_equal(face, np.repeat(np.arange(6), 60))  # as constructed
    np.testing.assert_array_equal(got // 100, face)
    np.testing.assert_array_equal(got, reference.sample_cubemap(faces, dirs, s))
    # unsampled faces: fetch through face views and the face= argument
    idx = cupy.asarray(np.array([[0, 0], [7, 3], [2, 7]], np.int32))
    for f in range(6):
        np.testing.assert_array_equal(cube.face(f).fetch(idx).get(), faces[f][[0, 3, 7], [0, 7, 2]])
        np.testing.assert_array_equal(cube.fetch(idx, face=f).get(), faces[f][[0, 3, 7], [0, 7, 2]])
