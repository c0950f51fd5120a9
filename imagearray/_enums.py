"""Enumerations of the bindless-images specification (plain Python, no CUDA)."""

from __future__ import annotations

import enum

import numpy

__all__ = ["ChannelOrder", "ChannelType", "ImageMemoryHandleType", "ImageType"]


class ChannelOrder(enum.Enum):
    """``image_channel_order`` of the spec (the value is the spec's name).

    Examples
    --------
    >>> import imagearray as ia
    >>> ia.ChannelOrder("rgba").num_channels
    4
    >>> ia.ChannelOrder.RX.num_channels  # as DPC++ counts: the x is padding
    1
    """

    A = "a"
    R = "r"
    RX = "rx"
    RG = "rg"
    RGX = "rgx"
    RA = "ra"
    RGB = "rgb"
    RGBX = "rgbx"
    RGBA = "rgba"
    ARGB = "argb"
    BGRA = "bgra"
    INTENSITY = "intensity"
    LUMINANCE = "luminance"
    ABGR = "abgr"

    @property
    def num_channels(self) -> int:
        """Channels stored per texel (as DPC++ counts them)."""
        return _ORDER_CHANNELS[self]


_ORDER_CHANNELS = {
    ChannelOrder.A: 1,
    ChannelOrder.R: 1,
    ChannelOrder.RX: 1,
    ChannelOrder.INTENSITY: 1,
    ChannelOrder.LUMINANCE: 1,
    ChannelOrder.RG: 2,
    ChannelOrder.RGX: 2,
    ChannelOrder.RA: 2,
    ChannelOrder.RGB: 3,
    ChannelOrder.RGBX: 4,
    ChannelOrder.RGBA: 4,
    ChannelOrder.ARGB: 4,
    ChannelOrder.BGRA: 4,
    ChannelOrder.ABGR: 4,
}


class ChannelType(enum.Enum):
    """``image_channel_type`` of the spec: the storage type of one channel.

    Examples
    --------
    >>> import imagearray as ia
    >>> t = ia.ChannelType("unorm_int8")
    >>> t.dtype_name, t.itemsize, t.is_normalized, t.reads_as_float
    ('uint8', 1, True, True)
    >>> ia.ChannelType.UNSIGNED_INT8.reads_as_float  # plain integers: no filtering
    False
    """

    SNORM_INT8 = "snorm_int8"
    SNORM_INT16 = "snorm_int16"
    UNORM_INT8 = "unorm_int8"
    UNORM_INT16 = "unorm_int16"
    SIGNED_INT8 = "signed_int8"
    SIGNED_INT16 = "signed_int16"
    SIGNED_INT32 = "signed_int32"
    UNSIGNED_INT8 = "unsigned_int8"
    UNSIGNED_INT16 = "unsigned_int16"
    UNSIGNED_INT32 = "unsigned_int32"
    FP16 = "fp16"
    FP32 = "fp32"

    @property
    def dtype_name(self) -> str:
        """NumPy name of the storage type of one channel."""
        return _TYPE_DTYPE[self]

    @property
    def itemsize(self) -> int:
        """Bytes per channel."""
        return _TYPE_SIZE[self]

    @property
    def is_normalized(self) -> bool:
        """True for the snorm/unorm types, which read as float in [-1, 1] / [0, 1]."""
        return self.name.startswith(("SNORM", "UNORM"))

    @property
    def reads_as_float(self) -> bool:
        """True when the texture unit returns this type as float, so it can filter it:
        the normalized and floating types. Other integer types are read as integers
        (``CU_TRSF_READ_AS_INTEGER``), which CUDA cannot filter."""
        return self.is_normalized or self in (ChannelType.FP16, ChannelType.FP32)

    @property
    def filter_twin(self) -> ChannelType | None:
        """The normalized type an 8/16-bit integer type is linearly filtered through
        (``unsigned_int8`` -> ``unorm_int8``, ``signed_int16`` -> ``snorm_int16``), None
        for the others. The driver refuses a linear filter on an integer read
        (``cudaErrorInvalidFilterSetting``); like DPC++ on CUDA, imagearray makes such
        a texture with a normalized read, filters, and scales the result back to the
        image's units. 32-bit integers have no normalized format: they are not
        filtered."""
        return _FILTER_TWIN.get(self)

    @property
    def filter_scale(self) -> int:
        """What one unit of the normalized read of :attr:`filter_twin` is in the
        image's units: 255, 127, 65535 or 32767 (0 without a twin)."""
        twin = _FILTER_TWIN.get(self)
        if twin is None:
            return 0
        bits = 8 * _TYPE_SIZE[self]
        return 2**bits - 1 if twin.name.startswith("UNORM") else 2 ** (bits - 1) - 1

    @property
    def filter_ctype(self) -> str | None:
        """The C++ channel type of a kernel's ``ia::filtered_integer_image_handle<T>``
        for a linearly filtered image of this 8/16-bit integer type (``"short"`` for
        ``signed_int16``), None for the types without a :attr:`filter_twin`.

        Examples
        --------
        >>> ChannelType.UNSIGNED_INT16.filter_ctype
        'unsigned short'
        >>> ChannelType.FP32.filter_ctype is None
        True
        """
        return _FILTER_CTYPE.get(self)


_TYPE_DTYPE = {
    ChannelType.SNORM_INT8: "int8",
    ChannelType.SNORM_INT16: "int16",
    ChannelType.UNORM_INT8: "uint8",
    ChannelType.UNORM_INT16: "uint16",
    ChannelType.SIGNED_INT8: "int8",
    ChannelType.SIGNED_INT16: "int16",
    ChannelType.SIGNED_INT32: "int32",
    ChannelType.UNSIGNED_INT8: "uint8",
    ChannelType.UNSIGNED_INT16: "uint16",
    ChannelType.UNSIGNED_INT32: "uint32",
    ChannelType.FP16: "float16",
    ChannelType.FP32: "float32",
}
_TYPE_SIZE = {t: numpy.dtype(n).itemsize for t, n in _TYPE_DTYPE.items()}


class ImageType(enum.Enum):
    """``image_type`` of the spec, plus the combined types CUDA supports and the
    spec anticipates ("Additional future image_types may include combined image
    types like mipmapped cubemap").

    Examples
    --------
    >>> import imagearray as ia
    >>> t = ia.ImageType("mipmap_array")
    >>> t.is_mipmapped, t.is_layered, t.is_cubemap
    (True, True, False)
    """

    STANDARD = "standard"
    MIPMAP = "mipmap"
    ARRAY = "array"
    CUBEMAP = "cubemap"
    #: mipmapped image array (CUDA mipmapped layered array)
    MIPMAP_ARRAY = "mipmap_array"
    #: array of cubemaps (CUDA layered cubemap), 6 * N layers
    CUBEMAP_ARRAY = "cubemap_array"
    #: mipmapped cubemap (CUDA mipmapped cubemap array)
    MIPMAP_CUBEMAP = "mipmap_cubemap"

    @property
    def is_mipmapped(self) -> bool:
        return self in (ImageType.MIPMAP, ImageType.MIPMAP_ARRAY, ImageType.MIPMAP_CUBEMAP)

    @property
    def is_layered(self) -> bool:
        return self in (ImageType.ARRAY, ImageType.MIPMAP_ARRAY, ImageType.CUBEMAP_ARRAY)

    @property
    def is_cubemap(self) -> bool:
        return self in (ImageType.CUBEMAP, ImageType.CUBEMAP_ARRAY, ImageType.MIPMAP_CUBEMAP)


class ImageMemoryHandleType(enum.Enum):
    """``image_memory_handle_type`` of the spec: what memory backs an image.

    ``OPAQUE_HANDLE``: image memory (``alloc_image_mem``, ``ImageMem``; a CUDA array or
    mipmapped array). ``USM_POINTER``: linear device memory (a CuPy array; 1D, or 2D
    pitched from ``pitched_alloc_device``). See :func:`get_image_memory_support` and
    :func:`is_image_handle_supported`.

    Examples
    --------
    >>> import imagearray as ia
    >>> ia.ImageMemoryHandleType("usm_pointer")
    <ImageMemoryHandleType.USM_POINTER: 'usm_pointer'>
    """

    USM_POINTER = "usm_pointer"
    OPAQUE_HANDLE = "opaque_handle"


_FILTER_TWIN = {
    ChannelType.SIGNED_INT8: ChannelType.SNORM_INT8,
    ChannelType.SIGNED_INT16: ChannelType.SNORM_INT16,
    ChannelType.UNSIGNED_INT8: ChannelType.UNORM_INT8,
    ChannelType.UNSIGNED_INT16: ChannelType.UNORM_INT16,
}
# The C++ names the device header's filtered_integer_image_handle<T> takes.
_FILTER_CTYPE = {
    ChannelType.SIGNED_INT8: "signed char",
    ChannelType.SIGNED_INT16: "short",
    ChannelType.UNSIGNED_INT8: "unsigned char",
    ChannelType.UNSIGNED_INT16: "unsigned short",
}
