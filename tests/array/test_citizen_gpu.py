"""GPU tests of ImageArray as a CuPy citizen (issue #14): zero-copy linear images,
DLPack, the array protocols of CUDA-array images, views that write through, the
shape rule of the factories, the casting rule and the sampling conventions.

Every value is checked against an independent model: NumPy doing the same
operation, hand-computed texels, or ``imagearray.testing.reference`` (the NumPy
model of the texture unit).
"""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest

import imagearray as ia
from imagearray.testing import reference

pytestmark = pytest.mark.gpu

NEAREST = ia.Sampler("clamp_to_edge", filtering="nearest")
LINEAR = ia.Sampler("clamp_to_edge", filtering="linear")
# The sampling tests' bar for linear filtering against the reference (coordinates
# kept a quarter weight step from the 8-bit weight quantization boundaries).
LINEAR_ATOL = 1e-6


def _align() -> int:
    return int(ia.device_info("image_row_pitch_align"))


def _aligned_width(texel_bytes: int, at_least: int) -> int:
    """The smallest width >= ``at_least`` whose rows of ``texel_bytes`` texels are
    a multiple of the device's row pitch alignment."""
    step = math.lcm(_align(), texel_bytes) // texel_bytes
    return -(-at_least // step) * step


def _centres(h: int, w: int) -> np.ndarray:
    """(h, w, 2) float32 texel-centre coordinates (x, y) of every texel."""
    ys, xs = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    return np.stack([xs + 0.5, ys + 0.5], -1).astype(np.float32)


def _linear_coords(rng, w: int, h: int, n: int = 200) -> np.ndarray:
    """Unnormalized (x, y) over the image and 2 texels around it, each fraction of
    x - 0.5 being (m + 1/4) / 256 (as tests/sampling/test_sampling_gpu.py does)."""
    t = rng.integers([-2, -2], [w + 2, h + 2], (n, 2)).astype(np.float64)
    t += 0.5 + (rng.integers(0, 256, (n, 2)) + 0.25) / 256
    return t.astype(np.float32)


def _nearest_coords(rng, w: int, h: int, n: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """(coords, integer texel (x, y)) inside the image, 0.1 texel from boundaries."""
    i = np.stack([rng.integers(0, w, n), rng.integers(0, h, n)], -1)
    return (i + 0.1 + 0.8 * rng.random((n, 2))).astype(np.float32), i


# ------------------------------------------------------------ 1. zero-copy linear images


def test_zero_copy_2d_aliases_the_cupy_array():
    import cupy

    h, w = 64, _aligned_width(4, 128)
    a = cupy.zeros((h, w), cupy.float32)
    assert (w * 4) % _align() == 0
    img = ia.asimage(a, copy=False)
    assert img.memory == "linear"
    assert img.shape == (h, w) and img.dtype == np.float32 and img.channels == 1
    assert img.device.id == a.device.id and img.device_id == a.device.id
    # written through CuPy, read through the image
    a[3, 5] = 7
    assert img.get()[3, 5] == 7
    # written through the image, read through CuPy
    img[10, 20] = 3
    assert float(a[10, 20]) == 3.0
    want = np.zeros((h, w), np.float32)
    want[3, 5], want[10, 20] = 7, 3
    np.testing.assert_array_equal(img.get(), want)
    # the same memory, no copy
    assert hasattr(img, "__cuda_array_interface__")
    assert cupy.asarray(img).data.ptr == a.data.ptr
    rows = img[2:4]
    assert isinstance(rows, cupy.ndarray) and rows.shape == (2, w)
    assert rows.data.ptr == a.data.ptr + 2 * a.strides[0]
    rows[1, 0] = 9
    assert float(a[3, 0]) == 9.0
    # fetch reads the stored texels (zero outside)
    idx = cupy.asarray(np.array([[5, 3], [20, 10], [-1, 0], [w, 0]], np.int32))
    np.testing.assert_array_equal(img.fetch(idx).get(), [7, 3, 0, 0])


def test_zero_copy_2d_samples_what_cupy_wrote():
    import cupy

    h, w = 64, _aligned_width(4, 128)
    a = cupy.zeros((h, w), cupy.float32)
    img = ia.asimage(a, copy=False)
    a[3, 5] = 7  # texel (x=5, y=3): centre (5.5, 3.5)
    c = cupy.asarray([[5.5, 3.5], [4.5, 3.5]], cupy.float32)
    assert img.sample(c, NEAREST).get().tolist() == [7.0, 0.0]
    img[10, 20] = 3
    c = cupy.asarray([[20.5, 10.5]], cupy.float32)
    assert img.sample(c, NEAREST).get().tolist() == [3.0]


def test_linear_sampling_matches_reference_and_cuda_array(rng):
    import cupy

    h, w = 16, _aligned_width(4, 24)
    data = rng.random((h, w)).astype(np.float32)
    a = cupy.asarray(data)
    lin = ia.asimage(a, copy=False)
    arr = ia.asimage(a)  # copy=True: a CUDA array of the same data
    assert lin.memory == "linear" and arr.memory == "array"
    c = _linear_coords(rng, w, h)
    got = lin.sample(cupy.asarray(c), LINEAR).get()
    want = reference.sample(data, c, LINEAR, dims=2)
    np.testing.assert_allclose(got, want, rtol=0, atol=LINEAR_ATOL)
    np.testing.assert_allclose(
        got, arr.sample(cupy.asarray(c), LINEAR).get(), rtol=0, atol=LINEAR_ATOL
    )
    # the default sampler: linear filtering, texel coordinates, clamp to edge
    np.testing.assert_allclose(lin.sample(cupy.asarray(c)).get(), got, rtol=0, atol=0)


def test_zero_copy_pitched_array(rng):
    import cupy

    h, w = 9, 37
    step = math.lcm(_align(), 4) // 4
    wp = -(-w // step) * step
    if wp == w:
        wp += step  # make the rows really padded
    big = cupy.full((h, wp), -100.0, cupy.float32)
    a = big[:, :w]
    data = rng.random((h, w)).astype(np.float32)
    a[...] = cupy.asarray(data)
    img = ia.asimage(a, copy=False)
    assert img.memory == "linear" and img.shape == (h, w)
    view = cupy.asarray(img)
    assert view.data.ptr == big.data.ptr and view.strides == (wp * 4, 4)
    np.testing.assert_array_equal(img.get(), data)
    img[2, 3] = 5
    data[2, 3] = 5
    assert float(big[2, 3]) == 5.0
    np.testing.assert_array_equal(big[:, w:].get(), -100.0)  # the padding is untouched
    # clamp to edge past the right edge reads column w - 1, never the padding
    c = _linear_coords(rng, w, h)
    got = img.sample(cupy.asarray(c), LINEAR).get()
    np.testing.assert_allclose(
        got, reference.sample(data, c, LINEAR, dims=2), rtol=0, atol=LINEAR_ATOL
    )


def test_zero_copy_refuses_what_cuda_cannot_sample_in_place():
    import cupy

    align = _align()
    if align <= 4:
        pytest.skip(f"image_row_pitch_align is {align}: every float32 pitch fits")
    w = _aligned_width(4, 16)
    bad = cupy.zeros((8, w + 1), cupy.float32)[:, :w]  # pitch (w + 1) * 4 B
    assert bad.strides[0] % align != 0
    with pytest.raises(ia.ImageArrayValueError, match="copy=True"):
        ia.asimage(bad, copy=False)
    # address not aligned (4 B into the allocation), pitch fine
    shifted = cupy.zeros((8, 2 * w), cupy.float32)[:, 1 : w + 1]
    assert shifted.strides[0] % align == 0
    with pytest.raises(ia.ImageArrayValueError, match="copy=True"):
        ia.asimage(shifted, copy=False)
    # texels not packed
    with pytest.raises(ia.ImageArrayValueError, match="copy=True"):
        ia.asimage(cupy.zeros((8, 2 * w), cupy.float32)[:, ::2], copy=False)
    # copy=True is the way
    bad[...] = cupy.arange(8 * w, dtype=cupy.float32).reshape(8, w)
    img = ia.asimage(bad)
    assert img.memory == "array"
    np.testing.assert_array_equal(img.get(), bad.get())
    # other refusals
    with pytest.raises(ia.ImageArrayTypeError):
        ia.asimage(np.zeros((8, w), np.float32), copy=False)
    with pytest.raises(ia.ImageArrayValueError):
        ia.asimage(cupy.zeros((8, w), cupy.float32), copy=False, memory="array")


def test_zero_copy_rgba8_samples_normalized(rng):
    import cupy

    h, w = 6, _aligned_width(4, 10)
    px = rng.integers(0, 256, (h, w, 4)).astype(np.uint8)
    a = cupy.asarray(px)
    img = ia.asimage(a, channels=4, normalized=True, copy=False)
    assert img.memory == "linear" and img.shape == (h, w, 4) and img.channels == 4
    assert cupy.asarray(img).data.ptr == a.data.ptr
    got = img.sample(cupy.asarray(_centres(h, w)), NEAREST).get()
    assert got.dtype == np.float32 and got.shape == (h, w, 4)
    # unorm8 reads as the correctly rounded float32 of v / 255
    np.testing.assert_array_equal(got, (px / 255.0).astype(np.float32))


def test_empty_linear_is_pitched_for_the_device():
    import cupy

    img = ia.empty((5, 37), memory="linear")
    assert img.memory == "linear" and img.shape == (5, 37)
    v = cupy.asarray(img)
    assert v.shape == (5, 37) and v.dtype == np.float32
    assert v.strides[1] == 4 and v.strides[0] >= 37 * 4
    assert v.strides[0] % _align() == 0
    z = ia.zeros((5, 37), np.uint8, memory="linear")
    assert z.memory == "linear"
    np.testing.assert_array_equal(z.get(), np.zeros((5, 37), np.uint8))


def test_linear_1d_fetches_but_does_not_sample():
    import cupy

    n = 10
    a = cupy.arange(1, n + 1, dtype=cupy.float32)
    img = ia.asimage(a, copy=False)
    assert img.memory == "linear" and img.shape == (n,)
    with pytest.raises(ia.ImageArrayValueError):
        img.sample(cupy.asarray([0.5, 1.5], cupy.float32))
    got = img.fetch(cupy.asarray([[0], [3], [-1], [n]]))
    np.testing.assert_array_equal(got.get(), [1, 4, 0, 0])
    a[3] = -2  # still the same memory
    np.testing.assert_array_equal(img.fetch(cupy.asarray([[3]])).get(), [-2])


# ------------------------------------------------------------ 2. DLPack


def test_dlpack_shares_linear_memory_with_torch():
    import cupy

    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch has no CUDA")
    w = _aligned_width(4, 16)
    a = cupy.zeros((4, w), cupy.float32)
    img = ia.asimage(a, copy=False)
    t = torch.from_dlpack(img)
    assert t.data_ptr() == a.data.ptr
    assert tuple(t.shape) == (4, w) and t.dtype == torch.float32
    assert t.device.type == "cuda" and t.device.index == a.device.id
    t[1, 2] = 5.0
    torch.cuda.synchronize()
    want = np.zeros((4, w), np.float32)
    want[1, 2] = 5
    np.testing.assert_array_equal(img.get(), want)
    assert cupy.from_dlpack(img).data.ptr == a.data.ptr


def test_dlpack_of_a_cuda_array_image_says_to_copy():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch has no CUDA")
    img = ia.asimage(np.ones((4, 4), np.float32))
    assert img.memory == "array"
    with pytest.raises(TypeError, match=re.escape("cupy.asarray")) as info:
        torch.from_dlpack(img)
    assert isinstance(info.value, ia.ImageArrayTypeError)


# ------------------------------------------------------------ 3. protocols of CUDA-array images


def test_cuda_array_image_conversions(rng):
    import cupy

    data = rng.random((5, 7)).astype(np.float32)
    img = ia.asimage(data)
    assert img.memory == "array"
    assert not hasattr(img, "__cuda_array_interface__")
    host = np.asarray(img)
    assert type(host) is np.ndarray
    np.testing.assert_array_equal(host, data)
    c1, c2 = cupy.asarray(img), cupy.asarray(img)
    assert isinstance(c1, cupy.ndarray) and c1.shape == (5, 7) and c1.dtype == np.float32
    np.testing.assert_array_equal(c1.get(), data)
    assert c1.data.ptr != c2.data.ptr  # a new copy each time
    c1[0, 0] = -1
    np.testing.assert_array_equal(img.get(), data)


def test_cuda_array_image_arithmetic_and_ufuncs(rng):
    import cupy

    data = rng.random((5, 7)).astype(np.float32)
    other = rng.random((5, 7)).astype(np.float32)
    img = ia.asimage(data)
    cases = {
        "img + 1": (img + 1, data + 1),
        "1 + img": (1 + img, 1 + data),
        "cupy + img": (cupy.asarray(other) + img, other + data),
        "img * img": (img * img, data * data),
        "numpy.sin": (np.sin(img), np.sin(data)),
        "cupy.sin": (cupy.sin(img), np.sin(data)),
    }
    for name, (got, want) in cases.items():
        assert isinstance(got, cupy.ndarray), name
        assert got.shape == want.shape and got.dtype == want.dtype, name
        np.testing.assert_allclose(got.get(), want, rtol=1e-6, atol=1e-7, err_msg=name)
    eq = img == float(data[2, 3])
    assert isinstance(eq, cupy.ndarray) and eq.dtype == np.bool_
    np.testing.assert_array_equal(eq.get(), data == data[2, 3])
    # reductions
    assert isinstance(cupy.mean(img), cupy.ndarray)
    np.testing.assert_allclose(float(cupy.mean(img)), data.mean(dtype=np.float64), rtol=1e-5)
    np.testing.assert_allclose(float(img.sum()), data.sum(dtype=np.float64), rtol=1e-5)
    assert float(img.max()) == data.max() and float(img.min()) == data.min()
    np.testing.assert_allclose(img.sum(axis=0).get(), data.sum(axis=0), rtol=1e-5)
    assert int(img.argmax()) == int(data.argmax())
    # in place: the image is written
    before = img
    img += 1
    assert img is before
    np.testing.assert_array_equal(img.get(), data + 1)


def test_image_passed_to_a_raw_kernel_names_texture():
    import cupy

    img = ia.zeros((4, 4))
    kernel = cupy.RawKernel(
        r'extern "C" __global__ void ia_citizen_noop(const float *p) {}', "ia_citizen_noop"
    )
    with pytest.raises(TypeError, match=re.escape("texture()")):
        kernel((1,), (1,), (img,))


# ------------------------------------------------------------ 4. views that write through


def test_layered_int_index_is_a_layer_view(rng):
    import cupy

    img = ia.zeros((3, 8, 8), np.float32, layered=True)
    ref = np.zeros((3, 8, 8), np.float32)
    lay = img[2]
    assert isinstance(lay, ia.ImageArray) and lay.shape == (8, 8)
    img[2][5] = 1
    ref[2][5] = 1
    np.testing.assert_array_equal(img.get(), ref)
    img[0][1:3, 2] = 4
    ref[0][1:3, 2] = 4
    np.testing.assert_array_equal(img.get(), ref)
    # a layer view samples its own layer
    data = rng.random((3, 8, 8)).astype(np.float32)
    img.set(data)
    got = img[1].sample(cupy.asarray(_centres(8, 8)), NEAREST).get()
    np.testing.assert_array_equal(got, data[1])


def _faces() -> np.ndarray:
    faces = np.arange(6, dtype=np.float32)[:, None, None] * 100
    return faces + np.arange(64, dtype=np.float32).reshape(8, 8)


def test_cubemap_int_index_is_a_face_view():
    import cupy

    faces = _faces()
    cube = ia.asimage(faces, cubemap=True)
    face = cube[4]
    assert isinstance(face, ia.ImageArray) and face.shape == (8, 8)
    np.testing.assert_array_equal(face.get(), faces[4])
    idx = cupy.asarray(np.array([[0, 0], [7, 3], [2, 7]], np.int32))
    np.testing.assert_array_equal(face.fetch(idx).get(), faces[4][[0, 3, 7], [0, 7, 2]])
    cube[4][1, 2] = -1
    faces[4, 1, 2] = -1
    np.testing.assert_array_equal(cube.get(), faces)
    # the cube sampled along +z (face 4: s = x, t = -y) reads the written face
    uv = (_centres(8, 8).reshape(-1, 2).astype(np.float64)) / 8
    dirs = np.stack([2 * uv[:, 0] - 1, -(2 * uv[:, 1] - 1), np.ones(len(uv))], -1)
    s = ia.Sampler("clamp_to_edge", "normalized", "nearest")
    got = cube.sample_cubemap(cupy.asarray(dirs.astype(np.float32)), s).get()
    np.testing.assert_array_equal(got, faces[4].reshape(-1))


def test_cubemap_face_view_is_sampled_through_the_cube():
    """An int on the face axis gives img.face(i): fetched exactly, written through,
    and sampled as the cubemap (direction vectors), never as a flat 2D texture."""
    import cupy

    faces = _faces()
    cube = ia.asimage(faces, cubemap=True)
    with pytest.raises(ia.ImageArrayValueError, match="sample_cubemap"):
        cube[4].sample(cupy.asarray(_centres(8, 8)), NEAREST)
    idx = np.stack(np.meshgrid(np.arange(8), np.arange(8)), -1).astype(np.int32)
    np.testing.assert_array_equal(cube[4].fetch(cupy.asarray(idx)).get(), faces[4])


def test_2d_basic_indexing_writes_through(rng):
    import cupy

    data = rng.random((12, 16)).astype(np.float32) + 1
    img = ia.asimage(data)
    ref = data.copy()
    row = img[0]
    assert isinstance(row, ia.ImageArray) and row.shape == (16,)
    img[0][5] = 1
    ref[0][5] = 1
    np.testing.assert_array_equal(img.get(), ref)
    img[:10].fill(0)
    ref[:10].fill(0)
    np.testing.assert_array_equal(img.get(), ref)
    stepped = img[1:, ::2]
    assert stepped.shape == ref[1:, ::2].shape
    img[1:, ::2][0] = 7
    ref[1:, ::2][0] = 7
    np.testing.assert_array_equal(img.get(), ref)
    np.testing.assert_array_equal(img[1:, ::2].get(), ref[1:, ::2])
    np.testing.assert_array_equal(img[2:5, 3:9].get(), ref[2:5, 3:9])
    # one texel: a 0-d CuPy array (a copy)
    texel = img[11, 4]
    assert isinstance(texel, cupy.ndarray) and texel.ndim == 0
    assert float(texel) == ref[11, 4]


def test_volume_depth_index_writes_through(rng):
    data = rng.random((6, 5, 7)).astype(np.float32)
    vol = ia.asimage(data)
    ref = data.copy()
    vol[3][2, 1] = 5
    ref[3][2, 1] = 5
    np.testing.assert_array_equal(vol.get(), ref)
    np.testing.assert_array_equal(vol[3].get(), ref[3])
    vol[4][:, 6] = -1
    ref[4][:, 6] = -1
    np.testing.assert_array_equal(vol.get(), ref)


def test_regions_are_not_sampled(rng):
    import cupy

    img = ia.asimage(rng.random((12, 16)).astype(np.float32))
    c = cupy.asarray([[1.5, 1.5]], cupy.float32)
    idx = cupy.asarray([[0, 0]], cupy.int32)
    for region in (img[1:5, 2:9], img[:10], img[1:, ::2], img[0]):
        with pytest.raises(ia.ImageArrayValueError):
            region.sample(c)
        with pytest.raises(ia.ImageArrayValueError):
            region.sample(c, NEAREST)
        with pytest.raises(ia.ImageArrayValueError):
            region.fetch(idx)
    with pytest.raises(ia.ImageArrayValueError):
        img[1:5, 2:9].texture()
    vol = ia.asimage(rng.random((6, 5, 7)).astype(np.float32))
    with pytest.raises(ia.ImageArrayValueError):
        vol[3].sample(c, NEAREST)
    with pytest.raises(ia.ImageArrayValueError):
        vol[3].fetch(idx)


def test_advanced_indexing_copies(rng):
    import cupy

    data = rng.random((6, 5)).astype(np.float32)
    img = ia.asimage(data)
    picked = img[[0, 2]]
    assert isinstance(picked, cupy.ndarray)
    np.testing.assert_array_equal(picked.get(), data[[0, 2]])
    picked[...] = -1  # a copy, as NumPy's advanced indexing gives
    np.testing.assert_array_equal(img.get(), data)
    mask = data > 0.5
    np.testing.assert_array_equal(img[cupy.asarray(mask)].get(), data[mask])
    np.testing.assert_array_equal(img[mask].get(), data[mask])


# ------------------------------------------------------------ 5. shape round trips

# shape, dtype, factory keywords
IMAGE_TYPES = {
    "1d": ((16,), np.float32, {}),
    "2d": ((5, 7), np.float32, {}),
    "2d_rgba": ((5, 7, 4), np.uint8, {"channels": 4}),
    "3d": ((3, 5, 7), np.float32, {}),
    "3d_rg": ((3, 5, 7, 2), np.float32, {"channels": 2}),
    "layered_1d": ((3, 7), np.float32, {"layered": True}),
    "layered_2d": ((3, 5, 7), np.float32, {"layered": True}),
    "cubemap": ((6, 8, 8), np.float32, {"cubemap": True}),
    "cubemap_array": ((12, 8, 8), np.float32, {"layered": True, "cubemap": True}),
    "mipmap_2d": ((16, 16), np.float32, {"levels": 3}),
}


def _level_views(img):
    return [img.mip(lv) for lv in range(img.levels)] if img.levels > 1 else [img]


def _get_levels(img):
    return [v.get() for v in _level_views(img)]


def _fill_random(rng, img):
    """Random non-zero texels in every level; returns them."""
    out = []
    for v in _level_views(img):
        if v.dtype.kind == "f":
            data = (rng.random(v.shape) + 0.5).astype(v.dtype)
        else:
            data = rng.integers(1, 256, v.shape).astype(v.dtype)
        v.set(data)
        out.append(data)
    return out


def _assert_levels(img, wants):
    got = _get_levels(img)
    assert len(got) == len(wants)
    for lv, (g, w) in enumerate(zip(got, wants)):
        assert g.dtype == w.dtype, f"level {lv}"
        np.testing.assert_array_equal(g, w, err_msg=f"level {lv}")


@pytest.mark.parametrize("kind", list(IMAGE_TYPES))
def test_shape_round_trip(kind, rng):
    shape, dtype, kw = IMAGE_TYPES[kind]
    img = ia.empty(shape, dtype, **kw)
    assert img.shape == shape and img.dtype == dtype
    want = _fill_random(rng, img)
    t = img.descriptor.type
    b = ia.empty(
        img.shape,
        img.dtype,
        channels=img.channels,
        layered=t.is_layered,
        cubemap=t.is_cubemap,
        levels=img.levels,
    )
    assert b.shape == img.shape and b.image_type == img.image_type
    assert b.levels == img.levels and b.dtype == img.dtype and b.channels == img.channels
    assert b.descriptor.type == t
    e = ia.empty_like(img)
    assert e.shape == img.shape and e.image_type == img.image_type
    assert e.levels == img.levels and e.dtype == img.dtype and e.channels == img.channels
    assert e.descriptor.type == t and e.memory == img.memory
    # the filled *_like images, every level
    level_shapes = [v.shape for v in _level_views(img)]
    _assert_levels(ia.zeros_like(img), [np.zeros(s, dtype) for s in level_shapes])
    _assert_levels(ia.ones_like(img), [np.ones(s, dtype) for s in level_shapes])
    full = ia.full_like(img, 3)
    assert full.shape == img.shape and full.levels == img.levels
    _assert_levels(full, [np.full(s, 3, dtype) for s in level_shapes])
    # astype: the same image type, converted as NumPy converts
    half = img.astype(np.float16)
    assert half.dtype == np.float16 and half.shape == img.shape
    assert half.levels == img.levels and half.descriptor.type == t
    _assert_levels(half, [w.astype(np.float16) for w in want])
    # copy: equal and independent
    c = img.copy()
    assert c.shape == img.shape and c.levels == img.levels and c.descriptor.type == t
    _assert_levels(c, want)
    c.fill(0)
    _assert_levels(img, want)
    np.testing.assert_array_equal(c.get(), np.zeros(img.shape, dtype))


def test_asimage_converts_float64_with_dtype(rng):
    x = rng.random((8, 8))
    img = ia.asimage(x, np.float32)
    assert img.dtype == np.float32 and img.shape == (8, 8)
    np.testing.assert_array_equal(img.get(), x.astype(np.float32))
    with pytest.raises(ia.ImageArrayTypeError, match=re.escape("dtype=numpy.float32")):
        ia.asimage(x)


# ------------------------------------------------------------ 6. casting rule


def test_casting_rule_of_writes(rng):
    import cupy

    img = ia.zeros((4, 5), np.uint8)
    f32 = np.full((4, 5), 2.0, np.float32)
    with pytest.raises(ia.ImageArrayTypeError):
        img[:] = f32
    with pytest.raises(ia.ImageArrayTypeError):
        img.set(f32)
    with pytest.raises(ia.ImageArrayTypeError):
        img[:] = cupy.asarray(f32)
    with pytest.raises(ia.ImageArrayTypeError):
        img[1, 1] = 2.5
    with pytest.raises(ia.ImageArrayTypeError):
        img.fill(2.5)
    with pytest.raises(ia.ImageArrayTypeError):
        img[:] = np.ones((4, 5), np.int8)  # not same_kind for NumPy either
    with pytest.raises(ia.ImageArrayValueError):
        img[:] = 300
    with pytest.raises(ia.ImageArrayValueError):
        img.fill(-1)
    np.testing.assert_array_equal(img.get(), np.zeros((4, 5), np.uint8))  # nothing written
    u8 = np.arange(20, dtype=np.uint8).reshape(4, 5)
    img[:] = u8
    np.testing.assert_array_equal(img.get(), u8)
    img.set(u8 * 2)
    img[0, 0] = 255
    want = u8 * 2
    want[0, 0] = 255
    np.testing.assert_array_equal(img.get(), want)
    # float32 images take float64 data (same_kind) and Python floats
    fimg = ia.zeros((4, 5), np.float32)
    f64 = rng.random((4, 5))
    fimg[:] = f64
    np.testing.assert_array_equal(fimg.get(), f64.astype(np.float32))
    fimg.set(2 * f64)
    fimg[1, 2] = 0.25
    want = (2 * f64).astype(np.float32)
    want[1, 2] = 0.25
    np.testing.assert_array_equal(fimg.get(), want)
    # linear-backed images follow the same rule
    lin = ia.zeros((4, 5), np.uint8, memory="linear")
    with pytest.raises(ia.ImageArrayTypeError):
        lin[:] = f32
    with pytest.raises(ia.ImageArrayValueError):
        lin[:] = 300
    lin[:] = u8
    np.testing.assert_array_equal(lin.get(), u8)


# ------------------------------------------------------------ 7. sampling conventions


def test_integer_image_without_sampler_warns_and_reads_nearest(rng):
    import cupy

    h, w = 5, 7
    data = rng.integers(-30000, 30000, (h, w)).astype(np.int16)
    img = ia.asimage(data)
    c, i = _nearest_coords(rng, w, h)
    with pytest.warns(ia.SamplingWarning):
        got = img.sample(cupy.asarray(c)).get()
    assert got.dtype == np.int16
    np.testing.assert_array_equal(got, data[i[:, 1], i[:, 0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ia.SamplingWarning)
        got2 = img.sample(cupy.asarray(c), NEAREST).get()
    np.testing.assert_array_equal(got2, data[i[:, 1], i[:, 0]])


def test_mipmap_default_sampler_takes_texel_coordinates(rng):
    import cupy

    img = ia.zeros((16, 16), np.float32, levels=3)
    level0 = rng.random((16, 16)).astype(np.float32)
    img.mip(0).set(level0)
    img.mip(1).set(np.full((8, 8), 2.0, np.float32))
    img.mip(2).set(np.full((4, 4), 4.0, np.float32))
    c = _centres(16, 16)
    # texel centres of level 0: linear filtering there reads the texel itself
    got = img.sample(cupy.asarray(c)).get()
    np.testing.assert_allclose(got, level0, rtol=0, atol=1e-6)
    got0 = img.sample(cupy.asarray(c), level=0.0).get()
    np.testing.assert_allclose(got0, level0, rtol=0, atol=1e-6)
    norm = img.sample(cupy.asarray(c / 16), coordinates="normalized").get()
    np.testing.assert_allclose(norm, level0, rtol=0, atol=1e-6)
    # coarser (constant) levels through the same texel coordinates of level 0
    np.testing.assert_array_equal(img.sample(cupy.asarray(c), level=1.0).get(), 2.0)
    np.testing.assert_array_equal(img.sample(cupy.asarray(c), level=2.0).get(), 4.0)
    np.testing.assert_array_equal(
        img.sample(cupy.asarray(c / 16), coordinates="normalized", level=2.0).get(), 4.0
    )


def test_normalized_coordinates_keyword_matches_texel_coordinates(rng):
    import cupy

    h, w = 8, 16  # powers of two: c / [w, h] is exact in float32
    data = rng.random((h, w)).astype(np.float32)
    img = ia.asimage(data)
    c = _linear_coords(rng, w, h)
    texel = img.sample(cupy.asarray(c)).get()
    np.testing.assert_allclose(
        texel, reference.sample(data, c, LINEAR, dims=2), rtol=0, atol=LINEAR_ATOL
    )
    cn = (c / np.array([w, h], np.float32)).astype(np.float32)
    norm = img.sample(cupy.asarray(cn), coordinates="normalized").get()
    np.testing.assert_allclose(norm, texel, rtol=0, atol=LINEAR_ATOL)


# ------------------------------------------------------------ 8. context manager


@pytest.mark.parametrize("memory", ["array", "linear"])
def test_context_manager_frees(memory):
    with ia.zeros((4, 4), memory=memory) as img:
        np.testing.assert_array_equal(img.get(), np.zeros((4, 4), np.float32))
    with pytest.raises(ia.ReleasedResourceError):
        img.get()
