"""Interoperability: importing external memory and semaphores (spec: "Interoperability").

Another API (Vulkan, OpenGL, another process) exports memory or a semaphore as a POSIX
file descriptor; imagearray imports it and uses it as image memory, as a CuPy array,
or to order work on CuPy streams against the other API.

File descriptors follow CUDA's rule, as Vulkan's do: **on a successful import CUDA owns
the fd** (do not use or close it afterwards; the :class:`ResourceFD` is marked
``consumed`` and cannot be imported again), and **on a failed import the caller still
owns it** (it is left open). The driver is handed a duplicate, because the 13.0
driver closes the descriptor it was given even when the import fails; after a
successful import imagearray closes the caller's fd (CUDA owns the duplicate), and
after a failed one it leaves it open.

Lifetimes: every object here frees its CUDA resource exactly once, through its
``release()``/``destroy()``, a ``with`` block or garbage collection. Memory mapped from
an import (image memory, CuPy arrays) keeps the import alive: releasing the import
while mappings exist refuses new mappings at once and destroys the CUDA object when
the last mapping is freed.

All validation happens here, before any CUDA call; the Cython layer
(``imagearray._interop``) only runs the driver calls. Image extents are in texture
order (x = width, y = height, z = depth).
"""

from __future__ import annotations

import enum
import math
import os
import sys
from dataclasses import dataclass
from typing import Any

import numpy

from imagearray._coerce import coerce_int
from imagearray._descriptor import ImageDescriptor
from imagearray._enums import ImageType
from imagearray._errors import (
    CUDAError,
    DeviceMismatchError,
    ImageArrayTypeError,
    ImageArrayValueError,
    ReleasedResourceError,
)
from imagearray._image_mem import on_device  # CuPy's Device around driver calls

__all__ = [
    "ExternalMemHandleType",
    "ExternalSemaphoreHandleType",
    "ResourceFD",
    "ResourceWin32Handle",
    "ResourceWin32Name",
    "ExternalMemDescriptor",
    "ExternalSemaphoreDescriptor",
    "ExternalMemory",
    "ExternalSemaphore",
    "import_external_memory",
    "map_external_image_memory",
    "map_external_linear_memory",
    "release_external_memory",
    "import_external_semaphore",
    "wait_external_semaphore",
    "signal_external_semaphore",
    "destroy_external_semaphore",
    "image_array_from_external",
    "plan_linear_mapping",
    "plan_image_mapping",
]

_UINT64_MAX = 2**64 - 1
_INT_MAX = 2**31 - 1


def _cy():
    # The Cython layer, imported lazily so that importing imagearray never needs it.
    from imagearray import _interop

    return _interop


def _as_int(name: str, value: Any, minimum: int = 0) -> int:
    return coerce_int(name, value, minimum)


def _check_maps_as_image(handle_type: ExternalMemHandleType) -> None:
    if handle_type is ExternalMemHandleType.DMA_BUF:
        raise ImageArrayValueError(
            "dma_buf memory cannot be mapped as image memory (CUDA maps a dma-buf import "
            "only as linear memory: use map_external_linear_memory)"
        )


# --------------------------------------------------------------------------- handle types


class ExternalMemHandleType(enum.Enum):
    """How external memory is named (spec: ``external_mem_handle_type``).

    ``OPAQUE_FD`` (Vulkan's ``VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT``, CUDA's
    ``cuMemExportToShareableHandle``) and ``DMA_BUF`` (a Linux dma-buf fd, where the
    driver supports importing one) are POSIX file descriptors. ``WIN32_NT`` is a
    Windows NT handle: refused on this platform.
    """

    OPAQUE_FD = "opaque_fd"
    DMA_BUF = "dma_buf"
    WIN32_NT = "win32_nt"

    @property
    def is_win32(self) -> bool:
        return self is ExternalMemHandleType.WIN32_NT


class ExternalSemaphoreHandleType(enum.Enum):
    """How an external semaphore is named (spec: ``external_semaphore_handle_type``).

    ``OPAQUE_FD`` is a binary semaphore and ``TIMELINE_FD`` a timeline semaphore
    (Vulkan ``VK_SEMAPHORE_TYPE_TIMELINE``), both exported as opaque POSIX fds. The
    ``WIN32`` kinds are Windows NT handles: refused on this platform.
    """

    OPAQUE_FD = "opaque_fd"
    TIMELINE_FD = "timeline_fd"
    WIN32_NT = "win32_nt"
    TIMELINE_WIN32_NT = "timeline_win32_nt"

    @property
    def is_timeline(self) -> bool:
        return self in (
            ExternalSemaphoreHandleType.TIMELINE_FD,
            ExternalSemaphoreHandleType.TIMELINE_WIN32_NT,
        )

    @property
    def is_win32(self) -> bool:
        return self in (
            ExternalSemaphoreHandleType.WIN32_NT,
            ExternalSemaphoreHandleType.TIMELINE_WIN32_NT,
        )


def _as_handle_type(enum_cls: type[enum.Enum], value: Any) -> Any:
    if isinstance(value, enum_cls):
        return value
    if isinstance(value, str):
        try:
            return enum_cls(value.lower())
        except ValueError:
            pass
    allowed = ", ".join(repr(m.value) for m in enum_cls)
    raise ImageArrayValueError(
        f"unknown {enum_cls.__name__} {value!r}; allowed: {allowed} (or the enum members)"
    )


def _refuse_win32(kind: str) -> None:
    if sys.platform == "win32":  # pragma: no cover - imagearray targets Linux
        raise ImageArrayValueError(
            f"{kind} (a Windows NT handle) is not supported by imagearray yet: use a POSIX "
            "file descriptor handle type"
        )
    raise ImageArrayValueError(
        f"{kind} is a Windows NT handle type: not available on this platform "
        f"({sys.platform}); use OPAQUE_FD (a POSIX file descriptor) instead"
    )


# --------------------------------------------------------------------------- resources


class ResourceFD:
    """A POSIX file descriptor naming an external resource (spec: ``resource_fd``).

    Parameters
    ----------
    file_descriptor : int
        The fd the exporting API returned (e.g. ``vkGetMemoryFdKHR``,
        ``vkGetSemaphoreFdKHR``, :func:`export_memory_handle`, or one received over a
        Unix socket).

    Notes
    -----
    A successful import transfers the fd to CUDA (CUDA's and Vulkan's rule): the
    object then reports ``consumed`` and importing it again raises, because the fd
    number may by then name something else. A failed import leaves the fd open and
    the object usable: closing it is still the caller's job.

    Examples
    --------
    >>> r = ia.ResourceFD(fd)  # doctest: +SKIP
    >>> mem = ia.import_external_memory(ia.ExternalMemDescriptor(r, nbytes))  # doctest: +SKIP
    >>> r.consumed  # doctest: +SKIP
    True
    """

    __slots__ = ("_fd", "_consumed")

    def __init__(self, file_descriptor: int) -> None:
        fd = _as_int("file_descriptor", file_descriptor)
        if fd > _INT_MAX:
            # A POSIX fd is a C int (CUDA's handle.fd too): a larger number names none.
            raise ImageArrayValueError(
                f"file_descriptor {fd} is not a file descriptor (larger than {_INT_MAX})"
            )
        self._fd = fd
        self._consumed = False

    @property
    def file_descriptor(self) -> int:
        return self._fd

    @property
    def consumed(self) -> bool:
        """True once a successful import transferred the fd to CUDA."""
        return self._consumed

    def _check_importable(self, what: str) -> None:
        """Refuse an fd CUDA already owns or one that is not open (before any CUDA call)."""
        if self._consumed:
            raise ImageArrayValueError(
                f"file descriptor {self._fd} was already imported: CUDA owns it since that "
                f"import succeeded, so it cannot be imported as {what} again (export a new fd)"
            )
        try:
            os.fstat(self._fd)
        except OSError as exc:
            raise ImageArrayValueError(
                f"file descriptor {self._fd} is not open ({exc.strerror}): {what} needs an "
                "open fd exported by the other API"
            ) from None

    def _consume(self) -> None:
        self._consumed = True

    def __repr__(self) -> str:
        state = ", consumed" if self._consumed else ""
        return f"ResourceFD({self._fd}{state})"


@dataclass(frozen=True)
class ResourceWin32Handle:
    """A Windows NT handle (spec: ``resource_win32_handle``). Refused on Linux."""

    handle: int


@dataclass(frozen=True)
class ResourceWin32Name:
    """A named Windows NT object (spec: ``resource_win32_name``). Refused on Linux."""

    name: str


_RESOURCE_TYPES = (ResourceFD, ResourceWin32Handle, ResourceWin32Name)


def _check_resource(resource: Any) -> None:
    if not isinstance(resource, _RESOURCE_TYPES):
        raise ImageArrayTypeError(
            "external_resource must be a ResourceFD (or ResourceWin32Handle / "
            f"ResourceWin32Name), not {type(resource).__name__}"
        )


# --------------------------------------------------------------------------- descriptors


@dataclass(frozen=True)
class ExternalMemDescriptor:
    """What to import (spec: ``external_mem_descriptor<ResourceType>``).

    Parameters
    ----------
    external_resource : ResourceFD
        The exported handle.
    size_in_bytes : int
        Size of the exported allocation in bytes (for Vulkan memory, the
        ``allocationSize`` it was allocated with).
    handle_type : ExternalMemHandleType or str, optional
        ``"opaque_fd"`` (default for a :class:`ResourceFD`) or ``"dma_buf"``.
        Windows types raise :class:`ImageArrayValueError` on this platform.
    dedicated : bool, optional
        The memory is a dedicated allocation (Vulkan ``VkMemoryDedicatedAllocateInfo``,
        usual for images); CUDA must be told so (``CUDA_EXTERNAL_MEMORY_DEDICATED``).

    Raises
    ------
    ImageArrayTypeError
        A field has the wrong type.
    ImageArrayValueError
        ``size_in_bytes`` < 1 or above 2**64 - 1, an unknown or Windows handle type,
        a handle type that does not fit the resource, or a dedicated ``dma_buf``.

    Examples
    --------
    >>> desc = ia.ExternalMemDescriptor(ia.ResourceFD(fd), 4 << 20)  # doctest: +SKIP
    >>> mem = ia.import_external_memory(desc)  # doctest: +SKIP
    """

    external_resource: Any
    size_in_bytes: int
    handle_type: Any = None
    dedicated: bool = False

    def __post_init__(self) -> None:
        _check_resource(self.external_resource)
        size = _as_int("size_in_bytes", self.size_in_bytes, 1)
        if size > _UINT64_MAX:
            raise ImageArrayValueError(f"size_in_bytes {size} does not fit 64 bits")
        object.__setattr__(self, "size_in_bytes", size)
        res = self.external_resource
        if self.handle_type is None:
            ht = (
                ExternalMemHandleType.OPAQUE_FD
                if isinstance(res, ResourceFD)
                else ExternalMemHandleType.WIN32_NT
            )
        else:
            ht = _as_handle_type(ExternalMemHandleType, self.handle_type)
        object.__setattr__(self, "handle_type", ht)
        if ht.is_win32 != (not isinstance(res, ResourceFD)):
            raise ImageArrayValueError(
                f"handle_type {ht.value} does not fit a {type(res).__name__}: file descriptor "
                "types take a ResourceFD, win32_nt a ResourceWin32Handle/Name"
            )
        if ht.is_win32:
            _refuse_win32(f"external memory handle type {ht.value}")
        if not isinstance(self.dedicated, (bool, numpy.bool_)):
            raise ImageArrayTypeError(f"dedicated must be a bool, not {self.dedicated!r}")
        if self.dedicated and ht is ExternalMemHandleType.DMA_BUF:
            # cuImportExternalMemory: for a dma-buf, flags must be zero.
            raise ImageArrayValueError(
                "a dma_buf import cannot be dedicated (CUDA takes no flags for dma-bufs)"
            )


@dataclass(frozen=True)
class ExternalSemaphoreDescriptor:
    """What semaphore to import (spec: ``external_semaphore_descriptor<ResourceType>``).

    Parameters
    ----------
    external_resource : ResourceFD
        The exported semaphore (e.g. from ``vkGetSemaphoreFdKHR``).
    handle_type : ExternalSemaphoreHandleType or str, optional
        ``"opaque_fd"`` (binary semaphore, the default for a :class:`ResourceFD`) or
        ``"timeline_fd"`` (timeline semaphore). Windows types raise on this platform.

    Examples
    --------
    >>> desc = ia.ExternalSemaphoreDescriptor(ia.ResourceFD(fd), "timeline_fd")  # doctest: +SKIP
    >>> sem = ia.import_external_semaphore(desc)  # doctest: +SKIP
    """

    external_resource: Any
    handle_type: Any = None

    def __post_init__(self) -> None:
        _check_resource(self.external_resource)
        res = self.external_resource
        if self.handle_type is None:
            ht = (
                ExternalSemaphoreHandleType.OPAQUE_FD
                if isinstance(res, ResourceFD)
                else ExternalSemaphoreHandleType.WIN32_NT
            )
        else:
            ht = _as_handle_type(ExternalSemaphoreHandleType, self.handle_type)
        object.__setattr__(self, "handle_type", ht)
        if ht.is_win32 != (not isinstance(res, ResourceFD)):
            raise ImageArrayValueError(
                f"handle_type {ht.value} does not fit a {type(res).__name__}: file descriptor "
                "types take a ResourceFD, win32 types a ResourceWin32Handle/Name"
            )
        if ht.is_win32:
            _refuse_win32(f"external semaphore handle type {ht.value}")

    @property
    def is_timeline(self) -> bool:
        return self.handle_type.is_timeline


# --------------------------------------------------------------------------- plans (plain Python)


def _int_tuple(name: str, value: Any) -> tuple[int, ...]:
    """An int or a sequence of ints (each >= 0) as a tuple of Python ints."""
    if isinstance(value, (int, numpy.integer)) and not isinstance(value, bool):
        value = (value,)
    try:
        if isinstance(value, (str, bytes)):
            raise TypeError(value)
        items = tuple(value)
    except Exception:
        raise ImageArrayTypeError(
            f"{name} must be an int or a sequence of ints, got {value!r} of type "
            f"{type(value).__name__}"
        ) from None
    return tuple(_as_int(f"{name}[{i}]", v) for i, v in enumerate(items))


def plan_linear_mapping(
    available: int,
    offset: Any = 0,
    size: Any = None,
    dtype: Any = numpy.uint8,
    shape: Any = None,
    strides: Any = None,
) -> tuple[int, int, numpy.dtype, tuple[int, ...], tuple[int, ...] | None]:
    """Check a linear mapping of ``size`` bytes at ``offset`` of ``available`` bytes,
    viewed as ``dtype``/``shape``/``strides`` (NumPy order). Plain Python.

    Returns ``(offset, size, dtype, shape, strides)``; raises
    :class:`ImageArrayValueError` when the view does not fit.
    """
    offset = _as_int("offset", offset)
    if offset >= available:
        raise ImageArrayValueError(
            f"offset {offset} is outside the memory: it has {available} bytes"
        )
    size = available - offset if size is None else _as_int("size", size, 1)
    if offset + size > available:
        raise ImageArrayValueError(
            f"offset {offset} + size {size} = {offset + size} bytes is larger than the "
            f"memory, which has {available} bytes"
        )
    try:
        dt = numpy.dtype(dtype)
    except Exception:  # TypeError, or ValueError for malformed specs like (int, -1)
        raise ImageArrayTypeError(f"dtype {dtype!r} is not a NumPy dtype") from None
    if dt.itemsize == 0 or dt.hasobject:
        raise ImageArrayTypeError(f"dtype {dt} cannot describe device memory")
    if shape is None:
        if strides is not None:
            raise ImageArrayValueError("strides need a shape")
        if size < dt.itemsize:
            raise ImageArrayValueError(f"{size} bytes hold no element of {dt}")
        shape_t: tuple[int, ...] = (size // dt.itemsize,)
    else:
        shape_t = _int_tuple("shape", shape)
    strides_t = None
    if strides is None:
        # Python ints: a NumPy int64 product would wrap around (2**32 * 2**32 -> 0).
        needed = math.prod(shape_t) * dt.itemsize
    else:
        strides_t = _int_tuple("strides", strides)
        if len(strides_t) != len(shape_t):
            raise ImageArrayValueError(
                f"strides {strides_t} and shape {shape_t} have different lengths"
            )
        if any(s % dt.itemsize for s in strides_t):
            raise ImageArrayValueError(
                f"strides {strides_t} must be multiples of the item size {dt.itemsize}"
            )
        if 0 in shape_t:
            needed = 0
        else:
            needed = sum((n - 1) * s for n, s in zip(shape_t, strides_t)) + dt.itemsize
    if needed > size:
        raise ImageArrayValueError(
            f"a {dt} array of shape {shape_t}"
            + (f" and strides {strides_t}" if strides_t else "")
            + f" needs {needed} bytes, more than the {size} bytes mapped"
        )
    return offset, size, dt, shape_t, strides_t


def plan_image_mapping(
    available: int, desc: Any, offset: Any = 0, color_attachment: bool = False
) -> tuple[int, int, int, int, int, int, int, int]:
    """Check that ``desc`` can be mapped at ``offset`` of ``available`` bytes; return
    ``(offset, width, height, depth, cuda_format, channels, flags, levels)`` with CUDA
    extents (0 for unused dimensions). Plain Python (no device query).
    """
    from imagearray._image_mem import cuda_format, cuda_geometry

    if not isinstance(desc, ImageDescriptor):
        raise ImageArrayTypeError(f"desc must be an ImageDescriptor, not {type(desc).__name__}")
    desc.verify()
    if desc.type not in (ImageType.STANDARD, ImageType.MIPMAP):
        raise ImageArrayValueError(
            f"external memory maps standard or mipmap images only (the spec's importable "
            f"image types), not {desc.type.value}: {desc}"
        )
    offset = _as_int("offset", offset)
    if offset + desc.nbytes > available:
        raise ImageArrayValueError(
            f"{desc} needs at least {desc.nbytes} bytes (all levels, tightly packed) from "
            f"offset {offset}, but the imported memory has {available} bytes"
        )
    if not isinstance(color_attachment, (bool, numpy.bool_)):
        raise ImageArrayTypeError(f"color_attachment must be a bool, not {color_attachment!r}")
    w, h, d, flags = cuda_geometry(desc)
    if color_attachment:
        from cuda.bindings import driver as cu

        flags |= int(cu.CUDA_ARRAY3D_COLOR_ATTACHMENT)
    levels = desc.num_levels if desc.type.is_mipmapped else 1
    return offset, w, h, d, cuda_format(desc.channel_type), desc.num_channels, flags, levels


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


def _with_fd_note(exc: CUDAError, fd: int) -> CUDAError:
    return type(exc)(
        exc.code,
        exc.name,
        exc.text,
        f"{exc.what}; the import failed, so file descriptor {fd} is still yours (not closed)",
    )


def _import_fd(fd: int, dev: int, call: Any) -> Any:
    """``call(dup)`` under ``dev`` on a duplicate of ``fd``, so that a failed import
    leaves ``fd`` open whatever the driver does with the descriptor it was given (the
    13.0 driver closes it even when the import fails, seen on the H100). On success
    CUDA owns the duplicate and ``fd``, handed over by the caller, is closed here."""
    try:
        dup = os.dup(fd)
    except OSError as exc:
        raise ImageArrayValueError(f"cannot duplicate file descriptor {fd}: {exc}") from None
    try:
        with on_device(dev):
            result = call(dup)
    except BaseException as exc:
        _close_if_still_ours(dup, fd)
        if isinstance(exc, CUDAError):
            raise _with_fd_note(exc, fd) from None
        raise
    os.close(fd)
    return result


def _close_if_still_ours(dup: int, fd: int) -> None:
    # Closed by the driver, or (another thread) reused for another file: not ours.
    try:
        a, b = os.fstat(dup), os.fstat(fd)
    except OSError:
        return
    if (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino):
        os.close(dup)


# --------------------------------------------------------------------------- memory


class ExternalMemory:
    """Imported external memory (the spec's ``interop_mem_handle``).

    Made by :func:`import_external_memory`. Map it with :meth:`map_image`
    (:func:`map_external_image_memory`) or :meth:`map_linear`
    (:func:`map_external_linear_memory`); release it with :meth:`release`
    (:func:`release_external_memory`), a ``with`` block, or by dropping every
    reference. Mappings keep it alive: after ``release()`` no new mapping can be made,
    and the CUDA object is destroyed once the last mapping is freed.

    Attributes
    ----------
    descriptor : ExternalMemDescriptor
    size : int
        Bytes imported.
    device : int
    handle_type : ExternalMemHandleType
    alive : bool
        False once released.
    mappings : int
        Mappings made from it and not yet freed.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise ImageArrayTypeError("use ia.import_external_memory to import external memory")

    @classmethod
    def _make(cls, resource: Any, descriptor: ExternalMemDescriptor) -> ExternalMemory:
        self = object.__new__(cls)
        self._res = resource
        self._desc = descriptor
        return self

    @property
    def descriptor(self) -> ExternalMemDescriptor:
        return self._desc

    @property
    def size(self) -> int:
        return self._desc.size_in_bytes

    @property
    def device(self) -> int:
        return int(self._res.device)

    @property
    def handle_type(self) -> ExternalMemHandleType:
        return self._desc.handle_type

    @property
    def alive(self) -> bool:
        return bool(self._res.alive)

    @property
    def mappings(self) -> int:
        return int(self._res.mappings)

    @property
    def raw_handle(self) -> int:
        """The ``CUexternalMemory`` as an int (raises once released)."""
        return int(self._res.raw())

    def _check_alive(self, what: str) -> None:
        if not self._res.alive:
            raise ReleasedResourceError(f"cannot {what}: the external memory was already released")

    def release(self) -> None:
        """Release the import (:func:`release_external_memory`); a second call raises
        :class:`ReleasedResourceError`."""
        with on_device(self.device):
            self._res.release()

    def map_image(self, desc: ImageDescriptor, *, offset: int = 0, color_attachment=False):
        """:func:`map_external_image_memory` of this memory."""
        return map_external_image_memory(
            self, desc, offset=offset, color_attachment=color_attachment
        )

    def map_linear(self, offset: int = 0, size: int | None = None, **kwargs: Any):
        """:func:`map_external_linear_memory` of this memory."""
        return map_external_linear_memory(self, offset, size, **kwargs)

    def __enter__(self) -> ExternalMemory:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._res.alive:
            self.release()

    def __repr__(self) -> str:
        if self._res.alive:
            state = "alive"
        elif self._res.mappings:
            state = f"released, destroyed when its {self._res.mappings} mapping(s) are freed"
        else:
            state = "released"
        return (
            f"ExternalMemory({self.size} bytes, {self.handle_type.value}, "
            f"device={self.device}, {state})"
        )


def import_external_memory(desc: ExternalMemDescriptor, device: Any = None) -> ExternalMemory:
    """Import external memory (spec: ``import_external_memory``).

    Parameters
    ----------
    desc : ExternalMemDescriptor
        The exported fd, its size, its handle type.
    device : int or cupy.cuda.Device, optional
        Default: CuPy's current device. It must be the device the memory lives on.

    Returns
    -------
    ExternalMemory

    Raises
    ------
    ImageArrayValueError
        The fd is not open, or was already imported (CUDA owns it), or (dma-buf) the
        size is larger than the buffer; the device cannot import memory.
    CUDAError
        The driver refused the import (a bogus fd, a size larger than the export, a
        memory object of another device...). **The fd is then still the caller's**:
        it is left open.
    CUDAUnavailableError
        No CUDA device.

    Notes
    -----
    On success CUDA owns the fd: do not use or close it afterwards.

    Examples
    --------
    >>> fd = vk_get_memory_fd(...)  # doctest: +SKIP
    >>> mem = ia.import_external_memory(ia.ExternalMemDescriptor(ia.ResourceFD(fd), nbytes))
    ... # doctest: +SKIP
    >>> arr = ia.map_external_linear_memory(mem, dtype="uint32")  # doctest: +SKIP
    """
    from imagearray._device import Aspect, device_has, get_device

    if not isinstance(desc, ExternalMemDescriptor):
        raise ImageArrayTypeError(
            f"desc must be an ExternalMemDescriptor, not {type(desc).__name__}"
        )
    res = desc.external_resource
    res._check_importable(f"external memory ({desc.handle_type.value})")
    fd = res.file_descriptor
    if desc.handle_type is ExternalMemHandleType.DMA_BUF:
        _check_dma_buf_size(fd, desc.size_in_bytes)
    dev = get_device(device)
    if not device_has(Aspect.INTEROP_MEMORY_IMPORT, dev):
        raise ImageArrayValueError(f"device {dev} cannot import external memory")
    cy = _cy()
    code = (
        cy.MEM_DMA_BUF_FD if desc.handle_type is ExternalMemHandleType.DMA_BUF else cy.MEM_OPAQUE_FD
    )
    r = _import_fd(
        fd,
        dev,
        lambda f: cy.import_memory(dev, code, f, desc.size_in_bytes, bool(desc.dedicated)),
    )
    res._consume()
    return ExternalMemory._make(r, desc)


def _check_dma_buf_size(fd: int, size: int) -> None:
    # A dma-buf reports its size through lseek(SEEK_END) (the kernel's dma_buf_llseek).
    try:
        actual = os.lseek(fd, 0, os.SEEK_END)
        os.lseek(fd, 0, os.SEEK_SET)
    except OSError:
        return
    if actual and size > actual:
        raise ImageArrayValueError(
            f"size_in_bytes {size} is larger than the dma-buf behind fd {fd} ({actual} bytes)"
        )


def _check_memory(mem: Any, what: str) -> None:
    if not isinstance(mem, ExternalMemory):
        raise ImageArrayTypeError(
            f"{what} takes an ExternalMemory (from import_external_memory), not "
            f"{type(mem).__name__}"
        )


def map_external_image_memory(
    mem: ExternalMemory,
    desc: ImageDescriptor,
    *,
    offset: int = 0,
    color_attachment: bool = False,
):
    """Map imported memory as image memory (spec: ``map_external_image_memory``).

    Parameters
    ----------
    mem : ExternalMemory
    desc : ImageDescriptor
        Must describe the external image exactly (extents in texture order: x =
        width; channel order and type; ``standard`` or ``mipmap`` with its number of
        levels), as the spec requires: a mismatch gives wrong texels, not an error.
    offset : int, optional
        Byte offset of the image's base level in the memory.
    color_attachment : bool, optional
        The external image is bound as a colour attachment (render target) in the
        other API; CUDA must know (``CUDA_ARRAY3D_COLOR_ATTACHMENT``).

    Returns
    -------
    image_mem_handle
        An ``ArrayHandle`` (standard) or ``MipmappedArrayHandle`` (mipmap), usable with
        ``create_image``, ``copy`` and ``free_image_mem`` like allocated image memory.
        It keeps ``mem`` alive; freeing it (``free_image_mem``/``free()``) unmaps it.

    Raises
    ------
    ImageArrayValueError
        Another image type; the image (all levels, tightly packed) is larger than the
        memory from ``offset``; the device cannot hold the image; ``mem`` is a
        ``dma_buf`` import (CUDA maps those only as linear memory).
    ReleasedResourceError
        ``mem`` was released.
    CUDAError
        The driver refused the mapping.

    Examples
    --------
    >>> desc = ia.ImageDescriptor(width, height, channel_order="r", channel_type="unsigned_int32")
    >>> handle = ia.map_external_image_memory(mem, desc)  # doctest: +SKIP
    >>> surf = ia.create_image(handle, desc)  # doctest: +SKIP
    """
    from imagearray._image_mem import _check_device_support

    _check_memory(mem, "map_external_image_memory")
    plan = plan_image_mapping(mem.size, desc, offset, color_attachment)
    _check_maps_as_image(mem.handle_type)
    mem._check_alive("map image memory")
    _check_device_support(desc, mem.device)
    dev = mem.device
    with on_device(dev):
        mapped = mem._res.map_mipmapped_array(*plan)
        if desc.type.is_mipmapped:
            return _wrap_mipmapped_array(dev, mapped.raw(), desc, desc.num_levels, mapped)
        try:
            raw0 = mapped.level(0)
        except BaseException:
            mapped.free()
            raise
    return _wrap_array(dev, raw0, desc, mapped)


def map_external_linear_memory(
    mem: ExternalMemory,
    offset: int = 0,
    size: int | None = None,
    *,
    dtype: Any = numpy.uint8,
    shape: Any = None,
    strides: Any = None,
):
    """Map imported memory as a CuPy array (imagearray's addition to the spec).

    Parameters
    ----------
    mem : ExternalMemory
    offset : int, optional
        Byte offset into the memory.
    size : int, optional
        Bytes to map (default: everything from ``offset``).
    dtype, shape, strides : optional
        The array's layout, in NumPy order (default: 1D ``uint8`` over the bytes).

    Returns
    -------
    cupy.ndarray
        An array over the imported bytes (no copy). It keeps the mapping, and the
        mapping keeps ``mem``, alive; the mapping is freed with the last array (or
        view of it).

    Raises
    ------
    ImageArrayValueError
        The range is outside the memory, or the layout needs more bytes than mapped.
    ReleasedResourceError
        ``mem`` was released.

    Examples
    --------
    >>> arr = ia.map_external_linear_memory(mem, dtype="uint32")  # doctest: +SKIP
    >>> arr[:] = cupy.arange(arr.size, dtype=cupy.uint32)  # doctest: +SKIP
    """
    import cupy

    _check_memory(mem, "map_external_linear_memory")
    offset, size, dt, shape_t, strides_t = plan_linear_mapping(
        mem.size, offset, size, dtype, shape, strides
    )
    mem._check_alive("map linear memory")
    with on_device(mem.device):
        buf = mem._res.map_buffer(offset, size)
    um = cupy.cuda.UnownedMemory(buf.ptr, size, buf, mem.device)
    with cupy.cuda.Device(mem.device):
        return cupy.ndarray(
            shape_t, dtype=dt, memptr=cupy.cuda.MemoryPointer(um, 0), strides=strides_t
        )


def release_external_memory(mem: ExternalMemory) -> None:
    """Release imported memory (spec: ``release_external_memory``).

    Memory mapped from it stays valid: the CUDA object is destroyed when the last
    mapping is freed. Releasing twice raises :class:`ReleasedResourceError`.

    Examples
    --------
    >>> ia.release_external_memory(mem)  # doctest: +SKIP
    """
    _check_memory(mem, "release_external_memory")
    mem.release()


def image_array_from_external(
    memory: ExternalMemory | ExternalMemDescriptor,
    desc: ImageDescriptor,
    *,
    offset: int = 0,
    device: Any = None,
    color_attachment: bool = False,
):
    """An :class:`ImageArray` over imported memory (``ImageArray.from_external``).

    ``memory`` is an :class:`ExternalMemory`, or an :class:`ExternalMemDescriptor`
    to import now, in which case the import belongs to the image: it is released
    when the image memory is freed. Extents of ``desc`` are in texture order.

    Examples
    --------
    >>> img = ia.ImageArray.from_external(  # doctest: +SKIP
    ...     ia.ExternalMemDescriptor(ia.ResourceFD(fd), size, dedicated=True), desc)
    >>> img.get()  # doctest: +SKIP
    """
    from imagearray._device import get_device
    from imagearray._image_array import ImageArray
    from imagearray._image_mem import ImageMem

    owned = False
    if isinstance(memory, ExternalMemDescriptor):
        plan_image_mapping(memory.size_in_bytes, desc, offset, color_attachment)
        _check_maps_as_image(memory.handle_type)  # before the import takes the fd
        memory = import_external_memory(memory, device)
        owned = True
    elif isinstance(memory, ExternalMemory):
        if device is not None and get_device(device) != memory.device:
            raise DeviceMismatchError(
                f"the external memory is on device {memory.device}, not device {device}"
            )
    else:
        raise ImageArrayTypeError(
            "memory must be an ExternalMemory or an ExternalMemDescriptor, not "
            f"{type(memory).__name__}"
        )
    try:
        handle = map_external_image_memory(
            memory, desc, offset=offset, color_attachment=color_attachment
        )
    finally:
        if owned:
            # Deferred by the mapping's lease: the import lives exactly as long as the image.
            memory.release()
    return ImageArray.from_mem(ImageMem._from_handle(handle))


# --------------------------------------------------------------------------- semaphores


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
    device : int
    alive : bool
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
    def device(self) -> int:
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
        with on_device(self.device):
            self._res.destroy()

    def __enter__(self) -> ExternalSemaphore:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._res.alive:
            self.destroy()

    def __repr__(self) -> str:
        state = "alive" if self.alive else "destroyed"
        return f"ExternalSemaphore({self.handle_type.value}, device={self.device}, {state})"


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
    from imagearray._device import Aspect, device_has, device_info, get_device

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
    cy = _cy()
    code = cy.SEM_TIMELINE_FD if desc.is_timeline else cy.SEM_OPAQUE_FD
    r = _import_fd(fd, dev, lambda f: cy.import_semaphore(dev, code, f))
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
    from imagearray._device import get_stream

    _check_semaphore(sem, "wait on an external semaphore")
    v = _semaphore_value(sem.is_timeline, value, "wait")
    # Inside the device: the default stream (None, 0) is then the semaphore's device's.
    with on_device(sem.device):
        sem._res.wait(v, get_stream(stream, sem.device))


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
    from imagearray._device import get_stream

    _check_semaphore(sem, "signal an external semaphore")
    v = _semaphore_value(sem.is_timeline, value, "signal")
    with on_device(sem.device):
        sem._res.signal(v, get_stream(stream, sem.device))


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


# --------------------------------------------------------------------------- image handles
# A mapped image is an ordinary ArrayHandle / MipmappedArrayHandle that does not own
# its CUDA array: it follows (and keeps alive) the mapping that does.


def _wrap_array(device: int, raw: int, desc: ImageDescriptor, owner: Any):
    from imagearray import _memory

    return _memory.wrap_array(device, raw, desc, owner)


def _wrap_mipmapped_array(device: int, raw: int, desc: ImageDescriptor, levels: int, owner: Any):
    from imagearray import _memory

    return _memory.wrap_mipmapped_array(device, raw, desc, levels, owner)
