"""``resize``: a drop-in for ``skimage.transform.resize`` (and cuCIM's), on the GPU.

scikit-image resizes by ``ndimage.zoom(grid_mode=True)`` of the image converted to
float (``img_as_float`` unless ``preserve_range``), after a Gaussian prefilter of
``sigma = max(0, (factor - 1) / 2)`` per axis when ``anti_aliasing`` (the default when
any axis shrinks), with its ``numpy.pad`` mode names translated to ndimage's
(``reflect`` -> ``mirror``, ``symmetric`` -> ``reflect``, ``edge`` -> ``nearest``;
the zoom takes ``constant`` and ``wrap`` as ``grid-constant`` and ``grid-wrap``), and
clips the result to the input's range. Output pixel ``o`` of an axis reads the input
at ``(o + 0.5) * n_in / n_out - 0.5``: the texel centres of both grids coincide.

Two ways to antialias (``method``):

``"exact"`` (default)
    The same math: ``cupyx.scipy.ndimage.gaussian_filter`` in float32, then
    :func:`imagearray.ndimage.zoom` with ``precision="exact"``. Matches scikit-image
    within 1e-4 (float32 against its float64).
``"mip"``
    Minify through the texture unit's mip chain: level 0 is the image (8- and 16-bit
    inputs stay 8/16-bit, read normalized), levels 1.. are made by
    :func:`imagearray.sampling.generate_mipmaps` (exact 2x2 box averages), and every
    output pixel is one trilinear read (``tex2DLod`` at the output pixel's centre, the
    level ``log2(factor)``: bilinear in the two levels that bracket it, blended).
    Where the factors differ per axis the level follows the smaller one and
    ``ceil(major / minor)`` reads spread over the larger footprint are averaged (an
    anisotropic footprint). Borders: ``reflect`` (ndimage ``mirror``) and ``edge``
    read clamped, ``symmetric`` mirrored, ``wrap`` repeated, ``constant`` the border
    colour (``cval``). ``anti_aliasing_sigma`` plays no part.

    Its error against scikit-image (``anti_aliasing=True``): a box chain is not a
    Gaussian, so the two differ by a content-dependent amount. Both are convex
    combinations of the input (weights >= 0 that sum to 1), so an output differs by
    at most ``D * (max - min)`` of the input values either one reads, ``D`` half the
    l1 distance of the two weight sets; computed with the NumPy texture-unit model
    (``box_pyramid`` + ``sample_mipmap`` of :mod:`imagearray.testing.reference`, this
    method's own plan) against scikit-image's weights, ``D`` is 0.20 (2x), 0.36 (4x)
    and 0.45 (8x) in 2D. On photographs (scikit-image's ``camera`` and ``astronaut``,
    512^2, down to 64..256 per side, isotropic and anisotropic, every mode) the model
    is within 0.23 of scikit-image (max, at sharp edges; 99.9 % of the values within
    0.16) and 0.018 on average, in [0, 1] units; the tests hold the GPU to 0.25 and
    0.02 there. On top of the model, the hardware rounds each filter weight and the
    level blend to 8 fractional bits (at most ``3 / 256`` of the values blended) and
    8/16-bit levels to their storage type (1 step per level); the GPU test
    (``tests/ndimage/test_resize_gpu.py``) prints the device's own figures.

Axis order is SciPy's (row, column[, channel]); results are float32 CuPy arrays on
the input's device (scikit-image gives float64 for integer and float64 inputs).
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy

from imagearray._device import get_device, on_device
from imagearray._errors import ImageArrayTypeError, ImageArrayValueError
from imagearray.ndimage._skimage import (
    NDIMAGE_MODES,
    ZOOM_MODES,
    aa_sigma,
    check_order,
    clip_like,
    ndimage_mode,
    number,
    output_shape_of,
    to_float,
)

__all__ = ["resize"]

METHODS = ("exact", "mip")


def check_method(method: Any) -> str:
    if not isinstance(method, str) or method not in METHODS:
        raise ImageArrayValueError(f"method={method!r}: use one of {', '.join(METHODS)}")
    return method


class GpuOps:
    """The two array operations of scikit-image's resize, on the GPU: the Gaussian
    (cupyx, float32) and the grid-mode zoom (:func:`imagearray.ndimage.zoom`, exact)."""

    @staticmethod
    def xp():
        import cupy

        return cupy

    @staticmethod
    def gaussian(image, sigma, mode: str, cval: float):
        import cupyx.scipy.ndimage as ndi

        return ndi.gaussian_filter(image, sigma, mode=mode, cval=cval)

    @staticmethod
    def zoom(image, out_shape: tuple, order: int, mode: str, cval: float):
        from imagearray.ndimage.interpolation import zoom  # interpolation dispatches here

        image = GpuOps.xp().ascontiguousarray(image, dtype=numpy.float32)
        factors = [o / n for o, n in zip(out_shape, image.shape)]
        # a last axis of at most 4 that keeps its size is read as channels: a grid-mode
        # zoom by 1 is the identity, and one texel fetch reads them all
        channels = image.ndim in (3, 4) and out_shape[-1] == image.shape[-1] <= 4
        if channels:
            factors = factors[:-1]
        return zoom(
            image,
            factors,
            order=order,
            mode=mode,
            cval=cval,
            grid_mode=True,
            precision="exact",
            channel_axis=-1 if channels else None,
        )


class CpuOps:
    """The same operations with SciPy on the host: the reference the GPU path's
    orchestration (shapes, sigmas, modes, conversion, clipping) is tested with."""

    @staticmethod
    def xp():
        return numpy

    @staticmethod
    def gaussian(image, sigma, mode: str, cval: float):
        import scipy.ndimage as ndi

        return ndi.gaussian_filter(image, sigma, mode=mode, cval=cval)

    @staticmethod
    def zoom(image, out_shape: tuple, order: int, mode: str, cval: float):
        import scipy.ndimage as ndi

        factors = [o / n for o, n in zip(out_shape, image.shape)]
        return ndi.zoom(image, factors, order=order, mode=mode, cval=cval, grid_mode=True)


def float_input(image, preserve_range: bool, ops):
    """The input as scikit-image's ``convert_to_float`` makes it, in float32 on the
    GPU (on the input's device); as scikit-image does on the host ops."""
    xp = ops.xp()
    if xp is numpy:
        return to_float(numpy.asarray(image), preserve_range, numpy)
    a = to_float(xp.asarray(image), preserve_range, xp)
    return a if a.dtype == numpy.float32 else a.astype(numpy.float32)


def scope(image, ops):
    """The input's device, current while the GPU ops run (nothing for the host ops)."""
    if ops is not GpuOps:
        return contextlib.nullcontext()
    return on_device(device_of(image))


def device_of(image) -> int:
    """A CuPy input's device, else the current one (``CUDAUnavailableError`` without)."""
    import cupy

    return image.device.id if isinstance(image, cupy.ndarray) else get_device()


def resize_float(image, out_shape, order, mode, cval, clip, sigma, ops) -> Any:
    """The exact method on a float image: prefilter (``sigma`` per axis or None),
    zoom, clip. ``mode``: scikit-image's name."""
    filtered = image
    if sigma is not None and any(s > 0 for s in sigma):
        filtered = ops.gaussian(image, sigma, NDIMAGE_MODES[mode], cval)
    if tuple(out_shape) == tuple(image.shape) and order <= 1:
        out = filtered.copy() if filtered is image else filtered  # grid zoom by 1: identity
    else:
        out = ops.zoom(filtered, tuple(out_shape), order, ZOOM_MODES[mode], cval)
    # order <= 1 blends input values only (and cval, for 'constant'): the clip can change
    # nothing but 'constant''s, so the others skip its two reductions (device syncs)
    if clip and (order > 1 or mode == "constant"):
        clip_like(image, out, mode, cval, ops.xp())
    return out


def _prepare(image, output_shape, order, mode, cval, anti_aliasing, anti_aliasing_sigma):
    """The checks and decisions of scikit-image's resize: (full output shape, order,
    sigma per axis or None, cval)."""
    shape = tuple(image.shape)
    if len(shape) < 1 or 0 in shape:
        raise ImageArrayValueError(f"image of shape {shape}: resize() needs a non-empty image")
    out_shape = output_shape_of(shape, output_shape)
    ndimage_mode(mode)
    cval = number(cval, "cval")
    dt = numpy.dtype(image.dtype)
    order = check_order(order, dt)
    if anti_aliasing is None:
        anti_aliasing = (
            dt != numpy.bool_
            and not (dt.kind in "iu" and order == 0)
            and any(o < n for o, n in zip(out_shape, shape))
        )
    if dt == numpy.bool_:
        raise ImageArrayTypeError(
            "boolean images: the texture path interpolates (order=1); use scikit-image"
        )
    if dt.kind not in "uif":
        raise ImageArrayTypeError(f"image of dtype {dt}: use an integer or float dtype")
    if order != 1:
        raise ImageArrayValueError(f"order={order}: the texture path interpolates with order=1")
    factors = [n / o for n, o in zip(shape, out_shape)]
    sigma = aa_sigma(factors, anti_aliasing_sigma) if anti_aliasing else None
    return out_shape, order, sigma, cval


def resize(
    image: Any,
    output_shape: Any,
    order: int | None = None,
    mode: str = "reflect",
    cval: float = 0,
    clip: bool = True,
    preserve_range: bool = False,
    anti_aliasing: bool | None = None,
    anti_aliasing_sigma: Any = None,
    *,
    method: str = "exact",
    _ops: Any = GpuOps,
):
    """Resize an image to ``output_shape`` (``skimage.transform.resize``).

    Parameters
    ----------
    image : cupy.ndarray or numpy.ndarray
        2D (rows, columns), 2D with channels last (``output_shape`` of 2 sizes keeps
        them), or 3D; SciPy axis order.
    output_shape : tuple of int
    order : {None, 1}
        Linear interpolation (scikit-image's default for non-boolean images).
    mode : {'reflect', 'constant', 'edge', 'symmetric', 'wrap'}
        numpy.pad's names, as in scikit-image.
    cval, clip, preserve_range, anti_aliasing, anti_aliasing_sigma
        As in scikit-image.
    method : {"exact", "mip"}
        How to antialias (see :mod:`imagearray.ndimage.resizing`): scikit-image's
        Gaussian (within 1e-4 of it) or the texture unit's mip chain (2D only,
        at most 4 channels; ``anti_aliasing_sigma`` is not used).

    Returns
    -------
    cupy.ndarray
        float32, shape ``output_shape`` (plus the channel axis where kept).

    Raises
    ------
    ImageArrayValueError, ImageArrayTypeError
        A bad shape, mode, order, cval, sigma or method (before any GPU work).

    Examples
    --------
    >>> import skimage.transform
    >>> img = cupy.linspace(0, 1, 64 * 48, dtype=cupy.float32).reshape(64, 48)
    >>> out = ia.ndimage.resize(img, (16, 12))  # antialiased: it shrinks
    >>> out.shape, out.dtype
    ((16, 12), dtype('float32'))
    >>> want = skimage.transform.resize(img.get(), (16, 12))
    >>> float(abs(out.get() - want).max()) < 1e-4
    True
    >>> rgba = cupy.full((256, 256, 4), 200, cupy.uint8)
    >>> small = ia.ndimage.resize(rgba, (64, 64), method="mip")  # channels kept
    >>> small.shape, round(float(small.mean()), 4)  # read as 200 / 255
    ((64, 64, 4), 0.7843)
    """
    method = check_method(method)
    if not hasattr(image, "shape") or not hasattr(image, "dtype"):
        image = numpy.asarray(image)  # array-likes, as scikit-image takes them
    out_shape, order, sigma, cval = _prepare(
        image, output_shape, order, mode, cval, anti_aliasing, anti_aliasing_sigma
    )
    if method == "mip" and sigma is not None:
        from imagearray.ndimage import _mipresize  # resizing is below it

        _mipresize.check_input(image, out_shape)
        dev = device_of(image)
        return _mipresize.resize_mip(image, out_shape, mode, cval, clip, preserve_range, dev)
    with scope(image, _ops):
        img = float_input(image, preserve_range, _ops)
        return resize_float(img, out_shape, order, mode, cval, clip, sigma, _ops)
