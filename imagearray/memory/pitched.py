"""Pitched device memory for 2D USM images (spec: ``pitched_alloc_device``)."""

from __future__ import annotations

from typing import Any

import numpy

from imagearray._descriptor import ImageDescriptor
from imagearray._device import cupy_out_of_memory, device_info, get_device
from imagearray._enums import ImageType
from imagearray._errors import ImageArrayTypeError, ImageArrayValueError

__all__ = ["pitched_alloc_device"]


def _round_up(n: int, align: int) -> int:
    return -(-n // align) * align


def pitched_alloc_device(
    desc_or_width_bytes: ImageDescriptor | int,
    height: int | None = None,
    element_size: int | None = None,
    *,
    device: Any = None,
):
    """Allocate pitched device memory for a 2D USM image (spec: ``pitched_alloc_device``).

    Two forms, as in the spec::

        arr, pitch = pitched_alloc_device(width_in_bytes, height, element_size)
        arr, pitch = pitched_alloc_device(desc)

    Returns a CuPy ndarray whose row stride is the pitch, and the pitch in bytes. The
    raw form gives a ``uint8`` array of shape ``(height, width_in_bytes)``; the
    descriptor form an array of ``desc.dtype`` shaped ``(height, width[, channels])``
    in NumPy order. The memory comes from CuPy's memory pool (owned like any CuPy
    array) and the pitch is the row size rounded up to the device's
    ``image_row_pitch_align``, so the array can back a 2D USM image as it is.

    Raises :class:`CUDAOutOfMemoryError` (a ``MemoryError``) when the device has no
    room for it.

    Examples
    --------
    >>> import imagearray as ia
    >>> arr, pitch = ia.pitched_alloc_device(640 * 4, 480, 4)  # 640 x 480 texels of 4 bytes
    >>> arr.shape, arr.dtype.name
    ((480, 2560), 'uint8')
    >>> pitch >= 2560 and pitch % ia.device_info("image_row_pitch_align") == 0
    True
    """
    import cupy

    # Every argument is checked before the device is touched.
    if isinstance(desc_or_width_bytes, ImageDescriptor):
        desc = desc_or_width_bytes.verify()
        if height is not None or element_size is not None:
            raise ImageArrayTypeError("pitched_alloc_device(desc) takes no height/element_size")
        if desc.type is not ImageType.STANDARD or desc.dimensions > 2:
            raise ImageArrayValueError(f"USM images are 1D or 2D standard images, not {desc}")
        rows, row_bytes, unit = max(desc.height, 1), desc.width * desc.texel_size, 1
    else:
        width_bytes = desc_or_width_bytes
        for name, v in (("width_in_bytes", width_bytes), ("height", height)):
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ImageArrayValueError(f"{name} must be an int > 0, not {v!r}")
        if (
            isinstance(element_size, (bool, numpy.bool_))
            or not isinstance(element_size, (int, numpy.integer))
            or element_size not in (1, 2, 4, 8, 16)
        ):
            raise ImageArrayValueError(
                f"element_size must be 1, 2, 4, 8 or 16 bytes, not {element_size!r}"
            )
        if width_bytes % element_size:
            raise ImageArrayValueError(
                f"width_in_bytes {width_bytes} is not a multiple of element_size {element_size}"
            )
        rows, row_bytes, unit = height, width_bytes, element_size
    if rows * row_bytes >= 2**63:
        raise ImageArrayValueError(
            f"{rows} rows of {row_bytes} B are larger than any device memory"
        )
    dev = get_device(device)
    align = device_info("image_row_pitch_align", dev)
    pitch = _round_up(row_bytes, max(align, unit))
    if isinstance(desc_or_width_bytes, ImageDescriptor):
        shape: tuple[int, ...] = (rows, desc.width)
        strides: tuple[int, ...] = (pitch, desc.texel_size)
        if desc.num_channels > 1:
            shape += (desc.num_channels,)
            strides += (desc.dtype.itemsize,)
        dtype = desc.dtype
    else:
        shape, strides, dtype = (rows, width_bytes), (pitch, 1), cupy.uint8
    with cupy.cuda.Device(dev):
        try:
            mem = cupy.cuda.alloc(pitch * rows)
        except MemoryError as exc:
            err = cupy_out_of_memory(
                exc, f"pitched_alloc_device: {rows} rows of pitch {pitch} B on device {dev}"
            )
            if err is None:
                raise
            raise err from exc
        arr = cupy.ndarray(shape, dtype=dtype, memptr=mem, strides=strides)
    return arr, pitch
