"""What every ndimage function does around its coordinates: the checks of its common
arguments, the input's layout (batch, spatial axes, channels), the output (cupyx's
``_get_output`` rules), the texture source, and the fallback to cupyx."""

from __future__ import annotations

import functools
import math
import operator
import warnings
from typing import Any

import numpy

from imagearray._device import assign
from imagearray._errors import FallbackWarning, ImageArrayTypeError, ImageArrayValueError
from imagearray.array import ImageArray
from imagearray.ndimage import _launch, _spline, _textures

PRECISIONS = ("hardware", "exact")


def check_order(fn: str, order: Any) -> int:
    """cupyx's rule: None warns and means 1; 0..5; other values raise."""
    if order is None:
        warnings.warn(
            f"Currently the default order of {fn} is 1. In a future release this may "
            "change to 3 to match scipy.ndimage ",
            stacklevel=3,
        )
        return 1
    try:
        order = operator.index(order)
    except TypeError:
        raise ImageArrayTypeError(f"order must be an int in 0..5, not {order!r}") from None
    if not 0 <= order <= 5:
        raise ImageArrayValueError(f"order={order} is not a spline order: use 0..5")
    return order


def check_precision(precision: Any) -> bool:
    """True for 'hardware', False for 'exact'."""
    if precision not in PRECISIONS:
        raise ImageArrayValueError(
            f"precision={precision!r}: use 'hardware' (the texture unit's 8-bit-fraction "
            "weights) or 'exact' (float32 weights in the kernel, as cupyx)"
        )
    return precision == "hardware"


class Call:
    """One call's input, as the kernels see it.

    ``original``: the CuPy input (``image``: an ImageArray input); ``nshape`` (and,
    for CuPy inputs, ``nstrides``): its layout as ``(nb, *spatial, channels)``;
    ``ndim``: the spatial axes; ``batched`` / ``has_channels``: whether the caller's
    array has those axes (the output keeps them)."""

    def __init__(self, fn: str, input: Any, channel_axis: Any, batch_axes: Any):
        self.fn = fn
        self.image = None
        self.original = input
        if isinstance(input, ImageArray):
            self._from_image(input, channel_axis, batch_axes)
            return
        import cupy

        if isinstance(input, numpy.ndarray):
            input = cupy.asarray(input)  # uploaded once, on the current device
        elif not isinstance(input, cupy.ndarray):
            raise ImageArrayTypeError(
                f"input must be a CuPy array, a NumPy array or an ia.ImageArray, not "
                f"{type(input).__name__}"
            )
        self.original = input
        nd = input.ndim
        self.has_channels = _channel_axis(channel_axis, nd)
        self.batched = _batch_axes(batch_axes, nd)
        self.ndim = nd - self.has_channels - self.batched
        if self.ndim < 1:
            raise ImageArrayValueError(
                f"input of shape {input.shape} has no spatial axis left once the batch and "
                "channel axes are taken"
            )
        # (nb, *spatial, channels) without making views: size-1 axes added with stride 0
        shape, strides = tuple(input.shape), tuple(input.strides)
        if not self.batched:
            shape, strides = (1,) + shape, (0,) + strides
        if not self.has_channels:
            shape, strides = shape + (1,), strides + (0,)
        self.nshape, self.nstrides = shape, strides
        self.dtype = input.dtype
        self.shape = shape[1:-1]
        self.nb, self.channels = shape[0], shape[-1]
        self.device = input.device.id

    def _from_image(self, img, channel_axis, batch_axes) -> None:
        if channel_axis not in (None, -1, img.ndim - 1) or (
            channel_axis is not None and img.channels == 1
        ):
            raise ImageArrayValueError(
                f"channel_axis={channel_axis!r}: an ImageArray's channels are its last axis "
                "(channel_axis=None or -1)"
            )
        layered = img.descriptor.type.is_layered
        if batch_axes not in (None, 0, (0,)) or (batch_axes is not None and not layered):
            raise ImageArrayValueError(
                f"batch_axes={batch_axes!r}: the batch of an ImageArray is its layers "
                "(a layered image; batch_axes=None or 0)"
            )
        self.image = img
        self.has_channels = img.channels > 1
        self.batched = layered
        self.dtype = img.dtype
        self.channels = img.channels
        self.nb = img.descriptor.num_layers if layered else 1
        self.ndim = img._vdesc.dimensions
        self.shape = tuple(reversed(img._vdesc.extent[: self.ndim]))
        self.nshape = (self.nb, *self.shape, self.channels)
        self.device = img._handle.device

    # ------------------------------------------------------------ decisions
    def fallback_reason(self, order: int, output_dtype: numpy.dtype) -> str | None:
        """Why the texture path cannot run this call (None: it can)."""
        if order > 1 and order != 3:
            return f"order={order} (the texture path does orders 0, 1 and 3)"
        if self.dtype not in _textures.DTYPE_SET:
            return f"{self.dtype} input (textures hold {', '.join(map(str, _textures.DTYPES))})"
        if output_dtype not in _launch.OUTPUT_DTYPE_SET:
            return f"{output_dtype} output"
        if self.ndim not in (2, 3):
            return f"{self.ndim} spatial axes (the texture path does 2 and 3)"
        if self.channels > 4:
            return f"{self.channels} channels (a texel holds at most 4)"
        if self.ndim == 3 and self.nb > 1:
            return "a batch of 3D volumes"
        if self.nb * math.prod(self.shape) * self.channels == 0:
            return "an empty input"
        if order == 3 and not self._fits_cubic():
            return "order=3 beyond the device's CUDA-array limits (no tiles at order 3)"
        return None

    def _fits_cubic(self) -> bool:
        """Whether the padded coefficients of order 3 fit one texture (cupyx's 12
        samples of padding per side, at most)."""
        if _textures.TILE_OVERRIDE is not None:
            return False
        lim = _textures._limits(self.device, self.ndim, self.nb > 1)
        lim = lim[:-1] + (lim[-1] // (3 if self.channels == 3 else 1),)
        pad = 2 * _spline.NPREPAD
        return all(n + pad <= m for n, m in zip(self.shape, lim))

    def out_shape(self, spatial: tuple) -> tuple:
        return (
            ((self.nb,) if self.batched else ())
            + tuple(spatial)
            + ((self.channels,) if self.has_channels else ())
        )

    def output_dtype(self, output: Any, spatial: tuple) -> numpy.dtype:
        """The dtype :meth:`output` will return (its checks, nothing allocated)."""
        import cupy

        if output is None:
            return numpy.dtype(self.dtype)
        if isinstance(output, cupy.ndarray):
            shape = self.out_shape(spatial)
            if output.shape != shape:
                raise ImageArrayValueError(
                    f"output has shape {output.shape}; this call writes shape {shape}"
                )
            return output.dtype
        try:
            return numpy.dtype(output)
        except TypeError:
            raise ImageArrayTypeError(
                f"output must be None, a dtype or a CuPy array, not {output!r}"
            ) from None

    def output(self, output: Any, spatial: tuple):
        """cupyx's ``_get_output``: (the array to return, its dtype)."""
        import cupy

        dtype = self.output_dtype(output, spatial)
        if isinstance(output, cupy.ndarray):
            return output, dtype
        with cupy.cuda.Device(self.device):
            return cupy.empty(self.out_shape(spatial), dtype=dtype), dtype

    def check_cval(self, mode: str, cval: Any, dtype: numpy.dtype) -> float:
        try:
            value = float(cval)
        except (TypeError, ValueError):
            raise ImageArrayTypeError(f"cval must be a real number, not {cval!r}") from None
        constant = mode in ("constant", "opencv", "_opencv_edge")  # opencv: a cval border
        if constant and dtype.kind in "iu" and not math.isfinite(value):
            raise ImageArrayValueError(
                f"cval={value} with an integer output: non-finite cval needs a float output"
            )
        return value

    def source(self, hardware: bool) -> _textures.Source:
        _textures.collect()
        if self.image is not None:
            return _textures.from_image(self.image, hardware)
        return _textures.from_cupy(self.original, self.nshape, self.nstrides, self.ndim, hardware)

    def run(
        self, coords, spatial, out, dtype, order, mode, cval, hardware, spline=None, conv_a=0.0
    ):
        """Launch on the input's device into ``out`` (written through a C-contiguous
        temporary where ``out`` is not one); returns the plan a repeat of this call
        may run again (a :class:`_launch.Launch`, or for order 3 a
        :class:`_launch.Refilled` that runs the prefilter again), or None. Order 3:
        ``spline`` is what :meth:`cubic_source` returned. Cubic convolution:
        ``order`` is ``_source.CUBIC_CONV`` and ``conv_a`` its parameter."""
        import cupy

        with cupy.cuda.Device(self.device):
            direct = out.flags.c_contiguous and out.device.id == self.device
            target = out if direct else cupy.empty(out.shape, dtype)
            src, pad, refill = spline if spline is not None else (self.source(hardware), 0, None)
            args = (order, mode, cval, hardware, pad, conv_a, refill)
            plan = _launch.run(src, coords, tuple(spatial), target, *args)
            if not direct:  # (an output on another device: copied over)
                assign(out, target)
        return plan if direct else None

    def cubic_source(self, spline, cval: float, hardware: bool):
        """(a Source over this call's B-spline coefficients, their padding, the
        function that makes such a Source from the input anew: a plan's refill), the
        prefilter launched on the input's device; ``spline`` is (cupyx's mode,
        prefilter, padding)."""
        mode, prefilter, pad = spline
        fill = None
        if self.image is None:  # a CuPy volume the prefilter reads as it is: prepared
            fill = _spline.direct_fill(self.original, self.nshape, self.ndim, mode, prefilter)
        if fill is not None:
            kw = {"fill": fill, "device": self.device, "hardware": hardware}
            refill = functools.partial(filled_source, **kw)
        else:
            refill = functools.partial(
                spline_source,
                nshape=self.nshape,
                ndim=self.ndim,
                device=self.device,
                mode=mode,
                prefilter=prefilter,
                cval=cval,
                hardware=hardware,
            )
        return refill(self.image if self.image is not None else self.original), pad, refill

    # ------------------------------------------------------------ fallback
    def fallback(self, reason: str, one, out, spatial) -> Any:
        """cupyx for each (sample, channel) plane (``one(plane, output_plane)``), with a
        :class:`FallbackWarning` saying why."""
        import cupy

        warnings.warn(
            f"ia.ndimage.{self.fn}: {reason}: computed by cupyx.scipy.ndimage instead of textures",
            FallbackWarning,
            stacklevel=3,
        )
        x = cupy.asarray(self.image) if self.image is not None else self.original
        with cupy.cuda.Device(self.device):
            # cupyx writes on the input's device: an output elsewhere is copied over
            target = out if out.device.id == self.device else cupy.empty(out.shape, out.dtype)
            if not self.batched and not self.has_channels:
                one(x, target, None)
            else:
                arr = x.reshape(self.nshape) if x.size else cupy.empty(self.nshape, x.dtype)
                o = target if self.batched else target[None]
                o = o if self.has_channels else o[..., None]
                for b in range(self.nb):
                    for c in range(self.channels):
                        plane = cupy.ascontiguousarray(arr[b, ..., c])
                        res = cupy.empty(tuple(spatial), dtype=o.dtype)
                        one(plane, res, b)
                        o[b, ..., c] = res
        if target is not out:
            assign(out, target)
        return out


def spline_source(x, nshape, ndim, device, mode, prefilter, cval, hardware) -> _textures.Source:
    """A Source over the B-spline coefficients of ``x`` (the CuPy or ImageArray input,
    laid out as ``nshape``), the prefilter launched on ``device`` (see
    :meth:`Call.cubic_source`)."""
    import cupy

    with cupy.cuda.Device(device):
        x = cupy.asarray(x) if isinstance(x, ImageArray) else x
        coef, image = _spline.coefficients(x, nshape, ndim, mode, cval, prefilter, ndim == 3)
        _textures.collect()  # after the prefilter's launches: the GPU starts sooner
        if image is not None:  # a 3D volume: the prefilter wrote the CUDA array itself
            return _textures.from_filled(*image, hardware)
        src = _textures.from_cupy(coef, coef.shape, coef.strides, ndim, hardware)
        # kept until the launch has run: a texture over coef's own memory (rows CUDA
        # addresses in place) does not hold it, and the output allocated next would
        # take its freed memory (4096^2 affine_transform: a third of the points wrong)
        src.keep.append(coef)
        return src


def filled_source(x, fill: _spline.VolumeFill, device: int, hardware: bool) -> _textures.Source:
    """What :func:`spline_source` makes of ``x`` where its coefficients go into an
    image by ``fill`` (``_spline.direct_fill``), with no other step before the
    first launch: an order-3 plan's refill."""
    import cupy

    if cupy.cuda.runtime.getDevice() != device:
        with cupy.cuda.Device(device):
            return filled_source(x, fill, device, hardware)
    lease = fill(x)
    _textures.collect()  # after the prefilter's launches: the GPU starts sooner
    return _textures.from_filled(lease, fill.halo, hardware)


def axis_int(channel_axis: Any) -> int | None:
    """``channel_axis`` as an int (None stays None); a bool (an int to Python, but
    never an axis a caller means) or a non-integer raises ImageArrayTypeError."""
    if channel_axis is None:
        return None
    if isinstance(channel_axis, (bool, numpy.bool_)):
        raise ImageArrayTypeError(f"channel_axis must be an int or None, not {channel_axis!r}")
    try:
        return operator.index(channel_axis)
    except TypeError:
        raise ImageArrayTypeError(
            f"channel_axis must be an int or None, not {channel_axis!r}"
        ) from None


def _channel_axis(channel_axis: Any, nd: int) -> bool:
    ax = axis_int(channel_axis)
    if ax is None:
        return False
    if ax not in (-1, nd - 1):
        raise ImageArrayValueError(
            f"channel_axis={channel_axis!r}: the channels must be the last axis (-1) of the "
            f"{nd}-axis input"
        )
    return True


def _batch_axes(batch_axes: Any, nd: int) -> bool:
    if batch_axes is None or batch_axes == ():
        return False
    if batch_axes in (0, (0,), [0]) and not isinstance(batch_axes, bool):
        return True
    raise ImageArrayValueError(
        f"batch_axes={batch_axes!r}: the batch must be the first axis (batch_axes=0) of the "
        f"{nd}-axis input"
    )
