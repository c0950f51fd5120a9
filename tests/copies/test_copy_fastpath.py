"""copy()'s fast path: a whole copy between memories copied between before replays
the plan the full path made, and still checks what can change between calls.

The device pieces copy() calls (get_device, get_stream, CuPy's current stream,
device_info, _run: the plan's execution with its host spans) are replaced by
recorders, so these run with or without a GPU; the endpoints are real: NumPy arrays,
CuPy arrays over unowned (never touched) pointers, and ImageArrays over a stand-in
handle. The GPU tests at the end run real copies.
"""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import imagearray as ia
from imagearray import _device
from imagearray.array import ImageArray
from imagearray.copies import endpoint, plan_copy
from imagearray.copies import executor as _copies

RGBA8 = dict(channel_order="rgba", channel_type="unorm_int8")
H, W = 48, 64
DESC = ia.ImageDescriptor(W, H, **RGBA8)  # 64x48 RGBA8: 256 B rows
ROW = W * 4
PITCH_ALIGN = 32


class _Handle:
    """An image_mem_handle stand-in: what ImageArray and endpoint() read."""

    def __init__(self, raw, desc, device=0):
        self._raw, self.desc, self.device, self.alive = raw, desc, device, True

    def raw(self):
        if not self.alive:
            raise ia.ReleasedResourceError("freed")
        return self._raw


def image(raw=0xA000, desc=DESC, device=0):
    return ImageArray._make(None, _Handle(raw, desc, device), desc)


def cupy_array(ptr=0x7F0000000000, shape=(H, W, 4), dtype=np.uint8, device=0, strides=None):
    """A real cupy.ndarray over memory that is never touched (no GPU needed)."""
    import cupy

    nbytes = max(shape[0] * (strides[0] if strides else 0), int(np.prod(shape)) * 8)
    mem = cupy.cuda.UnownedMemory(ptr, nbytes, None, device_id=device)
    return cupy.ndarray(shape, dtype, memptr=cupy.cuda.MemoryPointer(mem, 0), strides=strides)


class _Event:
    done = True

    def synchronize(self):
        pass


class Recorder:
    """Stands in for the device side of copy(): records each call."""

    def __init__(self):
        self.calls: list[tuple] = []
        self.handle = 0

    def names(self):
        return [c[0] for c in self.calls]

    def executed(self):
        return [c[1:5] for c in self.calls if c[0] == "execute"]

    def spans(self):
        return [c[5] for c in self.calls if c[0] == "execute"]


@pytest.fixture
def rec(monkeypatch):
    import cupy
    import cupy._util

    # CuPy's interface v3 looks up the current stream (a CUDA call): v2 does not.
    monkeypatch.setattr(cupy._util, "CUDA_ARRAY_INTERFACE_EXPORT_VERSION", 2)
    r = Recorder()

    def get_device(device=None):
        r.calls.append(("get_device", device))
        return 0 if device is None else device

    def get_stream(stream=None, device=None):
        r.calls.append(("get_stream", stream, device))
        return r.handle

    class Stream:
        def __init__(self, ptr):
            self.ptr = ptr

    def get_current_stream(device_id=-1):
        r.calls.append(("current_stream", device_id))
        return Stream(r.handle)

    def device_info(name, device):
        r.calls.append(("device_info", name, device))
        assert name == "image_row_pitch_align"
        return PITCH_ALIGN

    def run(plan, spans, handle, device, record=True):
        event = _Event()
        r.calls.append(("execute", plan, handle, device, event, spans))
        return event

    monkeypatch.setattr(_copies, "get_device", get_device)
    monkeypatch.setattr(_copies, "get_stream", get_stream)
    monkeypatch.setattr(_device, "get_stream", get_stream)  # behind current_stream
    monkeypatch.setattr(cupy.cuda, "get_current_stream", get_current_stream)
    monkeypatch.setattr(_copies, "device_info", device_info)
    monkeypatch.setattr(_copies, "_run", run)
    monkeypatch.setattr(_copies, "_FAST", {})
    return r


def slow_plan(src, dst, queue_device=0):
    return plan_copy(
        endpoint(src, "source"),
        endpoint(dst, "destination"),
        queue_device=queue_device,
        pitch_align=PITCH_ALIGN,
    )


# ------------------------------------------------------------------ hits


def _pairs():
    host = np.zeros((H, W, 4), np.uint8)
    return {
        "cupy->image": (cupy_array(), image()),
        "image->cupy": (image(), cupy_array()),
        "numpy->image": (host, image()),
        "image->numpy": (image(), host),
        "image->image": (image(0xA000), image(0xB000)),
    }


@pytest.mark.parametrize("name", sorted(_pairs()))
def test_a_hit_replays_the_plan_the_full_path_made(rec, name):
    src, dst = _pairs()[name]
    first = ia.copy(src, dst)
    assert rec.names()[:3] == ["get_device", "get_stream", "device_info"]
    [(plan, handle, device, event)] = rec.executed()
    assert event is first and handle == 0 and device == 0
    assert plan == slow_plan(src, dst)
    assert len(_copies._FAST) == 1

    rec.calls.clear()
    second = ia.copy(src, dst)
    # no planning, no device queries: the stream is still looked up, the copy run
    assert [c[0] for c in rec.calls] == ["current_stream", "execute"]
    assert rec.calls[0] == ("current_stream", 0)
    [(plan2, handle2, device2, event2)] = rec.executed()
    assert plan2 is plan and (handle2, device2) == (0, 0) and event2 is second
    assert len(_copies._FAST) == 1


def test_cupy_to_image_plan_values(rec):
    dev, img = cupy_array(ptr=0x7F0000001000), image(raw=0xA000)
    for _ in range(3):
        ia.copy(dev, img)
    plans = [e[0] for e in rec.executed()]
    assert plans[0] is plans[1] is plans[2]
    p = plans[0]
    assert p.src == (1, 0x7F0000001000, ROW, H, 0, 0, 0)
    assert p.dst == (2, 0xA000, 0, 0, 0, 0, 0)
    assert p.extent == (ROW, H, 1)
    assert (p.src_device, p.dst_device) == (0, 0)


def test_host_sides_are_held_on_every_hit(rec):
    """Every hit hands _run the host memory's span (its hold leaves the copy's event
    with a prepared range), as the full path did."""
    host, img = np.zeros((H, W, 4), np.uint8), image()
    out = np.empty_like(host)
    for _ in range(3):
        ia.copy(host, img)
        ia.copy(img, out)
        spans = rec.spans()[-2:]
        assert spans == [((host.ctypes.data, host.nbytes),), ((out.ctypes.data, out.nbytes),)]
    assert len(rec.executed()) == 6
    dev = cupy_array()
    ia.copy(dev, img)
    ia.copy(dev, img)
    assert rec.spans()[-1] == ()  # no host side: no hold


def test_equal_values_on_another_object_hit_and_other_values_miss(rec):
    img = image()
    ia.copy(cupy_array(ptr=0x7F0000000000), img)
    ia.copy(cupy_array(ptr=0x7F0000000000), img)  # a new array, same memory and layout
    assert len(_copies._FAST) == 1 and len(rec.executed()) == 2
    assert rec.executed()[0][0] is rec.executed()[1][0]

    moved = cupy_array(ptr=0x7F0000100000)  # e.g. another allocation of the pool
    ia.copy(moved, img)
    assert len(_copies._FAST) == 2
    assert rec.executed()[-1][0].src[1] == 0x7F0000100000

    # the same pointer with a row pitch: another layout, another (right) plan
    pitched = cupy_array(ptr=0x7F0000000000, strides=(512, 4, 1))
    ia.copy(pitched, img)
    assert len(_copies._FAST) == 3
    p = rec.executed()[-1][0]
    assert p.src == (1, 0x7F0000000000, 512, H, 0, 0, 0) and p == slow_plan(pitched, img)

    # an ImageArray view (another origin) of the same memory misses too
    layered = ia.ImageDescriptor(W, H, type="array", array_size=3, **RGBA8)
    arr = image(raw=0xC000, desc=layered)
    ia.copy(cupy_array(), arr.layer(2))
    p = rec.executed()[-1][0]
    assert p.dst == (2, 0xC000, 0, 0, 0, 0, 2) and len(_copies._FAST) == 4


def test_an_equal_descriptor_object_is_another_key_with_an_equal_plan(rec):
    dev = cupy_array()
    ia.copy(dev, image(desc=DESC))
    twin = ia.ImageDescriptor(W, H, **RGBA8)
    assert twin == DESC and twin is not DESC
    ia.copy(dev, image(desc=twin))
    assert len(_copies._FAST) == 2
    a, b = (e[0] for e in rec.executed())
    assert a == b
    # the entries hold the descriptors, so the ids in their keys stay theirs
    held = [v[3:] for v in _copies._FAST.values()]
    assert any(twin in h for h in held) and any(DESC in h for h in held)


# ------------------------------------------------------------------ what is still checked


def test_a_freed_image_still_raises_where_a_hit_was(rec):
    dev, img = cupy_array(), image()
    ia.copy(dev, img)
    ia.copy(img, dev)
    img._handle.alive = False
    rec.calls.clear()
    with pytest.raises(ia.ReleasedResourceError, match="already freed"):
        ia.copy(dev, img)
    with pytest.raises(ia.ReleasedResourceError, match="already freed"):
        ia.copy(img, dev)
    assert rec.executed() == []


def test_a_read_only_destination_is_refused_every_time(rec):
    img = image()
    out = np.zeros((H, W, 4), np.uint8)
    ia.copy(img, out)
    assert len(_copies._FAST) == 1
    out.flags.writeable = False  # same memory, now read-only: another key
    for _ in range(2):
        with pytest.raises(ia.CopyError, match="read-only"):
            ia.copy(img, out)
    assert len(_copies._FAST) == 1 and len(rec.executed()) == 1


def test_refused_copies_are_not_remembered(rec):
    img = image()
    small = np.zeros((H, W - 1, 4), np.uint8)
    wrong = cupy_array(shape=(H, W, 2), dtype=np.uint16)  # RG16 image: not this one
    for _ in range(2):
        with pytest.raises(ia.CopyError) as info:
            ia.copy(small, img)
        assert info.value.scenario == 2
        with pytest.raises(ia.CopyError) as info:
            ia.copy(wrong, img)
        assert info.value.scenario == 2
        with pytest.raises(ia.CopyError, match="C-contiguous"):
            ia.copy(np.zeros((H, 2 * W, 4), np.uint8)[:, ::2], img)
    assert _copies._FAST == {} and rec.executed() == []


def test_the_stream_is_looked_up_and_checked_on_every_hit(rec):
    dev, img = cupy_array(), image()
    ia.copy(dev, img)
    rec.calls.clear()
    for default in (0, 1, 2):  # the current context's default streams: taken as they are
        rec.handle = default
        ia.copy(dev, img)
        assert rec.executed()[-1][1:3] == (default, 0)
    assert "get_stream" not in rec.names()
    rec.handle = 0x5000  # another current stream: get_stream checks its device
    ia.copy(dev, img)
    assert rec.calls[-2][0] == "get_stream" and rec.calls[-2][1:] == (None, 0)
    assert rec.executed()[-1][1:3] == (0x5000, 0)

    def mismatched(stream=None, device=None):
        raise ia.DeviceMismatchError("stream belongs to device 1, the operation to 0")

    _device.get_stream = mismatched  # restored by the fixture's monkeypatch
    with pytest.raises(ia.DeviceMismatchError):
        ia.copy(dev, img)
    assert len(rec.executed()) == 4


def test_cupy_failing_on_a_hit_is_reported_as_get_stream_reports_it(rec, monkeypatch):
    import cupy

    dev, img = cupy_array(), image()
    ia.copy(dev, img)

    def broken(device_id=-1):
        raise RuntimeError("no device")

    def unavailable(stream=None, device=None):
        raise ia.CUDAUnavailableError("CuPy cannot use a CUDA device: no device")

    monkeypatch.setattr(cupy.cuda, "get_current_stream", broken)
    monkeypatch.setattr(_device, "get_stream", unavailable)
    with pytest.raises(ia.CUDAUnavailableError, match="CuPy cannot use"):
        ia.copy(dev, img)
    assert len(rec.executed()) == 1


def test_peer_copies_replay_their_queue_device(rec):
    dev1, img0 = cupy_array(device=1), image(device=0)
    for _ in range(2):
        ia.copy(dev1, img0)
        ia.copy(img0, dev1)
    to_img, to_dev, to_img2, to_dev2 = rec.executed()
    assert to_img[0] is to_img2[0] and to_dev[0] is to_dev2[0]
    assert to_img[0].is_peer and to_img[2] == 0 and to_img2[2] == 0  # the destination's
    assert to_dev[2] == 1 and to_dev2[2] == 1
    assert [c for c in rec.calls if c[0] == "current_stream"][-2:] == [
        ("current_stream", 0),
        ("current_stream", 1),
    ]


def test_stream_takes_the_full_path_every_time(rec):
    dev, img = cupy_array(), image()
    for _ in range(2):
        ia.copy(dev, img, stream=0)
    assert rec.names().count("device_info") == 2
    assert _copies._FAST == {}
    a, b = (e[0] for e in rec.executed())
    assert a == b == slow_plan(dev, img)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(extent=(W, H)),
        dict(extent=[W, H]),
        dict(src_offset=0),
        dict(desc=DESC),
        dict(device_row_pitch=ROW),
        dict(src_offset=(3, 2), dst_offset=(1, 4), extent=(9, 7)),
    ],
    ids=lambda k: "-".join(k),
)
def test_keywords_of_plain_values_hit(rec, kwargs):
    dev, img = cupy_array(), image()
    for _ in range(3):
        ia.copy(dev, img, **kwargs)
    assert rec.names().count("device_info") == 1  # planned once
    assert len(_copies._FAST) == 1
    a, b, c = (e[0] for e in rec.executed())
    assert a is b is c
    assert a == plan_copy(
        endpoint(dev, "source"),
        endpoint(img, "destination"),
        queue_device=0,
        pitch_align=PITCH_ALIGN,
        **kwargs,
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(extent=(np.int64(W), H)),  # NumPy integers: the key does not cover them
        dict(src_offset=np.int32(0)),
        dict(extent=range(1, 3)),
    ],
    ids=["numpy-int-in-tuple", "numpy-int", "range"],
)
def test_keywords_of_other_types_take_the_full_path(rec, kwargs):
    dev, img = cupy_array(), image()
    for _ in range(2):
        try:
            ia.copy(dev, img, **kwargs)
        except ia.CopyError:
            pass
    assert _copies._FAST == {}


def test_each_keyword_value_is_its_own_entry(rec):
    dev, img = cupy_array(), image()
    ia.copy(dev, img, src_offset=(0, 0), dst_offset=(1, 1), extent=(8, 8))
    ia.copy(dev, img, src_offset=(0, 0), dst_offset=(2, 1), extent=(8, 8))
    a, b = (e[0] for e in rec.executed())
    assert a.dst[4:] == (4, 1, 0) and b.dst[4:] == (8, 1, 0)
    assert len(_copies._FAST) == 2
    # a refusal of one value is not hidden by the entry of another
    with pytest.raises(ia.CopyError) as info:
        ia.copy(dev, img, src_offset=(0, 0), dst_offset=(W - 7, 1), extent=(8, 8))
    assert info.value.scenario == 8
    # an int where a descriptor goes is refused, whatever ids the memo holds
    ia.copy(dev, img, desc=DESC, extent=(4, 4))
    with pytest.raises(ia.ImageArrayTypeError):
        ia.copy(dev, img, desc=id(DESC), extent=(4, 4))
    assert len(_copies._FAST) == 3


def test_a_cached_subregion_plan_still_refuses_a_freed_or_changed_target(rec):
    img = image()
    out = np.zeros((8, 8, 4), np.uint8)
    kw = dict(src_offset=(5, 6), extent=(8, 8))
    ia.copy(img, out, **kw)
    ia.copy(img, out, **kw)
    assert len(rec.executed()) == 2 and len(_copies._FAST) == 1
    out.flags.writeable = False
    with pytest.raises(ia.CopyError, match="read-only"):
        ia.copy(img, out, **kw)
    smaller = np.zeros((8, 7, 4), np.uint8)  # a new array, 8 texels do not fit its rows
    with pytest.raises(ia.CopyError) as info:
        ia.copy(img, smaller, **kw)
    assert info.value.scenario == 3
    img._handle.alive = False
    with pytest.raises(ia.ReleasedResourceError, match="already freed"):
        ia.copy(img, np.zeros((8, 8, 4), np.uint8), **kw)
    assert len(rec.executed()) == 2


def test_other_memory_types_take_the_full_path(rec):
    img = image()

    class Sub(np.ndarray):
        pass

    buf = bytearray(H * W * 4)  # a host buffer, not a NumPy array
    sub = np.zeros((H, W, 4), np.uint8).view(Sub)  # a subclass: not an exact ndarray
    for src in (buf, sub):
        for _ in range(2):
            ia.copy(src, img)
    assert rec.names().count("device_info") == 4
    assert _copies._FAST == {}


# ------------------------------------------------------------------ bounded, holds no arrays


def test_the_memo_is_bounded(rec, monkeypatch):
    monkeypatch.setattr(_copies, "_FAST_MAX", 4)
    img = image()
    for i in range(11):
        ia.copy(cupy_array(ptr=0x7F0000000000 + i * 0x100000), img)
        assert 1 <= len(_copies._FAST) <= 4
    # still right after being emptied
    ia.copy(cupy_array(ptr=0x7F0000000000), img)
    assert rec.executed()[-1][0].src[1] == 0x7F0000000000


def test_the_memo_keeps_no_array_alive(rec):
    img = image()
    dev, host = cupy_array(), np.zeros((H, W, 4), np.uint8)
    ia.copy(dev, img)
    ia.copy(host, img)
    ia.copy(img, host)
    refs = [weakref.ref(dev), weakref.ref(host), weakref.ref(img)]
    rec.calls.clear()  # the recorder holds nothing of them either
    del dev, host, img
    gc.collect()
    assert [r() for r in refs] == [None, None, None]
    assert len(_copies._FAST) == 3


# ------------------------------------------------------------------ execute


class _FakeCy:
    def __init__(self, log):
        self.log = log

    def memcpy3d(self, device, stream, src, dst, extent):
        self.log.append(("memcpy3d", device, stream, src, dst, extent))

    def memcpy3d_peer(self, src_device, dst_device, stream, src, dst, extent):
        self.log.append(("memcpy3d_peer", src_device, dst_device, stream, src, dst, extent))


@pytest.fixture
def fake_cuda(monkeypatch):
    """CuPy's device and event, the driver's cuEventRecord and the Cython executor, as
    recorders."""
    import cupy

    from imagearray import _driver

    log: list[tuple] = []
    current = [0]

    class Event:
        def __init__(self, block=False, disable_timing=False, interprocess=False):
            log.append(("Event", block, disable_timing, current[0]))
            self.ptr = 0xE000 + len(log)

    class Device:
        def __init__(self, device):
            self.id = device

        def __enter__(self):
            log.append(("Device.enter", self.id))
            self.prev, current[0] = current[0], self.id

        def __exit__(self, *exc):
            log.append(("Device.exit", self.id))
            current[0] = self.prev

    monkeypatch.setattr(cupy.cuda, "Event", Event)
    monkeypatch.setattr(cupy.cuda, "Device", Device)
    monkeypatch.setattr(cupy.cuda.runtime, "getDevice", lambda: current[0])
    monkeypatch.setattr(_driver, "record_event", lambda ev, s: log.append(("eventRecord", ev, s)))
    monkeypatch.setattr(_copies, "_cy", _FakeCy(log))
    return log, current, Event


def _plan(src_device=0, dst_device=0):
    return _copies.CopyPlan(
        src=(1, 0xD000, ROW, H, 0, 0, 0),
        dst=(2, 0xA000, 0, 0, 0, 0, 0),
        extent=(ROW, H, 1),
        src_device=src_device,
        dst_device=dst_device,
    )


def test_execute_on_the_current_device_switches_nothing(fake_cuda):
    log, current, Event = fake_cuda
    p = _plan()
    event = _copies.execute(p, 0x5000, 0)
    assert isinstance(event, Event)
    assert log == [
        ("memcpy3d", 0, 0x5000, p.src, p.dst, p.extent),
        ("Event", False, True, 0),
        ("eventRecord", event.ptr, 0x5000),  # recorded after the copy, on its stream
    ]


def test_execute_on_another_device_enters_it(fake_cuda):
    log, current, Event = fake_cuda
    current[0] = 1
    p = _plan(1, 0)  # peer: device 1 memory to a device 0 image, on a device 0 stream
    event = _copies.execute(p, 0x5000, 0)
    assert log == [
        ("Device.enter", 0),
        ("memcpy3d_peer", 1, 0, 0x5000, p.src, p.dst, p.extent),
        ("Event", False, True, 0),  # made on the queue's device
        ("eventRecord", event.ptr, 0x5000),
        ("Device.exit", 0),
    ]
    assert current[0] == 1


def _host_image_plan(address, pitch, width, rows, depth=1, x_bytes=0, y=0, to_image=True):
    host = (0, address, pitch, rows, x_bytes, y, 0)
    img = (2, 0xA000, 0, 0, 0, 0, 0)
    return _copies.CopyPlan(
        src=host if to_image else img,
        dst=img if to_image else host,
        extent=(width, rows, depth),
        src_device=None if to_image else 0,
        dst_device=0 if to_image else None,
    )


@pytest.mark.parametrize("to_image", [True, False])
def test_misaligned_host_rows_split_off_a_head(fake_cuda, monkeypatch, to_image):
    log, _, _ = fake_cuda
    checked = []
    monkeypatch.setattr(_copies, "is_prepared", lambda a, n: checked.append((a, n)) or True)
    # NumPy's large arrays start 16 bytes past a page: 48 bytes to the next line
    p = _host_image_plan(0x7F0000000010, 32768, 32768, 64, to_image=to_image)
    _copies.execute(p, 0x5000, 0)
    copies = [e for e in log if e[0] == "memcpy3d"]
    assert len(copies) == 2
    shift = lambda side: side[:4] + (side[4] + 48,) + side[5:]  # noqa: E731
    # the body: both sides 48 bytes in, so the host rows start on a 64-byte line
    assert copies[0] == ("memcpy3d", 0, 0x5000, shift(p.src), shift(p.dst), (32768 - 48, 64, 1))
    host = copies[0][3] if to_image else copies[0][4]
    assert (host[1] + host[4]) % 64 == 0
    # the head: the first 48 bytes of every row, in place
    assert copies[1] == ("memcpy3d", 0, 0x5000, p.src, p.dst, (48, 64, 1))
    # the host memory must be prepared: the whole span of its rows is looked up
    assert checked == [(0x7F0000000010, 64 * 32768)]


@pytest.mark.parametrize("to_image", [True, False])
def test_pageable_host_memory_is_not_split(fake_cuda, monkeypatch, to_image):
    log, _, _ = fake_cuda
    monkeypatch.setattr(_copies, "is_prepared", lambda a, n: False)
    p = _host_image_plan(0x7F0000000010, 32768, 32768, 64, to_image=to_image)
    _copies.execute(p, 0x5000, 0)
    assert [e for e in log if e[0] == "memcpy3d"] == [
        ("memcpy3d", 0, 0x5000, p.src, p.dst, p.extent)
    ]


@pytest.mark.parametrize(
    "address, pitch, width, rows, x_bytes, why",
    [
        (0x7F0000000000, 32768, 32768, 64, 0, "aligned"),
        (0x7F0000000040, 32768, 32768, 64, 64, "aligned after the offset"),
        (0x7F0000000010, 32768, 4096, 64, 0, "under 1 MiB"),
        (0x7F0000000008, 32768, 32768, 64, 0, "head not a multiple of 16 bytes"),
        (0x7F0000000010, 32768 + 16, 32768, 64, 0, "rows misaligned differently"),
        (0x7F0000000010, 1 << 22, 128, 8192, 0, "rows too narrow for a head"),
    ],
)
def test_host_rows_kept_in_one_copy(
    fake_cuda, monkeypatch, address, pitch, width, rows, x_bytes, why
):
    log, _, _ = fake_cuda
    monkeypatch.setattr(_copies, "is_prepared", lambda a, n: True)
    p = _host_image_plan(address, pitch, width, rows, x_bytes=x_bytes)
    _copies.execute(p, 0x5000, 0)
    assert [e for e in log if e[0] == "memcpy3d"] == [
        ("memcpy3d", 0, 0x5000, p.src, p.dst, p.extent)
    ], why


def test_device_copies_are_never_split(fake_cuda):
    log, _, _ = fake_cuda
    p = _copies.CopyPlan(
        src=(1, 0xD010, 32768, 64, 0, 0, 0),
        dst=(2, 0xA000, 0, 0, 0, 0, 0),
        extent=(32768, 64, 1),
        src_device=0,
        dst_device=0,
    )
    _copies.execute(p, 0x5000, 0)
    assert len([e for e in log if e[0] == "memcpy3d"]) == 1


# ------------------------------------------------------------------ on a GPU


@pytest.mark.gpu
def test_gpu_repeated_copies_move_the_right_bytes():
    import cupy

    _copies._FAST.clear()
    rng = np.random.default_rng(3)
    host = rng.integers(0, 256, (H, W, 4), dtype=np.uint8)
    img = ia.empty((H, W, 4), np.uint8, 4, normalized=True)
    for i in range(3):
        data = cupy.asarray(host + i)
        out = cupy.zeros_like(data)
        ev = ia.copy(data, img)
        assert isinstance(ev, cupy.cuda.Event)
        ia.copy(img, out).synchronize()
        np.testing.assert_array_equal(out.get(), host + i)
        back = np.zeros_like(host)
        ia.copy(img, back).synchronize()
        np.testing.assert_array_equal(back, host + i)
    plans = [v[0] for v in _copies._FAST.values()]
    assert any(p.dst[0] == 2 and p.src[0] == 1 for p in plans)
    img.mem.free()
    with pytest.raises(ia.ReleasedResourceError):
        ia.copy(data, img)
    with pytest.raises(ia.ReleasedResourceError):
        ia.copy(img, out)


@pytest.mark.gpu
def test_gpu_a_failing_memcpy_still_names_the_copy():
    import cupy

    from imagearray import _copy

    a = cupy.zeros(4096, cupy.uint8)
    b = cupy.zeros(4096, cupy.uint8)
    with cupy.cuda.Device(a.device.id):
        # rows of 128 B with a pitch of 64 B: the driver refuses it
        with pytest.raises(ia.CUDAError, match=r"cuMemcpy3DAsync\(128 B x 2 x 1\)"):
            _copy.memcpy3d(
                a.device.id,
                0,
                (1, a.data.ptr, 64, 2, 0, 0, 0),
                (1, b.data.ptr, 64, 2, 0, 0, 0),
                (128, 2, 1),
            )


@pytest.mark.gpu
@pytest.mark.parametrize("offset", [16, 32, 48])
def test_gpu_misaligned_host_rows_copy_exactly(offset):
    # prepared, 1 MiB and more: image <-> host goes as an aligned body plus a head per row
    rng = np.random.default_rng(offset)
    h, w = 1024, 512  # RGBA8: rows of 2048 bytes, 2 MiB
    src = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
    raw = np.empty(src.nbytes + 128, np.uint8)
    start = (-raw.ctypes.data) % 64 + offset
    host = raw[start : start + src.nbytes].reshape(src.shape)
    host[...] = src
    img = ia.empty((h, w, 4), np.uint8, 4, normalized=True)
    plan = _copies.plan_copy(_copies.endpoint(img, "source"), _copies.endpoint(host, "destination"))
    assert _copies._head_bytes(plan) == 0  # pageable: one copy, the driver stages it
    ia.copy(host, img).synchronize()
    np.testing.assert_array_equal(img.get(), src)
    host[...] = 0
    ia.copy(img, host).synchronize()
    np.testing.assert_array_equal(host, src)
    # prepared (asynchronous), and a sub-region of the image into a new host array
    with ia.prepared_for_device_copy(host):
        plan = _copies.plan_copy(
            _copies.endpoint(host, "source"), _copies.endpoint(img, "destination")
        )
        assert _copies._head_bytes(plan) == 64 - offset  # prepared: aligned body + head
        back = _copies.plan_copy(
            _copies.endpoint(img, "source"), _copies.endpoint(host, "destination")
        )
        assert _copies._head_bytes(back) == 64 - offset
        ia.copy(np.zeros_like(src), img)
        ia.copy(host, img).synchronize()
        np.testing.assert_array_equal(img.get(), src)
        host[...] = 0
        ia.copy(img, host).synchronize()
        np.testing.assert_array_equal(host, src)
        sub = np.zeros((h - 8, w - 16, 4), np.uint8)
        ia.copy(img, sub, src_offset=(16, 8, 0), extent=(w - 16, h - 8, 1)).synchronize()
        np.testing.assert_array_equal(sub, src[8:, 16:])
