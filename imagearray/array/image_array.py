"""``ImageArray``: image memory that slices like an ndarray.

Shapes and indices follow NumPy's C order: ``[layers or faces,] [depth,] [height,]
width[, channels]`` (the channel axis only when there is more than one channel).
Reads and writes of sub-regions go through copies on the current CuPy stream (or
``stream=``); they never stage the whole image. Sampling, fetching and mip
generation are the engines of :mod:`imagearray.sampling`, bound as methods.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

import numpy

from imagearray._coerce import check_cast
from imagearray._descriptor import ImageDescriptor
from imagearray._device import Scope, current_stream
from imagearray._enums import ImageType
from imagearray._errors import ImageArrayIndexError, ImageArrayTypeError, ImageArrayValueError
from imagearray.array import linear
from imagearray.array.indexing import (
    bbox,
    family_errors,
    normalize,
    plain_box,
    refuse_inexact,
    relative_key,
    result_shape,
)
from imagearray.array.protocols import ArrayProtocols, KernelArgHint
from imagearray.copies import DEVICE, HOST, execute, note_copy, plan_region
from imagearray.interop import image_mem_from_external
from imagearray.memory import ImageMem, ImageView
from imagearray.sampling import (
    default_sampler,
    fetch,
    gather,
    generate_mipmaps,
    lock_of,
    sample,
    sample_cubemap,
    surface,
    texture,
)

if TYPE_CHECKING:
    import cupy
    from numpy.typing import DTypeLike

    from imagearray._sampler import Sampler
    from imagearray.handles import SampledImageHandle, UnsampledImageHandle

__all__ = ["ImageArray"]


class ImageArray(ArrayProtocols, ImageView, metaclass=KernelArgHint):
    """Image memory on the GPU with ndarray-like attributes and indexing.

    Make one with :func:`empty`, :func:`zeros` or :func:`asimage`, not directly.

    ``img[10:20, 5:50]`` is a view of that region (NumPy order: rows, then
    columns) on the same memory: ``img[10:20, 5:50][0] = a`` writes the image, and
    ``cupy.asarray(...)``/``.get()`` read it. An int on the layer or face axis gives
    that layer/face view; advanced indexing and single texels give CuPy arrays
    (copies). Steps, negative indices, Ellipsis and newaxis behave as in NumPy; an
    integer out of range raises ``IndexError``. Linear-backed images
    (``memory == "linear"``) index as their CuPy array. See ``docs/guide.rst``.

    Examples
    --------
    >>> img = ia.asimage(numpy.arange(12, dtype=numpy.float32).reshape(3, 4))
    >>> img[1:, ::2].get()
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
        if not self.shape:
            raise TypeError("len() of a 0-d image view")
        return self.shape[0]

    def __iter__(self) -> Iterator[Any]:
        for i in range(len(self)):
            yield self[i]

    @property
    def memory(self) -> Literal["array", "linear"]:
        """``"array"`` (a CUDA array: opaque, sampled and written through handles and
        copies) or ``"linear"`` (a CuPy array: slices are CuPy views)."""
        return "linear" if self._linear else "array"

    def __repr__(self) -> str:
        extra = ""
        if self.levels > 1:
            extra += f", level={self._level}/{self.levels}"
        if self._linear:
            extra += ", memory=linear"
        if self._is_region:
            extra += ", region"
        state = "" if self._handle.alive else ", freed"
        return (
            f"ImageArray(shape={self.shape}, dtype={self.dtype}, channels={self.channels}, "
            f"type={self.image_type.value}{extra}, device={self._handle.device}{state})"
        )

    # ------------------------------------------------------------ copies
    def _on(self, stream: Any) -> Scope:
        """This image's device current, and ``stream`` (default: that device's current
        CuPy stream) CuPy's current stream (see :class:`imagearray._device.Scope`)."""
        return Scope(self._handle.device, stream)

    def _cupy_view(self) -> cupy.ndarray:
        """The CuPy array of a linear-backed image (the image's own memory)."""
        self._check_alive()
        return self._mem.array

    def _region(
        self, lo, ext, buf, buf_kind: str, to_image: bool, stream, record: bool = True
    ) -> Any:
        """Copy the box ``lo``..``lo+ext`` (x, y, z) between this image and a tightly
        packed buffer holding exactly that box; the event recorded after it (None
        with ``record=False``: a device buffer the stream orders)."""
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
            return execute(plan, current_stream(dev), dev, record)

    def _read_box(self, stream: Any = None) -> cupy.ndarray:
        """This view's box (before ``_sel``) as a new CuPy array: allocated from and
        copied on ``stream`` (one scope), with no event (the stream orders it)."""
        import cupy

        self._check_alive()
        lo, ext = self._whole()
        dev = self._handle.device
        with self._on(stream):
            buf = cupy.empty(self._box_shape(ext), dtype=self.dtype)
            plan = plan_region(
                self._handle, self._vdesc, self._origin, lo, ext, DEVICE, buf.data.ptr, dev, False
            )
            execute(plan, current_stream(dev), dev, False)
        return buf

    def _select(self, buf: Any) -> Any:
        for key in self._sel:
            buf = buf[key]
        return buf

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
        if out is not None and (
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
        if self._linear or self._sel:
            src = self.to_cupy(stream) if self._sel else self._cupy_view()
            with self._on(stream):  # CuPy's get() runs on the current stream
                return src.get(out=out, blocking=blocking)
        if out is None:
            out = numpy.empty(self.shape, dtype=self.dtype)
        lo, ext = self._whole()
        ev = self._region(lo, ext, out, HOST, False, stream)
        note_copy(out.ctypes.data, out.nbytes, ev)
        if blocking:
            ev.synchronize()
        return out

    def to_cupy(self, stream: Any = None) -> cupy.ndarray:
        """Copy the image to a new C-contiguous CuPy array (asynchronous on the stream).
        ``cupy.asarray(img)`` gives the same for CUDA-array images and the image's own
        memory (no copy) for linear-backed ones."""
        import cupy

        if self._linear:
            with self._on(stream):
                return self._cupy_view().copy()
        if self._sel:
            buf = self._read_box(stream)
            with self._on(stream):
                return cupy.ascontiguousarray(self._select(buf))
        return self._read_box(stream)

    def _as_cupy(self) -> cupy.ndarray:
        return self._cupy_view() if self._linear else self.to_cupy()

    def set(self, array: Any, stream: Any = None) -> None:
        """Overwrite the whole image from a NumPy or CuPy array of exactly its shape
        (cast by the rule of :meth:`__setitem__`).

        From memory prepared with :func:`prepare_for_device_copy` the copy is
        asynchronous: do not modify the array until the stream is synchronized."""
        if tuple(getattr(array, "shape", ())) != self.shape:
            raise ImageArrayValueError(
                f"set() needs an array of shape {self.shape}, not {getattr(array, 'shape', None)}"
            )
        if self._linear or self._sel:
            self._assign(Ellipsis, array, stream)
        else:
            self._write(*self._whole(), array, stream)

    def fill(self, value: Any) -> None:
        """Set every texel this view shows to the scalar ``value`` (cast by the rule of
        :meth:`__setitem__`)."""
        if not numpy.isscalar(value) and getattr(value, "ndim", None) != 0:
            raise ImageArrayTypeError(f"fill() takes a scalar, not {type(value).__name__}")
        if self._linear or self._sel:
            self[...] = value
            return
        import cupy

        check_cast(value, self.dtype)
        with self._on(None):  # filled on the device: no host buffer of the image's size
            buf = cupy.full(self._box_shape(self._whole()[1]), value, dtype=self.dtype)
            self._write(*self._whole(), buf, None)

    def _source(self, value: Any) -> tuple[Any, bool]:
        """``value`` checked against the casting rule: (NumPy/CuPy array or Python
        scalar, on the host)."""
        import cupy

        if isinstance(value, ImageArray):
            value = value._as_cupy()
        check_cast(value, self.dtype)
        host = not isinstance(value, cupy.ndarray)
        if host and not isinstance(value, numpy.ndarray) and not numpy.isscalar(value):
            value = numpy.asarray(value)
            check_cast(value, self.dtype)
        return value, host

    def _as_source(self, value: Any, shape: tuple[int, ...]):
        """``value`` broadcast and cast to ``shape`` and this dtype, as a contiguous
        NumPy (host) or CuPy (device, this image's) array ready to copy."""
        import cupy

        value, host = self._source(value)
        xp = numpy if host else cupy
        with cupy.cuda.Device(self._handle.device):
            arr = xp.asarray(value)
            if not host and arr.device.id != self._handle.device:
                arr = cupy.array(arr)  # peer copy by CuPy, then ours is local
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

    def _assign(self, key: Any, value: Any, stream: Any = None) -> None:
        """``self[key] = value`` where CuPy does the indexing: linear memory in place,
        a view with ``_sel`` by reading, modifying and writing its box."""
        value, host = self._source(value)
        with self._on(stream):
            value = _on_device(value, host)
            if self._linear:
                self._cupy_view()[key] = value
                return
            buf = self._read_box(stream)
            self._select(buf)[key] = value
        self._write(*self._whole(), buf, stream)

    # ------------------------------------------------------------ indexing
    @family_errors
    def __getitem__(self, key: Any) -> Any:
        """Basic indexing gives a view (an ImageArray on the same memory: writes go
        to the image); advanced indexing, and a single texel, a CuPy array (a copy).
        Linear-backed images give CuPy views of their memory."""
        import cupy

        if self._linear or self._sel:  # the other keys: normalize() refuses floats
            refuse_inexact(key)
            return self._cupy_view()[key] if self._linear else self._refine(key)
        if type(key) is slice:
            key = (key,)
        if type(key) is tuple and (box := plain_box(self, key)) is not None:
            return self._box_view(box[0], box[1], ())
        norm = normalize(self, key)
        if norm is None:  # advanced indexing copies, as in NumPy
            return self.to_cupy()[key]
        expanded, per_axis = norm
        if any(n == 0 for *_, n, _ in per_axis):
            with cupy.cuda.Device(self._handle.device):
                return cupy.empty(result_shape(self.shape, tuple(expanded)), dtype=self.dtype)
        real = [k for k in expanded if k is not None]
        if len(real) == self.ndim and all(p[4] for p in per_axis):
            if self.channels == 1 or not isinstance(real[-1], slice):
                return self._single_texel(expanded, per_axis)
        if (
            expanded[0] is not None
            and per_axis[0][4]
            and len(self._axes) > 1
            and self._axes[0] == 2
        ):
            # an int on the layer, face or depth axis: that sub-image, then the rest
            sub = self._leading(per_axis[0][0])
            rest = tuple(expanded[1:])
            return sub if all(k == slice(None) for k in rest) else sub[rest]
        lo, ext, rel = bbox(self, per_axis)
        rkey = relative_key(expanded, per_axis, rel)
        box_shape = self._box_shape(ext)
        whole = all(
            isinstance(k, slice) and k.indices(n) == (0, n, 1) for k, n in zip(rkey, box_shape)
        ) and len(rkey) == len(box_shape)
        return self._box_view(lo, ext, () if whole else (rkey,))

    def _leading(self, i: int) -> ImageArray:
        t = self._vdesc.type
        if not self._is_region and t.is_cubemap:
            return self.face(i)
        if not self._is_region and t.is_layered:
            return self.layer(i)
        return self._depth_slice(i)

    def _single_texel(self, expanded, per_axis) -> cupy.ndarray:
        lo, ext, rel = bbox(self, per_axis)
        buf = self._box_view(lo, ext, ())._read_box()
        return buf[relative_key(expanded, per_axis, rel)]

    def _refine(self, key: Any) -> Any:
        """``view[key]`` of a view with steps or dropped axes: basic keys add to its
        selection (still a view), others read it (a copy)."""
        if not isinstance(key, tuple):
            key = (key,)
        try:
            shape = result_shape(self.shape, key)
        except IndexError as exc:
            raise ImageArrayIndexError(str(exc)) from None
        except (TypeError, ValueError):
            shape = None
        if (
            shape is None
            or not shape
            or any(
                not isinstance(k, (slice, int, numpy.integer, type(None), type(Ellipsis)))
                or isinstance(k, bool)
                for k in key
            )
        ):
            return self.to_cupy()[key]
        view = self._box_view((0, 0, 0), self._whole()[1], self._sel + (key,))
        return view

    @family_errors
    def __setitem__(self, key: Any, value: Any) -> None:
        """Write ``value`` (broadcast as NumPy does) to the selected texels.

        Casting rule (``set``, ``fill`` and ``[...] =`` alike): arrays and NumPy
        scalars cast as ``numpy.can_cast(..., "same_kind")`` allows (float data into
        an integer image is refused: round and cast it first); Python ints fit the
        dtype, Python floats go to float images only."""
        import cupy

        if self._linear or self._sel:
            refuse_inexact(key)  # the other keys: normalize() refuses floats
            self._assign(key, value)
            return
        norm = normalize(self, key)
        if norm is None:
            value, host = self._source(value)
            whole = self.to_cupy()
            with cupy.cuda.Device(self._handle.device):
                whole[key] = _on_device(value, host)
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
        value, host = self._source(value)
        with cupy.cuda.Device(self._handle.device):
            if direct:
                # The selection is the whole box: broadcast the value into it as NumPy
                # would, on the host for host values, with no read of the image.
                buf = (numpy if host else cupy).empty(box_shape, dtype=self.dtype)
                buf[rkey] = value
            else:  # read, modify, write the box
                buf = cupy.empty(box_shape, dtype=self.dtype)
                self._region(lo, ext, buf, DEVICE, False, None, record=False)
                buf[rkey] = cupy.asarray(value)
        self._write(lo, ext, buf, None)

    # ------------------------------------------------------------ handles and sampling
    def texture(self, sampler: Sampler | None = None) -> SampledImageHandle:
        """A :class:`SampledImageHandle` of this image with ``sampler`` (default: the
        one :meth:`sample` uses), cached: the same sampler gives the same handle,
        which stays valid until the memory is freed. A whole mipmapped image gives
        a mipmapped texture, a :meth:`mip` view a texture of that level. Pass it to
        ``cupy.RawKernel``s (kernel side: ``ia::sampled_image_handle``, or
        ``ia::filtered_integer_image_handle<T>`` for an 8/16-bit integer image with a
        linear filter: the handle's ``kernel_type`` says which)."""
        if self._is_view():
            raise ImageArrayValueError(
                "handles are made for whole images: take texture() of the layered or "
                "cubemap image and pick the layer/face in the kernel"
            )
        return texture(self, default_sampler(self) if sampler is None else sampler, pin=True)

    def surface(self) -> UnsampledImageHandle:
        """An :class:`UnsampledImageHandle` (surface) of this image (of the whole
        layered or cubemap image for layer and face views), cached."""
        if self._whole_mipmap:
            raise ImageArrayValueError(
                "a mipmap has no unsampled handle (spec): take surface() of a level, img.mip(l)"
            )
        if self._is_region:
            raise ImageArrayValueError(
                "handles are made for whole images, layers, faces and levels, not regions: "
                "take surface() of the image and offset the coordinates in the kernel"
            )
        return surface(self)

    sample = sample
    sample_cubemap = sample_cubemap
    fetch = fetch
    gather = gather
    generate_mipmaps = generate_mipmaps

    # ------------------------------------------------------------ making images
    @classmethod
    def _new(
        cls, desc: ImageDescriptor, memory: str, device: Any, gather: bool = False
    ) -> ImageArray:
        """A new uninitialised image of ``desc`` in ``memory`` ("array" or "linear"),
        allocated for texture gather when ``gather``."""
        if memory == "array":
            return cls.from_mem(ImageMem(desc, device, gather=gather))
        return cls.from_mem(linear.new_mem(desc, device, gather))

    @classmethod
    def _wrap_linear(cls, array: Any, desc: ImageDescriptor, device: int) -> ImageArray:
        """An image over the memory of the CuPy ``array`` (no copy), which holds
        ``desc`` in NumPy order; raises naming the CUDA constraint it misses."""
        return cls.from_mem(linear.wrap_mem(array, desc, device))

    def _like_desc(self, dtype: Any = None) -> ImageDescriptor:
        """The descriptor of what this view shows (all levels of a whole mipmap), in
        ``dtype`` (same channels and normalization) when given."""
        if self._sel:
            raise ImageArrayValueError(
                f"a view with steps or dropped axes (shape {self.shape}) is not an image: "
                "use .to_cupy(), or index the image without steps"
            )
        desc = self._mem.descriptor if self._whole_mipmap else self._vdesc
        if desc.type is ImageType.ARRAY and desc.array_size == 1 and self._is_region:
            desc = dataclasses.replace(desc, type=ImageType.STANDARD)
        if dtype is not None and numpy.dtype(dtype) != self.dtype:
            ct = ImageDescriptor.from_shape(
                (1,), dtype, normalized=self._vdesc.channel_type.is_normalized
            ).channel_type
            desc = dataclasses.replace(desc, channel_type=ct)
        return desc.verify()

    def astype(self, dtype: DTypeLike, copy: bool = True) -> ImageArray:
        """A new image (same type, levels, layers, backing and device) with the texels
        converted to ``dtype`` as ``numpy.ndarray.astype`` converts (any cast is
        allowed: this is an explicit one). ``copy=False`` returns this image when
        the dtype is already ``dtype``."""
        if not copy and numpy.dtype(dtype) == self.dtype and not self._sel:
            return self
        out = type(self)._new(
            self._like_desc(dtype), self.memory, self._handle.device, self.gatherable
        )
        for src, dst in zip(self._levels(), out._levels()):
            data = src.to_cupy()
            with dst._on(None):
                dst.set(data.astype(dst.dtype, copy=False))
        return out

    def copy(self) -> ImageArray:
        """A new image holding a copy of what this view shows (every level of a whole
        mipmapped image), with the same backing (gatherable if this is), on the same
        device."""
        return self.astype(self.dtype)

    def _levels(self) -> list[ImageArray]:
        if self._whole_mipmap:
            return [self.mip(level) for level in range(self.levels)]
        return [self]

    # ------------------------------------------------------------ lifetime
    def __enter__(self) -> ImageArray:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._handle.alive:
            self.free()

    def free(self) -> None:
        """Free the image memory now (every view of it becomes unusable). Handles
        this array handed out (``texture()``, ``surface()``) are destroyed first,
        after the work queued on the device that may read them (as ``cudaFree``).

        Thread-safe against handles being made from the image on other threads:
        one made before is destroyed here (a cached one) or makes the free refuse
        (one of ``create_image``: destroy it first); one asked for after raises
        :class:`ReleasedResourceError`."""
        mem = self._mem
        with lock_of(mem):
            cache = mem._cache
            if cache is not None:
                cache.close(self._handle.device)  # after the launches reading it
            mem.free()


def _on_device(value: Any, host: bool) -> Any:
    """A host array as a CuPy array (on the current device) for CuPy's indexing."""
    if host and isinstance(value, numpy.ndarray):
        import cupy

        return cupy.asarray(value)
    return value
