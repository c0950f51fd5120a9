"""GPU tests of image memory, copies and ImageArray (issue: memory and copies).

Every round trip is bit-exact: data are random bytes viewed as the channel type,
compared as bytes, so NaN payloads of float types are checked too.
"""

from __future__ import annotations

import gc

import numpy as np
import pytest

import imagearray as ia

pytestmark = pytest.mark.gpu

ORDERS = {1: "r", 2: "rg", 4: "rgba"}
TYPES = [t.value for t in ia.ChannelType]

# (image type, width, height, depth, array_size, num_levels) with odd sizes
SHAPES = {
    "1d": ("standard", 37, 0, 0, 1, 1),
    "2d": ("standard", 37, 19, 0, 1, 1),
    "3d": ("standard", 13, 7, 5, 1, 1),
    "1d_array": ("array", 37, 0, 0, 3, 1),
    "2d_array": ("array", 21, 11, 0, 3, 1),
    "cubemap": ("cubemap", 17, 17, 0, 6, 1),
    "2d_mipmap": ("mipmap", 37, 19, 0, 1, 3),
    "3d_mipmap": ("mipmap", 13, 7, 5, 1, 3),
}


def make_desc(kind, ctype, channels):
    t, w, h, d, n, lv = SHAPES[kind]
    return ia.ImageDescriptor(w, h, d, ORDERS[channels], ctype, t, lv, n)


def random_host(rng, desc):
    raw = rng.integers(0, 256, size=desc.level_nbytes(0), dtype=np.uint8)
    return raw.view(desc.dtype).reshape(desc.host_shape)


def same_bytes(a, b):
    np.testing.assert_array_equal(
        np.ascontiguousarray(a).view(np.uint8), np.ascontiguousarray(b).view(np.uint8)
    )


@pytest.mark.parametrize("kind", list(SHAPES))
@pytest.mark.parametrize("channels", [1, 2, 4])
@pytest.mark.parametrize("ctype", TYPES)
def test_round_trip_every_type(kind, channels, ctype, rng):
    desc = make_desc(kind, ctype, channels)
    with ia.ImageMem(desc) as mem:
        if desc.type.is_mipmapped:
            for level in range(desc.num_levels):
                ldesc = desc.mip_level_desc(level)
                src = random_host(rng, ldesc)
                h = mem.get_mip_level_mem_handle(level)
                ia.copy(src, h, desc=ldesc)
                out = np.empty_like(src)
                ia.copy(h, out, desc=ldesc).synchronize()
                same_bytes(out, src)
        else:
            src = random_host(rng, desc)
            ia.copy(src, mem)
            out = np.empty_like(src)
            ia.copy(mem, out).synchronize()
            same_bytes(out, src)


@pytest.mark.parametrize("kind", ["2d", "3d", "2d_array", "cubemap"])
def test_image_array_get_set_to_cupy(kind, rng):
    import cupy

    desc = make_desc(kind, "unorm_int8", 4)
    img = ia.empty(
        desc.host_shape,
        np.uint8,
        4,
        layered=kind == "2d_array",
        cubemap=kind == "cubemap",
        normalized=True,
    )
    assert img.shape == desc.host_shape
    src = random_host(rng, desc)
    img.set(src)
    same_bytes(img.get(), src)
    same_bytes(img.to_cupy().get(), src)
    img.set(cupy.asarray(src[::-1].copy()))
    same_bytes(img.get(), src[::-1])


def test_subregion_copies_at_odd_offsets(rng):
    desc = ia.ImageDescriptor(101, 53, channel_order="rg", channel_type="fp16")
    full = random_host(rng, desc)
    img = ia.asimage(full, channels=2)
    # host box 9x7 at (3, 5) of a 30x20 host buffer -> image at (77, 41), extent 9x7
    host = random_host(rng, ia.ImageDescriptor(30, 20, channel_order="rg", channel_type="fp16"))
    ia.copy(
        host,
        img,
        src_offset=(3, 5),
        src_extent=(30, 20),
        dst_offset=(77, 41),
        extent=(9, 7),
    )
    full[41:48, 77:86] = host[5:12, 3:12]
    same_bytes(img.get(), full)
    # image -> host sub-region into a bigger host box
    out = np.zeros((11, 13, 2), np.float16)
    ia.copy(
        img, out, src_offset=(31, 17), dst_offset=(2, 3), dst_extent=(13, 11), extent=(10, 8)
    ).synchronize()
    want = np.zeros_like(out)
    want[3:11, 2:12] = full[17:25, 31:41]
    same_bytes(out, want)


def test_layered_and_cubemap_face_subregions(rng):
    lay = ia.zeros((4, 9, 33), np.float32, layered=True)
    block = rng.standard_normal((2, 5, 7)).astype(np.float32)
    ia.copy(block, lay, dst_offset=(3, 2, 1), extent=(7, 5, 2))
    want = np.zeros((4, 9, 33), np.float32)
    want[1:3, 2:7, 3:10] = block
    same_bytes(lay.get(), want)
    same_bytes(lay.layer(2).get(), want[2])
    cube = ia.zeros((6, 16, 16, 2), np.int16, 2, cubemap=True)
    face = rng.integers(-999, 999, (16, 16, 2)).astype(np.int16)
    cube.face(4).set(face)
    got = cube.get()
    assert got.shape == (6, 16, 16, 2)
    same_bytes(got[4], face)
    assert not got[[0, 1, 2, 3, 5]].any()


def test_image_to_image_whole_and_subregion(rng):
    src = ia.asimage(rng.standard_normal((31, 45)).astype(np.float32))
    dst = ia.zeros((31, 45), np.float32)
    ia.copy(src, dst)
    same_bytes(dst.get(), src.get())
    other = ia.zeros((20, 20), np.float32)
    ia.copy(src, other, src_offset=(40, 25), dst_offset=(1, 2), extent=(5, 6))
    want = np.zeros((20, 20), np.float32)
    want[2:8, 1:6] = src.get()[25:31, 40:45]
    same_bytes(other.get(), want)


def test_image_and_pitched_usm(rng):
    import cupy

    desc = ia.ImageDescriptor(37, 19, channel_order="rgba", channel_type="unsigned_int16")
    usm, pitch = ia.pitched_alloc_device(desc)
    align = ia.device_info("image_row_pitch_align")
    assert pitch % align == 0 and pitch >= 37 * 8
    assert usm.shape == (19, 37, 4) and usm.strides == (pitch, 8, 2)
    data = random_host(rng, desc)
    img = ia.asimage(data, channels=4)
    ia.copy(img, usm)
    same_bytes(usm.get(), data)
    usm[...] = cupy.asarray(data[::-1])
    ia.copy(usm, img)
    same_bytes(img.get(), data[::-1])
    # host <-> USM with an explicit pitch (spec overload)
    back = np.empty_like(data)
    ia.copy(usm, back, desc=desc, device_row_pitch=pitch).synchronize()
    same_bytes(back, data[::-1])
    raw, rpitch = ia.pitched_alloc_device(37 * 8, 19, 8)
    assert raw.shape == (19, 37 * 8) and raw.dtype == np.uint8 and rpitch % align == 0
    with pytest.raises(ia.CopyError) as info:
        ia.copy(data, usm, desc=desc, device_row_pitch=pitch - 1)  # fits, unaligned
    assert info.value.scenario == 9


def test_image_array_slicing_matches_numpy(rng):
    import cupy

    a = rng.integers(0, 1000, (23, 37, 4)).astype(np.int32)
    img = ia.asimage(a, channels=4)
    keys = [
        (slice(3, 9), slice(5, 30)),
        (7,),
        (slice(None, None, -3), 2),
        (Ellipsis, 1),
        (slice(-5, None), slice(None, 4), slice(1, 3)),
        (slice(30, 40),),
        (0, 0, 0),
    ]
    for key in keys:
        got = img[key]
        # basic indexing gives views of the image; one texel and an empty selection
        # are CuPy arrays (copies), as for cupy.ndarray
        view = a[key].ndim > 0 and a[key].size > 0
        assert isinstance(got, ia.ImageArray if view else cupy.ndarray), key
        assert got.shape == a[key].shape
        np.testing.assert_array_equal(got.get(), a[key])
    np.testing.assert_array_equal(img[[1, 4]].get(), a[[1, 4]])  # advanced indexing
    with pytest.raises(IndexError):
        img[23]
    # writes
    img[2:5, 10:20] = np.full((3, 10, 4), 7, np.int32)
    a[2:5, 10:20] = 7
    img[::4, ::5, 2] = cupy.asarray(-1)
    a[::4, ::5, 2] = -1
    img[-1] = 3
    a[-1] = 3
    np.testing.assert_array_equal(img.get(), a)
    vol = rng.standard_normal((5, 6, 7)).astype(np.float32)
    v = ia.asimage(vol)
    np.testing.assert_array_equal(v[1:4, ::2, -3:].get(), vol[1:4, ::2, -3:])
    lay = ia.asimage(vol, layered=True)
    assert lay.layers == 5 and lay.image_type is ia.ImageType.ARRAY
    np.testing.assert_array_equal(lay[2, 1:3].get(), vol[2, 1:3])
    np.testing.assert_array_equal(lay.layer(3).get(), vol[3])


def test_attributes_and_repr():
    img = ia.zeros((48, 64, 4), np.uint8, 4, levels=3, normalized=True)
    assert img.shape == (48, 64, 4) and img.dtype == np.uint8 and img.ndim == 3
    assert img.size == 48 * 64 * 4 and img.nbytes == img.size
    assert img.levels == 3 and img.layers == 1 and img.channels == 4
    assert img.image_type is ia.ImageType.STANDARD
    assert img.descriptor.type is ia.ImageType.MIPMAP
    assert img.device.id == ia.get_device()
    assert img.mip(2).shape == (12, 16, 4)
    assert "ImageArray(shape=(48, 64, 4)" in repr(img)
    assert not img.mip(1).get().any()


def test_memory_lifetimes_and_getters():
    desc = ia.ImageDescriptor(40, 30, channel_order="rg", channel_type="unorm_int16")
    h = ia.alloc_image_mem(desc)
    assert ia.get_image_range(h) == (40, 30, 0)
    assert ia.get_image_channel_type(h) is ia.ChannelType.UNORM_INT16
    assert ia.get_image_num_channels(h) == 2
    ia.free_image_mem(h, "standard")
    with pytest.raises(ia.ReleasedResourceError):
        ia.free_image_mem(h)
    with pytest.raises(ia.ReleasedResourceError):
        ia.copy(np.zeros((30, 40, 2), np.uint16), h)
    mip = ia.ImageMem(ia.ImageDescriptor(64, 32, type="mipmap", num_levels=4))
    level = mip.get_mip_level_mem_handle(2)
    assert ia.get_image_range(level) == (16, 8, 0)
    with pytest.raises(ia.ReleasedResourceError, match="mip level"):
        level.free()
    del mip
    gc.collect()
    # the level keeps its mipmap alive: still usable
    data = np.arange(16 * 8, dtype=np.float32).reshape(8, 16)
    ia.copy(data, level)
    out = np.empty_like(data)
    ia.copy(level, out).synchronize()
    np.testing.assert_array_equal(out, data)
    parent = level.parent
    parent.free()
    assert not level.alive
    with pytest.raises(ia.ReleasedResourceError):
        ia.copy(data, level)
    with ia.ImageMem(ia.ImageDescriptor(8, 8)) as m:
        pass
    assert not m.alive
    with pytest.raises(ia.ReleasedResourceError):
        m.free()
    img = ia.zeros((8, 8), np.float32)
    view = img[...]
    img.free()
    with pytest.raises(ia.ReleasedResourceError):
        img.get()
    assert view.shape == (8, 8)  # a CuPy copy taken before is unaffected


def test_allocation_errors_are_clear():
    lim = ia.device_info("max_image_2d")
    with pytest.raises(ia.ImageArrayValueError, match="exceeds this device's limit"):
        ia.ImageMem(ia.ImageDescriptor(lim[0] + 1, 4))
    with pytest.raises(ia.InvalidDescriptorError):
        ia.ImageMem(ia.ImageDescriptor(8, 8, channel_order="rgb"))
    with pytest.raises(ia.CopyError) as info:
        ia.copy(np.zeros(10, np.float32), ia.zeros((4, 4), np.float32))
    assert info.value.scenario == 2


def test_combined_types_allocate():
    a = ia.zeros((3, 16, 16), np.float32, layered=True, levels=3)
    assert a.descriptor.type is ia.ImageType.MIPMAP_ARRAY and a.mip(1).shape == (3, 8, 8)
    c = ia.zeros((12, 8, 8), np.float32, cubemap=True, layered=True)
    assert c.descriptor.type is ia.ImageType.CUBEMAP_ARRAY and c.shape == (12, 8, 8)
    m = ia.zeros((6, 8, 8), np.float32, cubemap=True, levels=2)
    assert m.mip(1).shape == (6, 4, 4)


_SPIN = r"""
extern "C" __global__ void spin(long long cycles) {
    long long t0 = clock64();
    while (clock64() - t0 < cycles) { }
}
"""


def test_copy_runs_on_the_given_stream(rng):
    import cupy

    spin = cupy.RawKernel(_SPIN, "spin")
    s = cupy.cuda.Stream(non_blocking=True)
    data = rng.standard_normal((64, 64)).astype(np.float32)
    src = cupy.asarray(data)
    img = ia.zeros((64, 64), np.float32)
    cupy.cuda.Device().synchronize()
    with s:
        spin((1,), (1,), (np.int64(500_000_000),))  # ~0.3 s on the blocked stream
        ev = ia.copy(src, img)  # current stream = s
    assert not ev.done, "the copy ran before the kernel ahead of it on its stream"
    ev.synchronize()
    np.testing.assert_array_equal(img.get(), data)
    # explicit stream= argument, and ImageArray reads on the current stream
    with s:
        spin((1,), (1,), (np.int64(500_000_000),))
    ev = ia.copy(img, cupy.empty((64, 64), np.float32), stream=s)
    assert not ev.done
    s.synchronize()
    assert ev.done


@pytest.mark.multigpu
def test_peer_image_copy(rng):
    import cupy

    data = rng.standard_normal((33, 47)).astype(np.float32)
    with cupy.cuda.Device(0):
        a = ia.asimage(data)
    _synced(0)  # uploaded before device 1's stream copies it
    with cupy.cuda.Device(1):
        b = ia.zeros((33, 47), np.float32)
        ia.copy(a, b).synchronize()
    assert b.device.id == 1
    np.testing.assert_array_equal(b.get(), data)
    with cupy.cuda.Device(1):
        s1 = cupy.cuda.Stream()
    with cupy.cuda.Device(0):
        with pytest.raises(ia.CopyError) as info:
            ia.copy(a, np.empty_like(data), stream=s1)
    assert info.value.scenario == 1


def _synced(*devices):
    """Wait for the work queued on each of ``devices`` (streams of two devices are not
    ordered with each other: a peer copy on one must not start before the other's
    upload of its source has finished)."""
    import cupy

    for d in devices:
        with cupy.cuda.Device(d):
            cupy.cuda.Device().synchronize()


@pytest.mark.multigpu
@pytest.mark.parametrize("queue", [0, 1])  # the copy on a stream of either device
def test_peer_copies_between_memory_kinds_and_regions(rng, queue):
    """Issue 19: every kind of device memory copied to the other device (images,
    their regions, mip levels, layers, 3D boxes, CuPy arrays and pitched USM), on a
    stream of either device, equal to NumPy's slicing of what was uploaded."""
    import cupy

    desc = ia.ImageDescriptor(61, 23, channel_order="rg", channel_type="fp16")
    data = random_host(rng, desc)
    vol = rng.standard_normal((7, 13, 29)).astype(np.float32)
    lay = rng.integers(0, 2**16, (3, 9, 17), dtype=np.uint16)
    level1 = rng.standard_normal((16, 24)).astype(np.float32)
    # sources
    img0 = ia.asimage(data, channels=2, device=0)
    vol1 = ia.asimage(vol, device=1)
    vol0 = ia.asimage(vol, device=0)
    lay0 = ia.asimage(lay, layered=True, device=0)
    mip1 = ia.zeros((32, 48), np.float32, levels=4, device=1)
    mip1.mip(1).set(level1)
    with cupy.cuda.Device(0):
        arr0 = cupy.asarray(vol[2])  # (13, 29) float32
    usm1, _ = ia.pitched_alloc_device(desc, device=1)
    with cupy.cuda.Device(1):
        usm1[...] = cupy.asarray(data[::-1])
    # destinations, on the device the source is not on
    dst1 = ia.zeros((23, 61, 2), np.float16, 2, device=1)
    with cupy.cuda.Device(0):
        box0 = cupy.zeros((4, 6, 10), np.float32)
    vol1b = ia.zeros((7, 13, 29), np.float32, device=1)
    plane1 = ia.zeros((13, 29), np.float32, device=1)
    one1 = ia.zeros((9, 17), np.uint16, device=1)
    mip0 = ia.zeros((32, 48), np.float32, levels=4, device=0)
    usm_img0 = ia.zeros((23, 61, 2), np.float16, 2, device=0)
    _synced(0, 1)  # every upload and zero fill done before a copy on either device

    with cupy.cuda.Device(queue):
        copies = [
            ia.copy(img0, dst1, src_offset=(40, 3), dst_offset=(5, 11), extent=(17, 9)),
            ia.copy(vol1, box0, src_offset=(19, 7, 3), extent=(10, 6, 4)),
            ia.copy(vol0, vol1b),
            ia.copy(arr0, plane1),
            ia.copy(lay0.layer(1), one1),
            ia.copy(mip1.mip(1), mip0.mip(1)),
            ia.copy(usm1, usm_img0),
        ]
    for ev in copies:
        ev.synchronize()
    want = np.zeros_like(data)
    want[11:20, 5:22] = data[3:12, 40:57]
    same_bytes(dst1.get(), want)
    same_bytes(box0.get(), vol[3:7, 7:13, 19:29])
    same_bytes(vol1b.get(), vol)
    same_bytes(plane1.get(), vol[2])
    same_bytes(one1.get(), lay[1])
    same_bytes(mip0.mip(1).get(), level1)
    assert not mip0.mip(0).get().any() and not mip0.mip(2).get().any()
    same_bytes(usm_img0.get(), data[::-1])
