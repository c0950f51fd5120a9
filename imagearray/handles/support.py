"""Which memory can back an image, and which handles it can have (spec: "Querying
image memory support", ``get_image_memory_support`` / ``is_image_handle_supported``).

Answered from the rules that ``alloc_image_mem`` and ``create_image`` apply (one home
each: ``memory.limits.check_device_support`` for image memory, ``handles.rules.plan_handle``
for handles, with the device's limits) and the device aspects, so a query says yes
exactly where creation succeeds.
"""

from __future__ import annotations

from typing import Any

from imagearray._descriptor import ImageDescriptor
from imagearray._device import Aspect, device_has, get_device
from imagearray._enums import ImageMemoryHandleType
from imagearray._errors import ImageArrayTypeError, ImageArrayValueError
from imagearray._sampler import Sampler
from imagearray.handles.create import SampledImageHandle, UnsampledImageHandle, usm_limits
from imagearray.handles.rules import ARRAY, LINEAR, MIPMAP, PITCH2D, plan_handle
from imagearray.memory.limits import check_device_support

__all__ = ["get_image_memory_support", "is_image_handle_supported"]

_HANDLE_TYPES = (SampledImageHandle, UnsampledImageHandle)


def _check_desc(desc: Any) -> ImageDescriptor:
    if not isinstance(desc, ImageDescriptor):
        raise ImageArrayTypeError(
            f"desc must be an ImageDescriptor, not {desc!r} of type {type(desc).__name__}"
        )
    desc.verify()
    return desc


def _memory_type(value: Any) -> ImageMemoryHandleType:
    if isinstance(value, ImageMemoryHandleType):
        return value
    allowed = ", ".join(repr(m.value) for m in ImageMemoryHandleType)
    if isinstance(value, str):
        try:
            return ImageMemoryHandleType(value)
        except ValueError:
            pass
    raise ImageArrayTypeError(
        f"memory_type must be an ImageMemoryHandleType or one of {allowed}, not {value!r}"
    )


def _handle_type(value: Any) -> type:
    if isinstance(value, type) and issubclass(value, _HANDLE_TYPES):
        return SampledImageHandle if issubclass(value, SampledImageHandle) else UnsampledImageHandle
    raise ImageArrayTypeError(
        "handle_type must be ia.SampledImageHandle or ia.UnsampledImageHandle (the class), "
        f"not {value!r}"
    )


def _usm_kind(desc: ImageDescriptor) -> str:
    return LINEAR if desc.dimensions == 1 else PITCH2D


def _usm_pitch(desc: ImageDescriptor, limits: dict) -> int | None:
    """The smallest row pitch a 2D USM image of ``desc`` may have on the device."""
    if desc.dimensions != 2:
        return None
    align = max(int(limits.get("image_row_pitch_align", 1)), 1)
    row = desc.width * desc.texel_size
    return -(-row // align) * align


def _plans(desc: ImageDescriptor, kind: str, sampler: Sampler | None, limits: dict) -> bool:
    try:
        plan_handle(desc, kind, sampler, pitch=_usm_pitch(desc, limits), limits=limits)
    except ImageArrayValueError:
        return False
    return True


def _usm_supported(desc: ImageDescriptor, dev: int) -> bool:
    aspect = {1: Aspect.BINDLESS_IMAGES_1D_USM, 2: Aspect.BINDLESS_IMAGES_2D_USM}
    if desc.dimensions not in aspect or not device_has(aspect[desc.dimensions], dev):
        return False  # CUDA has no 3D texture over linear memory
    # A sampled handle is what USM can have (surfaces need CUDA arrays): the memory
    # backs an image when one can be made, with the device's linear-texture limits.
    return _plans(desc, _usm_kind(desc), Sampler(), usm_limits(dev))


def _opaque_supported(desc: ImageDescriptor, dev: int) -> bool:
    if not device_has(Aspect.BINDLESS_IMAGES, dev):
        return False
    try:
        check_device_support(desc, dev)
    except ImageArrayValueError:
        return False
    return True


def get_image_memory_support(
    desc: ImageDescriptor, device: Any = None
) -> list[ImageMemoryHandleType]:
    """The kinds of memory that can back an image of ``desc`` on ``device``.

    ``OPAQUE_HANDLE`` when image memory of ``desc`` can be allocated
    (:func:`alloc_image_mem`: the image type's aspects and the device's texture and
    surface limits); ``USM_POINTER`` when linear memory can back it: a 1D or 2D
    standard (not mipmapped, layered or cubemap) image within the device's linear
    texture limits (``max_image_1d_linear_width``, ``max_image_linear_width`` /
    ``_height`` with the smallest aligned row pitch). The list is in the spec's order
    and empty when neither can.

    Parameters
    ----------
    desc : ImageDescriptor
    device : int or cupy.cuda.Device, optional
        Default: CuPy's current device.

    Returns
    -------
    list of ImageMemoryHandleType

    Raises
    ------
    ImageArrayTypeError
        If ``desc`` is not an ImageDescriptor.

    Examples
    --------
    >>> import imagearray as ia
    >>> rgba = ia.ImageDescriptor(640, 480, channel_order="rgba")
    >>> [m.value for m in ia.get_image_memory_support(rgba)]
    ['usm_pointer', 'opaque_handle']
    >>> ia.get_image_memory_support(ia.ImageDescriptor(64, 64, 64))  # 3D: image memory only
    [<ImageMemoryHandleType.OPAQUE_HANDLE: 'opaque_handle'>]
    """
    desc = _check_desc(desc)
    dev = get_device(device)
    found = []
    if _usm_supported(desc, dev):
        found.append(ImageMemoryHandleType.USM_POINTER)
    if _opaque_supported(desc, dev):
        found.append(ImageMemoryHandleType.OPAQUE_HANDLE)
    return found


def is_image_handle_supported(
    handle_type: type,
    desc: ImageDescriptor,
    memory_type: ImageMemoryHandleType | str,
    device: Any = None,
) -> bool:
    """Whether a handle of ``handle_type`` can be created for an image of ``desc`` held
    in memory of ``memory_type`` on ``device`` (the spec's
    ``is_image_handle_supported<HandleT>``).

    Sampled handles: wherever the memory is supported (:func:`get_image_memory_support`).
    Unsampled handles (CUDA surfaces) need image memory, and a mipmap has none (spec:
    take one per level, :func:`get_mip_level_mem_handle`).

    Parameters
    ----------
    handle_type : type
        :class:`SampledImageHandle` or :class:`UnsampledImageHandle`.
    desc : ImageDescriptor
    memory_type : ImageMemoryHandleType or str
        ``"opaque_handle"`` (image memory) or ``"usm_pointer"`` (linear memory).
    device : int or cupy.cuda.Device, optional
        Default: CuPy's current device.

    Raises
    ------
    ImageArrayTypeError
        If an argument is not of the types above.

    Examples
    --------
    >>> import imagearray as ia
    >>> d = ia.ImageDescriptor(256, 256)
    >>> ia.is_image_handle_supported(ia.SampledImageHandle, d, "usm_pointer")
    True
    >>> ia.is_image_handle_supported(ia.UnsampledImageHandle, d, "usm_pointer")
    False
    """
    handle = _handle_type(handle_type)
    desc = _check_desc(desc)
    memory = _memory_type(memory_type)
    dev = get_device(device)
    if memory is ImageMemoryHandleType.USM_POINTER:
        if handle is UnsampledImageHandle or not _usm_supported(desc, dev):
            return False
        return True
    if not _opaque_supported(desc, dev):
        return False
    kind = MIPMAP if desc.type.is_mipmapped else ARRAY
    if handle is UnsampledImageHandle:
        return _plans(desc, kind, None, {})
    return _plans(desc, kind, Sampler(coordinates="normalized"), {})
