"""Copy optimization (spec: ``sycl_ext_oneapi_copy_optimize``): prepare host memory
for device copies.

:func:`prepare_for_device_copy` page-locks a host range with ``cuMemHostRegister``
(flag ``CU_MEMHOSTREGISTER_PORTABLE``: page-locked for every device), so copies to
and from it run at full DMA bandwidth and asynchronously; :func:`release_from_device_copy`
undoes it; :func:`prepared_for_device_copy` does both around a ``with`` block.

Where the spec leaves behaviour undefined, imagearray defines it. Every prepared
range is tracked in a registry keyed by its byte interval, guarded by a lock:

=====================================================  ==========================================
misuse                                                  what happens
=====================================================  ==========================================
preparing a range that overlaps a prepared one          :class:`HostMemoryOverlapError`
(even by one byte, on any device)
preparing memory page-locked outside imagearray         :class:`HostMemoryOverlapError`
(``cudaMallocHost``, another library's registration)    (from the driver's refusal)
releasing a range that was never prepared, or with a    :class:`HostMemoryNotPreparedError`
pointer inside a prepared range instead of its start
releasing twice                                         :class:`HostMemoryAlreadyReleasedError`
                                                        (a :class:`ReleasedResourceError` too)
releasing new memory that malloc placed where a         :class:`HostMemoryNotPreparedError`
released range was (told apart by the object owning     (a bare pointer cannot be told apart:
the memory)                                             already released)
releasing with another device than it was prepared on   :class:`DeviceMismatchError`
dropping the last reference to a prepared NumPy array   nothing is freed: the registration keeps
or buffer                                               the object alive until released
=====================================================  ==========================================

Lifetime. A prepared NumPy array or buffer is held (through a buffer export, so
it cannot be resized either) until it is released: dropping the caller's last
reference frees nothing. Registrations are never released behind the caller's
back (there is no ``weakref`` finalizer: the registration itself holds the object,
so it could never fire). A range still prepared when the interpreter exits is
released then, with a :class:`PreparedMemoryLeakWarning` naming it;
:func:`prepared_host_ranges` lists the live ones at any time. A range prepared
from a bare pointer cannot be held: the caller keeps that memory allocated until
it is released.

Copies in flight. Releasing waits for the copies imagearray enqueued on the range
(:func:`note_copy`); copies enqueued by other libraries must have finished.

Threads. All functions are thread-safe. The driver calls (pinning a large range
takes a while) run outside the registry lock, with the range reserved: meanwhile
it is not reported as prepared and a second prepare or release of it raises.

Plain Python: argument parsing, validation and the registry run without a GPU;
the one registration per range is owned by ``imagearray._hostmem`` (Cython).
"""

from __future__ import annotations

import atexit
import bisect
import collections
import contextlib
import dataclasses
import threading
import warnings
from collections.abc import Iterator
from typing import Any, NamedTuple

from imagearray import _hostmem  # the Cython owner of each registration
from imagearray._device import get_device, get_stream, on_device, stream_device
from imagearray._errors import (
    CUDAError,
    DeviceMismatchError,
    HostMemoryAlreadyReleasedError,
    HostMemoryNotPreparedError,
    HostMemoryOverlapError,
    ImageArrayValueError,
    PreparedMemoryLeakWarning,
)
from imagearray.copies.hostranges import (
    _check_device_arg,
    _host_range,
    _is_stream,
    _memory_owner,
    _memory_ref,
)

__all__ = [
    "HostMemoryAlreadyReleasedError",
    "HostMemoryNotPreparedError",
    "HostMemoryOverlapError",
    "PreparedMemoryLeakWarning",
    "PreparedRange",
    "is_prepared",
    "note_copy",
    "prepare_for_device_copy",
    "prepared_for_device_copy",
    "prepared_host_ranges",
    "release_from_device_copy",
]

# How many released start addresses are remembered, to tell "released twice" from
# "never prepared" in the error raised by a second release.
_RELEASED_MEMORY = 4096


class PreparedRange(NamedTuple):
    """A live prepared range, as :func:`prepared_host_ranges` reports it."""

    address: int
    nbytes: int
    device_id: int  # a field, not the Device: the tuple stays hashable
    source: str  # "numpy.ndarray", "bytearray", ..., or "pointer"

    @property
    def device(self):
        """The device as a ``cupy.cuda.Device``; :attr:`device_id` is its ordinal."""
        import cupy

        return cupy.cuda.Device(self.device_id)


# -------------------------------------------------------------------- backend


class _CudaBackend:
    """The CUDA side: resolving devices and registering ranges. Tests replace it."""

    def resolve_device(self, device_or_context: Any) -> int:
        if _is_stream(device_or_context):
            get_device(None)  # raises CUDAUnavailableError without a driver
            handle = get_stream(device_or_context)
            if handle <= 2:  # legacy / per-thread default streams: the current device
                return get_device(None)
            return stream_device(handle)
        return get_device(device_or_context)

    def is_page_locked(self, address: int) -> bool:
        """Whether CUDA knows ``address`` as page-locked host memory."""
        import cupy

        try:
            attrs = cupy.cuda.runtime.pointerGetAttributes(address)
        except Exception:  # not memory CUDA knows: pageable
            return False
        return attrs.type == cupy.cuda.runtime.memoryTypeHost

    def register(self, owner: Any, address: int, nbytes: int, device: int) -> Any:
        # Under CuPy's Device(device), as every driver call of the library: the
        # registration then never switches the current context behind CuPy's back.
        with on_device(device):
            return _hostmem.register(owner, address, nbytes, device)


_backend: Any = _CudaBackend()


# ------------------------------------------------------------------- registry


# Life of a registry entry. Driver calls happen outside the registry lock, so a
# range is reserved while it is being registered or unregistered; only a READY
# range counts as prepared.
_REGISTERING, _READY, _RELEASING = "registering", "ready", "releasing"


@dataclasses.dataclass(eq=False)
class _Entry:
    address: int
    nbytes: int
    device: int
    source: str
    owner: Any  # kept here too, independently of what the registration holds
    handle: Any = None  # HostRegistration: .free()
    state: str = _REGISTERING
    memory: Any = None  # weakref to the object owning the memory, where it takes one
    pending: list = dataclasses.field(default_factory=list)  # events of copies in flight

    @property
    def ready(self) -> bool:
        return self.state == _READY

    @property
    def end(self) -> int:
        return self.address + self.nbytes

    def describe(self) -> str:
        return (
            f"[{self.address:#x}, {self.end:#x}) ({self.nbytes} B, a {self.source} prepared "
            f"on device {self.device})"
        )


class _Registry:
    """Prepared ranges, disjoint, sorted by start address. All access under ``lock``.

    A range being registered or unregistered is in the registry (it reserves its
    bytes against overlaps) but not ready: it is not reported as prepared. The
    driver calls happen outside the lock, so lookups from copies never wait on them.
    """

    def __init__(self) -> None:
        # Reentrant: a copy's event bookkeeping (note_copy) may run from code that
        # already holds it.
        self.lock = threading.RLock()
        self.starts: list[int] = []
        self.by_start: dict[int, _Entry] = {}
        # start -> (nbytes, weakref to the memory's owner or None), recently released
        self.released: collections.OrderedDict[int, tuple] = collections.OrderedDict()

    def overlapping(self, address: int, nbytes: int) -> _Entry | None:
        i = bisect.bisect_left(self.starts, address + nbytes)  # entries starting before the end
        if i == 0:
            return None
        e = self.by_start[self.starts[i - 1]]
        # Ranges are disjoint and sorted, so only the last one starting before our
        # end can reach into us.
        return e if e.end > address else None

    def containing(self, address: int, nbytes: int) -> _Entry | None:
        """The range (ready or not) holding all of ``[address, address + nbytes)``."""
        i = bisect.bisect_right(self.starts, address)
        if i == 0:
            return None
        e = self.by_start[self.starts[i - 1]]
        return e if address + max(nbytes, 1) <= e.end else None

    def add(self, e: _Entry) -> None:
        bisect.insort(self.starts, e.address)
        self.by_start[e.address] = e
        for start in [s for s in self.released if e.address <= s < e.end]:
            del self.released[start]

    def remove(self, e: _Entry, *, released: bool = True) -> None:
        del self.by_start[e.address]
        del self.starts[bisect.bisect_left(self.starts, e.address)]
        if not released:  # a registration that failed: nothing was prepared
            return
        self.released[e.address] = (e.nbytes, e.memory)
        self.released.move_to_end(e.address)
        while len(self.released) > _RELEASED_MEMORY:
            self.released.popitem(last=False)

    def entries(self) -> list[_Entry]:
        """The ready ranges, by address."""
        return [e for e in (self.by_start[s] for s in self.starts) if e.ready]


_registry = _Registry()


def _prepare(obj: Any, nbytes: Any, device_or_context: Any) -> _Entry:
    rng = _host_range(obj, nbytes, nbytes_required_for_pointer=True)
    _check_device_arg(device_or_context)
    device = _backend.resolve_device(device_or_context)
    reg = _registry
    with reg.lock:
        clash = reg.overlapping(rng.address, rng.nbytes)
        if clash is not None:
            what = (
                "is already prepared"
                if (clash.address, clash.nbytes) == (rng.address, rng.nbytes)
                else f"overlaps the prepared range {clash.describe()}"
            )
            if clash.state == _REGISTERING:
                what += ", which another thread is preparing now"
            elif clash.state == _RELEASING:
                what += ", which is being released now"
            raise HostMemoryOverlapError(
                f"the range [{rng.address:#x}, {rng.address + rng.nbytes:#x}) ({rng.nbytes} B) "
                f"{what}: prepared ranges must not overlap; release the other one first, or "
                "prepare one range that covers both"
            )
        # Reserve the range, then register outside the lock: pinning a large range
        # takes long, and copies on other threads look ranges up meanwhile.
        entry = _Entry(rng.address, rng.nbytes, device, rng.source, rng.owner)
        entry.memory = _memory_ref(obj)
        reg.add(entry)
    try:
        handle = _backend.register(rng.owner, rng.address, rng.nbytes, device)
    except BaseException as exc:
        with reg.lock:
            reg.remove(entry, released=False)
        # The driver refuses cudaMallocHost memory with INVALID_VALUE (seen on 13.0),
        # another registration with HOST_MEMORY_ALREADY_REGISTERED.
        if isinstance(exc, CUDAError) and (
            exc.name == "CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED"
            or (
                exc.name == "CUDA_ERROR_INVALID_VALUE"
                and getattr(_backend, "is_page_locked", lambda a: False)(rng.address)
            )
        ):
            raise HostMemoryOverlapError(
                f"the range [{rng.address:#x}, {rng.address + rng.nbytes:#x}) is already "
                "page-locked outside imagearray (cudaMallocHost / cupyx.empty_pinned, or "
                "cudaHostRegister by another library): copies from it are already fast, "
                "there is nothing to prepare"
            ) from exc
        raise
    with reg.lock:
        entry.handle = handle
        entry.state = _READY
    return entry


def _begin_release(entry: _Entry) -> list:
    """Mark a READY ``entry`` as releasing (registry lock held): from now on it is
    not prepared for lookups, and a second release fails. Returns the events of the
    copies in flight on it."""
    entry.state = _RELEASING
    return list(entry.pending)


def _finish_release(entry: _Entry, events: list) -> None:
    """Wait for ``events``, unregister exactly once, then free the reservation
    (so nobody registers the range again before the driver has let it go)."""
    try:
        for event in events:
            event.synchronize()
    finally:
        try:
            entry.handle.free()
        finally:
            with _registry.lock:
                _registry.remove(entry)
            entry.pending.clear()
            entry.owner = None


def _release_if_ready(entry: _Entry) -> None:
    with _registry.lock:
        if not entry.ready:
            return
        events = _begin_release(entry)
    _finish_release(entry, events)


def _lookup_for_release(obj: Any, nbytes: Any, device_or_context: Any) -> _Entry:
    rng = _host_range(obj, nbytes, nbytes_required_for_pointer=False)
    _check_device_arg(device_or_context)
    reg = _registry
    entry = reg.by_start.get(rng.address)
    if entry is None:
        released = reg.released.get(rng.address)
        if released is not None:
            size, memory = released
            # The address alone cannot tell a second release from new memory that
            # malloc put where a released range was: the owning object can.
            then = memory() if memory is not None else None
            if (
                memory is None
                or rng.owner is None
                or (then is not None and then is _memory_owner(obj))
            ):
                raise HostMemoryAlreadyReleasedError(
                    f"the range at {rng.address:#x} ({size} B) was prepared and has already "
                    "been released"
                )
            raise HostMemoryNotPreparedError(
                f"no prepared range starts at {rng.address:#x}: this {rng.source} was never "
                "prepared (a range prepared at the same address earlier belonged to "
                f"{'memory since freed' if then is None else 'another object'})"
            )
        inside = reg.containing(rng.address, 1)
        if inside is not None and inside.ready:
            raise HostMemoryNotPreparedError(
                f"{rng.address:#x} lies inside the prepared range {inside.describe()}: release "
                "it with the pointer or object it was prepared with (its start address)"
            )
        raise HostMemoryNotPreparedError(
            f"no prepared range starts at {rng.address:#x}: it was never prepared with "
            "prepare_for_device_copy (prepared_host_ranges() lists the live ones)"
        )
    if entry.state == _REGISTERING:
        raise HostMemoryNotPreparedError(
            f"the range {entry.describe()} is still being prepared by another thread"
        )
    if entry.state == _RELEASING:
        raise HostMemoryAlreadyReleasedError(
            f"the range {entry.describe()} is already being released (by another thread)"
        )
    if rng.explicit_nbytes and rng.nbytes != entry.nbytes:
        raise ImageArrayValueError(
            f"nbytes={rng.nbytes} does not match the prepared range {entry.describe()}"
        )
    if device_or_context is not None:
        device = _backend.resolve_device(device_or_context)
        if device != entry.device:
            raise DeviceMismatchError(
                f"the range {entry.describe()} is released on device {device}: release it on "
                f"device {entry.device}, or pass device_or_context=None"
            )
    return entry


# ------------------------------------------------------------------ public API


def prepare_for_device_copy(obj: Any, nbytes: int | None = None, device_or_context: Any = None):
    """Page-lock host memory that will be copied to or from a device many times.

    Copies (:func:`copy`, ``ImageArray.set/get``, :func:`asimage`, and CuPy's own)
    to or from prepared memory run by DMA at full bandwidth and are asynchronous on
    their stream, as from ``cudaMallocHost`` memory. Preparing costs about as much
    as one pageable copy of the range, so it pays off for memory copied several
    times; undo it with :func:`release_from_device_copy`, or use
    :func:`prepared_for_device_copy` around a ``with`` block.

    The memory is registered with ``cuMemHostRegister(...,
    CU_MEMHOSTREGISTER_PORTABLE)``: it is page-locked for every device, whichever
    one ``device_or_context`` names.

    Parameters
    ----------
    obj : numpy.ndarray, buffer or int
        A NumPy array occupying one contiguous range of memory (C- or
        Fortran-contiguous, or any axis order of such an array), any object with the
        buffer protocol (``bytearray``, ``memoryview``, ``mmap``, ...), or a host
        pointer as an int together with ``nbytes``. An array or buffer is kept
        alive (and cannot be resized) until released, even if the caller drops it.
        **A pointer cannot be kept alive: the caller must keep the memory allocated
        until it is released.**
    nbytes : int, optional
        Bytes to prepare from the start of ``obj``; required for a pointer, at most
        the object's size otherwise (default: all of it).
    device_or_context : int, cupy.cuda.Device or stream, optional
        The spec's context or queue: a device ordinal, a ``cupy.cuda.Device``, or a
        stream (its device). Default: CuPy's current device. Only its context is
        current while registering; the registration is portable to all devices.

    Returns
    -------
    None
        As in the spec.

    Raises
    ------
    HostMemoryOverlapError
        The range overlaps one already prepared (by any byte, on any device), or
        memory already page-locked outside imagearray.
    ImageArrayTypeError
        ``obj`` is not host memory (e.g. a CuPy array) or an argument has a wrong type.
    ImageArrayValueError
        Empty or non-contiguous memory, a missing ``nbytes`` for a pointer, or
        ``nbytes`` larger than ``obj``.
    CUDAUnavailableError
        No CUDA driver or device.
    CUDAError
        The driver refused the registration (e.g. read-only mapped memory).

    Examples
    --------
    >>> import numpy, imagearray as ia
    >>> frame = numpy.empty((2160, 3840, 4), numpy.uint8)
    >>> ia.prepare_for_device_copy(frame)  # doctest: +SKIP
    >>> img = ia.empty((2160, 3840, 4), numpy.uint8, channels=4)  # doctest: +SKIP
    >>> for _ in range(100):  # doctest: +SKIP
    ...     ia.copy(frame, img)  # asynchronous, full bandwidth
    >>> ia.release_from_device_copy(frame)  # doctest: +SKIP
    """
    _prepare(obj, nbytes, device_or_context)


def release_from_device_copy(obj: Any, nbytes: int | None = None, device_or_context: Any = None):
    """Undo :func:`prepare_for_device_copy`: the memory is pageable again.

    Copies to and from it stay valid, at pageable speed. Before unregistering, this
    waits for the copies that imagearray enqueued on the range; copies enqueued by
    other libraries (e.g. CuPy's ``ndarray.set(..., stream=s)``) must have finished.

    Parameters
    ----------
    obj : numpy.ndarray, buffer or int
        The object or pointer the range was prepared with, or any object or pointer
        starting at the same address (the spec matches the pointer).
    nbytes : int, optional
        If given, must equal the prepared size (lets a call mirror its
        ``prepare_for_device_copy(ptr, nbytes)``).
    device_or_context : int, cupy.cuda.Device or stream, optional
        If given, must name the device the range was prepared on. Default: any.

    Raises
    ------
    HostMemoryNotPreparedError
        No prepared range starts at that address (never prepared, or a pointer
        inside a prepared range rather than its start).
    HostMemoryAlreadyReleasedError
        The range was prepared and already released (also a
        :class:`ReleasedResourceError`). For an array or buffer, only when it is the
        memory that was released (same owning object): new memory at that address is
        "never prepared". A bare pointer is taken for the released range.
    DeviceMismatchError
        ``device_or_context`` names another device than the one it was prepared on.
    ImageArrayValueError
        ``nbytes`` differs from the prepared size.

    Examples
    --------
    >>> import numpy, imagearray as ia
    >>> buf = bytearray(1 << 20)
    >>> ia.prepare_for_device_copy(buf)  # doctest: +SKIP
    >>> ia.release_from_device_copy(buf)  # doctest: +SKIP
    >>> ia.release_from_device_copy(buf)  # doctest: +SKIP
    Traceback (most recent call last):
    imagearray._copy_optimize.HostMemoryAlreadyReleasedError: the range at 0x... was prepared and has already been released
    """  # noqa: E501
    with _registry.lock:
        entry = _lookup_for_release(obj, nbytes, device_or_context)
        events = _begin_release(entry)
    _finish_release(entry, events)


@contextlib.contextmanager
def prepared_for_device_copy(
    obj: Any, nbytes: int | None = None, device_or_context: Any = None
) -> Iterator[Any]:
    """Context manager: ``obj`` is prepared for device copies inside the block.

    Prepares on entry (as :func:`prepare_for_device_copy`) and releases this very
    registration on exit, also when the block raises. Releasing it inside the block
    is a double release: leaving the block then raises
    :class:`HostMemoryAlreadyReleasedError` (unless the block is already raising).

    Yields
    ------
    obj
        The object passed in, unchanged.

    Examples
    --------
    >>> import numpy, imagearray as ia
    >>> img = ia.empty((8192, 8192, 4), numpy.uint8, channels=4)  # doctest: +SKIP
    >>> host = numpy.empty(img.shape, img.dtype)
    >>> with ia.prepared_for_device_copy(host) as h:  # doctest: +SKIP
    ...     for _ in range(10):
    ...         img.get(out=h)
    """
    entry = _prepare(obj, nbytes, device_or_context)
    try:
        yield obj
    except BaseException:
        _release_if_ready(entry)  # unless the block released it already
        raise
    with _registry.lock:
        if not entry.ready:
            raise HostMemoryAlreadyReleasedError(
                f"the range [{entry.address:#x}, {entry.end:#x}) prepared by this with-block was "
                "already released inside it"
            )
        events = _begin_release(entry)
    _finish_release(entry, events)


def prepared_host_ranges() -> list[PreparedRange]:
    """The host ranges prepared now, by address.

    Examples
    --------
    >>> import imagearray as ia
    >>> ia.prepared_host_ranges()
    []
    """
    with _registry.lock:
        return [PreparedRange(e.address, e.nbytes, e.device, e.source) for e in _registry.entries()]


# ------------------------------------------------------------ for the copy code


def is_prepared(address: int, nbytes: int) -> bool:
    """True when ``[address, address + nbytes)`` lies inside one prepared range,
    i.e. the driver sees it as page-locked and copies of it are asynchronous."""
    if nbytes <= 0:
        return False
    with _registry.lock:
        entry = _registry.containing(address, nbytes)
        return entry is not None and entry.ready


def note_copy(address: int, nbytes: int, event: Any) -> bool:
    """Record a copy enqueued on host memory ``[address, address + nbytes)``.

    If the range is prepared, ``event`` (recorded after the copy; anything with
    ``.done`` and ``.synchronize()``, e.g. ``cupy.cuda.Event``) is kept so that
    releasing the range waits for the copy, and True is returned: the copy is
    asynchronous and the caller need not wait. Otherwise nothing is kept and False
    is returned (a pageable copy: the caller decides whether to wait).
    """
    if nbytes <= 0:
        return False
    with _registry.lock:
        entry = _registry.containing(address, nbytes)
        if entry is None or not entry.ready:
            return False
        entry.pending[:] = [e for e in entry.pending if not e.done]
        entry.pending.append(event)
        return True


@atexit.register
def _release_all_at_exit() -> None:
    with _registry.lock:
        leaked = _registry.entries()
        if not leaked:
            return
        warnings.warn(
            f"{len(leaked)} host range(s) still prepared for device copy at exit, released "
            "now: " + "; ".join(e.describe() for e in leaked) + ". Call "
            "release_from_device_copy() or use `with prepared_for_device_copy(...)`.",
            PreparedMemoryLeakWarning,
            stacklevel=1,
        )
    for e in leaked:
        try:
            _release_if_ready(e)
        except Exception:  # the driver may already be shutting down
            pass
