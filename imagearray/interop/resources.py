"""Resources and descriptors of external memory and semaphores (spec: "external
memory", "external semaphores"), and the plans of their mappings.

Plain Python: everything here is checked before any CUDA call. A :class:`ResourceFD`
names the exported fd and records whether an import consumed it; the descriptors say
what to import; :func:`plan_linear_mapping` and :func:`plan_image_mapping` check a
mapping against the imported size. Image extents are in texture order (x = width,
y = height, z = depth).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import numpy

from imagearray._coerce import coerce_int
from imagearray._cuda import cuda_format
from imagearray._descriptor import ImageDescriptor
from imagearray._enums import ImageType
from imagearray._errors import ImageArrayTypeError, ImageArrayValueError
from imagearray._interop import ARRAY3D_COLOR_ATTACHMENT
from imagearray.interop.handle_types import (
    ExternalMemHandleType,
    ExternalSemaphoreHandleType,
    _as_handle_type,
    _refuse_win32,
)
from imagearray.memory import cuda_geometry

__all__ = [
    "ExternalMemDescriptor",
    "ExternalSemaphoreDescriptor",
    "ResourceFD",
    "ResourceWin32Handle",
    "ResourceWin32Name",
    "plan_image_mapping",
    "plan_linear_mapping",
]

_UINT64_MAX = 2**64 - 1
_INT_MAX = 2**31 - 1


def _as_int(name: str, value: Any, minimum: int = 0) -> int:
    return coerce_int(name, value, minimum)


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


@dataclass(frozen=True)
class ResourceWin32Handle:
    """A Windows NT handle (spec: ``resource_win32_handle``). Refused on Linux.

    Examples
    --------
    >>> import sys
    >>> import imagearray as ia
    >>> res = ia.ResourceWin32Handle(0x1234)
    >>> res.handle
    4660
    >>> if sys.platform != "win32":
    ...     try:
    ...         ia.ExternalMemDescriptor(res, 4096)
    ...     except ia.ImageArrayValueError:
    ...         pass  # refused: use ResourceFD here
    """

    handle: int


@dataclass(frozen=True)
class ResourceWin32Name:
    """A named Windows NT object (spec: ``resource_win32_name``). Refused on Linux.

    Examples
    --------
    >>> import imagearray as ia
    >>> ia.ResourceWin32Name("vk_image_1").name
    'vk_image_1'
    """

    name: str


_RESOURCE_TYPES = (ResourceFD, ResourceWin32Handle, ResourceWin32Name)


def _check_resource(resource: Any) -> None:
    if not isinstance(resource, _RESOURCE_TYPES):
        raise ImageArrayTypeError(
            "external_resource must be a ResourceFD (or ResourceWin32Handle / "
            f"ResourceWin32Name), not {type(resource).__name__}"
        )


# --------------------------------------------------------------------------- descriptors


def _set_handle_type(desc: Any, enum_cls: Any, win32_types: str, kind: str) -> Any:
    """Set ``desc.handle_type`` (a frozen descriptor's) to its ``enum_cls`` member (by
    default the resource's kind) and return it; refuse a type that does not fit the
    resource, and the Windows types."""
    res = desc.external_resource
    if desc.handle_type is None:
        ht = enum_cls.OPAQUE_FD if isinstance(res, ResourceFD) else enum_cls.WIN32_NT
    else:
        ht = _as_handle_type(enum_cls, desc.handle_type)
    object.__setattr__(desc, "handle_type", ht)
    if ht.is_win32 != (not isinstance(res, ResourceFD)):
        raise ImageArrayValueError(
            f"handle_type {ht.value} does not fit a {type(res).__name__}: file descriptor "
            f"types take a ResourceFD, {win32_types} a ResourceWin32Handle/Name"
        )
    if ht.is_win32:
        _refuse_win32(f"{kind} handle type {ht.value}")
    return ht


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
        ht = _set_handle_type(self, ExternalMemHandleType, "win32_nt", "external memory")
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
        _set_handle_type(self, ExternalSemaphoreHandleType, "win32 types", "external semaphore")

    @property
    def is_timeline(self) -> bool:
        return self.handle_type.is_timeline


# --------------------------------------------------------------------------- plans


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
    available: int,
    desc: Any,
    offset: Any = 0,
    color_attachment: bool = False,
    *,
    offset_align: int = 1,
) -> tuple[int, int, int, int, int, int, int, int]:
    """Check that ``desc`` can be mapped at ``offset`` of ``available`` bytes; return
    ``(offset, width, height, depth, cuda_format, channels, flags, levels)`` with CUDA
    extents (0 for unused dimensions). Plain Python (no device query): the caller
    passes the device's ``texture_alignment`` as ``offset_align``.

    The offset must be a multiple of ``offset_align``: a CUDA array mapped at an
    offset the texture unit cannot address is accepted by the driver, and the first
    write to it faults the context (seen at 3 bytes into an import). CUDA documents
    no rule of its own for ``CUDA_EXTERNAL_MEMORY_MIPMAPPED_ARRAY_DESC::offset``; its
    texture alignment is the one CUDA arrays and textures are placed at.
    """
    if not isinstance(desc, ImageDescriptor):
        raise ImageArrayTypeError(f"desc must be an ImageDescriptor, not {type(desc).__name__}")
    desc.verify()
    if desc.type not in (ImageType.STANDARD, ImageType.MIPMAP):
        raise ImageArrayValueError(
            f"external memory maps standard or mipmap images only (the spec's importable "
            f"image types), not {desc.type.value}: {desc}"
        )
    offset = _as_int("offset", offset)
    if offset % offset_align:
        raise ImageArrayValueError(
            f"offset={offset} is not a multiple of the device's texture alignment "
            f"({offset_align} B): an image is mapped at offset 0 or at a multiple of "
            f"{offset_align} bytes into the imported memory"
        )
    if offset + desc.nbytes > available:
        raise ImageArrayValueError(
            f"{desc} needs at least {desc.nbytes} bytes (all levels, tightly packed) from "
            f"offset {offset}, but the imported memory has {available} bytes"
        )
    if not isinstance(color_attachment, (bool, numpy.bool_)):
        raise ImageArrayTypeError(f"color_attachment must be a bool, not {color_attachment!r}")
    w, h, d, flags = cuda_geometry(desc)
    if color_attachment:
        flags |= int(ARRAY3D_COLOR_ATTACHMENT)
    levels = desc.num_levels if desc.type.is_mipmapped else 1
    return offset, w, h, d, cuda_format(desc.channel_type), desc.num_channels, flags, levels
