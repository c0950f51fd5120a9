"""``ImageView``: what an ``ImageArray`` shows of image memory — one mip level (or the
whole mipmap), one layer or face, or all of them — with the level and layer views.

The layers above (copies, handles, sampling) work on these facts; ``ImageArray``
(``imagearray.array``) adds indexing, copies to and from arrays, and sampling on top.
Shapes follow NumPy's C order: ``[layers or faces,] [depth,] [height,] width[,
channels]``; boxes and origins are texture order (x, y, z).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import numpy

from imagearray._coerce import coerce_int
from imagearray._descriptor import ImageDescriptor
from imagearray._enums import ImageType
from imagearray._errors import ImageArrayIndexError, ImageArrayValueError, ReleasedResourceError
from imagearray.memory.image_mem import ImageMem, get_mip_level_mem_handle, is_gatherable
from imagearray.memory.limits import image_box
from imagearray.memory.linear import LinearImageMem

if TYPE_CHECKING:
    import cupy

if sys.version_info >= (3, 11):
    from typing import Self
else:  # pragma: no cover
    from typing import TypeVar

    Self = TypeVar("Self", bound="ImageView")

__all__ = ["ImageView", "axis_map", "result_shape"]


def result_shape(shape: tuple[int, ...], key: Any) -> tuple[int, ...]:
    """The shape NumPy gives ``a[key]`` for ``a`` of ``shape``, without memory."""
    proxy = numpy.lib.stride_tricks.as_strided(
        numpy.zeros(1, dtype=numpy.bool_), shape=shape, strides=(0,) * len(shape)
    )
    return proxy[key].shape


def axis_map(desc: ImageDescriptor) -> list[int]:
    """For each non-channel axis of ``desc.host_shape``, the box axis (0=x, 1=y, 2=z)."""
    spatial = [2, 1, 0][3 - desc.dimensions :]
    if desc.type.is_layered or desc.type.is_cubemap:
        return [2, *spatial]
    return spatial


#: (channel order, channel type, image type, dimensions, extent) -> the descriptor of
#: a region of that extent and its layout (axis_map, host_shape). One object per region
#: shape: building a descriptor costs more than the rest of a view, and copies between
#: views of equal regions then key the same descriptor (copy's memo keys descriptors
#: by id). Bounded, emptied when full.
_BOXES: dict[tuple, tuple] = {}
_BOXES_MAX = 512


class ImageView:
    """One view of image memory: ``mem`` (the whole allocation), the memory handle of
    the level shown, the view's descriptor and its origin in the allocation (a layer
    or face view starts at z = its layer). Made by ``ImageArray`` and its views."""

    _mem: ImageMem
    _handle: Any
    _vdesc: ImageDescriptor
    _origin: tuple[int, int, int]
    _level: int
    _axes: list[int]
    _whole_mipmap: bool
    _splans: dict | None
    _linear: bool
    _is_region: bool
    _sel: tuple
    _shape: tuple[int, ...]

    @classmethod
    def _make(
        cls,
        mem: ImageMem,
        handle,
        view_desc: ImageDescriptor,
        origin: tuple[int, int, int] = (0, 0, 0),
        level: int = 0,
        layout: tuple | None = None,
    ) -> Self:
        """``layout``: ``(axis_map(view_desc), view_desc.host_shape)`` where the caller
        has them."""
        self = object.__new__(cls)
        self._mem = mem
        self._handle = handle
        self._vdesc = view_desc
        self._origin = origin
        self._level = level
        if layout is None:
            layout = (axis_map(view_desc), view_desc.host_shape)
        self._axes = list(layout[0])
        self._whole_mipmap = False  # True: handles are made for every level
        self._splans: dict | None = None  # sample() plans of this view (sampling.engine)
        # Backed by linear memory (a CuPy array in a LinearImageMem), not a CUDA array.
        self._linear = isinstance(mem, LinearImageMem)
        # A region (a box of a level or layer, or a depth slice) is for reads and
        # writes; the engines sample whole images, layers, faces and levels only.
        self._is_region = False
        # Basic-indexing keys applied, in turn, to the box's NumPy-order array: a
        # view with steps or dropped axes (empty: the view is the box itself).
        self._sel = ()
        self._shape = layout[1]
        return self

    @classmethod
    def from_mem(cls, mem: ImageMem) -> Self:
        """Wrap existing :class:`ImageMem` (the array keeps it alive)."""
        desc = mem.descriptor
        if desc.type.is_mipmapped:
            level0 = get_mip_level_mem_handle(mem.handle, 0)
            self = cls._make(mem, level0, desc.mip_level_desc(0))
            self._whole_mipmap = True
            return self
        return cls._make(mem, mem.handle, desc)

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
        return self._shape

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
    def gatherable(self) -> bool:
        """Whether ``gather()`` can read this view: a whole 2D standard image in a CUDA
        array allocated with ``gather=True`` (not a region or linear memory)."""
        return (
            not self._linear
            and not self._is_region
            and self._mem.descriptor.type is ImageType.STANDARD
            and self._vdesc.dimensions == 2
            and is_gatherable(self._handle)
        )

    @property
    def device(self) -> cupy.cuda.Device:
        """The device holding the memory, as a ``cupy.cuda.Device`` (as
        ``cupy.ndarray.device``); :attr:`device_id` is its ordinal."""
        import cupy

        return cupy.cuda.Device(self._handle.device)

    @property
    def device_id(self) -> int:
        return int(self._handle.device)

    def _check_alive(self) -> None:
        if not self._handle.alive:
            raise ReleasedResourceError("this ImageArray's memory was already freed")

    def _is_view(self) -> bool:
        """True for a layer or face view (one layer of a layered or cubemap array) and
        for regions."""
        return (
            self._is_region
            or self._origin != (0, 0, 0)
            or (
                self._vdesc.type is ImageType.STANDARD
                and (self.descriptor.type.is_layered or self.descriptor.type.is_cubemap)
            )
        )

    def mip(self, level: int) -> Self:
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
        handle = get_mip_level_mem_handle(self._mem.handle, level)
        return type(self)._make(self._mem, handle, desc.mip_level_desc(level), level=level)

    def _single(self, index: int, kind: str) -> Self:
        if self._is_region:
            raise ImageArrayValueError(f"take {kind}s of the whole image, not of a region")
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
        return type(self)._make(
            self._mem, self._handle, single, (0, 0, self._origin[2] + index), self._level
        )

    def layer(self, index: int) -> Self:
        """A view of layer ``index`` of a layered image (same memory)."""
        if not self._vdesc.type.is_layered:
            raise ImageArrayValueError(
                f"layer() needs a layered image, not {self._vdesc.type.value}"
            )
        return self._single(index, "layer")

    def face(self, index: int) -> Self:
        """A view of cubemap face ``index`` (0..5: +x, -x, +y, -y, +z, -z; for arrays of
        cubemaps, 6 * cube + face) on the same memory."""
        if not self._vdesc.type.is_cubemap:
            raise ImageArrayValueError(f"face() needs a cubemap, not {self._vdesc.type.value}")
        return self._single(index, "face")

    def _depth_slice(self, z: int) -> Self:
        """The 2D region at depth ``z`` of a 3D view (copies address it; the engines
        sample the 3D image)."""
        v = self._vdesc
        single = ImageDescriptor(v.width, v.height, 0, v.channel_order, v.channel_type)
        view = type(self)._make(
            self._mem,
            self._handle,
            single,
            (self._origin[0], self._origin[1], self._origin[2] + z),
            self._level,
        )
        view._is_region = True
        return view

    def _box_view(self, lo: tuple[int, int, int], ext: tuple[int, int, int], sel: tuple) -> Self:
        """The region ``lo``..``lo + ext`` (x, y, z) of this view, then ``sel``."""
        v = self._vdesc
        key = (v.channel_order, v.channel_type, v.type, v.dimensions, ext)
        hit = _BOXES.get(key)
        if hit is None:
            layered = v.type.is_layered or v.type.is_cubemap
            dims = v.dimensions
            box = ImageDescriptor(
                ext[0],
                ext[1] if dims > 1 else 0,
                ext[2] if dims > 2 else 0,
                v.channel_order,
                v.channel_type,
                ImageType.ARRAY if layered else ImageType.STANDARD,
                1,
                ext[2] if layered else 1,
            )
            hit = (box, (tuple(axis_map(box)), box.host_shape))
            if len(_BOXES) >= _BOXES_MAX:
                _BOXES.clear()
            _BOXES[key] = hit
        box, layout = hit
        o = self._origin
        view = type(self)._make(
            self._mem,
            self._handle,
            box,
            (o[0] + lo[0], o[1] + lo[1], o[2] + lo[2]),
            self._level,
            layout,
        )
        view._is_region = True
        if sel:
            view._sel = sel
            shape = box.host_shape
            for key in sel:
                shape = result_shape(shape, key)
            view._shape = shape
        return view

    # ------------------------------------------------------------ copies
    def _whole(self) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
        """``(origin, extent)`` of the whole view, as copies address it (x, y, z)."""
        return (0, 0, 0), image_box(self._vdesc)

    def _box_shape(self, ext) -> tuple[int, ...]:
        """Host (C-order) shape of a box ``ext`` (x, y, z) of this view."""
        shape = tuple(ext[a] for a in self._axes)
        return shape + ((self.channels,) if self.channels > 1 else ())
