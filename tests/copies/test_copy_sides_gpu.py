"""GPU tests of issue 21 items 1-4: each side of a copy with its own descriptor (a CuPy
array of another shape than the image), zeros in unused extent dimensions, the pitch
of 1D USM memory ignored, host-to-host copies. Results are compared byte for byte
with NumPy slicing of the same data."""

from __future__ import annotations

import numpy as np
import pytest

import imagearray as ia

pytestmark = pytest.mark.gpu


def same_bytes(a, b):
    np.testing.assert_array_equal(
        np.ascontiguousarray(a).view(np.uint8), np.ascontiguousarray(b).view(np.uint8)
    )


def test_1d_image_into_the_upper_half_of_a_cupy_array(rng):
    import cupy

    data = rng.standard_normal(6).astype(np.float32)
    img = ia.asimage(data)
    low = rng.standard_normal(6).astype(np.float32)
    dev = cupy.asarray(np.concatenate([low, np.zeros(6, np.float32)]))
    ia.copy(img, dev, dst_offset=(6,)).synchronize()
    same_bytes(dev.get(), np.concatenate([low, data]))
    # the lower half back into the image, with the spec's {w, 0, 0} extent
    ia.copy(dev, img, extent=(6, 0, 0)).synchronize()
    same_bytes(img.get(), low)


@pytest.mark.parametrize("pitched", [False, True])
def test_64x64_region_of_a_large_image_and_a_64x64_cupy_array(pitched, rng):
    import cupy

    full = rng.integers(0, 256, (300, 500, 4), np.uint8)
    img = ia.asimage(full, channels=4)
    if pitched:  # rows 512 B apart: a view of a wider array
        dev = cupy.zeros((64, 128, 4), cupy.uint8)[:, :64]
    else:
        dev = cupy.zeros((64, 64, 4), cupy.uint8)
    ia.copy(img, dev, src_offset=(100, 50), extent=(64, 64)).synchronize()
    same_bytes(dev.get(), full[50:114, 100:164])
    ia.copy(dev, img, dst_offset=(400, 200), extent=(64, 64)).synchronize()
    full[200:264, 400:464] = full[50:114, 100:164]
    same_bytes(img.get(), full)
    # uint8 rows read as rgba8 texels
    rows = cupy.zeros((10, 64), cupy.uint8)
    ia.copy(img, rows, src_offset=(7, 3), extent=(16, 10)).synchronize()
    same_bytes(rows.get().reshape(10, 16, 4), full[3:13, 7:23])


def test_explicit_dst_desc_for_a_cupy_array(rng):
    import cupy

    full = rng.standard_normal((20, 30, 2)).astype(np.float16)
    img = ia.asimage(full, channels=2)
    # 30 rg fp16 texels (120 B) a row, rows 128 B apart (a pitch the device aligns)
    dev = cupy.zeros((20, 128), cupy.uint8)
    rg16 = ia.ImageDescriptor(30, 20, channel_order="rg", channel_type="fp16")
    ia.copy(img, dev, dst_desc=rg16, extent=(30, 20)).synchronize()
    same_bytes(dev.get()[:, :120], full.reshape(20, 60))


def test_zero_extents_and_ignored_1d_pitch(rng):
    import cupy

    data = rng.standard_normal((4, 5)).astype(np.float32)
    img = ia.zeros((4, 5), np.float32)
    ia.copy(data, img, src_extent=(5, 4, 0)).synchronize()
    same_bytes(img.get(), data)
    line = rng.standard_normal(6).astype(np.float32)
    dev = cupy.zeros(6, cupy.float32)
    d = ia.ImageDescriptor(6, channel_type="fp32")
    ia.copy(line, dev, desc=d, device_row_pitch=0).synchronize()
    same_bytes(dev.get(), line)
    out = np.zeros(6, np.float32)
    ia.copy(dev, out, desc=d, device_row_pitch=0, host_extent=(6, 0, 0)).synchronize()
    same_bytes(out, line)


def test_host_to_host_waits_for_the_stream(rng):
    import cupy

    big = rng.integers(0, 256, (512, 512, 4), np.uint8)
    img = ia.asimage(big, channels=4)
    with ia.prepared_for_device_copy(np.zeros_like(big)) as staged:
        ia.copy(img, staged)  # asynchronous into page-locked memory
        out = np.zeros((64, 64, 4), np.uint8)
        ev = ia.copy(staged, out, src_offset=(10, 20), extent=(64, 64))
        assert isinstance(ev, cupy.cuda.Event) and ev.done
        same_bytes(out, big[20:84, 10:74])
