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

Copies in flight. Releasing waits for the copies imagearray enqueued on the range,
also those being enqueued by another thread at that moment (:func:`hold_host_ranges`,
:mod:`imagearray.copies.hostregistry`); copies enqueued by other libraries must
have finished.

Threads. All functions are thread-safe. The driver calls (pinning a large range
takes a while) run outside the registry lock, with the range reserved: meanwhile
it is not reported as prepared and a second prepare or release of it raises.

Plain Python: argument parsing, validation and the registry run without a GPU;
the one registration per range is owned by ``imagearray._hostmem`` (Cython).
"""

from __future__ import annotations

import atexit
import contextlib
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
from imagearray.copies.hostregistry import READY as _READY
from imagearray.copies.hostregistry import REGISTERING as _REGISTERING
from imagearray.copies.hostregistry import RELEASING as _RELEASING
from imagearray.copies.hostregistry import Entry as _Entry
from imagearray.copies.hostregistry import Registry as _Registry

__all__ = [
    "HostMemoryAlreadyReleasedError",
    "HostMemoryNotPreparedError",
    "HostMemoryOverlapError",
    "PreparedMemoryLeakWarning",
    "PreparedRange",
    "end_host_copy",
    "hold_host_ranges",
    "is_prepared",
    "note_copy",
    "prepare_for_device_copy",
    "prepared_for_device_copy",
    "prepared_host_ranges",
    "release_from_device_copy",
]


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
        # Copies that began on these bytes while they were pageable finish their
        # enqueue first (see hold_host_ranges); later ones hold the entry.
        reg.wait_no_loose(rng.address, rng.nbytes)
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


def _begin_release(entry: _Entry) -> None:
    """Mark a READY ``entry`` as releasing (registry lock held): from now on it is
    not prepared for lookups, a second release fails, and new copies touching it
    wait until it is released."""
    entry.state = _RELEASING


def _finish_release(entry: _Entry) -> None:
    """Wait for the copies enqueued on the range (those being enqueued now first),
    unregister exactly once, then free the reservation (so nobody registers the
    range again before the driver has let it go)."""
    reg = _registry
    try:
        for event in reg.wait_unheld(entry):
            event.synchronize()
    finally:
        try:
            entry.handle.free()
        finally:
            with reg.lock:
                reg.remove(entry)
            entry.pending.clear()
            entry.owner = None


def _release_if_ready(entry: _Entry) -> None:
    with _registry.lock:
        if not entry.ready:
            return
        _begin_release(entry)
    _finish_release(entry)


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
    >>> ia.prepare_for_device_copy(frame)
    >>> img = ia.empty((2160, 3840, 4), numpy.uint8, channels=4)
    >>> for _ in range(100):
    ...     done = ia.copy(frame, img)  # asynchronous, full bandwidth
    >>> done.synchronize()
    >>> ia.release_from_device_copy(frame)
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
    >>> ia.prepare_for_device_copy(buf)
    >>> ia.release_from_device_copy(buf)
    >>> ia.release_from_device_copy(buf)  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    imagearray.HostMemoryAlreadyReleasedError: the range was already released
    """
    with _registry.lock:
        entry = _lookup_for_release(obj, nbytes, device_or_context)
        _begin_release(entry)
    _finish_release(entry)


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
    >>> img = ia.empty((8192, 8192, 4), numpy.uint8, channels=4)
    >>> host = numpy.empty(img.shape, img.dtype)
    >>> with ia.prepared_for_device_copy(host) as h:
    ...     for _ in range(10):
    ...         _ = img.get(out=h)
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
        _begin_release(entry)
    _finish_release(entry)


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
        entry.note(event)
        return True


def hold_host_ranges(spans: tuple) -> tuple:
    """Call before enqueueing a copy on host memory ``spans`` ((address, nbytes)
    pairs); pass what it returns to :func:`end_host_copy` once the copy's event is
    recorded (also when enqueueing failed: with None).

    Until then no release unregisters a prepared range the copy touches: the driver
    may have handed the copy engine the range's page-locked mapping, which
    ``cuMemHostUnregister`` removes under a copy still queued (the copy engine then
    faults: ``CUDA_ERROR_LAUNCH_FAILED``, and the context is lost). A range being
    released is waited for (the copy then sees pageable memory), and a prepare of
    bytes the copy sees pageable waits until it is enqueued."""
    return _registry.hold(spans)


def end_host_copy(held: tuple, event: Any) -> None:
    """End :func:`hold_host_ranges`: the releases of the held ranges wait for
    ``event`` (recorded after the copy; None when it was not enqueued)."""
    if held[0] or held[1]:
        _registry.unhold(held, event)


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
