"""Raw stream handles on the GPU: bogus ones are refused by copy, sample and fetch
(the issue: they segfaulted), real ones given as ints or ``__cuda_stream__`` work."""

from __future__ import annotations

import numpy as np
import pytest

import imagearray as ia

pytestmark = pytest.mark.gpu


class _Proto:
    def __init__(self, handle):
        self.handle = handle

    def __cuda_stream__(self):
        return (0, self.handle)


@pytest.mark.parametrize("bogus", [12345, 0xDEAD_BEE0, _Proto(8 * 12345)], ids=str)
def test_bogus_stream_handles_raise_for_copy_sample_fetch(bogus):
    import cupy

    data = np.arange(64, dtype=np.float32).reshape(8, 8)
    img = ia.asimage(data)
    host = np.empty_like(data)
    with pytest.raises(ia.ImageArrayValueError, match="not a CUDA stream"):
        ia.copy(img, host, stream=bogus)
    with pytest.raises(ia.ImageArrayValueError, match="not a CUDA stream"):
        img.sample(cupy.zeros((1, 2), cupy.float32), stream=bogus)
    with pytest.raises(ia.ImageArrayValueError, match="not a CUDA stream"):
        img.fetch(cupy.zeros((1, 2), cupy.int32), stream=bogus)
    # the context is fine: a kernel and a copy still run right
    np.testing.assert_array_equal(img.fetch(cupy.asarray([[3, 2]])).get(), [data[2, 3]])


def test_real_streams_as_ints_and_protocol_objects_work():
    import cupy

    data = np.arange(64, dtype=np.float32).reshape(8, 8)
    img = ia.asimage(data)
    s = cupy.cuda.Stream(non_blocking=True)
    for stream in (int(s.ptr), _Proto(int(s.ptr)), cupy.cuda.ExternalStream(s.ptr)):
        host = np.zeros_like(data)
        ia.copy(img, host, stream=stream)
        s.synchronize()
        np.testing.assert_array_equal(host, data)
        got = img.fetch(cupy.asarray([[1, 7]], dtype=cupy.int32), stream=stream)
        s.synchronize()
        np.testing.assert_array_equal(got.get(), [data[7, 1]])
