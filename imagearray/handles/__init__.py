"""Sampled and unsampled image handles (spec: "Image handles"): the rules a handle must
meet (``rules``, plain Python) and their creation over the Cython owners (``create``)."""

from imagearray.handles.create import (
    SampledImageHandle,
    UnsampledImageHandle,
    check_usm,
    create_image,
    destroy_image_handle,
    live_handles,
)
from imagearray.handles.rules import ARRAY, LINEAR, MIPMAP, PITCH2D, HandlePlan, plan_handle
from imagearray.handles.support import get_image_memory_support, is_image_handle_supported

__all__ = [
    "ARRAY",
    "LINEAR",
    "MIPMAP",
    "PITCH2D",
    "HandlePlan",
    "SampledImageHandle",
    "UnsampledImageHandle",
    "check_usm",
    "create_image",
    "destroy_image_handle",
    "get_image_memory_support",
    "is_image_handle_supported",
    "live_handles",
    "plan_handle",
]
