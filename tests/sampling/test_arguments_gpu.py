"""sample()/fetch() arguments on the GPU: indices and layers past int32 read what
they index (nothing: zero in fetch), not texel 0 modulo 2**32; what CuPy refuses
raises from the family; CuPy's out-of-memory is CUDAOutOfMemoryError.
"""

from __future__ import annotations

import numpy as np
import pytest

import imagearray as ia

pytestmark = pytest.mark.gpu


def _layered():
    data = (np.arange(3 * 4 * 5, dtype=np.float32) + 1).reshape(3, 4, 5)  # no texel is 0
    return data, ia.asimage(data, layered=True)


@pytest.mark.parametrize("dtype", [np.int64, np.uint64])  # 2**32 needs 64 bits
def test_fetch_index_two_to_the_32_is_out_of_range_not_texel_0(dtype):
    import cupy

    data, img = _layered()
    idx = np.array([[0, 0], [2**32, 0], [0, 2**32], [2**32 + 4, 3], [4, 3]], dtype=dtype)
    got = img.fetch(cupy.asarray(idx), layer=1).get()
    np.testing.assert_array_equal(got, [data[1, 0, 0], 0, 0, 0, data[1, 3, 4]])


def test_fetch_layer_past_int32_reads_zero():
    import cupy

    data, img = _layered()
    idx = cupy.asarray([[1, 2]] * 3, dtype=cupy.int32)
    for layer in (2**32, 2**32 + 1, 2**40):
        np.testing.assert_array_equal(img.fetch(idx[:1], layer=layer).get(), [0])
    per_point = cupy.asarray([2, 2**32 + 2, -(2**32)], dtype=cupy.int64)
    np.testing.assert_array_equal(img.fetch(idx, layer=per_point).get(), [data[2, 2, 1], 0, 0])


def test_sample_layer_past_int32_reads_the_last_layer_as_cuda_clamps():
    import cupy

    data, img = _layered()
    c = cupy.asarray([[1.5, 2.5]], dtype=cupy.float32)  # texel centre (x=1, y=2)
    last = img.sample(c, layer=2).get()
    np.testing.assert_array_equal(last, [data[2, 2, 1]])
    for layer in (3, 2**31, 2**40):
        np.testing.assert_array_equal(img.sample(c, layer=layer).get(), last)


@pytest.mark.parametrize(
    "coords",
    [np.array([["a", "b"]]), np.array([[object(), 1]], dtype=object), [[1j, 2]], "xy"],
    ids=["str", "object", "complex", "plain-str"],
)
def test_coordinates_that_are_not_numbers_raise_from_the_family(coords):
    _, img = _layered()
    with pytest.raises(ia.ImageArrayTypeError, match="coords"):
        img.sample(coords, layer=0)


def test_float_indices_and_bad_layers_raise_from_the_family():
    _, img = _layered()
    with pytest.raises(ia.ImageArrayTypeError, match="indices must be integers"):
        img.fetch(np.array([[0.5, 1.0]]), layer=0)
    with pytest.raises(ia.ImageArrayTypeError, match="layer"):
        img.fetch(np.array([[0, 1]]), layer=np.array([0.5]))
    with pytest.raises(ia.ImageArrayValueError, match="does not broadcast"):
        img.fetch(np.zeros((4, 2), np.int32), layer=np.zeros(3, np.int32))
    with pytest.raises(ia.ImageArrayTypeError, match="level must be a real number"):
        img.sample(np.zeros((1, 2), np.float32), layer=0, level="1")


def test_indexing_with_float_keys_and_bad_assignments_raise_from_the_family():
    data, img = _layered()
    with pytest.raises(ia.ImageArrayIndexError):
        img[1.5]
    with pytest.raises(ia.ImageArrayIndexError):
        img[np.array([0.5])]
    with pytest.raises(ia.ImageArrayValueError):
        img[0, 0:2] = np.ones((3, 3), np.float32)  # does not broadcast
    with pytest.raises((ia.ImageArrayValueError, ia.ImageArrayTypeError)):
        img[0, 0, 0] = "x"
    np.testing.assert_array_equal(img.get(), data)  # nothing written


def test_generate_mipmaps_refuses_what_is_not_a_kernel():
    img = ia.zeros((16, 16), np.float32, levels=3)
    for kernel in (3, "box", object()):
        with pytest.raises(ia.ImageArrayTypeError, match="cupy.RawKernel"):
            img.generate_mipmaps(kernel=kernel)


def test_cupy_out_of_memory_in_pitched_alloc_and_sample_arguments_is_the_family():
    import cupy

    free, _total = cupy.cuda.runtime.memGetInfo()
    rows = (free // 4096) * 4  # four times the free memory, in 4 KiB rows
    with pytest.raises(ia.CUDAOutOfMemoryError):
        ia.pitched_alloc_device(4096, rows, 4)
    _, img = _layered()
    huge = cupy.broadcast_to(cupy.zeros((1, 2), cupy.float32), (4 * free // 8, 2))
    with pytest.raises(ia.CUDAOutOfMemoryError):  # its contiguous copy cannot be made
        img.sample(huge, layer=0)
    np.testing.assert_array_equal(img.fetch(np.array([[0, 0]]), layer=0).get(), [1.0])
