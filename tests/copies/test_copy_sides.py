"""Each side of a copy has its own descriptor; zeros in unused extent dimensions; the
pitch of 1D USM memory is ignored. Plans run on the NumPy model of ``cuMemcpy3D``
(tests/_memcpy_sim.py) and are compared with NumPy slicing of the same bytes.

Device (USM) memory is described to ``endpoint()`` the way a CuPy array is, through
``__cuda_array_interface__`` over simulated memory, so the descriptor a copy takes for
it is the one a real CuPy array of that shape and dtype gives.
"""

from __future__ import annotations

import numpy as np
import pytest
from _memcpy_sim import ARRAY, Memcpy3DSim
from _memcpy_sim import DEVICE as SIM_DEVICE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import imagearray as ia
from imagearray.copies import DEVICE, HOST, IMAGE, Endpoint, endpoint, plan_copy


class FakeCuPy:
    """What endpoint() reads of a CuPy array: the interface (and the device)."""

    class device:  # noqa: N801
        id = 0

    def __init__(self, ptr, shape, dtype, strides=None):
        self.__cuda_array_interface__ = dict(
            shape=tuple(shape),
            typestr=np.dtype(dtype).str,
            data=(ptr, False),
            strides=strides,
            version=3,
        )


class Usm:
    """A CuPy-like array of ``shape`` / ``dtype`` over simulated device memory, rows
    ``pitch`` bytes apart (default packed): ``.ep`` its endpoint, ``.array()`` its
    values as NumPy."""

    def __init__(self, sim, shape, dtype, pitch=None, rng=None):
        dtype = np.dtype(dtype)
        rng = rng or np.random.default_rng(sum(shape))
        self.shape, self.dtype = tuple(shape), dtype
        row = int(np.prod(shape[1:])) * dtype.itemsize if len(shape) > 1 else 0
        self.pitch = pitch or row
        if len(shape) == 1:
            nbytes = shape[0] * dtype.itemsize
        else:
            nbytes = self.pitch * (shape[0] - 1) + row
        self.sim = sim
        self.addr = sim.add_linear(SIM_DEVICE, rng.integers(0, 256, nbytes, np.uint8))
        strides = None
        if len(shape) > 1 and self.pitch != row:
            inner = [dtype.itemsize]
            for n in reversed(shape[2:]):
                inner.insert(0, inner[0] * n)
            strides = (self.pitch, *inner)
        self.ep = endpoint(FakeCuPy(self.addr, shape, dtype, strides), "memory")

    def array(self) -> np.ndarray:
        b = self.sim.linear_bytes(self.addr)
        if len(self.shape) == 1:
            return b.view(self.dtype).copy()
        row = int(np.prod(self.shape[1:])) * self.dtype.itemsize
        pad = np.zeros(self.pitch * self.shape[0] - b.size, np.uint8)
        rows = np.concatenate([b, pad]).reshape(self.shape[0], self.pitch)[:, :row]
        return rows.copy().view(self.dtype).reshape(self.shape)


class Img:
    """A CUDA array in the simulator with ``desc``; ``.array()`` its host_shape values."""

    def __init__(self, sim, desc):
        layered = desc.type.is_layered or desc.type.is_cubemap
        depth = desc.num_layers if layered else desc.depth
        self.raw = sim.add_array(desc.width, desc.height, depth, desc.texel_size, layered=layered)
        self.sim, self.desc = sim, desc
        self.ep = Endpoint(IMAGE, 0, self.raw, desc=desc)

    def array(self) -> np.ndarray:
        return (
            self.sim.array_bytes(self.raw)
            .copy()
            .view(self.desc.dtype)
            .reshape(self.desc.host_shape)
        )


def host(sim, arr):
    addr = sim.add_external(0, arr)
    return Endpoint(HOST, None, addr, nbytes=arr.nbytes, owner=arr)


F32 = dict(channel_type="fp32")


# ------------------------------------------------------------------ item 1: own descriptors


def test_1d_image_into_the_upper_half_of_a_longer_cupy_array():
    sim = Memcpy3DSim()
    img = Img(sim, ia.ImageDescriptor(6, **F32))
    usm = Usm(sim, (12,), np.float32)
    before = usm.array()
    plan = plan_copy(img.ep, usm.ep, dst_offset=(6,), queue_device=0, pitch_align=32)
    sim.run(plan)
    want = before.copy()
    want[6:] = img.array()
    np.testing.assert_array_equal(usm.array(), want)
    # and back: the lower half of the array into the image
    sim.run(plan_copy(usm.ep, img.ep, src_offset=0, extent=6, queue_device=0))
    np.testing.assert_array_equal(img.array(), want[:6])


def test_64x64_region_of_a_large_image_into_a_64x64_pitched_cupy_array():
    sim = Memcpy3DSim()
    img = Img(sim, ia.ImageDescriptor(300, 200, **F32))
    usm = Usm(sim, (64, 64), np.float32, pitch=512)
    plan = plan_copy(
        img.ep, usm.ep, src_offset=(100, 50), extent=(64, 64), queue_device=0, pitch_align=32
    )
    assert plan.dst[2:4] == (512, 64)  # the CuPy array's own pitch and rows
    sim.run(plan)
    np.testing.assert_array_equal(usm.array(), img.array()[50:114, 100:164])
    # the same box written back elsewhere in the image
    before = img.array()
    sim.run(plan_copy(usm.ep, img.ep, dst_offset=(3, 7), extent=(64, 64), pitch_align=32))
    before[7:71, 3:67] = usm.array()
    np.testing.assert_array_equal(img.array(), before)


def test_cupy_bytes_next_to_an_rgba8_image_are_read_as_rows_of_texels():
    sim = Memcpy3DSim()
    rgba8 = ia.ImageDescriptor(40, 30, channel_order="rgba", channel_type="unorm_int8")
    img = Img(sim, rgba8)
    usm = Usm(sim, (10, 64), np.uint8, pitch=128)  # 10 rows of 16 rgba8 texels
    sim.run(plan_copy(img.ep, usm.ep, src_offset=(20, 5), extent=(16, 10), pitch_align=32))
    np.testing.assert_array_equal(usm.array().reshape(10, 16, 4), img.array()[5:15, 20:36])
    with pytest.raises(ia.CopyError) as info:  # 17 texels do not fit a 64-byte row
        plan_copy(img.ep, usm.ep, extent=(17, 10), pitch_align=32)
    assert info.value.scenario == 3


def test_explicit_src_desc_and_dst_desc():
    sim = Memcpy3DSim()
    img = Img(sim, ia.ImageDescriptor(40, 30, channel_order="rg", channel_type="fp16"))
    usm = Usm(sim, (30, 160), np.uint8, pitch=256)
    as_rg16 = ia.ImageDescriptor(40, 30, channel_order="rg", channel_type="fp16")
    sim.run(plan_copy(img.ep, usm.ep, dst_desc=as_rg16, extent=(40, 30), pitch_align=32))
    np.testing.assert_array_equal(usm.array().view(np.float16).reshape(30, 40, 2), img.array())
    # a bare pointer (no shape to read) takes the descriptor it is given
    bare = Endpoint(DEVICE, 0, usm.addr, nbytes=usm.ep.nbytes, pitch=256)
    p = plan_copy(bare, img.ep, src_desc=as_rg16, src_offset=(1, 2), extent=(8, 4))
    assert p.src[2:] == (256, 30, 4, 2, 0)
    # a descriptor of another texel size for a side is refused ...
    with pytest.raises(ia.CopyError, match="one format") as info:
        rgba32 = ia.ImageDescriptor(16, 30, channel_order="rgba", channel_type="fp32")
        plan_copy(img.ep, usm.ep, dst_desc=rgba32, extent=(2, 2))
    assert info.value.scenario == 2
    # ... and so is one that does not match the image's allocation
    with pytest.raises(ia.CopyError) as info:
        wider = ia.ImageDescriptor(41, 30, channel_order="rg", channel_type="fp16")
        plan_copy(img.ep, usm.ep, src_desc=wider, extent=(2, 2))
    assert info.value.scenario == 2
    # ... and a USM descriptor larger than the memory
    with pytest.raises(ia.CopyError) as info:
        taller = ia.ImageDescriptor(40, 31, channel_order="rg", channel_type="fp16")
        plan_copy(img.ep, usm.ep, dst_desc=taller, extent=(2, 2), pitch_align=32)
    assert info.value.scenario == 2


def test_whole_copies_keep_one_descriptor_for_both_sides():
    """The spec's simple overloads take one descriptor: a whole image still fits a flat
    CuPy buffer of its bytes, read with the image's rows."""
    sim = Memcpy3DSim()
    img = Img(sim, ia.ImageDescriptor(10, 5, channel_order="rgba", channel_type="unorm_int8"))
    usm = Usm(sim, (200,), np.uint8)
    sim.run(plan_copy(img.ep, usm.ep, queue_device=0))
    np.testing.assert_array_equal(usm.array(), img.array().reshape(-1))


def test_desc_names_the_image_and_the_usm_takes_its_own_shape():
    sim = Memcpy3DSim()
    d = ia.ImageDescriptor(6, **F32)
    img = Img(sim, d)
    usm = Usm(sim, (12,), np.float32)
    before = usm.array()
    sim.run(plan_copy(img.ep, usm.ep, desc=d, dst_offset=6))
    assert np.array_equal(usm.array()[6:], img.array()) and np.array_equal(
        usm.array()[:6], before[:6]
    )


@st.composite
def usm_image_regions(draw):
    dims = draw(st.sampled_from([1, 2]))
    fmt = dict(
        channel_type=draw(st.sampled_from(["unsigned_int8", "fp16", "fp32", "unsigned_int32"])),
        channel_order=draw(st.sampled_from(["r", "rg", "rgba"])),
    )
    n = st.integers(1, 9)
    desc = ia.ImageDescriptor(draw(n), draw(n) if dims == 2 else 0, **fmt)
    ubox = (draw(n), draw(n) if dims == 2 else 1)
    ext, so, do = [], [], []
    ibox = desc.extent[:2]
    to_image = draw(st.booleans())
    sbox, dbox = (ubox, ibox) if to_image else (ibox, ubox)
    for s, dd in zip(sbox, dbox):
        e = draw(st.integers(1, min(s, dd)))
        ext.append(e)
        so.append(draw(st.integers(0, s - e)))
        do.append(draw(st.integers(0, dd - e)))
    pad = draw(st.sampled_from([0, 0, 4, 32]))
    return desc, ubox, to_image, tuple(so), tuple(do), tuple(ext), pad


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(usm_image_regions())
def test_image_and_usm_of_another_size(case):
    desc, ubox, to_image, so, do, ext, pad = case
    sim = Memcpy3DSim()
    img = Img(sim, desc)
    c = desc.num_channels
    shape = (ubox[0],) if desc.dimensions == 1 else (ubox[1], ubox[0])
    shape += (c,) if c > 1 else ()
    row = ubox[0] * desc.texel_size
    usm = Usm(sim, shape, desc.dtype, pitch=row + pad if desc.dimensions == 2 else None)
    src, dst = (usm, img) if to_image else (img, usm)
    before_src, before_dst = src.array(), dst.array()
    plan = plan_copy(src.ep, dst.ep, src_offset=so, dst_offset=do, extent=ext, pitch_align=1)
    sim.run(plan)  # raises on any byte outside either memory
    if desc.dimensions == 1:
        sl = lambda o: (slice(o[0], o[0] + ext[0]),)  # noqa: E731
    else:
        sl = lambda o: (slice(o[1], o[1] + ext[1]), slice(o[0], o[0] + ext[0]))  # noqa: E731
    want = before_dst.copy()
    want[sl(do)] = before_src[sl(so)]
    np.testing.assert_array_equal(dst.array(), want)
    np.testing.assert_array_equal(src.array(), before_src)


# ------------------------------------------------------------------ item 2: zeros


def _same_plan(a, b):
    assert (a.src, a.dst, a.extent) == (b.src, b.dst, b.extent)


def test_zero_in_unused_dimensions_counts_as_one():
    sim = Memcpy3DSim()
    one = Img(sim, ia.ImageDescriptor(6, **F32))
    data = np.arange(6, dtype=np.float32)
    h = host(sim, data)
    _same_plan(
        plan_copy(h, one.ep, src_extent=(6, 0, 0), extent=(6, 0, 0)),
        plan_copy(h, one.ep, src_extent=(6, 1, 1), extent=(6, 1, 1)),
    )
    sim.run(plan_copy(h, one.ep, src_extent=(6, 0, 0)))
    np.testing.assert_array_equal(one.array(), data)
    two = Img(sim, ia.ImageDescriptor(5, 4, **F32))
    block = np.arange(20, dtype=np.float32).reshape(4, 5)
    hb = host(sim, block)
    sim.run(plan_copy(hb, two.ep, src_extent=(5, 4, 0)))
    np.testing.assert_array_equal(two.array(), block)
    # the host <-> USM overload: HostExtent (w, h, 0)
    usm = Usm(sim, (4, 5), np.float32, pitch=32)
    sim.run(plan_copy(hb, usm.ep, host_extent=(5, 4, 0), extent=(5, 4, 0), pitch_align=32))
    np.testing.assert_array_equal(usm.array(), block)
    # a 1D layered image: y is unused, z (the layer) is used
    lay = Img(sim, ia.ImageDescriptor(4, type="array", array_size=3, **F32))
    out = np.zeros((2, 4), np.float32)
    sim.run(plan_copy(lay.ep, host(sim, out), src_offset=(0, 0, 1), extent=(4, 0, 2)))
    np.testing.assert_array_equal(out, lay.array()[1:3])


def test_zero_in_a_used_dimension_is_refused():
    sim = Memcpy3DSim()
    two = Img(sim, ia.ImageDescriptor(5, 4, **F32))
    h = host(sim, np.zeros(20, np.float32))
    for kw in (dict(extent=(5, 0)), dict(extent=(0, 4)), dict(src_extent=(5, 0, 0))):
        with pytest.raises(ia.CopyError, match=r">= 1 along the dimensions the image has \(x, y\)"):
            plan_copy(h, two.ep, **kw)
    lay = Img(sim, ia.ImageDescriptor(4, type="array", array_size=3, **F32))
    with pytest.raises(ia.CopyError, match="0 along z"):
        plan_copy(lay.ep, h, extent=(4, 1, 0))
    with pytest.raises(ia.CopyError, match=">= 0"):
        plan_copy(h, two.ep, extent=(5, -1))


# ------------------------------------------------------------------ item 3: 1D pitch


@pytest.mark.parametrize("pitch", [0, 3, 24, 2**40])
def test_device_row_pitch_is_ignored_for_1d_usm(pitch):
    sim = Memcpy3DSim()
    d = ia.ImageDescriptor(6, **F32)
    usm = Usm(sim, (6,), np.float32)
    data = np.arange(6, dtype=np.float32) + 1
    plan = plan_copy(host(sim, data), usm.ep, desc=d, device_row_pitch=pitch, pitch_align=32)
    assert plan.dst[2] == 24  # one row of the image
    sim.run(plan)
    np.testing.assert_array_equal(usm.array(), data)
    out = np.zeros(3, np.float32)
    sim.run(
        plan_copy(
            usm.ep,
            host(sim, out),
            desc=d,
            device_row_pitch=pitch,
            src_offset=2,
            extent=3,
            dst_extent=3,
        )
    )
    np.testing.assert_array_equal(out, data[2:5])


def test_device_row_pitch_zero_is_scenario_10_for_2d():
    sim = Memcpy3DSim()
    usm = Usm(sim, (4, 5), np.float32, pitch=32)
    d = ia.ImageDescriptor(5, 4, **F32)
    with pytest.raises(ia.CopyError) as info:
        plan_copy(host(sim, np.zeros(20, np.float32)), usm.ep, desc=d, device_row_pitch=0)
    assert info.value.scenario == 10
    with pytest.raises(ia.CopyError, match="device_row_pitch"):
        plan_copy(host(sim, np.zeros(20, np.float32)), usm.ep, desc=d, device_row_pitch=-1)


def test_sim_kinds_match_the_plan_codes():
    # the plans above are only meaningful if the simulator reads the same codes
    from imagearray.copies.plan import KIND_CODE

    assert (KIND_CODE[IMAGE], KIND_CODE[DEVICE], KIND_CODE[HOST]) == (ARRAY, SIM_DEVICE, 0)


# ------------------------------------------------------------------ item 1: array shapes


def test_a_3d_image_and_a_cupy_array_of_slices():
    sim = Memcpy3DSim()
    img = Img(sim, ia.ImageDescriptor(9, 7, 5, **F32))
    usm = Usm(sim, (3, 4, 5), np.float32)  # 3 slices of 4 rows of 5 texels
    sim.run(plan_copy(img.ep, usm.ep, src_offset=(2, 1, 1), extent=(5, 4, 3), pitch_align=1))
    np.testing.assert_array_equal(usm.array(), img.array()[1:4, 1:5, 2:7])
    with pytest.raises(ia.CopyError) as info:  # 6 wide does not fit its 5-texel rows
        plan_copy(img.ep, usm.ep, extent=(6, 4, 3), pitch_align=1)
    assert info.value.scenario == 3


def test_a_1d_layered_image_and_a_cupy_array_of_layers():
    sim = Memcpy3DSim()
    lay = Img(sim, ia.ImageDescriptor(8, type="array", array_size=4, **F32))
    usm = Usm(sim, (2, 5), np.float32)  # 2 layers of 5 texels
    plan = plan_copy(lay.ep, usm.ep, src_offset=(3, 0, 1), extent=(5, 1, 2), pitch_align=1)
    sim.run(plan)
    np.testing.assert_array_equal(usm.array(), lay.array()[1:3, 3:8])


def test_cupy_rows_that_are_no_whole_texels_are_refused():
    sim = Memcpy3DSim()
    img = Img(sim, ia.ImageDescriptor(8, 8, channel_order="rgba", channel_type="fp32"))
    usm = Usm(sim, (4, 6), np.float32)  # rows of 24 B, the texels 16 B
    with pytest.raises(ia.CopyError, match="whole number") as info:
        plan_copy(img.ep, usm.ep, extent=(1, 4), pitch_align=1)
    assert info.value.scenario == 2


# ------------------------------------------------------------------ item 4: host to host


def test_host_to_host_whole_and_subregion():
    rng = np.random.default_rng(4)
    a = rng.random((6, 7), np.float32)
    b = np.zeros((6, 7), np.float32)
    ev = ia.copy(a, b)
    ev.synchronize()
    np.testing.assert_array_equal(b, a)
    c = np.zeros((10, 12), np.float32)
    ia.copy(a, c, src_offset=(1, 2), dst_offset=(4, 5), extent=(5, 3)).synchronize()
    want = np.zeros_like(c)
    want[5:8, 4:9] = a[2:5, 1:6]
    np.testing.assert_array_equal(c, want)
    # rgba8 texels: 4 bytes a texel, offsets in texels
    img = rng.integers(0, 256, (5, 6, 4), np.uint8)
    out = np.zeros((2, 3, 4), np.uint8)
    ia.copy(img, out, src_offset=(2, 1), extent=(3, 2)).synchronize()
    np.testing.assert_array_equal(out, img[1:3, 2:5])


def test_host_to_host_pitched_rows():
    """device_row_pitch between two host memories: rows of both that many bytes apart."""
    src = np.arange(4 * 8, dtype=np.float32).reshape(4, 8)  # 32 B rows
    dst = np.full((4, 8), -1, np.float32)
    d = ia.ImageDescriptor(5, 4, **F32)  # 5 texels of each 8-texel row
    ia.copy(src, dst, src_desc=d, dst_desc=d, device_row_pitch=32).synchronize()
    want = np.full_like(dst, -1)
    want[:, :5] = src[:, :5]
    np.testing.assert_array_equal(dst, want)
    with pytest.raises(ia.CopyError) as info:
        ia.copy(src, dst, src_desc=d, dst_desc=d, device_row_pitch=16)
    assert info.value.scenario == 10


def test_host_to_host_refusals_write_nothing():
    a = np.ones((4, 4), np.float32)
    b = np.zeros((4, 4), np.float32)
    with pytest.raises(ia.CopyError) as info:
        ia.copy(a, np.zeros((4, 3), np.float32))
    assert info.value.scenario == 2
    with pytest.raises(ia.CopyError) as info:
        ia.copy(a, b, dst_offset=(2, 2), extent=(3, 3))
    assert info.value.scenario == 8
    with pytest.raises(ia.CopyError, match="host_extent"):
        ia.copy(a, b, host_extent=(4, 4))
    with pytest.raises(ia.CopyError, match="read-only"):
        b.flags.writeable = False
        ia.copy(a, b)
    b.flags.writeable = True
    assert not b.any()


def test_host_to_host_overlap_copies_as_numpy_assignment():
    a = np.arange(20, dtype=np.float32).reshape(4, 5)
    want = a.copy()
    want[1:4, 1:5] = a[0:3, 0:4].copy()
    ia.copy(a, a, src_offset=(0, 0), dst_offset=(1, 1), extent=(4, 3)).synchronize()
    np.testing.assert_array_equal(a, want)
