"""GPU tests of copy optimize: prepared host memory (cuMemHostRegister, portable).

- identical bytes through every copy path from and into prepared memory;
- asynchrony is real: a copy from or into prepared memory returns before it
  completes, seen on a CUDA event (and, with a spin kernel ahead of it on the
  stream, the call returns long before the kernel could have let it run);
- every misuse raises, with the real driver underneath.

Tests of the copy()/ImageArray integration (release waits for imagearray's copies,
``ImageArray.set`` from prepared memory without a synchronize, ``get(out=...,
blocking=False)``) skip with a reason until that integration is in place.
"""

from __future__ import annotations

import gc
import inspect
import time
import weakref

import numpy as np
import pytest

import imagearray as ia
import imagearray.copies.hostmem as co
from imagearray._errors import CUDAError, DeviceMismatchError, ReleasedResourceError

pytestmark = pytest.mark.gpu

MiB = 1 << 20

_SPIN_SRC = r"""
__device__ __forceinline__ unsigned long long ia_test_now() {
    unsigned long long t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    return t;
}
extern "C" __global__ void ia_test_spin(unsigned long long ns) {
    unsigned long long t0 = ia_test_now();
    while (ia_test_now() - t0 < ns) { }
}
"""

_GET_HAS_BLOCKING = "blocking" in inspect.signature(ia.ImageArray.get).parameters


def spin(ms: float, stream=None) -> None:
    """Keep ``stream`` (default: current) busy for ``ms`` milliseconds."""
    import cupy

    kernel = cupy.RawKernel(_SPIN_SRC, "ia_test_spin")
    kernel((1,), (1,), (np.uint64(int(ms * 1e6)),), stream=stream)


def is_page_locked(address: int) -> bool:
    import cupy

    attrs = cupy.cuda.runtime.pointerGetAttributes(address)
    return attrs.type == cupy.cuda.runtime.memoryTypeHost


def random_bytes(rng, shape, dtype=np.uint8):
    n = int(np.prod(shape)) * np.dtype(dtype).itemsize
    return rng.integers(0, 256, n, dtype=np.uint8).view(dtype).reshape(shape)


def same_bytes(a, b):
    np.testing.assert_array_equal(
        np.ascontiguousarray(a).view(np.uint8), np.ascontiguousarray(b).view(np.uint8)
    )


@pytest.fixture(autouse=True)
def nothing_left_prepared():
    yield
    leaked = co.prepared_host_ranges()
    for r in leaked:
        co.release_from_device_copy(r.address)
    assert leaked == [], "a test left host memory prepared"


@pytest.fixture
def warm():
    """Compile the spin kernel and make the first copy before anything is timed."""
    import cupy

    spin(0.01)
    a = np.zeros((8, 8, 4), np.uint8)
    d = cupy.asarray(a)
    ia.copy(a, d).synchronize()
    ia.copy(d, a).synchronize()
    cupy.cuda.get_current_stream().synchronize()


# ------------------------------------------------------------------ registration


def test_prepare_page_locks_and_release_unlocks():
    a = np.zeros(4 * MiB + 123, np.uint8)
    assert not is_page_locked(a.ctypes.data)
    assert co.prepare_for_device_copy(a) is None
    assert is_page_locked(a.ctypes.data)
    assert is_page_locked(a.ctypes.data + a.nbytes - 1)
    (r,) = co.prepared_host_ranges()
    assert (r.address, r.nbytes) == (a.ctypes.data, a.nbytes)
    co.release_from_device_copy(a)
    assert not is_page_locked(a.ctypes.data)


@pytest.mark.parametrize(
    "make",
    [
        lambda: bytearray(3 * MiB + 7),
        lambda: np.zeros((301, 517), np.float32).T,
        lambda: np.zeros(MiB, np.uint16)[::-1],
    ],
)
def test_buffers_and_views_are_registered(make):
    obj = make()
    with co.prepared_for_device_copy(obj) as got:
        assert got is obj
        (r,) = co.prepared_host_ranges()
        assert is_page_locked(r.address) and is_page_locked(r.address + r.nbytes - 1)
    assert not is_page_locked(r.address)


def test_pointer_and_size():
    a = np.zeros(2 * MiB, np.uint8)
    co.prepare_for_device_copy(a.ctypes.data, a.nbytes, device_or_context=0)
    assert is_page_locked(a.ctypes.data)
    co.release_from_device_copy(a.ctypes.data, a.nbytes, device_or_context=0)
    assert not is_page_locked(a.ctypes.data)


def test_stream_as_context():
    import cupy

    s = cupy.cuda.Stream(non_blocking=True)
    a = np.zeros(MiB, np.uint8)
    co.prepare_for_device_copy(a, device_or_context=s)
    assert co.prepared_host_ranges()[0].device.id == s.device_id
    co.release_from_device_copy(a, device_or_context=cupy.cuda.Device(s.device_id))


def test_same_page_neighbours_register_independently():
    # Disjoint byte ranges on one page: the driver tracks exact ranges, so does the registry.
    base = np.zeros(4096 * 4, np.uint8)
    a, b = base[100:1000], base[1000:3000]
    co.prepare_for_device_copy(a)
    co.prepare_for_device_copy(b)
    co.release_from_device_copy(a)
    assert is_page_locked(b.ctypes.data)
    co.release_from_device_copy(b)


# ------------------------------------------------------------------ identical bytes


H, W = 517, 264  # W * 4 B is a multiple of the 32 B pitch alignment of CuPy destinations


@pytest.mark.parametrize("dtype, channels", [(np.uint8, 4), (np.float32, 1), (np.uint16, 2)])
def test_identical_bytes_cupy_array(rng, dtype, channels):
    import cupy

    shape = (H, W, channels) if channels > 1 else (H, W)
    src = random_bytes(rng, shape, dtype)
    back = np.zeros_like(src)
    dev = cupy.zeros(shape, dtype)
    with co.prepared_for_device_copy(src), co.prepared_for_device_copy(back):
        ia.copy(src, dev).synchronize()
        same_bytes(dev.get(), src)
        ia.copy(dev, back).synchronize()
        same_bytes(back, src)
        # CuPy's own copies use the page-locked memory too
        dev2 = cupy.asarray(src)
        back[...] = 0
        dev2.get(out=back)
        same_bytes(back, src)


@pytest.mark.parametrize("dtype, channels", [(np.uint8, 4), (np.float32, 1), (np.int16, 2)])
def test_identical_bytes_image(rng, dtype, channels):
    h, w = 259, 301
    shape = (h, w, channels) if channels > 1 else (h, w)
    src = random_bytes(rng, shape, dtype)
    back = np.zeros_like(src)
    img = ia.empty(shape, dtype, channels)
    with co.prepared_for_device_copy(src), co.prepared_for_device_copy(back):
        ia.copy(src, img).synchronize()
        ia.copy(img, back).synchronize()
        same_bytes(back, src)
        back[...] = 0
        img.set(src)
        out = img.get(out=back)
        assert out is back
        same_bytes(back, src)
        img2 = ia.asimage(src, channels=channels)
        same_bytes(img2.get(), src)


def test_identical_bytes_subregion_of_prepared_memory(rng):
    src = random_bytes(rng, (64, 96, 4))
    part = np.zeros((10, 20, 4), np.uint8)
    img = ia.empty((64, 96, 4), np.uint8, 4)
    with co.prepared_for_device_copy(src), co.prepared_for_device_copy(part):
        ia.copy(src, img).synchronize()
        ia.copy(img, part, src_offset=(30, 40), extent=(20, 10)).synchronize()
    same_bytes(part, src[40:50, 30:50])


def test_identical_bytes_prepared_by_pointer(rng):
    import cupy

    src = random_bytes(rng, (H, W, 4))
    dev = cupy.empty_like(src)
    co.prepare_for_device_copy(src.ctypes.data, src.nbytes)
    try:
        ia.copy(src, dev).synchronize()
    finally:
        co.release_from_device_copy(src.ctypes.data)
    same_bytes(dev.get(), src)


# ------------------------------------------------------------------ asynchrony


def test_copy_from_prepared_memory_returns_before_it_completes(rng, warm):
    """The issue's check: a big prepared buffer copied into a CuPy array; the call
    returns with the event still pending."""
    import cupy

    shape = (8192, 16384, 4)  # 512 MiB
    src = np.empty(shape, np.uint8)
    src[:, :, 0] = 7
    src[:, :, 1:] = rng.integers(0, 256, 3, dtype=np.uint8)
    dev = cupy.empty(shape, np.uint8)
    with co.prepared_for_device_copy(src):
        t0 = time.perf_counter()
        event = ia.copy(src, dev)
        returned = time.perf_counter() - t0
        done_at_return = event.done
        event.synchronize()
        finished = time.perf_counter() - t0
    assert not done_at_return, (
        f"the copy had completed when ia.copy returned ({returned * 1e3:.2f} ms; "
        f"{finished * 1e3:.2f} ms to finish): copies from prepared memory must be asynchronous"
    )
    assert returned < finished
    same_bytes(dev[::1024, ::1024].get(), src[::1024, ::1024])
    assert int((dev[:, :, 0] != 7).sum()) == 0


@pytest.mark.parametrize("direction", ["h2d", "d2h"])
@pytest.mark.parametrize("target", ["cupy", "image"])
def test_prepared_copies_do_not_wait_for_the_stream(rng, warm, direction, target):
    """With a 300 ms kernel ahead on the stream, a copy from or into prepared memory
    returns at once; its event completes only after the kernel."""
    import cupy

    shape = (1024, 1024, 4)
    host = random_bytes(rng, shape)
    expect = host.copy()
    dev = cupy.asarray(host) if direction == "d2h" else cupy.zeros(shape, np.uint8)
    if target == "image":
        if direction == "d2h":
            dev_side = ia.asimage(dev, channels=4)
        else:
            dev_side = ia.empty(shape[:2] + (4,), np.uint8, 4)
    else:
        dev_side = dev
    cupy.cuda.get_current_stream().synchronize()  # the copies below run on another stream
    if direction == "d2h":
        host[...] = 0
    stream = cupy.cuda.Stream(non_blocking=True)
    with co.prepared_for_device_copy(host):
        spin(300, stream)
        t0 = time.perf_counter()
        if direction == "h2d":
            event = ia.copy(host, dev_side, stream=stream)
        else:
            event = ia.copy(dev_side, host, stream=stream)
        returned = time.perf_counter() - t0
        assert not event.done
        assert returned < 0.1, f"the call took {returned * 1e3:.1f} ms: it waited for the stream"
        event.synchronize()
    same_bytes(dev_side.get() if direction == "h2d" else host, expect)


@pytest.mark.multigpu
def test_registration_is_portable_to_another_device(rng):
    import cupy

    src = random_bytes(rng, (512, 512, 4))
    with co.prepared_for_device_copy(src, device_or_context=0):
        with cupy.cuda.Device(1):
            assert is_page_locked(src.ctypes.data)
            spin(1)
            dev = cupy.empty(src.shape, np.uint8)
            stream = cupy.cuda.Stream(non_blocking=True)
            spin(300, stream)
            event = ia.copy(src, dev, stream=stream)
            assert not event.done  # asynchronous on device 1 too: page-locked there
            event.synchronize()
            same_bytes(dev.get(), src)


# ------------------------------------------------------------------ integration


def _copy_tracks_prepared_memory() -> bool:
    a = np.zeros((8, 8, 4), np.uint8)
    import cupy

    d = cupy.asarray(a)
    with co.prepared_for_device_copy(a):
        ia.copy(a, d).synchronize()
        return bool(co._registry.by_start[a.ctypes.data].pending)


def test_release_waits_for_copies_in_flight(rng, warm):
    import cupy

    if not _copy_tracks_prepared_memory():
        pytest.skip("copy() does not call _copy_optimize.note_copy yet (integration pending)")
    host = random_bytes(rng, (1024, 1024, 4))
    dev = cupy.empty_like(host)
    stream = cupy.cuda.Stream(non_blocking=True)
    co.prepare_for_device_copy(host)
    spin(200, stream)
    event = ia.copy(host, dev, stream=stream)
    assert not event.done
    co.release_from_device_copy(host)
    assert event.done, "release must wait for the copies imagearray enqueued on the range"
    same_bytes(dev.get(), host)


@pytest.mark.skipif(not _GET_HAS_BLOCKING, reason="ImageArray.get(blocking=...) not there yet")
def test_image_get_into_prepared_out_without_blocking(rng, warm):
    import cupy

    src = random_bytes(rng, (1024, 1024, 4))
    img = ia.asimage(src, channels=4)
    out = np.zeros_like(src)
    stream = cupy.cuda.Stream(non_blocking=True)
    with co.prepared_for_device_copy(out):
        spin(300, stream)
        t0 = time.perf_counter()
        got = img.get(stream=stream, out=out, blocking=False)
        assert time.perf_counter() - t0 < 0.1
        assert got is out
        assert not stream.done
        stream.synchronize()
    same_bytes(out, src)


@pytest.mark.skipif(not _GET_HAS_BLOCKING, reason="prepared fast path of ImageArray not there yet")
@pytest.mark.parametrize("how", ["set", "asimage"])
def test_image_writes_from_prepared_memory_are_asynchronous(rng, warm, how):
    import cupy

    src = random_bytes(rng, (1024, 1024, 4))
    stream = cupy.cuda.Stream(non_blocking=True)
    with co.prepared_for_device_copy(src):
        if how == "set":
            img = ia.empty((1024, 1024, 4), np.uint8, 4)
        spin(300, stream)
        t0 = time.perf_counter()
        if how == "set":
            img.set(src, stream=stream)
        else:
            img = ia.asimage(src, channels=4, stream=stream)
        assert time.perf_counter() - t0 < 0.1, "set/asimage waited for a prepared-memory copy"
        assert not stream.done
        stream.synchronize()
    same_bytes(img.get(), src)


def test_pageable_writes_still_synchronize(rng, warm):
    """Without preparation ImageArray.set must still wait (its source may be a temporary)."""
    import cupy

    src = random_bytes(rng, (256, 256, 4))
    img = ia.empty((256, 256, 4), np.uint8, 4)
    stream = cupy.cuda.Stream(non_blocking=True)
    spin(100, stream)
    img.set(src, stream=stream)
    assert stream.done
    same_bytes(img.get(), src)


# ------------------------------------------------------------------ misuse


def test_overlap_raises_with_the_driver_untouched():
    base = np.zeros(8 * MiB, np.uint8)
    co.prepare_for_device_copy(base[: 4 * MiB])
    with pytest.raises(co.HostMemoryOverlapError, match="overlaps"):
        co.prepare_for_device_copy(base[4 * MiB - 1 :])
    with pytest.raises(co.HostMemoryOverlapError, match="already prepared"):
        co.prepare_for_device_copy(base[: 4 * MiB], device_or_context=0)
    assert not is_page_locked(base.ctypes.data + 5 * MiB)
    assert len(co.prepared_host_ranges()) == 1
    co.release_from_device_copy(base)
    assert not is_page_locked(base.ctypes.data)


def test_release_misuse_raises():
    a = np.zeros(MiB, np.uint8)
    # Never prepared, even where malloc reuses the address of a range released
    # earlier in this process (seen on the H100): the owning object tells them apart.
    with pytest.raises(co.HostMemoryNotPreparedError, match="never prepared") as info:
        co.release_from_device_copy(a)
    assert not isinstance(info.value, co.HostMemoryAlreadyReleasedError)
    co.prepare_for_device_copy(a)
    with pytest.raises(co.HostMemoryNotPreparedError, match="lies inside"):
        co.release_from_device_copy(a[4096:])
    with pytest.raises(ia.ImageArrayValueError, match="does not match"):
        co.release_from_device_copy(a, 100)
    assert is_page_locked(a.ctypes.data)
    co.release_from_device_copy(a)
    with pytest.raises(co.HostMemoryAlreadyReleasedError):
        co.release_from_device_copy(a)
    with pytest.raises(ReleasedResourceError):
        co.release_from_device_copy(a.ctypes.data)
    with pytest.raises(co.HostMemoryAlreadyReleasedError, match="inside it"):
        with co.prepared_for_device_copy(a):
            co.release_from_device_copy(a)
    assert not is_page_locked(a.ctypes.data)


def test_device_memory_is_refused():
    import cupy

    with pytest.raises(ia.ImageArrayTypeError, match="device memory"):
        co.prepare_for_device_copy(cupy.zeros(10))


def test_memory_registered_outside_the_registry_is_an_overlap():
    from imagearray import _hostmem

    a = np.zeros(MiB, np.uint8)
    raw = _hostmem.register(a, a.ctypes.data, a.nbytes, 0)  # bypasses the registry
    try:
        with pytest.raises(co.HostMemoryOverlapError, match="outside imagearray") as info:
            co.prepare_for_device_copy(a)
        assert isinstance(info.value.__cause__, CUDAError)
        assert info.value.__cause__.name == "CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED"
        assert co.prepared_host_ranges() == []
    finally:
        raw.free()
    assert not is_page_locked(a.ctypes.data)


def test_cuda_malloc_host_memory_is_handled():
    """Memory from cudaMallocHost is already page-locked: preparing it either is
    refused as an overlap (the driver reports it as already registered) or succeeds
    and releases cleanly; nothing else. Which one is the driver's call."""
    import cupyx

    p = cupyx.empty_pinned(MiB, np.uint8)
    try:
        co.prepare_for_device_copy(p)
    except co.HostMemoryOverlapError:
        assert co.prepared_host_ranges() == []
    else:
        co.release_from_device_copy(p)
    assert is_page_locked(p.ctypes.data)  # still cudaMallocHost memory


def test_unmapped_pointer_raises_cuda_error():
    with pytest.raises(CUDAError):
        co.prepare_for_device_copy(0x1000, 4096)  # the null page is never mapped
    assert co.prepared_host_ranges() == []


def test_dropped_array_stays_registered_until_released():
    a = np.zeros(4 * MiB, np.uint8)
    address = a.ctypes.data
    ref = weakref.ref(a)
    co.prepare_for_device_copy(a)
    del a
    gc.collect()
    assert ref() is not None
    assert is_page_locked(address)
    co.release_from_device_copy(address)
    gc.collect()
    assert ref() is None


def test_cython_registration_unregisters_exactly_once():
    from imagearray import _hostmem

    a = np.zeros(MiB, np.uint8)
    r = _hostmem.register(a, a.ctypes.data, a.nbytes, 0)
    assert r.alive and r.owner is a and is_page_locked(a.ctypes.data)
    r.free()
    assert not r.alive and r.owner is None and not is_page_locked(a.ctypes.data)
    with pytest.raises(ReleasedResourceError):
        r.free()
    # garbage collection of a live registration unregisters it
    r = _hostmem.register(a, a.ctypes.data, a.nbytes, 0)
    assert is_page_locked(a.ctypes.data)
    del r
    gc.collect()
    assert not is_page_locked(a.ctypes.data)


@pytest.mark.multigpu
def test_release_on_another_device_raises():
    a = np.zeros(MiB, np.uint8)
    co.prepare_for_device_copy(a, device_or_context=0)
    with pytest.raises(DeviceMismatchError):
        co.release_from_device_copy(a, device_or_context=1)
    co.release_from_device_copy(a, device_or_context=0)
