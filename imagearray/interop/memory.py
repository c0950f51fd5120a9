"""Imported external memory (spec: "external memory"): :class:`ExternalMemory`, its
image and linear mappings, and the fd handover every import (semaphores too) goes through.

File descriptors follow CUDA's rule, as Vulkan's do: **on a successful import CUDA owns
the fd** (the :class:`ResourceFD` is then ``consumed``), **on a failed one the caller
still owns it** (it is left open). :func:`_import_fd` hands the driver a duplicate,
because the 13.0 driver closes the descriptor it was given even when the import fails.

Every object here frees its CUDA resource exactly once (``release()``, a ``with``
block or garbage collection). Memory mapped from an import (image memory, CuPy arrays)
keeps the import alive: releasing it while mappings exist refuses new mappings at once
and destroys the CUDA object when the last mapping is freed. Validation is plain Python
(here and in :mod:`imagearray.interop.resources`), before any CUDA call; the Cython
layer (``imagearray._interop``) only runs the driver calls.
"""

from __future__ import annotations

import os
from typing import Any

import numpy

from imagearray import _interop as _cy  # the Cython owners of the imports
from imagearray import _memory
from imagearray._descriptor import ImageDescriptor
from imagearray._device import Aspect, device_has, device_info, get_device, on_device
from imagearray._errors import (
    CUDAError,
    DeviceMismatchError,
    ImageArrayTypeError,
    ImageArrayValueError,
    ReleasedResourceError,
)
from imagearray.interop.handle_types import ExternalMemHandleType, _check_maps_as_image, driver_code
from imagearray.interop.resources import (
    ExternalMemDescriptor,
    _check_dma_buf_size,
    plan_image_mapping,
    plan_linear_mapping,
)
from imagearray.memory import ImageMem, check_device_support

__all__ = [
    "ExternalMemory",
    "image_mem_from_external",
    "import_external_memory",
    "map_external_image_memory",
    "map_external_linear_memory",
    "release_external_memory",
]


# --------------------------------------------------------------------------- fd imports


def _with_fd_note(exc: CUDAError, fd: int) -> CUDAError:
    return type(exc)(
        exc.code,
        exc.name,
        exc.text,
        f"{exc.what}; the import failed, so file descriptor {fd} is still yours (not closed)",
    )


def _import_fd(fd: int, dev: int, call: Any) -> Any:
    """``call(dup)`` under ``dev`` on a duplicate of ``fd``, so that a failed import
    leaves ``fd`` open whatever the driver does with the descriptor it was given (the
    13.0 driver closes it even when the import fails, seen on the H100). On success
    CUDA owns the duplicate and ``fd``, handed over by the caller, is closed here."""
    try:
        dup = os.dup(fd)
    except OSError as exc:
        raise ImageArrayValueError(f"cannot duplicate file descriptor {fd}: {exc}") from None
    try:
        with on_device(dev):
            result = call(dup)
    except BaseException as exc:
        _close_if_still_ours(dup, fd)
        if isinstance(exc, CUDAError):
            raise _with_fd_note(exc, fd) from None
        raise
    os.close(fd)
    return result


def _close_if_still_ours(dup: int, fd: int) -> None:
    # Closed by the driver, or (another thread) reused for another file: not ours.
    try:
        a, b = os.fstat(dup), os.fstat(fd)
    except OSError:
        return
    if (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino):
        os.close(dup)


class ExternalMemory:
    """Imported external memory (the spec's ``interop_mem_handle``).

    Made by :func:`import_external_memory`. Map it with :meth:`map_image`
    (:func:`map_external_image_memory`) or :meth:`map_linear`
    (:func:`map_external_linear_memory`); release it with :meth:`release`
    (:func:`release_external_memory`), a ``with`` block, or by dropping every
    reference. Mappings keep it alive: after ``release()`` no new mapping can be made,
    and the CUDA object is destroyed once the last mapping is freed.

    Attributes
    ----------
    descriptor : ExternalMemDescriptor
    size : int
        Bytes imported.
    device : cupy.cuda.Device
    device_id : int
    handle_type : ExternalMemHandleType
    alive : bool
        False once released.
    mappings : int
        Mappings made from it and not yet freed.

    Examples
    --------
    Memory this process exported, imported again as another API would import it (the
    fd is what Vulkan or another process would be given):

    >>> import cupy
    >>> import imagearray as ia
    >>> exported = ia.alloc_exportable_memory(1 << 20)
    >>> fd = ia.export_memory_handle(exported)
    >>> desc = ia.ExternalMemDescriptor(ia.ResourceFD(fd), exported.size)
    >>> with ia.import_external_memory(desc) as mem:  # CUDA owns the fd now
    ...     a = ia.map_external_linear_memory(mem, dtype="uint32", shape=(4,))
    ...     exported.to_cupy("uint32", (4,))[:] = cupy.arange(4, dtype=cupy.uint32)
    ...     a.tolist()
    [0, 1, 2, 3]
    >>> exported.free()
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise ImageArrayTypeError("use ia.import_external_memory to import external memory")

    @classmethod
    def _make(cls, resource: Any, descriptor: ExternalMemDescriptor) -> ExternalMemory:
        self = object.__new__(cls)
        self._res = resource
        self._desc = descriptor
        return self

    @property
    def descriptor(self) -> ExternalMemDescriptor:
        return self._desc

    @property
    def size(self) -> int:
        return self._desc.size_in_bytes

    @property
    def device(self):
        """The device the memory was imported on, as a ``cupy.cuda.Device`` (as
        ``cupy.ndarray.device``); :attr:`device_id` is its ordinal."""
        import cupy

        return cupy.cuda.Device(int(self._res.device))

    @property
    def device_id(self) -> int:
        """The ordinal of :attr:`device`."""
        return int(self._res.device)

    @property
    def handle_type(self) -> ExternalMemHandleType:
        return self._desc.handle_type

    @property
    def alive(self) -> bool:
        return bool(self._res.alive)

    @property
    def mappings(self) -> int:
        return int(self._res.mappings)

    @property
    def raw_handle(self) -> int:
        """The ``CUexternalMemory`` as an int (raises once released)."""
        return int(self._res.raw())

    def _check_alive(self, what: str) -> None:
        if not self._res.alive:
            raise ReleasedResourceError(f"cannot {what}: the external memory was already released")

    def release(self) -> None:
        """Release the import (:func:`release_external_memory`); a second call raises
        :class:`ReleasedResourceError`."""
        with on_device(self.device_id):
            self._res.release()

    def map_image(self, desc: ImageDescriptor, *, offset: int = 0, color_attachment=False):
        """:func:`map_external_image_memory` of this memory."""
        return map_external_image_memory(
            self, desc, offset=offset, color_attachment=color_attachment
        )

    def map_linear(self, offset: int = 0, size: int | None = None, **kwargs: Any):
        """:func:`map_external_linear_memory` of this memory."""
        return map_external_linear_memory(self, offset, size, **kwargs)

    def __enter__(self) -> ExternalMemory:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._res.alive:
            self.release()

    def __repr__(self) -> str:
        if self._res.alive:
            state = "alive"
        elif self._res.mappings:
            state = f"released, destroyed when its {self._res.mappings} mapping(s) are freed"
        else:
            state = "released"
        return (
            f"ExternalMemory({self.size} bytes, {self.handle_type.value}, "
            f"device={self.device_id}, {state})"
        )


def import_external_memory(desc: ExternalMemDescriptor, device: Any = None) -> ExternalMemory:
    """Import external memory (spec: ``import_external_memory``).

    Parameters
    ----------
    desc : ExternalMemDescriptor
        The exported fd, its size, its handle type.
    device : int or cupy.cuda.Device, optional
        Default: CuPy's current device. It must be the device the memory lives on.

    Returns
    -------
    ExternalMemory

    Raises
    ------
    ImageArrayValueError
        The fd is not open, or was already imported (CUDA owns it), or (dma-buf) the
        size is larger than the buffer; the device cannot import memory.
    CUDAError
        The driver refused the import (a bogus fd, a size larger than the export, a
        memory object of another device...). **The fd is then still the caller's**:
        it is left open.
    CUDAUnavailableError
        No CUDA device.

    Notes
    -----
    On success CUDA owns the fd: do not use or close it afterwards.

    Examples
    --------
    >>> fd = vk_get_memory_fd(...)  # doctest: +SKIP
    >>> mem = ia.import_external_memory(ia.ExternalMemDescriptor(ia.ResourceFD(fd), nbytes))
    ... # doctest: +SKIP
    >>> arr = ia.map_external_linear_memory(mem, dtype="uint32")  # doctest: +SKIP
    """
    if not isinstance(desc, ExternalMemDescriptor):
        raise ImageArrayTypeError(
            f"desc must be an ExternalMemDescriptor, not {type(desc).__name__}"
        )
    res = desc.external_resource
    res._check_importable(f"external memory ({desc.handle_type.value})")
    fd = res.file_descriptor
    if desc.handle_type is ExternalMemHandleType.DMA_BUF:
        _check_dma_buf_size(fd, desc.size_in_bytes)
    dev = get_device(device)
    if not device_has(Aspect.INTEROP_MEMORY_IMPORT, dev):
        raise ImageArrayValueError(f"device {dev} cannot import external memory")
    code = driver_code(desc.handle_type)
    r = _import_fd(
        fd,
        dev,
        lambda f: _cy.import_memory(dev, code, f, desc.size_in_bytes, bool(desc.dedicated)),
    )
    res._consume()
    return ExternalMemory._make(r, desc)


def _offset_align(device: int) -> int:
    """What an image's offset into imported memory must be a multiple of."""
    return max(int(device_info("texture_alignment", device)), 1)


def _check_memory(mem: Any, what: str) -> None:
    if not isinstance(mem, ExternalMemory):
        raise ImageArrayTypeError(
            f"{what} takes an ExternalMemory (from import_external_memory), not "
            f"{type(mem).__name__}"
        )


def map_external_image_memory(
    mem: ExternalMemory,
    desc: ImageDescriptor,
    *,
    offset: int = 0,
    color_attachment: bool = False,
):
    """Map imported memory as image memory (spec: ``map_external_image_memory``).

    Parameters
    ----------
    mem : ExternalMemory
    desc : ImageDescriptor
        Must describe the external image exactly (extents in texture order: x =
        width; channel order and type; ``standard`` or ``mipmap`` with its number of
        levels), as the spec requires: a mismatch gives wrong texels, not an error.
    offset : int, optional
        Byte offset of the image's base level in the memory: 0 or a multiple of the
        device's ``device_info("texture_alignment")`` (512 B on current GPUs).
    color_attachment : bool, optional
        The external image is bound as a colour attachment (render target) in the
        other API; CUDA must know (``CUDA_ARRAY3D_COLOR_ATTACHMENT``).

    Returns
    -------
    image_mem_handle
        An ``ArrayHandle`` (standard) or ``MipmappedArrayHandle`` (mipmap), usable with
        ``create_image``, ``copy`` and ``free_image_mem`` like allocated image memory.
        It keeps ``mem`` alive; freeing it (``free_image_mem``/``free()``) unmaps it.

    Raises
    ------
    ImageArrayValueError
        Another image type; the image (all levels, tightly packed) is larger than the
        memory from ``offset``; ``offset`` is not a multiple of the device's texture
        alignment; the device cannot hold the image; ``mem`` is a ``dma_buf`` import
        (CUDA maps those only as linear memory).
    ReleasedResourceError
        ``mem`` was released.
    CUDAError
        The driver refused the mapping.

    Examples
    --------
    >>> desc = ia.ImageDescriptor(
    ...     width, height, channel_order="r", channel_type="unsigned_int32"
    ... )  # doctest: +SKIP
    >>> handle = ia.map_external_image_memory(mem, desc)  # doctest: +SKIP
    >>> surf = ia.create_image(handle, desc)  # doctest: +SKIP
    """
    _check_memory(mem, "map_external_image_memory")
    plan = plan_image_mapping(mem.size, desc, offset, color_attachment)
    _check_maps_as_image(mem.handle_type)
    mem._check_alive("map image memory")
    dev = mem.device_id
    if plan[0]:  # offset 0 is aligned for every device: no query
        plan = plan_image_mapping(
            mem.size, desc, offset, color_attachment, offset_align=_offset_align(dev)
        )
    check_device_support(desc, dev)
    with on_device(dev):
        mapped = mem._res.map_mipmapped_array(*plan)
        if desc.type.is_mipmapped:
            return _wrap_mipmapped_array(dev, mapped.raw(), desc, desc.num_levels, mapped)
        try:
            raw0 = mapped.level(0)
        except BaseException:
            mapped.free()
            raise
    return _wrap_array(dev, raw0, desc, mapped)


def map_external_linear_memory(
    mem: ExternalMemory,
    offset: int = 0,
    size: int | None = None,
    *,
    dtype: Any = numpy.uint8,
    shape: Any = None,
    strides: Any = None,
):
    """Map imported memory as a CuPy array (imagearray's addition to the spec).

    Parameters
    ----------
    mem : ExternalMemory
    offset : int, optional
        Byte offset into the memory.
    size : int, optional
        Bytes to map (default: everything from ``offset``).
    dtype, shape, strides : optional
        The array's layout, in NumPy order (default: 1D ``uint8`` over the bytes).

    Returns
    -------
    cupy.ndarray
        An array over the imported bytes (no copy). It keeps the mapping, and the
        mapping keeps ``mem``, alive; the mapping is freed with the last array (or
        view of it).

    Raises
    ------
    ImageArrayValueError
        The range is outside the memory, or the layout needs more bytes than mapped.
    ReleasedResourceError
        ``mem`` was released.

    Examples
    --------
    >>> arr = ia.map_external_linear_memory(mem, dtype="uint32")  # doctest: +SKIP
    >>> arr[:] = cupy.arange(arr.size, dtype=cupy.uint32)  # doctest: +SKIP
    """
    import cupy

    _check_memory(mem, "map_external_linear_memory")
    offset, size, dt, shape_t, strides_t = plan_linear_mapping(
        mem.size, offset, size, dtype, shape, strides
    )
    mem._check_alive("map linear memory")
    dev = mem.device_id
    with on_device(dev):
        buf = mem._res.map_buffer(offset, size)
    um = cupy.cuda.UnownedMemory(buf.ptr, size, buf, dev)
    with cupy.cuda.Device(dev):
        return cupy.ndarray(
            shape_t, dtype=dt, memptr=cupy.cuda.MemoryPointer(um, 0), strides=strides_t
        )


def release_external_memory(mem: ExternalMemory) -> None:
    """Release imported memory (spec: ``release_external_memory``).

    Memory mapped from it stays valid: the CUDA object is destroyed when the last
    mapping is freed. Releasing twice raises :class:`ReleasedResourceError`.

    Examples
    --------
    >>> ia.release_external_memory(mem)  # doctest: +SKIP
    """
    _check_memory(mem, "release_external_memory")
    mem.release()


def image_mem_from_external(
    memory: ExternalMemory | ExternalMemDescriptor,
    desc: ImageDescriptor,
    *,
    offset: int = 0,
    device: Any = None,
    color_attachment: bool = False,
) -> ImageMem:
    """Image memory over imported memory: the :class:`ImageMem` that
    ``ImageArray.from_external`` wraps.

    ``memory`` is an :class:`ExternalMemory`, or an :class:`ExternalMemDescriptor`
    to import now, in which case the import belongs to the image: it is released
    when the image memory is freed. Extents of ``desc`` are in texture order.
    """
    owned = False
    if isinstance(memory, ExternalMemDescriptor):
        plan = plan_image_mapping(memory.size_in_bytes, desc, offset, color_attachment)
        _check_maps_as_image(memory.handle_type)  # before the import takes the fd
        if plan[0]:
            plan_image_mapping(
                memory.size_in_bytes,
                desc,
                offset,
                color_attachment,
                offset_align=_offset_align(get_device(device)),
            )
        memory = import_external_memory(memory, device)
        owned = True
    elif isinstance(memory, ExternalMemory):
        if device is not None and get_device(device) != memory.device_id:
            raise DeviceMismatchError(
                f"the external memory is on device {memory.device_id}, not device {device}"
            )
    else:
        raise ImageArrayTypeError(
            "memory must be an ExternalMemory or an ExternalMemDescriptor, not "
            f"{type(memory).__name__}"
        )
    try:
        handle = map_external_image_memory(
            memory, desc, offset=offset, color_attachment=color_attachment
        )
    finally:
        if owned:
            # Deferred by the mapping's lease: the import lives exactly as long as the image.
            memory.release()
    return ImageMem._from_handle(handle)


# --------------------------------------------------------------------------- image handles
# A mapped image is an ordinary ArrayHandle / MipmappedArrayHandle that does not own
# its CUDA array: it follows (and keeps alive) the mapping that does.


def _wrap_array(device: int, raw: int, desc: ImageDescriptor, owner: Any):
    return _memory.wrap_array(device, raw, desc, owner)


def _wrap_mipmapped_array(device: int, raw: int, desc: ImageDescriptor, levels: int, owner: Any):
    return _memory.wrap_mipmapped_array(device, raw, desc, levels, owner)
