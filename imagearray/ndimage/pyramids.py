"""Image pyramids: drop-ins for ``skimage.transform.pyramid_reduce``,
``pyramid_expand``, ``pyramid_gaussian`` and ``pyramid_laplacian`` (and cuCIM's), on
the GPU.

The same math as scikit-image: the image is converted to float (``img_as_float``
unless ``preserve_range``), smoothed by a Gaussian of ``sigma`` (default
``2 * downscale / 6``) per spatial axis with ndimage's boundary ``mode`` of the same
name, and resized to ``ceil(n / downscale)`` (``ceil(n * upscale)``) per spatial axis
by :func:`imagearray.ndimage.resize` without antialiasing (order 1, grid-mode
coordinates, scikit-image's mode translation, clipped to the input's range). The
Gaussian is ``cupyx.scipy.ndimage.gaussian_filter`` in float32, the resampling the
texture-backed :func:`imagearray.ndimage.zoom` with ``precision="exact"``: results
match scikit-image within 1e-5 (float32 against its float64). A reduction by exactly 2
of even-sized axes (the usual pyramid of power-of-two images) is a fused
filter-and-decimate pass instead (:mod:`imagearray.ndimage._decimate`: the Gaussian
and the zoom's mean of two samples as one filter, evaluated at the even samples
only; both axes of a 2D image in one shared-memory pass, other images one pass per
axis), which is the same math.

Because scikit-image hands ``mode`` to both the Gaussian (as an ndimage mode) and the
resize (as a ``numpy.pad`` mode), only ``'reflect'``, ``'constant'`` and ``'wrap'``
work there; the others raise here (scikit-image raises from inside SciPy).

Axis order is SciPy's (row, column[, channel]); ``channel_axis`` names the channel
axis (never smoothed or resized). Layers are float32 CuPy arrays on the input's device.
``pyramid_gaussian(..., out=img)`` fills the mip levels of a float ``ImageArray``
instead of yielding layers.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy

from imagearray._errors import ImageArrayTypeError, ImageArrayValueError
from imagearray.array import ImageArray
from imagearray.ndimage import _decimate
from imagearray.ndimage import resizing as r
from imagearray.ndimage._call import axis_int

__all__ = ["pyramid_expand", "pyramid_gaussian", "pyramid_laplacian", "pyramid_reduce"]

#: Modes valid for both halves of scikit-image's pyramid (see the module docstring).
PYRAMID_MODES = ("reflect", "constant", "wrap")


def _check_factor(factor: Any, name: str) -> float:
    f = r.number(factor, name)
    if not 1 < f < math.inf:
        raise ImageArrayValueError(f"{name}={factor!r}: the scale factor must be > 1 and finite")
    return f


def _check_mode(mode: Any) -> str:
    if not isinstance(mode, str) or mode not in PYRAMID_MODES:
        raise ImageArrayValueError(
            f"mode={mode!r}: pyramids take {', '.join(PYRAMID_MODES)} (scikit-image "
            "uses the name both as an ndimage and as a numpy.pad mode)"
        )
    return mode


def _check_axis(channel_axis: Any, ndim: int) -> int | None:
    ax = axis_int(channel_axis)
    if ax is None:
        return None
    if not -ndim <= ax < ndim:
        raise ImageArrayValueError(
            f"channel_axis={ax} is out of range for an image of {ndim} axes: use "
            f"{-ndim}..{ndim - 1} or None"
        )
    return ax % ndim


def _check_sigma(sigma: Any) -> float | None:
    if sigma is None:
        return None
    s = r.number(sigma, "sigma", "a number or None")
    if not 0 <= s < math.inf:
        raise ImageArrayValueError(
            f"sigma={sigma!r}: the standard deviation must be >= 0 and finite"
        )
    return s


class _Args:
    """The checked arguments of one pyramid call."""

    def __init__(self, image, factor, name, sigma, order, mode, cval, channel_axis, ops):
        self.factor = _check_factor(factor, name)
        s = _check_sigma(sigma)
        self.sigma = 2 * self.factor / 6.0 if s is None else s
        self.order = r.check_order(order, numpy.float32)
        if self.order != 1:
            raise ImageArrayValueError(
                f"order={order!r}: the texture path interpolates with order=1"
            )
        self.mode = _check_mode(mode)
        self.cval = r.number(cval, "cval")
        self.axis = _check_axis(channel_axis, numpy.ndim(image))
        self.ops = ops

    def smooth(self, image):
        """scikit-image's ``_smooth``: every channel separately."""
        sig = [self.sigma] * image.ndim
        if self.axis is not None:
            sig[self.axis] = 0.0
        return self.ops.gaussian(image, sig, self.mode, self.cval)

    def shape(self, shape: tuple, up: bool) -> tuple:
        f = self.factor
        return tuple(
            d if ax == self.axis else (math.ceil(f * d) if up else math.ceil(d / f))
            for ax, d in enumerate(shape)
        )

    def resize(self, image, shape: tuple):
        return r.resize_float(image, shape, 1, self.mode, self.cval, True, None, self.ops)

    def reduce(self, image):
        axes = [ax for ax in range(image.ndim) if ax != self.axis]
        if _decimate.applies(image.shape, axes, self.factor):  # fused filter-and-decimate
            return _decimate.reduce2(image, axes, self.sigma, self.mode, self.cval, self.ops.xp())
        return self.resize(self.smooth(image), self.shape(image.shape, False))


def pyramid_reduce(
    image: Any,
    downscale: float = 2,
    sigma: float | None = None,
    order: int = 1,
    mode: str = "reflect",
    cval: float = 0,
    preserve_range: bool = False,
    *,
    channel_axis: int | None = None,
    _ops: Any = r.GpuOps,
):
    """Smooth and then downsample the image (``skimage.transform.pyramid_reduce``).

    Parameters
    ----------
    image : cupy.ndarray or numpy.ndarray
        Any number of axes, SciPy axis order (row, column[, ...]).
    downscale : float
        The factor, > 1: each spatial axis becomes ``ceil(n / downscale)``.
    sigma : float, optional
        The Gaussian's standard deviation (default ``2 * downscale / 6``).
    order : {1}
        Linear interpolation (the texture path has no other order here).
    mode : {'reflect', 'constant', 'wrap'}
        scikit-image's name, used as the Gaussian's ndimage mode and as the resize's
        ``numpy.pad`` mode (so its other names fail there too).
    cval : float
        The value outside the image for ``'constant'``.
    preserve_range : bool
        Keep integer values as they are instead of ``img_as_float``'s [0, 1] / [-1, 1].
    channel_axis : int, optional
        The axis of channels: neither smoothed nor resized.

    Returns
    -------
    cupy.ndarray
        float32, on the input's device.

    Raises
    ------
    ImageArrayValueError, ImageArrayTypeError
        A bad factor, sigma, order, mode, cval or channel axis (before any GPU work).

    Examples
    --------
    >>> import skimage.transform
    >>> a = cupy.random.RandomState(0).rand(37, 50).astype(cupy.float32)
    >>> small = ia.ndimage.pyramid_reduce(a)
    >>> small.shape
    (19, 25)
    >>> float(abs(small.get() - skimage.transform.pyramid_reduce(a.get())).max()) < 1e-5
    True
    """
    args = _Args(image, downscale, "downscale", sigma, order, mode, cval, channel_axis, _ops)
    with r.scope(image, _ops):
        return args.reduce(r.float_input(image, preserve_range, _ops))


def pyramid_expand(
    image: Any,
    upscale: float = 2,
    sigma: float | None = None,
    order: int = 1,
    mode: str = "reflect",
    cval: float = 0,
    preserve_range: bool = False,
    *,
    channel_axis: int | None = None,
    _ops: Any = r.GpuOps,
):
    """Upsample and then smooth the image (``skimage.transform.pyramid_expand``):
    ``ceil(n * upscale)`` per spatial axis, float32; the arguments as
    :func:`pyramid_reduce`'s (``sigma`` defaults to ``2 * upscale / 6``).

    Examples
    --------
    >>> import skimage.transform
    >>> a = cupy.random.RandomState(0).rand(37, 50).astype(cupy.float32)
    >>> big = ia.ndimage.pyramid_expand(a, mode="constant", cval=0.5)
    >>> big.shape
    (74, 100)
    >>> want = skimage.transform.pyramid_expand(a.get(), mode="constant", cval=0.5)
    >>> float(abs(big.get() - want).max()) < 1e-5
    True
    """
    args = _Args(image, upscale, "upscale", sigma, order, mode, cval, channel_axis, _ops)
    with r.scope(image, _ops):
        a = r.float_input(image, preserve_range, _ops)
        return args.smooth(args.resize(a, args.shape(a.shape, True)))


def _check_max_layer(max_layer: Any) -> int:
    try:
        n = operator.index(max_layer)
    except TypeError:
        raise ImageArrayTypeError(f"max_layer must be an int, not {max_layer!r}") from None
    if n < -1:
        raise ImageArrayValueError(f"max_layer={n}: use -1 (all layers) or a count >= 0")
    return n


def pyramid_gaussian(
    image: Any,
    max_layer: int = -1,
    downscale: float = 2,
    sigma: float | None = None,
    order: int = 1,
    mode: str = "reflect",
    cval: float = 0,
    preserve_range: bool = False,
    *,
    channel_axis: int | None = None,
    out: Any = None,
    _ops: Any = r.GpuOps,
):
    """The Gaussian pyramid of the image (``skimage.transform.pyramid_gaussian``):
    a generator of ``max_layer + 1`` float32 layers (with ``max_layer=-1``, as long
    as the shape changes), the first the (float) image itself, each next one
    :func:`pyramid_reduce` of the one before. The other arguments as
    :func:`pyramid_reduce`'s.

    ``out``: a mipmapped float32 (or float16) ``ImageArray`` whose level ``l`` has
    the shape of layer ``l`` (downscale 2 and power-of-two sizes, or any sizes whose
    ``ceil`` halving is CUDA's ``floor`` one): its levels are filled (as many as it
    has, up to ``max_layer + 1``) and it is returned instead of a generator.

    Examples
    --------
    >>> a = cupy.ones((8, 8), cupy.float32)
    >>> [layer.shape for layer in ia.ndimage.pyramid_gaussian(a)]
    [(8, 8), (4, 4), (2, 2), (1, 1)]
    >>> img = ia.empty((8, 8), numpy.float32, levels=4)
    >>> ia.ndimage.pyramid_gaussian(a, out=img) is img
    True
    >>> img.mip(3).get().shape, round(float(img.mip(3).get()[0, 0]), 5)
    ((1, 1), 1.0)
    """
    max_layer = _check_max_layer(max_layer)
    args = _Args(image, downscale, "downscale", sigma, order, mode, cval, channel_axis, _ops)
    if out is not None:
        return _fill(out, image, max_layer, preserve_range, args)
    return _gaussian_layers(image, max_layer, preserve_range, args)


def _gaussian_layers(image, max_layer, preserve_range, args):
    scope = r.scope(image, args.ops)
    with scope:
        layer = r.float_input(image, preserve_range, args.ops)
    yield layer
    n = 0
    while n != max_layer:
        n += 1
        with scope:
            nxt = args.reduce(layer)
        if nxt.shape == layer.shape:
            break
        layer = nxt
        yield layer


def _fill(out, image, max_layer, preserve_range, args):
    if not isinstance(out, ImageArray) or not out._whole_mipmap:
        raise ImageArrayTypeError(f"out must be a whole mipmapped ImageArray, not {out!r}")
    if numpy.dtype(out.dtype).kind != "f":
        raise ImageArrayTypeError(f"out of dtype {out.dtype}: pyramid levels are float")
    levels = out._levels()
    want = len(levels) if max_layer == -1 else min(len(levels), max_layer + 1)
    shapes = [tuple(v.shape) for v in levels[:want]]
    made = 0
    for layer, shape in zip(_gaussian_layers(image, want - 1, preserve_range, args), shapes):
        if tuple(layer.shape) != shape:
            raise ImageArrayValueError(
                f"pyramid layer {made} has shape {tuple(layer.shape)}, out's mip level "
                f"{made} has {shape}: use downscale=2 and sizes whose halving rounds "
                "down and up alike (powers of two)"
            )
        levels[made].set(layer.astype(out.dtype, copy=False))
        made += 1
    if made < want:
        raise ImageArrayValueError(
            f"the pyramid ends after {made} layers; out has {want} levels to fill"
        )
    return out


def pyramid_laplacian(
    image: Any,
    max_layer: int = -1,
    downscale: float = 2,
    sigma: float | None = None,
    order: int = 1,
    mode: str = "reflect",
    cval: float = 0,
    preserve_range: bool = False,
    *,
    channel_axis: int | None = None,
    _ops: Any = r.GpuOps,
):
    """The Laplacian pyramid of the image (``skimage.transform.pyramid_laplacian``):
    a generator of float32 layers, the first ``image - smooth(image)``, then
    ``resize(prev) - smooth(resize(prev))`` with ``prev`` the smoothed layer before;
    ``max_layer=-1``: ``ceil(log(max spatial size, downscale))`` layers after the
    first. The arguments as :func:`pyramid_reduce`'s.

    Examples
    --------
    >>> layers = list(ia.ndimage.pyramid_laplacian(cupy.ones((8, 8), cupy.float32)))
    >>> [layer.shape for layer in layers]
    [(8, 8), (4, 4), (2, 2), (1, 1)]
    >>> float(abs(layers[0]).max()) < 1e-6  # a constant image has no detail
    True
    """
    max_layer = _check_max_layer(max_layer)
    args = _Args(image, downscale, "downscale", sigma, order, mode, cval, channel_axis, _ops)
    return _laplacian_layers(image, max_layer, preserve_range, args)


def _laplacian_layers(image, max_layer, preserve_range, args):
    scope = r.scope(image, args.ops)
    with scope:
        img = r.float_input(image, preserve_range, args.ops)
        smoothed = args.smooth(img)
        diff = img - smoothed
    yield diff
    spatial = [d for ax, d in enumerate(img.shape) if ax != args.axis]
    if max_layer == -1:
        max_layer = math.ceil(math.log(max(spatial), args.factor))
    shape = img.shape
    for _ in range(max_layer):
        with scope:
            resized = args.resize(smoothed, args.shape(shape, False))
            smoothed = args.smooth(resized)
            shape = resized.shape
            diff = resized - smoothed
        yield diff
