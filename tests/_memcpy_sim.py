"""A NumPy model of ``cuMemcpy3D`` (CUDA driver API), for testing copy plans on a CPU.

Memories are NumPy byte buffers keyed by address:

- host / device (linear) memory: a 1-D ``uint8`` buffer of exactly the bytes the
  owner holds, addressed as the driver documents for ``CU_MEMORYTYPE_HOST`` /
  ``CU_MEMORYTYPE_DEVICE``: the copy starts at
  ``base + (Z * Height_slice + Y) * Pitch + XInBytes``, and ``Height`` rows of
  ``WidthInBytes`` bytes, ``Pitch`` apart, are copied for each of ``Depth`` slices,
  ``Height_slice * Pitch`` apart.
- CUDA arrays: a ``(depth, height, width_bytes)`` ``uint8`` array. X is in bytes
  (a multiple of the element size), Y and Z in elements; pitch and height of the
  copy parameters are ignored. A 1D array has height 1 in copies; a layered (or
  cubemap) array has its layers (faces) on Z.

The rules enforced are the driver's documented ones (``cuMemcpy3D``): "If specified,
srcPitch must be greater than or equal to WidthInBytes + srcXInBytes", "srcHeight must
be greater than or equal to Height + srcY" (it may be 0 when Depth == 1), "For CUDA
arrays, srcXInBytes must be evenly divisible by the array element size", arrays of one
copy must have the same element size (``cudaMemcpy3D``). On top of that, any byte read
or written outside the memory raises :class:`OutOfBounds`: that is memory corruption on
a GPU, or a crash.

A plan is the tuple form of ``imagearray.copies.CopyPlan``: per side
``(kind, address, pitch, height, x_bytes, y, z)`` with kind 0 host, 1 device, 2 array,
and ``(width_bytes, height, depth)``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

HOST, DEVICE, ARRAY = 0, 1, 2


class InvalidValue(Exception):
    """What ``CUDA_ERROR_INVALID_VALUE`` would be."""


class OutOfBounds(InvalidValue):
    """A byte outside the memory would be read or written."""


@dataclasses.dataclass
class _Linear:
    kind: int
    buf: np.ndarray  # 1-D uint8


@dataclasses.dataclass
class _Array:
    data: np.ndarray  # (depth, height, width_bytes) uint8
    elem: int


class Memcpy3DSim:
    """Memories by address, and :meth:`memcpy3d` to run a plan on them."""

    def __init__(self) -> None:
        self.linear: dict[int, _Linear] = {}
        self.arrays: dict[int, _Array] = {}
        self._next = 0x10000

    def _address(self, nbytes: int) -> int:
        addr = self._next
        self._next += (nbytes + 0xFFFF) // 0x10000 * 0x10000 + 0x10000  # gaps between
        return addr

    def add_linear(self, kind: int, buf: np.ndarray) -> int:
        """Register host (kind 0) or device (kind 1) memory; returns its address."""
        assert kind in (HOST, DEVICE)
        b = np.ascontiguousarray(buf).view(np.uint8).reshape(-1)
        addr = self._address(b.size)
        self.linear[addr] = _Linear(kind, b)
        return addr

    def add_external(self, kind: int, arr: np.ndarray) -> int:
        """Register an existing C-contiguous NumPy array as host (or device) memory at
        its real address; copies then read and write ``arr`` itself."""
        assert arr.flags.c_contiguous
        addr = int(arr.ctypes.data)
        self.linear[addr] = _Linear(kind, arr.reshape(-1).view(np.uint8))
        return addr

    def add_array(
        self, width: int, height: int, depth: int, elem: int, *, layered: bool = False
    ) -> int:
        """Register a CUDA array made with ``CUDA_ARRAY3D_DESCRIPTOR``'s
        ``Width``/``Height``/``Depth`` (0 = unused; Depth = layers when layered or a
        cubemap), filled with random bytes; returns its ``CUarray`` handle."""
        assert width >= 1 and not (height == 0 and depth and not layered)
        shape = (max(depth, 1), max(height, 1), width * elem)
        data = np.random.default_rng(len(self.arrays) + 7).integers(0, 256, shape, np.uint8)
        handle = self._address(0)
        self.arrays[handle] = _Array(data, elem)
        return handle

    def linear_bytes(self, addr: int) -> np.ndarray:
        return self.linear[addr].buf

    def array_bytes(self, handle: int) -> np.ndarray:
        return self.arrays[handle].data

    # ------------------------------------------------------------------ the copy
    def _linear_offsets(self, side, extent) -> tuple[np.ndarray, np.ndarray]:
        kind, addr, pitch, height, xb, y, z = side
        w, h, d = extent
        mem = self.linear.get(addr)
        if mem is None:
            raise InvalidValue(f"no linear memory at {addr:#x}")
        if mem.kind != kind:
            raise InvalidValue(f"memory at {addr:#x} is {mem.kind}, the plan says {kind}")
        if pitch < w + xb:
            raise InvalidValue(f"pitch {pitch} < WidthInBytes {w} + XInBytes {xb}")
        if d > 1 and height < h + y:
            raise InvalidValue(f"height {height} < Height {h} + Y {y}")
        zz, yy, xx = np.meshgrid(np.arange(d), np.arange(h), np.arange(w), indexing="ij")
        off = ((z + zz) * height + (y + yy)) * pitch + xb + xx
        if off.min() < 0 or off.max() >= mem.buf.size:
            raise OutOfBounds(
                f"linear memory at {addr:#x} holds {mem.buf.size} B, the copy touches "
                f"bytes {off.min()}..{off.max()}"
            )
        return mem.buf, off

    def _array_region(self, side, extent, elem_other: int | None):
        kind, handle, _pitch, _height, xb, y, z = side
        w, h, d = extent
        arr = self.arrays.get(handle)
        if arr is None:
            raise InvalidValue(f"no CUDA array {handle:#x}")
        if xb % arr.elem or w % arr.elem:
            raise InvalidValue(f"X {xb} / width {w} B not a multiple of element {arr.elem} B")
        if elem_other is not None and elem_other != arr.elem:
            raise InvalidValue("arrays of different element sizes")
        D, H, WB = arr.data.shape
        if xb + w > WB or y + h > H or z + d > D:
            raise OutOfBounds(
                f"array of {WB} B x {H} x {D}: box from ({xb} B, {y}, {z}) of "
                f"({w} B, {h}, {d}) is outside"
            )
        return arr.data, (slice(z, z + d), slice(y, y + h), slice(xb, xb + w))

    def memcpy3d(self, src, dst, extent) -> None:
        """Run one plan. Raises :class:`InvalidValue` / :class:`OutOfBounds` as above."""
        src, dst, extent = tuple(src), tuple(dst), tuple(extent)
        w, h, d = extent
        if min(w, h, d) < 1:
            raise InvalidValue(f"empty extent {extent}")
        elem_s = self.arrays[src[1]].elem if src[0] == ARRAY and src[1] in self.arrays else None
        if src[0] == ARRAY:
            sdata, sidx = self._array_region(src, extent, None)
            block = sdata[sidx].copy()
        else:
            sbuf, soff = self._linear_offsets(src, extent)
            block = sbuf[soff].copy()
        if dst[0] == ARRAY:
            ddata, didx = self._array_region(dst, extent, elem_s)
            ddata[didx] = block
        else:
            dbuf, doff = self._linear_offsets(dst, extent)
            dbuf[doff] = block

    def run(self, plan) -> None:
        """Run an ``imagearray.copies.CopyPlan``."""
        self.memcpy3d(plan.src, plan.dst, plan.extent)
