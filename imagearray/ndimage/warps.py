"""Resampling that cupyx.scipy.ndimage lacks: ``warp_perspective`` (a 3 x 3
homography, OpenCV's convention) and ``remap`` (OpenCV-style maps, absolute or
relative), on the same kernels, modes, precisions, channel and batch axes as
:mod:`imagearray.ndimage.interpolation` (read its docstring)."""

from __future__ import annotations

from typing import Any

import numpy

from imagearray._errors import ImageArrayValueError
from imagearray.ndimage import _cubicconv
from imagearray.ndimage import _source as s
from imagearray.ndimage._call import Call, check_order
from imagearray.ndimage._common import finish, planned, same_memory, spatial_shape
from imagearray.ndimage._launch import Coords
from imagearray.ndimage._modes import check_mode

__all__ = ["remap", "warp_perspective"]


_INTERPOLATIONS = {"nearest": 0, "linear": 1, "cubic": None}  # None: cubic convolution


def _order(fn: str, order: Any, interpolation: Any, cubic_a: Any):
    """(the kernels' order, ``finish``'s ``conv_a``): the spline order from ``order``
    or ``interpolation`` with 0, or for ``interpolation="cubic"``
    (``_source.CUBIC_CONV``, ``cubic_a``)."""
    if interpolation is None:
        default = isinstance(cubic_a, (int, float, numpy.integer, numpy.floating))
        if not (default and cubic_a == _cubicconv.DEFAULT_A):
            raise ImageArrayValueError(
                f"{fn}: cubic_a={cubic_a!r} applies to interpolation='cubic' only"
            )
        return check_order(fn, order), 0.0
    if not isinstance(interpolation, str) or interpolation not in _INTERPOLATIONS:
        raise ImageArrayValueError(
            f"{fn}: interpolation={interpolation!r} is not one of 'nearest', 'linear', "
            "'cubic' (OpenCV's INTER_NEAREST, INTER_LINEAR, INTER_CUBIC) or None (order=)"
        )
    named = _INTERPOLATIONS[interpolation]
    if order not in (None, 1) and order != named:
        raise ImageArrayValueError(
            f"{fn}: order={order!r} and interpolation={interpolation!r} disagree: give one "
            "(order=3 is SciPy's cubic B-spline, interpolation='cubic' OpenCV's cubic "
            "convolution)"
        )
    if named is None:
        return s.CUBIC_CONV, _cubicconv.check_a(cubic_a)
    return named, 0.0


def _cupyx_map(plane, c, res, order, mode, cval):
    import cupyx.scipy.ndimage as ndi

    res[...] = ndi.map_coordinates(plane, c, res.dtype, order, mode, cval)


def warp_perspective(
    input: Any,
    matrix: Any,
    output_shape: Any = None,
    output: Any = None,
    order: int = 1,
    mode: str = "constant",
    cval: float = 0.0,
    *,
    inverse_map: bool = False,
    precision: str = "hardware",
    channel_axis: int | None = None,
    batch_axes: Any = None,
    interpolation: str | None = None,
    cubic_a: float = _cubicconv.DEFAULT_A,
):
    """Warp a 2D input by a homography, as OpenCV's ``warpPerspective``.

    ``matrix`` (3 x 3, or (N, 3, 3) with ``batch_axes=0``: one per sample) acts on
    ``(x, y, 1)`` with ``x`` the column and ``y`` the row, pixel centres at integers.
    By default it maps input pixels to output pixels and is inverted; with
    ``inverse_map=True`` it maps each output pixel ``(x, y)`` to the input point
    ``((m00 x + m01 y + m02) / w, (m10 x + m11 y + m12) / w)``,
    ``w = m20 x + m21 y + m22`` (OpenCV's ``WARP_INVERSE_MAP``); ``w == 0`` reads as
    ``cval``. ``output_shape`` is (rows, columns), default the input's. Modes, orders
    and ``precision`` as for ``affine_transform`` (default order 1: OpenCV's
    ``INTER_LINEAR``; ``mode='opencv'`` is OpenCV's ``BORDER_CONSTANT``).
    ``interpolation`` and ``cubic_a`` as for :func:`remap`.

    Examples
    --------
    >>> import cupy
    >>> import cupyx.scipy.ndimage
    >>> import imagearray.ndimage
    >>> a = cupy.linspace(0, 1, 64 * 64, dtype=cupy.float32).reshape(64, 64)
    >>> m = cupy.array([[1.0, 0.0, 2.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    >>> b = imagearray.ndimage.warp_perspective(a, m, inverse_map=True)  # reads (x + 2, y)
    >>> bool((b[:, :-2] == a[:, 2:]).all())  # a whole-texel shift reads texels exactly
    True
    """
    import cupy

    args = (output_shape, mode, cval, inverse_map, precision, channel_axis, batch_axes)
    args += (interpolation, cubic_a)
    k, hit = planned("warp_perspective", input, output, order, args, (matrix,))
    if hit is not None:
        return hit
    order, conv_a = _order("warp_perspective", order, interpolation, cubic_a)
    mode = check_mode(mode)
    call = Call("warp_perspective", input, channel_axis, batch_axes)
    if call.ndim != 2:
        raise ImageArrayValueError(
            f"warp_perspective warps 2D images; this input has {call.ndim} spatial axes"
        )
    xp = cupy if isinstance(matrix, cupy.ndarray) else numpy
    m = xp.asarray(matrix, dtype=xp.float64)
    per_sample = m.ndim == 3
    if m.shape[-2:] != (3, 3) or m.ndim not in (2, 3):
        raise ImageArrayValueError(f"matrix must be 3 x 3 (or N x 3 x 3), not {m.shape}")
    if per_sample and (not call.batched or m.shape[0] != call.nb):
        raise ImageArrayValueError(
            f"{m.shape[0]} matrices need batch_axes=0 and a batch of as many images"
        )
    if not inverse_map:
        m = xp.linalg.inv(m)
    spatial = call.shape if output_shape is None else spatial_shape(output_shape, call)

    def coords():
        if xp is numpy and not per_sample:
            return Coords(s.HOMOGRAPHY, m.astype(numpy.float32).reshape(-1).tolist())
        with cupy.cuda.Device(call.device):
            dev = cupy.ascontiguousarray(cupy.asarray(m, dtype=cupy.float32)).reshape(-1, 9)
        host = xp is numpy  # a stack of host matrices: made here from host numbers
        return Coords(s.HOMOGRAPHY, per_sample=dev, owned=host, derived=not host)

    def one(plane, res, b):
        mb = m[b] if per_sample else m
        mb = cupy.asarray(mb, dtype=cupy.float32)
        rows, cols = cupy.indices(tuple(spatial), dtype=cupy.float32)
        w = mb[2, 0] * cols + mb[2, 1] * rows + mb[2, 2]
        x = (mb[0, 0] * cols + mb[0, 1] * rows + mb[0, 2]) / w
        y = (mb[1, 0] * cols + mb[1, 1] * rows + mb[1, 2]) / w
        _cupyx_map(plane, cupy.stack([y, x]), res, order, mode, cval)

    return finish(
        call, coords, spatial, output, order, mode, cval, precision, one, k, conv_a=conv_a
    )


def remap(
    input: Any,
    map_y: Any,
    map_x: Any,
    output: Any = None,
    order: int = 1,
    mode: str = "constant",
    cval: float = 0.0,
    *,
    relative: bool = False,
    precision: str = "hardware",
    channel_axis: int | None = None,
    batch_axes: Any = None,
    interpolation: str | None = None,
    cubic_a: float = _cubicconv.DEFAULT_A,
):
    """Resample a 2D input at per-pixel maps, as OpenCV's ``remap`` (arguments in
    SciPy order: rows first): the output at (row, column) is the input at
    ``(map_y[row, column], map_x[row, column])``, or with ``relative=True`` at
    ``(row + map_y, column + map_x)`` (a displacement field). Both maps have the
    output's spatial shape and are shared by a batch. Modes, orders and ``precision``
    as for ``map_coordinates``.

    ``interpolation`` names the method as OpenCV does instead of ``order``:
    ``"nearest"`` (order 0), ``"linear"`` (order 1) or ``"cubic"``: Keys' cubic
    convolution over the 4 x 4 texels around the point with parameter ``cubic_a``
    (-0.75: OpenCV's ``INTER_CUBIC`` and PyTorch's ``bicubic``; -0.5: Catmull-Rom,
    Pillow's ``BICUBIC``), each of the 16 texels read through ``mode`` on its own
    (``'opencv'`` is ``BORDER_CONSTANT``, ``'nearest'`` ``BORDER_REPLICATE``,
    ``'reflect'`` ``BORDER_REFLECT``, ``'mirror'`` ``BORDER_REFLECT_101``,
    ``'grid-wrap'`` ``BORDER_WRAP``; ``'wrap'`` is refused), 16 point reads with
    float32 weights whatever ``precision`` says, integer results rounded and
    saturated as OpenCV's. It differs from ``cv2.remap`` only where OpenCV rounds a
    map coordinate to its 1/32-pixel grid (:mod:`imagearray.ndimage._cubicconv`).

    Examples
    --------
    >>> import cupy
    >>> import cupyx.scipy.ndimage
    >>> import imagearray.ndimage
    >>> a = cupy.linspace(0, 1, 64 * 64, dtype=cupy.float32).reshape(64, 64)
    >>> rows, cols = cupy.mgrid[0:64, 0:64].astype(cupy.float32)
    >>> b = imagearray.ndimage.remap(a, rows + 0.5, cols * 0.5, mode="nearest")  # OpenCV order=1
    >>> c = cupyx.scipy.ndimage.map_coordinates(a, cupy.stack([rows + 0.5, cols * 0.5]),
    ...                                         order=1, mode="nearest")
    >>> float(abs(b - c).max()) < 1e-3
    True
    """
    import cupy

    args = (mode, cval, relative, precision, channel_axis, batch_axes, interpolation, cubic_a)
    k, hit = planned("remap", input, output, order, args, (map_y, map_x))
    if hit is not None:
        return hit
    order, conv_a = _order("remap", order, interpolation, cubic_a)
    mode = check_mode(mode)
    call = Call("remap", input, channel_axis, batch_axes)
    if call.ndim != 2:
        raise ImageArrayValueError(f"remap resamples 2D images; this input has {call.ndim} axes")
    with cupy.cuda.Device(call.device):
        my, mx = cupy.asarray(map_y), cupy.asarray(map_x)
    if my.shape != mx.shape or my.ndim != 2:
        raise ImageArrayValueError(
            f"map_y and map_x must be 2D and of one shape, not {my.shape} and {mx.shape}"
        )
    if my.dtype.kind not in "fiu" or mx.dtype.kind not in "fiu":
        raise ImageArrayValueError("map_y and map_x must hold real numbers")
    spatial = my.shape
    dt = numpy.float64 if numpy.float64 in (my.dtype, mx.dtype) else numpy.float32

    def coords():
        kind = s.REMAP_REL if relative else s.REMAP
        a = cupy.ascontiguousarray(my, dtype=dt)
        b = cupy.ascontiguousarray(mx, dtype=dt)
        derived = not (same_memory(a, map_y) and same_memory(b, map_x))
        return Coords(kind, a=a, b=b, dtype=dt, derived=derived)

    def one(plane, res, b):
        y, x = my.astype(dt), mx.astype(dt)
        if relative:
            rows, cols = cupy.indices(spatial, dtype=dt)
            y, x = y + rows, x + cols
        _cupyx_map(plane, cupy.stack([y, x]), res, order, mode, cval)

    return finish(
        call, coords, spatial, output, order, mode, cval, precision, one, k, conv_a=conv_a
    )
