"""What an ndimage kernel reads: the input as one or two textures (:class:`Source`).

- A CuPy 2D input (an image, its channels, or a batch of them stacked row after row)
  is read in place through a pitched texture when CUDA can (row pitch and address
  alignment, the linear-texture limits); else it is copied once into a CUDA array
  (a layered one for a batch). 3D inputs are copied into a 3D CUDA array: CUDA has no
  3D texture over linear memory. NumPy inputs are uploaded first.
- An ``ImageArray`` is read where it is (its memory's cached textures).
- An input larger than the device's CUDA-array limits is cut into tiles, each copied
  into a CUDA array of its own (``Source.tiles``).

Textures made for one call are kept, with what they read, until the launch that uses
them has finished (:func:`retire`), then destroyed.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import itertools
from typing import Any

import numpy

from imagearray._descriptor import ImageDescriptor
from imagearray._device import device_info, on_device
from imagearray._errors import ImageArrayError, ImageArrayValueError
from imagearray._sampler import Sampler
from imagearray.array import asimage
from imagearray.handles import create_image
from imagearray.ndimage import _scratch
from imagearray.sampling.cache import cache_of

POINT = Sampler("clamp_to_edge", "unnormalized", "nearest")
LINEAR = Sampler("clamp_to_edge", "unnormalized", "linear")

# dtype -> (CUDA scalar and vector prefix of a point read, scale of a filtered read
# or None where the texture unit must not filter it: signed normalized reads clamp
# -128 / -32768 to -1, i.e. to -127 / -32767)
READS = {
    "float32": ("float", "float", 1.0),
    "float16": ("float", "float", 1.0),  # half textures read as float
    "uint8": ("uchar", "uchar", 255.0),
    "uint16": ("ushort", "ushort", 65535.0),
    "int8": ("schar", "char", None),
    "int16": ("short", "short", None),
}
DTYPES = tuple(numpy.dtype(d) for d in READS)
DTYPE_SET = frozenset(DTYPES)  # membership by hash: checked on every call

# Forced tile length per axis (tests set it to cut small inputs into tiles); None:
# tiles only where the device's limits require them.
TILE_OVERRIDE: int | None = None
# Exact order-1 2D points inside the input read with one tex2Dgather per channel (float32
# weights, cupyx's order) instead of four point reads, where the texture is a CUDA array
# allocated for gather (an ImageArray made with gather=True; with this on, the 2D copies
# made here are allocated so too). Off: point reads (tools/probes/exact_bilinear.py
# times both).
EXACT_GATHER = False


@functools.lru_cache(maxsize=64)
def _vector(dtype: numpy.dtype, channels: int, filtered: bool) -> str:
    scalar, prefix, _ = READS[dtype.name]
    if filtered:
        scalar = prefix = "float"
    return scalar if channels == 1 else f"{prefix}{channels}"


@dataclasses.dataclass
class Source:
    shape: tuple  # spatial extent of one sample, SciPy order
    nb: int  # samples in the batch
    channels: int  # 1..4 (3: read as 3 single-channel texels, ``split3``)
    dtype: numpy.dtype
    device: int
    tex_p: Any = None  # point reads, element type
    tex_f: Any = None  # filtered reads (float), or None
    layered: bool = False
    keep: list = dataclasses.field(default_factory=list)  # retired after the launch
    tiles: list | None = None  # [(lo, hi, tex_p)] (SciPy order) when tiled
    gather: bool = False  # tex_p is a 2D CUDA array allocated for gather
    halo: int = 0  # texels of border each side of each axis (order 3's coefficients)
    # (cache, key, value): the caches that own the textures, as they must still be
    # for a repeat of this launch (a plan) to read live textures
    deps: list = dataclasses.field(default_factory=list)

    @property
    def split3(self) -> bool:
        return self.channels == 3

    @property
    def read(self) -> str:
        return _vector(self.dtype, 1 if self.split3 else self.channels, False)

    @property
    def filtered(self) -> str:
        return _vector(self.dtype, self.channels, True) if self.tex_f is not None else ""

    @property
    def scale(self) -> float:
        return _scale(self.dtype)


@functools.lru_cache(maxsize=64)
def _scale(dtype: numpy.dtype) -> float:
    return READS[dtype.name][2] or 1.0


def can_filter(dtype: numpy.dtype, channels: int) -> bool:
    """Whether the texture unit may filter this input (see ``READS``)."""
    return READS[dtype.name][2] is not None and channels != 3


@functools.lru_cache(maxsize=256)
def _descs(rows_shape: tuple, dtype, channels: int, layers: int | None):
    """(point-read descriptor, filtered-read descriptor) of a texture over
    ``rows_shape`` (SciPy order, without channels). Cached: making the two costs the
    host ~25 us, more than the rest of a texture look-up (descriptors are frozen)."""
    t = "array" if layers else "standard"
    kw = {"image_type": t, "array_size": layers} if layers else {}
    ch = 1 if channels == 3 else channels
    shape = rows_shape[:-1] + (rows_shape[-1] * 3,) if channels == 3 else rows_shape
    point = ImageDescriptor.from_shape(shape, dtype, ch, **kw)
    norm = numpy.dtype(dtype).kind in "iu"  # 8/16-bit integers read as [0, 1] / [-1, 1]
    filt = ImageDescriptor.from_shape(shape, dtype, ch, normalized=norm, **kw)
    return point, filt


def from_image(img, filtered: bool) -> Source:
    """A Source over an ``ImageArray`` (2D, 3D or a layered 2D: a batch), no copy."""
    desc = img.descriptor
    if img._is_view() or img._is_region or img._whole_mipmap and img.levels > 1:
        raise ImageArrayValueError(
            "ia.ndimage reads whole standard or layered images: pass img.copy() of a "
            "view, or a mip level's image"
        )
    if desc.type.is_cubemap:
        raise ImageArrayValueError("ia.ndimage does not resample cubemaps")
    dims = img._vdesc.dimensions
    layered = desc.type.is_layered
    if dims == 1 or (layered and dims != 2):
        raise ImageArrayValueError(
            f"ia.ndimage resamples 2D and 3D images (and layered 2D ones), not {desc}"
        )
    shape = tuple(reversed(img._vdesc.extent[:dims]))
    point, filt = _descs(shape, img.dtype, img.channels, desc.num_layers if layered else None)
    src = Source(
        shape,
        desc.num_layers if layered else 1,
        img.channels,
        img.dtype,
        img._handle.device,
        layered=layered,
    )
    src.tex_p = _texture_of(img, point, POINT, src.deps)
    src.gather = dims == 2 and not layered and img.gatherable
    if filtered and can_filter(src.dtype, src.channels):
        src.tex_f = _texture_of(img, filt, LINEAR, src.deps)
    return src


def _texture_of(img, desc: ImageDescriptor, sampler: Sampler, deps: list | None = None):
    """The texture of ``img`` with ``desc`` and ``sampler``, cached with the image (its
    memory's handle cache: destroyed when the memory is freed); ``deps``, where given,
    gets the (cache, key, handle) a plan must find unchanged."""
    handles = cache_of(img).handles
    key = (id(img._handle), "ndimage", desc, sampler)
    h = handles.get(key)
    if h is None or not h.alive:
        target = img._mem.array if img._linear else img._handle
        h = handles[key] = create_image(target, desc, sampler)
    if deps is not None:
        deps.append((handles, key, h))
    return h


@functools.lru_cache(maxsize=64)
def _limits(device: int, ndim: int, layered: bool) -> tuple:
    """Largest CUDA array per axis (SciPy order) for this kind of texture (a device's
    limits do not change: cached, as the driver queries cost the host ~10 us)."""
    if ndim == 3:
        w, h, d = device_info("max_image_3d", device)
        return (d, h, w)
    if layered:
        w, h, _ = device_info("max_image_2d_array", device)
        return (h, w)
    w, h = device_info("max_image_2d", device)
    return (h, w)


def from_cupy(a, shape: tuple, strides: tuple, ndim: int, filtered: bool) -> Source:
    """A Source over CuPy array ``a`` seen as ``shape`` = ``(nb, *spatial, channels)``
    with ``strides`` (``ndim`` spatial axes; size-1 batch and channel axes included)."""
    import cupy

    nb, channels = shape[0], shape[-1]
    dev = a.device.id
    src = Source(tuple(shape[1:-1]), nb, channels, a.dtype, dev)
    want_f = filtered and can_filter(a.dtype, channels)
    tile = TILE_OVERRIDE
    if tile is None and ndim == 2 and _in_place(a, shape, strides, src, want_f):
        return src
    with on_device(dev):
        lim = _limits(dev, ndim, nb > 1)
        lim = lim[:-1] + (lim[-1] // (3 if channels == 3 else 1),)
        full = cupy.ascontiguousarray(a).reshape(shape)
        if tile is None and all(n <= m for n, m in zip(src.shape, lim)):
            _copied(full, src, want_f)
            return src
        if nb > 1:
            raise ImageArrayValueError(
                f"a batch of {nb} images of shape {src.shape} is larger than the device's "
                f"layered-texture limits ({lim}): resample the batch in smaller parts"
            )
        _tiled(full[0], src, [tile or m for m in lim])
    return src


# In-place textures of CuPy arrays, by address and layout: a texture object is only
# an address and a layout, so one made for an earlier array at this address with
# this layout reads exactly what a new one would. Made over unowned views (they keep
# no array alive); evicted ones are destroyed once the work queued before is done.
_IN_PLACE: collections.OrderedDict = collections.OrderedDict()
# A batch is stacked row after row in one texture: a filtered read at row b * h + y
# resolves y to 2**-8 texel up to 32768 rows, finer than the weights (8 fractional
# bits); past that the float32 row coordinate would add its own rounding.
_MAX_STACKED_ROWS = 32768
_MAX_IN_PLACE = 32


def _in_place(a, shape: tuple, strides: tuple, src: Source, want_f: bool) -> bool:
    """Textures over ``a``'s own memory: a (batch of) 2D images whose rows are evenly
    spaced (one pitch, across samples too) and contiguous within; False where CUDA
    cannot read it so (layout, alignment, the linear-texture limits)."""
    key = (src.device, a.data.ptr, shape, strides, a.dtype.char, want_f)
    hit = _IN_PLACE.get(key)
    if hit is not None:
        _IN_PLACE.move_to_end(key)
        if hit is False:
            return False
        src.tex_p, src.tex_f = hit
        src.deps.append((_IN_PLACE, key, hit))
        return True
    made = _make_in_place(a, shape, strides, src, want_f)
    _IN_PLACE[key] = made
    while len(_IN_PLACE) > _MAX_IN_PLACE:
        old = _IN_PLACE.popitem(last=False)[1]
        if old:
            retire_objects([h for h in old if h is not None])
    if not made:
        return False
    src.tex_p, src.tex_f = made
    src.deps.append((_IN_PLACE, key, made))
    return True


def _make_in_place(a, shape, strides, src: Source, want_f: bool):
    import cupy

    nb, h, w, c = shape
    item = a.dtype.itemsize
    st = strides
    row = w * c * item
    if (c > 1 and st[3] != item) or (w > 1 and st[2] != c * item):
        return False
    pitch = st[1] if h > 1 else (st[0] if nb > 1 else row)
    if (nb > 1 and h > 1 and st[0] != h * pitch) or pitch < row:
        return False
    if want_f and nb > 1 and nb * h > _MAX_STACKED_ROWS:
        return False  # a layered copy: each sample's rows keep their own coordinates
    span = (nb * h - 1) * pitch + row
    mem = cupy.cuda.UnownedMemory(a.data.ptr, span, None, src.device)
    ptr = cupy.cuda.MemoryPointer(mem, 0)
    cc = 1 if src.split3 else c
    wid = w * 3 if src.split3 else w
    vshape = (nb * h, wid) + ((cc,) if cc > 1 else ())
    vstrides = (pitch, cc * item) + ((item,) if cc > 1 else ())
    view = cupy.ndarray(vshape, a.dtype, ptr, strides=vstrides)
    point, filt = _descs((nb * h, w), a.dtype, c, None)
    made = []
    try:
        made.append(create_image(view, point, POINT))
        made.append(create_image(view, filt, LINEAR) if want_f else None)
    except ImageArrayError:
        for hnd in made:
            hnd.destroy()
        return False
    return tuple(made)


def _copied(a, src: Source, want_f: bool) -> None:
    """Copy C-contiguous ``a`` once into a CUDA array (layered for a batch)."""
    shape = src.shape
    if src.split3:
        shape = shape[:-1] + (shape[-1] * 3,)
    ch = 1 if src.split3 else src.channels
    full = ((src.nb,) if src.nb > 1 else ()) + shape + ((ch,) if ch > 1 else ())
    gather = EXACT_GATHER and len(shape) == 2 and src.nb == 1 and _gather_fits(shape, src)
    lease = take_scratch(full, a.dtype, ch, layered=src.nb > 1, gather=gather)
    lease.image.set(a.reshape(full))
    src.gather = gather
    _adopt(lease, src, want_f)


def from_filled(lease: _scratch.Lease, halo: int, filtered: bool) -> Source:
    """A Source over the image of ``lease``, a single-channel float32 3D image this
    call filled (order=3's coefficients, written by the prefilter) with ``halo``
    texels of border on each side of each axis (the Source's shape is without)."""
    img = lease.image
    shape = tuple(n - 2 * halo for n in reversed(img._vdesc.extent[:3]))
    src = Source(shape, 1, 1, img.dtype, img._handle.device, halo=halo)
    _adopt(lease, src, filtered and can_filter(img.dtype, 1))
    return src


def _adopt(lease: _scratch.Lease, src: Source, want_f: bool) -> None:
    """Point (and, with ``want_f``, filtered) textures of the image of ``lease``, a
    scratch image holding this call's whole input, given back to the pool when the
    launch has finished (its textures stay cached with it)."""
    img = lease.image
    src.keep.append(lease)
    src.layered = src.nb > 1
    shape = tuple(n + 2 * src.halo for n in src.shape)
    point, filt = _descs(shape, img.dtype, src.channels, src.nb if src.nb > 1 else None)
    # no deps: no plan reads a scratch image (its contents change from call to call)
    src.tex_p = _texture_of(img, point, POINT)
    if want_f:
        src.tex_f = _texture_of(img, filt, LINEAR)


def _gather_fits(shape: tuple, src: Source) -> bool:
    w, h = device_info("max_image_2d_gather", src.device)
    return shape[0] <= h and shape[1] <= w


def _tiled(a, src: Source, lengths: list) -> None:
    """Cut ``a`` (one sample) into tiles of at most ``lengths`` per axis, each copied
    into a CUDA array with a point-read texture."""
    import cupy

    src.tiles = []
    ranges = [
        [(lo, min(n, lo + step)) for lo in range(0, n, step)] for n, step in zip(src.shape, lengths)
    ]
    ch = 1 if src.split3 else src.channels
    for box in itertools.product(*ranges):
        sl = tuple(slice(lo, hi) for lo, hi in box)
        part = cupy.ascontiguousarray(a[sl])  # (*spatial, channels)
        shape = part.shape[: len(box)]
        if src.split3:
            part = part.reshape(shape[:-1] + (shape[-1] * 3,))
        elif ch == 1:
            part = part.reshape(shape)
        img = asimage(part, channels=ch)  # explicit: a tile 1 texel wide is not a channel axis
        point, _ = _descs(shape, a.dtype, src.channels, None)
        tex = create_image(img._handle, point, POINT)
        src.keep.extend([tex, img])
        src.tiles.append((tuple(lo for lo, _ in box), tuple(hi for _, hi in box), tex))


# ---------------------------------------------------------------- lifetimes
_PENDING: collections.deque = collections.deque()
_MAX_PENDING = 64


def retire_objects(objs: list) -> None:
    """Free ``objs`` (handles, ImageArrays, scratch leases; device arrays are only
    held) once the work enqueued so far on the current stream has finished (at a
    later :func:`collect`)."""
    if not objs:
        return
    import cupy

    ev = cupy.cuda.Event(block=False, disable_timing=True)
    ev.record()
    _PENDING.append((ev, list(objs)))
    while len(_PENDING) > _MAX_PENDING:
        _wait_oldest()
    collect()


def _release(objs: list) -> None:
    for o in objs:
        if isinstance(o, _scratch.Lease):
            o.give_back()
        elif hasattr(o, "free"):
            if o._handle.alive:
                o.free()
        elif hasattr(o, "destroy"):
            if o.alive:
                o.destroy()
        # else a device array the launch read, held until it finished (dropped here)


def take_scratch(shape: tuple, dtype: Any, channels: int, **kw: Any) -> _scratch.Lease:
    """A scratch image of this kind (:func:`_scratch.take`), after giving back the
    leases of finished launches; where the kind is lent out twice already, the
    oldest queued launches are waited for rather than a third image allocated."""
    collect()
    return _scratch.take(shape, dtype, channels, wait=_wait_oldest, **kw)


def _wait_oldest() -> bool:
    """Wait for the oldest retired work and release what it kept; False if none."""
    try:
        ev, objs = _PENDING.popleft()
    except IndexError:
        return False
    ev.synchronize()
    _release(objs)
    return True


def collect() -> None:
    """Destroy what finished launches no longer need (oldest first)."""
    while _PENDING and _PENDING[0][0].done:
        _release(_PENDING.popleft()[1])


def retire(src: Source) -> None:
    """Keep ``src``'s per-call textures and copies until the launch just enqueued has
    finished (see :func:`retire_objects`)."""
    retire_objects(src.keep)
    src.keep = []


def free_scratch() -> int:
    """Free the CUDA arrays ``imagearray.ndimage`` keeps between calls (copies of CuPy
    volumes, order-3 coefficients, the mip method's chains: at most
    ``_scratch.MAX_BYTES`` = 1 GiB idle); the bytes freed. Arrays still read by queued
    launches are not freed: they return to the pool when those finish.

    Examples
    --------
    >>> import cupy
    >>> _ = ia.ndimage.free_scratch()  # start with none
    >>> vol = cupy.random.random((32, 32, 32), dtype=cupy.float32)
    >>> out = ia.ndimage.zoom(vol, 0.5, order=1)  # vol is copied into a CUDA array
    >>> cupy.cuda.Device().synchronize()
    >>> ia.ndimage.free_scratch()  # that array: 32**3 float32
    131072
    """
    collect()
    before = _scratch.idle_bytes()
    _scratch.clear()
    return before
