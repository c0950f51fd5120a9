"""imagearray: CuPy-style GPU arrays with image types.

The bindless-image model (image memory, sampled and unsampled image handles,
samplers, sub-region copies, interop) for CuPy users. ``docs/design.md`` says
where each part lives; this module only re-exports the public names.
"""

from __future__ import annotations

# First: a package without its compiled extensions says so, instead of failing below
# with Python's "partially initialized module (most likely due to a circular import)".
from imagearray._include import require_extensions as _require_extensions

_require_extensions()

# the drop-ins, as a subpackage (ia.ndimage.zoom, ...)
from imagearray import ndimage as ndimage
from imagearray._descriptor import ImageDescriptor
from imagearray._device import Aspect, device_has, device_info, get_device, get_stream, is_available
from imagearray._enums import ChannelOrder, ChannelType, ImageType
from imagearray._errors import (
    CopyError,
    CUDAError,
    CUDAOutOfMemoryError,
    CUDAUnavailableError,
    DeviceMismatchError,
    FallbackWarning,
    HeadersNotFoundError,
    HostMemoryAlreadyReleasedError,
    HostMemoryNotPreparedError,
    HostMemoryOverlapError,
    ImageArrayError,
    ImageArrayIndexError,
    ImageArrayTypeError,
    ImageArrayValueError,
    InvalidDescriptorError,
    PreparedMemoryLeakWarning,
    ReleasedResourceError,
    SamplingWarning,
)
from imagearray._include import get_include, header_hash, kernel_preamble
from imagearray._sampler import (
    AddressingMode,
    CoordinateNormalizationMode,
    CubemapFilteringMode,
    FilteringMode,
    Sampler,
)
from imagearray.array import (
    ImageArray,
    asimage,
    empty,
    empty_like,
    full,
    full_like,
    ones,
    ones_like,
    zeros,
    zeros_like,
)
from imagearray.copies import (
    copy,
    prepare_for_device_copy,
    prepared_for_device_copy,
    prepared_host_ranges,
    release_from_device_copy,
)
from imagearray.handles import (
    SampledImageHandle,
    UnsampledImageHandle,
    create_image,
    destroy_image_handle,
)
from imagearray.interop import (
    ExportableMemory,
    ExternalMemDescriptor,
    ExternalMemHandleType,
    ExternalMemory,
    ExternalSemaphore,
    ExternalSemaphoreDescriptor,
    ExternalSemaphoreHandleType,
    ResourceFD,
    ResourceWin32Handle,
    ResourceWin32Name,
    alloc_exportable_memory,
    destroy_external_semaphore,
    export_memory_handle,
    exportable_memory_granularity,
    exportable_memory_supported,
    free_exportable_memory,
    import_external_memory,
    import_external_semaphore,
    map_external_image_memory,
    map_external_linear_memory,
    release_external_memory,
    signal_external_semaphore,
    wait_external_semaphore,
)
from imagearray.memory import (
    ImageMem,
    alloc_image_mem,
    free_image_mem,
    get_image_channel_type,
    get_image_num_channels,
    get_image_range,
    get_mip_level_mem_handle,
    pitched_alloc_device,
)

__version__ = "0.1.0"

__all__ = [
    "ExternalMemDescriptor",
    "ExternalMemHandleType",
    "ExternalMemory",
    "ExternalSemaphore",
    "ExternalSemaphoreDescriptor",
    "ExternalSemaphoreHandleType",
    "ResourceFD",
    "ResourceWin32Handle",
    "ResourceWin32Name",
    "destroy_external_semaphore",
    "import_external_memory",
    "import_external_semaphore",
    "map_external_image_memory",
    "map_external_linear_memory",
    "release_external_memory",
    "signal_external_semaphore",
    "wait_external_semaphore",
    "ExportableMemory",
    "alloc_exportable_memory",
    "export_memory_handle",
    "exportable_memory_granularity",
    "exportable_memory_supported",
    "free_exportable_memory",
    "HostMemoryAlreadyReleasedError",
    "HostMemoryNotPreparedError",
    "HostMemoryOverlapError",
    "PreparedMemoryLeakWarning",
    "SamplingWarning",
    "FallbackWarning",
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
    "ImageArrayIndexError",
    "HeadersNotFoundError",
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
    "empty_like",
    "free_image_mem",
    "full",
    "full_like",
    "get_image_channel_type",
    "get_image_num_channels",
    "get_image_range",
    "get_mip_level_mem_handle",
    "is_available",
    "ones",
    "ones_like",
    "pitched_alloc_device",
    "zeros",
    "zeros_like",
]
