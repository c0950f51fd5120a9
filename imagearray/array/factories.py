"""Making images: ``empty``, ``zeros`` and ``asimage`` (NumPy order shapes; layers
and channels are keywords, as for the descriptor)."""

from __future__ import annotations

import operator
from typing import Any

import numpy

from imagearray._coerce import coerce_int
from imagearray._descriptor import ImageDescriptor
from imagearray._enums import ImageType
from imagearray._errors import ImageArrayTypeError, ImageArrayValueError
from imagearray.array.image_array import ImageArray
from imagearray.copies import DEVICE
from imagearray.memory import ImageMem

__all__ = ["asimage", "empty", "zeros"]


def _as_bool(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, numpy.bool_)):
        raise ImageArrayTypeError(
            f"{name} must be a bool, got {value!r} of type {type(value).__name__}"
        )
    return bool(value)


def _as_shape(shape: Any) -> tuple:
    """``shape`` (an int or a sequence) as a tuple; its items are checked by
    ``ImageDescriptor.from_shape``, which names the offending axis."""
    if isinstance(shape, (int, numpy.integer)) and not isinstance(shape, (bool, numpy.bool_)):
        return (int(shape),)
    try:
        if isinstance(shape, (str, bytes, bool, numpy.bool_)):
            raise TypeError(shape)
        return tuple(shape)
    except Exception:
        raise ImageArrayTypeError(
            f"shape must be an int or a sequence of ints, got {shape!r} of type "
            f"{type(shape).__name__}"
        ) from None


def _make_desc(shape, dtype, channels, layers, cubemap, levels, normalized) -> ImageDescriptor:
    shape = _as_shape(shape)
    levels = coerce_int("levels", levels, None)  # the range is checked by verify()
    if _as_bool("cubemap", cubemap):
        if layers is not None:
            t = ImageType.CUBEMAP_ARRAY
            if levels > 1:
                raise ImageArrayValueError("CUDA has no mipmapped arrays of cubemaps")
        else:
            t = ImageType.MIPMAP_CUBEMAP if levels > 1 else ImageType.CUBEMAP
    elif layers is not None:
        t = ImageType.MIPMAP_ARRAY if levels > 1 else ImageType.ARRAY
    else:
        t = ImageType.MIPMAP if levels > 1 else ImageType.STANDARD
    array_size = layers if layers is not None else (6 if cubemap else 1)
    return ImageDescriptor.from_shape(
        shape,
        dtype,
        channels,
        image_type=t,
        num_levels=levels,
        array_size=array_size,
        normalized=normalized,
    )


def empty(
    shape,
    dtype: Any = numpy.float32,
    channels: int = 1,
    *,
    layers: int | None = None,
    cubemap: bool = False,
    levels: int = 1,
    normalized: bool = False,
    device: Any = None,
) -> ImageArray:
    """A new uninitialised image.

    Parameters
    ----------
    shape : int or tuple of int
        Spatial shape in NumPy order: ``(width,)``, ``(height, width)`` or
        ``(depth, height, width)``; for cubemaps the face ``(size, size)``. Layers
        and channels are not part of it.
    dtype : int8/16/32, uint8/16/32, float16 or float32
    channels : 1, 2 or 4
    layers : int, optional
        Make a layered image (image array) of this many layers; with ``cubemap``, the
        number of cubemaps.
    cubemap : bool
        Make a cubemap (6 faces).
    levels : int
        Mip levels (> 1 makes a mipmapped image).
    normalized : bool
        8/16-bit integers read as normalized floats (unorm/snorm) when sampled.
    device : int or cupy.cuda.Device, optional

    Examples
    --------
    >>> img = ia.empty((480, 640), numpy.uint8, channels=4)  # doctest: +SKIP
    >>> img.shape  # doctest: +SKIP
    (480, 640, 4)
    """
    desc = _make_desc(shape, dtype, channels, layers, cubemap, levels, normalized)
    return ImageArray.from_mem(ImageMem(desc, device))


def zeros(shape, dtype: Any = numpy.float32, channels: int = 1, **kwargs: Any) -> ImageArray:
    """Like :func:`empty`, with every level, layer and texel set to zero."""
    import cupy

    img = empty(shape, dtype, channels, **kwargs)
    with cupy.cuda.Device(img._handle.device):
        for level in range(img.levels):
            view = img.mip(level) if img.levels > 1 else img
            buf = cupy.zeros(view.shape, dtype=view.dtype)
            view._region(*view._whole(), buf, DEVICE, True, None)
    return img


def asimage(
    a: Any,
    *,
    channels: int = 1,
    layered: bool = False,
    cubemap: bool = False,
    normalized: bool = False,
    device: Any = None,
    stream: Any = None,
) -> ImageArray:
    """An image holding a copy of ``a`` (NumPy or CuPy array).

    ``a``'s axes, in NumPy order: ``[layers or faces,] [depth,] [height,] width[,
    channels]`` — the leading axis is layers when ``layered`` (faces when
    ``cubemap``, a multiple of 6 for arrays of cubemaps when both), the last axis
    is channels when ``channels > 1``.

    Examples
    --------
    >>> img = ia.asimage(numpy.zeros((480, 640, 4), numpy.uint8), channels=4)  # doctest: +SKIP
    """
    if isinstance(a, ImageArray):
        return a
    channels = coerce_int("channels", channels, None)  # 1, 2 or 4: checked by from_shape
    layered = _as_bool("layered", layered)
    cubemap = _as_bool("cubemap", cubemap)
    if not hasattr(a, "shape") or not hasattr(a, "dtype"):
        try:
            a = numpy.asarray(a)
        except Exception as exc:  # e.g. ragged nested sequences
            raise ImageArrayValueError(
                f"cannot make an array of the {type(a).__name__} given: {exc}"
            ) from None
    try:
        shape = tuple(operator.index(n) for n in a.shape)
    except Exception:
        raise ImageArrayTypeError(
            f"a.shape must be a tuple of ints, got {getattr(a, 'shape', None)!r}"
        ) from None
    if channels > 1:
        if not shape or shape[-1] != channels:
            raise ImageArrayValueError(
                f"channels={channels} but the last axis of shape {shape} is not {channels}"
            )
        shape = shape[:-1]
    layers = None
    if cubemap or layered:
        if not shape:
            raise ImageArrayValueError("a layered or cubemap image needs a leading layer axis")
        n, shape = shape[0], shape[1:]
        if cubemap and layered:
            if n % 6:
                raise ImageArrayValueError(f"an array of cubemaps needs 6*N faces, not {n}")
            layers = n // 6
        elif cubemap:
            if n != 6:
                raise ImageArrayValueError(f"a cubemap needs 6 faces on the first axis, not {n}")
        else:
            layers = n
    if device is None and hasattr(a, "device") and hasattr(a.device, "id"):
        device = a.device.id
    # empty() checks the arguments, then the device, before allocating anything.
    img = empty(
        shape,
        a.dtype,
        channels,
        layers=layers,
        cubemap=cubemap,
        normalized=normalized,
        device=device,
    )
    img._write(*img._whole(), a, stream)
    return img
