"""An image mapped at an offset into imported memory (GPU, no Vulkan: the memory is
exported by imagearray itself and imported back in the same process).

The issue: an offset of 3 bytes was accepted and the first write to the image killed
the context. It is now refused, naming the device's texture alignment; at that
alignment the mapping works and keeps its bytes.
"""

from __future__ import annotations

import numpy as np
import pytest

import imagearray as ia
from imagearray import interop as ext
from imagearray.interop import exportable as exp

pytestmark = pytest.mark.gpu

DESC = ia.ImageDescriptor(64, 32, channel_order="rgba", channel_type="unsigned_int8")


def _imported(nbytes):
    src = exp.alloc_exportable_memory(nbytes)
    fd = exp.export_memory_handle(src)
    mem = ext.import_external_memory(ext.ExternalMemDescriptor(ext.ResourceFD(fd), src.size))
    return src, mem


def test_unaligned_offset_is_refused_and_an_aligned_one_works():
    import cupy

    align = ia.device_info("texture_alignment")
    assert align > 3
    src, mem = _imported(DESC.nbytes + 4 * align)
    try:
        for bad in (3, align // 2, align + 1):
            with pytest.raises(ia.ImageArrayValueError, match=f"offset={bad} is not a multiple"):
                ext.map_external_image_memory(mem, DESC, offset=bad)
            with pytest.raises(ia.ImageArrayValueError, match=f"offset={bad} is not a multiple"):
                ia.ImageArray.from_external(mem, DESC, offset=bad)
        img = ia.ImageArray.from_external(mem, DESC, offset=align)
        data = np.random.default_rng(7).integers(0, 256, img.shape, dtype=np.uint8)
        img.set(data)
        np.testing.assert_array_equal(img.get(), data)
        img.free()
    finally:
        mem.release()
        src.free()
    # the context is alive
    assert int(cupy.arange(100, dtype=cupy.int64).sum()) == 4950
