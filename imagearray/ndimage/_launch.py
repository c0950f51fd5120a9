"""One ndimage launch: a :class:`~imagearray.ndimage._textures.Source`, a coordinate
source and an output, to the kernel of :mod:`imagearray.ndimage._source` (once, or
once per tile with partial sums)."""

from __future__ import annotations

import math
import struct
import threading
from typing import Any

import numpy

from imagearray._errors import ImageArrayValueError
from imagearray.ndimage import _cubicconv, _textures
from imagearray.ndimage import _source as s
from imagearray.ndimage._textures import Source, retire

# output dtype -> CUDA storage type
_OUT = s.OUT_TYPES
OUTPUT_DTYPES = tuple(numpy.dtype(d) for d in _OUT)
OUTPUT_DTYPE_SET = frozenset(OUTPUT_DTYPES)
_OUT_OF = {numpy.dtype(d).num: t for d, t in _OUT.items()}  # dtype.num: a cheap key
_ZERO3 = (0, 0, 0)
BLOCK = (32, 8)  # threads per block of the matrix kinds (x along the output's last axis)
# 3D outputs: (x, y, z) threads of a block, z along the output's first axis. A cube
# of 8 x 8 x 4 points keeps a rotated volume's fetches within fewer cache lines than a
# 32 x 8 x 1 slab: tools/probes/cubic3d_rates.py, H100, 256^3 float32 rotated,
# order=3 prefilter=False 0.503 ms against 0.592 ms (order=1 unchanged, 0.084 ms)
BLOCK_3D = (8, 8, 4)


class Coords:
    """Where the kernel's coordinates come from: ``kind`` (a ``_source`` kind), up to
    12 parameters shared by every sample (``params``), or a device array of
    per-sample parameters (``per_sample``, shape (nb, k)), or coordinate arrays
    ``a``/``b`` (C-contiguous, of ``dtype``).

    ``owned``: ``per_sample`` was made here from host numbers (a plan keeps it);
    ``derived``: an array was computed from the caller's device data in this call
    (the call makes no plan: the data may change before the next)."""

    __slots__ = ("kind", "params", "per_sample", "a", "b", "dtype", "mlayout")
    __slots__ += ("owned", "derived")

    def __init__(
        self,
        kind,
        params=(),
        per_sample=None,
        a=None,
        b=None,
        dtype=numpy.float32,
        mlayout=0,
        owned=False,
        derived=False,
    ):
        self.kind = kind
        self.mlayout = mlayout  # per_sample is the caller's matrix (see KernelKey.mlayout)
        self.params = tuple(float(v) for v in params)
        self.per_sample = per_sample
        self.a, self.b = a, b
        self.dtype = numpy.dtype(dtype)
        self.owned, self.derived = owned, derived


# The host twin of the kernels' ``struct Params``: 7 pointers/handles, 2 int64, 14
# int32, 2 float32, then 12 W (float or double; 136 is 8-aligned: no padding).
# Packed into the bytes of one size-1 NumPy void array, which CuPy passes by value.
_PACK = {c: struct.Struct("<7Q2q14i2f12" + c) for c in ("f", "d")}
_VOID = {c: numpy.dtype(f"V{p.size}") for c, p in _PACK.items()}


def _ptr(a) -> int:
    return 0 if a is None else a.data.ptr


def _params(
    wt, tex_f, tex_p, pm, ca, cb, out, acc, pm_stride, npts, n, o, nb, lo, hi, first, scale, cval, m
):
    c = "d" if wt == "double" else "f"
    raw = _PACK[c].pack(
        tex_f,
        tex_p,
        pm,
        ca,
        cb,
        out,
        acc,
        pm_stride,
        npts,
        *n,
        *o,
        nb,
        *lo,
        *hi,
        first,
        scale,
        cval,
        *m,
    )
    return numpy.frombuffer(bytearray(raw), _VOID[c])  # writable: Launch sets out


class Launch:
    """One kernel launch, ready but for its output (``run``); a plan keeps it (see
    :mod:`imagearray.ndimage._plan`). ``deps``: (cache, key, value) triples that must
    still hold for the textures named in ``args`` to be alive; ``keep``: device
    arrays of its own that ``args`` names."""

    __slots__ = ("kern", "grid", "block", "args", "words", "shape", "dtype", "device")
    __slots__ += ("deps", "keep", "align", "lock")

    def __init__(self, kern, grid, block, params, shape, dtype, device, deps, keep, align):
        self.kern, self.grid, self.block = kern, grid, block
        self.args = (params,)
        self.words = params.view(numpy.uint64)  # word 5 is Params.out
        self.shape, self.dtype, self.device = shape, dtype, device
        self.deps, self.keep = deps, keep
        self.align = align  # the output address must be a multiple (vector stores)
        self.lock = threading.Lock()  # threads sharing a plan: one output pointer at a time

    def valid(self) -> bool:
        return all(cache.get(k) is v for cache, k, v in self.deps)

    def launch(self, output, src: Source | None = None) -> None:
        """Write into ``output`` (C-contiguous, this launch's shape and dtype), reading
        the textures of ``src`` where given (one like the first launch's)."""
        with self.lock:  # the launch copies the parameters: the next may set its own
            self.words[5] = output.data.ptr
            if src is not None:  # words 0, 1: Params.tex_f (0: no filtered reads), tex_p
                self.words[0] = int(src.tex_f) if self.words[0] else 0
                self.words[1] = int(src.tex_p)
            self.kern(self.grid, self.block, self.args)

    def run(self, output, input: Any = None, refilled: Refilled | None = None):
        """Into ``output`` (a CuPy array of this shape and dtype, C-contiguous, on this
        device) or a new array (``output`` None or a dtype); returns it, or None where
        ``output`` lacks the alignment this launch's stores need, or where
        ``refilled`` (the :class:`Refilled` plan running this launch) made its
        textures from ``input`` anew and they are of another kind than the first's."""
        import cupy

        if cupy.cuda.runtime.getDevice() != self.device:
            with cupy.cuda.Device(self.device):
                return self.run(output, input, refilled)
        given = isinstance(output, cupy.ndarray)
        if given and self.align and output.data.ptr % self.align:
            return None
        src = None
        if refilled is not None:
            src = refilled.refill(input)
            if _kind(src) != refilled.kind:  # a module setting changed since (tests, probes)
                retire(src)
                return None
        if not given:  # (after the prefilter's launches: the GPU starts sooner)
            output = cupy.empty(self.shape, self.dtype)  # the pool's blocks: 512-aligned
        self.launch(output, src)
        if src is not None:
            retire(src)
        return output


class Refilled:
    """The plan of an order-3 call: its texture holds coefficients the prefilter
    computes from what the input holds now, so each run calls ``refill(input)`` (the
    prefilter's launches, a fresh :class:`Source` of the same kind) and then
    ``launch`` with that Source's textures. The checks, the coordinates and the
    kernel's parameters are the first call's, as every plan's."""

    __slots__ = ("launch", "refill", "kind")

    def __init__(self, launch: Launch, refill, src: Source):
        self.launch, self.refill, self.kind = launch, refill, _kind(src)

    def valid(self) -> bool:
        return True  # every run makes the textures it reads

    def run(self, output, input: Any):
        return self.launch.run(output, input, self)


def _kind(src: Source) -> tuple:
    """What the kernel and the parameters of a launch take from its Source but the
    texture handles (a :class:`Refilled` launch reads a new Source of this kind)."""
    return (src.shape, src.nb, src.channels, src.dtype, src.halo, src.layered, src.gather) + (
        src.tiles is None,
        src.tex_f is not None,
    )


def _aligned(channels: int, output) -> int:
    """The alignment a vector store of one point's ``channels`` values needs, where
    ``output`` has it (else 0: one store per value)."""
    if channels not in (2, 4):
        return 0
    size = channels * output.dtype.itemsize
    return size if size <= 16 and output.data.ptr % size == 0 else 0


def coarsening(kind: str, tiled: bool, order: int = 1) -> int:
    """Output points per thread. One read per point leaves the kernel waiting on
    memory latency with every thread resident (H200, raw kernels: 0.062 ms for a
    4096^2 rotation at 1 point per thread, 0.045 ms at 2, 0.045 at 4; a x2 zoom 0.219,
    0.155, 0.146 ms): each thread issues the reads of several points before it uses
    any. Tiles: one (their partial sums are few). Order 3 and cubic
    convolution: one (their 4**ndim or 2**ndim reads of a point already overlap)."""
    if tiled or order not in (0, 1):
        return 1
    return 2 if kind in s.LINEAR_KINDS else 4


def _gathers(src: Source, order: int, hardware: bool, ndim: int, tiled: bool) -> bool:
    """Whether exact order-1 interior points are read by gathers (see
    ``_textures.EXACT_GATHER``): a 2D single-sample gather array of 1, 2 or 4 channels."""
    return (
        _textures.EXACT_GATHER
        and src.gather
        and order == 1
        and not (hardware and src.tex_f is not None)
        and ndim == 2
        and not tiled
        and not src.layered
        and src.nb == 1
        and not src.split3
    )


def _geometry(kind: str, ndim: int, out_shape: tuple, nb: int, co: int):
    """(o, grid, block): the output extent as 3 ints and the launch shape (``co``
    points per thread)."""
    npts = math.prod(out_shape)
    # linear kinds: any output shape (only remap's 2D one is unravelled)
    o = tuple(out_shape) if len(out_shape) <= 3 else (npts,)
    o = o + (1,) * (3 - len(o))
    if kind in s.LINEAR_KINDS:
        block = (256, 1, 1)
        grid = ((npts + 256 * co - 1) // (256 * co), nb, 1)
    else:
        bx, by, bz = BLOCK_3D if ndim == 3 else (*BLOCK, 1)
        block = (bx, by, bz)
        rows = by * co
        if ndim == 2:
            grid = ((o[1] + bx - 1) // bx, (o[0] + rows - 1) // rows, nb)
        else:
            grid = ((o[2] + bx - 1) // bx, (o[1] + rows - 1) // rows, -(-o[0] // bz) * nb)
    if grid[1] > 65535 or grid[2] > 65535:
        raise ImageArrayValueError(
            f"this launch needs a grid of {grid} blocks; CUDA allows 65535 in y and z: "
            "resample the batch (or the volume's planes) in smaller parts"
        )
    return o, grid, block


def run(
    src: Source,
    coords: Coords,
    out_shape: tuple,
    output: Any,
    order: int,
    mode: str,
    cval: float,
    hardware: bool,
    pad: int = 0,
    conv_a: float = 0.0,
    refill=None,
):
    """Resample ``src`` at ``coords`` into ``output`` (a C-contiguous CuPy array of
    shape ``[nb,] *out_shape[, channels]``); the kernel runs on the current stream.
    Returns the :class:`Launch` where one launch did it all and may be repeated
    (a plan; with ``refill``, the function that makes ``src`` anew from the input,
    a :class:`Refilled`), else None. ``order`` -1 is cubic convolution with
    ``conv_a`` (:mod:`imagearray.ndimage._cubicconv`)."""
    import cupy

    ndim = len(src.shape)
    tiled = src.tiles is not None
    wt = "double" if coords.dtype == numpy.float64 else "float"
    align = 0 if tiled else _aligned(src.channels, output)  # vector stores where nonzero
    key = s.KernelKey(
        ndim=ndim,
        channels=src.channels,
        kind=coords.kind,
        mode=mode,
        order=order,
        hardware=hardware and order in (1, 3) and src.tex_f is not None and not tiled,
        conv_a=conv_a,
        read=src.read,
        filtered=src.filtered,
        out=_OUT_OF.get(output.dtype.num) or _OUT[output.dtype.name],
        coord=wt,
        layered=src.layered,
        per_sample=coords.per_sample is not None and not coords.mlayout,
        split3=src.split3,
        tiled=tiled,
        mlayout=coords.mlayout,
        mdouble=coords.mlayout != 0 and coords.per_sample.dtype == numpy.float64,
        vstore=align != 0,
        coarsen=coarsening(coords.kind, tiled, order),
        preload=s.PRELOAD and coords.kind in s.LINEAR_KINDS,
        pad=pad,
        halo=src.halo,
        gather=_gathers(src, order, hardware, ndim, tiled),
    )
    npts = math.prod(out_shape)
    if npts == 0 or src.nb == 0:
        retire(src)
        return None
    kern = s.kernel(key)
    o, grid, block = _geometry(coords.kind, ndim, out_shape, src.nb, key.coarsen)
    ps = coords.per_sample
    m = coords.params + (0.0,) * (s.N_PARAMS - len(coords.params))
    n = tuple(src.shape) + (1,) * (3 - ndim)
    head = (
        wt,
        int(src.tex_f) if key.hardware else 0,
        int(src.tex_p) if not tiled else 0,
        _ptr(ps),
        _ptr(coords.a),
        _ptr(coords.b),
    )
    stride = ps.shape[1] if ps is not None and ps.shape[0] > 1 and not coords.mlayout else 0
    if not tiled:
        args = head + (output.data.ptr, 0, stride, npts, n, o, src.nb, _ZERO3, _ZERO3, 1)
        own = [ps] if ps is not None and coords.owned else []
        launch = Launch(
            kern,
            grid,
            block,
            _params(*args, src.scale, cval, m),
            output.shape,
            output.dtype,
            output.data.device_id,
            src.deps,
            own,
            align,
        )
        launch.launch(output)
        if coords.derived:
            plan = None
        elif refill is not None:
            plan = Refilled(launch, refill, src)
        else:
            plan = None if src.keep else launch
        retire(src)
        return plan
    acc = cupy.zeros(output.shape, dtype=cupy.float32)
    for t, (lo, hi, tex) in enumerate(src.tiles):
        lo = tuple(lo) + (0,) * (3 - ndim)
        hi = tuple(hi) + (1,) * (3 - ndim)
        args = (wt, 0, int(tex)) + head[3:] + (0, acc.data.ptr, stride, npts, n, o, src.nb)
        kern(grid, block, (_params(*args, lo, hi, int(t == 0), src.scale, cval, m),))
    if output.dtype.kind in "iu":
        cupy.rint(acc, out=acc)
        if order == s.CUBIC_CONV:  # it overshoots: saturated, as OpenCV's saturate_cast
            lo, hi = _cubicconv.saturation(output.dtype)
            cupy.clip(acc, lo, hi, out=acc)
    output[...] = acc.astype(output.dtype, copy=False)
    retire(src)
    return None
