"""Copies (spec: "Copying image memory" and ``sycl_ext_oneapi_copy_optimize``): the
planner (``plan``, plain Python: the spec's ten failure scenarios), endpoints, the
executor and its fast path (``execute``), and host memory prepared for fast copies
(``hostmem``)."""

from imagearray.copies.endpoints import endpoint, image_endpoint
from imagearray.copies.executor import copy, execute
from imagearray.copies.hostmem import (
    PreparedRange,
    is_prepared,
    note_copy,
    prepare_for_device_copy,
    prepared_for_device_copy,
    prepared_host_ranges,
    release_from_device_copy,
)
from imagearray.copies.plan import DEVICE, HOST, IMAGE, CopyPlan, Endpoint, plan_copy, plan_region

__all__ = [
    "DEVICE",
    "HOST",
    "IMAGE",
    "CopyPlan",
    "Endpoint",
    "PreparedRange",
    "copy",
    "endpoint",
    "execute",
    "image_endpoint",
    "is_prepared",
    "note_copy",
    "plan_copy",
    "plan_region",
    "prepare_for_device_copy",
    "prepared_for_device_copy",
    "prepared_host_ranges",
    "release_from_device_copy",
]
