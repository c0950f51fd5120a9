"""Arguments of sample()/fetch() and the family's errors for what NumPy and CuPy
refuse (CPU): mip levels, 0-d shapes, CuPy's out-of-memory as the family's, and the
indexing wrapper. The issue: ~370 of 13,000 generated cases raised outside the family.
"""

from __future__ import annotations

import numpy as np
import pytest

import imagearray as ia
from imagearray._device import cupy_out_of_memory
from imagearray.array.indexing import family_errors, refuse_inexact
from imagearray.sampling.arguments import level_value


@pytest.mark.parametrize("level", [0, 2.5, np.float32(1.5), np.int64(3), np.array(2.0)])
def test_level_value_takes_real_numbers(level):
    assert level_value(level) == float(np.asarray(level))


@pytest.mark.parametrize("level", ["1", b"1", True, np.bool_(False), None, [1.0], 1j, 2**1100])
def test_level_value_refuses_the_rest_inside_the_family(level):
    with pytest.raises(ia.ImageArrayTypeError, match="level must be a real number"):
        level_value(level)


def test_from_shape_takes_a_zero_d_array_as_one_extent():
    d = ia.ImageDescriptor.from_shape(np.array(3), "float32")
    assert (d.width, d.height, d.depth) == (3, 0, 0)


def test_from_shape_refuses_an_iterable_that_does_not_iterate():
    class Broken:
        def __iter__(self):
            raise RuntimeError("no")

    with pytest.raises(ia.ImageArrayTypeError, match="shape must be an int or a sequence"):
        ia.ImageDescriptor.from_shape(Broken(), "float32")


def test_cupy_out_of_memory_becomes_the_family_error():
    cupy = pytest.importorskip("cupy")
    exc = cupy.cuda.memory.OutOfMemoryError(1 << 40, 0, 0)
    err = cupy_out_of_memory(exc, "pitched_alloc_device")
    assert isinstance(err, ia.CUDAOutOfMemoryError) and isinstance(err, MemoryError)
    assert err.name == "CUDA_ERROR_OUT_OF_MEMORY" and "1,099,511,627,776" in str(err)
    assert cupy_out_of_memory(MemoryError("host"), "x") is None  # host memory: as it is
    assert cupy_out_of_memory(err, "x") is None  # already the family's


class _Indexed:
    @family_errors
    def __getitem__(self, key):
        return np.arange(4)[key]

    @family_errors
    def __setitem__(self, key, value):
        np.arange(4)[key] = value


@pytest.mark.parametrize(
    ("action", "family", "builtin"),
    [
        (lambda a: a[1.5], ia.ImageArrayIndexError, IndexError),
        (lambda a: a[9], ia.ImageArrayIndexError, IndexError),
        (lambda a: a["x"], ia.ImageArrayIndexError, IndexError),
        (lambda a: a.__setitem__(slice(0, 2), [1, 2, 3]), ia.ImageArrayValueError, ValueError),
        (lambda a: a.__setitem__(0, "x"), ia.ImageArrayValueError, ValueError),
    ],
)
def test_indexing_errors_are_the_family_and_still_the_builtin(action, family, builtin):
    with pytest.raises(family) as info:
        action(_Indexed())
    assert isinstance(info.value, builtin)
    assert info.value.__cause__ is not None  # NumPy's own message kept as the cause


def test_indexing_wrapper_lets_family_errors_through_unchanged():
    class Raises:
        @family_errors
        def __getitem__(self, key):
            raise ia.ReleasedResourceError("freed")

    with pytest.raises(ia.ReleasedResourceError, match="^freed$"):
        Raises()[0]


@pytest.mark.parametrize("key", [1.5, np.float32(0.0), (0, 2.0), (slice(None), 1j), np.float64(3)])
def test_float_and_complex_index_scalars_are_refused_not_truncated(key):
    # NumPy refuses them; CuPy would read a[1.5] as a[1].
    with pytest.raises(IndexError):
        np.zeros((4, 4))[key]
    with pytest.raises(ia.ImageArrayIndexError, match="is not an integer"):
        refuse_inexact(key)


@pytest.mark.parametrize("key", [1, np.int64(2), (0, slice(1, 3)), Ellipsis, None, np.array([0.5])])
def test_integer_slice_and_array_keys_pass_refuse_inexact(key):
    assert refuse_inexact(key) is None
