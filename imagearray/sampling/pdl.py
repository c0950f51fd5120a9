"""Programmatic dependent launch (PDL, compute capability 9.0 and up) of a chain of
kernels on one stream: a kernel launched with the programmatic stream serialization
attribute may be scheduled while the kernel before it still runs, and waits in its
first statement (``IA_PDL_START()``: ``griddepcontrol.wait``) until that kernel has
finished and its writes are visible, so the results are those of plain launches; the
launch's latency and the start of its blocks are taken out of the gap between them.
``IA_PDL_START()`` also lets the next launch be scheduled at once
(``griddepcontrol.launch_dependents``); in a kernel launched without the attribute,
and below 9.0, both are no-ops.

The mip chain's separate launches (``mipgen``) use it: on the H100 (tools/probes/
mip_pdl.py, one run) a 4096^2 float32 chain took 40.7 us with PDL against 46.0 us
launched plainly and 43.1 us replayed from a graph, 8192^2 RGBA8 130.2 against 136.6
and 131.8; in benchmarks/mipmaps.py (graph replay, one run) 0.045 ms against 0.048 without
PDL, and 0.136 against 0.138.

Only a kernel whose source starts its body with ``IA_PDL_START()`` may be launched
with :func:`launcher`: without the wait it would read what the kernel before it is
still writing.
"""

from __future__ import annotations

import ctypes
import functools
from typing import Any

import numpy

from imagearray._device import _attr
from imagearray._errors import CUDAError

__all__ = ["ENABLED", "PRELUDE", "Launcher", "launcher", "supported"]

#: Whether callers launch their chains with PDL where :func:`supported` says so.
ENABLED = True

#: The device code of ``IA_PDL_START()``, for a kernel source's head.
PRELUDE = r"""
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
#define IA_PDL_START() do { asm volatile("griddepcontrol.launch_dependents;"); \
    asm volatile("griddepcontrol.wait;" ::: "memory"); } while (0)
#else
#define IA_PDL_START() do { } while (0)
#endif
"""


@functools.cache
def supported(device: int) -> bool:
    """Whether ``device`` runs PDL: compute capability 9.0 or more."""
    return _attr("COMPUTE_CAPABILITY_MAJOR", device) >= 9


def _packed(args: tuple) -> tuple[list, Any]:
    """Buffers holding each kernel argument's bytes, as CuPy passes them (a CuPy
    array: its pointer; a NumPy scalar or by-value struct: its bytes; a handle or
    int: 8 bytes), and the ``void*`` array that names them."""
    import cupy

    bufs: list = []
    for a in args:
        if isinstance(a, cupy.ndarray):
            bufs.append(ctypes.c_uint64(a.data.ptr))
        elif isinstance(a, (numpy.ndarray, numpy.generic)):
            raw = numpy.ascontiguousarray(a).tobytes()
            bufs.append(ctypes.create_string_buffer(raw, len(raw)))
        else:
            bufs.append(ctypes.c_uint64(int(a)))
    return bufs, (ctypes.c_void_p * len(bufs))(*[ctypes.addressof(b) for b in bufs])


class Launcher:
    """One prepared PDL launch of ``function`` (a compiled ``cupy`` function) with
    ``args``; calling it launches on CuPy's current stream (the grid, block and args
    it is called with are those it was made with: ``mipgen`` calls every launch so).
    ``function``: the function it launches. ``dependent`` False: a plain launch of the
    same configuration, without the attribute (the probes time both)."""

    __slots__ = ("_args", "_cfg", "_drv", "_fn", "_keep", "_params", "function")

    def __init__(
        self, function: Any, grid: tuple, block: tuple, args: tuple, dependent: bool = True
    ) -> None:
        from cuda.bindings import driver as drv

        cfg = drv.CUlaunchConfig()
        cfg.gridDimX, cfg.gridDimY, cfg.gridDimZ = (tuple(grid) + (1, 1))[:3]
        cfg.blockDimX, cfg.blockDimY, cfg.blockDimZ = (tuple(block) + (1, 1))[:3]
        cfg.sharedMemBytes = 0
        cfg.numAttrs = 0
        if dependent:
            attr = drv.CUlaunchAttribute()
            attr.id = drv.CUlaunchAttributeID.CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION
            attr.value.programmaticStreamSerializationAllowed = 1
            cfg.attrs = [attr]
            cfg.numAttrs = 1
        self._drv, self._cfg, self._args = drv, cfg, args  # args: what the buffers name
        self.function = function
        self._fn = drv.CUfunction(function.ptr)
        self._keep, params = _packed(args)
        self._params = (params, ctypes.addressof(params))

    def __call__(self, grid: Any = None, block: Any = None, args: Any = None) -> None:
        import cupy

        self._cfg.hStream = self._drv.CUstream(cupy.cuda.get_current_stream().ptr)
        (err,) = self._drv.cuLaunchKernelEx(self._cfg, self._fn, self._params[1], 0)
        if err != self._drv.CUresult.CUDA_SUCCESS:
            _, name = self._drv.cuGetErrorName(err)
            _, text = self._drv.cuGetErrorString(err)
            raise CUDAError(int(err), name.decode(), text.decode(), "cuLaunchKernelEx (PDL)")


def launcher(function: Any, grid: tuple, block: tuple, args: tuple) -> Launcher:
    """A callable launching ``function`` (a compiled CuPy function whose kernel starts
    with ``IA_PDL_START()``) over ``grid`` x ``block`` with ``args``, as a programmatic
    dependent of the kernel before it on the current stream."""
    return Launcher(function, grid, block, args)
