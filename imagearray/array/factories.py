"""Making images: ``empty``, ``zeros``, ``ones``, ``full``, the ``*_like`` family and
``asimage``.

One shape rule for all of them: a shape is what ``img.shape`` gives, in NumPy order
``[layers or faces,] [depth,] [height,] width[, channels]`` — the leading axis is
layers when ``layered`` (faces when ``cubemap``; 6 * cubemaps when both), the last is
channels when there is more than one (see :func:`split_shape` for how a missing
``channels=`` is read). So ``ia.empty(img.shape, img.dtype, channels=img.channels)``
has ``img.shape``, and ``ia.empty_like(img)`` is the same image type too."""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any, Literal

import numpy

from imagearray._coerce import coerce_int
from imagearray._descriptor import ImageDescriptor
from imagearray._enums import ImageType
from imagearray._errors import ImageArrayTypeError, ImageArrayValueError
from imagearray.array.image_array import ImageArray

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import SupportsIndex, TypeAlias, TypedDict

    from numpy.typing import DTypeLike
    from typing_extensions import Unpack

    #: What a shape may be given as (what ``numpy.empty`` takes).
    _ShapeLike: TypeAlias = SupportsIndex | Sequence[SupportsIndex]
    _Memory: TypeAlias = Literal["array", "linear"]

    class _ImageKw(TypedDict, total=False):
        """The keywords ``full``, ``zeros`` and ``ones`` pass on to ``empty``."""

        layered: bool
        cubemap: bool
        levels: int
        normalized: bool
        memory: _Memory
        device: Any
        gather: bool

    class _LikeKw(TypedDict, total=False):
        """The keywords ``full_like``, ``zeros_like`` and ``ones_like`` pass on to
        ``empty_like``."""

        memory: _Memory | None
        device: Any
        gather: bool | None


__all__ = [
    "asimage",
    "empty",
    "empty_like",
    "full",
    "full_like",
    "ones",
    "ones_like",
    "split_shape",
    "zeros",
    "zeros_like",
]

_MEMORY = ("array", "linear")


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


def split_shape(
    shape: tuple[int, ...], channels: int | None, layered: bool, cubemap: bool
) -> tuple[tuple[int, ...], int, int | None]:
    """``(spatial shape, channels, layers)`` of a full NumPy-order image shape.

    The leading axis is layers (``layered``) or faces (``cubemap``). With ``channels``
    given (1, 2 or 4) the last axis must be it when it is > 1. Without, the rule is:
    the last axis is channels when the image would otherwise have too many axes (a
    4-axis volume, a 3-axis layered or cubemap image); one or two axes are never
    channels; and three axes whose last is 1, 2 or 4 — ``(480, 640, 4)``: a 2D RGBA
    image or a volume 4 texels wide — are refused as ambiguous, never guessed."""
    shape = tuple(coerce_int(f"shape[{i}]", n, None) for i, n in enumerate(shape))
    if channels is not None:
        channels = coerce_int("channels", channels, None)  # 1, 2 or 4: from_shape checks
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
    max_axes = 2 if (cubemap or layered) else 3
    if channels is None:
        if len(shape) > max_axes:
            channels = shape[-1]
        elif len(shape) == 3 and shape[-1] in (1, 2, 4):
            raise ImageArrayValueError(
                f"shape {shape} could be a 2D image of {shape[-1]} channels or a 3D image "
                f"{shape[-1]} texels wide: pass channels={shape[-1]} or channels=1"
            )
        else:
            channels = 1
    if channels > 1 or len(shape) > max_axes:
        if not shape or shape[-1] != channels:
            raise ImageArrayValueError(
                f"channels={channels} but the last axis of shape {shape} is not {channels}"
            )
        shape = shape[:-1]
    return shape, channels, layers


def _make_desc(shape, dtype, channels, layered, cubemap, levels, normalized) -> ImageDescriptor:
    shape = _as_shape(shape)
    levels = coerce_int("levels", levels, None)  # the range is checked by verify()
    layered = _as_bool("layered", layered)
    cubemap = _as_bool("cubemap", cubemap)
    spatial, channels, layers = split_shape(shape, channels, layered, cubemap)
    if cubemap:
        if layered:
            t = ImageType.CUBEMAP_ARRAY
            if levels > 1:
                raise ImageArrayValueError("CUDA has no mipmapped arrays of cubemaps")
        else:
            t = ImageType.MIPMAP_CUBEMAP if levels > 1 else ImageType.CUBEMAP
    elif layered:
        t = ImageType.MIPMAP_ARRAY if levels > 1 else ImageType.ARRAY
    else:
        t = ImageType.MIPMAP if levels > 1 else ImageType.STANDARD
    array_size = layers if layers is not None else (6 if cubemap else 1)
    try:
        return ImageDescriptor.from_shape(
            spatial,
            dtype,
            channels,
            image_type=t,
            num_levels=levels,
            array_size=array_size,
            normalized=normalized,
        )
    except ImageArrayTypeError as exc:
        if "dtype" in str(exc):
            raise ImageArrayTypeError(
                f"{exc}. asimage(a, dtype=numpy.float32) (or another allowed dtype) converts"
            ) from None
        raise


def _as_memory(memory: Any) -> _Memory:
    if not isinstance(memory, str) or memory not in _MEMORY:
        raise ImageArrayValueError(f"memory must be 'array' or 'linear', not {memory!r}")
    return memory


def empty(
    shape: _ShapeLike,
    dtype: DTypeLike = numpy.float32,
    channels: int | None = None,
    *,
    layered: bool = False,
    cubemap: bool = False,
    levels: int = 1,
    normalized: bool = False,
    memory: _Memory = "array",
    device: Any = None,
    gather: bool = False,
) -> ImageArray:
    """A new uninitialised image.

    Parameters
    ----------
    shape : int or tuple of int
        The image's NumPy shape, as ``img.shape`` gives it: ``[layers or faces,]
        [depth,] [height,] width[, channels]`` (see :func:`split_shape`).
    dtype : int8/16/32, uint8/16/32, float16 or float32
    channels : 1, 2 or 4, optional
        Given: the last axis must be it (when > 1). Left out: read from the shape
        (a 3-axis shape ending in 1, 2 or 4 is ambiguous and refused).
    layered : bool
        The leading axis is layers (an image array); with ``cubemap``, 6 * cubemaps.
    cubemap : bool
        The leading axis is the 6 faces of a cubemap.
    levels : int
        Mip levels (> 1 makes a mipmapped image).
    normalized : bool
        8/16-bit integers read as normalized floats (unorm/snorm) when sampled.
    memory : "array" or "linear"
        A CUDA array (default; any image type), or linear memory (1D, or 2D
        pitched): a CuPy array that CUDA samples in place, whose slices are CuPy
        views and which CuPy, torch and JAX see through ``__cuda_array_interface__``
        and DLPack.
    device : int or cupy.cuda.Device, optional
    gather : bool
        Allocate for texture gather (:meth:`ImageArray.gather`,
        ``ia::gather_image``): 2D standard CUDA-array images only, within
        ``device_info("max_image_2d_gather")``.

    Examples
    --------
    >>> img = ia.empty((480, 640, 4), numpy.uint8, channels=4)
    >>> img.shape
    (480, 640, 4)
    """
    desc = _make_desc(shape, dtype, channels, layered, cubemap, levels, normalized)
    return ImageArray._new(desc, _as_memory(memory), device, _as_bool("gather", gather))


def full(
    shape: _ShapeLike,
    fill_value: Any,
    dtype: DTypeLike = numpy.float32,
    channels: int | None = None,
    **kwargs: Unpack[_ImageKw],
) -> ImageArray:
    """Like :func:`empty`, with every level, layer and texel set to ``fill_value``
    (cast by the rule of ``ImageArray.__setitem__``).

    Examples
    --------
    >>> import imagearray as ia
    >>> img = ia.full((4, 8, 4), 0.5, channels=4)  # 4 x 8 texels of float4
    >>> img.get()[0, 0]
    array([0.5, 0.5, 0.5, 0.5], dtype=float32)
    """
    img = empty(shape, dtype, channels, **kwargs)
    _fill_all(img, fill_value)
    return img


def zeros(
    shape: _ShapeLike,
    dtype: DTypeLike = numpy.float32,
    channels: int | None = None,
    **kwargs: Unpack[_ImageKw],
) -> ImageArray:
    """Like :func:`empty`, with every level, layer and texel set to zero.

    Examples
    --------
    >>> import imagearray as ia
    >>> img = ia.zeros((64, 64))
    >>> float(img.get().max())
    0.0
    """
    return full(shape, 0, dtype, channels, **kwargs)


def ones(
    shape: _ShapeLike,
    dtype: DTypeLike = numpy.float32,
    channels: int | None = None,
    **kwargs: Unpack[_ImageKw],
) -> ImageArray:
    """Like :func:`empty`, with every level, layer and texel set to one.

    Examples
    --------
    >>> import numpy
    >>> import imagearray as ia
    >>> ia.ones((2, 3), numpy.uint8).get()
    array([[1, 1, 1],
           [1, 1, 1]], dtype=uint8)
    """
    return full(shape, 1, dtype, channels, **kwargs)


def _fill_all(img: ImageArray, value: Any) -> None:
    for view in img._levels():
        view.fill(value)


def empty_like(
    a: Any,
    dtype: DTypeLike | None = None,
    *,
    memory: _Memory | None = None,
    device: Any = None,
    gather: bool | None = None,
) -> ImageArray:
    """A new uninitialised image like ``a``: for an ``ImageArray``, the same image type,
    levels, layers, channels, normalization, backing (gatherable or not) and device
    (of what ``a`` shows: a layer view gives a 2D image); for a NumPy or CuPy array,
    ``empty(a.shape, dtype or a.dtype)`` (its device for a CuPy array). ``dtype``,
    ``memory``, ``device`` and ``gather`` override.

    Examples
    --------
    >>> import numpy
    >>> import imagearray as ia
    >>> a = ia.zeros((16, 32, 4), numpy.uint8, channels=4, normalized=True)
    >>> b = ia.empty_like(a)
    >>> b.shape, b.channels, b.dtype
    ((16, 32, 4), 4, dtype('uint8'))
    >>> ia.empty_like(numpy.zeros((8, 8), numpy.float32)).shape  # from a NumPy array
    (8, 8)
    """
    if gather is not None:
        gather = _as_bool("gather", gather)
    if isinstance(a, ImageArray):
        desc = a._like_desc(dtype)
        dev = a._handle.device if device is None else device
        memory = _as_memory(memory or a.memory)
        if gather is None:
            gather = a.gatherable and memory == "array"
        return ImageArray._new(desc, memory, dev, gather)
    a = _as_array(a)
    if device is None and hasattr(a, "device") and hasattr(a.device, "id"):
        device = a.device.id
    return empty(
        a.shape,
        a.dtype if dtype is None else dtype,
        memory=memory or "array",
        device=device,
        gather=bool(gather),
    )


def _as_array(a: Any) -> Any:
    """``a`` if it is array-like (shape and dtype), else ``numpy.asarray(a)``."""
    if hasattr(a, "shape") and hasattr(a, "dtype"):
        return a
    try:
        return numpy.asarray(a)
    except Exception as exc:  # e.g. ragged nested sequences
        raise ImageArrayValueError(
            f"cannot make an array of the {type(a).__name__} given: {exc}"
        ) from None


def full_like(
    a: Any, fill_value: Any, dtype: DTypeLike | None = None, **kwargs: Unpack[_LikeKw]
) -> ImageArray:
    """Like :func:`empty_like`, every level, layer and texel set to ``fill_value``.

    Examples
    --------
    >>> import imagearray as ia
    >>> a = ia.zeros((4, 4))
    >>> ia.full_like(a, 7).get()[0]
    array([7., 7., 7., 7.], dtype=float32)
    """
    img = empty_like(a, dtype, **kwargs)
    _fill_all(img, fill_value)
    return img


def zeros_like(a: Any, dtype: DTypeLike | None = None, **kwargs: Unpack[_LikeKw]) -> ImageArray:
    """Like :func:`empty_like`, set to zero.

    Examples
    --------
    >>> import imagearray as ia
    >>> a = ia.ones((4, 4))
    >>> float(ia.zeros_like(a).get().sum())
    0.0
    """
    return full_like(a, 0, dtype, **kwargs)


def ones_like(a: Any, dtype: DTypeLike | None = None, **kwargs: Unpack[_LikeKw]) -> ImageArray:
    """Like :func:`empty_like`, set to one.

    Examples
    --------
    >>> import imagearray as ia
    >>> a = ia.zeros((4, 4))
    >>> float(ia.ones_like(a).get().sum())
    16.0
    """
    return full_like(a, 1, dtype, **kwargs)


def asimage(
    a: Any,
    dtype: DTypeLike | None = None,
    *,
    channels: int | None = None,
    layered: bool = False,
    cubemap: bool = False,
    normalized: bool = False,
    copy: bool = True,
    memory: _Memory | None = None,
    device: Any = None,
    stream: Any = None,
    gather: bool = False,
) -> ImageArray:
    """An image of the data of ``a`` (a NumPy or CuPy array, or an ``ImageArray``).

    ``a``'s shape follows the rule of :func:`empty` (``[layers or faces,] [depth,]
    [height,] width[, channels]``).

    - ``copy=True`` (default): the data is copied into new image memory, a CUDA array
      unless ``memory="linear"``; ``dtype`` converts it first (as ``astype`` does),
      so ``asimage(numpy.random.rand(64, 64), numpy.float32)`` works.
    - ``copy=False``: ``a`` must be a CuPy array holding a 1D image, or a 2D one whose
      rows may be padded (a pitch); the image *is* its memory (no copy): writes through
      either are seen by both, and CUDA samples it in place. Where CUDA cannot (the
      device's pitch or address alignment, its linear-texture limits, a layout that is
      not row-contiguous) the error names the constraint; ``copy=True`` is the way.

    - ``gather=True``: the CUDA array is allocated for texture gather
      (:meth:`ImageArray.gather`, ``ia::gather_image``; 2D standard images only).

    An ``ImageArray`` is returned as it is (converted when ``dtype`` or ``memory``
    differ, or when ``gather=True`` and it is not :attr:`~ImageArray.gatherable`).

    Examples
    --------
    >>> img = ia.asimage(numpy.zeros((480, 640, 4), numpy.uint8), channels=4)
    >>> a = cupy.zeros((4096, 4096), cupy.float32)
    >>> img = ia.asimage(a, copy=False)  # samples a's memory in place
    >>> a[2, 1] = 8
    >>> img.sample(cupy.array([[1.5, 2.5]], cupy.float32))  # (x, y): column 1, row 2
    array([8.], dtype=float32)
    """
    copy = _as_bool("copy", copy)
    gather = _as_bool("gather", gather)
    if isinstance(a, ImageArray):
        memory = _as_memory(a.memory if memory is None else memory)
        same = (dtype is None or numpy.dtype(dtype) == a.dtype) and memory == a.memory
        if same and (a.gatherable or not gather):
            return a
        out = empty_like(a, dtype, memory=memory, gather=gather or None)
        for src, dst in zip(a._levels(), out._levels()):
            dst.set(src.to_cupy().astype(dst.dtype, copy=False))
        return out
    a = _as_array(a)
    try:
        shape = tuple(operator.index(n) for n in a.shape)
    except Exception:
        raise ImageArrayTypeError(
            f"a.shape must be a tuple of ints, got {getattr(a, 'shape', None)!r}"
        ) from None
    if device is None and hasattr(a, "device") and hasattr(a.device, "id"):
        device = a.device.id
    memory = _as_memory(("array" if copy else "linear") if memory is None else memory)
    target = a.dtype if dtype is None else dtype
    if not copy:
        if gather:
            raise ImageArrayValueError(
                "copy=False wraps linear memory, which CUDA cannot gather from: "
                "gather=True needs copy=True (a CUDA array)"
            )
        if memory != "linear":
            raise ImageArrayValueError(
                "copy=False wraps existing memory, which only linear images can: "
                "memory='linear' (or leave memory out)"
            )
        if not hasattr(a, "__cuda_array_interface__") or not hasattr(a, "data"):
            raise ImageArrayTypeError(
                f"copy=False wraps a CuPy array's memory, not a {type(a).__name__}: "
                "copy=True copies it"
            )
        if numpy.dtype(target) != a.dtype:
            raise ImageArrayValueError(
                f"copy=False cannot convert {a.dtype} to {numpy.dtype(target)}: copy=True can"
            )
    desc = _make_desc(shape, target, channels, layered, cubemap, 1, normalized)
    if not copy:
        return ImageArray._wrap_linear(a, desc, device)
    # empty's checks ran above: the arguments, then the device, before allocating
    img = ImageArray._new(desc, memory, device, gather)
    data = a if dtype is None else a.astype(desc.dtype, copy=False)
    if memory == "linear":
        img[...] = data
    else:
        img._write(*img._whole(), data, stream)
    return img
