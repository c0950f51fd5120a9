"""The B-spline coefficients that ``order=3`` reads: cupyx's prefilter, per
(sample, channel) plane, as float32 (what cupyx's ``_filter_input`` computes for the
input dtypes the textures take).

- ``opencv`` / ``_opencv_edge``: cupyx's map_coordinates pads the input (in its own
  dtype) by one sample of ``cval`` per side and continues with mode ``constant``.
- ``nearest`` and ``grid-constant`` with the prefilter: cupyx pads by 12 samples
  (``edge``; ``cval`` on the float input) before filtering (``nprepad``).
- The prefilter along each spatial axis in turn, with the spline boundary cupyx's
  ``_get_spline_mode`` gives the caller's mode (:data:`FILTER_MODE`): cupyx runs the
  recursive (IIR) filter, one thread per line; here each thread makes a stretch of
  a line from the 16 samples each side of it (``|z|**17 < 2e-10``, ``z = sqrt(3) -
  2``), over the signal extended by the boundary's symmetry (mirror, reflect,
  periodic), which is what the IIR's initial conditions solve for: by the same
  recursions started 16 samples away, or by the impulse response ``sqrt(3) *
  z**|k|`` truncated at ``|k| <= 16`` (``_firsource.RECURSIVE``), the same
  coefficients within float32 rounding and every stretch computed in parallel
  (:func:`prefilter_axes`). Short reflect-family axes
  (fewer than 16 samples), where SciPy's and cupyx's initial condition is itself
  an approximation, take cupyx's ``spline_filter1d``.
"""

from __future__ import annotations

import math

import numpy

from imagearray.ndimage import _cubic, _firsource, _modes, _textures
from imagearray.ndimage._firsource import fir, fir_plane, fir_rows

OPENCV_MODES = ("opencv", "_opencv_edge")
NPREPAD = 12  # cupyx's (and SciPy's) padding before filtering nearest / grid-constant
# cupyx's _get_spline_mode: the boundary of the prefilter for each mode it is given
FILTER_MODE = {"mirror": "mirror", "reflect": "reflect", "grid-wrap": "grid-wrap"}
FILTER_MODE |= {"grid-mirror": "reflect", "nearest": "reflect"}
SHORT_REFLECT = 16  # reflect axes shorter than this: cupyx's recursive filter
# False: every axis by cupyx's recursive spline_filter1d (what cupyx computes, the
# way it computes it); True: the parallel truncated filter where it is exact
FAST_PREFILTER = True
# Samples of one line each thread of the parallel prefilter makes (sliding its window
# of 2 * FIR_HALF + PREFILTER_RUN samples along the line: 3 loads a sample instead
# of 33 at 16), rounded up to whole stretches of _firsource.CHUNK where the
# recursions make them (1: one sample a thread, by the impulse response). The same
# values either way, bit for bit.
PREFILTER_RUN = 16
# The pass along a contiguous axis (stride 1) by blocks that load segments of
# ROW_TILE samples of 2048 / ROW_TILE lines, with their 2 * FIR_HALF neighbours,
# into shared memory (coalesced; the sliding window's reads would be RUN samples
# apart across a warp on such an axis), each thread then sliding a window of 8
# samples along a segment there (rows padded so that a warp's reads hit 32 banks).
# 32, 64, 128 or 256; 0: that pass as the others. The same sums.
ROW_TILE = 256
# The passes along the last two spatial axes as one (one read and one write of the
# samples instead of two each) by blocks of PLANE_TILE x PLANE_TILE outputs (32 or
# 64; 0: the two passes). The same sums.
PLANE_TILE = 64
# Texels of border on each side of each axis of a 3D CUDA array the prefilter fills
# through a surface, holding the coefficients the order-3 kernels' spline rule folds
# there, so that a point near the edge takes the 8 filtered fetches too (0: no
# border; those points take the 64 point reads)
HALO = 2
# The last pass through a surface: a warp makes SURFACE_LANES neighbouring x of
# 32 / SURFACE_LANES rows (16: a warp's stores cover 64 bytes of 2 rows, within one
# 64-byte-wide tile of the CUDA array's block-linear layout).
SURFACE_LANES = 16


def layout(mode: str, prefilter: bool) -> tuple[str, int]:
    """(the kernel mode of order 3, the coefficients' padding per side)."""
    if mode in OPENCV_MODES:
        return "constant", 1
    if prefilter and mode in ("nearest", "grid-constant"):
        return mode, NPREPAD
    return _modes.kernel_mode(mode), 0


def coefficients(
    x, nshape: tuple, ndim: int, mode: str, cval: float, prefilter: bool, to_image: bool = False
):
    """``(coef, image)``: float32 coefficients of shape ``(nb, *padded spatial,
    channels)`` of ``x`` (a CuPy array of ``nshape`` elements; never modified) as a new
    C-contiguous array, or (``prefilter=False`` on float32 data) ``x`` itself, read
    where it is; ``image`` None. With ``to_image``, where :func:`fills_image` allows,
    ``coef`` is None and ``image`` is ``(lease, halo)``: a scratch-image lease
    (``_scratch.Lease``) of a float32 3D image of the padded volume with ``halo``
    texels of border per side (:func:`border`), whose last prefilter pass wrote it
    through a surface (no copy into a CUDA array afterwards)."""
    import cupy

    a = x.reshape(nshape)
    fresh = False  # a is an array of this call's own (else: the caller's memory)
    spatial = [(0, 0)] + [(1, 1)] * ndim + [(0, 0)]
    filter_mode = mode
    if mode in OPENCV_MODES:  # in the input's dtype, as cupyx pads
        a, fresh = cupy.pad(a, spatial, "constant", constant_values=cval), True
        filter_mode = "constant"
    if a.dtype.kind in "iu":
        a, fresh = a.astype(numpy.float32), True
    if prefilter and filter_mode in ("nearest", "grid-constant"):
        pads = [(0, 0)] + [(NPREPAD, NPREPAD)] * ndim + [(0, 0)]
        kw = {"constant_values": cval} if filter_mode == "grid-constant" else {}
        a = cupy.pad(a, pads, "edge" if filter_mode == "nearest" else "constant", **kw)
        fresh = True
    if not prefilter:
        return (a if a.dtype == numpy.float32 else a.astype(numpy.float32)), None  # read
    fill = volume_fill(a, mode, filter_mode) if to_image else None
    if fill is not None:
        return None, (fill(a), fill.halo)
    if to_image and fills_image(a.shape, ndim, filter_mode):
        halo, rule = border(mode, a.shape[1:-1], x.device.id)
        leases = []

        def image():  # taken once the passes before the surface pass are launched
            shape = tuple(n + 2 * halo for n in a.shape[1:-1])
            leases.append(_textures.take_scratch(shape, numpy.float32, 1))
            return leases[0].image

        try:
            prefilter_axes(a, ndim, filter_mode, fresh, into=image, halo=(halo, rule))
        except BaseException:
            for lease in leases:  # nothing launched into it: idle again at once
                lease.give_back()
            raise
        return None, (leases[0], halo)
    return prefilter_axes(a, ndim, filter_mode, fresh), None


def border(mode: str, shape: tuple, device: int) -> tuple[int, str]:
    """(texels of border, its rule) of the CUDA array a surface fill writes for
    cupyx's ``mode`` and the coefficients' ``shape``: :data:`HALO` where the order-3
    kernels' spline rule folds every tap into the coefficients (all but
    ``grid-constant``'s) and the array still fits the device's limits, else 0."""
    rule = _cubic.SPLINE_MODE[layout(mode, True)[0]]
    limits = _textures._limits(device, 3, False)
    if not HALO or rule == "grid-constant":
        return 0, rule
    if any(n + 2 * HALO > m for n, m in zip(shape, limits)):
        return 0, rule
    return HALO, rule


def fills_image(shape: tuple, ndim: int, mode: str) -> bool:
    """Whether :func:`prefilter_axes` can write coefficients of ``shape`` (``(nb,
    *spatial, channels)``) into a 3D CUDA array through a surface: one single-channel
    volume whose every axis takes the parallel filter (longer than one sample, and
    not a short reflect axis)."""
    fmode = FILTER_MODE.get(mode, "mirror")
    if ndim != 3 or len(shape) != 5 or shape[0] != 1 or shape[-1] != 1 or not FAST_PREFILTER:
        return False
    return all(n > 1 and not (fmode == "reflect" and n < SHORT_REFLECT) for n in shape[1:4])


def prefilter_axes(a, ndim: int, mode: str, fresh: bool = False, into=None, halo=(0, "")):
    """The cubic B-spline coefficients of ``a`` (``(nb, *spatial, channels)``, any
    float dtype) along spatial axes ndim..1 (the last first) with cupyx's boundary
    for ``mode``, as a new float32 C-contiguous array (``a`` is read, never written;
    ``fresh``: ``a`` is this call's own, so it may be filtered in place). ``into``: a
    float32 3D ``ImageArray`` of the spatial shape (where :func:`fills_image`) with
    ``halo[0]`` texels more each side, which the last pass (along axis 1) writes
    through its surface, the border folded by the rule ``halo[1]``, or a function
    returning it, called once the passes before that one are launched (the GPU
    starts while the host finds the image); returns None then."""
    import cupy

    fmode = FILTER_MODE.get(mode, "mirror")
    cur = cupy.ascontiguousarray(a)
    if cur.dtype != numpy.float32:
        cur, fresh = cur.astype(numpy.float32), True
    spare = None
    # (cupyx: a line of one sample is its own coefficient)
    axes = [axis for axis in range(ndim, 0, -1) if cur.shape[axis] > 1]
    if _fuses(cur.shape, ndim, fmode, axes, into):
        spare = cupy.empty(cur.shape, cur.dtype)  # (C-contiguous: empty_like took ~11 us)
        _plane_pass(cur, spare, fmode)
        cur, spare, fresh = spare, (cur if fresh else None), True
        axes = axes[2:]
    for axis in axes:
        n = cur.shape[axis]
        if not _parallel(fmode, n):
            import cupyx.scipy.ndimage as ndi

            if not fresh:
                cur, fresh = cur.copy(), True
            ndi.spline_filter1d(cur, 3, axis, output=cur, mode=mode)
            continue
        surface = into is not None and axis == 1
        if spare is None and not surface:
            spare = cupy.empty(cur.shape, cur.dtype)  # (C-contiguous: empty_like took ~11 us)
        if surface:
            _surface_pass(cur, fmode, into() if callable(into) else into, *halo)
            return None
        stride = math.prod(cur.shape[axis + 1 :])
        _line_pass(cur, spare, fmode, n, stride)
        cur, spare = spare, (cur if fresh else None)
        fresh = True
    if not fresh:
        cur = cur.copy()
    return cur


def _fuses(shape: tuple, ndim: int, fmode: str, axes: list, into) -> bool:
    """Whether the passes along the last two spatial axes of ``shape`` (``(nb,
    *spatial, channels)``) run as one (:func:`_plane_pass`): one channel, both axes
    filtered by the parallel filter, at most 65535 planes (a grid's z), and the
    plane pass is not the last one of a surface fill."""
    if not PLANE_TILE or shape[-1] != 1 or axes[:2] != [ndim, ndim - 1]:
        return False
    if not all(_parallel(fmode, shape[a]) for a in axes[:2]):
        return False
    planes = math.prod(shape[: ndim - 1])
    return planes <= 65535 and not (into is not None and ndim == 2)


def _plane_pass(cur, out, fmode: str) -> None:
    """The last two spatial axes of ``cur`` (one channel) filtered into ``out``."""
    kernel, grid, block, tail = _plane_launch(cur.shape, fmode)
    kernel(grid, block, (cur, out, *tail))


def _plane_launch(shape: tuple, fmode: str) -> tuple:
    """(kernel, grid, block, the arguments after the input and output) of
    :func:`_plane_pass` over an array of ``shape``."""
    h, w = shape[-3], shape[-2]
    t = PLANE_TILE
    grid = (-(-w // t), -(-h // t), math.prod(shape) // (h * w))
    return fir_plane(fmode, t), grid, (256,), (numpy.int32(h), numpy.int32(w))


class VolumeFill:
    """:func:`prefilter_axes` of one volume into the surface of a scratch image, as it
    goes where the plane pass applies, with the plane pass's kernel, grid and
    arguments found once: the plan of an order-3 call (``_call.filled_source``) runs
    it on every repeat, and the GPU waits for the host until this first launch (the
    same launches, the same bits). Calling it with a C-contiguous float32 array of
    ``shape`` ``(1, n, h, w, 1)`` (or its data in any shape) launches the passes on
    the current device (the one it was made on) and returns the image's lease
    (:func:`coefficients`' ``image[0]``); ``halo``: the image's border per side."""

    __slots__ = ("shape", "fmode", "halo", "rule", "image_shape", "plane")

    def __init__(self, shape: tuple, fmode: str, halo: int, rule: str) -> None:
        self.shape, self.fmode, self.halo, self.rule = shape, fmode, halo, rule
        self.image_shape = tuple(n + 2 * halo for n in shape[1:-1])
        kernel, grid, block, tail = _plane_launch(shape, fmode)
        self.plane = (getattr(kernel, "kernel", kernel), grid, block, tail)  # this device's

    def __call__(self, a):
        import cupy

        spare = cupy.empty(self.shape, numpy.float32)  # (C-contiguous: empty_like took ~11 us)
        fn, grid, block, tail = self.plane
        fn(grid, block, (a, spare, *tail))
        # the image taken once the plane pass is launched (the GPU starts meanwhile)
        lease = _textures.take_scratch(self.image_shape, numpy.float32, 1)
        try:
            _surface_pass(spare, self.fmode, lease.image, self.halo, self.rule)
        except BaseException:
            lease.give_back()  # nothing launched into it: idle again at once
            raise
        return lease


def volume_fill(a, mode: str, filter_mode: str) -> VolumeFill | None:
    """The :class:`VolumeFill` of ``a`` (``(1, n, h, w, 1)``, as :func:`coefficients`
    filters it: cupyx's ``mode``, the prefilter's ``filter_mode``) where it takes one:
    C-contiguous float32 coefficients written into an image (:func:`fills_image`) by
    the plane pass and then the surface pass; else None. Made on ``a``'s device."""
    if a.dtype != numpy.float32 or not a.flags.c_contiguous:
        return None
    if not fills_image(a.shape, 3, filter_mode):
        return None
    fmode = FILTER_MODE.get(filter_mode, "mirror")
    if not _fuses(a.shape, 3, fmode, [3, 2, 1], into=True):  # (fills_image: every axis > 1)
        return None
    import cupy

    device = a.device.id
    halo, rule = border(mode, a.shape[1:-1], device)
    with cupy.cuda.Device(device):
        return VolumeFill(a.shape, fmode, halo, rule)


def direct_fill(x, nshape: tuple, ndim: int, mode: str, prefilter: bool) -> VolumeFill | None:
    """The :class:`VolumeFill` that :func:`coefficients` (``to_image``) runs on ``x``
    itself (a CuPy array of ``nshape`` elements: no padding or conversion before the
    prefilter), or None where it runs none or on a copy."""
    if ndim != 3 or not prefilter or layout(mode, True)[1]:
        return None
    if not x.flags.c_contiguous:  # (reshape would copy it: the fill reads x's memory)
        return None  # (volume_fill checks the dtype)
    return volume_fill(x.reshape(nshape), mode, mode)


def _parallel(fmode: str, n: int) -> bool:
    """Whether an axis of ``n`` samples takes the parallel (truncated) filter."""
    return FAST_PREFILTER and not (fmode == "reflect" and n < SHORT_REFLECT)


def _line_pass(cur, out, fmode: str, n: int, stride: int) -> None:
    """One axis (``n`` samples, ``stride`` apart) of ``cur`` filtered into ``out``."""
    size = cur.size
    if stride == 1 and ROW_TILE:
        lines = size // n
        grid = (-(-lines // (2048 // ROW_TILE)) * -(-n // ROW_TILE),)
        fir_rows(fmode, ROW_TILE)(grid, (256,), (cur, out, numpy.int32(n), numpy.int64(lines)))
        return
    run = _run()
    threads = size // n * -(-n // run)  # every line cut into runs of `run` samples
    tail = (numpy.int64(threads), numpy.int64(stride), numpy.int32(n))
    fir(fmode, run)((-(-threads // 256),), (256,), (cur, out, *tail))


def _run() -> int:
    """Samples a thread of the generic and surface passes makes (PREFILTER_RUN)."""
    run = max(1, int(PREFILTER_RUN))
    chunk = _firsource.CHUNK if _firsource.RECURSIVE else 1
    return -(-run // chunk) * chunk


def _surface_pass(cur, fmode: str, into, halo: int = 0, rule: str = "") -> None:
    """The pass along axis 1 of the volume ``cur`` (``(1, n, h, w, 1)``), written
    through the surface of ``into`` (with ``halo`` texels of border by ``rule``)."""
    n, h, w = cur.shape[1:4]
    run, lanes = _run(), SURFACE_LANES
    grid = (-(-(w + 2 * halo) // lanes), -(-(h + 2 * halo) // (256 // lanes)), -(-n // run))
    surf = numpy.uint64(int(into.surface()))
    tail = (numpy.int32(h), numpy.int32(w), numpy.int32(n))
    kernel = fir(fmode, run, True, lanes, halo, rule if halo else "")
    kernel(grid, (256,), (cur, surf, *tail))


def model(coef, coords, mode: str, cval: float = 0.0, pad: int = 0):
    """NumPy model of the ``exact`` order-3 kernels: coefficients ``coef`` (any ndim,
    one channel, padded as :func:`coefficients` pads) at ``coords`` (shape
    ``(coef.ndim, ...)``, SciPy order, on the unpadded input) with the kernel mode and
    padding of :func:`layout`. Returns float64 values (the CPU tests hold it against
    ``scipy.ndimage``)."""
    coef = numpy.asarray(coef, dtype=numpy.float64)
    c = numpy.asarray(coords, dtype=numpy.float32)
    shape = c.shape[1:]
    c = c.reshape(coef.ndim, -1) + numpy.float32(pad)
    outside = numpy.isnan(c).any(axis=0)
    if mode == "constant":
        for j, n in enumerate(coef.shape):
            outside |= (c[j] < 0) | (c[j] > n - 1)
    c = numpy.where(numpy.isnan(c), 0, c)
    smode = _cubic.SPLINE_MODE[mode]
    axes = []
    for j, n in enumerate(coef.shape):
        wx = c[j] - numpy.floor(c[j])
        wy = numpy.float32(1) - wx
        w1 = (wx * wx * (wx - 2) * 3 + 4) / numpy.float32(6)
        w2 = (wy * wy * (wy - 2) * 3 + 4) / numpy.float32(6)
        w0 = wy * wy * wy / numpy.float32(6)
        w3 = numpy.float32(1) - w0 - w1 - w2
        dc = _modes.wrap_coordinate(c[j], n) if mode == "wrap" else c[j]
        st = numpy.floor(dc).astype(numpy.int64) - 1
        taps = [_modes.boundary(smode, st + k, n) for k in range(4)]
        axes.append(list(zip(taps, (w0, w1, w2, w3))))
    out = _modes.sum_taps(coef, axes, cval)
    return numpy.where(outside, cval, out).reshape(shape)
