"""Copy validation: every copy-failure scenario of the spec, without a GPU.

Endpoints are described as plain values (``Endpoint``), so ``plan_copy`` runs here
exactly as it does before a real copy.
"""

from __future__ import annotations

import numpy as np
import pytest

import imagearray as ia
from imagearray.copies import DEVICE, HOST, IMAGE, Endpoint, endpoint, plan_copy

RGBA8 = dict(channel_order="rgba", channel_type="unorm_int8")
D2 = ia.ImageDescriptor(100, 50, **RGBA8)  # 100x50 RGBA8: 20000 B
T = 4


def host(nbytes, writable=True):
    return Endpoint(HOST, None, 0x1000, nbytes=nbytes, writable=writable)


def image(desc=D2, device=0, origin=(0, 0, 0)):
    return Endpoint(IMAGE, device, 0xA000, desc=desc, origin=origin)


def usm(nbytes, pitch=0, device=0, desc=None):
    return Endpoint(DEVICE, device, 0xD000, nbytes=nbytes, pitch=pitch, desc=desc)


def scenario(n, fn, match=None):
    with pytest.raises(ia.CopyError) as info:
        fn()
    assert info.value.scenario == n, str(info.value)
    assert f"copy failure scenario {n}" in str(info.value)
    if match:
        assert match in str(info.value), str(info.value)
    return info.value


# ------------------------------------------------------------------ good plans


def test_simple_host_to_image_plan():
    p = plan_copy(host(20000), image(), queue_device=0)
    assert p.src == (0, 0x1000, 400, 50, 0, 0, 0)
    assert p.dst == (2, 0xA000, 0, 0, 0, 0, 0)
    assert p.extent == (400, 50, 1)
    assert not p.is_peer


def test_subregion_image_to_host_plan():
    # read a 7x5 box at (13, 9) into a 7x5 host buffer
    p = plan_copy(
        image(),
        host(7 * 5 * T),
        src_offset=(13, 9),
        extent=(7, 5),
        dst_extent=(7, 5),
        queue_device=0,
    )
    assert p.src == (2, 0xA000, 0, 0, 13 * T, 9, 0)
    assert p.dst == (0, 0x1000, 7 * T, 5, 0, 0, 0)
    assert p.extent == (7 * T, 5, 1)


def test_subregion_host_box_larger_than_copy():
    # host holds a 20x10 box; copy its 3x2 part at (4, 5) to image (90, 40)
    p = plan_copy(
        host(20 * 10 * T),
        image(),
        src_offset=(4, 5),
        src_extent=(20, 10),
        dst_offset=(90, 40),
        extent=(3, 2),
        queue_device=0,
    )
    assert p.src == (0, 0x1000, 20 * T, 10, 4 * T, 5, 0)
    assert p.dst == (2, 0xA000, 0, 0, 90 * T, 40, 0)
    assert p.extent == (3 * T, 2, 1)


def test_view_origin_is_added():
    lay = ia.ImageDescriptor(8, 8, type="array", array_size=3)
    one = ia.ImageDescriptor(8, 8)
    p = plan_copy(host(256), image(one, origin=(0, 0, 2)), queue_device=0)
    assert p.dst[4:] == (0, 0, 2)
    p = plan_copy(host(3 * 256), image(lay), queue_device=0)
    assert p.extent == (32, 8, 3)


def test_usm_pitched_plan_and_peer():
    p = plan_copy(usm(512 * 49 + 400, pitch=512), image(), queue_device=0, pitch_align=32)
    assert p.src == (1, 0xD000, 512, 50, 0, 0, 0)
    p = plan_copy(image(device=1), image(device=0), queue_device=0)
    assert p.is_peer and (p.src_device, p.dst_device) == (1, 0)


def test_usm_desc_inferred_from_device_array():
    d = ia.ImageDescriptor(100, 50, channel_order="rgba", channel_type="unsigned_int8")
    p = plan_copy(host(20000), usm(20000, pitch=400, desc=d), queue_device=0, pitch_align=16)
    assert p.dst == (1, 0xD000, 400, 50, 0, 0, 0)


def test_layered_1d_is_x_by_1_by_layers():
    d = ia.ImageDescriptor(16, type="array", array_size=4)
    p = plan_copy(image(d), host(16 * 4 * 4), queue_device=0)
    assert p.extent == (64, 1, 4)


def test_host_endpoints_from_numpy_and_buffers():
    a = np.zeros((50, 100, 4), np.uint8)
    ep = endpoint(a, "source")
    assert (ep.kind, ep.nbytes, ep.address) == (HOST, 20000, a.ctypes.data)
    ep = endpoint(bytearray(64), "destination")
    assert ep.kind == HOST and ep.nbytes == 64 and ep.writable
    assert not endpoint(b"abcd", "source").writable
    with pytest.raises(ia.CopyError, match="tightly packed"):
        endpoint(a[:, ::2], "source")
    with pytest.raises(ia.ImageArrayTypeError, match="cannot copy"):
        endpoint(object(), "source")


# ------------------------------------------------------------------ scenarios


def test_scenario_1_devices():
    scenario(1, lambda: plan_copy(host(20000), image(device=1), queue_device=0), "device 1")
    scenario(1, lambda: plan_copy(image(device=1), image(device=2), queue_device=0))
    scenario(1, lambda: plan_copy(usm(20000, pitch=400, device=0), image(device=0), queue_device=3))


def test_scenario_2_descriptor_mismatch_and_capacity():
    other = ia.ImageDescriptor(64, 50, **RGBA8)
    e = scenario(2, lambda: plan_copy(host(20000), image(), desc=other, queue_device=0))
    assert "64x50" in str(e) and "100x50" in str(e)
    # simple copy: capacities differ
    scenario(2, lambda: plan_copy(host(19996), image(), queue_device=0), "19996")
    scenario(2, lambda: plan_copy(image(), host(20004), queue_device=0), "20004")
    # a whole mipmap is not one copy
    mip = ia.ImageDescriptor(64, 64, type="mipmap", num_levels=3)
    scenario(2, lambda: plan_copy(host(64 * 64 * 4), image(), desc=mip, queue_device=0))
    # USM memory too small for the descriptor with its pitch
    scenario(2, lambda: plan_copy(host(20000), usm(20000, pitch=512), desc=D2, queue_device=0))


def test_scenario_3_copy_extent_larger_than_memory():
    scenario(
        3,
        lambda: plan_copy(
            host(200 * 50 * T), image(), src_extent=(200, 50), extent=(101, 50), queue_device=0
        ),
        "(101, 50, 1)",
    )


def test_scenario_4_host_extent():
    d = ia.ImageDescriptor(100, 50, **RGBA8)
    scenario(
        4,
        lambda: plan_copy(
            host(1000),
            usm(20000, pitch=400),
            desc=d,
            host_extent=(20, 20),
            extent=(10, 10),
            queue_device=0,
            pitch_align=16,
        ),
        "1600 B",
    )


def test_scenario_5_src_extent():
    scenario(
        5,
        lambda: plan_copy(host(100), image(), src_extent=(10, 10), extent=(2, 2), queue_device=0),
        "400 B",
    )
    # src_extent claimed larger than the source image
    scenario(
        5,
        lambda: plan_copy(
            image(), host(10**6), src_extent=(101, 50), dst_extent=(200, 200), queue_device=0
        ),
    )


def test_scenario_6_dst_extent():
    scenario(
        6,
        lambda: plan_copy(image(), host(100), dst_extent=(10, 10), extent=(2, 2), queue_device=0),
    )
    scenario(6, lambda: plan_copy(host(16), image(), dst_extent=(100, 51), extent=(2, 2)))


def test_scenario_7_src_offset_plus_extent():
    e = scenario(
        7,
        lambda: plan_copy(
            image(), host(10 * 10 * T), src_offset=(95, 0), extent=(10, 10), dst_extent=(10, 10)
        ),
    )
    assert "(95, 0, 0)" in str(e) and "(105, 10, 1)" in str(e)


def test_scenario_8_dst_offset_plus_extent():
    scenario(
        8,
        lambda: plan_copy(
            host(10 * 10 * T), image(), dst_offset=(0, 45), src_extent=(10, 10), queue_device=0
        ),
        "(10, 55, 1)",
    )
    lay = ia.ImageDescriptor(8, 8, type="array", array_size=3)
    scenario(
        8,
        lambda: plan_copy(host(256), image(lay), dst_offset=(0, 0, 3), extent=(8, 8, 1)),
    )


def test_scenario_9_pitch_alignment():
    scenario(
        9,
        lambda: plan_copy(host(20000), usm(10**6), desc=D2, device_row_pitch=410, pitch_align=32),
        "410",
    )


def test_scenario_10_pitch_smaller_than_row():
    scenario(
        10,
        lambda: plan_copy(host(20000), usm(10**6), desc=D2, device_row_pitch=384, pitch_align=32),
        "400 B",
    )


def test_other_refusals():
    with pytest.raises(ia.CopyError, match="desc= is required: the host memory"):
        plan_copy(host(4), host(4))  # bare pointers: no shape says what they hold
    with pytest.raises(ia.CopyError, match="read-only"):
        plan_copy(image(), host(20000, writable=False))
    with pytest.raises(ia.CopyError, match="desc= is required"):
        plan_copy(host(16), usm(16))
    with pytest.raises(ia.CopyError, match=">= 0"):
        plan_copy(host(20000), image(), dst_offset=(-1, 0))
    with pytest.raises(ia.CopyError, match=">= 1"):
        plan_copy(host(20000), image(), extent=(0, 1))
    with pytest.raises(ia.CopyError, match="1 to 3 ints"):
        plan_copy(host(20000), image(), extent=(1, 1, 1, 1))
    with pytest.raises(ia.ImageArrayTypeError):
        plan_copy(host(20000), image(), desc="rgba")


def test_usm_3d_linear_slices():
    d = ia.ImageDescriptor(8, 4, 3)  # 8x4x3 float32: 128 B per slice
    p = plan_copy(image(d), usm(384, pitch=32), queue_device=0, pitch_align=32)
    assert p.dst == (1, 0xD000, 32, 4, 0, 0, 0) and p.extent == (32, 4, 3)
    scenario(2, lambda: plan_copy(image(d), usm(380, pitch=32), queue_device=0, pitch_align=32))


def test_whole_copy_plans_are_reused_only_for_the_same_memories():
    a = plan_copy(host(20000), image(), queue_device=0)
    assert plan_copy(host(20000), image(), queue_device=0) is a  # same values: reused
    other_desc = ia.ImageDescriptor(100, 50, **RGBA8)  # equal, but another object
    b = plan_copy(host(20000), image(desc=other_desc), queue_device=0)
    assert b is not a and b == a
    moved = plan_copy(Endpoint(HOST, None, 0x2000, nbytes=20000), image(), queue_device=0)
    assert moved.src[1] == 0x2000 and moved.dst == a.dst
    # a refused copy is refused every time (failures are not remembered)
    for _ in range(2):
        scenario(2, lambda: plan_copy(host(19996), image(), queue_device=0))
    # sub-region copies are planned every time, and agree with a fresh plan
    p = plan_copy(image(), host(7 * 5 * T), src_offset=(13, 9), extent=(7, 5), dst_extent=(7, 5))
    assert p.src[4:] == (13 * T, 9, 0) and p.extent == (7 * T, 5, 1)


def test_image_to_image_subregion_uses_each_image_s_own_descriptor():
    big = ia.ImageDescriptor(45, 31)
    small = ia.ImageDescriptor(20, 20)
    p = plan_copy(image(big), image(small), src_offset=(40, 25), dst_offset=(1, 2), extent=(5, 6))
    # (kind, address, pitch, rows, x in bytes, y, z): 4-byte texels
    assert p.src[4:] == (160, 25, 0) and p.dst[4:] == (4, 2, 0)
    assert p.extent == (20, 6, 1)
    # the destination's own box bounds the copy: x 16 + 5 > 20
    with pytest.raises(ia.CopyError) as info:
        plan_copy(image(big), image(small), dst_offset=(16, 0), extent=(5, 6))
    assert info.value.scenario == 8
    # whole copies still need equal images; texel formats must match
    with pytest.raises(ia.CopyError) as info:
        plan_copy(image(big), image(small))
    assert info.value.scenario == 2
    rgba8 = ia.ImageDescriptor(20, 20, channel_order="rgba", channel_type="unorm_int8")
    with pytest.raises(ia.CopyError, match="one format"):
        plan_copy(image(ia.ImageDescriptor(20, 20)), image(rgba8), extent=(2, 2))
