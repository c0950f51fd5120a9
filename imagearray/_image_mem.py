"""Image memory: ``ImageMem`` (RAII), ``alloc_image_mem`` / ``free_image_mem``, the
info getters, mip-level handles and pitched USM allocations.

The CUDA resources themselves are owned by the Cython classes of
``imagearray._memory`` (``ArrayHandle``, ``MipmappedArrayHandle``), which are this
module's ``image_mem_handle``: they free their memory exactly once, either through
``free_image_mem`` / ``ImageMem.free()`` or when garbage-collected. Extents are in
texture order (x = width, y = height, z = depth).
"""

from __future__ import annotations

from typing import Any

from imagearray import _memory as _cymem  # the Cython layer
from imagearray._coerce import coerce_enum
from imagearray._descriptor import ImageDescriptor
from imagearray._device import Aspect, device_has, device_info, get_device
from imagearray._enums import ChannelOrder, ChannelType, ImageType
from imagearray._errors import (
    ImageArrayTypeError,
    ImageArrayValueError,
    ReleasedResourceError,
)

__all__ = [
    "ImageMem",
    "alloc_image_mem",
    "free_image_mem",
    "get_image_range",
    "get_image_channel_type",
    "get_image_num_channels",
    "get_mip_level_mem_handle",
    "pitched_alloc_device",
    "is_image_mem_handle",
]


def _memory():
    return _cymem


def _cu():
    from cuda.bindings import driver

    return driver


_FORMAT_NAME = {
    ChannelType.SNORM_INT8: "SIGNED_INT8",
    ChannelType.SNORM_INT16: "SIGNED_INT16",
    ChannelType.UNORM_INT8: "UNSIGNED_INT8",
    ChannelType.UNORM_INT16: "UNSIGNED_INT16",
    ChannelType.SIGNED_INT8: "SIGNED_INT8",
    ChannelType.SIGNED_INT16: "SIGNED_INT16",
    ChannelType.SIGNED_INT32: "SIGNED_INT32",
    ChannelType.UNSIGNED_INT8: "UNSIGNED_INT8",
    ChannelType.UNSIGNED_INT16: "UNSIGNED_INT16",
    ChannelType.UNSIGNED_INT32: "UNSIGNED_INT32",
    ChannelType.FP16: "HALF",
    ChannelType.FP32: "FLOAT",
}


def cuda_format(channel_type: ChannelType) -> int:
    """The ``CUarray_format`` storing ``channel_type`` (normalized types are stored
    as their integer type; normalization happens when a texture reads them)."""
    return int(getattr(_cu().CUarray_format, "CU_AD_FORMAT_" + _FORMAT_NAME[channel_type]))


def _format_channel_type(fmt: int) -> ChannelType:
    name = _cu().CUarray_format(fmt).name.removeprefix("CU_AD_FORMAT_")
    for ct, n in _FORMAT_NAME.items():
        if n == name and not ct.is_normalized:
            return ct
    raise ImageArrayValueError(f"CUDA array format {name} has no image_channel_type")


def cuda_geometry(desc: ImageDescriptor) -> tuple[int, int, int, int]:
    """CUDA array extents ``(width, height, depth, flags)`` for ``desc``'s level 0:
    height/depth 0 when unused; depth counts layers for layered and cubemap types."""
    flags_enum = _cu()
    flags = int(flags_enum.CUDA_ARRAY3D_SURFACE_LDST)
    w, h, d = desc.width, desc.height, desc.depth
    t = desc.type
    if t.is_cubemap:
        flags |= int(flags_enum.CUDA_ARRAY3D_CUBEMAP)
        d = desc.num_layers
        if t is ImageType.CUBEMAP_ARRAY:
            flags |= int(flags_enum.CUDA_ARRAY3D_LAYERED)
    elif t.is_layered:
        flags |= int(flags_enum.CUDA_ARRAY3D_LAYERED)
        d = desc.num_layers
    return w, h, d, flags


def image_box(desc: ImageDescriptor) -> tuple[int, int, int]:
    """The memory box ``(x, y, z)`` in texels that copies address: z is the depth of
    a 3D image or the layer (cubemap face) index of layered and cubemap images."""
    w, h, d = desc.extent
    if desc.type.is_layered or desc.type.is_cubemap:
        d = desc.num_layers
    return (w, h, d)


# (image type, dimensions) -> the device_info limits its CUDA array must meet: the
# texture limit, and the surface limit because every array is made with
# CUDA_ARRAY3D_SURFACE_LDST (cuArray3DCreate / cuMipmappedArrayCreate: "Valid extents
# with CUDA_ARRAY3D_SURFACE_LDST set"; e.g. 1D surfaces are narrower than 1D textures).
_LIMIT_KEYS = {
    (ImageType.STANDARD, 1): ("max_image_1d", "max_surface_1d"),
    (ImageType.STANDARD, 2): ("max_image_2d", "max_surface_2d"),
    (ImageType.STANDARD, 3): ("max_image_3d", "max_surface_3d"),
    (ImageType.MIPMAP, 1): ("max_image_1d_mipmap", "max_surface_1d"),
    (ImageType.MIPMAP, 2): ("max_image_2d_mipmap", "max_surface_2d"),
    (ImageType.MIPMAP, 3): ("max_image_3d", "max_surface_3d"),
    (ImageType.ARRAY, 1): ("max_image_1d_array", "max_surface_1d_array"),
    (ImageType.ARRAY, 2): ("max_image_2d_array", "max_surface_2d_array"),
    (ImageType.MIPMAP_ARRAY, 1): ("max_image_1d_array", "max_surface_1d_array"),
    (ImageType.MIPMAP_ARRAY, 2): ("max_image_2d_array", "max_surface_2d_array"),
    (ImageType.CUBEMAP, 2): ("max_image_cubemap", "max_surface_cubemap"),
    (ImageType.MIPMAP_CUBEMAP, 2): ("max_image_cubemap", "max_surface_cubemap"),
    (ImageType.CUBEMAP_ARRAY, 2): ("max_image_cubemap_array", "max_surface_cubemap_array"),
}

_REQUIRED_ASPECTS = {
    ImageType.MIPMAP: (Aspect.MIPMAP,),
    ImageType.ARRAY: (Aspect.IMAGE_ARRAY,),
    ImageType.CUBEMAP: (Aspect.CUBEMAP,),
    ImageType.MIPMAP_ARRAY: (Aspect.MIPMAP, Aspect.IMAGE_ARRAY),
    ImageType.CUBEMAP_ARRAY: (Aspect.CUBEMAP, Aspect.IMAGE_ARRAY),
    ImageType.MIPMAP_CUBEMAP: (Aspect.MIPMAP, Aspect.CUBEMAP),
}


def limit_problem(desc: ImageDescriptor, limits: tuple[int, ...] | int) -> str | None:
    """Compare ``desc`` with a device limit as ``device_info`` reports it (plain
    Python, testable without a GPU). Returns a message or None."""
    lim = (limits,) if isinstance(limits, int) else tuple(limits)
    t = desc.type
    if t is ImageType.CUBEMAP_ARRAY:
        wanted, names = (desc.width, desc.num_layers), ("face width", "layers")
    elif t.is_cubemap:
        wanted, names = (desc.width,), ("face width",)
    elif t.is_layered:
        wanted = (
            (desc.width,) + ((desc.height,) if desc.dimensions == 2 else ()) + (desc.array_size,)
        )
        names = ("width",) + (("height",) if desc.dimensions == 2 else ()) + ("layers",)
    else:
        wanted = (desc.width, desc.height, desc.depth)[: desc.dimensions]
        names = ("width", "height", "depth")[: desc.dimensions]
    for name, value, limit in zip(names, wanted, lim):
        if value > limit:
            return f"{name} {value} exceeds this device's limit of {limit} for {desc}"
    return None


def _check_device_support(desc: ImageDescriptor, device: int) -> None:
    for aspect in _REQUIRED_ASPECTS.get(desc.type, ()):
        if not device_has(aspect, device):
            raise ImageArrayValueError(
                f"device {device} does not support {desc.type.value} images "
                f"(aspect {aspect.value} is missing)"
            )
    keys = _LIMIT_KEYS.get((desc.type, desc.dimensions))
    if keys is None:
        raise ImageArrayValueError(f"CUDA cannot allocate {desc}")
    for key in keys:
        problem = limit_problem(desc, device_info(key, device))
        if problem:
            raise ImageArrayValueError(problem)


def alloc_image_mem(desc: ImageDescriptor, device: Any = None):
    """Allocate image memory for ``desc`` on ``device`` (default: CuPy's current one).

    Returns the ``image_mem_handle``: an ``ArrayHandle`` (CUDA array) or, for
    mipmapped types, a ``MipmappedArrayHandle``. It frees itself when collected; call
    :func:`free_image_mem` to free it earlier.

    Raises
    ------
    InvalidDescriptorError
        ``desc`` breaks a rule of the spec (see ``ImageDescriptor.verify``).
    ImageArrayValueError
        The device does not support the image type or its size.
    CUDAError
        The driver refused the allocation (``CUDAOutOfMemoryError`` when out of memory).

    Examples
    --------
    >>> desc = ia.ImageDescriptor(64, 64, channel_order="rgba", channel_type="unorm_int8")
    >>> h = ia.alloc_image_mem(desc)  # doctest: +SKIP
    >>> ia.free_image_mem(h)  # doctest: +SKIP
    """
    if not isinstance(desc, ImageDescriptor):
        raise ImageArrayTypeError(f"desc must be an ImageDescriptor, not {type(desc).__name__}")
    desc.verify()
    dev = get_device(device)
    _check_device_support(desc, dev)
    w, h, d, flags = cuda_geometry(desc)
    fmt = cuda_format(desc.channel_type)
    mem = _memory()
    with on_device(dev):
        if desc.type.is_mipmapped:
            return mem.alloc_mipmapped_array(
                dev, w, h, d, fmt, desc.num_channels, flags, desc.num_levels, desc
            )
        return mem.alloc_array(dev, w, h, d, fmt, desc.num_channels, flags, desc)


_RUNTIME: Any = None  # cupy.cuda.runtime, imported on first use


def current_device() -> int:
    """CuPy's current device, or -1 where CuPy cannot tell (on_device then copes)."""
    global _RUNTIME
    rt = _RUNTIME
    if rt is None:
        import cupy

        rt = _RUNTIME = cupy.cuda.runtime
    try:
        return rt.getDevice()
    except Exception:
        return -1


def call_on_device(device: int, fn: Any, *args: Any) -> Any:
    """``fn(*args)`` under :class:`on_device` ``(device)``; called straight away when
    ``device`` is already current (the common case: no context object on hot paths)."""
    if current_device() == device:
        return fn(*args)
    with on_device(device):
        return fn(*args)


class on_device:  # noqa: N801 - used like a function, as cupy.cuda.Device is
    """CuPy's ``Device(device)`` context: the Cython layer then finds that device's
    primary context current and never switches contexts behind CuPy's back. Without
    a usable device it does nothing: the driver call inside reports that itself."""

    __slots__ = ("_device", "_cm")

    def __init__(self, device: int) -> None:
        self._device = device
        self._cm = None

    def __enter__(self) -> None:
        import cupy

        try:
            if cupy.cuda.runtime.getDevice() == self._device:
                return  # already current: nothing to switch (the common case, and cheap)
            cm = cupy.cuda.Device(self._device)
            cm.__enter__()
        except cupy.cuda.runtime.CUDARuntimeError:
            return
        self._cm = cm

    def __exit__(self, *exc) -> None:
        if self._cm is not None:
            self._cm.__exit__(*exc)
            self._cm = None


def is_image_mem_handle(obj: Any) -> bool:
    mem = _memory()
    return isinstance(obj, (mem.ArrayHandle, mem.MipmappedArrayHandle))


def _as_handle(obj: Any):
    if isinstance(obj, ImageMem):
        return obj.handle
    if is_image_mem_handle(obj):
        return obj
    raise ImageArrayTypeError(
        f"expected image memory (ImageMem or an image_mem_handle), not {type(obj).__name__}"
    )


def free_image_mem(handle: Any, image_type: ImageType | str | None = None) -> None:
    """Free image memory now (the spec's ``free_image_mem``).

    ``image_type``, when given, must match the memory (a mipmapped type for a
    mipmapped allocation). Freeing twice raises :class:`ReleasedResourceError`.
    """
    h = _as_handle(handle)
    if image_type is not None:
        it = coerce_enum(ImageType, "image_type", image_type)
        if it.is_mipmapped != isinstance(h, _memory().MipmappedArrayHandle):
            kind = "mipmapped" if it.is_mipmapped else "non-mipmapped"
            raise ImageArrayValueError(f"image_type {it.value} ({kind}) does not match {h!r}")
    with on_device(h.device):
        h.free()  # refuses while image handles made from it are alive


def _check_no_live_handles(h) -> None:
    """Refuse to free memory that image handles still read (they would dangle)."""
    from imagearray._image_handles import live_handles

    handles = []
    if isinstance(h, _memory().MipmappedArrayHandle) and h.alive:
        # Handles of a level keep its ArrayHandle alive, so the levels handed out and
        # still alive are all that can have any (no driver call needed).
        for level in h.cached_levels():
            handles += live_handles(level)
    handles += live_handles(h)
    if handles:
        raise ImageArrayValueError(
            f"{len(handles)} image handle(s) created from this memory are still alive: "
            "destroy them (handle.destroy()) before freeing the memory"
        )


def _level0(h):
    return h.get_level(0) if isinstance(h, _memory().MipmappedArrayHandle) else h


def get_image_range(handle: Any) -> tuple[int, int, int]:
    """``(width, height, depth)`` of image memory as the driver reports it, with 0 for
    unused dimensions (for layered memory the driver reports layers as depth)."""
    w, h, d, *_ = _level0(_as_handle(handle)).query_descriptor()
    return (w, h, d)


def get_image_channel_type(handle: Any) -> ChannelType:
    """The channel type of image memory. For memory imagearray allocated this is the
    descriptor's (so ``UNORM_INT8`` stays normalized); otherwise it is read from the
    driver's array format, which cannot tell normalized types from integer ones."""
    h = _as_handle(handle)
    if h.desc is not None:
        return h.desc.channel_type
    return _format_channel_type(_level0(h).query_descriptor()[3])


def get_image_num_channels(handle: Any) -> int:
    """Channels per texel, as the driver reports them."""
    return int(_level0(_as_handle(handle)).query_descriptor()[4])


def get_mip_level_mem_handle(handle: Any, level: int):
    """The ``image_mem_handle`` of one mip level; it keeps the mipmap alive."""
    h = _as_handle(handle)
    if not isinstance(h, _memory().MipmappedArrayHandle):
        raise ImageArrayValueError("get_mip_level_mem_handle needs mipmapped image memory")
    if isinstance(level, bool) or not isinstance(level, int) or level < 0:
        raise ImageArrayValueError(f"mip level must be an int >= 0, not {level!r}")
    if level >= h.num_levels:  # before the Cython call, whose unsigned int would overflow
        raise ImageArrayValueError(
            f"mip level {level} out of range: this image has {h.num_levels} levels "
            f"(0..{h.num_levels - 1})"
        )
    with on_device(h.device):
        return h.get_level(level)


class ImageMem:
    """RAII image memory (the spec's ``image_mem``).

    The memory is freed by :meth:`free`, by leaving a ``with`` block, or when the
    object (and every handle or view that depends on it) is garbage-collected.

    Parameters
    ----------
    desc : ImageDescriptor, optional
        What to allocate (verified first). Without it, the spec's default-constructed
        ``image_mem``: nothing is allocated, ``alive`` is False and whatever needs
        memory raises :class:`ReleasedResourceError`.
    device : int or cupy.cuda.Device, optional
        Default: CuPy's current device.

    Examples
    --------
    >>> ia.ImageMem().alive
    False
    >>> desc = ia.ImageDescriptor(256, 256, channel_order="r", channel_type="fp32")
    >>> with ia.ImageMem(desc) as mem:  # doctest: +SKIP
    ...     mem.get_range()
    (256, 256, 0)
    """

    def __init__(self, desc: ImageDescriptor | None = None, device: Any = None) -> None:
        if desc is None:
            if device is not None:
                raise ImageArrayValueError("device= without desc=: nothing to allocate")
            self._handle = _UNINITIALIZED
            self._desc = ImageDescriptor()
            return
        self._handle = alloc_image_mem(desc, device)
        self._desc = desc

    @classmethod
    def _from_handle(cls, handle) -> ImageMem:
        self = cls.__new__(cls)
        self._handle = handle
        self._desc = handle.desc
        return self

    # spec getters
    @property
    def handle(self):
        """The ``image_mem_handle`` (raises once freed)."""
        if not self._handle.alive:
            raise ReleasedResourceError("image memory was already freed")
        return self._handle

    def get_handle(self):
        return self.handle

    @property
    def descriptor(self) -> ImageDescriptor:
        return self._desc

    def get_descriptor(self) -> ImageDescriptor:
        return self._desc

    @property
    def device(self) -> int:
        return self._handle.device

    def get_device(self) -> int:
        return self._handle.device

    def get_range(self) -> tuple[int, int, int]:
        """``(width, height, depth)`` with 0 for unused dimensions (from the descriptor)."""
        return (self._desc.width, self._desc.height, self._desc.depth)

    def get_image_channel_type(self) -> ChannelType:
        return self._desc.channel_type

    def get_image_channel_order(self) -> ChannelOrder:
        return self._desc.channel_order

    def get_image_num_channels(self) -> int:
        return self._desc.num_channels

    def get_type(self) -> ImageType:
        return self._desc.type

    def get_mip_level_mem_handle(self, level: int):
        return get_mip_level_mem_handle(self.handle, level)

    @property
    def alive(self) -> bool:
        return bool(self._handle.alive)

    def free(self) -> None:
        """Free the memory now; a second call raises :class:`ReleasedResourceError`.
        Refused while image handles created from it are alive."""
        if not self._handle.alive:
            raise ReleasedResourceError("image memory was already freed (or never allocated)")
        with on_device(self._handle.device):
            self._handle.free()  # refuses while image handles made from it are alive

    def __enter__(self) -> ImageMem:
        return self

    def __exit__(self, *exc) -> None:
        if self._handle.alive:
            self.free()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ImageMem) and other._handle is self._handle

    def __hash__(self) -> int:
        return id(self._handle)

    def __repr__(self) -> str:
        if self._handle is _UNINITIALIZED:
            return "ImageMem(uninitialized)"
        state = "alive" if self.alive else "freed"
        return f"ImageMem({self._desc}, device={self.device}, {state})"


class _Uninitialized:
    """The handle of a default-constructed ImageMem: no memory, never alive."""

    alive = False
    desc = None

    @property
    def device(self) -> int:
        raise ReleasedResourceError("this ImageMem was default-constructed: it has no memory")


_UNINITIALIZED = _Uninitialized()


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
        if isinstance(element_size, bool) or element_size not in (1, 2, 4, 8, 16):
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
        mem = cupy.cuda.alloc(pitch * rows)
        arr = cupy.ndarray(shape, dtype=dtype, memptr=mem, strides=strides)
    return arr, pitch
