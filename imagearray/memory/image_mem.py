"""Image memory: ``ImageMem`` (RAII), ``alloc_image_mem`` / ``free_image_mem``, the
info getters and mip-level handles.

The CUDA resources themselves are owned by the Cython classes of
``imagearray._memory`` (``ArrayHandle``, ``MipmappedArrayHandle``), which are this
module's ``image_mem_handle``: they free their memory exactly once, either through
``free_image_mem`` / ``ImageMem.free()`` or when garbage-collected. Extents are in
texture order (x = width, y = height, z = depth).
"""

from __future__ import annotations

import threading
from typing import Any

from imagearray import _memory as _cymem  # the Cython owners
from imagearray._coerce import coerce_enum
from imagearray._cuda import (
    CUDA_ARRAY3D_CUBEMAP,
    CUDA_ARRAY3D_LAYERED,
    CUDA_ARRAY3D_TEXTURE_GATHER,
    cuda_format,
    format_channel_type,
)
from imagearray._descriptor import ImageDescriptor
from imagearray._device import get_device, on_device
from imagearray._enums import ChannelOrder, ChannelType, ImageType
from imagearray._errors import (
    ImageArrayTypeError,
    ImageArrayValueError,
    ReleasedResourceError,
)
from imagearray.memory.limits import check_device_support, cuda_geometry

__all__ = [
    "ImageMem",
    "alloc_image_mem",
    "free_image_mem",
    "get_image_range",
    "get_image_channel_type",
    "get_image_num_channels",
    "get_mip_level_mem_handle",
    "is_gatherable",
    "is_image_mem_handle",
    "as_mem_handle",
]

_HANDLE_TYPES = (_cymem.ArrayHandle, _cymem.MipmappedArrayHandle)


def alloc_image_mem(desc: ImageDescriptor, device: Any = None, *, gather: bool = False):
    """Allocate image memory for ``desc`` on ``device`` (default: CuPy's current one).

    Returns the ``image_mem_handle``: an ``ArrayHandle`` (CUDA array) or, for
    mipmapped types, a ``MipmappedArrayHandle``. It frees itself when collected; call
    :func:`free_image_mem` to free it earlier.

    ``gather=True`` (an imagearray extension, not in the spec) allocates the CUDA
    array with ``CUDA_ARRAY3D_TEXTURE_GATHER``, which texture gather
    (``ImageArray.gather``, ``ia::gather_image``) needs: for 2D standard images
    only, within ``device_info("max_image_2d_gather")``, which is smaller than
    ``max_image_2d``. That limit is why it is not the default.

    Raises
    ------
    InvalidDescriptorError
        ``desc`` breaks a rule of the spec (see ``ImageDescriptor.verify``).
    ImageArrayValueError
        The device does not support the image type or its size, or ``gather=True``
        for an image that is not 2D standard.
    CUDAError
        The driver refused the allocation (``CUDAOutOfMemoryError`` when out of memory).

    Examples
    --------
    >>> desc = ia.ImageDescriptor(64, 64, channel_order="rgba", channel_type="unorm_int8")
    >>> h = ia.alloc_image_mem(desc)
    >>> ia.free_image_mem(h)
    """
    if not isinstance(desc, ImageDescriptor):
        raise ImageArrayTypeError(f"desc must be an ImageDescriptor, not {type(desc).__name__}")
    if not isinstance(gather, bool):
        raise ImageArrayTypeError(f"gather must be a bool, not {gather!r}")
    desc.verify()
    w, h, d, flags = cuda_geometry(desc, gather)  # refuses gather for other types first
    dev = get_device(device)
    check_device_support(desc, dev, gather)
    fmt = cuda_format(desc.channel_type)
    with on_device(dev):
        if desc.type.is_mipmapped:
            return _cymem.alloc_mipmapped_array(
                dev, w, h, d, fmt, desc.num_channels, flags, desc.num_levels, desc
            )
        return _cymem.alloc_array(dev, w, h, d, fmt, desc.num_channels, flags, desc)


def is_gatherable(handle: Any) -> bool:
    """Whether ``handle`` (an image_mem_handle) is a CUDA array imagearray allocated
    with the gather flag (``alloc_image_mem(..., gather=True)``)."""
    return bool(getattr(handle, "flags", 0) & CUDA_ARRAY3D_TEXTURE_GATHER)


def is_image_mem_handle(obj: Any) -> bool:
    """Whether ``obj`` is an image_mem_handle (a CUDA array or mipmapped array owner)."""
    return isinstance(obj, _HANDLE_TYPES)


def as_mem_handle(obj: Any):
    """The image_mem_handle of ``obj`` (an ImageMem or a handle)."""
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

    Examples
    --------
    >>> import imagearray as ia
    >>> desc = ia.ImageDescriptor(64, 64, channel_order="rgba", channel_type="unorm_int8")
    >>> mem = ia.alloc_image_mem(desc)
    >>> ia.free_image_mem(mem)
    >>> mem.alive
    False
    """
    h = as_mem_handle(handle)
    if image_type is not None:
        it = coerce_enum(ImageType, "image_type", image_type)
        if it.is_mipmapped != isinstance(h, _cymem.MipmappedArrayHandle):
            kind = "mipmapped" if it.is_mipmapped else "non-mipmapped"
            raise ImageArrayValueError(f"image_type {it.value} ({kind}) does not match {h!r}")
    with on_device(h.device):
        h.free()  # refuses while image handles made from it are alive


def _level0(h):
    return h.get_level(0) if isinstance(h, _cymem.MipmappedArrayHandle) else h


def get_image_range(handle: Any) -> tuple[int, int, int]:
    """``(width, height, depth)`` of image memory, with 0 for the dimensions it does
    not have (spec: "zero values for the dimensions unused by the underlying image
    memory object").

    Layers and cubemap faces are no dimension: a 2D image array or a cubemap of
    ``w``-texel faces is ``(w, h, 0)`` / ``(w, w, 0)``, as its descriptor (and
    :meth:`ImageMem.get_range`) says; the driver, which counts layers as depth, is
    read only for memory imagearray did not allocate (mapped external memory).

    Examples
    --------
    >>> import imagearray as ia
    >>> desc = ia.ImageDescriptor(64, 32, channel_order="r", channel_type="fp32")
    >>> with ia.ImageMem(desc) as mem:
    ...     ia.get_image_range(mem)
    (64, 32, 0)
    """
    h = _level0(as_mem_handle(handle))
    if h.desc is not None:
        return (h.desc.width, h.desc.height, h.desc.depth)
    w, ht, d, _fmt, _ch, flags = h.query_descriptor()
    if flags & (CUDA_ARRAY3D_LAYERED | CUDA_ARRAY3D_CUBEMAP):
        d = 0  # the layer count, not a dimension
    return (w, ht, d)


def get_image_channel_type(handle: Any) -> ChannelType:
    """The channel type of image memory. For memory imagearray allocated this is the
    descriptor's (so ``UNORM_INT8`` stays normalized); otherwise it is read from the
    driver's array format, which cannot tell normalized types from integer ones.

    Examples
    --------
    >>> import imagearray as ia
    >>> desc = ia.ImageDescriptor(64, 64, channel_order="rgba", channel_type="unorm_int8")
    >>> with ia.ImageMem(desc) as mem:
    ...     ia.get_image_channel_type(mem)
    <ChannelType.UNORM_INT8: 'unorm_int8'>
    """
    h = as_mem_handle(handle)
    if h.desc is not None:
        return h.desc.channel_type
    return format_channel_type(_level0(h).query_descriptor()[3])


def get_image_num_channels(handle: Any) -> int:
    """Channels per texel, as the driver reports them.

    Examples
    --------
    >>> import imagearray as ia
    >>> desc = ia.ImageDescriptor(64, 64, channel_order="rg", channel_type="fp16")
    >>> with ia.ImageMem(desc) as mem:
    ...     ia.get_image_num_channels(mem)
    2
    """
    return int(_level0(as_mem_handle(handle)).query_descriptor()[4])


def get_mip_level_mem_handle(handle: Any, level: int):
    """The ``image_mem_handle`` of one mip level; it keeps the mipmap alive.

    Examples
    --------
    >>> import imagearray as ia
    >>> desc = ia.ImageDescriptor(64, 64, channel_order="r", channel_type="fp32",
    ...                           type="mipmap", num_levels=3)
    >>> with ia.ImageMem(desc) as mem:
    ...     ia.get_image_range(ia.get_mip_level_mem_handle(mem, 2))
    (16, 16, 0)
    """
    h = as_mem_handle(handle)
    if not isinstance(h, _cymem.MipmappedArrayHandle):
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
    gather : bool, optional
        Allocate for texture gather (2D standard images only; see
        :func:`alloc_image_mem`). :attr:`gatherable` says whether it was.

    Examples
    --------
    >>> ia.ImageMem().alive
    False
    >>> desc = ia.ImageDescriptor(256, 256, channel_order="r", channel_type="fp32")
    >>> with ia.ImageMem(desc) as mem:
    ...     mem.get_range()
    (256, 256, 0)
    """

    def __init__(
        self, desc: ImageDescriptor | None = None, device: Any = None, *, gather: bool = False
    ) -> None:
        if desc is None:
            if device is not None or gather:
                raise ImageArrayValueError(
                    f"{'device=' if device is not None else 'gather='} without desc=: "
                    "nothing to allocate"
                )
            self._handle = _UNINITIALIZED
            self._desc = ImageDescriptor()
            self._cache = None
            return
        self._handle = alloc_image_mem(desc, device, gather=gather)
        self._desc = desc
        # A slot for the layers above (the sampling engines' per-memory cache,
        # imagearray.sampling.cache); ImageMem itself never reads it.
        self._cache: Any = None

    @classmethod
    def _from_handle(cls, handle) -> ImageMem:
        self = cls.__new__(cls)
        self._handle = handle
        self._desc = handle.desc
        self._cache = None
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
    def device(self):
        """The device holding the memory, as a ``cupy.cuda.Device`` (as
        ``cupy.ndarray.device``); :attr:`device_id` is its ordinal. Raises
        :class:`ReleasedResourceError` for a default-constructed ImageMem."""
        import cupy

        return cupy.cuda.Device(self._handle.device)

    @property
    def device_id(self) -> int:
        """The ordinal of :attr:`device`."""
        return int(self._handle.device)

    def get_device(self):
        """:attr:`device` (the spec's getter): a ``cupy.cuda.Device``."""
        return self.device

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
    def gatherable(self) -> bool:
        """Whether the memory was allocated for texture gather (``gather=True``)."""
        return is_gatherable(self._handle)

    @property
    def alive(self) -> bool:
        return bool(self._handle.alive)

    @property
    def lock(self):
        """The memory handle's lock: held while the memory is freed and while a handle
        is made from it (``with mem.lock:`` makes both wait)."""
        return self._handle.lock

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
        return f"ImageMem({self._desc}, device={self.device_id}, {state})"


class _Uninitialized:
    """The handle of a default-constructed ImageMem: no memory, never alive.

    It stands in for the Cython owners (``ArrayHandle``...), whose ``device`` is the
    ordinal ImageMem reads: asking for it raises, whether through ``ImageMem.device``,
    ``device_id`` or ``get_device()``."""

    alive = False
    desc = None
    lock = threading.RLock()  # nothing to guard; there for ImageMem.lock

    @property
    def device(self) -> int:
        raise ReleasedResourceError("this ImageMem was default-constructed: it has no memory")


_UNINITIALIZED = _Uninitialized()
