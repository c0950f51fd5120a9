"""``ImageArray``: image memory that slices like an ndarray.

Shapes and indices follow NumPy's C order: ``[layers or faces,] [depth,] [height,]
width[, channels]`` (the channel axis only when there is more than one channel).
Reads and writes of sub-regions go through copies on the current CuPy stream (or
``stream=``); they never stage the whole image. Sampling, fetching and mip
generation are the engines of :mod:`imagearray.sampling`, bound as methods.
"""

from __future__ import annotations

from typing import Any

import numpy

from imagearray._descriptor import ImageDescriptor
from imagearray._device import Scope, get_stream
from imagearray._errors import ImageArrayTypeError, ImageArrayValueError
from imagearray.array.indexing import bbox, normalize, relative_key, result_shape
from imagearray.copies import DEVICE, HOST, execute, note_copy, plan_region
from imagearray.interop import image_mem_from_external
from imagearray.memory import ImageView
from imagearray.sampling import (
    default_sampler,
    fetch,
    generate_mipmaps,
    sample,
    sample_cubemap,
    surface,
    texture,
)

__all__ = ["ImageArray"]


class ImageArray(ImageView):
    """Image memory on the GPU with ndarray-like attributes and indexing.

    Make one with :func:`empty`, :func:`zeros` or :func:`asimage`, not directly.

    ``img[10:20, 5:50]`` returns a CuPy array of that region (NumPy order: rows,
    then columns); ``img[10:20, 5:50] = a`` writes it. Integer indices drop an
    axis; steps, negative indices, Ellipsis and newaxis behave as in NumPy; an
    integer out of range raises ``IndexError``. :meth:`layer`, :meth:`face` and
    :meth:`mip` are views on the same memory.

    Examples
    --------
    >>> img = ia.asimage(numpy.arange(12, dtype=numpy.float32).reshape(3, 4))  # doctest: +SKIP
    >>> img[1:, ::2]  # doctest: +SKIP
    array([[ 4.,  6.],
           [ 8., 10.]], dtype=float32)
    """

    def __init__(self, *args, **kwargs) -> None:
        raise ImageArrayTypeError("use ia.empty, ia.zeros or ia.asimage to make an ImageArray")

    @classmethod
    def from_external(
        cls,
        memory: Any,
        desc: ImageDescriptor,
        *,
        offset: int = 0,
        device: Any = None,
        color_attachment: bool = False,
    ) -> ImageArray:
        """An ``ImageArray`` over imported external memory (e.g. a Vulkan image).

        ``memory`` is an ``ExternalMemory`` from :func:`import_external_memory`, or an
        ``ExternalMemDescriptor`` to import first (the import then belongs to the
        image and is released when the image is freed). ``desc`` describes the image
        (standard or mipmap, as the spec allows).
        """
        mem = image_mem_from_external(
            memory, desc, offset=offset, device=device, color_attachment=color_attachment
        )
        return cls.from_mem(mem)

    # ------------------------------------------------------------ attributes
    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        extra = ""
        if self.levels > 1:
            extra += f", level={self._level}/{self.levels}"
        state = "" if self._handle.alive else ", freed"
        return (
            f"ImageArray(shape={self.shape}, dtype={self.dtype}, channels={self.channels}, "
            f"type={self.image_type.value}{extra}, device={self._handle.device}{state})"
        )

    # ------------------------------------------------------------ views
    def _on(self, stream: Any) -> Scope:
        """This image's device current, and ``stream`` (default: that device's current
        CuPy stream) CuPy's current stream (see :class:`imagearray._device.Scope`)."""
        return Scope(self._handle.device, stream)

    def _region(self, lo, ext, buf, buf_kind: str, to_image: bool, stream) -> Any:
        """Copy the box ``lo``..``lo+ext`` (x, y, z) between this image and a tightly
        packed buffer holding exactly that box."""
        self._check_alive()
        if buf_kind == HOST:
            addr, bdev = buf.ctypes.data, None
        else:
            addr, bdev = buf.data.ptr, buf.device.id
        plan = plan_region(
            self._handle, self._vdesc, self._origin, lo, ext, buf_kind, addr, bdev, to_image
        )
        dev = self._handle.device
        with self._on(stream):
            return execute(plan, get_stream(None, dev), dev)

    def get(
        self, stream: Any = None, out: numpy.ndarray | None = None, blocking: bool = True
    ) -> numpy.ndarray:
        """Copy the image to a NumPy array.

        By default the call waits for the copy, as ``cupy.ndarray.get`` does. With an
        ``out`` array prepared by :func:`prepare_for_device_copy` the copy goes
        straight into it (no staging) and ``blocking=False`` returns at once: read
        ``out`` only after synchronizing the stream. Into pageable memory the driver
        finishes the copy before returning either way.
        """
        if out is None:
            out = numpy.empty(self.shape, dtype=self.dtype)
        elif (
            not isinstance(out, numpy.ndarray)
            or out.shape != self.shape
            or out.dtype != self.dtype
            or not out.flags.c_contiguous
            or not out.flags.writeable
        ):
            raise ImageArrayValueError(
                f"out must be a writable C-contiguous numpy array of shape {self.shape} and "
                f"dtype {self.dtype}"
            )
        lo, ext = self._whole()
        ev = self._region(lo, ext, out, HOST, False, stream)
        note_copy(out.ctypes.data, out.nbytes, ev)
        if blocking:
            ev.synchronize()
        return out

    def to_cupy(self, stream: Any = None):
        """Copy the image to a new CuPy array (asynchronous on the stream)."""
        import cupy

        lo, ext = self._whole()
        with self._on(stream):
            out = cupy.empty(self.shape, dtype=self.dtype)
            self._region(lo, ext, out, DEVICE, False, stream)
        return out

    def set(self, array: Any, stream: Any = None) -> None:
        """Overwrite the whole image from a NumPy or CuPy array of exactly its shape.

        From memory prepared with :func:`prepare_for_device_copy` the copy is
        asynchronous: do not modify the array until the stream is synchronized."""
        if tuple(getattr(array, "shape", ())) != self.shape:
            raise ImageArrayValueError(
                f"set() needs an array of shape {self.shape}, not {getattr(array, 'shape', None)}"
            )
        self._write(*self._whole(), array, stream)

    def _as_source(self, value: Any, shape: tuple[int, ...]):
        """``value`` broadcast and cast to ``shape`` and this dtype, as a contiguous
        NumPy (host) or CuPy (device, this image's) array ready to copy."""
        import cupy

        if isinstance(value, ImageArray):
            value = value.to_cupy()
        host = isinstance(value, numpy.ndarray) or numpy.isscalar(value)
        xp = numpy if host else cupy
        with cupy.cuda.Device(self._handle.device):
            arr = xp.asarray(value)
            if not host and arr.device.id != self._handle.device:
                arr = cupy.array(arr)  # peer copy by CuPy, then ours is local
            if not numpy.can_cast(arr.dtype, self.dtype, "same_kind") and arr.ndim:
                raise ImageArrayTypeError(f"cannot assign {arr.dtype} data to a {self.dtype} image")
            arr = xp.ascontiguousarray(xp.broadcast_to(arr.astype(self.dtype, copy=False), shape))
        return arr, HOST if host else DEVICE

    def _write(self, lo, ext, value, stream) -> None:
        with self._on(stream):  # conversions run on, and temporaries belong to, the stream
            arr, kind = self._as_source(value, self._box_shape(ext))
            ev = self._region(lo, ext, arr, kind, True, stream)
        # A temporary host buffer must outlive the copy: wait, unless it is prepared
        # memory (then it is the caller's array, kept alive by the registry).
        if kind == HOST and not note_copy(arr.ctypes.data, arr.nbytes, ev):
            ev.synchronize()

    # ------------------------------------------------------------ indexing
    def __getitem__(self, key: Any):
        import cupy

        norm = normalize(self, key)
        if norm is None:
            return self.to_cupy()[key]
        expanded, per_axis = norm
        if any(n == 0 for *_, n, _ in per_axis):
            with cupy.cuda.Device(self._handle.device):
                return cupy.empty(result_shape(self.shape, tuple(expanded)), dtype=self.dtype)
        lo, ext, rel = bbox(self, per_axis)
        with cupy.cuda.Device(self._handle.device):
            buf = cupy.empty(self._box_shape(ext), dtype=self.dtype)
        self._region(lo, ext, buf, DEVICE, False, None)
        # Basic indexing of the box: a view, no further copy.
        return buf[relative_key(expanded, per_axis, rel)]

    def __setitem__(self, key: Any, value: Any) -> None:
        import cupy

        if isinstance(value, ImageArray):
            value = value.to_cupy()
        norm = normalize(self, key)
        if norm is None:
            whole = self.to_cupy()
            whole[key] = value
            self._write(*self._whole(), whole, None)
            return
        expanded, per_axis = norm
        if any(n == 0 for *_, n, _ in per_axis):
            return
        lo, ext, rel = bbox(self, per_axis)
        rkey = relative_key(expanded, per_axis, rel)
        channel_keys = [k for k in expanded if k is not None][len(per_axis) :]
        direct = all(s == 1 for _, _, s, _, _ in per_axis) and all(
            k == slice(None)
            or (isinstance(k, slice) and k.indices(self.channels) == (0, self.channels, 1))
            for k in channel_keys
        )
        box_shape = self._box_shape(ext)
        with cupy.cuda.Device(self._handle.device):
            if direct:
                # The selection is the whole box: broadcast the value into it as NumPy
                # would, on the host for host values, with no read of the image.
                host = isinstance(value, numpy.ndarray) or numpy.isscalar(value)
                buf = (numpy if host else cupy).empty(box_shape, dtype=self.dtype)
                buf[rkey] = value
            else:  # read, modify, write the box
                buf = cupy.empty(box_shape, dtype=self.dtype)
                self._region(lo, ext, buf, DEVICE, False, None)
                buf[rkey] = cupy.asarray(value)
        self._write(lo, ext, buf, None)

    # ------------------------------------------------------------ handles and sampling
    def texture(self, sampler: Any = None):
        """A :class:`SampledImageHandle` of this image with ``sampler`` (default: the
        one :meth:`sample` uses), cached: the same sampler gives the same handle,
        which stays valid until the memory is freed. A whole mipmapped image gives
        a mipmapped texture, a :meth:`mip` view a texture of that level. Pass it to
        ``cupy.RawKernel``s (kernel side: ``ia::sampled_image_handle``)."""
        if self._is_view():
            raise ImageArrayValueError(
                "handles are made for whole images: take texture() of the layered or "
                "cubemap image and pick the layer/face in the kernel"
            )
        return texture(self, default_sampler(self) if sampler is None else sampler)

    def surface(self):
        """An :class:`UnsampledImageHandle` (surface) of this image (of the whole
        layered or cubemap image for layer and face views), cached."""
        if self._whole_mipmap:
            raise ImageArrayValueError(
                "a mipmap has no unsampled handle (spec): take surface() of a level, img.mip(l)"
            )
        return surface(self)

    sample = sample
    sample_cubemap = sample_cubemap
    fetch = fetch
    generate_mipmaps = generate_mipmaps

    # ------------------------------------------------------------ lifetime
    def free(self) -> None:
        """Free the image memory now (every view of it becomes unusable). Handles
        this array handed out (``texture()``, ``surface()``) are destroyed first."""
        cache = self._mem._cache
        if cache is not None:
            cache.close()
        self._mem.free()
