"""The host ranges of copy optimization: what ``prepare_for_device_copy`` and
``release_from_device_copy`` are given (a NumPy array, a buffer, or a pointer and a
size), checked and turned into an address range and the object owning the memory.

Plain Python, no CUDA.
"""

from __future__ import annotations

import dataclasses
import weakref
from typing import Any

import numpy

from imagearray._errors import ImageArrayTypeError, ImageArrayValueError

_MAX_ADDRESS = 1 << 64


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, numpy.integer)) and not isinstance(value, (bool, numpy.bool_))


def _check_nbytes(nbytes: Any) -> int:
    if not _is_int(nbytes):
        raise ImageArrayTypeError(f"nbytes must be an int, not {type(nbytes).__name__}")
    if nbytes <= 0:
        raise ImageArrayValueError(f"nbytes must be > 0, not {int(nbytes)}")
    return int(nbytes)


def _array_range(arr: numpy.ndarray) -> tuple[int, int]:
    """(lowest address, nbytes) of an array whose elements fill one contiguous range."""
    if arr.size == 0:
        raise ImageArrayValueError(
            f"the array is empty (shape {arr.shape}): there is no memory to prepare"
        )
    if arr.flags.c_contiguous or arr.flags.f_contiguous:
        return int(arr.ctypes.data), int(arr.nbytes)
    # Any axis order (a transposed or reversed array) is fine as long as the
    # elements tile one range without gaps or repeats.
    expected = arr.itemsize
    for stride, n in sorted((abs(s), n) for s, n in zip(arr.strides, arr.shape) if n > 1):
        if stride != expected:
            raise ImageArrayValueError(
                f"the array does not occupy one contiguous range of memory (shape {arr.shape}, "
                f"strides {arr.strides}, itemsize {arr.itemsize}): prepare a contiguous array, "
                "e.g. numpy.ascontiguousarray(a), and copy from that one"
            )
        expected *= n
    low = int(arr.ctypes.data) + sum(
        s * (n - 1) for s, n in zip(arr.strides, arr.shape) if s < 0 and n > 1
    )
    return low, int(arr.nbytes)


@dataclasses.dataclass(frozen=True)
class _HostRange:
    address: int
    nbytes: int  # the whole object's size, or the given nbytes
    owner: Any  # what keeps the memory alive (None for a pointer)
    source: str
    explicit_nbytes: bool


def _host_range(obj: Any, nbytes: Any, *, nbytes_required_for_pointer: bool) -> _HostRange:
    """Parse ``obj`` (NumPy array, buffer, or int pointer) and ``nbytes``."""
    if isinstance(obj, numpy.ndarray):
        address, size = _array_range(obj)
        try:
            # A buffer export pins the allocation: numpy refuses to resize it.
            owner: Any = memoryview(obj)
        except (TypeError, ValueError, BufferError):  # e.g. datetime64: no buffer format
            owner = obj
        source = "numpy.ndarray"
    elif _is_int(obj):
        address = int(obj)
        if not 0 < address < _MAX_ADDRESS:
            raise ImageArrayValueError(
                f"a pointer must be a non-null 64-bit host address, not {address:#x}"
            )
        if nbytes is None:
            if nbytes_required_for_pointer:
                raise ImageArrayValueError(
                    "nbytes is required when obj is a pointer (int): pass "
                    "prepare_for_device_copy(ptr, nbytes)"
                )
            return _HostRange(address, 0, None, "pointer", False)
        n = _check_nbytes(nbytes)
        if address + n > _MAX_ADDRESS:
            raise ImageArrayValueError(
                f"the range {address:#x} + {n} B runs past the end of the address space"
            )
        return _HostRange(address, n, None, "pointer", True)
    elif hasattr(obj, "__cuda_array_interface__"):
        raise ImageArrayTypeError(
            f"{type(obj).__name__} is device memory: only host memory (a NumPy array, a buffer "
            "or a host pointer) is prepared for device copies"
        )
    else:
        try:
            view = memoryview(obj)
        except TypeError:
            raise ImageArrayTypeError(
                f"cannot prepare a {type(obj).__name__}: expected a NumPy array, an object with "
                "the buffer protocol (bytearray, memoryview, mmap, ...) or an int pointer with "
                "nbytes"
            ) from None
        if view.nbytes == 0:
            raise ImageArrayValueError("the buffer is empty: there is no memory to prepare")
        if view.c_contiguous:
            # A C-contiguous export reads as plain bytes whatever its format.
            address, size = int(numpy.frombuffer(view, numpy.uint8).ctypes.data), view.nbytes
        elif view.f_contiguous:
            address, size = _array_range(numpy.asarray(view))
        else:
            raise ImageArrayValueError(
                f"the {type(obj).__name__} buffer is not contiguous (shape {view.shape}, strides "
                f"{view.strides}): only one contiguous range of memory can be prepared"
            )
        owner = view
        source = type(obj).__module__ + "." + type(obj).__qualname__
        if type(obj).__module__ == "builtins":
            source = type(obj).__qualname__
    if nbytes is None:
        return _HostRange(address, size, owner, source, False)
    n = _check_nbytes(nbytes)
    if n > size:
        raise ImageArrayValueError(
            f"nbytes={n} is larger than the {source} ({size} B): at most its own size can be "
            "prepared"
        )
    return _HostRange(address, n, owner, source, True)


def _memory_owner(obj: Any) -> Any:
    """The object that owns ``obj``'s memory: the end of a NumPy array's ``base``
    chain, a buffer's exporter (None for a pointer)."""
    while True:
        if isinstance(obj, memoryview):
            obj = obj.obj
        elif isinstance(obj, numpy.ndarray) and obj.base is not None:
            obj = obj.base
        else:
            return None if _is_int(obj) else obj


def _memory_ref(obj: Any) -> Any:
    """A weakref to :func:`_memory_owner` of ``obj``, or None (pointers, and owners
    such as ``bytearray`` that take no weakref)."""
    owner = _memory_owner(obj)
    try:
        return None if owner is None else weakref.ref(owner)
    except TypeError:
        return None


def _check_device_arg(device_or_context: Any) -> None:
    """Type check of ``device_or_context`` that runs without CUDA."""
    if device_or_context is None or _is_int(device_or_context):
        return
    if hasattr(device_or_context, "id") or _is_stream(device_or_context):
        return
    raise ImageArrayTypeError(
        "device_or_context must be None (CuPy's current device), a device ordinal, a "
        "cupy.cuda.Device or a stream (cupy.cuda.Stream or an object with __cuda_stream__; "
        f"its device is used), not {type(device_or_context).__name__}"
    )


def _is_stream(obj: Any) -> bool:
    if hasattr(obj, "__cuda_stream__"):
        return True
    try:
        import cupy
    except ImportError:  # pragma: no cover - cupy is a dependency
        return False
    return isinstance(obj, (cupy.cuda.Stream, cupy.cuda.ExternalStream))
