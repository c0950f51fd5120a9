"""Exportable device memory (spec: ``memory-export``): memory another API or process
can import.

:func:`alloc_exportable_memory` allocates device memory with ``cuMemCreate`` that can
be exported; :func:`export_memory_handle` returns a **new** POSIX file descriptor for
it, which the caller owns (hand it to Vulkan's ``VkImportMemoryFdInfoKHR``, which
takes ownership on success, send it to another process over a Unix socket, or close
it); :func:`free_exportable_memory` frees it. The memory is usable as a CuPy array
(:meth:`ExportableMemory.to_cupy`) and, through such an array, as the backing of a
1D or 2D USM image (``create_image``).

Validation is plain Python; the Cython layer (``imagearray._export``) runs the driver
calls and frees exactly once.
"""

from __future__ import annotations

from typing import Any

import numpy

from imagearray import _export as _cy  # the Cython owner of the allocations
from imagearray._device import device_info, get_device, on_device
from imagearray._errors import ImageArrayTypeError, ImageArrayValueError, ReleasedResourceError
from imagearray.interop.handle_types import (
    ExternalMemHandleType,
    _as_handle_type,
    _refuse_win32,
    driver_code,
)
from imagearray.interop.resources import _as_int, plan_linear_mapping

__all__ = [
    "ExportableMemory",
    "alloc_exportable_memory",
    "export_memory_handle",
    "free_exportable_memory",
    "exportable_memory_granularity",
    "exportable_memory_supported",
    "check_export_args",
]


_MAX_BYTES = 2**63


def _export_handle_type(handle_type: Any) -> ExternalMemHandleType:
    ht = _as_handle_type(ExternalMemHandleType, handle_type)
    if ht.is_win32:
        _refuse_win32(f"exportable memory handle type {ht.value}")
    if ht is not ExternalMemHandleType.OPAQUE_FD:
        raise ImageArrayValueError(
            f"exportable memory is exported as opaque_fd (cuMemExportToShareableHandle), "
            f"not {ht.value}"
        )
    return ht


def check_export_args(
    size: Any, alignment: Any = 0, handle_type: Any = ExternalMemHandleType.OPAQUE_FD
) -> tuple[int, int, ExternalMemHandleType]:
    """Validate :func:`alloc_exportable_memory`'s arguments (plain Python).

    Returns ``(size, alignment, handle_type)``.
    """
    size = _as_int("size", size, 1)
    alignment = _as_int("alignment", alignment)
    if alignment & (alignment - 1):
        raise ImageArrayValueError(f"alignment must be 0 or a power of two, not {alignment}")
    # The driver takes size_t; rounding up to the granularity must not wrap around.
    for name, value in (("size", size), ("alignment", alignment)):
        if value > _MAX_BYTES:
            raise ImageArrayValueError(
                f"{name} {value} is larger than any device address space (at most 2**63)"
            )
    return size, alignment, _export_handle_type(handle_type)


class ExportableMemory:
    """Device memory that other APIs and processes can import (``cuMemCreate``).

    Made by :func:`alloc_exportable_memory`. Freed by :meth:`free`
    (:func:`free_exportable_memory`), a ``with`` block or garbage collection. CuPy
    arrays from :meth:`to_cupy` keep it mapped: after ``free()`` the memory is
    unmapped when the last of them goes.

    Attributes
    ----------
    ptr : int
        Device address (raises once freed).
    size : int
        Bytes mapped: the requested size rounded up to :attr:`granularity`. Other
        APIs importing it must be given this size.
    requested_size : int
    alignment : int
    granularity : int
    device : cupy.cuda.Device
    device_id : int
    handle_type : ExternalMemHandleType
    alive : bool

    Examples
    --------
    >>> import imagearray as ia
    >>> with ia.alloc_exportable_memory(1 << 20) as mem:
    ...     a = mem.to_cupy("float32", (512, 512))  # a CuPy view of the memory
    ...     a[:] = 1
    ...     float(a.sum())
    262144.0
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise ImageArrayTypeError("use ia.alloc_exportable_memory to allocate exportable memory")

    @classmethod
    def _make(
        cls, allocation: Any, requested: int, alignment: int, handle_type: ExternalMemHandleType
    ) -> ExportableMemory:
        self = object.__new__(cls)
        self._alloc = allocation
        self._requested = requested
        self._alignment = alignment
        self._handle_type = handle_type
        return self

    @property
    def ptr(self) -> int:
        return int(self._alloc.ptr)

    @property
    def size(self) -> int:
        return int(self._alloc.size)

    @property
    def requested_size(self) -> int:
        return self._requested

    @property
    def alignment(self) -> int:
        return self._alignment

    @property
    def granularity(self) -> int:
        return int(self._alloc.granularity)

    @property
    def device(self):
        """The device holding the memory, as a ``cupy.cuda.Device`` (as ``cupy.ndarray.device``);
        :attr:`device_id` is its ordinal."""
        import cupy

        return cupy.cuda.Device(int(self._alloc.device))

    @property
    def device_id(self) -> int:
        """The ordinal of :attr:`device`."""
        return int(self._alloc.device)

    @property
    def handle_type(self) -> ExternalMemHandleType:
        return self._handle_type

    @property
    def alive(self) -> bool:
        return bool(self._alloc.alive)

    def to_cupy(
        self,
        dtype: Any = numpy.uint8,
        shape: Any = None,
        strides: Any = None,
        *,
        offset: int = 0,
    ):
        """A CuPy array over the memory (no copy; NumPy-order shape and strides).

        By default a 1D ``uint8`` array of :attr:`requested_size` bytes. A 2D array
        whose row stride is a multiple of ``device_info("image_row_pitch_align")`` can
        back a 2D USM image (``create_image(arr, desc)``).

        Examples
        --------
        >>> mem = ia.alloc_exportable_memory(1 << 20)
        >>> a = mem.to_cupy("float32", (512, 512))
        >>> a[:] = 1
        """
        import cupy

        if not self._alloc.alive:
            raise ReleasedResourceError("the exportable memory was already freed")
        available = self.size
        if shape is None and strides is None:
            available = self._requested
        offset, nbytes, dt, shape_t, strides_t = plan_linear_mapping(
            available, offset, None, dtype, shape, strides
        )
        view = self._alloc.view()
        dev = self.device_id
        um = cupy.cuda.UnownedMemory(view.ptr + offset, nbytes, view, dev)
        with cupy.cuda.Device(dev):
            return cupy.ndarray(
                shape_t, dtype=dt, memptr=cupy.cuda.MemoryPointer(um, 0), strides=strides_t
            )

    def export_handle(self) -> int:
        """:func:`export_memory_handle` of this memory."""
        return export_memory_handle(self)

    def free(self) -> None:
        """:func:`free_exportable_memory`; a second call raises
        :class:`ReleasedResourceError`."""
        with on_device(self.device_id):
            self._alloc.release()

    def __enter__(self) -> ExportableMemory:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._alloc.alive:
            self.free()

    def __repr__(self) -> str:
        if self._alloc.alive:
            state = "alive"
        elif self._alloc.destroyed:
            state = "freed"
        else:
            state = f"freed, unmapped when its {self._alloc.views} CuPy view(s) go"
        return (
            f"ExportableMemory({self.size} bytes, {self._handle_type.value}, "
            f"device={self.device_id}, {state})"
        )


def exportable_memory_supported(device: Any = None) -> bool:
    """Whether ``device`` can allocate exportable memory (memory-export spec:
    ``UR_DEVICE_INFO_MEMORY_EXPORT_EXPORTABLE_DEVICE_MEM_EXP``; the same as
    ``device_info("exportable_memory_supported")``).

    Examples
    --------
    >>> import imagearray as ia
    >>> ia.exportable_memory_supported() == ia.device_info("exportable_memory_supported")
    True
    """
    return bool(device_info("exportable_memory_supported", device))


def exportable_memory_granularity(
    handle_type: Any = ExternalMemHandleType.OPAQUE_FD, device: Any = None
) -> int:
    """The size granularity of exportable memory on ``device``: allocations are
    rounded up to a multiple of it.

    Examples
    --------
    >>> import imagearray as ia
    >>> g = ia.exportable_memory_granularity()
    >>> with ia.alloc_exportable_memory(1000) as mem:
    ...     mem.size == g  # 1000 bytes asked, one granule mapped
    True
    """
    ht = _export_handle_type(handle_type)
    dev = get_device(device)
    _require_support(dev)
    with on_device(dev):
        return int(_cy.granularity(dev, driver_code(ht, "export")))


def _require_support(dev: int) -> None:
    if not exportable_memory_supported(dev):
        raise ImageArrayValueError(
            f"device {dev} cannot allocate exportable memory (it needs virtual memory "
            "management and POSIX file descriptor handles)"
        )


def alloc_exportable_memory(
    size: int,
    alignment: int = 0,
    handle_type: Any = ExternalMemHandleType.OPAQUE_FD,
    *,
    device: Any = None,
) -> ExportableMemory:
    """Allocate device memory that can be exported (memory-export spec:
    ``urMemoryExportAllocExportableMemoryExp``).

    Parameters
    ----------
    size : int
        Bytes (> 0); rounded up to the allocation granularity (see
        :attr:`ExportableMemory.size`).
    alignment : int, optional
        Alignment of the address (0 or a power of two; 0 = the granularity, which is
        already far above any texture alignment).
    handle_type : ExternalMemHandleType or str, optional
        ``"opaque_fd"`` (the only one on Linux; ``"win32_nt"`` raises).
    device : int or cupy.cuda.Device, optional
        Default: CuPy's current device.

    Returns
    -------
    ExportableMemory

    Raises
    ------
    ImageArrayValueError
        Bad size/alignment/handle type; the device cannot export memory.
    CUDAError
        The driver refused (``CUDAOutOfMemoryError`` when out of memory).

    Examples
    --------
    >>> import os
    >>> with ia.alloc_exportable_memory(4 << 20) as mem:
    ...     mem.to_cupy("uint32")[:] = 7
    ...     fd = ia.export_memory_handle(mem)  # yours: give it to Vulkan or close it
    >>> os.close(fd)
    """
    size, alignment, ht = check_export_args(size, alignment, handle_type)
    dev = get_device(device)
    _require_support(dev)
    with on_device(dev):
        alloc = _cy.allocate(dev, size, alignment, driver_code(ht, "export"))
    return ExportableMemory._make(alloc, size, alignment, ht)


def export_memory_handle(mem: ExportableMemory, handle_type: Any = None) -> int:
    """A new POSIX fd for ``mem`` (memory-export spec:
    ``urMemoryExportExportMemoryHandleExp``).

    Each call returns a new fd **owned by the caller**: pass it to an importer that
    takes ownership (Vulkan, :func:`import_external_memory`, both on success only) or
    close it with ``os.close``. The memory stays allocated until freed here, whatever
    the importers do.

    Raises
    ------
    ReleasedResourceError
        ``mem`` was freed.
    ImageArrayValueError
        ``handle_type`` differs from the one ``mem`` was allocated for.

    Examples
    --------
    Hand the memory to another process over a Unix socket (here a pair of them):

    >>> import os, socket
    >>> mem = ia.alloc_exportable_memory(1 << 20)
    >>> fd = ia.export_memory_handle(mem)
    >>> sock, peer = socket.socketpair(socket.AF_UNIX)
    >>> socket.send_fds(sock, [b"mem"], [fd]); os.close(fd)  # the peer has its own copy
    3
    >>> msg, fds, flags, addr = socket.recv_fds(peer, 16, 1)
    >>> [os.close(f) for f in fds] and msg  # the peer would import_external_memory(...)
    b'mem'
    >>> sock.close(); peer.close(); mem.free()
    """
    if not isinstance(mem, ExportableMemory):
        raise ImageArrayTypeError(
            f"export_memory_handle takes an ExportableMemory, not {type(mem).__name__}"
        )
    if handle_type is not None and _export_handle_type(handle_type) is not mem.handle_type:
        raise ImageArrayValueError(
            f"mem was allocated for {mem.handle_type.value}, not {handle_type!r}"
        )
    if not mem.alive:
        raise ReleasedResourceError("cannot export: the exportable memory was already freed")
    with on_device(mem.device_id):
        return int(mem._alloc.export())


def free_exportable_memory(mem: ExportableMemory) -> None:
    """Free exportable memory (memory-export spec: ``urMemoryExportFreeExportableMemoryExp``).

    CuPy arrays still using it keep it mapped until they go. Fds exported from it
    stay the caller's to close; importers keep their own reference to the memory.
    Freeing twice raises :class:`ReleasedResourceError`.

    Examples
    --------
    >>> import imagearray as ia
    >>> mem = ia.alloc_exportable_memory(1 << 20)
    >>> ia.free_exportable_memory(mem)
    >>> mem.alive
    False
    """
    if not isinstance(mem, ExportableMemory):
        raise ImageArrayTypeError(
            f"free_exportable_memory takes an ExportableMemory, not {type(mem).__name__}"
        )
    mem.free()
