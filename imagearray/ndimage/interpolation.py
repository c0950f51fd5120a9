"""Texture-sampled drop-ins for ``cupyx.scipy.ndimage``'s interpolation:
``map_coordinates``, ``affine_transform``, ``zoom``, ``shift`` and ``rotate``.

Same signatures, argument names, SciPy axis order, output dtype rules and results as
cupyx (every mode, with SciPy's coordinate conventions), for orders 0, 1 and 3 of 2D
and 3D inputs of uint8, int8, uint16, int16, float16 and float32; what the textures
cannot do (orders 2, 4 and 5, float64, complex, other dtypes or ranks) is computed by
cupyx with a :class:`~imagearray.FallbackWarning`.

``order=3`` (cubic B-spline, cupyx's default): the input's B-spline coefficients
(cupyx's prefilter along each spatial axis, float32, with cupyx's own padding and
spline boundary for the mode, computed one thread per sample from the filter's
truncated impulse response: :mod:`imagearray.ndimage._spline`; ``prefilter=False``
takes the input as the coefficients, as cupyx does) are put in a float32 texture,
and each output point reads its ``4**ndim`` taps, each folded by the mode's spline
boundary rule as cupyx's kernels fold them (:mod:`imagearray.ndimage._cubic`). The
coefficients are computed on every call (order-3 calls make no plan).

Keyword-only extras:

precision : {"hardware", "exact"}
    ``"hardware"`` (default): order-1 points inside the input are filtered by the
    texture unit, whose weights are 9-bit fixed point with 8 fractional bits: each is
    off the exact weight by at most one step (1/256; typically half of it, where the
    coordinate is exact in the hardware's fixed point), so the result differs from
    the exact interpolation by at most ``ndim / 256`` of the range of the 2**ndim
    texels it blends (typically ``ndim / 512``); points near the borders, and signed
    integer inputs (whose normalized reads clamp -128 to -127), are computed exactly.
    ``"exact"``: every point from point reads with float32 weights in cupyx's order
    (agrees with cupyx to ~1e-6).

    At ``order=3``, ``"hardware"`` computes a point whose four taps lie inside the
    coefficients on every axis from ``2**ndim`` linear fetches (4 in 2D, 8 in 3D;
    Sigg and Hadwiger, GPU Gems 2 ch. 20): per axis the tap pairs' weights
    ``g0 = w0 + w1`` and ``g1 = w2 + w3`` fetched at ``t0 + w1 / g0`` and
    ``t2 + w3 / g1``. Each fetch's fraction is quantized to 8 bits (off by at most
    1/256 per axis), and the ``g`` are positive and sum to 1, so the result differs
    from the exact one by at most ``ndim / 256 * D`` (typically half), ``D`` the
    largest difference of two adjacent coefficients along an axis of the point's
    footprint; for smooth images ``D`` is about the largest step between adjacent
    input values, and at worst (the prefilter's inverse has l1 norm 3 per axis)
    ``3**ndim`` times the input's range: random uniform data give ``D`` about 4.8
    times the range in 2D. Points nearer a border (the taps folded) and
    3-channel inputs are computed exactly. ``"exact"``: the ``4**ndim`` point
    reads with float32 weights summed in cupyx's order (within 1e-5 of the value
    range of cupyx; float16 outputs: cupyx sums in float16).
channel_axis : int, optional
    ``-1``: the last axis holds channels (at most 4), read in one texture fetch and
    never interpolated across.
batch_axes : int, optional
    ``0``: the first axis is a batch of independent 2D images, resampled in one launch
    (``affine_transform`` takes one matrix per sample as an (N, ...) array).

An ``ImageArray`` input is read where it is (its channels and layers are the channel
axis and the batch); a 2D CuPy input is sampled in place through a pitched texture
where CUDA can, else copied once into a CUDA array, as are 3D inputs; a NumPy input is
uploaded. Results are CuPy arrays on the input's device, computed on the current
stream.
"""

from __future__ import annotations

import math
import operator
import warnings
from typing import Any

import numpy

from imagearray._device import current_device
from imagearray._errors import ImageArrayTypeError, ImageArrayValueError
from imagearray.ndimage import _source as s
from imagearray.ndimage._antialias import apply as apply_antialias
from imagearray.ndimage._antialias import check_antialias
from imagearray.ndimage._call import Call, check_order
from imagearray.ndimage._common import finish, planned, same_memory, sequence, spatial_shape
from imagearray.ndimage._launch import Coords
from imagearray.ndimage._modes import check_mode

__all__ = ["affine_transform", "map_coordinates", "rotate", "shift", "zoom"]


def _cupyx():
    import cupyx.scipy.ndimage as ndi

    return ndi


def map_coordinates(
    input: Any,
    coordinates: Any,
    output: Any = None,
    order: int = 3,
    mode: str = "constant",
    cval: float = 0.0,
    prefilter: bool = True,
    *,
    precision: str = "hardware",
    channel_axis: int | None = None,
    batch_axes: Any = None,
):
    """Map the input to new coordinates by interpolation (``cupyx.scipy.ndimage.
    map_coordinates``): ``coordinates`` has shape ``(ndim, ...)`` in SciPy axis order
    (row, column[, ...]; for 3D (plane, row, column)), and the output has shape
    ``coordinates.shape[1:]`` (with the batch and channel axes around it). See the
    module docstring for ``precision``, ``channel_axis`` and ``batch_axes``.

    Examples
    --------
    >>> import cupy
    >>> import cupyx.scipy.ndimage
    >>> import imagearray.ndimage
    >>> a = cupy.linspace(0, 1, 64 * 64, dtype=cupy.float32).reshape(64, 64)
    >>> coords = cupy.array([[0.5, 10.25, 63.0], [3.0, 7.5, 0.0]])  # (row, column) per point
    >>> b = imagearray.ndimage.map_coordinates(a, coords, order=1)
    >>> c = cupyx.scipy.ndimage.map_coordinates(a, coords, order=1)
    >>> b.shape, float(abs(b - c).max()) < 1e-3
    ((3,), True)
    """
    import cupy

    args = (mode, cval, prefilter, precision, channel_axis, batch_axes)
    k, hit = planned("map_coordinates", input, output, order, args, (coordinates,))
    if hit is not None:
        return hit
    order = check_order("map_coordinates", order)
    mode = check_mode(mode)
    call = Call("map_coordinates", input, channel_axis, batch_axes)
    with cupy.cuda.Device(call.device):
        c = cupy.asarray(coordinates)
    if c.ndim < 1 or c.shape[0] != call.ndim:
        raise ImageArrayValueError(
            f"coordinates of shape {c.shape} must have {call.ndim} rows (one per spatial axis)"
        )
    if c.dtype.kind not in "fiu":
        raise ImageArrayTypeError("coordinates should have floating point dtype")
    spatial = c.shape[1:]

    def coords():
        dt = numpy.float64 if c.dtype == numpy.float64 or c.dtype.kind in "iu" else numpy.float32
        ca = cupy.ascontiguousarray(c, dtype=dt)
        return Coords(s.COORDS, a=ca, dtype=dt, derived=not same_memory(ca, coordinates))

    def one(plane, res, b):
        res[...] = _cupyx().map_coordinates(plane, c, res.dtype, order, mode, cval, prefilter)

    return finish(call, coords, spatial, output, order, mode, cval, precision, one, k, prefilter)


def _matrix(matrix: Any, offset: Any, nd: int, per_sample: bool, dtype):
    """cupyx's matrix forms -> (kind, parameters: a NumPy array, or a CuPy one where
    the matrix is, shape ``[N,] k``). A diagonal ``(ndim,)`` matrix is the zoom-shift
    kind (cupyx's ``offset = -offset / matrix`` in ``dtype``)."""
    import cupy

    on_device = isinstance(matrix, cupy.ndarray) or isinstance(offset, cupy.ndarray)
    if not per_sample and not on_device:
        return _host_matrix(matrix, offset, nd, dtype)
    xp = cupy if on_device else numpy
    m = xp.asarray(matrix, dtype=dtype)
    lead = m.shape[:1] if per_sample else ()
    core = m.shape[1:] if per_sample else m.shape
    _check_matrix_shape(core, nd)
    off = xp.broadcast_to(xp.asarray(offset, dtype=dtype), lead + (nd,))
    if len(core) == 1:
        pad = xp.zeros(lead + (4 - nd,), dtype)
        return s.ZOOM_SHIFT, xp.concatenate([m, pad, -off / m, pad], axis=-1)
    if core == (nd, nd):
        lin = m
    else:  # homogeneous: the offset is the last column
        lin, off = m[..., :nd, :nd], m[..., :nd, nd]
    params = xp.concatenate([lin, off[..., None]], axis=-1).reshape(lead + (nd * (nd + 1),))
    return s.AFFINE, params


def _check_matrix_shape(shape: tuple, nd: int) -> None:
    """cupyx's matrix forms for ``nd`` spatial axes, else ``ImageArrayValueError``
    (checked before any fallback, so a bad matrix raises the same error either way)."""
    if shape not in ((nd,), (nd, nd), (nd, nd + 1), (nd + 1, nd + 1)):
        raise ImageArrayValueError(
            f"matrix of shape {shape}: improper affine shape for {nd} spatial axes (use "
            f"({nd}, {nd}), ({nd},), ({nd}, {nd + 1}) or ({nd + 1}, {nd + 1}))"
        )


def _host_matrix(matrix: Any, offset: Any, nd: int, dtype):
    """:func:`_matrix` of one host matrix, in Python lists (no array work per call)."""
    m = numpy.asarray(matrix, dtype=dtype)
    _check_matrix_shape(m.shape, nd)
    if m.ndim == 1:
        shift = (-numpy.asarray(offset, dtype=dtype) / m).tolist()
        pad = [0.0] * (4 - nd)
        return s.ZOOM_SHIFT, numpy.asarray(m.tolist() + pad + shift + pad, dtype)
    rows = m.tolist()
    if m.shape == (nd, nd):
        off = numpy.asarray(offset, dtype=dtype).tolist()
        params = [v for j, r in enumerate(rows) for v in r + [off[j]]]
    else:  # homogeneous: the offset is the last column
        params = [v for r in rows[:nd] for v in r[: nd + 1]]
    return s.AFFINE, numpy.asarray(params, dtype)


def _device_matrix(matrix, offset: list, nd: int, dtype) -> Coords:
    """A CuPy matrix read by the kernel where it is, float32 or float64 on the current
    device (the input's; else converted, or copied over from its own device, once in
    this call): no array work per call. A kernel given another device's pointer would
    read memory it cannot reach without peer access (an illegal address)."""
    import cupy

    a = matrix
    here = a.data.device_id == current_device()
    derived = not here or a.dtype not in (numpy.float32, numpy.float64)
    derived = derived or not a.flags.c_contiguous
    if derived:
        # (cupy.asarray copies another device's array here by a memcpy, which needs
        # no peer access; an elementwise copy across devices would)
        a = cupy.ascontiguousarray(cupy.asarray(a), dtype=dtype)
    kw = {"per_sample": a, "dtype": dtype, "derived": derived}
    if a.shape == (nd,):
        return Coords(s.ZOOM_SHIFT, [0.0] * 4 + list(offset), mlayout=3, **kw)
    if a.shape == (nd, nd):
        return Coords(s.AFFINE, offset, mlayout=1, **kw)
    return Coords(s.AFFINE, (), mlayout=2, **kw)


def _coords_of(kind: str, params, per_sample: bool, dtype) -> Coords:
    """Host parameters by value; device ones (or a stack) read by the kernel (made
    here from host numbers: ``owned``; from the caller's device data: ``derived``)."""
    import cupy

    if isinstance(params, numpy.ndarray) and not per_sample:
        return Coords(kind, params.tolist(), dtype=dtype)
    host = isinstance(params, numpy.ndarray)
    dev = cupy.ascontiguousarray(cupy.asarray(params, dtype=dtype))
    dev = dev.reshape(-1, dev.shape[-1])
    return Coords(kind, per_sample=dev, dtype=dtype, owned=host, derived=not host)


def _opencv_inverse(matrix, offset, nd):
    """cupyx's ``mode='opencv'`` rule of affine_transform: the homogeneous matrix is
    inverted and its two first axes swapped (OpenCV's (x, y) order)."""
    import cupy

    xp = cupy if isinstance(matrix, cupy.ndarray) else numpy
    m = xp.asarray(matrix, dtype=xp.float64)
    full = xp.zeros((nd + 1, nd + 1))
    if m.ndim == 1:
        m = xp.diag(m)
    if m.shape == (nd + 1, nd + 1) or m.shape == (nd, nd + 1):
        full[:nd] = m[:nd]
    else:
        full[:nd, :nd] = m
        full[:nd, nd] = xp.asarray(offset)
    full[nd, nd] = 1
    full = xp.linalg.inv(full)
    full[:2] = xp.roll(full[:2], 1, axis=0)
    full[:2, :2] = xp.roll(full[:2, :2], 1, axis=1)
    return full[:nd]


def affine_transform(
    input: Any,
    matrix: Any,
    offset: Any = 0.0,
    output_shape: Any = None,
    output: Any = None,
    order: int = 3,
    mode: str = "constant",
    cval: float = 0.0,
    prefilter: bool = True,
    *,
    texture_memory: bool = False,
    float64_coords: bool = False,
    precision: str = "hardware",
    channel_axis: int | None = None,
    batch_axes: Any = None,
):
    """Apply an affine transformation (``cupyx.scipy.ndimage.affine_transform``):
    the output at index ``o`` is the input at ``matrix @ o + offset`` (SciPy axis
    order). ``matrix`` is ``(ndim, ndim)``, ``(ndim,)`` (diagonal), ``(ndim, ndim + 1)``
    or ``(ndim + 1, ndim + 1)`` (homogeneous; ``offset`` ignored); with
    ``batch_axes=0`` an ``(N, ...)`` stack of these gives one per sample.
    ``texture_memory`` is accepted and ignored (every call uses textures).

    Examples
    --------
    >>> import cupy
    >>> import cupyx.scipy.ndimage
    >>> import imagearray.ndimage
    >>> a = cupy.linspace(0, 1, 64 * 64, dtype=cupy.float32).reshape(64, 64)
    >>> shear = cupy.array([[1.0, 0.2], [0.0, 1.0]])
    >>> b = imagearray.ndimage.affine_transform(a, shear, order=1, mode="nearest")
    >>> c = cupyx.scipy.ndimage.affine_transform(a, shear, order=1, mode="nearest")
    >>> float(abs(b - c).max()) < 1e-3
    True
    """
    import cupy

    del texture_memory  # the texture path is the only one here
    args = (offset, output_shape, mode, cval, prefilter, float64_coords, precision)
    args += (channel_axis, batch_axes)
    k, hit = planned("affine_transform", input, output, order, args, (matrix,))
    if hit is not None:
        return hit
    order = check_order("affine_transform", order)
    mode = check_mode(mode)
    call = Call("affine_transform", input, channel_axis, batch_axes)
    nd = call.ndim
    mshape = numpy.shape(matrix)
    per_sample = len(mshape) == 3
    if per_sample and (not call.batched or mshape[0] != call.nb):
        raise ImageArrayValueError(
            f"a stack of matrices (shape {mshape}) needs batch_axes=0 and a batch "
            f"of as many images (this input has {call.nb if call.batched else 'no batch'})"
        )
    _check_matrix_shape(mshape[1:] if per_sample else mshape, nd)
    if numpy.ndim(offset) <= 1:
        offset = sequence(offset, nd, "offset")
    elif not per_sample:
        raise ImageArrayValueError("an offset per sample needs a stack of matrices")
    spatial = call.shape if output_shape is None else spatial_shape(output_shape, call)
    dtype = numpy.float64 if float64_coords else numpy.float32

    def coords():
        mat = matrix
        if mode == "opencv":
            if per_sample:
                raise ImageArrayValueError("mode='opencv' takes one matrix, not a stack")
            mat = _opencv_inverse(matrix, offset, nd)
        elif mode == "_opencv_edge":
            mat = _diag(mat)  # cupyx's opencv branch: matrix @ indices + offset
        elif isinstance(mat, cupy.ndarray) and not per_sample:
            with cupy.cuda.Device(call.device):
                return _device_matrix(mat, offset, nd, dtype)
        with cupy.cuda.Device(call.device):
            kind, params = _matrix(mat, offset, nd, per_sample, dtype)
            return _coords_of(kind, params, per_sample, dtype)

    def one(plane, res, b):
        mat = matrix[b] if per_sample else matrix
        off = offset[b] if per_sample and numpy.ndim(offset) == 2 else offset
        res[...] = _cupyx().affine_transform(
            plane,
            cupy.asarray(mat),
            off,
            tuple(spatial),
            res.dtype,
            order,
            mode,
            cval,
            prefilter,
            float64_coords=float64_coords,
        )

    return finish(call, coords, spatial, output, order, mode, cval, precision, one, k, prefilter)


def _diag(m):
    import cupy

    xp = cupy if isinstance(m, cupy.ndarray) else numpy
    m = xp.asarray(m)
    return xp.diag(m) if m.ndim == 1 else m


def zoom(
    input: Any,
    zoom: Any,
    output: Any = None,
    order: int = 3,
    mode: str = "constant",
    cval: float = 0.0,
    prefilter: bool = True,
    *,
    grid_mode: bool = False,
    precision: str = "hardware",
    channel_axis: int | None = None,
    batch_axes: Any = None,
    antialias: bool = False,
):
    """Zoom the input (``cupyx.scipy.ndimage.zoom``): the output's spatial shape is
    ``round(n * zoom)`` per axis; ``grid_mode`` as in SciPy. Channels and the batch
    are not zoomed.

    ``antialias=True`` (keyword only): each axis that shrinks, from ``n`` to ``o``
    samples, is first smoothed by scikit-image's Gaussian, ``sigma = (n / o - 1) / 2``
    in float32 with the filter mode that extends the input as ``mode`` does, as
    ``skimage.transform.rescale(..., anti_aliasing=True)`` (and cuCIM's) smooths; the
    output keeps the input's dtype. A CuPy or NumPy input. To minify through the mip
    chain instead, see :func:`imagearray.ndimage.resize` (``method="mip"``).

    Examples
    --------
    >>> import cupy
    >>> import cupyx.scipy.ndimage
    >>> import imagearray.ndimage
    >>> a = cupy.linspace(0, 1, 64 * 64, dtype=cupy.float32).reshape(64, 64)
    >>> b = imagearray.ndimage.zoom(a, 2, order=1)
    >>> b.shape
    (128, 128)
    >>> float(abs(b - cupyx.scipy.ndimage.zoom(a, 2, order=1)).max()) < 1e-3
    True
    >>> c = cupy.broadcast_to(cupy.arange(63) % 2, (63, 63)).astype(cupy.float32)
    >>> kw = {"order": 1, "grid_mode": True, "mode": "mirror"}  # stripes, 1/3 as many
    >>> plain = imagearray.ndimage.zoom(c, 1 / 3, **kw)
    >>> smooth = imagearray.ndimage.zoom(c, 1 / 3, antialias=True, **kw)
    >>> plain.shape, float(plain.std()) > 0.4, float(smooth.std()) < 0.01  # aliased
    ((21, 21), True, True)
    """
    k = hit = None
    if check_antialias(antialias):  # a new smoothed input each call: no plan
        input, output = apply_antialias(input, zoom, output, mode, cval, channel_axis, batch_axes)
    elif not grid_mode or mode not in ("constant", "wrap"):  # those warn on every call
        args = (zoom, mode, cval, prefilter, grid_mode, precision, channel_axis, batch_axes)
        k, hit = planned("zoom", input, output, order, args)
    if hit is not None:
        return hit
    order = check_order("zoom", order)
    mode = check_mode(mode)
    call = Call("zoom", input, channel_axis, batch_axes)
    factors = sequence(zoom, call.ndim, "zoom")
    spatial = tuple(int(round(n * z)) for n, z in zip(call.shape, factors))
    kmode = mode
    if mode == "opencv":
        z = [n / o if o > 0 else 0.0 for n, o in zip(call.shape, spatial)]
        off = [(zz - 1) / 2.0 if o > 0 else 0.0 for zz, o in zip(z, spatial)]
        zz = numpy.asarray(z, dtype=numpy.float32)
        shift = -numpy.asarray(off, dtype=numpy.float32) / zz
        kind, params = s.ZOOM_SHIFT, list(zz) + [0.0] * (4 - call.ndim) + list(shift)
        kmode = "nearest"
    else:
        if grid_mode:
            suggest = {"constant": "grid-constant", "wrap": "grid-wrap"}.get(mode)
            if suggest is not None:
                warnings.warn(
                    f"It is recommended to use mode = {suggest} instead of {mode} when "
                    "grid_mode is True.",
                    stacklevel=2,
                )
        z = []
        for n, o in zip(call.shape, spatial):
            if grid_mode and o > 0:
                z.append(n / o)
            elif o > 1:
                z.append((n - 1) / (o - 1))
            else:
                z.append(0)
        kind = s.ZOOM_GRID if grid_mode else s.ZOOM
        params = [float(numpy.float32(v)) for v in z]
    coords = Coords(kind, params)

    def one(plane, res, b):
        res[...] = _cupyx().zoom(
            plane, zoom, res.dtype, order, mode, cval, prefilter, grid_mode=grid_mode
        )

    return finish(call, coords, spatial, output, order, kmode, cval, precision, one, k, prefilter)


def shift(
    input: Any,
    shift: Any,
    output: Any = None,
    order: int = 3,
    mode: str = "constant",
    cval: float = 0.0,
    prefilter: bool = True,
    *,
    precision: str = "hardware",
    channel_axis: int | None = None,
    batch_axes: Any = None,
):
    """Shift the input (``cupyx.scipy.ndimage.shift``): the output at ``o`` is the
    input at ``o - shift`` (SciPy axis order).

    Examples
    --------
    >>> import cupy
    >>> import cupyx.scipy.ndimage
    >>> import imagearray.ndimage
    >>> a = cupy.linspace(0, 1, 64 * 64, dtype=cupy.float32).reshape(64, 64)
    >>> b = imagearray.ndimage.shift(a, (0.25, -1.5), order=1, mode="nearest")
    >>> c = cupyx.scipy.ndimage.shift(a, (0.25, -1.5), order=1, mode="nearest")
    >>> float(abs(b - c).max()) < 1e-3  # the texture unit's 9-bit weights
    True
    """
    args = (shift, mode, cval, prefilter, precision, channel_axis, batch_axes)
    k, hit = planned("shift", input, output, order, args)
    if hit is not None:
        return hit
    order = check_order("shift", order)
    mode = check_mode(mode)
    call = Call("shift", input, channel_axis, batch_axes)
    values = sequence(shift, call.ndim, "shift")
    if mode == "opencv":  # cupyx: affine_transform(identity, -shift, mode='_opencv_edge')
        nd = call.ndim
        eye = numpy.eye(nd, dtype=numpy.float32)
        off = -numpy.asarray(values, dtype=numpy.float32)
        params = numpy.concatenate([eye, off[:, None]], axis=1).reshape(-1)
        coords = Coords(s.AFFINE, params.tolist())
    else:
        coords = Coords(s.SHIFT, [float(numpy.float32(v)) for v in values])

    def one(plane, res, b):
        res[...] = _cupyx().shift(plane, shift, res.dtype, order, mode, cval, prefilter)

    spatial = call.shape
    return finish(call, coords, spatial, output, order, mode, cval, precision, one, k, prefilter)


def rotate(
    input: Any,
    angle: float,
    axes: Any = (1, 0),
    reshape: bool = True,
    output: Any = None,
    order: int = 3,
    mode: str = "constant",
    cval: float = 0.0,
    prefilter: bool = True,
    *,
    precision: str = "hardware",
    channel_axis: int | None = None,
    batch_axes: Any = None,
):
    """Rotate the input by ``angle`` degrees in the plane of ``axes``
    (``cupyx.scipy.ndimage.rotate``; ``axes`` index the spatial axes). ``reshape``
    grows the output to hold the whole rotated input.

    Examples
    --------
    >>> import cupy
    >>> import cupyx.scipy.ndimage
    >>> import imagearray.ndimage
    >>> a = cupy.linspace(0, 1, 64 * 64, dtype=cupy.float32).reshape(64, 64)
    >>> b = imagearray.ndimage.rotate(a, 30, reshape=False, order=1, mode="nearest")
    >>> c = cupyx.scipy.ndimage.rotate(a, 30, reshape=False, order=1, mode="nearest")
    >>> b.shape, float(abs(b - c).max()) < 1e-3
    ((64, 64), True)
    """
    args = (angle, axes, reshape, mode, cval, prefilter, precision, channel_axis, batch_axes)
    k, hit = planned("rotate", input, output, order, args)
    if hit is not None:
        return hit
    order = check_order("rotate", order)
    mode = check_mode(mode)
    call = Call("rotate", input, channel_axis, batch_axes)
    nd = call.ndim
    try:
        ax = [operator.index(a) for a in axes]
    except TypeError:
        raise ImageArrayTypeError(f"axes must be two ints, not {axes!r}") from None
    if len(ax) != 2:
        raise ImageArrayValueError(f"axes must be two ints, not {axes!r}")
    ax = [a + nd if a < 0 else a for a in ax]
    if ax[0] > ax[1]:
        ax = [ax[1], ax[0]]
    if ax[0] < 0 or nd <= ax[1] or ax[0] == ax[1]:
        raise ImageArrayValueError(f"axes={tuple(axes)}: invalid rotation plane for {nd} axes")
    rad = numpy.deg2rad(float(angle))
    sin, cos = math.sin(rad), math.cos(rad)
    rot = numpy.array([[cos, sin], [-sin, cos]], dtype=numpy.float32)
    img_shape = numpy.asarray(call.shape)
    in_plane = img_shape[ax]
    if reshape:
        iy, ix = in_plane
        bounds = rot @ [[0, 0, iy, iy], [0, ix, 0, ix]]
        out_plane = (numpy.ptp(bounds, axis=1) + 0.5).astype(numpy.int64)
    else:
        out_plane = img_shape[ax]
    out_center = rot @ ((out_plane - 1) / 2)
    in_center = (in_plane - 1) / 2
    out_shape = img_shape.copy()
    out_shape[ax] = out_plane
    spatial = tuple(int(v) for v in out_shape)
    m = numpy.identity(nd, dtype=numpy.float32)
    m[ax[0], ax[0]] = cos
    m[ax[0], ax[1]] = sin
    m[ax[1], ax[0]] = -sin
    m[ax[1], ax[1]] = cos
    off = numpy.zeros(nd, dtype=numpy.float32)
    off[ax] = in_center - out_center
    params = numpy.concatenate([m, off[:, None]], axis=1).reshape(-1)
    coords = Coords(s.AFFINE, params.tolist())

    def one(plane, res, b):
        res[...] = _cupyx().rotate(
            plane, angle, tuple(ax), reshape, res.dtype, order, mode, cval, prefilter
        )

    return finish(call, coords, spatial, output, order, mode, cval, precision, one, k, prefilter)
