"""Issue 21 item 9 on the GPU: get_image_range agrees with ImageMem.get_range (0 for
the dimensions the memory does not have; layers and faces are no dimension), and a
raw pitched_alloc_device allocation viewed as another format reads its bytes."""

from __future__ import annotations

import numpy as np
import pytest

import imagearray as ia

pytestmark = pytest.mark.gpu

F32 = dict(channel_type="fp32")


@pytest.mark.parametrize(
    "desc, want",
    [
        (ia.ImageDescriptor(9, **F32), (9, 0, 0)),
        (ia.ImageDescriptor(9, 5, **F32), (9, 5, 0)),
        (ia.ImageDescriptor(9, 5, 3, **F32), (9, 5, 3)),
        (ia.ImageDescriptor(9, type="array", array_size=4, **F32), (9, 0, 0)),
        (ia.ImageDescriptor(9, 5, type="array", array_size=4, **F32), (9, 5, 0)),
        (ia.ImageDescriptor(8, 8, type="cubemap", array_size=6, **F32), (8, 8, 0)),
        (ia.ImageDescriptor(16, 8, type="mipmap", num_levels=3, **F32), (16, 8, 0)),
    ],
)
def test_get_image_range_is_the_memory_s_range(desc, want):
    with ia.ImageMem(desc) as mem:
        assert mem.get_range() == want
        assert ia.get_image_range(mem) == want
        assert ia.get_image_range(mem.handle) == want


_FETCH = r"""
#include <cuda_fp16.h>
extern "C" __global__ void fetch(unsigned long long tex, float4* out, int w, int h) {
    int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x < w && y < h) out[y * w + x] = tex2D<float4>(tex, x + 0.5f, y + 0.5f);
}
"""


def test_raw_pitched_bytes_read_as_rgba_fp16(rng):
    import cupy

    w, h = 37, 11  # 37 rgba fp16 texels: 296 B rows, padded to the pitch
    raw, pitch = ia.pitched_alloc_device(w * 8, h, 1)
    assert raw.dtype == np.uint8 and raw.shape == (h, w * 8) and pitch >= w * 8
    texels = rng.standard_normal((h, w, 4)).astype(np.float16)
    raw[...] = cupy.asarray(texels.view(np.uint8).reshape(h, w * 8))
    desc = ia.ImageDescriptor(w, h, channel_order="rgba", channel_type="fp16")
    out = cupy.full((h, w, 4), np.nan, cupy.float32)
    kernel = cupy.RawKernel(_FETCH, "fetch")
    with ia.create_image(raw, desc, ia.Sampler()) as tex:
        kernel(((w + 15) // 16, (h + 15) // 16), (16, 16), (tex, out, np.int32(w), np.int32(h)))
        got = out.get()
    np.testing.assert_array_equal(got, texels.astype(np.float32))
