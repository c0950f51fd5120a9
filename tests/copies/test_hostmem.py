"""Copy optimize (prepare/release host memory for device copies), without a GPU.

The registry of prepared ranges, argument parsing and every misuse the spec leaves
undefined are plain Python: a fake backend stands in for ``cuMemHostRegister`` and
device resolution, so these tests run exactly the code a GPU run does up to the
driver call. The no-GPU path uses the real backend.
"""

from __future__ import annotations

import array
import gc
import mmap
import threading
import time
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import imagearray as ia
import imagearray.copies.hostmem as co
from imagearray._errors import (
    CUDAError,
    CUDAUnavailableError,
    DeviceMismatchError,
    ImageArrayTypeError,
    ImageArrayValueError,
    ReleasedResourceError,
)
from imagearray.copies import hostregistry

# ------------------------------------------------------------------ fakes


class FakeRegistration:
    def __init__(self, backend, owner, address, nbytes, device):
        self.backend = backend
        self.owner = owner
        self.address = address
        self.nbytes = nbytes
        self.device = device
        self.alive = True

    def free(self):
        if not self.alive:
            raise ReleasedResourceError("fake: freed twice")
        if self.backend.free_gate is not None:
            self.backend.free_started.set()
            assert self.backend.free_gate.wait(10)
        self.alive = False
        self.owner = None
        self.backend.log.append(("unregister", self.address, self.nbytes))


class FakeBackend:
    """Devices 0 and 1 exist; registration succeeds unless ``fail_with`` is set."""

    def __init__(self):
        self.log = []
        self.fail_with = None
        self.delay = 0.0
        self.registrations = []
        self.register_gate = None  # threading.Event: register() waits for it
        self.register_started = threading.Event()
        self.free_gate = None  # the same for free()
        self.free_started = threading.Event()

    def resolve_device(self, d):
        if d is None:
            return 0
        if hasattr(d, "id"):
            d = d.id
        if isinstance(d, (int, np.integer)):
            if not 0 <= d < 2:
                raise DeviceMismatchError(f"device {d} does not exist: this machine has 2")
            return int(d)
        return 1  # a stream: pretend it belongs to device 1

    def register(self, owner, address, nbytes, device):
        if self.delay:
            time.sleep(self.delay)
        if self.register_gate is not None:
            self.register_started.set()
            assert self.register_gate.wait(10)
        if self.fail_with is not None:
            raise self.fail_with
        self.log.append(("register", address, nbytes, device))
        r = FakeRegistration(self, owner, address, nbytes, device)
        self.registrations.append(r)
        return r


class FakeEvent:
    def __init__(self, done=False):
        self.done = done
        self.synchronized = 0

    def synchronize(self):
        self.synchronized += 1
        self.done = True


class FakeStream:
    def __cuda_stream__(self):
        return (0, 12345)


@pytest.fixture
def fake(monkeypatch):
    backend = FakeBackend()
    monkeypatch.setattr(co, "_backend", backend)
    monkeypatch.setattr(co, "_registry", co._Registry())
    yield backend
    assert co.prepared_host_ranges() == [], "a test left a range prepared"
    assert registered(backend) == []


@pytest.fixture
def fresh_registry(monkeypatch):
    monkeypatch.setattr(co, "_registry", co._Registry())


def registered(backend):
    return [r for r in backend.registrations if r.alive]


# ------------------------------------------------------------------ basics


def test_prepare_and_release_numpy_array(fake):
    a = np.zeros((64, 64, 4), np.uint8)
    assert co.prepare_for_device_copy(a) is None  # like the spec: nothing returned
    (r,) = co.prepared_host_ranges()
    assert r == co.PreparedRange(a.ctypes.data, a.nbytes, 0, "numpy.ndarray")
    assert fake.log == [("register", a.ctypes.data, a.nbytes, 0)]
    assert co.is_prepared(a.ctypes.data, a.nbytes)
    co.release_from_device_copy(a)
    assert co.prepared_host_ranges() == []
    assert fake.log[-1] == ("unregister", a.ctypes.data, a.nbytes)
    assert not co.is_prepared(a.ctypes.data, a.nbytes)


def test_is_prepared_needs_one_containing_range(fake):
    base = np.zeros(4096, np.uint8)
    p = base.ctypes.data
    co.prepare_for_device_copy(base[:1024])
    co.prepare_for_device_copy(base[1024:2048])
    assert co.is_prepared(p, 1024)
    assert co.is_prepared(p + 10, 100)
    assert co.is_prepared(p + 1024, 1024)
    assert not co.is_prepared(p + 1000, 100)  # straddles two registrations
    assert not co.is_prepared(p + 2000, 100)  # runs past the end
    assert not co.is_prepared(p - 1, 2)
    assert not co.is_prepared(p, 0)
    assert not co.is_prepared(p + 4000, 10)
    co.release_from_device_copy(base[:1024])
    co.release_from_device_copy(base[1024:])


@pytest.mark.parametrize(
    "make",
    [
        lambda: bytearray(1000),
        lambda: memoryview(bytearray(1000)),
        lambda: array.array("d", range(125)),
        lambda: bytes(1000),  # read-only buffers can be sources of copies
        lambda: mmap.mmap(-1, 1000),
        lambda: memoryview(bytearray(1000)).cast("B", (10, 100)),
        lambda: np.zeros((10, 25), np.float32),
        lambda: np.zeros((25, 10), np.float32).T,  # Fortran-contiguous
        lambda: np.zeros(250, np.float32)[::-1],  # reversed: still one range
        lambda: np.zeros((10, 25), np.float32)[:, ::-1],
        lambda: np.zeros((5, 2, 25), np.float32).transpose(1, 2, 0),
        lambda: np.zeros(125, "datetime64[ns]"),  # no buffer format: the array is kept
    ],
)
def test_buffer_kinds(fake, make):
    obj = make()
    co.prepare_for_device_copy(obj)
    (r,) = co.prepared_host_ranges()
    assert r.nbytes == 1000
    if isinstance(obj, np.ndarray):
        lo = obj.ctypes.data + sum(s * (n - 1) for s, n in zip(obj.strides, obj.shape) if s < 0)
        assert r.address == lo
    co.release_from_device_copy(obj)
    assert registered(fake) == []


def test_nbytes_prefix(fake):
    a = np.zeros(1000, np.uint8)
    co.prepare_for_device_copy(a, 100)
    assert co.prepared_host_ranges()[0].nbytes == 100
    assert co.is_prepared(a.ctypes.data, 100) and not co.is_prepared(a.ctypes.data, 101)
    with pytest.raises(ImageArrayValueError, match="nbytes=50 does not match"):
        co.release_from_device_copy(a, 50)
    co.release_from_device_copy(a)  # the object's start matches, as in the spec


def test_pointer_and_size(fake):
    a = np.zeros(1000, np.uint8)
    co.prepare_for_device_copy(a.ctypes.data, a.nbytes)
    (r,) = co.prepared_host_ranges()
    assert (r.address, r.nbytes, r.source) == (a.ctypes.data, 1000, "pointer")
    assert fake.registrations[0].owner is None  # a pointer cannot be kept alive
    co.release_from_device_copy(a.ctypes.data)


def test_pointer_and_object_name_the_same_range(fake):
    a = np.zeros(1000, np.uint8)
    co.prepare_for_device_copy(a)
    co.release_from_device_copy(np.uint64(a.ctypes.data), 1000)
    co.prepare_for_device_copy(a.ctypes.data, 1000)
    co.release_from_device_copy(a[:10])  # another object starting at the same address
    assert co.prepared_host_ranges() == []


def test_device_argument(fake):
    a = np.zeros(100, np.uint8)

    class Dev:
        id = 1

    co.prepare_for_device_copy(a, device_or_context=Dev())
    assert co.prepared_host_ranges()[0].device_id == 1
    with pytest.raises(DeviceMismatchError, match="on device 0"):
        co.release_from_device_copy(a, device_or_context=0)
    co.release_from_device_copy(a, device_or_context=1)
    co.prepare_for_device_copy(a, device_or_context=FakeStream())  # a queue: its device
    assert co.prepared_host_ranges()[0].device_id == 1
    co.release_from_device_copy(a)  # None: any device
    with pytest.raises(DeviceMismatchError, match="does not exist"):
        co.prepare_for_device_copy(a, device_or_context=7)
    assert co.prepared_host_ranges() == []


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    "obj, nbytes, exc, match",
    [
        (0, 100, ImageArrayValueError, "non-null"),
        (-4096, 100, ImageArrayValueError, "non-null"),
        (1 << 64, 100, ImageArrayValueError, "non-null"),
        ((1 << 64) - 10, 100, ImageArrayValueError, "past the end"),
        (0x10000, None, ImageArrayValueError, "nbytes is required"),
        (0x10000, 0, ImageArrayValueError, "nbytes must be > 0"),
        (0x10000, -1, ImageArrayValueError, "nbytes must be > 0"),
        (0x10000, 1.5, ImageArrayTypeError, "nbytes must be an int"),
        (0x10000, True, ImageArrayTypeError, "nbytes must be an int"),
        (0x10000, "100", ImageArrayTypeError, "nbytes must be an int"),
        (True, 100, ImageArrayTypeError, "cannot prepare a bool"),
        (1.0, 100, ImageArrayTypeError, "cannot prepare a float"),
        ([1, 2, 3], None, ImageArrayTypeError, "cannot prepare a list"),
        ("text", None, ImageArrayTypeError, "cannot prepare a str"),
        (None, None, ImageArrayTypeError, "cannot prepare a NoneType"),
        (np.zeros(0), None, ImageArrayValueError, "empty"),
        (np.zeros((3, 0)), None, ImageArrayValueError, "empty"),
        (bytearray(), None, ImageArrayValueError, "empty"),
        (np.zeros(10)[::2], None, ImageArrayValueError, "one contiguous range"),
        (np.zeros((4, 4))[:, :3], None, ImageArrayValueError, "one contiguous range"),
        (np.broadcast_to(np.zeros(4), (3, 4)), None, ImageArrayValueError, "contiguous"),
        (memoryview(bytearray(10))[::2], None, ImageArrayValueError, "not contiguous"),
        (np.zeros(10, np.uint8), 11, ImageArrayValueError, "larger than"),
        (np.zeros(10, np.uint8), 0, ImageArrayValueError, "nbytes must be > 0"),
    ],
)
def test_bad_arguments_raise(fake, obj, nbytes, exc, match):
    with pytest.raises(exc, match=match):
        co.prepare_for_device_copy(obj, nbytes)
    assert co.prepared_host_ranges() == [] and fake.log == []


def test_device_memory_is_refused(fake):
    class FakeCupy:
        __cuda_array_interface__ = {"shape": (4,), "typestr": "<f4", "data": (1, False)}

    with pytest.raises(ImageArrayTypeError, match="is device memory"):
        co.prepare_for_device_copy(FakeCupy())


@pytest.mark.parametrize("bad", ["cuda:0", 1.0, True, object()])
def test_bad_device_argument_is_a_type_error(fake, bad):
    with pytest.raises(ImageArrayTypeError, match="device_or_context must be"):
        co.prepare_for_device_copy(np.zeros(10), device_or_context=bad)
    with pytest.raises(ImageArrayTypeError, match="device_or_context must be"):
        co.release_from_device_copy(np.zeros(10), device_or_context=bad)


# ------------------------------------------------------------------ overlaps


def test_preparing_twice_is_an_overlap(fake):
    a = np.zeros(1000, np.uint8)
    co.prepare_for_device_copy(a)
    with pytest.raises(co.HostMemoryOverlapError, match="is already prepared"):
        co.prepare_for_device_copy(a)
    with pytest.raises(co.HostMemoryOverlapError, match="is already prepared"):
        co.prepare_for_device_copy(a.ctypes.data, 1000, device_or_context=1)  # other device too
    assert len(fake.registrations) == 1
    co.release_from_device_copy(a)


@pytest.mark.parametrize(
    "first, second",
    [
        ((100, 200), (150, 250)),  # tail
        ((100, 200), (50, 101)),  # head, by one byte
        ((100, 200), (199, 300)),  # last byte
        ((100, 200), (120, 130)),  # inside
        ((100, 200), (0, 1000)),  # around
    ],
)
def test_overlapping_views_are_refused(fake, first, second):
    base = np.zeros(1000, np.uint8)
    co.prepare_for_device_copy(base[slice(*first)])
    with pytest.raises(co.HostMemoryOverlapError, match="overlaps the prepared range") as info:
        co.prepare_for_device_copy(base[slice(*second)])
    msg = str(info.value)
    assert f"{base.ctypes.data + first[0]:#x}" in msg  # names the range in the way
    assert isinstance(info.value, ImageArrayValueError)
    assert len(co.prepared_host_ranges()) == 1
    co.release_from_device_copy(base[slice(*first)])


def test_adjacent_ranges_are_fine(fake):
    base = np.zeros(300, np.uint8)
    for i in (1, 0, 2):  # out of order, touching on both sides
        co.prepare_for_device_copy(base[100 * i : 100 * (i + 1)])
    assert [r.address - base.ctypes.data for r in co.prepared_host_ranges()] == [0, 100, 200]
    for i in range(3):
        co.release_from_device_copy(base[100 * i :])


def test_memory_pinned_elsewhere_is_an_overlap(fake):
    fake.fail_with = CUDAError(712, "CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED", "...", "reg")
    with pytest.raises(co.HostMemoryOverlapError, match="outside imagearray") as info:
        co.prepare_for_device_copy(np.zeros(10))
    assert isinstance(info.value.__cause__, CUDAError)
    assert co.prepared_host_ranges() == []


def test_cuda_malloc_host_memory_refused_as_invalid_value_is_an_overlap(fake):
    # What the 13.0 driver answers for cudaMallocHost memory (seen on the H100)
    fake.fail_with = CUDAError(1, "CUDA_ERROR_INVALID_VALUE", "invalid argument", "reg")
    a = np.zeros(10)
    fake.is_page_locked = lambda address: address == a.ctypes.data
    with pytest.raises(co.HostMemoryOverlapError, match="outside imagearray") as info:
        co.prepare_for_device_copy(a)
    assert info.value.__cause__ is fake.fail_with
    assert co.prepared_host_ranges() == []


def test_other_driver_errors_propagate_and_leave_nothing(fake):
    fake.fail_with = CUDAError(1, "CUDA_ERROR_INVALID_VALUE", "invalid argument", "reg")
    a = np.zeros(10)
    with pytest.raises(CUDAError, match="CUDA_ERROR_INVALID_VALUE"):
        co.prepare_for_device_copy(a)
    assert co.prepared_host_ranges() == []
    fake.fail_with = None
    co.prepare_for_device_copy(a)  # nothing stale blocks a retry
    co.release_from_device_copy(a)


# ------------------------------------------------------------------ releases


def test_release_of_never_prepared_range(fake):
    with pytest.raises(co.HostMemoryNotPreparedError, match="never prepared") as info:
        co.release_from_device_copy(np.zeros(10))
    assert not isinstance(info.value, ReleasedResourceError)
    with pytest.raises(co.HostMemoryNotPreparedError, match="never prepared"):
        co.release_from_device_copy(0x7000)


def test_release_inside_a_range_names_its_start(fake):
    a = np.zeros(1000, np.uint8)
    co.prepare_for_device_copy(a)
    with pytest.raises(co.HostMemoryNotPreparedError, match="lies inside the prepared range"):
        co.release_from_device_copy(a[10:])
    with pytest.raises(co.HostMemoryNotPreparedError, match="lies inside"):
        co.release_from_device_copy(a.ctypes.data + 999)
    assert len(co.prepared_host_ranges()) == 1
    co.release_from_device_copy(a)


def test_double_release(fake):
    a = np.zeros(1000, np.uint8)
    co.prepare_for_device_copy(a)
    co.release_from_device_copy(a)
    with pytest.raises(co.HostMemoryAlreadyReleasedError, match="already been released") as info:
        co.release_from_device_copy(a)
    assert isinstance(info.value, ReleasedResourceError)
    assert isinstance(info.value, ImageArrayValueError)
    assert isinstance(info.value, co.HostMemoryNotPreparedError)
    with pytest.raises(co.HostMemoryAlreadyReleasedError):
        co.release_from_device_copy(a.ctypes.data)
    assert [e[0] for e in fake.log] == ["register", "unregister"]  # unregistered once


def test_prepare_again_after_release(fake):
    a = np.zeros(1000, np.uint8)
    for _ in range(3):
        co.prepare_for_device_copy(a)
        co.release_from_device_copy(a)
    assert [e[0] for e in fake.log] == ["register", "unregister"] * 3
    with pytest.raises(co.HostMemoryAlreadyReleasedError):
        co.release_from_device_copy(a)
    # a new range over a released start forgets the release
    co.prepare_for_device_copy(a[:500])
    co.release_from_device_copy(a[:500])
    co.prepare_for_device_copy(a[500:])
    with pytest.raises(co.HostMemoryAlreadyReleasedError):
        co.release_from_device_copy(a[:500])
    co.release_from_device_copy(a[500:])


def test_new_memory_at_a_released_address_is_not_prepared(fake):
    import ctypes

    a = np.zeros(1000, np.uint8)
    co.prepare_for_device_copy(a)
    co.release_from_device_copy(a)
    # Another object over the same bytes (as malloc hands a freed block out again):
    # the address matches the released range, the owning object does not.
    other = np.ctypeslib.as_array((ctypes.c_uint8 * 1000).from_address(a.ctypes.data))
    assert other.ctypes.data == a.ctypes.data
    with pytest.raises(co.HostMemoryNotPreparedError, match="another object") as info:
        co.release_from_device_copy(other)
    assert not isinstance(info.value, co.HostMemoryAlreadyReleasedError)
    # views of the released array are the same memory: released, not new
    with pytest.raises(co.HostMemoryAlreadyReleasedError):
        co.release_from_device_copy(a[:10])
    # once the owner is gone, whatever is at the address is new memory
    co._registry.released[a.ctypes.data] = (1000, lambda: None)
    with pytest.raises(co.HostMemoryNotPreparedError, match="memory since freed"):
        co.release_from_device_copy(a)
    # a pointer cannot say which memory it is: a second release, as before
    with pytest.raises(co.HostMemoryAlreadyReleasedError):
        co.release_from_device_copy(a.ctypes.data)
    assert [e[0] for e in fake.log] == ["register", "unregister"]


def test_released_memory_is_bounded(fake, monkeypatch):
    monkeypatch.setattr(hostregistry, "_RELEASED_MEMORY", 3)
    base = np.zeros(10, np.uint8)
    for i in range(5):
        co.prepare_for_device_copy(base[i:])
        co.release_from_device_copy(base[i:])
    assert list(co._registry.released) == [base.ctypes.data + i for i in (2, 3, 4)]
    with pytest.raises(co.HostMemoryNotPreparedError, match="never prepared"):
        co.release_from_device_copy(base)  # forgotten: reported as never prepared


# ------------------------------------------------------------------ lifetime


def test_prepared_array_is_kept_alive(fake):
    a = np.zeros(1000, np.uint8)
    address = a.ctypes.data
    ref = weakref.ref(a)
    co.prepare_for_device_copy(a)
    del a
    gc.collect()
    assert ref() is not None, "a registered array must not be garbage collected"
    co.release_from_device_copy(address)  # the pointer is all the caller still has
    gc.collect()
    assert ref() is None, "a released array must not be kept alive"


def test_prepared_buffers_cannot_be_resized(fake):
    b = bytearray(1000)
    co.prepare_for_device_copy(b)
    with pytest.raises(BufferError):
        b.extend(b"x" * 10_000)  # would move the memory under the registration
    co.release_from_device_copy(b)
    b.extend(b"x")  # fine once released
    a = np.zeros(1000, np.uint8)
    co.prepare_for_device_copy(a)
    with pytest.raises(ValueError):
        a.resize(10_000)
    co.release_from_device_copy(a)


def test_leaked_registrations_are_released_at_exit_with_a_warning(fake):
    a = np.zeros(1000, np.uint8)
    co.prepare_for_device_copy(a)
    with pytest.warns(co.PreparedMemoryLeakWarning, match=f"{a.ctypes.data:#x}"):
        co._release_all_at_exit()
    assert co.prepared_host_ranges() == []
    assert registered(fake) == []
    co._release_all_at_exit()  # nothing left: silent


# ------------------------------------------------------------------ context manager


def test_context_manager(fake):
    a = np.zeros(1000, np.uint8)
    with co.prepared_for_device_copy(a) as got:
        assert got is a
        assert co.is_prepared(a.ctypes.data, a.nbytes)
    assert co.prepared_host_ranges() == []
    assert [e[0] for e in fake.log] == ["register", "unregister"]


def test_context_manager_releases_when_the_block_raises(fake):
    a = np.zeros(1000, np.uint8)
    with pytest.raises(KeyError):
        with co.prepared_for_device_copy(a):
            raise KeyError("boom")
    assert co.prepared_host_ranges() == []


def test_context_manager_prepare_failure(fake):
    a = np.zeros(1000, np.uint8)
    co.prepare_for_device_copy(a)
    with pytest.raises(co.HostMemoryOverlapError):
        with co.prepared_for_device_copy(a):
            pytest.fail("the block must not run")
    co.release_from_device_copy(a)


def test_context_manager_double_release(fake):
    a = np.zeros(1000, np.uint8)
    with pytest.raises(co.HostMemoryAlreadyReleasedError, match="inside it"):
        with co.prepared_for_device_copy(a):
            co.release_from_device_copy(a)
    # re-prepared inside the block: the block must not release the newer registration
    with pytest.raises(co.HostMemoryAlreadyReleasedError):
        with co.prepared_for_device_copy(a):
            co.release_from_device_copy(a)
            co.prepare_for_device_copy(a)
    assert len(co.prepared_host_ranges()) == 1
    co.release_from_device_copy(a)
    # the block's own exception wins over the double release
    with pytest.raises(KeyError):
        with co.prepared_for_device_copy(a):
            co.release_from_device_copy(a)
            raise KeyError("boom")
    assert co.prepared_host_ranges() == []


# ------------------------------------------------------------------ copies in flight


def test_note_copy_and_release_waits(fake):
    a = np.zeros(1000, np.uint8)
    assert co.note_copy(a.ctypes.data, a.nbytes, FakeEvent()) is False  # pageable
    co.prepare_for_device_copy(a)
    done, pending = FakeEvent(done=True), FakeEvent()
    assert co.note_copy(a.ctypes.data, 1000, done)
    assert co.note_copy(a.ctypes.data + 10, 10, pending)
    assert not co.note_copy(a.ctypes.data + 990, 20, FakeEvent())  # past the end
    assert co.note_copy(a.ctypes.data, 1000, FakeEvent(done=True))
    entry = co._registry.by_start[a.ctypes.data]
    assert done not in entry.pending  # finished copies are dropped as new ones come
    co.release_from_device_copy(a)
    assert pending.synchronized == 1
    assert entry.pending == []


# ------------------------------------------------------------------ threads


def test_concurrent_overlapping_prepares_admit_one(fake):
    fake.delay = 0.01
    base = np.zeros(1000, np.uint8)
    results = []
    barrier = threading.Barrier(8)

    def worker(i):
        barrier.wait()
        try:
            co.prepare_for_device_copy(base[i * 10 : i * 10 + 500])
            results.append(("ok", i))
        except co.HostMemoryOverlapError:
            results.append(("overlap", i))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r[0] for r in results) == ["ok"] + ["overlap"] * 7
    (winner,) = [i for kind, i in results if kind == "ok"]
    co.release_from_device_copy(base[winner * 10 :])
    assert registered(fake) == []


def test_concurrent_disjoint_prepares_and_releases(fake):
    base = np.zeros(64 * 100, np.uint8)
    errors = []

    def worker(i):
        try:
            for _ in range(50):
                part = base[i * 100 : (i + 1) * 100]
                co.prepare_for_device_copy(part)
                assert co.is_prepared(part.ctypes.data, 100)
                co.release_from_device_copy(part)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert co.prepared_host_ranges() == [] and registered(fake) == []


def test_a_range_being_registered_is_reserved_but_not_prepared(fake):
    fake.register_gate = threading.Event()
    a = np.zeros(1000, np.uint8)
    t = threading.Thread(target=co.prepare_for_device_copy, args=(a,))
    t.start()
    try:
        assert fake.register_started.wait(10)
        # the driver call runs outside the lock: lookups answer at once
        assert not co.is_prepared(a.ctypes.data, 10)
        assert not co.note_copy(a.ctypes.data, 10, FakeEvent())
        assert co.prepared_host_ranges() == []
        with pytest.raises(co.HostMemoryOverlapError, match="another thread is preparing"):
            co.prepare_for_device_copy(a[500:])
        with pytest.raises(co.HostMemoryNotPreparedError, match="still being prepared"):
            co.release_from_device_copy(a)
    finally:
        fake.register_gate.set()
        t.join()
    assert co.is_prepared(a.ctypes.data, 1000)
    co.release_from_device_copy(a)


def test_a_range_being_released_is_reserved_but_not_prepared(fake):
    a = np.zeros(1000, np.uint8)
    co.prepare_for_device_copy(a)
    fake.free_gate = threading.Event()
    t = threading.Thread(target=co.release_from_device_copy, args=(a,))
    t.start()
    try:
        assert fake.free_started.wait(10)
        assert not co.is_prepared(a.ctypes.data, 10)
        assert co.prepared_host_ranges() == []
        with pytest.raises(co.HostMemoryAlreadyReleasedError, match="being released"):
            co.release_from_device_copy(a)
        # not before the driver has let it go
        with pytest.raises(co.HostMemoryOverlapError, match="being released now"):
            co.prepare_for_device_copy(a)
    finally:
        fake.free_gate.set()
        t.join()
    fake.free_gate = None
    co.prepare_for_device_copy(a)
    co.release_from_device_copy(a)
    assert [e[0] for e in fake.log] == ["register", "unregister"] * 2


def test_interrupted_registration_leaves_no_reservation(fake):
    fake.fail_with = KeyboardInterrupt()
    a = np.zeros(1000, np.uint8)
    with pytest.raises(KeyboardInterrupt):
        co.prepare_for_device_copy(a)
    assert co._registry.starts == [] and co._registry.by_start == {}
    with pytest.raises(co.HostMemoryNotPreparedError, match="never prepared"):
        co.release_from_device_copy(a)  # a failed registration is not "released"


def test_release_still_unregisters_when_waiting_fails(fake):
    class BadEvent(FakeEvent):
        def synchronize(self):
            raise CUDAError(700, "CUDA_ERROR_ILLEGAL_ADDRESS", "boom", "cuEventSynchronize")

    a = np.zeros(1000, np.uint8)
    co.prepare_for_device_copy(a)
    co.note_copy(a.ctypes.data, 1000, BadEvent())
    with pytest.raises(CUDAError, match="ILLEGAL_ADDRESS"):
        co.release_from_device_copy(a)
    assert co.prepared_host_ranges() == [] and registered(fake) == []
    with pytest.raises(co.HostMemoryAlreadyReleasedError):
        co.release_from_device_copy(a)


# ------------------------------------------------------------------ the registry itself


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 200), st.integers(1, 40), st.booleans()),
        min_size=1,
        max_size=60,
    )
)
def test_registry_matches_brute_force(ops):
    reg = co._Registry()
    live: dict[int, int] = {}  # start -> nbytes
    for address, nbytes, release in ops:
        if release and live:
            start = sorted(live)[address % len(live)]
            reg.remove(reg.by_start[start])
            del live[start]
            continue
        clash = reg.overlapping(address, nbytes)
        expected = [s for s, n in live.items() if s < address + nbytes and address < s + n]
        assert (clash is None) == (not expected)
        if clash is not None:
            assert clash.address in expected
            continue
        reg.add(co._Entry(address, nbytes, 0, "pointer", None, None))
        live[address] = nbytes
        assert reg.starts == sorted(live)
    for address in range(0, 250, 3):
        for nbytes in (1, 5, 20):
            want = any(s <= address and address + nbytes <= s + n for s, n in live.items())
            assert (reg.containing(address, nbytes) is not None) == want


# ------------------------------------------------------------------ no GPU


def _gpu_present() -> bool:
    return ia.is_available()


@pytest.mark.skipif(_gpu_present(), reason="checks the path taken without a CUDA device")
def test_no_gpu_raises_cuda_unavailable(fresh_registry):
    a = np.zeros(1000, np.uint8)
    with pytest.raises(CUDAUnavailableError):
        co.prepare_for_device_copy(a)
    with pytest.raises(CUDAUnavailableError):
        co.prepare_for_device_copy(a.ctypes.data, 1000, device_or_context=0)
    with pytest.raises(CUDAUnavailableError):
        with co.prepared_for_device_copy(a):
            pytest.fail("the block must not run")
    assert co.prepared_host_ranges() == []
    # bookkeeping errors need no driver
    with pytest.raises(co.HostMemoryNotPreparedError):
        co.release_from_device_copy(a)
    with pytest.raises(ImageArrayValueError, match="nbytes is required"):
        co.prepare_for_device_copy(a.ctypes.data)
    assert not co.is_prepared(a.ctypes.data, 1000)


def test_cython_registration_class_without_a_registration():
    hostmem = pytest.importorskip("imagearray._hostmem")
    assert hostmem.PORTABLE == 1
    r = hostmem.HostRegistration.__new__(hostmem.HostRegistration)
    assert not r.alive and r.owner is None
    with pytest.raises(ReleasedResourceError, match="already unregistered"):
        r.free()
    del r  # __dealloc__ of an unregistered object calls nothing


@pytest.mark.skipif(_gpu_present(), reason="checks the path taken without a CUDA device")
def test_cython_register_without_a_driver():
    hostmem = pytest.importorskip("imagearray._hostmem")
    a = np.zeros(100, np.uint8)
    with pytest.raises(CUDAUnavailableError):
        hostmem.register(a, a.ctypes.data, a.nbytes, 0)


@pytest.mark.skipif(
    not hasattr(ia, "prepare_for_device_copy"),
    reason="imagearray/__init__.py does not export the copy-optimize names yet",
)
def test_public_names():
    for name in (
        "prepare_for_device_copy",
        "release_from_device_copy",
        "prepared_for_device_copy",
        "prepared_host_ranges",
        "HostMemoryOverlapError",
        "HostMemoryNotPreparedError",
        "HostMemoryAlreadyReleasedError",
    ):
        assert getattr(ia, name) is getattr(co, name)
        assert name in ia.__all__


def test_benchmark_targets_report():
    from benchmarks._util import Row
    from benchmarks.hostmem import PAGEABLE, PINNED, PREPARED, targets

    n = 512 << 20
    rows = [
        Row("up", PREPARED, 10.0, 0.1, n),
        Row("up", PAGEABLE, 45.0, 45.0, n),
        Row("up", PINNED, 9.5, 0.1, n),
        Row("down", PREPARED, 10.0, 0.1, n),
        Row("down", PAGEABLE, 20.0, 20.0, n),
        Row("down", PINNED, 10.0, 0.1, n),
        Row("page-lock 512 MiB (one-time)", PREPARED, 0.0, 80.0, n),
    ]
    up, down = targets(rows)
    assert up.startswith("up:") and "4.50x pageable" in up and "95%" in up
    assert up.endswith("target met")
    assert "2.00x pageable" in down and down.endswith("target NOT met")


def test_cuda_backend_registers_under_the_device(monkeypatch):
    # Like every driver call of the library, the registration runs inside CuPy's
    # Device(device): no context is switched behind CuPy's back.
    import contextlib

    import imagearray._hostmem as hostmem

    scopes, current = [], []

    @contextlib.contextmanager
    def on_device(device):
        scopes.append(device)
        current.append(device)
        try:
            yield
        finally:
            current.pop()

    def register(owner, address, nbytes, device):
        return ("registered", list(current), address, nbytes, device)

    monkeypatch.setattr(co, "on_device", on_device)
    monkeypatch.setattr(hostmem, "register", register)
    got = co._CudaBackend().register(None, 0x1000, 64, 1)
    assert got == ("registered", [1], 0x1000, 64, 1) and scopes == [1] and current == []
