"""imagearray: CuPy-style GPU arrays with image types.

The bindless-image model (image memory, sampled and unsampled image handles,
samplers, sub-region copies, interop) for CuPy users. See ``DESIGN.md``.
"""

from __future__ import annotations

from imagearray._copies import copy
from imagearray._copy_optimize import (
    HostMemoryAlreadyReleasedError,
    HostMemoryNotPreparedError,
    HostMemoryOverlapError,
    PreparedMemoryLeakWarning,
    prepare_for_device_copy,
    prepared_for_device_copy,
    prepared_host_ranges,
    release_from_device_copy,
)
from imagearray._descriptor import ImageDescriptor
from imagearray._device import Aspect, device_has, device_info, get_device, get_stream, is_available
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
from imagearray._image_array import ImageArray, asimage, empty, zeros
from imagearray._image_handles import (
    SampledImageHandle,
    UnsampledImageHandle,
    create_image,
    destroy_image_handle,
)
from imagearray._image_mem import (
    ImageMem,
    alloc_image_mem,
    free_image_mem,
    get_image_channel_type,
    get_image_num_channels,
    get_image_range,
    get_mip_level_mem_handle,
    pitched_alloc_device,
)
from imagearray._include import get_include, header_hash, kernel_preamble
from imagearray._sampler import (
    AddressingMode,
    CoordinateNormalizationMode,
    CubemapFilteringMode,
    FilteringMode,
    Sampler,
)

__version__ = "0.1.0"

__all__ = [
    "HostMemoryAlreadyReleasedError",
    "HostMemoryNotPreparedError",
    "HostMemoryOverlapError",
    "PreparedMemoryLeakWarning",
    "prepare_for_device_copy",
    "prepared_for_device_copy",
    "prepared_host_ranges",
    "release_from_device_copy",
    "get_include",
    "header_hash",
    "kernel_preamble",
    "SampledImageHandle",
    "UnsampledImageHandle",
    "create_image",
    "destroy_image_handle",
    "AddressingMode",
    "CoordinateNormalizationMode",
    "CubemapFilteringMode",
    "FilteringMode",
    "Sampler",
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
    "ImageArray",
    "ImageMem",
    "alloc_image_mem",
    "asimage",
    "copy",
    "device_has",
    "device_info",
    "get_device",
    "get_stream",
    "empty",
    "free_image_mem",
    "get_image_channel_type",
    "get_image_num_channels",
    "get_image_range",
    "get_mip_level_mem_handle",
    "is_available",
    "pitched_alloc_device",
    "zeros",
]
