"""Image memory (spec: "Image memory"): ``ImageMem`` and the image_mem_handles of the
Cython owners, allocation limits, pitched USM allocations, linear memory as CUDA
sees it, and the level/layer views the layers above work on."""

from imagearray.memory.image_mem import (
    ImageMem,
    alloc_image_mem,
    as_mem_handle,
    free_image_mem,
    get_image_channel_type,
    get_image_num_channels,
    get_image_range,
    get_mip_level_mem_handle,
    is_gatherable,
    is_image_mem_handle,
)
from imagearray.memory.limits import (
    check_device_support,
    check_gather,
    cuda_geometry,
    image_box,
    limit_problem,
)
from imagearray.memory.linear import (
    LinearImageMem,
    LinearMemory,
    describe_linear,
    infer_usm_desc,
    linear_layout,
)
from imagearray.memory.pitched import pitched_alloc_device
from imagearray.memory.view import ImageView, axis_map, result_shape

__all__ = [
    "ImageMem",
    "ImageView",
    "LinearImageMem",
    "LinearMemory",
    "alloc_image_mem",
    "as_mem_handle",
    "axis_map",
    "check_device_support",
    "check_gather",
    "cuda_geometry",
    "describe_linear",
    "free_image_mem",
    "get_image_channel_type",
    "get_image_num_channels",
    "get_image_range",
    "get_mip_level_mem_handle",
    "image_box",
    "infer_usm_desc",
    "is_gatherable",
    "is_image_mem_handle",
    "limit_problem",
    "linear_layout",
    "pitched_alloc_device",
    "result_shape",
]
