"""Raw stream handles (CPU): a made-up number is refused before any driver call
dereferences it. The issue: an int, or ``__cuda_stream__`` returning one, segfaulted
``copy`` and ``sample``."""

from __future__ import annotations

import ctypes
import sys

import numpy as np
import pytest

import imagearray as ia
from imagearray import _device
from imagearray._device import check_raw_stream, get_stream


class _Proto:
    def __init__(self, handle):
        self.handle = handle

    def __cuda_stream__(self):
        return (0, self.handle)


def _readable_address() -> tuple[int, object]:
    buf = ctypes.create_string_buffer(64)
    a = ctypes.addressof(buf)
    return a + (-a) % 8, buf


@pytest.mark.parametrize("handle", [3, 8, 12345 * 8, 0xDEAD_BEE0, 2**40 + 8, 2**63 + 8])
@pytest.mark.parametrize("wrap", [int, np.uint64, _Proto], ids=["int", "numpy", "protocol"])
def test_made_up_handles_are_refused_inside_the_family(handle, wrap):
    with pytest.raises(ia.ImageArrayValueError, match="is not a CUDA stream"):
        get_stream(wrap(handle))


@pytest.mark.parametrize("handle", [-1, 2**64, 2**70])
def test_handles_outside_64_bits_are_refused(handle):
    with pytest.raises(ia.ImageArrayValueError, match="64-bit"):
        get_stream(_Proto(handle))


def _mmap(prot: int, flags: int = 0x02 | 0x20) -> int:
    """Two anonymous private pages (MAP_PRIVATE | MAP_ANONYMOUS), the first mapped with
    ``prot``, the second PROT_NONE (so the first's mapping ends where it does)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_long,
    ]
    address = libc.mmap(None, 8192, prot, flags, -1, 0)
    assert address not in (None, ctypes.c_void_p(-1).value)
    assert libc.mprotect(address + 4096, 4096, 0) == 0
    return address


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/maps")
def test_reserved_and_read_only_memory_is_refused():
    # The H200's segfault: the CUDA driver's address-space reserve is PROT_NONE, which
    # /proc/self/mem reads (as zeros) and the driver then faults on.
    reserved = _mmap(0)  # PROT_NONE
    read_only = _mmap(1)  # PROT_READ
    for address in (reserved, read_only, reserved + 4096 - 8):
        _device._STREAMS_CHECKED.discard(address)
        with pytest.raises(ia.ImageArrayValueError, match="is not a CUDA stream"):
            check_raw_stream(address)
    writable = _mmap(3)  # PROT_READ | PROT_WRITE, like the driver's malloc arenas
    assert get_stream(writable) == writable
    with pytest.raises(ia.ImageArrayValueError):
        check_raw_stream(writable + 4096 - 8)  # 16 bytes would cross into the next page


def test_a_pointer_into_live_memory_passes_and_is_remembered():
    address, keep = _readable_address()
    _device._STREAMS_CHECKED.discard(address)
    assert get_stream(address) == address
    assert address in _device._STREAMS_CHECKED
    with pytest.raises(ia.ImageArrayValueError):
        check_raw_stream(address + 1)  # misaligned: no driver object is
    del keep


@pytest.mark.parametrize("handle", [0, 1, 2])
def test_the_default_streams_pass_unchecked(handle):
    assert get_stream(handle) == handle
    assert get_stream(_Proto(handle)) == handle


def test_the_check_bound_keeps_the_memo_small(monkeypatch):
    monkeypatch.setattr(_device, "_STREAMS_CHECKED", set())
    monkeypatch.setattr(_device, "_MAX_STREAMS_CHECKED", 4)
    address, keep = _readable_address()
    for i in range(10):
        check_raw_stream(address + 8 * (i % 6))
        assert len(_device._STREAMS_CHECKED) <= 4
    del keep


def test_non_streams_are_type_errors():
    for bad in ("0", 1.0, True, object()):
        with pytest.raises(ia.ImageArrayTypeError):
            get_stream(bad)
