"""``ImageArray``: image memory that slices like an ndarray.

Shapes and indices follow NumPy's C order: ``[layers or faces,] [depth,] [height,]
width[, channels]`` (the channel axis only when there is more than one channel).
Reads and writes of sub-regions go through copies on the current CuPy stream (or
``stream=``); they never stage the whole image.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy

from imagearray import _kernels as _k
from imagearray._coerce import coerce_int
from imagearray._copies import _KIND_CODE, DEVICE, HOST, IMAGE, CopyPlan, Endpoint, execute
from imagearray._descriptor import ImageDescriptor
from imagearray._device import get_stream
from imagearray._enums import ImageType
from imagearray._errors import (
    ImageArrayIndexError,
    ImageArrayTypeError,
    ImageArrayValueError,
    ReleasedResourceError,
)
from imagearray._image_mem import ImageMem, current_device, on_device
from imagearray._sampler import Sampler

__all__ = ["ImageArray", "empty", "zeros", "asimage"]


def _axis_map(desc: ImageDescriptor) -> list[int]:
    """For each non-channel axis of ``desc.host_shape``, the box axis (0=x, 1=y, 2=z)."""
    spatial = [2, 1, 0][3 - desc.dimensions :]
    if desc.type.is_layered or desc.type.is_cubemap:
        return [2, *spatial]
    return spatial


def _has_advanced(key: tuple) -> bool:
    return any(
        not isinstance(k, (slice, int, numpy.integer, type(None), type(Ellipsis)))
        or isinstance(k, bool)
        for k in key
    )


class _RawStream:
    """A raw ``CUstream`` handle in the CUDA stream protocol (for CuPy's
    ``Stream.from_external``)."""

    def __init__(self, handle: int) -> None:
        self._handle = handle

    def __cuda_stream__(self) -> tuple[int, int]:
        return (0, self._handle)


_LAYER_CONSTANTS: dict[tuple[int, int], Any] = {}


def _layer_constant(device: int, value: int):
    """A read-only one-element int32 device array holding ``value`` (kernels read the
    layer of every point from it); made once per device and value and never freed
    (no eviction: a launch still queued may read it), never written, so sharing it
    between streams is safe. Only layers that exist are cached, so there are at most
    as many as the largest layer count sampled."""
    import cupy

    arr = _LAYER_CONSTANTS.get((device, value))
    if arr is None:
        if not -(2**31) <= value < 2**31:
            raise ImageArrayValueError(f"layer index {value} is out of the int32 range")
        with cupy.cuda.Device(device):
            arr = cupy.full((1,), value, dtype=cupy.int32)
            cupy.cuda.Device().synchronize()  # filled before any stream reads it
        _LAYER_CONSTANTS[(device, value)] = arr
    return arr


_PLANS_KEY = "sample plans"  # handle-cache key prefix of a view's sample() plans
_MAX_PLANS = 16  # plans per view (samplers x level given or not); emptied when full
_F32 = numpy.dtype(numpy.float32)


class _SamplePlan:
    """What ``img.sample(coords, sampler[, level=])`` launches for one view, sampler
    and level mode: the kernel function, the arguments fixed for them (texture,
    layer) and the output's dtype and channel axis. Valid while its texture is alive
    (the handle cache makes a new one after a destroy, and free() drops the plans).

    :meth:`launch` checks what the general path would do differently for these
    coordinates: anything but a C-contiguous float32 CuPy array on the image's
    device, with the coordinate axis last (and 8-byte aligned for 2D), or another
    device current, returns None and the general path runs (converting, or raising
    its errors)."""

    __slots__ = (
        "sampler",
        "tex",
        "texobj",
        "fn",
        "fixed",
        "level_fixed",
        "level_given",
        "layers",
        "zero",
        "ncomp",
        "suffix",
        "dtype",
        "device",
        "ndarray",
        "empty",
        "i64",
    )

    def launch(self, c: Any, level: Any, layer: int | None):
        if type(c) is not self.ndarray or not c._c_contiguous or c.dtype != _F32:
            return None
        mp = c.data
        shape = c.shape
        ncomp = self.ncomp
        if mp.device_id != self.device or not shape:
            return None
        if shape[-1] == ncomp:
            pts = shape[:-1]
        elif ncomp == 1:
            pts = shape  # (...,) 1D coordinates: the general path adds the axis
        else:
            return None
        if ncomp == 2 and mp.ptr & 7:
            return None  # the general path copies to 8-byte aligned (x, y) pairs
        if current_device() != self.device:
            return None
        head = self.fixed
        if layer is not None:  # layer= an int, of a whole layered image
            lay = _LAYER_CONSTANTS.get((self.device, layer)) if 0 <= layer < self.layers else None
            if lay is None:
                return None  # out of range (or not made yet): the general path
            head += (lay, self.zero)
        if self.level_given:
            head += (numpy.float32(level or 0.0),)
        else:
            head += self.level_fixed
        n = c.size // ncomp
        out = self.empty(pts + self.suffix, self.dtype)
        self.fn(((n + 255) >> 8 or 1,), (256,), head + (c, out, self.i64(n)))
        return out


def _slice_indices(k: slice, size: int) -> tuple[int, int, int]:
    """``k.indices(size)``, with NumPy's complaints as family errors."""
    try:
        return k.indices(size)
    except ValueError:  # "slice step cannot be zero"
        raise ImageArrayValueError(f"slice step cannot be zero: {k!r}") from None
    except Exception:  # TypeError, or what a broken __index__ raises
        raise ImageArrayTypeError(f"slice indices must be integers or None, got {k!r}") from None


class _Scope:
    """``ImageArray._on``: a device (through ``on_device``) and, optionally, a stream
    made current (a plain class: it sits on every sample()/fetch() call, where a
    generator-based context manager would cost more than the launch)."""

    __slots__ = ("_device", "_stream", "_entered")

    def __init__(self, device: int, stream: Any) -> None:
        self._device = device
        self._stream = stream
        self._entered: list = []

    def __enter__(self) -> None:
        import cupy

        entered = self._entered
        device = on_device(self._device)  # skips the switch when already current
        device.__enter__()
        entered.append(device)
        if self._stream is not None:
            try:
                handle = get_stream(self._stream, self._device)  # checks the stream's device
                s = self._stream
                if not isinstance(s, (cupy.cuda.Stream, cupy.cuda.ExternalStream)):
                    s = cupy.cuda.Stream.from_external(_RawStream(handle))
                s.__enter__()
            except BaseException:
                self.__exit__(None, None, None)
                raise
            entered.append(s)

    def __exit__(self, *exc) -> None:
        entered = self._entered
        while entered:
            entered.pop().__exit__(*exc)


def _result_shape(shape: tuple[int, ...], key: tuple) -> tuple[int, ...]:
    """The shape NumPy gives ``a[key]`` for ``a`` of ``shape``, without memory."""
    proxy = numpy.lib.stride_tricks.as_strided(
        numpy.zeros(1, dtype=numpy.bool_), shape=shape, strides=(0,) * len(shape)
    )
    return proxy[key].shape


class ImageArray:
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
    def _make(
        cls,
        mem: ImageMem,
        handle,
        view_desc: ImageDescriptor,
        origin: tuple[int, int, int] = (0, 0, 0),
        level: int = 0,
    ) -> ImageArray:
        self = object.__new__(cls)
        self._mem = mem
        self._handle = handle
        self._vdesc = view_desc
        self._origin = origin
        self._level = level
        self._axes = _axis_map(view_desc)
        self._whole_mipmap = False  # True: handles are made for every level
        self._textures: dict = {}
        self._surface = None
        self._splans: dict | None = None  # sample() plans of this view (see _sample_plans)
        return self

    @classmethod
    def from_mem(cls, mem: ImageMem) -> ImageArray:
        """Wrap existing :class:`ImageMem` (the array keeps it alive)."""
        desc = mem.descriptor
        if desc.type.is_mipmapped:
            from imagearray._image_mem import get_mip_level_mem_handle

            level0 = get_mip_level_mem_handle(mem.handle, 0)
            self = cls._make(mem, level0, desc.mip_level_desc(0))
            self._whole_mipmap = True
            return self
        return cls._make(mem, mem.handle, desc)

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
        from imagearray._external import image_array_from_external

        return image_array_from_external(
            memory, desc, offset=offset, device=device, color_attachment=color_attachment
        )

    # ------------------------------------------------------------ attributes
    @property
    def descriptor(self) -> ImageDescriptor:
        """The descriptor of the whole allocation (all levels and layers)."""
        return self._mem.descriptor

    @property
    def view_descriptor(self) -> ImageDescriptor:
        """The descriptor of what this array shows (one level; one layer for views)."""
        return self._vdesc

    @property
    def mem(self) -> ImageMem:
        return self._mem

    @property
    def shape(self) -> tuple[int, ...]:
        return self._vdesc.host_shape

    @property
    def dtype(self) -> numpy.dtype:
        return self._vdesc.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(numpy.prod(self.shape, dtype=numpy.int64))

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def channels(self) -> int:
        return self._vdesc.num_channels

    @property
    def image_type(self) -> ImageType:
        return self._vdesc.type

    @property
    def levels(self) -> int:
        """Mip levels of the allocation (1 when not mipmapped)."""
        return self._mem.descriptor.num_levels

    @property
    def level(self) -> int:
        """The mip level this array shows."""
        return self._level

    @property
    def layers(self) -> int:
        """Layers (cubemap faces) this array shows (1 when not layered)."""
        return self._vdesc.num_layers

    @property
    def device(self):
        import cupy

        return cupy.cuda.Device(self._handle.device)

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
    def _check_alive(self) -> None:
        if not self._handle.alive:
            raise ReleasedResourceError("this ImageArray's memory was already freed")

    def mip(self, level: int) -> ImageArray:
        """A view of mip level ``level`` (same memory)."""
        desc = self._mem.descriptor
        if not desc.type.is_mipmapped:
            raise ImageArrayValueError(f"{self!r} is not mipmapped")
        if self._origin != (0, 0, 0) or self._vdesc != desc.mip_level_desc(self._level):
            raise ImageArrayValueError("take mip levels of the whole image, then layers or faces")
        level = coerce_int("level", level, None)
        if not 0 <= level < self.levels:
            raise ImageArrayIndexError(f"mip level {level} out of range for {self.levels} levels")
        self._check_alive()
        from imagearray._image_mem import get_mip_level_mem_handle

        handle = get_mip_level_mem_handle(self._mem.handle, level)
        return ImageArray._make(self._mem, handle, desc.mip_level_desc(level), level=level)

    def _single(self, index: int, kind: str) -> ImageArray:
        n = self.layers
        index = coerce_int(kind, index, None)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise ImageArrayIndexError(f"{kind} {index} out of range for {n} {kind}s")
        v = self._vdesc
        single = ImageDescriptor(
            v.width,
            v.height,
            0,
            v.channel_order,
            v.channel_type,
            ImageType.STANDARD,
        )
        self._check_alive()
        return ImageArray._make(
            self._mem, self._handle, single, (0, 0, self._origin[2] + index), self._level
        )

    def layer(self, index: int) -> ImageArray:
        """A view of layer ``index`` of a layered image (same memory)."""
        if not self._vdesc.type.is_layered:
            raise ImageArrayValueError(
                f"layer() needs a layered image, not {self._vdesc.type.value}"
            )
        return self._single(index, "layer")

    def face(self, index: int) -> ImageArray:
        """A view of cubemap face ``index`` (0..5: +x, -x, +y, -y, +z, -z; for arrays of
        cubemaps, 6 * cube + face) on the same memory."""
        if not self._vdesc.type.is_cubemap:
            raise ImageArrayValueError(f"face() needs a cubemap, not {self._vdesc.type.value}")
        return self._single(index, "face")

    # ------------------------------------------------------------ copies
    def _on(self, stream: Any) -> _Scope:
        """This image's device current, and ``stream`` (default: that device's current
        CuPy stream) CuPy's current stream. CuPy temporaries made inside come from
        that stream's memory-pool arena and their kernels run on it: they are ordered
        before the copies and launches enqueued there, and are not reused by other
        work before those ran."""
        return _Scope(self._handle.device, stream)

    def _endpoint(self) -> Endpoint:
        self._check_alive()
        return Endpoint(
            IMAGE,
            self._handle.device,
            self._handle.raw(),
            desc=self._vdesc,
            origin=self._origin,
            owner=self,
        )

    def _region(self, lo, ext, buf, buf_kind: str, to_image: bool, stream) -> Any:
        """Copy the box ``lo``..``lo+ext`` (x, y, z) between this image and a tightly
        packed buffer holding exactly that box."""
        self._check_alive()
        t = self._vdesc.texel_size
        o = self._origin
        img = (
            _KIND_CODE[IMAGE],
            self._handle.raw(),
            0,
            0,
            (lo[0] + o[0]) * t,
            lo[1] + o[1],
            lo[2] + o[2],
        )
        if buf_kind == HOST:
            addr, bdev = buf.ctypes.data, None
        else:
            addr, bdev = buf.data.ptr, buf.device.id
        other = (_KIND_CODE[buf_kind], int(addr), ext[0] * t, ext[1], 0, 0, 0)
        dev = self._handle.device
        plan = CopyPlan(
            src=other if to_image else img,
            dst=img if to_image else other,
            extent=(ext[0] * t, ext[1], ext[2]),
            src_device=bdev if to_image else dev,
            dst_device=dev if to_image else bdev,
        )
        with self._on(stream):
            return execute(plan, get_stream(None, dev), dev)

    def _box_shape(self, ext) -> tuple[int, ...]:
        """Host (C-order) shape of a box ``ext`` (x, y, z) of this view."""
        shape = tuple(ext[a] for a in self._axes)
        return shape + ((self.channels,) if self.channels > 1 else ())

    def _whole(self):
        w, h, d = self._vdesc.extent
        if self._vdesc.type.is_layered or self._vdesc.type.is_cubemap:
            d = self._vdesc.num_layers
        return (0, 0, 0), (w, h, d)

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
        from imagearray._copy_optimize import note_copy

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
        from imagearray._copy_optimize import note_copy

        with self._on(stream):  # conversions run on, and temporaries belong to, the stream
            arr, kind = self._as_source(value, self._box_shape(ext))
            ev = self._region(lo, ext, arr, kind, True, stream)
        # A temporary host buffer must outlive the copy: wait, unless it is prepared
        # memory (then it is the caller's array, kept alive by the registry).
        if kind == HOST and not note_copy(arr.ctypes.data, arr.nbytes, ev):
            ev.synchronize()

    # ------------------------------------------------------------ indexing
    def _normalize(self, key: Any):
        """Split a basic-indexing key into per-axis (start, stop, step, n, is_int) for
        the image axes, the channel key and the trailing NumPy key. Returns None for
        keys that need advanced indexing."""
        if not isinstance(key, tuple):
            key = (key,)
        if _has_advanced(key):
            return None
        n_img = len(self._axes)
        ndim = self.ndim
        n_real = sum(1 for k in key if k is not None and k is not Ellipsis)
        if sum(1 for k in key if k is Ellipsis) > 1:
            raise ImageArrayIndexError("an index can only have a single ellipsis ('...')")
        if n_real > ndim:
            raise ImageArrayIndexError(
                f"too many indices for array: array is {ndim}-dimensional, "
                f"but {n_real} were indexed"
            )
        expanded: list[Any] = []
        for k in key:
            if k is Ellipsis:
                expanded.extend([slice(None)] * (ndim - n_real))
            else:
                expanded.append(k)
        if Ellipsis not in key:
            expanded.extend([slice(None)] * (ndim - n_real))
        real = [k for k in expanded if k is not None]
        for k in real[n_img:]:  # the channel axis: validate before any copy
            if isinstance(k, slice):
                _slice_indices(k, self.channels)
            elif not -self.channels <= operator.index(k) < self.channels:
                raise ImageArrayIndexError(
                    f"index {k} is out of bounds for axis {n_img} with size {self.channels}"
                )
        per_axis = []
        for axis, (k, size) in enumerate(zip(real[:n_img], self.shape)):
            if isinstance(k, slice):
                start, stop, step = _slice_indices(k, size)
                n = len(range(start, stop, step))
                per_axis.append((start, stop, step, n, False))
            else:
                i = operator.index(k)
                if not -size <= i < size:
                    raise ImageArrayIndexError(
                        f"index {i} is out of bounds for axis {axis} with size {size}"
                    )
                i %= size
                per_axis.append((i, i + 1, 1, 1, True))
        return expanded, per_axis

    def _bbox(self, per_axis):
        lo = [0, 0, 0]
        ext = [1, 1, 1]
        rel = []
        for box_axis, (start, _stop, step, n, is_int) in zip(self._axes, per_axis):
            if is_int:
                first, last = start, start
            elif step > 0:
                first, last = start, start + (n - 1) * step
            else:
                first, last = start + (n - 1) * step, start
            lo[box_axis] = first
            ext[box_axis] = last - first + 1
            if is_int:
                rel.append(0)
            else:
                rs = start - first
                end = rs + n * step
                rel.append(slice(rs, end if end >= 0 else None, step))
        return tuple(lo), tuple(ext), rel

    def _relative_key(self, expanded, per_axis, rel):
        out = []
        i = 0
        n_img = len(per_axis)
        for k in expanded:
            if k is None:
                out.append(None)
            elif i < n_img:
                out.append(rel[i])
                i += 1
            else:
                out.append(k)  # channel axis key, applied as is
                i += 1
        return tuple(out)

    def __getitem__(self, key: Any):
        import cupy

        norm = self._normalize(key)
        if norm is None:
            return self.to_cupy()[key]
        expanded, per_axis = norm
        if any(n == 0 for *_, n, _ in per_axis):
            with cupy.cuda.Device(self._handle.device):
                return cupy.empty(_result_shape(self.shape, tuple(expanded)), dtype=self.dtype)
        lo, ext, rel = self._bbox(per_axis)
        with cupy.cuda.Device(self._handle.device):
            buf = cupy.empty(self._box_shape(ext), dtype=self.dtype)
        self._region(lo, ext, buf, DEVICE, False, None)
        # Basic indexing of the box: a view, no further copy.
        return buf[self._relative_key(expanded, per_axis, rel)]

    def __setitem__(self, key: Any, value: Any) -> None:
        import cupy

        if isinstance(value, ImageArray):
            value = value.to_cupy()
        norm = self._normalize(key)
        if norm is None:
            whole = self.to_cupy()
            whole[key] = value
            self._write(*self._whole(), whole, None)
            return
        expanded, per_axis = norm
        if any(n == 0 for *_, n, _ in per_axis):
            return
        lo, ext, rel = self._bbox(per_axis)
        rkey = self._relative_key(expanded, per_axis, rel)
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
    def _handle_cache(self) -> dict:
        cache = getattr(self._mem, "_ia_handle_cache", None)
        if cache is None:
            cache = self._mem._ia_handle_cache = {}
        return cache

    def _cached(self, target: Any, key: Any, sampler: Any):
        from imagearray._image_handles import create_image

        cache = self._handle_cache()
        h = cache.get(key)
        if h is None or not h.alive:
            h = cache[key] = create_image(target, sampler=sampler)
        return h

    def _is_view(self) -> bool:
        return self._origin != (0, 0, 0) or (
            self._vdesc.type is ImageType.STANDARD
            and (self.descriptor.type.is_layered or self.descriptor.type.is_cubemap)
        )

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
        return self._texture(self._default_sampler() if sampler is None else sampler)

    def _texture(self, sampler: Any):
        target = self if self._whole_mipmap else self._handle
        return self._cached(target, (id(self._handle), self._whole_mipmap, sampler), sampler)

    def surface(self):
        """An :class:`UnsampledImageHandle` (surface) of this image (of the whole
        layered or cubemap image for layer and face views), cached."""
        if self._whole_mipmap:
            raise ImageArrayValueError(
                "a mipmap has no unsampled handle (spec): take surface() of a level, img.mip(l)"
            )
        return self._cached(self._handle, (id(self._handle), "surface"), None)

    def _default_sampler(self):
        cached = self.__dict__.get("_dsampler")  # made once: sample() uses it per call
        if cached is None:
            cached = self._dsampler = self._make_default_sampler()
        return cached

    def _make_default_sampler(self):
        from imagearray._sampler import Sampler

        ct = self._vdesc.channel_type
        filterable = ct.is_normalized or ct.dtype_name in ("float16", "float32")
        normalized = self.descriptor.type.is_mipmapped or self.descriptor.type.is_cubemap
        return Sampler(
            "clamp_to_edge",
            "normalized" if normalized else "unnormalized",
            "linear" if filterable else "nearest",
            mipmap_filtering="linear" if filterable else "nearest",
            max_mipmap_level_clamp=float(self.levels - 1),
        )

    def _kernel_kind(self) -> str:
        from imagearray import _kernels as k

        t = self.descriptor.type
        if t is ImageType.CUBEMAP_ARRAY:
            return k.CUBEMAP_LAYERED
        if t.is_cubemap:
            return k.CUBEMAP
        return k.LAYERED if t.is_layered else k.STANDARD

    def _run(self, kernel, n: int, args: tuple) -> None:
        """Launch over ``n`` points on the current device and stream (callers are
        inside ``_on``)."""
        from imagearray._kernels import grid

        kernel(*grid(n), args)

    def _points(self, coords: Any, name: str, dtype, ncomp: int):
        import cupy

        # inside _on: the image's device is current
        c = cupy.asarray(coords)
        if ncomp == 1 and (c.ndim == 0 or c.shape[-1] != 1):
            c = c[..., None]
        if c.ndim == 0 or c.shape[-1] != ncomp:
            raise ImageArrayValueError(
                f"{name} must have {ncomp} component(s) on the last axis (texture order "
                f"x, y, z), not shape {c.shape}"
            )
        return cupy.ascontiguousarray(c, dtype=dtype)

    def _layer_arg(self, value: Any, points_shape: tuple, name: str, count: int):
        """(int32 array, step) selecting a layer per point: a fixed view layer, or
        ``value`` (an int or an array broadcast against the points)."""
        import cupy

        fixed = self._origin[2] if self._is_view() else None
        if fixed is not None:
            if value is not None:
                raise ImageArrayValueError(f"this view already selects its {name}")
            value = fixed
        if value is None:
            if count > 1:
                raise ImageArrayValueError(
                    f"{name}= is required for this {self.image_type.value} image"
                )
            value = 0
        if (
            isinstance(value, (int, numpy.integer))
            and not isinstance(value, bool)
            and (0 <= value < max(count, 1))
        ):
            # One layer for every point: a cached one-element array, so a plain
            # sample() allocates and uploads nothing besides its output.
            return _layer_constant(self._handle.device, int(value)), 0
        arr = cupy.asarray(value, dtype=cupy.int32)  # inside _on: on the image's device
        if arr.ndim == 0:
            return arr.reshape(1), 0
        return cupy.ascontiguousarray(cupy.broadcast_to(arr, points_shape)), 1

    def _sample(self, kind, coords, sampler, layer, count, level, dx, dy):
        """Inside ``_on(stream)``: every array is made, and the kernel runs, there."""
        import cupy

        from imagearray import _kernels as k

        if (dx is None) != (dy is None):
            raise ImageArrayValueError("dx and dy are given together")
        if level is not None and dx is not None:
            raise ImageArrayValueError("give either level or dx/dy, not both")
        sampler = self._default_sampler() if sampler is None else sampler
        tex = self._texture(sampler)
        ncomp = k.coord_count(kind, self._vdesc.dimensions)
        c = self._points(coords, "coords", cupy.float32, ncomp)
        if ncomp == 2 and c.data.ptr % 8:
            c = c.copy()  # the kernel reads (x, y) as one float2: 8-byte aligned
        pts = c.shape[:-1]
        n = math.prod(pts)
        lay, step = self._layer_arg(layer, pts, "layer", count)
        vt, ot, out_dtype = k.read_types(self._vdesc.channel_type, self.channels)
        mode, gx, gy = k.PLAIN, c, c
        if level is not None or self._whole_mipmap:
            mode = k.LEVEL
        if dx is not None:
            mode = k.GRADIENT
            gx = cupy.ascontiguousarray(
                cupy.broadcast_to(self._points(dx, "dx", cupy.float32, ncomp), c.shape)
            )
            gy = cupy.ascontiguousarray(
                cupy.broadcast_to(self._points(dy, "dy", cupy.float32, ncomp), c.shape)
            )
        out = cupy.empty(pts + ((self.channels,) if self.channels > 1 else ()), out_dtype)
        kernel = k.sample_kernel(kind, self._vdesc.dimensions, vt, ot, mode)
        args = k.sample_args(
            kind,
            mode,
            tex=tex,
            layer=lay,
            layer_step=numpy.int64(step),
            level=numpy.float32(level or 0.0),
            c=c,
            dx=gx,
            dy=gy,
            out=out,
            n=numpy.int64(n),
        )
        self._run(kernel, n, args)
        return out

    def _sample_plans(self) -> dict:
        """This view's sample() plans: (id(sampler), level is None) -> _SamplePlan.
        Kept with the memory's handles (one dict per view of it, shared by every
        ImageArray showing that view) and emptied by free(), so a plan never keeps
        a sampler or handle alive beyond the handle cache that already holds them."""
        plans = self._splans
        if plans is None:
            cache = self._handle_cache()
            key = (_PLANS_KEY, id(self._handle), self._origin, self._whole_mipmap, self._vdesc)
            plans = cache.get(key)
            if plans is None:
                plans = cache[key] = {}
            self._splans = plans
        return plans

    def _sample_plan(self, sampler: Any, level_given: bool, layer_given: bool):
        """A _SamplePlan for sample(coords, sampler[, level=][, layer=int]) with no
        dx/dy or stream, or None where the general path must run: cubemaps, layered
        images without a layer, layer= for others or for a layer view (all of which
        raise there or convert the layer), another device current, a sampler that is
        not an ia.Sampler."""
        import cupy

        kind = self._kernel_kind()
        if kind not in (_k.STANDARD, _k.LAYERED) or not hasattr(cupy.ndarray, "_c_contiguous"):
            return None
        dev = self._handle.device
        if current_device() != dev:  # or no usable device: the general path reports it
            return None
        sampler_ = self._default_sampler() if sampler is None else sampler
        if type(sampler_) is not Sampler:
            return None
        layered = kind == _k.LAYERED
        if layer_given != (layered and not self._is_view()):
            return None
        # What the general path does first, in its order (and with its errors).
        tex = self._texture(sampler_)
        mode = _k.LEVEL if level_given or self._whole_mipmap else _k.PLAIN
        vt, ot, out_dtype = _k.read_types(self._vdesc.channel_type, self.channels)
        kernel = _k.sample_kernel(kind, self._vdesc.dimensions, vt, ot, mode)
        u64, i64 = _k.by_value_types()
        fixed: tuple = (u64(int(tex)),)
        if layered and not layer_given:  # a layer view: its layer, for every point
            lay, step = self._layer_arg(None, (), "layer", self.descriptor.num_layers)
            fixed += (lay, i64(step))
        level_fixed = (numpy.float32(0.0),) if mode == _k.LEVEL and not level_given else ()
        plan = _SamplePlan()
        plan.sampler = sampler
        plan.tex = tex
        plan.texobj = tex._obj
        # The compiled function (RawKernel.kernel, on this device): calling it skips
        # RawKernel's per-call device lookup.
        plan.fn = getattr(kernel, "kernel", kernel)
        plan.fixed = fixed
        plan.level_fixed = level_fixed
        plan.level_given = level_given
        plan.layers = self.descriptor.num_layers if layer_given else 0
        plan.zero = i64(0)
        plan.ncomp = _k.coord_count(kind, self._vdesc.dimensions)
        plan.suffix = (self.channels,) if self.channels > 1 else ()
        plan.dtype = out_dtype
        plan.device = dev
        plan.ndarray = cupy.ndarray
        plan.empty = cupy.empty
        plan.i64 = i64
        return plan

    def sample(
        self,
        coords: Any,
        sampler: Any = None,
        *,
        layer: Any = None,
        level: float | None = None,
        dx: Any = None,
        dy: Any = None,
        stream: Any = None,
    ):
        """Sample the image at ``coords`` through the texture unit.

        Parameters
        ----------
        coords : array_like
            Coordinates in **texture order** on the last axis: ``(..., 1)`` or
            ``(...,)`` for 1D, ``(..., 2)`` as (x, y) for 2D, ``(..., 3)`` for 3D.
            Unnormalized coordinates are in texels (texel centres at i + 0.5),
            normalized ones in [0, 1].
        sampler : Sampler, optional
            Default: clamp-to-edge, linear filtering (nearest for integer channel
            types, which CUDA cannot filter), unnormalized coordinates (normalized
            for mipmaps).
        layer : int or array_like, optional
            For layered images (image arrays): the layer of each point (an int, or
            an array broadcast against the points). A :meth:`layer` view samples its
            own layer. Layers are never filtered across.
        level : float, optional
            Mip level to sample (mipmapped images; default 0).
        dx, dy : array_like, optional
            Gradients (same layout as ``coords``, or one vector for all points) that
            select the mip level as the hardware would.
        stream : optional
            Default: CuPy's current stream.

        Returns
        -------
        cupy.ndarray
            Shape ``coords.shape[:-1]`` (+ ``(channels,)``), float32 for float and
            normalized channel types, the storage type for integer ones.

        Examples
        --------
        >>> img = ia.asimage(numpy.arange(16, dtype=numpy.float32).reshape(4, 4))  # doctest: +SKIP
        >>> img.sample(cupy.array([[1.0, 0.5]]))  # doctest: +SKIP
        array([0.5], dtype=float32)
        """
        if dx is None and dy is None and stream is None and (layer is None or type(layer) is int):
            # The common calls: a plan made on the first such call launches them with
            # the checks that still depend on the arguments (see _SamplePlan).
            plans = self._splans
            if plans is None:
                plans = self._sample_plans()
            key = (id(sampler), level is None, layer is None)
            plan = plans.get(key)
            if plan is None or not plan.texobj.alive:
                plan = self._sample_plan(sampler, level is not None, layer is not None)
                if plan is not None:
                    if len(plans) >= _MAX_PLANS:
                        plans.clear()
                    plans[key] = plan  # the plan holds the sampler: its id stays unique
            if plan is not None:
                out = plan.launch(coords, level, layer)
                if out is not None:
                    return out
        from imagearray import _kernels as k

        kind = self._kernel_kind()
        if kind in (k.CUBEMAP, k.CUBEMAP_LAYERED):
            raise ImageArrayValueError(
                "cubemaps are sampled with a direction vector: use sample_cubemap()"
            )
        count = self.descriptor.num_layers
        with self._on(stream):  # argument arrays on the launch stream (see _on)
            return self._sample(kind, coords, sampler, layer, count, level, dx, dy)

    def sample_cubemap(
        self,
        directions: Any,
        sampler: Any = None,
        *,
        cube: Any = None,
        level: float | None = None,
        dx: Any = None,
        dy: Any = None,
        stream: Any = None,
    ):
        """Sample a cubemap along direction vectors ``(..., 3)`` (x, y, z from the
        cube's centre; face selection per CUDA's cubemap table). ``cube`` picks the
        cubemap of an array of cubemaps. The sampler's ``cubemap_filtering``
        (disjointed or seamless) decides how filtering treats face edges."""
        from imagearray import _kernels as k

        kind = self._kernel_kind()
        if kind not in (k.CUBEMAP, k.CUBEMAP_LAYERED) or self._is_view():
            raise ImageArrayValueError("sample_cubemap() needs a whole cubemap image")
        count = self.descriptor.array_size if kind == k.CUBEMAP_LAYERED else 1
        with self._on(stream):  # argument arrays on the launch stream (see _on)
            return self._sample(kind, directions, sampler, cube, count, level, dx, dy)

    def fetch(self, indices: Any, *, layer: Any = None, face: Any = None, stream: Any = None):
        """Read texels at integer ``indices`` exactly as stored (no filtering, no
        normalization), through a surface.

        ``indices`` has texture order (x[, y[, z]]) on the last axis. For layered
        images give ``layer`` (int or array broadcast against the points), for
        cubemaps ``face`` (0..5, or 6 * cube + face for arrays of cubemaps); layer
        and face views read their own. Indices outside the image read zero. Returns
        a CuPy array of shape ``indices.shape[:-1]`` (+ ``(channels,)``) and this
        image's dtype.
        """
        kind = self._kernel_kind()
        if self._whole_mipmap:
            raise ImageArrayValueError("fetch() reads one level: use img.mip(l).fetch(...)")
        if layer is not None and face is not None:
            raise ImageArrayValueError("give layer or face, not both")
        with self._on(stream):  # argument arrays on the launch stream (see _on)
            return self._fetch(kind, indices, face if layer is None else layer)

    def _fetch(self, kind: str, indices: Any, layer: Any):
        """Inside ``_on(stream)``: every array is made, and the kernel runs, there."""
        import cupy

        from imagearray import _kernels as k

        surf = self.surface()
        ncomp = 2 if kind in (k.CUBEMAP, k.CUBEMAP_LAYERED) else self._vdesc.dimensions
        idx = self._points(indices, "indices", cupy.int32, ncomp)
        pts = idx.shape[:-1]
        n = math.prod(pts)
        level_desc = self._handle.desc if self._handle.desc is not None else self._vdesc
        nl = level_desc.num_layers
        name = "face" if kind in (k.CUBEMAP, k.CUBEMAP_LAYERED) else "layer"
        lay, step = self._layer_arg(layer, pts, name, nl)
        out = cupy.empty(pts + ((self.channels,) if self.channels > 1 else ()), self.dtype)
        w, h, d = self._vdesc.extent
        vt = k.fetch_types(self._vdesc.texel_size, self.channels)
        kernel = k.fetch_kernel(kind, self._vdesc.dimensions, vt)
        args = (
            surf,
            idx,
            lay,
            numpy.int32(step),
            out,
            numpy.int64(n),
            numpy.int32(w),
            numpy.int32(h),
            numpy.int32(d),
            numpy.int32(nl),
        )
        self._run(kernel, n, args)
        return out

    def generate_mipmaps(self, kernel: Any = None, *, stream: Any = None) -> None:
        """Fill levels 1.. of a mipmapped image from level 0, on the GPU.

        The default is an exact box filter: each texel of level l averages the area
        it covers in level l - 1 (for odd sizes, edge texels of the finer level count
        with fractional weights), in float, rounded to nearest for integer and
        normalized integer types. Layers and cubemap faces are filtered separately.

        ``kernel``, optionally, is a ``cupy.RawKernel`` run once per level with
        arguments ``(src, dst, src_w, src_h, src_d, dst_w, dst_h, dst_d, layers,
        layered)`` where ``src``/``dst`` are ``ia::unsampled_image_handle``s of
        levels l - 1 and l, over a grid of 16 x 16 blocks covering (dst_w, dst_h)
        and ``dst_d`` (or ``layers``) blocks in z.
        """
        from imagearray import _kernels as k

        desc = self.descriptor
        if not desc.type.is_mipmapped:
            raise ImageArrayValueError(f"generate_mipmaps() needs a mipmapped image, not {desc}")
        if not self._whole_mipmap:
            raise ImageArrayValueError("generate_mipmaps() works on the whole mipmapped image")
        dims = desc.dimensions
        layered = desc.type.is_layered or desc.type.is_cubemap
        own = kernel is None
        if own:
            kernel = k.mipgen_kernel(desc.dtype.name, desc.num_channels, dims, layered)
        with self._on(stream):
            launches = self._mipgen_launches(layered)
            if own:
                # The compiled function for the image's device (current here): calling
                # it skips RawKernel's per-call lookup.
                kernel = getattr(kernel, "kernel", kernel)
                graph = self._mipgen_graph(kernel, launches)
                if graph is not None:
                    graph.launch()  # on the current (the given) stream
                    return
            _launch_all(kernel, launches)

    #: Pyramids of at least this many levels replay a captured CUDA graph.
    _GRAPH_LEVELS = 4

    def _mipgen_graph(self, kernel: Any, launches: list) -> Any:
        """``launches`` of the default filter's compiled ``kernel`` captured once into a
        CUDA graph (cached with the launches it was made from), or None where capture
        is not worth it or failed. A 4096^2 pyramid is 12 launches: one by one, the
        H100 spent ~9 us of Python and driver time on each, more than the small levels
        take on the GPU."""
        cache = self._handle_cache()
        hit = cache.get("mipgen_graph")
        if hit is not None and hit[0] is launches:
            return hit[1]
        graph = None
        if len(launches) >= self._GRAPH_LEVELS:
            import cupy

            side = cupy.cuda.Stream(non_blocking=True)
            try:
                side.begin_capture()
                try:
                    with side:
                        _launch_all(kernel, launches)
                finally:
                    graph = side.end_capture()
            except Exception:  # no capture here (driver, mode): launch one by one
                graph = None
        cache["mipgen_graph"] = (launches, graph)
        return graph

    def _mipgen_launches(self, layered: bool) -> list:
        """((grid, block), args) of each level's launch, made once and cached with the
        surfaces they name (Python work per call is then a loop of launches)."""
        cache = self._handle_cache()
        launches = cache.get("mipgen")
        if launches is not None and all(a[0].alive and a[1].alive for _, a in launches):
            return launches
        desc = self.descriptor
        launches = []
        for level in range(1, desc.num_levels):
            src, dst = self.mip(level - 1), self.mip(level)
            sw, sh, sd = src.view_descriptor.extent
            dw, dh, dd = dst.view_descriptor.extent
            zs = desc.num_layers if layered else dd
            g = ((-(-dw // 16), -(-dh // 16), zs), (16, 16, 1))
            args = (src.surface(), dst.surface(), *map(numpy.int32, (sw, sh, sd, dw, dh, dd)))
            args += (numpy.int32(desc.num_layers if layered else 1), numpy.int32(int(layered)))
            launches.append((g, args))
        cache["mipgen"] = launches
        return launches

    # ------------------------------------------------------------ lifetime
    def free(self) -> None:
        """Free the image memory now (every view of it becomes unusable). Handles
        this array handed out (``texture()``, ``surface()``) are destroyed first."""
        for key, h in self._handle_cache().items():
            if isinstance(key, tuple) and key[0] is _PLANS_KEY:
                h.clear()  # sample() plans (dicts) name the handles destroyed here
            elif key not in ("mipgen", "mipgen_graph") and h.alive:  # launches, not handles
                h.destroy()
        self._handle_cache().clear()
        self._mem.free()


def _launch_all(kernel: Any, launches: list) -> None:
    """Run ``kernel`` once per ``((grid, block), args)`` of ``launches``, in order."""
    for grid, args in launches:
        kernel(*grid, args)


def _as_bool(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, numpy.bool_)):
        raise ImageArrayTypeError(
            f"{name} must be a bool, got {value!r} of type {type(value).__name__}"
        )
    return bool(value)


def _as_shape(shape: Any) -> tuple:
    """``shape`` (an int or a sequence) as a tuple; its items are checked by
    ``ImageDescriptor.from_shape``, which names the offending axis."""
    if isinstance(shape, (int, numpy.integer)) and not isinstance(shape, (bool, numpy.bool_)):
        return (int(shape),)
    try:
        if isinstance(shape, (str, bytes, bool, numpy.bool_)):
            raise TypeError(shape)
        return tuple(shape)
    except Exception:
        raise ImageArrayTypeError(
            f"shape must be an int or a sequence of ints, got {shape!r} of type "
            f"{type(shape).__name__}"
        ) from None


def _make_desc(shape, dtype, channels, layers, cubemap, levels, normalized) -> ImageDescriptor:
    shape = _as_shape(shape)
    levels = coerce_int("levels", levels, None)  # the range is checked by verify()
    if _as_bool("cubemap", cubemap):
        if layers is not None:
            t = ImageType.CUBEMAP_ARRAY
            if levels > 1:
                raise ImageArrayValueError("CUDA has no mipmapped arrays of cubemaps")
        else:
            t = ImageType.MIPMAP_CUBEMAP if levels > 1 else ImageType.CUBEMAP
    elif layers is not None:
        t = ImageType.MIPMAP_ARRAY if levels > 1 else ImageType.ARRAY
    else:
        t = ImageType.MIPMAP if levels > 1 else ImageType.STANDARD
    array_size = layers if layers is not None else (6 if cubemap else 1)
    return ImageDescriptor.from_shape(
        shape,
        dtype,
        channels,
        image_type=t,
        num_levels=levels,
        array_size=array_size,
        normalized=normalized,
    )


def empty(
    shape,
    dtype: Any = numpy.float32,
    channels: int = 1,
    *,
    layers: int | None = None,
    cubemap: bool = False,
    levels: int = 1,
    normalized: bool = False,
    device: Any = None,
) -> ImageArray:
    """A new uninitialised image.

    Parameters
    ----------
    shape : int or tuple of int
        Spatial shape in NumPy order: ``(width,)``, ``(height, width)`` or
        ``(depth, height, width)``; for cubemaps the face ``(size, size)``. Layers
        and channels are not part of it.
    dtype : int8/16/32, uint8/16/32, float16 or float32
    channels : 1, 2 or 4
    layers : int, optional
        Make a layered image (image array) of this many layers; with ``cubemap``, the
        number of cubemaps.
    cubemap : bool
        Make a cubemap (6 faces).
    levels : int
        Mip levels (> 1 makes a mipmapped image).
    normalized : bool
        8/16-bit integers read as normalized floats (unorm/snorm) when sampled.
    device : int or cupy.cuda.Device, optional

    Examples
    --------
    >>> img = ia.empty((480, 640), numpy.uint8, channels=4)  # doctest: +SKIP
    >>> img.shape  # doctest: +SKIP
    (480, 640, 4)
    """
    desc = _make_desc(shape, dtype, channels, layers, cubemap, levels, normalized)
    return ImageArray.from_mem(ImageMem(desc, device))


def zeros(shape, dtype: Any = numpy.float32, channels: int = 1, **kwargs: Any) -> ImageArray:
    """Like :func:`empty`, with every level, layer and texel set to zero."""
    import cupy

    img = empty(shape, dtype, channels, **kwargs)
    with cupy.cuda.Device(img._handle.device):
        for level in range(img.levels):
            view = img.mip(level) if img.levels > 1 else img
            buf = cupy.zeros(view.shape, dtype=view.dtype)
            view._region(*view._whole(), buf, DEVICE, True, None)
    return img


def asimage(
    a: Any,
    *,
    channels: int = 1,
    layered: bool = False,
    cubemap: bool = False,
    normalized: bool = False,
    device: Any = None,
    stream: Any = None,
) -> ImageArray:
    """An image holding a copy of ``a`` (NumPy or CuPy array).

    ``a``'s axes, in NumPy order: ``[layers or faces,] [depth,] [height,] width[,
    channels]`` — the leading axis is layers when ``layered`` (faces when
    ``cubemap``, a multiple of 6 for arrays of cubemaps when both), the last axis
    is channels when ``channels > 1``.

    Examples
    --------
    >>> img = ia.asimage(numpy.zeros((480, 640, 4), numpy.uint8), channels=4)  # doctest: +SKIP
    """
    if isinstance(a, ImageArray):
        return a
    channels = coerce_int("channels", channels, None)  # 1, 2 or 4: checked by from_shape
    layered = _as_bool("layered", layered)
    cubemap = _as_bool("cubemap", cubemap)
    if not hasattr(a, "shape") or not hasattr(a, "dtype"):
        try:
            a = numpy.asarray(a)
        except Exception as exc:  # e.g. ragged nested sequences
            raise ImageArrayValueError(
                f"cannot make an array of the {type(a).__name__} given: {exc}"
            ) from None
    try:
        shape = tuple(operator.index(n) for n in a.shape)
    except Exception:
        raise ImageArrayTypeError(
            f"a.shape must be a tuple of ints, got {getattr(a, 'shape', None)!r}"
        ) from None
    if channels > 1:
        if not shape or shape[-1] != channels:
            raise ImageArrayValueError(
                f"channels={channels} but the last axis of shape {shape} is not {channels}"
            )
        shape = shape[:-1]
    layers = None
    if cubemap or layered:
        if not shape:
            raise ImageArrayValueError("a layered or cubemap image needs a leading layer axis")
        n, shape = shape[0], shape[1:]
        if cubemap and layered:
            if n % 6:
                raise ImageArrayValueError(f"an array of cubemaps needs 6*N faces, not {n}")
            layers = n // 6
        elif cubemap:
            if n != 6:
                raise ImageArrayValueError(f"a cubemap needs 6 faces on the first axis, not {n}")
        else:
            layers = n
    if device is None and hasattr(a, "device") and hasattr(a.device, "id"):
        device = a.device.id
    # empty() checks the arguments, then the device, before allocating anything.
    img = empty(
        shape,
        a.dtype,
        channels,
        layers=layers,
        cubemap=cubemap,
        normalized=normalized,
        device=device,
    )
    img._write(*img._whole(), a, stream)
    return img
