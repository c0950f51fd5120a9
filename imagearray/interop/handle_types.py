"""External handle types (spec: ``external_mem_handle_type``,
``external_semaphore_handle_type``) and the one table of the driver codes they stand for.

Every place that hands a handle type to the Cython owners (memory import and
semaphore import in ``imagearray._interop``, exportable memory in
``imagearray._export``) reads its code from :data:`DRIVER_CODES`. Windows handle types
are refused here, before any lookup.
"""

from __future__ import annotations

import enum
import sys
from typing import Any

from imagearray import _export, _interop
from imagearray._errors import ImageArrayValueError

__all__ = [
    "DRIVER_CODES",
    "ExternalMemHandleType",
    "ExternalSemaphoreHandleType",
    "driver_code",
]


class ExternalMemHandleType(enum.Enum):
    """How external memory is named (spec: ``external_mem_handle_type``).

    ``OPAQUE_FD`` (Vulkan's ``VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT``, CUDA's
    ``cuMemExportToShareableHandle``) and ``DMA_BUF`` (a Linux dma-buf fd, where the
    driver supports importing one) are POSIX file descriptors. ``WIN32_NT`` is a
    Windows NT handle: refused on this platform.

    Examples
    --------
    >>> import imagearray as ia
    >>> ia.ExternalMemHandleType("opaque_fd")
    <ExternalMemHandleType.OPAQUE_FD: 'opaque_fd'>
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

    Examples
    --------
    >>> import imagearray as ia
    >>> ia.ExternalSemaphoreHandleType("timeline_fd")
    <ExternalSemaphoreHandleType.TIMELINE_FD: 'timeline_fd'>
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


def _check_maps_as_image(handle_type: ExternalMemHandleType) -> None:
    if handle_type is ExternalMemHandleType.DMA_BUF:
        raise ImageArrayValueError(
            "dma_buf memory cannot be mapped as image memory (CUDA maps a dma-buf import "
            "only as linear memory: use map_external_linear_memory)"
        )


# --------------------------------------------------------------------------- driver codes

#: The code the Cython owners take for each (handle type, use): ``"import"`` for
#: ``imagearray._interop`` (``import_memory``: a ``CUexternalMemoryHandleType``;
#: ``import_semaphore``: a ``CUexternalSemaphoreHandleType``), ``"export"`` for
#: ``imagearray._export`` (``allocate``, ``granularity``: a ``CUmemAllocationHandleType``).
#: The Windows handle types have none: descriptors and exports refuse them first.
DRIVER_CODES: dict[tuple[enum.Enum, str], int] = {
    (ExternalMemHandleType.OPAQUE_FD, "import"): int(_interop.MEM_OPAQUE_FD),
    (ExternalMemHandleType.DMA_BUF, "import"): int(_interop.MEM_DMA_BUF_FD),
    (ExternalMemHandleType.OPAQUE_FD, "export"): int(_export.HANDLE_POSIX_FD),
    (ExternalSemaphoreHandleType.OPAQUE_FD, "import"): int(_interop.SEM_OPAQUE_FD),
    (ExternalSemaphoreHandleType.TIMELINE_FD, "import"): int(_interop.SEM_TIMELINE_FD),
}


def driver_code(handle_type: enum.Enum, use: str = "import") -> int:
    """The code of :data:`DRIVER_CODES` for ``handle_type`` used as ``use``."""
    return DRIVER_CODES[handle_type, use]
