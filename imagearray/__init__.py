"""imagearray: CuPy-style GPU arrays with image types.

The bindless-image model (image memory, sampled and unsampled image handles,
samplers, sub-region copies, interop) for CuPy users. See ``DESIGN.md``.
"""

from __future__ import annotations

from imagearray._device import Aspect, device_has, device_info, get_device, get_stream, is_available
from imagearray._descriptor import ImageDescriptor
from imagearray._enums import ChannelOrder, ChannelType, ImageType
from imagearray._errors import (
    CopyError,
    CUDAError,
    CUDAOutOfMemoryError,
    CUDAUnavailableError,
    DeviceMismatchError,
    ImageArrayError,
    ImageArrayTypeError,
    ImageArrayValueError,
    InvalidDescriptorError,
    ReleasedResourceError,
)

__version__ = "0.1.0"

__all__ = [
    "Aspect",
    "ChannelOrder",
    "ChannelType",
    "CopyError",
    "CUDAError",
    "CUDAOutOfMemoryError",
    "CUDAUnavailableError",
    "DeviceMismatchError",
    "ImageArrayError",
    "ImageArrayTypeError",
    "ImageArrayValueError",
    "ImageDescriptor",
    "ImageType",
    "InvalidDescriptorError",
    "ReleasedResourceError",
    "device_has",
    "device_info",
    "get_device",
    "get_stream",
    "is_available",
]
