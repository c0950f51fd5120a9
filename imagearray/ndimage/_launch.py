"""One ndimage launch: a :class:`~imagearray.ndimage._textures.Source`, a coordinate
source and an output, to the kernel of :mod:`imagearray.ndimage._source` (once, or
once per tile with partial sums)."""

from __future__ import annotations

from typing import Any

import numpy

from imagearray.ndimage import _source as s
from imagearray.ndimage._textures import Source, retire

_U64 = numpy.uint64
_NULL = numpy.uint64(0)

# output dtype -> CUDA storage type
_OUT = {
    "float32": "float",
    "float64": "double",
    "float16": "unsigned short /*half*/",
    "uint8": "unsigned char",
    "int8": "signed char",
    "uint16": "unsigned short",
    "int16": "short",
    "uint32": "unsigned int",
    "int32": "int",
    "uint64": "unsigned long long",
    "int64": "long long",
}
OUTPUT_DTYPES = tuple(numpy.dtype(d) for d in _OUT)


class Coords:
    """Where the kernel's coordinates come from: ``kind`` (a ``_source`` kind), up to
    12 parameters shared by every sample (``params``), or a device array of
    per-sample parameters (``per_sample``, shape (nb, k)), or coordinate arrays
    ``a``/``b`` (C-contiguous, of ``dtype``)."""

    __slots__ = ("kind", "params", "per_sample", "a", "b", "dtype")

    def __init__(self, kind, params=(), per_sample=None, a=None, b=None, dtype=numpy.float32):
        self.kind = kind
        self.params = tuple(params)
        self.per_sample = per_sample
        self.a, self.b = a, b
        self.dtype = numpy.dtype(dtype)


def run(
    src: Source,
    coords: Coords,
    out_shape: tuple,
    output: Any,
    order: int,
    mode: str,
    cval: float,
    hardware: bool,
):
    """Resample ``src`` at ``coords`` into ``output`` (a C-contiguous CuPy array of
    shape ``[nb,] *out_shape[, channels]``); the kernel runs on the current stream."""
    import cupy

    ndim = len(out_shape)
    tiled = src.tiles is not None
    wt = "double" if coords.dtype == numpy.float64 else "float"
    key = s.KernelKey(
        ndim=ndim,
        channels=src.channels,
        kind=coords.kind,
        mode=mode,
        order=order,
        hardware=hardware and order == 1 and src.tex_f is not None and not tiled,
        read=src.read,
        filtered=src.filtered,
        out=_OUT[output.dtype.name],
        coord=wt,
        layered=src.layered,
        per_sample=coords.per_sample is not None,
        split3=src.split3,
        tiled=tiled,
    )
    kern = s.kernel(key)
    wtype = numpy.float64 if wt == "double" else numpy.float32
    params = [wtype(v) for v in coords.params] + [wtype(0)] * (s.N_PARAMS - len(coords.params))
    n = tuple(src.shape) + (1,) * (3 - ndim)
    o = tuple(out_shape) + (1,) * (3 - ndim)
    npts = int(numpy.prod(out_shape))
    if coords.kind in s.LINEAR_KINDS:
        block = (256, 1, 1)
        grid = ((npts + 255) // 256, src.nb, 1)
    elif ndim == 2:
        block = (32, 8, 1)
        grid = ((o[1] + 31) // 32, (o[0] + 7) // 8, src.nb)
    else:
        block = (32, 8, 1)
        grid = ((o[2] + 31) // 32, (o[1] + 7) // 8, o[0] * src.nb)
    ps = coords.per_sample
    head = (
        _U64(int(src.tex_f)) if key.hardware else _NULL,
        _U64(int(src.tex_p)) if not tiled else _NULL,
        *(numpy.int32(v) for v in n),
        *(numpy.int32(v) for v in o),
        numpy.int32(src.nb),
        numpy.float32(src.scale),
        numpy.float32(cval),
        *params,
        ps if ps is not None else _NULL,
        numpy.int64(ps.shape[1] if ps is not None and ps.shape[0] > 1 else 0),
        coords.a if coords.a is not None else _NULL,
        coords.b if coords.b is not None else _NULL,
        numpy.int64(npts),
    )
    if npts == 0 or src.nb == 0:
        retire(src)
        return output
    if not tiled:
        kern(grid, block, head + (output, _NULL) + (numpy.int32(0),) * 6 + (numpy.int32(1),))
        retire(src)
        return output
    acc = cupy.zeros(output.shape, dtype=cupy.float32)
    for t, (lo, hi, tex) in enumerate(src.tiles):
        lo = tuple(lo) + (0,) * (3 - ndim)
        hi = tuple(hi) + (1,) * (3 - ndim)
        args = list(head)
        args[1] = _U64(int(tex))
        args += [_NULL, acc, *(numpy.int32(v) for v in lo), *(numpy.int32(v) for v in hi)]
        args.append(numpy.int32(t == 0))
        kern(grid, block, tuple(args))
    if output.dtype.kind in "iu":
        cupy.rint(acc, out=acc)
    output[...] = acc.astype(output.dtype, copy=False)
    retire(src)
    return output
