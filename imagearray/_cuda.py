"""The one table of CUDA driver constants imagearray uses (values of ``cuda.h``).

Plain numbers, so that the modules that plan (samplers, descriptors, copy and handle
plans) need no CUDA at import time; ``tests/test_cuda_constants.py`` checks each one
against ``cuda.bindings.driver``. The codes that only the Cython owners interpret
(resource kinds of ``imagearray._handles``, endpoint kinds of ``imagearray._copy``,
external handle types of ``imagearray._interop``) are exported by those modules
themselves and read from there.
"""

from __future__ import annotations

from imagearray._enums import ChannelType
from imagearray._errors import ImageArrayValueError

__all__ = ["cuda_format", "format_channel_type"]

# CUresult
CUDA_ERROR_OUT_OF_MEMORY = 2

# CUaddress_mode / CUfilter_mode
CU_TR_ADDRESS_MODE_WRAP = 0
CU_TR_ADDRESS_MODE_CLAMP = 1
CU_TR_ADDRESS_MODE_MIRROR = 2
CU_TR_ADDRESS_MODE_BORDER = 3
CU_TR_FILTER_MODE_POINT = 0
CU_TR_FILTER_MODE_LINEAR = 1

# CUDA_TEXTURE_DESC::flags
CU_TRSF_READ_AS_INTEGER = 0x01
CU_TRSF_NORMALIZED_COORDINATES = 0x02
CU_TRSF_SEAMLESS_CUBEMAP = 0x40

# CUDA_ARRAY3D_DESCRIPTOR::Flags
CUDA_ARRAY3D_LAYERED = 0x01
CUDA_ARRAY3D_SURFACE_LDST = 0x02
CUDA_ARRAY3D_CUBEMAP = 0x04
CUDA_ARRAY3D_TEXTURE_GATHER = 0x08

# CUarray_format, by name (CU_AD_FORMAT_<name>)
CU_AD_FORMAT = {
    "UNSIGNED_INT8": 0x01,
    "UNSIGNED_INT16": 0x02,
    "UNSIGNED_INT32": 0x03,
    "SIGNED_INT8": 0x08,
    "SIGNED_INT16": 0x09,
    "SIGNED_INT32": 0x0A,
    "HALF": 0x10,
    "FLOAT": 0x20,
}

#: The array format storing each channel type: normalized types are stored as their
#: integer type (normalization happens when a texture reads them).
_FORMAT_NAME = {
    ChannelType.SNORM_INT8: "SIGNED_INT8",
    ChannelType.SNORM_INT16: "SIGNED_INT16",
    ChannelType.UNORM_INT8: "UNSIGNED_INT8",
    ChannelType.UNORM_INT16: "UNSIGNED_INT16",
    ChannelType.SIGNED_INT8: "SIGNED_INT8",
    ChannelType.SIGNED_INT16: "SIGNED_INT16",
    ChannelType.SIGNED_INT32: "SIGNED_INT32",
    ChannelType.UNSIGNED_INT8: "UNSIGNED_INT8",
    ChannelType.UNSIGNED_INT16: "UNSIGNED_INT16",
    ChannelType.UNSIGNED_INT32: "UNSIGNED_INT32",
    ChannelType.FP16: "HALF",
    ChannelType.FP32: "FLOAT",
}
_FORMAT = {ct: CU_AD_FORMAT[name] for ct, name in _FORMAT_NAME.items()}
# format -> the plain (non-normalized) channel type stored in it
_PLAIN_TYPE = {CU_AD_FORMAT[_FORMAT_NAME[ct]]: ct for ct in ChannelType if not ct.is_normalized}


def cuda_format(channel_type: ChannelType) -> int:
    """The ``CUarray_format`` storing ``channel_type``."""
    return _FORMAT[channel_type]


def format_channel_type(fmt: int) -> ChannelType:
    """The channel type a ``CUarray_format`` holds; the driver cannot tell normalized
    types from integer ones, so this is the integer type."""
    ct = _PLAIN_TYPE.get(int(fmt))
    if ct is None:
        raise ImageArrayValueError(f"CUDA array format {int(fmt):#x} has no image_channel_type")
    return ct
