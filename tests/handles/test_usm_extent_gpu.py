"""create_image over a CuPy array at a pitch of the caller's (GPU): an image that
reaches past the allocation is refused; one that fits reads the right texels.

The issue: a pitch x height far past the allocation was accepted and reading the
last row faulted the context (``CUDA_ERROR_ILLEGAL_ADDRESS``).
"""

from __future__ import annotations

import numpy as np
import pytest

import imagearray as ia

pytestmark = pytest.mark.gpu

_READ = r"""
extern "C" __global__ void read(unsigned long long tex, float* out, int w, int h) {
    int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x < w && y < h) out[y * w + x] = tex2D<float>(tex, x + 0.5f, y + 0.5f);
}
"""


def read_all(tex, w, h):
    import cupy

    out = cupy.full((h, w), -1.0, cupy.float32)
    kernel = cupy.RawKernel(_READ, "read")
    kernel(((w + 15) // 16, (h + 15) // 16), (16, 16), (tex, out, np.int32(w), np.int32(h)))
    return out.get()


def test_pitch_past_the_allocation_is_refused_and_one_inside_reads_right():
    import cupy

    whole = cupy.arange(32 * 64, dtype=cupy.float32).reshape(32, 64)  # 8192 B, 256 B rows
    top = whole[:16]
    desc = ia.ImageDescriptor(64, 16)
    for pitch in (1 << 20, 544):  # 544 x 15 + 256 = 8416 > 8192
        with pytest.raises(ia.ImageArrayValueError, match="needs"):
            ia.create_image(top, desc, ia.Sampler(), pitch=pitch)
    with pytest.raises(ia.ImageArrayValueError, match="needs"):
        ia.create_image(whole[16:], desc, ia.Sampler(), pitch=512)  # 7936 > 4096
    # every other row of the allocation: 512 x 15 + 256 = 7936 B, inside it
    with ia.create_image(top, desc, ia.Sampler(), pitch=512) as tex:
        got = read_all(tex, 64, 16)
    np.testing.assert_array_equal(got, whole.get()[0:32:2])
    assert int(cupy.arange(100, dtype=cupy.int64).sum()) == 4950  # the context is alive
