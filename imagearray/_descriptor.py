"""``ImageDescriptor``: the spec's ``image_descriptor`` (plain Python, no CUDA).

A descriptor is a plain, immutable value: building one only checks the *types* of its
fields. Whether it describes an image the spec (and CUDA) allows is checked by
:meth:`ImageDescriptor.verify`, as ``image_descriptor::verify()`` does in the spec.

Extents are in texture order everywhere in this module: ``width`` is x (the
fastest-varying axis), ``height`` is y and ``depth`` is z. Host shapes
(:attr:`ImageDescriptor.host_shape`, :meth:`ImageDescriptor.from_shape`) are in NumPy's
C order, i.e. reversed: ``(depth, height, width)``.
"""

from __future__ import annotations

import dataclasses
import enum
import operator
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy

from imagearray import _rules
from imagearray._coerce import coerce_enum, coerce_int
from imagearray._enums import ChannelOrder, ChannelType, ImageType
from imagearray._errors import ImageArrayTypeError, InvalidDescriptorError

__all__ = ["ImageDescriptor"]

_E = TypeVar("_E", bound=enum.Enum)

#: The mip-level descriptor of each mipmapped type has this (non-mipmapped) type.
_LEVEL_TYPE = {
    ImageType.MIPMAP: ImageType.STANDARD,
    ImageType.MIPMAP_ARRAY: ImageType.ARRAY,
    ImageType.MIPMAP_CUBEMAP: ImageType.CUBEMAP,
}

#: NumPy dtype name -> (channel type, normalized channel type or None).
_DTYPE_TO_CHANNEL_TYPE = {
    "int8": (ChannelType.SIGNED_INT8, ChannelType.SNORM_INT8),
    "int16": (ChannelType.SIGNED_INT16, ChannelType.SNORM_INT16),
    "int32": (ChannelType.SIGNED_INT32, None),
    "uint8": (ChannelType.UNSIGNED_INT8, ChannelType.UNORM_INT8),
    "uint16": (ChannelType.UNSIGNED_INT16, ChannelType.UNORM_INT16),
    "uint32": (ChannelType.UNSIGNED_INT32, None),
    "float16": (ChannelType.FP16, None),
    "float32": (ChannelType.FP32, None),
}
_ALLOWED_DTYPES = ", ".join(_DTYPE_TO_CHANNEL_TYPE)
_NORMALIZABLE_DTYPES = ", ".join(k for k, v in _DTYPE_TO_CHANNEL_TYPE.items() if v[1])

#: Channel count -> the channel order ``from_shape`` picks.
_CHANNELS_TO_ORDER = {1: ChannelOrder.R, 2: ChannelOrder.RG, 4: ChannelOrder.RGBA}


def _as_size(name: str, value: Any) -> int:
    return coerce_int(name, value, 0, InvalidDescriptorError)


def _as_enum(enum_cls: type[_E], name: str, value: Any) -> _E:
    return coerce_enum(enum_cls, name, value, InvalidDescriptorError)


@dataclass(frozen=True)
class ImageDescriptor:
    """Describes an image: extents, texel format, image type, levels and layers.

    The Python counterpart of the spec's ``image_descriptor``. It is an immutable,
    hashable value; constructing one only checks and coerces the field types, and
    :meth:`verify` checks the spec's rules (call it before allocating).

    Extents are in texture order (x = ``width``, y = ``height``, z = ``depth``), as
    CUDA and the device API use them; an extent of 0 means the dimension is unused
    (1D: ``height == depth == 0``; 2D: ``depth == 0``). Layers are not an extent: they
    are given by ``type`` and ``array_size`` (see :attr:`num_layers`).

    Parameters
    ----------
    width : int, optional
        Texels along x (>= 1 for a valid descriptor). The default, 0, makes the
        spec's default-constructed descriptor: a value that :meth:`verify` refuses.
    height : int, optional
        Texels along y; 0 (default) for a 1D image.
    depth : int, optional
        Texels along z; 0 (default) for a 1D or 2D image.
    channel_order : ChannelOrder or str, optional
        Order and number of the channels of a texel (default ``ChannelOrder.R``);
        a string names the member's value, e.g. ``"rgba"``.
    channel_type : ChannelType or str, optional
        Storage type of one channel (default ``ChannelType.FP32``), e.g. ``"unorm_int8"``.
    type : ImageType or str, optional
        Standard, mipmapped, array or cubemap image, or one of the combined types
        (default ``ImageType.STANDARD``).
    num_levels : int, optional
        Number of mip levels (> 1 for mipmapped types, 1 otherwise).
    array_size : int, optional
        Number of array layers for ``ARRAY``/``MIPMAP_ARRAY`` (> 1), 6 for
        ``CUBEMAP``/``MIPMAP_CUBEMAP``, the number of cubemaps for ``CUBEMAP_ARRAY``
        and 1 otherwise.

    Raises
    ------
    ImageArrayTypeError
        If an extent, ``num_levels`` or ``array_size`` is not an int (bool and float
        are refused), or an enum field is neither a member nor a string.
    InvalidDescriptorError
        If an int field is negative or a string names no member of its enum.

    See Also
    --------
    ImageDescriptor.from_shape : build a descriptor from a NumPy shape and dtype.

    Examples
    --------
    >>> desc = ImageDescriptor(64, 32, channel_order="rgba", channel_type="unorm_int8")
    >>> print(desc)
    ImageDescriptor(2D 64x32 rgba unorm_int8 standard)
    >>> desc.verify().host_shape  # NumPy order: (height, width, channels)
    (32, 64, 4)
    >>> desc.nbytes
    8192
    >>> mip = ImageDescriptor(16, 16, type="mipmap", num_levels=5).verify()
    >>> [mip.mip_level_desc(level).extent for level in range(mip.num_levels)]
    [(16, 16, 1), (8, 8, 1), (4, 4, 1), (2, 2, 1), (1, 1, 1)]
    """

    width: int = 0
    height: int = 0
    depth: int = 0
    channel_order: ChannelOrder = ChannelOrder.R
    channel_type: ChannelType = ChannelType.FP32
    type: ImageType = ImageType.STANDARD
    num_levels: int = 1
    array_size: int = 1

    def __post_init__(self) -> None:
        # Only types are checked here; the spec's rules are verify()'s job, so that a
        # descriptor stays a plain value that can be built, replaced and compared freely.
        for name in ("width", "height", "depth", "num_levels", "array_size"):
            object.__setattr__(self, name, _as_size(name, getattr(self, name)))
        object.__setattr__(
            self, "channel_order", _as_enum(ChannelOrder, "channel_order", self.channel_order)
        )
        object.__setattr__(
            self, "channel_type", _as_enum(ChannelType, "channel_type", self.channel_type)
        )
        object.__setattr__(self, "type", _as_enum(ImageType, "type", self.type))

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_shape(
        cls,
        shape: int | Iterable[int],
        dtype: Any,
        channels: int = 1,
        *,
        image_type: ImageType | str = ImageType.STANDARD,
        num_levels: int = 1,
        array_size: int | None = None,
        normalized: bool = False,
    ) -> ImageDescriptor:
        """Build a verified descriptor from a NumPy-style host shape and dtype.

        Parameters
        ----------
        shape : int or sequence of int
            Extents in NumPy (C) order, *without* the channel axis and *without* the
            layer axis: ``(width,)``, ``(height, width)`` or ``(depth, height, width)``.
            The result's extents are in texture order (x = width, y = height,
            z = depth), i.e. ``shape`` reversed.
        dtype : numpy.dtype or anything ``numpy.dtype()`` accepts
            Type of one channel: int8, int16, int32, uint8, uint16, uint32, float16 or
            float32, in native byte order.
        channels : int, optional
            Channels per texel: 1, 2 or 4 (``ChannelOrder.R``, ``RG`` or ``RGBA``).
        image_type : ImageType or str, optional
            Image type of the result (default ``ImageType.STANDARD``).
        num_levels : int, optional
            Number of mip levels (> 1 for mipmapped types).
        array_size : int or None, optional
            Layers of an array type, or number of cubemaps of ``CUBEMAP_ARRAY``. None
            (default) means 6 for ``CUBEMAP``/``MIPMAP_CUBEMAP`` and 1 otherwise.
        normalized : bool, optional
            If True, 8- and 16-bit integers are stored as ``UNORM``/``SNORM`` channels
            that read as floats in [0, 1] / [-1, 1].

        Returns
        -------
        ImageDescriptor
            A descriptor that has passed :meth:`verify`.

        Raises
        ------
        ImageArrayTypeError
            If ``dtype`` is not one of the allowed dtypes or not in native byte order,
            or an argument has the wrong type.
        InvalidDescriptorError
            If ``shape`` has no or more than 3 axes or a zero-length axis, ``channels``
            is not 1, 2 or 4, ``normalized`` is asked for a dtype other than
            8/16-bit integers, or the result breaks a rule of :meth:`verify`.

        Examples
        --------
        >>> import numpy
        >>> desc = ImageDescriptor.from_shape((32, 64), numpy.uint8, 4, normalized=True)
        >>> print(desc)
        ImageDescriptor(2D 64x32 rgba unorm_int8 standard)
        >>> desc.host_shape
        (32, 64, 4)
        >>> print(ImageDescriptor.from_shape((16, 16), "float32", image_type="cubemap"))
        ImageDescriptor(2D 16x16 r fp32 cubemap array_size=6)
        """
        if getattr(shape, "ndim", None) == 0 and hasattr(shape, "item"):
            shape = shape.item()  # a 0-d array is one extent (iterating it raises)
        if isinstance(shape, Iterable) and not isinstance(shape, (str, bytes)):
            try:
                dims = tuple(shape)
            except Exception as exc:  # an iterable that refuses to iterate
                raise ImageArrayTypeError(
                    f"shape must be an int or a sequence of ints, not {shape!r} ({exc})"
                ) from None
        else:
            dims = (shape,)
        for i, extent in enumerate(dims):
            _as_size(f"shape[{i}]", extent)  # type errors name the axis
        if not 1 <= len(dims) <= 3:
            raise InvalidDescriptorError(
                f"shape {dims} has {len(dims)} axes; an image has 1 to 3: (width,), "
                "(height, width) or (depth, height, width), without channel and layer axes"
            )
        if any(operator.index(extent) < 1 for extent in dims):
            raise InvalidDescriptorError(
                f"shape {dims} has a zero-length axis; every image axis must be >= 1"
            )

        try:
            np_dtype = numpy.dtype(dtype)
        except Exception:  # TypeError, or ValueError for malformed specs like (int, -1)
            raise ImageArrayTypeError(
                f"dtype {dtype!r} is not a NumPy dtype; allowed: {_ALLOWED_DTYPES}"
            ) from None
        if np_dtype.name not in _DTYPE_TO_CHANNEL_TYPE:
            raise ImageArrayTypeError(
                f"dtype {np_dtype} cannot be an image channel type; allowed: {_ALLOWED_DTYPES}"
            )
        if not np_dtype.isnative:
            # Device memory is little-endian; a raw copy of swapped bytes would be garbage.
            raise ImageArrayTypeError(
                f"dtype {np_dtype.str!r} is not in native byte order; convert the data "
                f"with .astype({np_dtype.name!r}) first"
            )

        channels = coerce_int("channels", channels, minimum=None)
        if channels == 3:
            raise InvalidDescriptorError(
                "channels=3 is not supported: CUDA arrays cannot hold 3-channel texels; "
                "use 4 channels (ChannelOrder.RGBA) and pad the data with a fourth channel"
            )
        if channels not in _CHANNELS_TO_ORDER:
            raise InvalidDescriptorError(f"channels={channels} is not allowed; allowed: 1, 2, 4")

        if not isinstance(normalized, (bool, numpy.bool_)):
            raise ImageArrayTypeError(
                f"normalized must be a bool, got {normalized!r} of type {type(normalized).__name__}"
            )
        plain_type, norm_type = _DTYPE_TO_CHANNEL_TYPE[np_dtype.name]
        if normalized and norm_type is None:
            raise InvalidDescriptorError(
                f"normalized=True is not allowed with dtype {np_dtype.name}; only 8- and "
                f"16-bit integers can be normalized ({_NORMALIZABLE_DTYPES})"
            )

        image_type = _as_enum(ImageType, "image_type", image_type)
        if array_size is None:
            cube = image_type in (ImageType.CUBEMAP, ImageType.MIPMAP_CUBEMAP)
            array_size = _rules.CUBE_FACES if cube else 1
        width, height, depth = (tuple(reversed(dims)) + (0, 0))[:3]
        return cls(
            width,
            height,
            depth,
            channel_order=_CHANNELS_TO_ORDER[channels],
            channel_type=norm_type if normalized else plain_type,
            type=image_type,
            num_levels=num_levels,
            array_size=array_size,
        ).verify()

    # ------------------------------------------------------------------ properties

    @property
    def dimensions(self) -> int:
        """Number of used extents: 1, 2 or 3 (texture order: x = width, y, z).

        Examples
        --------
        >>> ImageDescriptor(8).dimensions, ImageDescriptor(8, 4).dimensions
        (1, 2)
        >>> ImageDescriptor(8, 4, 2).dimensions
        3
        """
        if self.depth:
            return 3
        if self.height:
            return 2
        return 1

    @property
    def num_channels(self) -> int:
        """Channels per texel, ``channel_order.num_channels``.

        Examples
        --------
        >>> ImageDescriptor(8, channel_order="rgba").num_channels
        4
        """
        return self.channel_order.num_channels

    @property
    def dtype(self) -> numpy.dtype:
        """NumPy dtype of one channel (e.g. ``uint8`` for ``UNORM_INT8``).

        Examples
        --------
        >>> ImageDescriptor(8, channel_type="unorm_int16").dtype
        dtype('uint16')
        """
        return numpy.dtype(self.channel_type.dtype_name)

    @property
    def texel_size(self) -> int:
        """Bytes per texel: channel itemsize times number of channels.

        Examples
        --------
        >>> ImageDescriptor(8, channel_order="rgba", channel_type="fp16").texel_size
        8
        """
        return self.channel_type.itemsize * self.num_channels

    @property
    def extent(self) -> tuple[int, int, int]:
        """``(width, height, depth)`` in texture order, unused extents reported as 1.

        Examples
        --------
        >>> ImageDescriptor(64, 32).extent
        (64, 32, 1)
        """
        return (self.width, max(self.height, 1), max(self.depth, 1))

    @property
    def num_layers(self) -> int:
        """Total number of layers, as CUDA counts them.

        ``array_size`` for ``ARRAY``/``MIPMAP_ARRAY``, 6 for ``CUBEMAP``/
        ``MIPMAP_CUBEMAP``, ``6 * array_size`` for ``CUBEMAP_ARRAY`` (whose
        ``array_size`` counts cubemaps) and 1 otherwise.

        Examples
        --------
        >>> ImageDescriptor(16, 16, type="cubemap_array", array_size=2).num_layers
        12
        """
        if self.type in (ImageType.ARRAY, ImageType.MIPMAP_ARRAY):
            return self.array_size
        if self.type in (ImageType.CUBEMAP, ImageType.MIPMAP_CUBEMAP):
            return _rules.CUBE_FACES
        if self.type is ImageType.CUBEMAP_ARRAY:
            return _rules.CUBE_FACES * self.array_size
        return 1

    @property
    def host_shape(self) -> tuple[int, ...]:
        """NumPy shape of tightly packed host data of level 0, in C order.

        ``[layers,] [depth,] [height,] width [, channels]``: the layer axis
        (:attr:`num_layers` long) only for array and cubemap types, the channel axis only
        when there is more than one channel, unused extents left out. This is texture
        order reversed (x = width is the last spatial axis). For another mip level use
        ``desc.mip_level_desc(level).host_shape``.

        Examples
        --------
        >>> ImageDescriptor(64, 32, channel_order="rgba").host_shape
        (32, 64, 4)
        >>> ImageDescriptor(10, type="array", array_size=3).host_shape
        (3, 10)
        >>> ImageDescriptor(16, 16, type="cubemap", array_size=6).host_shape
        (6, 16, 16)
        """
        shape: list[int] = []
        if self.type.is_layered or self.type.is_cubemap:
            shape.append(self.num_layers)
        shape.extend(e for e in (self.depth, self.height) if e)
        shape.append(self.width)
        if self.num_channels > 1:
            shape.append(self.num_channels)
        return tuple(shape)

    @property
    def max_levels(self) -> int:
        """Length of the full mip chain: ``floor(log2(max(extent))) + 1``.

        Examples
        --------
        >>> ImageDescriptor(1024, 16).max_levels, ImageDescriptor(1000).max_levels
        (11, 10)
        """
        return max(self.extent).bit_length()

    @property
    def nbytes(self) -> int:
        """Bytes of all levels and all layers, tightly packed (no row pitch).

        Examples
        --------
        >>> ImageDescriptor(100, 50, channel_order="rgba", channel_type="unorm_int8",
        ...                 type="mipmap", num_levels=3).nbytes
        26200
        """
        levels = self.num_levels if self.type.is_mipmapped else 1
        return sum(self.level_nbytes(level) for level in range(levels))

    # ------------------------------------------------------------------ methods

    def level_nbytes(self, level: int) -> int:
        """Bytes of one mip level, all layers, tightly packed.

        Parameters
        ----------
        level : int
            Mip level in ``[0, num_levels)``; only 0 for non-mipmapped types.

        Returns
        -------
        int
            ``width * height * depth * num_layers * texel_size`` of that level.

        Raises
        ------
        InvalidDescriptorError
            If ``level`` is out of range.
        ImageArrayTypeError
            If ``level`` is not an int.

        Examples
        --------
        >>> desc = ImageDescriptor(100, 50, channel_order="rgba", channel_type="unorm_int8",
        ...                        type="mipmap", num_levels=3)
        >>> [desc.level_nbytes(level) for level in range(3)]
        [20000, 5000, 1200]
        """
        level_desc = self.mip_level_desc(level)
        width, height, depth = level_desc.extent
        return width * height * depth * level_desc.num_layers * level_desc.texel_size

    def mip_level_desc(self, level: int) -> ImageDescriptor:
        """Descriptor of one mip level (the spec's ``get_mip_level_desc``).

        Each used extent (texture order: x = width, y = height, z = depth) becomes
        ``max(1, extent >> level)``; unused extents stay 0. The type loses its mipmap
        part (``MIPMAP`` -> ``STANDARD``, ``MIPMAP_ARRAY`` -> ``ARRAY``,
        ``MIPMAP_CUBEMAP`` -> ``CUBEMAP``) and ``num_levels`` becomes 1; the channel
        order, channel type and ``array_size`` are kept.

        Parameters
        ----------
        level : int
            Mip level in ``[0, num_levels)``.

        Returns
        -------
        ImageDescriptor
            The level's descriptor; for a non-mipmapped type, ``self`` (level 0 only).

        Raises
        ------
        InvalidDescriptorError
            If ``level`` is outside ``[0, num_levels)`` (or is not 0 for a
            non-mipmapped type).
        ImageArrayTypeError
            If ``level`` is not an int.

        Examples
        --------
        >>> desc = ImageDescriptor(7, 5, type="mipmap", num_levels=3)
        >>> print(desc.mip_level_desc(1))
        ImageDescriptor(2D 3x2 r fp32 standard)
        >>> print(desc.mip_level_desc(2))
        ImageDescriptor(2D 1x1 r fp32 standard)
        """
        level = coerce_int("level", level, None)
        if not self.type.is_mipmapped:
            if level != 0:
                raise InvalidDescriptorError(
                    f"level={level} is out of range: {self.type} has only level 0"
                )
            return self
        if not 0 <= level < self.num_levels:
            raise InvalidDescriptorError(
                f"level={level} is out of range: allowed 0 to {self.num_levels - 1} "
                f"(num_levels={self.num_levels})"
            )
        return dataclasses.replace(
            self,
            width=max(1, self.width >> level) if self.width else 0,
            height=max(1, self.height >> level) if self.height else 0,
            depth=max(1, self.depth >> level) if self.depth else 0,
            type=_LEVEL_TYPE[self.type],
            num_levels=1,
        )

    def verify(self) -> ImageDescriptor:
        """Check the descriptor against the spec's rules (the spec's ``verify()``).

        The rules (extents in texture order, x = width, y = height, z = depth):

        - ``width >= 1``; a 3D image (``depth > 0``) needs ``height >= 1``;
          ``num_levels >= 1`` and ``array_size >= 1``.
        - 3-channel orders (``RGB``) are refused: CUDA arrays have no 3-channel format.
        - ``STANDARD``: ``num_levels == 1`` and ``array_size == 1``.
        - ``MIPMAP``: ``1 < num_levels <= max_levels`` and ``array_size == 1``.
        - ``ARRAY``: ``array_size > 1``, ``num_levels == 1``, 1D or 2D.
        - ``MIPMAP_ARRAY``: ``1 < num_levels <= max_levels``, ``array_size > 1``, 1D or 2D.
        - ``CUBEMAP``: square 2D faces (``width == height``, ``depth == 0``),
          ``array_size == 6``, ``num_levels == 1``.
        - ``MIPMAP_CUBEMAP``: as ``CUBEMAP`` but ``1 < num_levels <= max_levels``.
        - ``CUBEMAP_ARRAY``: square 2D faces, ``array_size`` (>= 1) cubemaps,
          ``num_levels == 1``.

        Returns
        -------
        ImageDescriptor
            ``self``, so that calls chain: ``ImageDescriptor(...).verify()``.

        Raises
        ------
        InvalidDescriptorError
            At the first broken rule, with a message that quotes the offending value
            and what is allowed.

        Examples
        --------
        >>> ImageDescriptor(64, 64, type="mipmap", num_levels=7).verify().num_levels
        7
        >>> ImageDescriptor(64, 64, type="mipmap", num_levels=8).verify()  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        imagearray._errors.InvalidDescriptorError: ...num_levels=8 exceeds the full mip chain...
        """
        problem = _rules.find_problem(self)
        if problem is not None:
            raise InvalidDescriptorError(f"invalid {self}: {problem}")
        return self

    def __str__(self) -> str:
        text = (
            f"{self.dimensions}D {_rules.size_text(self)} {self.channel_order.value} "
            f"{self.channel_type.value} {self.type.value}"
        )
        if self.num_levels != 1:
            text += f" num_levels={self.num_levels}"
        if self.array_size != 1:
            text += f" array_size={self.array_size}"
        return f"ImageDescriptor({text})"
