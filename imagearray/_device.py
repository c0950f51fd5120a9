"""Device queries and the device/stream model (plain Python over ``_driver``).

Every answer comes from a driver attribute read at call time
(``cuDeviceGetAttribute``); nothing about the device is hard-coded.
"""

from __future__ import annotations

import enum
import operator
import sys
from typing import Any

import numpy

from imagearray import _driver as _drv  # the one checked door to the driver
from imagearray._cuda import CUDA_ERROR_OUT_OF_MEMORY
from imagearray._devinfo import CUDA_MAX_ANISOTROPY, INFO_ATTRS
from imagearray._errors import (
    CUDAOutOfMemoryError,
    CUDAUnavailableError,
    DeviceMismatchError,
    ImageArrayTypeError,
    ImageArrayValueError,
)

__all__ = ["Aspect", "device_has", "device_info", "get_device", "get_stream", "is_available"]


def _attr_id(name: str) -> int:
    from cuda.bindings import driver as cu

    return int(getattr(cu.CUdevice_attribute, "CU_DEVICE_ATTRIBUTE_" + name))


def _attr(name: str, device: int) -> int:
    return _drv.device_attribute(_attr_id(name), device)


def is_available() -> bool:
    """True when a CUDA driver and at least one device are present (never raises).

    Examples
    --------
    Choose the GPU where there is one, and the NumPy reference elsewhere:

    >>> import imagearray as ia
    >>> backend = "gpu" if ia.is_available() else "numpy"
    """
    try:
        return bool(_drv.is_available())
    except ImportError:
        return False


class Aspect(enum.Enum):
    """Device aspects of the bindless-images specification (``aspect::ext_oneapi_*``).

    Examples
    --------
    >>> import imagearray as ia
    >>> ia.Aspect("bindless_images") is ia.Aspect.BINDLESS_IMAGES
    True
    """

    BINDLESS_IMAGES = "bindless_images"
    BINDLESS_IMAGES_SHARED_USM = "bindless_images_shared_usm"
    BINDLESS_IMAGES_1D_USM = "bindless_images_1d_usm"
    BINDLESS_IMAGES_2D_USM = "bindless_images_2d_usm"
    BINDLESS_SAMPLED_IMAGE_FETCH_1D_USM = "bindless_sampled_image_fetch_1d_usm"
    BINDLESS_SAMPLED_IMAGE_FETCH_1D = "bindless_sampled_image_fetch_1d"
    BINDLESS_SAMPLED_IMAGE_FETCH_2D_USM = "bindless_sampled_image_fetch_2d_usm"
    BINDLESS_SAMPLED_IMAGE_FETCH_2D = "bindless_sampled_image_fetch_2d"
    BINDLESS_SAMPLED_IMAGE_FETCH_3D_USM = "bindless_sampled_image_fetch_3d_usm"
    BINDLESS_SAMPLED_IMAGE_FETCH_3D = "bindless_sampled_image_fetch_3d"
    MIPMAP = "mipmap"
    MIPMAP_ANISOTROPY = "mipmap_anisotropy"
    MIPMAP_LEVEL_REFERENCE = "mipmap_level_reference"
    CUBEMAP = "cubemap"
    CUBEMAP_SEAMLESS_FILTERING = "cubemap_seamless_filtering"
    INTEROP_MEMORY_IMPORT = "interop_memory_import"
    INTEROP_MEMORY_EXPORT = "interop_memory_export"
    INTEROP_SEMAPHORE_IMPORT = "interop_semaphore_import"
    INTEROP_SEMAPHORE_EXPORT = "interop_semaphore_export"
    IMAGE_ARRAY = "image_array"
    UNIQUE_ADDRESSING_PER_DIM = "unique_addressing_per_dim"
    BINDLESS_IMAGES_SAMPLE_1D_USM = "bindless_images_sample_1d_usm"
    BINDLESS_IMAGES_SAMPLE_2D_USM = "bindless_images_sample_2d_usm"

    @classmethod
    def _missing_(cls, value: object) -> Aspect | None:
        # DPC++'s names are ext_oneapi_bindless_images_sample_{1,2}d_usm; issue 21 spells
        # them after the fetch aspects, bindless_sampled_image_sample_{1,2}d_usm.
        if isinstance(value, str) and value.startswith("bindless_sampled_image_sample_"):
            return cls._value2member_map_.get(value.replace("sampled_image", "images", 1))
        return None


def _positive(*names: str):
    return lambda dev: all(_attr(n, dev) > 0 for n in names)


def _cc_at_least(major: int, *names: str):
    return lambda dev: (
        _attr("COMPUTE_CAPABILITY_MAJOR", dev) >= major and all(_attr(n, dev) > 0 for n in names)
    )


def _driver_at_least(version: int):
    return lambda dev: sys.platform.startswith("linux") and _drv.driver_version() >= version


# Each aspect is answered from the attribute that bounds the CUDA feature behind it.
# Texture objects (bindless handles), seamless cubemap filtering and anisotropic
# mipmap filtering need compute capability 3.0 (CUDA programming guide, texture
# object API / cubemap textures). CUDA has no linear 3D textures, no semaphore
# export and no texture from shared (managed) memory beyond what managed memory
# itself allows.
_ASPECT_RULES = {
    Aspect.BINDLESS_IMAGES: _cc_at_least(3, "MAXIMUM_TEXTURE2D_WIDTH", "MAXIMUM_SURFACE2D_WIDTH"),
    Aspect.BINDLESS_IMAGES_SHARED_USM: _cc_at_least(3, "MANAGED_MEMORY"),
    Aspect.BINDLESS_IMAGES_1D_USM: _cc_at_least(3, "MAXIMUM_TEXTURE1D_LINEAR_WIDTH"),
    Aspect.BINDLESS_IMAGES_2D_USM: _cc_at_least(3, "MAXIMUM_TEXTURE2D_LINEAR_WIDTH"),
    Aspect.BINDLESS_SAMPLED_IMAGE_FETCH_1D_USM: _cc_at_least(3, "MAXIMUM_TEXTURE1D_LINEAR_WIDTH"),
    # The device API fetches 1D sampled images with tex1Dfetch, which reads linear
    # memory only (as DPC++'s CUDA backend reports): no 1D fetch from image memory.
    Aspect.BINDLESS_SAMPLED_IMAGE_FETCH_1D: lambda dev: False,
    Aspect.BINDLESS_SAMPLED_IMAGE_FETCH_2D_USM: _cc_at_least(3, "MAXIMUM_TEXTURE2D_LINEAR_WIDTH"),
    Aspect.BINDLESS_SAMPLED_IMAGE_FETCH_2D: _cc_at_least(3, "MAXIMUM_TEXTURE2D_WIDTH"),
    # CUDA exposes no 3D texture over linear memory: no attribute bounds one.
    Aspect.BINDLESS_SAMPLED_IMAGE_FETCH_3D_USM: lambda dev: False,
    Aspect.BINDLESS_SAMPLED_IMAGE_FETCH_3D: _cc_at_least(3, "MAXIMUM_TEXTURE3D_WIDTH"),
    Aspect.MIPMAP: _cc_at_least(3, "MAXIMUM_TEXTURE2D_MIPMAPPED_WIDTH"),
    Aspect.MIPMAP_ANISOTROPY: _cc_at_least(3, "MAXIMUM_TEXTURE2D_MIPMAPPED_WIDTH"),
    Aspect.MIPMAP_LEVEL_REFERENCE: _cc_at_least(3, "MAXIMUM_TEXTURE2D_MIPMAPPED_WIDTH"),
    Aspect.CUBEMAP: _cc_at_least(3, "MAXIMUM_TEXTURECUBEMAP_WIDTH", "MAXIMUM_SURFACECUBEMAP_WIDTH"),
    Aspect.CUBEMAP_SEAMLESS_FILTERING: _cc_at_least(3, "MAXIMUM_TEXTURECUBEMAP_WIDTH"),
    # cuImportExternalMemory / cuImportExternalSemaphore: CUDA 10.0+, POSIX fds on Linux.
    Aspect.INTEROP_MEMORY_IMPORT: _driver_at_least(10000),
    Aspect.INTEROP_MEMORY_EXPORT: _positive(
        "VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED", "HANDLE_TYPE_POSIX_FILE_DESCRIPTOR_SUPPORTED"
    ),
    Aspect.INTEROP_SEMAPHORE_IMPORT: _driver_at_least(10000),
    # The spec's note: CUDA imports semaphores but cannot export its own.
    Aspect.INTEROP_SEMAPHORE_EXPORT: lambda dev: False,
    Aspect.IMAGE_ARRAY: _cc_at_least(
        3, "MAXIMUM_TEXTURE2D_LAYERED_LAYERS", "MAXIMUM_TEXTURE1D_LAYERED_LAYERS"
    ),
    # Texture objects carry one address mode per dimension (addressMode[3]).
    Aspect.UNIQUE_ADDRESSING_PER_DIM: _cc_at_least(3, "MAXIMUM_TEXTURE2D_WIDTH"),
    # 1D linear memory is read with tex1Dfetch only (no filter, addressing or normalized
    # coordinates on CU_RESOURCE_TYPE_LINEAR); 2D pitched memory samples as arrays do.
    Aspect.BINDLESS_IMAGES_SAMPLE_1D_USM: lambda dev: False,
    Aspect.BINDLESS_IMAGES_SAMPLE_2D_USM: _cc_at_least(3, "MAXIMUM_TEXTURE2D_LINEAR_WIDTH"),
}


def get_device(device: Any = None) -> int:
    """Resolve ``device`` (None = CuPy's current device, an int, or a
    ``cupy.cuda.Device``) to a device ordinal, checking it exists.

    Raises
    ------
    CUDAUnavailableError
        No driver or no device.
    DeviceMismatchError
        The ordinal is not a device of this machine.

    Examples
    --------
    >>> import cupy
    >>> import imagearray as ia
    >>> ia.get_device() == cupy.cuda.Device().id
    True
    """
    # The argument is checked before the driver is touched: a wrong type is reported
    # as such, also on a machine without CUDA.
    dev = None
    if device is not None:
        if hasattr(device, "id"):
            device = device.id
        if isinstance(device, int) and not isinstance(device, bool):
            dev = int(device)
        else:
            raise ImageArrayTypeError(
                "device must be None, an int or a cupy.cuda.Device, not "
                f"{device!r} of type {type(device).__name__}"
            )
    drv = _drv
    drv.init()
    if dev is None:
        import cupy

        try:
            dev = cupy.cuda.runtime.getDevice()
        except Exception as exc:  # CuPy's runtime failing here means no usable device
            raise CUDAUnavailableError(f"CuPy cannot use a CUDA device: {exc}") from None
    n = drv.device_count()
    if not 0 <= dev < n:
        raise DeviceMismatchError(f"device {dev} does not exist: this machine has {n} device(s)")
    return dev


def get_stream(stream: Any = None, device: int | None = None) -> int:
    """Resolve ``stream`` to a raw ``CUstream`` handle (an int).

    ``None`` means CuPy's current stream of ``device`` (default: the current device);
    a ``cupy.cuda.Stream``/``ExternalStream``, any object with ``__cuda_stream__``
    (cuda.core) or a raw int handle are accepted. When ``device`` is given, a stream
    of another device raises :class:`DeviceMismatchError`.

    A raw handle other than 0, 1 (legacy) and 2 (per-thread), from an int, from
    ``__cuda_stream__`` or in a ``cupy.cuda.ExternalStream``, is a pointer to the
    driver's stream object: the driver dereferences it, and a made-up number crashes
    the process inside the driver (the issue's segfault). It is checked as far as can
    be done without the driver: 8-byte aligned and pointing into the private
    read-write memory (heap or anonymous) where the driver keeps its objects
    (:func:`_stream_pointer_ok`), else :class:`ImageArrayValueError`.
    What passes is, as with ``cupy.cuda.ExternalStream``, a stream the caller vouches
    for: a pointer into live memory that is not a stream, or to a destroyed stream,
    is undefined behaviour that no driver call can detect safely.

    Examples
    --------
    >>> import cupy
    >>> import imagearray as ia
    >>> with cupy.cuda.Stream() as s:
    ...     ia.get_stream() == s.ptr
    True
    """
    import cupy

    if device is not None:
        if isinstance(device, (bool, numpy.bool_)) or not isinstance(device, (int, numpy.integer)):
            raise ImageArrayTypeError(f"device must be None or a device ordinal, not {device!r}")
        if not 0 <= device < 2**31:
            raise ImageArrayValueError(f"device {device} is not a device ordinal")
        device = int(device)
    if stream is None:
        try:
            handle = int(cupy.cuda.get_current_stream(-1 if device is None else device).ptr)
        except Exception as exc:  # CuPy's runtime failing here means no usable device
            raise CUDAUnavailableError(f"CuPy cannot use a CUDA device: {exc}") from None
    elif isinstance(stream, cupy.cuda.Stream):  # made by CuPy: a live stream
        handle = int(stream.ptr)
    else:
        if isinstance(stream, cupy.cuda.ExternalStream):
            handle = int(stream.ptr)
        elif hasattr(stream, "__cuda_stream__"):
            try:
                handle = operator.index(stream.__cuda_stream__()[1])
            except Exception as exc:
                raise ImageArrayTypeError(
                    f"stream.__cuda_stream__() must return (version, handle), failed with {exc!r}"
                ) from None
        elif isinstance(stream, (int, numpy.integer)) and not isinstance(stream, bool):
            handle = int(stream)
        else:
            raise ImageArrayTypeError(
                "stream must be None, a cupy.cuda.Stream, an object with __cuda_stream__ or "
                f"an int handle, not {type(stream).__name__}"
            )
        check_raw_stream(handle)
    # 0, 1 (cudaStreamLegacy) and 2 (cudaStreamPerThread) are the current context's.
    if device is not None and handle > 2:
        sdev = _drv.stream_device(handle)
        if sdev != device:
            raise DeviceMismatchError(f"stream belongs to device {sdev}, the operation to {device}")
    return handle


_STREAMS_CHECKED: set[int] = set()  # raw handles that passed (bounded: emptied when full)
_MAX_STREAMS_CHECKED = 256


def check_raw_stream(handle: int) -> None:
    """Refuse a raw ``CUstream`` the driver would crash on (see :func:`get_stream`):
    outside 64 bits, or (other than 0, 1, 2) not :func:`_stream_pointer_ok`."""
    if not 0 <= handle < 2**64:
        raise ImageArrayValueError(f"stream handle {handle} is not a 64-bit CUstream")
    if handle <= 2 or handle in _STREAMS_CHECKED:
        return
    if not _stream_pointer_ok(handle):
        raise ImageArrayValueError(
            f"stream handle {handle:#x} is not a CUDA stream: 0 (default), 1 (legacy), "
            "2 (per-thread) or a live CUstream (a pointer into this process's memory, "
            "e.g. cupy.cuda.Stream().ptr) are allowed"
        )
    if len(_STREAMS_CHECKED) >= _MAX_STREAMS_CHECKED:
        _STREAMS_CHECKED.clear()
    _STREAMS_CHECKED.add(handle)


def _stream_pointer_ok(address: int, size: int = 16) -> bool:
    """Whether ``address`` could be the driver's stream object: 8-byte aligned, and
    ``size`` bytes there inside one private read-write mapping of this process that
    is anonymous or the heap, where the driver's ``malloc`` puts its objects (read
    from ``/proc/self/maps``). Reading ``/proc/self/mem`` was not enough: it reads
    ``PROT_NONE`` reservations, such as the CUDA driver's address-space reserve, which
    then fault in the driver (the H200's bogus-stream segfault). Where the maps
    cannot be read (not Linux, a sandbox) only the alignment is checked."""
    if address % 8:
        return False
    try:
        with open("/proc/self/maps", "rb") as f:
            maps = f.read()
    except OSError:
        return True  # cannot tell: the caller vouches, as for ExternalStream
    end = address + size
    for line in maps.splitlines():
        fields = line.split(maxsplit=5)
        lo, _, hi = fields[0].partition(b"-")
        if int(lo, 16) <= address < int(hi, 16):
            path = fields[5].strip() if len(fields) > 5 else b""
            return (
                end <= int(hi, 16)
                and fields[1].startswith(b"rw")
                and fields[1].endswith(b"p")
                and path in (b"", b"[heap]")
            )
    return False


def device_has(aspect: Aspect | str, device: Any = None) -> bool:
    """Whether ``device`` (default: CuPy's current device) has ``aspect``.

    Parameters
    ----------
    aspect : Aspect or str
        An :class:`Aspect` member or its value, e.g. ``"mipmap"``.
    device : int or cupy.cuda.Device, optional

    Examples
    --------
    >>> import imagearray as ia
    >>> ia.device_has(ia.Aspect.MIPMAP)
    True
    """
    try:
        if not isinstance(aspect, Aspect):
            if not isinstance(aspect, str):
                raise ValueError(aspect)
            aspect = Aspect(aspect)
    except ValueError:
        allowed = ", ".join(a.value for a in Aspect)
        raise ImageArrayTypeError(f"unknown aspect {aspect!r}; allowed: {allowed}") from None
    dev = get_device(device)
    return bool(_ASPECT_RULES[aspect](dev))


def device_info(name: str | None = None, device: Any = None) -> Any:
    """Image-related limits of ``device`` (default: CuPy's current device).

    With ``name`` returns that one value, otherwise a dict of all of them.
    Extents are in texture order (width, height, depth / layers).

    Keys: ``image_row_pitch_align``, ``max_image_linear_width``,
    ``max_image_linear_height``, ``max_image_linear_row_pitch``,
    ``mipmap_max_anisotropy``, ``max_image_1d`` … ``max_image_cubemap_array``,
    ``max_image_2d_gather`` (2D images allocated with ``gather=True``),
    ``max_surface_*``, ``exportable_memory_supported``, ``compute_capability``,
    ``name``, ``total_memory``, ``driver_version``.

    Examples
    --------
    >>> import imagearray as ia
    >>> ia.device_info("image_row_pitch_align") in (32, 64, 128, 256, 512)  # bytes
    True
    """
    keys = [*INFO_ATTRS, "mipmap_max_anisotropy", "name", "total_memory", "driver_version"]
    if name is not None and (not isinstance(name, str) or name not in keys):
        raise ImageArrayTypeError(f"unknown device_info key {name!r}; allowed: {', '.join(keys)}")
    dev = get_device(device)
    wanted = keys if name is None else [name]
    drv = _drv
    out: dict[str, Any] = {}
    for key in wanted:
        if key == "mipmap_max_anisotropy":
            out[key] = CUDA_MAX_ANISOTROPY if device_has(Aspect.MIPMAP_ANISOTROPY, dev) else 0
        elif key == "name":
            out[key] = drv.device_name(dev)
        elif key == "total_memory":
            out[key] = drv.device_total_mem(dev)
        elif key == "driver_version":
            out[key] = drv.driver_version()
        elif key == "exportable_memory_supported":
            out[key] = all(_attr(a, dev) > 0 for a in INFO_ATTRS[key])
        elif key == "timeline_semaphore_interop_supported":
            out[key] = _attr(INFO_ATTRS[key], dev) > 0
        else:
            attrs = INFO_ATTRS[key]
            if isinstance(attrs, str):
                out[key] = _attr(attrs, dev)
            else:
                out[key] = tuple(_attr(a, dev) for a in attrs)
    return out if name is None else out[name]


# ------------------------------------------------------- current device and stream

_RUNTIME: Any = None  # cupy.cuda.runtime, imported on first use


def current_device() -> int:
    """CuPy's current device, or -1 where CuPy cannot tell (on_device then copes)."""
    global _RUNTIME
    rt = _RUNTIME
    if rt is None:
        import cupy

        rt = _RUNTIME = cupy.cuda.runtime
    try:
        return rt.getDevice()
    except Exception:
        return -1


def call_on_device(device: int, fn: Any, *args: Any) -> Any:
    """``fn(*args)`` under :class:`on_device` ``(device)``; called straight away when
    ``device`` is already current (the common case: no context object on hot paths)."""
    if current_device() == device:
        return fn(*args)
    with on_device(device):
        return fn(*args)


def assign(dst: Any, src: Any) -> None:
    """``dst[...] = src`` for two CuPy arrays that may be on two devices: done on
    ``dst``'s, with ``src`` first copied there where it is elsewhere (``cupy.asarray``:
    a memcpy, which needs no peer access, where CuPy's elementwise copy across two
    devices needs it and raises without)."""
    import cupy

    dev = dst.device.id
    with on_device(dev):
        dst[...] = src if src.device.id == dev else cupy.asarray(src)


class on_device:  # noqa: N801 - used like a function, as cupy.cuda.Device is
    """CuPy's ``Device(device)`` context: the Cython layer then finds that device's
    primary context current and never switches contexts behind CuPy's back. Without
    a usable device it does nothing: the driver call inside reports that itself."""

    __slots__ = ("_device", "_cm")

    def __init__(self, device: int) -> None:
        self._device = device
        self._cm = None

    def __enter__(self) -> None:
        import cupy

        try:
            if cupy.cuda.runtime.getDevice() == self._device:
                return  # already current: nothing to switch (the common case, and cheap)
            cm = cupy.cuda.Device(self._device)
            cm.__enter__()
        except cupy.cuda.runtime.CUDARuntimeError:
            return
        self._cm = cm

    def __exit__(self, *exc) -> None:
        if self._cm is not None:
            self._cm.__exit__(*exc)
            self._cm = None


class RawStream:
    """A raw ``CUstream`` handle in the CUDA stream protocol (for CuPy's
    ``Stream.from_external``)."""

    __slots__ = ("_handle",)

    def __init__(self, handle: int) -> None:
        self._handle = handle

    def __cuda_stream__(self) -> tuple[int, int]:
        return (0, self._handle)


class Scope:
    """``device`` current (through :class:`on_device`) and, optionally, ``stream``
    CuPy's current stream: CuPy temporaries made inside come from that stream's
    memory-pool arena and their kernels run on it, ordered before the copies and
    launches enqueued there. A plain class: it sits on every sample()/fetch() call,
    where a generator-based context manager would cost more than the launch."""

    __slots__ = ("_device", "_stream", "_entered")

    def __init__(self, device: int, stream: Any = None) -> None:
        self._device = device
        self._stream = stream
        self._entered: list = []

    def __enter__(self) -> None:
        import cupy

        entered = self._entered
        device = on_device(self._device)  # skips the switch when already current
        device.__enter__()
        entered.append(device)
        if self._stream is not None:
            try:
                handle = get_stream(self._stream, self._device)  # checks the stream's device
                s = self._stream
                if not isinstance(s, (cupy.cuda.Stream, cupy.cuda.ExternalStream)):
                    s = cupy.cuda.Stream.from_external(RawStream(handle))
                s.__enter__()
            except BaseException:
                self.__exit__(None, None, None)
                raise
            entered.append(s)

    def __exit__(self, *exc) -> None:
        entered = self._entered
        while entered:
            entered.pop().__exit__(*exc)


def stream_device(handle: int) -> int:
    """The device a raw stream handle (> 2) belongs to."""
    return int(_drv.stream_device(handle))


_CUDA: Any = None  # cupy.cuda, imported on the first event (importing imagearray does not)


def current_stream(device: int) -> int:
    """``get_stream(None, device)`` for hot paths: CuPy's current stream of
    ``device``. A default stream (0, 1, 2: the current context's) is taken as it is;
    any other, and a CuPy failure, go through get_stream, which checks the stream's
    device."""
    global _CUDA
    cuda = _CUDA
    if cuda is None:
        import cupy

        cuda = _CUDA = cupy.cuda
    try:
        handle = int(cuda.get_current_stream(device).ptr)
    except Exception:
        handle = -1
    return handle if 0 <= handle <= 2 else get_stream(None, device)


def record_event(stream_handle: int) -> Any:
    """A new ``cupy.cuda.Event`` (no timing) recorded on ``stream_handle`` through the
    driver's checked door; ``.synchronize()`` waits for what was enqueued before."""
    global _CUDA
    cuda = _CUDA
    if cuda is None:
        import cupy

        cuda = _CUDA = cupy.cuda
    event = cuda.Event(block=False, disable_timing=True)
    _drv.record_event(event.ptr, stream_handle)
    return event


def cupy_out_of_memory(exc: BaseException, what: str) -> CUDAOutOfMemoryError | None:
    """CuPy's ``OutOfMemoryError`` (its memory pool could not allocate on the device)
    as the family's :class:`CUDAOutOfMemoryError` saying ``what`` was being done, or
    None for any other exception (a host ``MemoryError`` among them).

    Use: ``except MemoryError as exc: err = cupy_out_of_memory(exc, what); if err is
    None: raise; raise err from exc``."""
    if isinstance(exc, CUDAOutOfMemoryError):
        return None
    try:
        import cupy
    except ImportError:  # pragma: no cover - cupy is a dependency
        return None
    if not isinstance(exc, cupy.cuda.memory.OutOfMemoryError):
        return None
    return CUDAOutOfMemoryError(
        CUDA_ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY", str(exc), what
    )
