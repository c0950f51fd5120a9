"""Imported external semaphores (spec: "external semaphores"): :class:`ExternalSemaphore`
and the waits and signals that order work on CuPy streams against another API.

A binary (``opaque_fd``) or timeline (``timeline_fd``) semaphore exported by another
API is imported under the same fd rule as memory (see
:mod:`imagearray.interop.memory`): on success CUDA owns the fd, on failure the caller
still does. Validation is plain Python; the Cython layer (``imagearray._interop``)
runs the driver calls and destroys each semaphore exactly once.
"""

from __future__ import annotations

from typing import Any

from imagearray import _interop as _cy  # the Cython owners of the imports
from imagearray._device import Aspect, device_has, device_info, get_device, get_stream, on_device
from imagearray._errors import ImageArrayTypeError, ImageArrayValueError, ReleasedResourceError
from imagearray.interop.handle_types import ExternalSemaphoreHandleType, driver_code
from imagearray.interop.memory import _import_fd
from imagearray.interop.resources import _UINT64_MAX, ExternalSemaphoreDescriptor, _as_int

__all__ = [
    "ExternalSemaphore",
    "destroy_external_semaphore",
    "import_external_semaphore",
    "signal_external_semaphore",
    "wait_external_semaphore",
]


def _semaphore_value(is_timeline: bool, value: Any, op: str) -> int:
    """The fence value for a wait/signal: required for timeline semaphores, refused
    for binary ones. Plain Python."""
    if is_timeline:
        if value is None:
            raise ImageArrayValueError(
                f"a timeline semaphore needs value= to {op} (the counter value to {op} for)"
            )
        v = _as_int("value", value)
        if v > _UINT64_MAX:
            raise ImageArrayValueError(f"value {v} does not fit a 64-bit timeline counter")
        return v
    if value is not None:
        raise ImageArrayValueError(
            f"a binary semaphore has no counter: {op} takes no value (got value={value!r}); "
            "import it as 'timeline_fd' if it is a timeline semaphore"
        )
    return 0


class ExternalSemaphore:
    """An imported semaphore (the spec's ``interop_semaphore_handle``).

    Made by :func:`import_external_semaphore`. :meth:`wait` / :meth:`signal` enqueue
    on a CuPy stream (asynchronous); :meth:`destroy` waits for what was enqueued on it,
    then destroys it. Usable as a context manager.

    Attributes
    ----------
    descriptor : ExternalSemaphoreDescriptor
    handle_type : ExternalSemaphoreHandleType
    is_timeline : bool
    device : cupy.cuda.Device
    device_id : int
    alive : bool

    Examples
    --------
    CUDA exports no semaphores, so the fd comes from the other API (here a Vulkan
    semaphore's, ``vkGetSemaphoreFdKHR``), which no doctest can make:

    >>> import imagearray as ia
    >>> desc = ia.ExternalSemaphoreDescriptor(ia.ResourceFD(vk_semaphore_fd))  # doctest: +SKIP
    >>> with ia.import_external_semaphore(desc) as sem:  # doctest: +SKIP
    ...     sem.wait()  # on the current stream: the GPU waits for Vulkan's signal
    ...     render()  # work enqueued after the wait
    ...     sem.signal()  # Vulkan may go on
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise ImageArrayTypeError("use ia.import_external_semaphore to import a semaphore")

    @classmethod
    def _make(cls, resource: Any, descriptor: ExternalSemaphoreDescriptor) -> ExternalSemaphore:
        self = object.__new__(cls)
        self._res = resource
        self._desc = descriptor
        return self

    @property
    def descriptor(self) -> ExternalSemaphoreDescriptor:
        return self._desc

    @property
    def handle_type(self) -> ExternalSemaphoreHandleType:
        return self._desc.handle_type

    @property
    def is_timeline(self) -> bool:
        return self._desc.is_timeline

    @property
    def device(self):
        """The device the semaphore was imported on, as a ``cupy.cuda.Device`` (as
        ``cupy.ndarray.device``); :attr:`device_id` is its ordinal."""
        import cupy

        return cupy.cuda.Device(int(self._res.device))

    @property
    def device_id(self) -> int:
        """The ordinal of :attr:`device`."""
        return int(self._res.device)

    @property
    def alive(self) -> bool:
        return bool(self._res.alive)

    @property
    def raw_handle(self) -> int:
        """The ``CUexternalSemaphore`` as an int (raises once destroyed)."""
        return int(self._res.raw())

    def wait(self, value: int | None = None, stream: Any = None) -> None:
        """:func:`wait_external_semaphore` on this semaphore."""
        wait_external_semaphore(self, value, stream)

    def signal(self, value: int | None = None, stream: Any = None) -> None:
        """:func:`signal_external_semaphore` on this semaphore."""
        signal_external_semaphore(self, value, stream)

    def destroy(self) -> None:
        """:func:`destroy_external_semaphore`; a second call raises."""
        if not self._res.alive:
            raise ReleasedResourceError("the external semaphore was already destroyed")
        with on_device(self.device_id):
            self._res.destroy()

    def __enter__(self) -> ExternalSemaphore:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._res.alive:
            self.destroy()

    def __repr__(self) -> str:
        state = "alive" if self.alive else "destroyed"
        return f"ExternalSemaphore({self.handle_type.value}, device={self.device_id}, {state})"


def import_external_semaphore(
    desc: ExternalSemaphoreDescriptor, device: Any = None
) -> ExternalSemaphore:
    """Import a semaphore (spec: ``import_external_semaphore``).

    Parameters
    ----------
    desc : ExternalSemaphoreDescriptor
        Binary (``"opaque_fd"``) or timeline (``"timeline_fd"``).
    device : int or cupy.cuda.Device, optional
        Default: CuPy's current device.

    Raises
    ------
    ImageArrayValueError
        The fd is not open or already imported; the device cannot import semaphores
        (or timeline semaphores).
    CUDAError
        The driver refused it; the fd is then still the caller's (left open).

    Notes
    -----
    On success CUDA owns the fd: do not use or close it afterwards.

    Examples
    --------
    >>> sem = ia.import_external_semaphore(  # doctest: +SKIP
    ...     ia.ExternalSemaphoreDescriptor(ia.ResourceFD(fd), "timeline_fd"))
    >>> ia.wait_external_semaphore(sem, value=1)  # doctest: +SKIP
    """
    if not isinstance(desc, ExternalSemaphoreDescriptor):
        raise ImageArrayTypeError(
            f"desc must be an ExternalSemaphoreDescriptor, not {type(desc).__name__}"
        )
    res = desc.external_resource
    res._check_importable(f"a semaphore ({desc.handle_type.value})")
    fd = res.file_descriptor
    dev = get_device(device)
    if not device_has(Aspect.INTEROP_SEMAPHORE_IMPORT, dev):
        raise ImageArrayValueError(f"device {dev} cannot import external semaphores")
    if desc.is_timeline and not device_info("timeline_semaphore_interop_supported", dev):
        raise ImageArrayValueError(f"device {dev} cannot import timeline semaphores")
    code = driver_code(desc.handle_type)
    r = _import_fd(fd, dev, lambda f: _cy.import_semaphore(dev, code, f))
    res._consume()
    return ExternalSemaphore._make(r, desc)


def _check_semaphore(sem: Any, op: str) -> None:
    if not isinstance(sem, ExternalSemaphore):
        raise ImageArrayTypeError(
            f"{op} takes an ExternalSemaphore (from import_external_semaphore), not "
            f"{type(sem).__name__}"
        )
    if not sem._res.alive:
        raise ReleasedResourceError(f"cannot {op}: the external semaphore was already destroyed")


def wait_external_semaphore(
    sem: ExternalSemaphore, value: int | None = None, stream: Any = None
) -> None:
    """Make ``stream`` wait for the semaphore (spec: ``ext_oneapi_wait_external_semaphore``).

    Work enqueued on ``stream`` afterwards does not start until the semaphore is
    signalled: for a binary semaphore, signalled at all; for a timeline semaphore,
    its counter has reached ``value``. Asynchronous: the call itself returns at once.

    Parameters
    ----------
    sem : ExternalSemaphore
    value : int, optional
        Required for a timeline semaphore (0 to 2**64-1); refused for a binary one.
    stream : cupy.cuda.Stream, optional
        Default: CuPy's current stream. It must belong to the semaphore's device.

    Raises
    ------
    ImageArrayValueError
        ``value`` missing (timeline) or given (binary), or out of range.
    ReleasedResourceError
        The semaphore was destroyed.
    DeviceMismatchError
        ``stream`` belongs to another device.

    Examples
    --------
    >>> ia.wait_external_semaphore(timeline_sem, value=2, stream=s)  # doctest: +SKIP
    >>> kernel((g,), (b,), args, stream=s)  # runs once the other API signalled 2
    ... # doctest: +SKIP
    """
    _check_semaphore(sem, "wait on an external semaphore")
    v = _semaphore_value(sem.is_timeline, value, "wait")
    # Inside the device: the default stream (None, 0) is then the semaphore's device's.
    dev = sem.device_id
    with on_device(dev):
        sem._res.wait(v, get_stream(stream, dev))


def signal_external_semaphore(
    sem: ExternalSemaphore, value: int | None = None, stream: Any = None
) -> None:
    """Signal the semaphore after the work on ``stream`` (spec:
    ``ext_oneapi_signal_external_semaphore``).

    The semaphore is signalled (a timeline semaphore's counter set to ``value``) once
    everything enqueued on ``stream`` before this call has finished. Asynchronous.
    Arguments and errors as :func:`wait_external_semaphore`.

    Examples
    --------
    >>> ia.signal_external_semaphore(done_sem)  # doctest: +SKIP
    """
    _check_semaphore(sem, "signal an external semaphore")
    v = _semaphore_value(sem.is_timeline, value, "signal")
    dev = sem.device_id
    with on_device(dev):
        sem._res.signal(v, get_stream(stream, dev))


def destroy_external_semaphore(sem: ExternalSemaphore) -> None:
    """Destroy an imported semaphore (spec: ``destroy_external_semaphore``).

    Waits for the waits and signals already enqueued on it (CUDA requires them to be
    complete), then destroys it. Destroying twice raises :class:`ReleasedResourceError`.

    Examples
    --------
    >>> ia.destroy_external_semaphore(sem)  # doctest: +SKIP
    """
    if not isinstance(sem, ExternalSemaphore):
        raise ImageArrayTypeError(
            f"destroy_external_semaphore takes an ExternalSemaphore, not {type(sem).__name__}"
        )
    sem.destroy()
