"""Copy plans run on a NumPy model of ``cuMemcpy3D`` (tests/_memcpy_sim.py).

For random descriptors (1D/2D/3D, layered, cubemap, texel sizes 1..16), random
sub-regions and offsets, pitched device memory and views (a layer or face of a bigger
allocation), every endpoint pairing is planned with ``plan_copy``, run on the model
and compared with NumPy slicing of the same bytes done here independently. A plan
that touches a byte outside its memory fails (that would be memory corruption on a
GPU), and so does a plan for a request that is in bounds but refused.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pytest
from _memcpy_sim import ARRAY, InvalidValue, Memcpy3DSim, OutOfBounds
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import imagearray as ia
from imagearray.array import ImageArray
from imagearray.copies import DEVICE, HOST, Endpoint, endpoint, image_endpoint, plan_copy

CHANNEL_TYPES = ["unsigned_int8", "signed_int16", "fp16", "fp32", "unsigned_int32"]
ORDERS = ["r", "rg", "rgba"]


class _FakeHandle:
    """What ImageArray needs of an image_mem_handle, over a simulated CUDA array."""

    def __init__(self, raw: int, desc: ia.ImageDescriptor, device: int = 0) -> None:
        self._raw, self.desc, self.device, self.alive = raw, desc, device, True

    def raw(self) -> int:
        return self._raw


@dataclasses.dataclass
class Side:
    ep: Endpoint
    box: tuple[int, int, int]  # (x, y, z) texels this endpoint addresses
    texels: Callable[[], np.ndarray]  # (z, y, x, texel bytes) of that box, a copy


def _cuda_extents(desc: ia.ImageDescriptor) -> tuple[int, int, int, bool]:
    """CUDA_ARRAY3D_DESCRIPTOR Width/Height/Depth (0 = unused) and the layered flag,
    written from the CUDA rules, not from imagearray."""
    t = desc.type
    if t.is_cubemap:
        return desc.width, desc.height, 6 * (desc.array_size if t.is_layered else 1), True
    if t.is_layered:
        return desc.width, desc.height, desc.array_size, True
    return desc.width, desc.height, desc.depth, False


def _layers(desc: ia.ImageDescriptor) -> int:
    return _cuda_extents(desc)[2] if _cuda_extents(desc)[3] else 1


def image_side(sim: Memcpy3DSim, alloc_desc, view_index=None, device=0) -> Side:
    """An image endpoint: the whole allocation, or (view_index) one layer/face of it."""
    w, h, d, layered = _cuda_extents(alloc_desc)
    t = alloc_desc.texel_size
    raw = sim.add_array(w, h, d, t, layered=layered)
    img = ImageArray._make(None, _FakeHandle(raw, alloc_desc, device), alloc_desc)
    z0 = 0
    if view_index is not None:
        if alloc_desc.type.is_cubemap:
            img = img.face(view_index)
        else:
            img = img.layer(view_index)
        z0 = view_index % _layers(alloc_desc)
    ep = image_endpoint(img)
    vd = ep.desc
    box = (vd.width, max(vd.height, 1), _layers(vd) if _cuda_extents(vd)[3] else max(vd.depth, 1))

    def texels():
        a = sim.array_bytes(raw)
        a = a.reshape(a.shape[0], a.shape[1], a.shape[2] // t, t)
        return a[z0 : z0 + box[2], : box[1], : box[0]].copy()

    return Side(ep, box, texels)


def host_side(sim: Memcpy3DSim, box, t: int) -> Side:
    data = np.random.default_rng(sum(box) + t).integers(0, 256, box[::-1] + (t,), np.uint8)
    addr = sim.add_linear(0, data)
    ep = Endpoint(HOST, None, addr, nbytes=data.nbytes)
    return Side(ep, box, lambda: sim.linear_bytes(addr).reshape(box[::-1] + (t,)).copy())


def device_side(sim: Memcpy3DSim, box, t: int, pad: int, desc=None, device=0) -> Side:
    """Pitched linear device memory holding ``box``: rows of ``pitch`` bytes, slices of
    box[1] rows; the last row is not padded (as a CuPy pitched array's last row)."""
    row = box[0] * t
    pitch = row + pad
    rows = box[1] * box[2]
    nbytes = pitch * (rows - 1) + row
    data = np.random.default_rng(nbytes).integers(0, 256, nbytes, np.uint8)
    addr = sim.add_linear(1, data)
    ep = Endpoint(DEVICE, device, addr, nbytes=nbytes, pitch=pitch, desc=desc)

    def texels():
        b = np.concatenate([sim.linear_bytes(addr), np.zeros(pad, np.uint8)])
        b = b.reshape(box[2], box[1], pitch)[:, :, :row]
        return b.reshape(box[2], box[1], box[0], t).copy()

    return Side(ep, box, texels)


# ------------------------------------------------------------------ strategies


@st.composite
def base_descs(draw, kinds=("1d", "2d", "3d", "array1d", "array2d", "cubemap", "cubemap_array")):
    kind = draw(st.sampled_from(kinds))
    fmt = dict(
        channel_type=draw(st.sampled_from(CHANNEL_TYPES)),
        channel_order=draw(st.sampled_from(ORDERS)),
    )
    n = st.integers(1, 6)
    if kind == "1d":
        return ia.ImageDescriptor(draw(n), **fmt)
    if kind == "2d":
        return ia.ImageDescriptor(draw(n), draw(n), **fmt)
    if kind == "3d":
        return ia.ImageDescriptor(draw(n), draw(n), draw(n), **fmt)
    if kind == "array1d":
        return ia.ImageDescriptor(draw(n), type="array", array_size=draw(st.integers(2, 4)), **fmt)
    if kind == "array2d":
        return ia.ImageDescriptor(
            draw(n), draw(n), type="array", array_size=draw(st.integers(2, 4)), **fmt
        )
    s = draw(n)
    if kind == "cubemap":
        return ia.ImageDescriptor(s, s, type="cubemap", array_size=6, **fmt)
    return ia.ImageDescriptor(s, s, type="cubemap_array", array_size=draw(st.integers(1, 2)), **fmt)


@st.composite
def image_sides(draw, sim, *, view_of=None):
    """An image endpoint. ``view_of`` (a 1D/2D standard descriptor): a side whose view
    has exactly that descriptor: a standalone image or a layer/face of a bigger one."""
    if view_of is None:
        desc = draw(base_descs())
        if desc.type.is_layered or desc.type.is_cubemap:
            if draw(st.booleans()):
                return image_side(sim, desc, draw(st.integers(0, _layers(desc) - 1)))
        return image_side(sim, desc)
    v = view_of
    fmt = dict(channel_type=v.channel_type, channel_order=v.channel_order)
    options = ["alone", "array"]
    if v.height and v.width == v.height:
        options += ["cubemap", "cubemap_array"]
    choice = draw(st.sampled_from(options))
    if choice == "alone":
        return image_side(sim, v)
    if choice == "array":
        alloc = ia.ImageDescriptor(
            v.width, v.height, type="array", array_size=draw(st.integers(2, 4)), **fmt
        )
    elif choice == "cubemap":
        alloc = ia.ImageDescriptor(v.width, v.height, type="cubemap", array_size=6, **fmt)
    else:
        alloc = ia.ImageDescriptor(
            v.width, v.height, type="cubemap_array", array_size=draw(st.integers(1, 2)), **fmt
        )
    return image_side(sim, alloc, draw(st.integers(0, _layers(alloc) - 1)))


@st.composite
def region(draw, src_box, dst_box, *, sloppy=True):
    """(src_offset, dst_offset, extent): in bounds, or (sloppy) sometimes one past."""
    ext, so, do = [], [], []
    for s, d in zip(src_box, dst_box):
        e = draw(st.integers(1, min(s, d)))
        ext.append(e)
        so.append(draw(st.integers(0, s - e)))
        do.append(draw(st.integers(0, d - e)))
    if sloppy and draw(st.integers(0, 4)) == 0:
        which = draw(st.sampled_from([so, do, ext]))
        which[draw(st.integers(0, 2))] += 1
    return tuple(so), tuple(do), tuple(ext)


def _in_bounds(off, ext, box) -> bool:
    return all(o + e <= b for o, e, b in zip(off, ext, box))


def run_and_compare(sim, src: Side, dst: Side, so, do, ext, **kwargs):
    """Plan; if the request is in bounds the plan must exist, and running it must copy
    exactly src[so:so+ext] to dst[do:do+ext] and touch nothing else."""
    src_before, dst_before = src.texels(), dst.texels()
    valid = _in_bounds(so, ext, src.box) and _in_bounds(do, ext, dst.box)
    try:
        plan = plan_copy(src.ep, dst.ep, queue_device=0, **kwargs)
    except ia.CopyError as exc:
        assert not valid, f"an in-bounds copy was refused: {exc}"
        return None
    assert valid, f"an out-of-bounds copy was planned: {plan}"
    sim.run(plan)  # raises OutOfBounds / InvalidValue on a bad plan
    want = dst_before.copy()
    zs, ys, xs = (slice(o, o + e) for o, e in zip(so[::-1], ext[::-1]))
    zd, yd, xd = (slice(o, o + e) for o, e in zip(do[::-1], ext[::-1]))
    want[zd, yd, xd] = src_before[zs, ys, xs]
    np.testing.assert_array_equal(dst.texels(), want)
    np.testing.assert_array_equal(src.texels(), src_before)
    return plan


SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------------ pairings


@SETTINGS
@given(st.data(), st.booleans())
def test_host_and_image(data, to_image):
    sim = Memcpy3DSim()
    img = data.draw(image_sides(sim))
    t = img.ep.desc.texel_size
    whole = data.draw(st.booleans())  # whole image, no sub-region arguments
    hbox = img.box if whole else tuple(data.draw(st.integers(1, 7)) for _ in range(3))
    host = host_side(sim, hbox, t)
    src, dst = (host, img) if to_image else (img, host)
    if whole:
        run_and_compare(sim, src, dst, (0, 0, 0), (0, 0, 0), img.box)
        return
    so, do, ext = data.draw(region(src.box, dst.box))
    kw = {"src_extent" if to_image else "dst_extent": hbox}
    run_and_compare(sim, src, dst, so, do, ext, src_offset=so, dst_offset=do, extent=ext, **kw)


def whole_or_region(data, sim, src, dst):
    """Copy the whole memory (src and dst boxes are equal), or a drawn sub-region."""
    if data.draw(st.booleans()):
        run_and_compare(sim, src, dst, (0, 0, 0), (0, 0, 0), src.box)
        return
    so, do, ext = data.draw(region(src.box, dst.box))
    run_and_compare(sim, src, dst, so, do, ext, src_offset=so, dst_offset=do, extent=ext)


@SETTINGS
@given(st.data())
def test_image_to_image(data):
    sim = Memcpy3DSim()
    if data.draw(st.booleans()):  # between views (layers / faces / plain images)
        fmt = dict(
            channel_type=data.draw(st.sampled_from(CHANNEL_TYPES)),
            channel_order=data.draw(st.sampled_from(ORDERS)),
        )
        w = data.draw(st.integers(1, 6))
        h = data.draw(st.sampled_from([0, w, data.draw(st.integers(1, 6))]))
        v = ia.ImageDescriptor(w, h, **fmt)
        src = data.draw(image_sides(sim, view_of=v))
        dst = data.draw(image_sides(sim, view_of=v))
    else:
        desc = data.draw(base_descs())
        src, dst = image_side(sim, desc), image_side(sim, desc)
    whole_or_region(data, sim, src, dst)


@SETTINGS
@given(st.data(), st.booleans())
def test_device_and_image(data, to_image):
    sim = Memcpy3DSim()
    img = data.draw(image_sides(sim))
    desc = img.ep.desc
    pad = data.draw(st.sampled_from([0, 0, 1, 3, 16, 64]))
    dev = device_side(sim, img.box, desc.texel_size, pad)
    src, dst = (dev, img) if to_image else (img, dev)
    whole_or_region(data, sim, src, dst)


@SETTINGS
@given(st.data(), st.booleans())
def test_host_and_device(data, to_device):
    sim = Memcpy3DSim()
    desc = data.draw(base_descs())
    box = (desc.width, max(desc.height, 1), _layers(desc) if _layers(desc) > 1 else desc.extent[2])
    t = desc.texel_size
    pad = data.draw(st.sampled_from([0, 0, 2, 5, 32]))
    given_pitch = data.draw(st.booleans())
    dev = device_side(sim, box, t, pad, desc=None if given_pitch else desc)
    kw: dict = {}
    if given_pitch:  # the spec's form: desc and DeviceRowPitch given, the memory plain
        dev.ep = dataclasses.replace(dev.ep, pitch=0)
        kw = dict(desc=desc, device_row_pitch=box[0] * t + pad)
    if data.draw(st.booleans()):
        host = host_side(sim, box, t)
        src, dst = (host, dev) if to_device else (dev, host)
        run_and_compare(sim, src, dst, (0, 0, 0), (0, 0, 0), box, **kw)
        return
    hbox = tuple(data.draw(st.integers(1, 7)) for _ in range(3))
    host = host_side(sim, hbox, t)
    src, dst = (host, dev) if to_device else (dev, host)
    so, do, ext = data.draw(region(src.box, dst.box))
    run_and_compare(
        sim, src, dst, so, do, ext, src_offset=so, dst_offset=do, extent=ext, host_extent=hbox, **kw
    )


@SETTINGS
@given(st.data())
def test_device_to_device(data):
    sim = Memcpy3DSim()
    desc = data.draw(base_descs())
    box = (desc.width, max(desc.height, 1), _layers(desc) if _layers(desc) > 1 else desc.extent[2])
    t = desc.texel_size
    src = device_side(sim, box, t, data.draw(st.sampled_from([0, 4, 32])), desc=desc)
    dst = device_side(sim, box, t, data.draw(st.sampled_from([0, 8])))
    so, do, ext = data.draw(region(box, box))
    run_and_compare(sim, src, dst, so, do, ext, src_offset=so, dst_offset=do, extent=ext)


@SETTINGS
@given(st.data(), st.booleans())
def test_device_memory_too_small_is_refused(data, to_image):
    """Device memory a few bytes short of the descriptor with its pitch: refused,
    whatever the sub-region (the whole copy would read past the end)."""
    sim = Memcpy3DSim()
    img = data.draw(image_sides(sim))
    desc = img.ep.desc
    pad = data.draw(st.sampled_from([0, 3, 16]))
    dev = device_side(sim, img.box, desc.texel_size, pad)
    short = data.draw(st.integers(1, desc.texel_size * img.box[0]))
    dev.ep = dataclasses.replace(dev.ep, nbytes=dev.ep.nbytes - short)
    src, dst = (dev, img) if to_image else (img, dev)
    kw = {}
    if data.draw(st.booleans()):
        so, do, ext = data.draw(region(src.box, dst.box, sloppy=False))
        kw = dict(src_offset=so, dst_offset=do, extent=ext)
    with pytest.raises(ia.CopyError):
        plan_copy(src.ep, dst.ep, queue_device=0, **kw)


# ------------------------------------------------------------------ targeted cases


def test_device_src_extent_keeps_the_memory_layout():
    """src_extent of device memory only bounds the copy: rows per slice stay the
    memory's own (a 3D 4x3x2 image read with src_extent (4, 2, 2))."""
    sim = Memcpy3DSim()
    desc = ia.ImageDescriptor(4, 3, 2, channel_type="fp32")
    dev = device_side(sim, (4, 3, 2), 4, 8, desc=desc)
    host = host_side(sim, (4, 2, 2), 4)
    run_and_compare(
        sim,
        dev,
        host,
        (0, 0, 0),
        (0, 0, 0),
        (4, 2, 2),
        src_extent=(4, 2, 2),
        dst_extent=(4, 2, 2),
        extent=(4, 2, 2),
    )


def test_1d_layered_layer_view_is_z():
    sim = Memcpy3DSim()
    desc = ia.ImageDescriptor(5, type="array", array_size=3, channel_type="fp32")
    img = image_side(sim, desc, 2)
    assert img.ep.origin == (0, 0, 2) and img.box == (5, 1, 1)
    host = host_side(sim, (5, 1, 1), 4)
    plan = run_and_compare(sim, host, img, (0, 0, 0), (0, 0, 0), (5, 1, 1))
    assert plan.dst[2:] == (0, 0, 0, 0, 2) and plan.extent == (20, 1, 1)


def test_simulator_catches_corruption():
    """The model itself: a plan one row too long, a pitch too small, an X beyond the
    array, a misaligned X, each raise."""
    sim = Memcpy3DSim()
    a = sim.add_array(4, 3, 0, 4)
    h = sim.add_linear(0, np.zeros(4 * 4 * 3, np.uint8))
    sim.memcpy3d((0, h, 16, 3, 0, 0, 0), (ARRAY, a, 0, 0, 0, 0, 0), (16, 3, 1))
    with pytest.raises(OutOfBounds):
        sim.memcpy3d((0, h, 16, 4, 0, 1, 0), (ARRAY, a, 0, 0, 0, 0, 0), (16, 3, 1))
    with pytest.raises(InvalidValue):
        sim.memcpy3d((0, h, 12, 3, 0, 0, 0), (ARRAY, a, 0, 0, 0, 0, 0), (16, 3, 1))
    with pytest.raises(OutOfBounds):
        sim.memcpy3d((0, h, 16, 3, 0, 0, 0), (ARRAY, a, 0, 0, 4, 0, 0), (16, 3, 1))
    with pytest.raises(InvalidValue):
        sim.memcpy3d((0, h, 16, 3, 0, 0, 0), (ARRAY, a, 0, 0, 2, 0, 0), (8, 1, 1))
    with pytest.raises(InvalidValue):  # Height + Y beyond the slice height, Depth 2
        sim.memcpy3d((0, h, 16, 1, 0, 1, 0), (ARRAY, a, 0, 0, 0, 0, 0), (16, 1, 2))


def test_endpoint_of_contiguous_3d_device_array_is_tightly_packed():
    """A C-contiguous (depth, height, width) device array: its row pitch is one row,
    not the first axis' stride (which is a whole slice)."""

    class FakeCuPy:
        def __init__(self, shape, dtype):
            a = np.zeros(shape, dtype)
            self.__cuda_array_interface__ = dict(
                shape=shape, typestr=a.dtype.str, data=(0xD000, False), strides=None, version=3
            )
            self.device = type("D", (), {"id": 0})()

    desc = ia.ImageDescriptor(5, 4, 3, channel_type="fp32")
    ep = endpoint(FakeCuPy((3, 4, 5), np.float32), "source")
    plan = plan_copy(ep, Endpoint(HOST, None, 0x1000, nbytes=240), desc=desc, queue_device=0)
    assert plan.src[2:4] == (20, 4)
    # layered, 4 channels: (layers, height, width, 4)
    desc = ia.ImageDescriptor(3, 2, type="array", array_size=2, channel_order="rgba")
    ep = endpoint(FakeCuPy((2, 2, 3, 4), np.float32), "source")
    plan = plan_copy(ep, Endpoint(HOST, None, 0x1000, nbytes=192), desc=desc, queue_device=0)
    assert plan.src[2:4] == (48, 2)
