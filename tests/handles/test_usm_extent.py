"""create_image over USM (a CuPy array) refuses an image reaching past the memory,
without a GPU: the arrays below are CuPy arrays over memory that is never touched.

The issue: ``create_image(cupy_array, desc, sampler, pitch=P)`` accepted a pitch x
height far past the allocation, and reading the last row faulted the context
(``CUDA_ERROR_ILLEGAL_ADDRESS``). The check comes before any device query, so a
refusal is the same with or without a GPU; an image that fits goes on to the device
limits (``CUDAUnavailableError`` here).
"""

from __future__ import annotations

import numpy as np
import pytest

import imagearray as ia

BASE = 0x7F0000000000  # 512-byte aligned, never dereferenced
ROW = 256  # 64 float32 texels


def allocation(rows, ptr=BASE, shape=None, dtype=np.float32):
    """A CuPy array over an allocation of ``rows`` rows of ROW bytes."""
    import cupy

    mem = cupy.cuda.UnownedMemory(ptr, rows * ROW, None, device_id=0)
    shape = shape or (rows, ROW // np.dtype(dtype).itemsize)
    return cupy.ndarray(shape, dtype, memptr=cupy.cuda.MemoryPointer(mem, 0))


def desc(height, width=64):
    return ia.ImageDescriptor(width, height)  # r, fp32


def fits(memory, d, pitch=None):
    """True when create_image got past the extent check, to the device query (which
    raises on a machine without a GPU)."""
    with pytest.raises(ia.CUDAUnavailableError):
        ia.create_image(memory, d, ia.Sampler(), pitch=pitch)
    return True


@pytest.fixture(autouse=True)
def _cpu_only(monkeypatch):
    import cupy._util

    if ia.is_available():
        pytest.skip("the GPU twin (test_usm_extent_gpu.py) makes real handles")
    # CuPy's interface v3 looks up the current stream (a CUDA call): v2 does not.
    monkeypatch.setattr(cupy._util, "CUDA_ARRAY_INTERFACE_EXPORT_VERSION", 2)


def test_pitch_times_height_past_the_allocation_is_refused():
    a = allocation(16)  # 16 rows of 256 B: 4096 B
    with pytest.raises(ia.ImageArrayValueError) as info:
        ia.create_image(a, desc(16), ia.Sampler(), pitch=1 << 20)
    msg = str(info.value)
    assert "pitch=1048576 B x (height 16 - 1) + a row of 256 B" in msg
    assert "4096 B" in msg
    with pytest.raises(ia.ImageArrayValueError, match="= 4111 B .* hold 4096 B"):
        ia.create_image(a, desc(16), ia.Sampler(), pitch=257)


def test_the_arrays_own_layout_fits():
    assert fits(allocation(16), desc(16))
    assert fits(allocation(16), desc(16), pitch=ROW)
    assert fits(allocation(1, shape=(64,)), ia.ImageDescriptor(64))  # 1D: 256 B


def test_a_view_reaches_to_the_end_of_its_allocation():
    whole = allocation(32)  # 8192 B
    top = whole[:16]  # 16 rows, and the memory goes on for 16 more
    assert fits(top, desc(16), pitch=512)  # 512 x 15 + 256 = 7936 <= 8192
    assert fits(top, desc(16), pitch=528)  # 8176
    with pytest.raises(ia.ImageArrayValueError, match="= 8416 B .* hold 8192 B"):
        ia.create_image(top, desc(16), ia.Sampler(), pitch=544)
    bottom = whole[16:]  # 4096 B to the end of the allocation
    assert fits(bottom, desc(16))
    with pytest.raises(ia.ImageArrayValueError, match="allocation from its first byte hold 4096"):
        ia.create_image(bottom, desc(16), ia.Sampler(), pitch=512)  # 7936 > 4096


def test_other_cuda_array_interface_objects_are_bounded_by_their_span():
    class Device:
        id = 0

    class Foreign:
        device = Device

        def __init__(self, shape):
            self.__cuda_array_interface__ = {
                "shape": shape,
                "typestr": "<f4",
                "data": (BASE, False),
                "version": 3,
            }

    with pytest.raises(ia.ImageArrayValueError, match="the bytes the array spans hold 4096 B"):
        ia.create_image(Foreign((16, 64)), desc(16), ia.Sampler(), pitch=512)
    assert fits(Foreign((16, 64)), desc(16))


# issue 21 item 9: a descriptor given for raw USM views its bytes in another format


def test_raw_pitched_bytes_viewed_in_another_format():
    raw = allocation(16, shape=(16, ROW), dtype=np.uint8)  # pitched_alloc_device's raw form
    rgba16 = dict(channel_order="rgba", channel_type="fp16")  # 8 B texels
    assert fits(raw, ia.ImageDescriptor(ROW // 8, 16, **rgba16))
    assert fits(raw, ia.ImageDescriptor(ROW // 8 - 3, 9, **rgba16))  # a part of each row
    with pytest.raises(ia.ImageArrayValueError, match="rows must lie in the array's"):
        ia.create_image(raw, ia.ImageDescriptor(ROW // 8 + 1, 16, **rgba16), ia.Sampler())
    with pytest.raises(ia.ImageArrayValueError, match="17 rows of 256 B, the array 16 rows"):
        ia.create_image(raw, ia.ImageDescriptor(ROW // 8, 17, **rgba16), ia.Sampler())
    # a narrower view of the rows: 128 B of each 256 B pitch
    half = raw[:, : ROW // 2]
    assert fits(
        half, ia.ImageDescriptor(ROW // 8, 16, channel_order="rgba", channel_type="unorm_int8")
    )
    with pytest.raises(ia.ImageArrayValueError, match="rows are 256 B apart"):
        ia.create_image(half, ia.ImageDescriptor(ROW // 8, 16, **rgba16), ia.Sampler())


def test_raw_linear_bytes_viewed_in_another_format():
    line = allocation(1, shape=(ROW,), dtype=np.uint8)
    assert fits(line, ia.ImageDescriptor(ROW // 4))  # r fp32
    assert fits(line, ia.ImageDescriptor(ROW // 16, channel_order="rgba"))
    with pytest.raises(ia.ImageArrayValueError, match="needs 260 B, the array holds 256 B"):
        ia.create_image(line, ia.ImageDescriptor(ROW // 4 + 1), ia.Sampler())
