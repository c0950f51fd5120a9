"""Linear (pitched) memory behind an ``ImageArray``: new memory for ``memory="linear"``
and CuPy arrays wrapped in place, each checked against what CUDA samples from linear
memory (1D and 2D standard images, rows aligned to the device's pitch)."""

from __future__ import annotations

from typing import Any

from imagearray._descriptor import ImageDescriptor
from imagearray._device import get_device
from imagearray._enums import ImageType
from imagearray._errors import ImageArrayValueError
from imagearray.handles import check_usm
from imagearray.memory import LinearImageMem, linear_layout, pitched_alloc_device

__all__ = ["new_mem", "wrap_mem"]


def new_mem(desc: ImageDescriptor, device: Any, gather: bool = False) -> LinearImageMem:
    """New uninitialised linear memory of ``desc`` on ``device``."""
    import cupy

    if gather:
        raise ImageArrayValueError(
            "gather=True needs memory='array': CUDA gathers from CUDA arrays, not "
            "from linear (pitched) memory"
        )
    _check_desc(desc)
    dev = get_device(device)
    if desc.dimensions == 1:
        with cupy.cuda.Device(dev):
            arr = cupy.empty(desc.host_shape, dtype=desc.dtype)
    else:
        arr, _ = pitched_alloc_device(desc, device=dev)
    return wrap_mem(arr, desc, dev)


def wrap_mem(array: Any, desc: ImageDescriptor, device: int) -> LinearImageMem:
    """Linear image memory over the CuPy ``array`` (no copy), which holds ``desc`` in
    NumPy order; raises naming the CUDA constraint it misses."""
    _check_desc(desc)
    layout = linear_layout(array.shape, array.strides, array.itemsize)
    if layout is None or array.shape != desc.host_shape:
        raise ImageArrayValueError(
            f"an array of shape {array.shape} and strides {array.strides} is not "
            f"{'a contiguous 1D' if desc.dimensions == 1 else 'a row-contiguous 2D'} "
            "image (rows may be padded; texels and channels must be packed): "
            "asimage(a) (copy=True) copies it into a CUDA array"
        )
    pitch = layout[0] if desc.dimensions == 2 else desc.width * desc.texel_size
    try:
        check_usm(desc, array.data.ptr, pitch, device)
    except ImageArrayValueError as exc:
        raise ImageArrayValueError(
            f"this CuPy array cannot be sampled in place: {exc}. asimage(a) (copy=True) "
            "copies it into a CUDA array, ia.pitched_alloc_device makes memory that fits"
        ) from None
    return LinearImageMem(array, desc, device, pitch)


def _check_desc(desc: ImageDescriptor) -> None:
    if desc.type is not ImageType.STANDARD or desc.dimensions > 2:
        raise ImageArrayValueError(
            f"linear memory holds 1D and 2D standard images only, not {desc}: 3D, layered, "
            "cubemap and mipmapped images are CUDA arrays (memory='array')"
        )
