"""Copy endpoints: what a copy's source or destination is (host, device or image
memory), read from the object without touching CUDA where possible."""

from __future__ import annotations

from typing import Any

import numpy

from imagearray._errors import CopyError, ImageArrayTypeError, ReleasedResourceError
from imagearray.copies.plan import DEVICE, HOST, IMAGE, Endpoint
from imagearray.memory import ImageMem, ImageView, describe_linear, is_image_mem_handle

__all__ = ["endpoint", "image_endpoint"]


def image_endpoint(view: ImageView) -> Endpoint:
    """The endpoint of an image view (a level, layer or face: it starts at its origin)."""
    view._check_alive()
    h = view._handle
    return Endpoint(IMAGE, h.device, h.raw(), desc=view._vdesc, origin=view._origin, owner=view)


def endpoint(obj: Any, role: str) -> Endpoint:
    """Classify ``obj`` as host, device (USM) or image memory."""
    if isinstance(obj, ImageView):
        return image_endpoint(obj)
    if isinstance(obj, ImageMem) or is_image_mem_handle(obj):
        h = obj.handle if isinstance(obj, ImageMem) else obj
        if not h.alive:
            raise ReleasedResourceError(f"the {role} image memory was already freed")
        if not hasattr(h, "query_descriptor"):  # mipmapped array
            raise CopyError(
                f"the {role} is a whole mipmap: copy one level at a time, with "
                "get_mip_level_mem_handle(level)",
                scenario=2,
            )
        return Endpoint(IMAGE, h.device, h.raw(), desc=h.desc, owner=h)
    if hasattr(obj, "__cuda_array_interface__"):
        lin = describe_linear(obj, role)
        return Endpoint(
            DEVICE,
            lin.device,
            lin.address,
            nbytes=lin.nbytes,
            pitch=lin.pitch,
            desc=lin.desc,
            writable=lin.writable,
            owner=obj,
            shape_bytes=lin.shape_bytes,
        )
    if isinstance(obj, numpy.ndarray):
        arr = obj
    else:
        try:
            arr = numpy.frombuffer(memoryview(obj).cast("B"), dtype=numpy.uint8)
        except (TypeError, ValueError):
            raise ImageArrayTypeError(
                f"cannot copy {role} of type {type(obj).__name__}: expected a NumPy array or "
                "buffer (host), a CuPy array (device) or image memory"
            ) from None
    if not arr.flags.c_contiguous:
        raise CopyError(f"the {role} host memory must be tightly packed (C-contiguous)")
    return Endpoint(
        HOST, None, int(arr.ctypes.data), nbytes=arr.nbytes, writable=arr.flags.writeable, owner=arr
    )
