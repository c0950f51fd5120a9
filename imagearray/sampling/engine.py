"""Sampling and fetching: ``sample``, ``sample_cubemap`` and ``fetch`` of an image view
through the texture unit (textures) and surfaces, with their launch plans.

Functions of an :class:`~imagearray.memory.ImageView` (``ImageArray`` binds them as
its methods). Coordinates are texture order (x, y, z) on the last axis. The common
``sample(coords[, sampler][, level=][, layer=int])`` call replays a
:class:`SamplePlan` made on the first such call; anything else takes the general
path, which converts the arguments (or raises).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import TYPE_CHECKING, Any

import numpy

from imagearray._coerce import coerce_enum
from imagearray._device import Scope, cupy_out_of_memory, current_device
from imagearray._enums import ImageType
from imagearray._errors import ImageArrayValueError, SamplingWarning
from imagearray._sampler import CoordinateNormalizationMode, Sampler
from imagearray.memory import ImageView
from imagearray.sampling import kernels as k
from imagearray.sampling.arguments import _LAYER_CONSTANTS, layer_arg, level_value, points
from imagearray.sampling.cache import cache_of, default_sampler, surface, texture

if TYPE_CHECKING:
    import cupy

__all__ = ["SamplePlan", "fetch", "kernel_kind", "sample", "sample_cubemap"]

_MAX_PLANS = 16  # plans per view (samplers x level given or not); emptied when full
_F32 = numpy.dtype(numpy.float32)


class SamplePlan:
    """What ``img.sample(coords, sampler[, level=])`` launches for one view, sampler
    and level mode: the kernel function, the arguments fixed for them (texture,
    layer) and the output's dtype and channel axis. Valid while its texture is alive
    (the memory cache makes a new one after a destroy, and free() drops the plans).

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
        "warn",
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


def kernel_kind(view: ImageView) -> str:
    t = view.descriptor.type
    if t is ImageType.CUBEMAP_ARRAY:
        return k.CUBEMAP_LAYERED
    if t.is_cubemap:
        return k.CUBEMAP
    return k.LAYERED if t.is_layered else k.STANDARD


_UNNORMALIZED = CoordinateNormalizationMode.UNNORMALIZED


def _unsamplable(view: ImageView) -> bool:
    """Regions are for reads and writes; 1D linear memory has no filtered reads."""
    return view._is_region or (view._linear and view._vdesc.dimensions == 1)


def _check_samplable(view: ImageView) -> None:
    if not _unsamplable(view):
        return
    if view._is_region:
        raise ImageArrayValueError(
            "img[...] with slices or a depth index is a region, for reads and writes: "
            "sample the whole image (or a layer, face or mip view) at the region's coordinates"
        )
    if view._linear and view._vdesc.dimensions == 1:
        raise ImageArrayValueError(
            "CUDA reads 1D linear memory with integer fetches only (no filtering, no "
            "addressing): use img.fetch(indices), or a CUDA array (ia.asimage(a)) to sample"
        )


def _sampling_problem(view: ImageView, sampler: Any, kind: str) -> str | None:
    """Why CUDA cannot sample ``view`` through ``sampler`` (an ia.Sampler), or None.
    Cubemaps ignore addressing: only the channel type counts for them."""
    ct = view._vdesc.channel_type
    if kind in (k.CUBEMAP, k.CUBEMAP_LAYERED):
        try:
            sampler.check_channel_type(ct)
        except ImageArrayValueError as e:
            return str(e)
        return None
    return sampler.sampling_problem(ct)


def _check_sampler(view: ImageView, sampler: Any, kind: str) -> None:
    if not isinstance(sampler, Sampler):
        return  # texture() refuses it, naming what is allowed
    problem = _sampling_problem(view, sampler, kind)
    if problem is not None:
        raise ImageArrayValueError(
            f"this {view.dtype} image cannot be sampled through {sampler}: {problem}. A "
            "handle with this sampler can still be fetched (ia::fetch_image, img.fetch)"
        )


def _warn_unfiltered(view: ImageView, stacklevel: int = 4) -> None:
    if not view._vdesc.channel_type.reads_as_float:
        warnings.warn(
            f"a {view.dtype} image (not normalized) is sampled with nearest filtering: CUDA "
            "filters only float and normalized (unorm/snorm) textures. Pass a sampler "
            "(e.g. ia.Sampler('clamp_to_edge', filtering='nearest')) to say so, or make "
            "the image with normalized=True for linear filtering",
            SamplingWarning,
            stacklevel=stacklevel,
        )


def _units(view: ImageView, sampler: Any, coordinates: Any):
    """(sampler to make the texture with, scale to apply to the coordinates or None).

    The coordinates' units are ``coordinates`` if given, else the sampler's, else
    unnormalized (texels) for every image type. A texture that must be normalized (a
    mipmap: CUDA samples them so) gets texel coordinates divided by level 0's size;
    otherwise the sampler is made with the units asked for."""
    given = sampler
    if sampler is None:
        sampler = default_sampler(view)
    elif not isinstance(sampler, Sampler):
        return sampler, None  # texture() refuses it, naming what is allowed
    if coordinates is None:
        units = given.coordinates if given is not None else _UNNORMALIZED
    else:
        units = coerce_enum(CoordinateNormalizationMode, "coordinates", coordinates)
    if sampler.coordinates is units:
        return sampler, None
    if view._whole_mipmap:
        if units is _UNNORMALIZED:
            return sampler, view._vdesc.extent[: view._vdesc.dimensions]
        raise ImageArrayValueError(
            "a mipmapped image is sampled with normalized coordinates only (CUDA requires "
            "them): pass a sampler with coordinates='normalized', or texel coordinates"
        )
    return dataclasses.replace(sampler, coordinates=units), None


def _run(kernel, n: int, args: tuple) -> None:
    """Launch over ``n`` points on the current device and stream (callers are
    inside ``Scope``)."""
    kernel(*k.grid(n), args)


def _sample(view: ImageView, kind, coords, sampler, layer, count, level, dx, dy, coordinates=None):
    """Inside ``Scope(device, stream)``: every array is made, and the kernel runs, there."""
    import cupy

    _check_samplable(view)
    if (dx is None) != (dy is None):
        raise ImageArrayValueError("dx and dy are given together")
    if level is not None and dx is not None:
        raise ImageArrayValueError("give either level or dx/dy, not both")
    if sampler is None:
        _warn_unfiltered(view)
    scale = None
    if kind in (k.CUBEMAP, k.CUBEMAP_LAYERED):  # direction vectors: no units
        sampler = default_sampler(view) if sampler is None else sampler
    else:
        sampler, scale = _units(view, sampler, coordinates)
    _check_sampler(view, sampler, kind)  # before any texture is made
    tex = texture(view, sampler)
    ncomp = k.coord_count(kind, view._vdesc.dimensions)
    c = points(coords, "coords", cupy.float32, ncomp)
    if scale is not None:
        inv = cupy.asarray([1.0 / e for e in scale], dtype=cupy.float32)
        c = c * inv  # texels to the normalized units of a mipmap's texture
        if dx is not None:
            dx = points(dx, "dx", cupy.float32, ncomp) * inv
            dy = points(dy, "dy", cupy.float32, ncomp) * inv
    if ncomp == 2 and c.data.ptr % 8:
        c = c.copy()  # the kernel reads (x, y) as one float2: 8-byte aligned
    pts = c.shape[:-1]
    n = math.prod(pts)
    lay, step = layer_arg(view, layer, pts, "layer", count)
    vt, ot, out_dtype, iscale = k.sample_types(
        view._vdesc.channel_type, view.channels, isinstance(sampler, Sampler) and sampler.filters
    )
    mode, gx, gy = k.PLAIN, c, c
    if level is not None or view._whole_mipmap:
        mode = k.LEVEL
    if dx is not None:
        mode = k.GRADIENT
        gx = _gradient(dx, "dx", ncomp, c.shape)
        gy = _gradient(dy, "dy", ncomp, c.shape)
    out = cupy.empty(pts + ((view.channels,) if view.channels > 1 else ()), out_dtype)
    kernel = k.sample_kernel(kind, view._vdesc.dimensions, vt, ot, mode, iscale)
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
    _run(kernel, n, args)
    return out


def _gradient(g: Any, name: str, ncomp: int, shape: tuple):
    import cupy

    g = points(g, name, cupy.float32, ncomp)
    try:
        return cupy.ascontiguousarray(cupy.broadcast_to(g, shape))
    except ValueError:
        raise ImageArrayValueError(
            f"{name} of shape {g.shape} does not broadcast against the coordinates' shape {shape}"
        ) from None


def _sample_plans(view: ImageView) -> dict:
    """This view's sample() plans: (id(sampler), level is None) -> SamplePlan.
    Kept with the memory's handles (one dict per view of it, shared by every
    ImageArray showing that view) and emptied by free(), so a plan never keeps
    a sampler or handle alive beyond the handle cache that already holds them."""
    plans = view._splans
    if plans is None:
        cache = cache_of(view).plans
        key = (id(view._handle), view._origin, view._whole_mipmap, view._vdesc)
        plans = cache.get(key)
        if plans is None:
            plans = cache[key] = {}
        view._splans = plans
    return plans


def _sample_plan(view: ImageView, sampler: Any, level_given: bool, layer_given: bool):
    """A SamplePlan for sample(coords, sampler[, level=][, layer=int]) with no
    dx/dy or stream, or None where the general path must run: cubemaps, layered
    images without a layer, layer= for others or for a layer view (all of which
    raise there or convert the layer), another device current, a sampler that is
    not an ia.Sampler."""
    import cupy

    kind = kernel_kind(view)
    if kind not in (k.STANDARD, k.LAYERED) or not hasattr(cupy.ndarray, "_c_contiguous"):
        return None
    if _unsamplable(view):
        return None  # the general path raises
    if sampler is None and view._whole_mipmap:
        return None  # texel coordinates, converted to the mipmap's normalized units
    dev = view._handle.device
    if current_device() != dev:  # or no usable device: the general path reports it
        return None
    sampler_ = default_sampler(view) if sampler is None else sampler
    if type(sampler_) is not Sampler:
        return None
    if _sampling_problem(view, sampler_, kind) is not None:
        return None  # the general path raises
    layered = kind == k.LAYERED
    if layer_given != (layered and not view._is_view()):
        return None
    # What the general path does first, in its order (and with its errors).
    tex = texture(view, sampler_)
    mode = k.LEVEL if level_given or view._whole_mipmap else k.PLAIN
    vt, ot, out_dtype, iscale = k.sample_types(
        view._vdesc.channel_type, view.channels, sampler_.filters
    )
    kernel = k.sample_kernel(kind, view._vdesc.dimensions, vt, ot, mode, iscale)
    u64, i64 = k.by_value_types()
    fixed: tuple = (u64(int(tex)),)
    if layered and not layer_given:  # a layer view: its layer, for every point
        lay, step = layer_arg(view, None, (), "layer", view.descriptor.num_layers)
        fixed += (lay, i64(step))
    level_fixed = (numpy.float32(0.0),) if mode == k.LEVEL and not level_given else ()
    plan = SamplePlan()
    plan.sampler = sampler
    plan.tex = tex
    plan.texobj = tex._obj
    # The compiled function (RawKernel.kernel, on this device): calling it skips
    # RawKernel's per-call device lookup.
    plan.fn = getattr(kernel, "kernel", kernel)
    plan.fixed = fixed
    plan.level_fixed = level_fixed
    plan.level_given = level_given
    plan.layers = view.descriptor.num_layers if layer_given else 0
    plan.zero = i64(0)
    plan.ncomp = k.coord_count(kind, view._vdesc.dimensions)
    plan.suffix = (view.channels,) if view.channels > 1 else ()
    plan.dtype = out_dtype
    plan.device = dev
    plan.ndarray = cupy.ndarray
    plan.empty = cupy.empty
    plan.warn = sampler is None and not view._vdesc.channel_type.reads_as_float
    plan.i64 = i64
    return plan


def sample(
    view: ImageView,
    coords: Any,
    sampler: Sampler | None = None,
    *,
    coordinates: CoordinateNormalizationMode | str | None = None,
    layer: Any = None,
    level: float | None = None,
    dx: Any = None,
    dy: Any = None,
    stream: Any = None,
) -> cupy.ndarray:
    """Sample the image at ``coords`` through the texture unit.

    Parameters
    ----------
    coords : array_like
        Coordinates in **texture order** on the last axis: ``(..., 1)`` or
        ``(...,)`` for 1D, ``(..., 2)`` as (x, y) for 2D, ``(..., 3)`` for 3D.
        Unnormalized coordinates are in texels (texel centres at i + 0.5),
        normalized ones in [0, 1].
    sampler : Sampler, optional
        Default: clamp-to-edge, linear filtering (nearest for plain integer channel
        types: a :class:`SamplingWarning` says so). Any sampler makes a handle, but
        CUDA cannot sample through some: ``repeat`` / ``mirrored_repeat`` with
        unnormalized coordinates, and linear filtering (within or between levels)
        of 32-bit integer channels, which the driver refuses; those raise
        :class:`ImageArrayValueError` (fetch such images instead). 8- and 16-bit
        integer channels (int8/16, uint8/16) are filtered as DPC++ does on CUDA:
        read normalized (``v / 255``, ``v / 127``, ``v / 65535``, ``v / 32767``;
        int8's -128 reads -1.0 like -127, int16's -32768 like -32767), filtered,
        then multiplied back and rounded to the nearest integer (ties to even).
    coordinates : "unnormalized" or "normalized", optional
        The units of ``coords`` (and ``dx``/``dy``): texels (texel centres at
        i + 0.5) or [0, 1] across the image. Default: the sampler's units when a
        sampler is given, else ``"unnormalized"`` for every image type (mipmaps,
        which CUDA samples normalized, get texel coordinates of level 0 converted).
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
        normalized channel types, the storage type for integer ones (filtered
        values in the image's units, rounded to nearest).

    Examples
    --------
    >>> img = ia.asimage(numpy.arange(16, dtype=numpy.float32).reshape(4, 4))
    >>> img.sample(cupy.array([[1.0, 0.5]]))
    array([0.5], dtype=float32)
    """
    if level is not None and type(level) is not float and type(level) is not int:
        level = level_value(level)
    if (
        dx is None
        and dy is None
        and stream is None
        and coordinates is None
        and (layer is None or type(layer) is int)
    ):
        # The common calls: a plan made on the first such call launches them with
        # the checks that still depend on the arguments (see SamplePlan).
        plans = view._splans
        if plans is None:
            plans = _sample_plans(view)
        key = (id(sampler), level is None, layer is None)
        plan = plans.get(key)
        if plan is None or not plan.texobj.alive:
            plan = _sample_plan(view, sampler, level is not None, layer is not None)
            if plan is not None:
                if len(plans) >= _MAX_PLANS:
                    plans.clear()
                plans[key] = plan  # the plan holds the sampler: its id stays unique
        if plan is not None:
            try:
                out = plan.launch(coords, level, layer)
            except MemoryError as exc:  # the output array, from CuPy's pool
                _reraise_oom(exc, "sample()")
                raise
            if plan.warn and out is not None:
                _warn_unfiltered(view, 3)
            if out is not None:
                return out
    kind = kernel_kind(view)
    if kind in (k.CUBEMAP, k.CUBEMAP_LAYERED):
        raise ImageArrayValueError(
            "cubemaps are sampled with a direction vector: use sample_cubemap()"
        )
    count = view.descriptor.num_layers
    try:
        with Scope(view._handle.device, stream):  # argument arrays on the launch stream
            return _sample(view, kind, coords, sampler, layer, count, level, dx, dy, coordinates)
    except MemoryError as exc:
        _reraise_oom(exc, "sample()")
        raise


def sample_cubemap(
    view: ImageView,
    directions: Any,
    sampler: Sampler | None = None,
    *,
    cube: Any = None,
    level: float | None = None,
    dx: Any = None,
    dy: Any = None,
    stream: Any = None,
) -> cupy.ndarray:
    """Sample a cubemap along direction vectors ``(..., 3)`` (x, y, z from the
    cube's centre; face selection per CUDA's cubemap table). ``cube`` picks the
    cubemap of an array of cubemaps. The sampler's ``cubemap_filtering``
    (disjointed or seamless) decides how filtering treats face edges."""
    if level is not None and type(level) is not float and type(level) is not int:
        level = level_value(level)
    kind = kernel_kind(view)
    if kind not in (k.CUBEMAP, k.CUBEMAP_LAYERED) or view._is_view():
        raise ImageArrayValueError("sample_cubemap() needs a whole cubemap image")
    count = view.descriptor.array_size if kind == k.CUBEMAP_LAYERED else 1
    try:
        with Scope(view._handle.device, stream):  # argument arrays on the launch stream
            return _sample(view, kind, directions, sampler, cube, count, level, dx, dy)
    except MemoryError as exc:
        _reraise_oom(exc, "sample_cubemap()")
        raise


def fetch(
    view: ImageView, indices: Any, *, layer: Any = None, face: Any = None, stream: Any = None
) -> cupy.ndarray:
    """Read texels at integer ``indices`` exactly as stored (no filtering, no
    normalization), through a surface.

    ``indices`` has texture order (x[, y[, z]]) on the last axis. For layered
    images give ``layer`` (int or array broadcast against the points), for
    cubemaps ``face`` (0..5, or 6 * cube + face for arrays of cubemaps); layer
    and face views read their own. Indices outside the image read zero. Returns
    a CuPy array of shape ``indices.shape[:-1]`` (+ ``(channels,)``) and this
    image's dtype.
    """
    kind = kernel_kind(view)
    if view._whole_mipmap:
        raise ImageArrayValueError("fetch() reads one level: use img.mip(l).fetch(...)")
    if view._is_region:
        raise ImageArrayValueError(
            "fetch() reads whole images (or layer, face and mip views), not regions"
        )
    if layer is not None and face is not None:
        raise ImageArrayValueError("give layer or face, not both")
    try:
        with Scope(view._handle.device, stream):  # argument arrays on the launch stream
            return _fetch(view, kind, indices, face if layer is None else layer)
    except MemoryError as exc:
        _reraise_oom(exc, "fetch()")
        raise


def _reraise_oom(exc: MemoryError, what: str) -> None:
    """Raise CuPy's OutOfMemoryError (an output or argument array) as the family's
    CUDAOutOfMemoryError; return for any other MemoryError (the caller re-raises it)."""
    err = cupy_out_of_memory(exc, f"{what}: allocating its arrays on the device")
    if err is not None:
        raise err from exc


def _fetch(view: ImageView, kind: str, indices: Any, layer: Any):
    """Inside ``Scope(device, stream)``: every array is made, and the kernel runs, there."""
    import cupy

    if view._linear:
        return _fetch_linear(view, indices, layer)
    surf = surface(view)
    ncomp = 2 if kind in (k.CUBEMAP, k.CUBEMAP_LAYERED) else view._vdesc.dimensions
    idx = points(indices, "indices", cupy.int32, ncomp)
    pts = idx.shape[:-1]
    n = math.prod(pts)
    level_desc = view._handle.desc if view._handle.desc is not None else view._vdesc
    nl = level_desc.num_layers
    name = "face" if kind in (k.CUBEMAP, k.CUBEMAP_LAYERED) else "layer"
    lay, step = layer_arg(view, layer, pts, name, nl)
    out = cupy.empty(pts + ((view.channels,) if view.channels > 1 else ()), view.dtype)
    w, h, d = view._vdesc.extent
    vt = k.fetch_types(view._vdesc.texel_size, view.channels)
    kernel = k.fetch_kernel(kind, view._vdesc.dimensions, vt)
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
    _run(kernel, n, args)
    return out


def _fetch_linear(view: ImageView, indices: Any, layer: Any):
    """fetch() of linear memory (no surface there): CuPy gathers the texels of the
    array in place, zero outside, as the surface path reads."""
    import cupy

    if layer is not None:
        raise ImageArrayValueError("a linear image has no layers or faces")
    view._check_alive()
    arr = view._mem.array
    dims = view._vdesc.dimensions
    idx = points(indices, "indices", cupy.int32, dims)
    inside = cupy.ones(idx.shape[:-1], dtype=cupy.bool_)
    picks = []
    for axis in range(dims):  # texture order x, y -> array axes ..., 1, 0
        i = idx[..., axis]
        size = arr.shape[dims - 1 - axis]
        inside &= (i >= 0) & (i < size)
        picks.append(cupy.clip(i, 0, size - 1))
    out = arr[tuple(reversed(picks))]
    mask = inside if view.channels == 1 else inside[..., None]
    return cupy.where(mask, out, cupy.zeros((), dtype=out.dtype))
