"""Sampled and unsampled image handles: ``create_image`` and ``destroy_image_handle``.

A :class:`SampledImageHandle` is a CUDA texture object, an
:class:`UnsampledImageHandle` a CUDA surface object. Both are ``int`` subclasses
whose value is the raw 64-bit handle, so they pass straight into ``cupy.RawKernel``
/ ``RawModule`` arguments, where the kernel declares ``ia::sampled_image_handle`` /
``ia::unsampled_image_handle``. Each owns its CUDA object (destroyed once: by
``destroy()``, the ``with`` block, ``destroy_image_handle`` or garbage collection)
and keeps the memory it reads alive.

The rules applied before any CUDA call live in :func:`plan_handle` (plain Python).
"""

from __future__ import annotations

import dataclasses
import weakref
from typing import Any

import numpy

from imagearray import _handles as _cy  # the Cython layer
from imagearray._coerce import coerce_int
from imagearray._descriptor import ImageDescriptor
from imagearray._device import device_info
from imagearray._enums import ImageType
from imagearray._errors import (
    ImageArrayTypeError,
    ImageArrayValueError,
    ReleasedResourceError,
)
from imagearray._image_mem import (
    ImageMem,
    call_on_device,
    cuda_format,
    is_image_mem_handle,
    on_device,
)
from imagearray._sampler import CU_TR_ADDRESS_MODE_CLAMP, Sampler

__all__ = [
    "SampledImageHandle",
    "UnsampledImageHandle",
    "create_image",
    "destroy_image_handle",
    "plan_handle",
    "live_handles",
]

ARRAY, MIPMAP, LINEAR, PITCH2D = "array", "mipmap", "linear", "pitch2d"
_KIND_CODE = {ARRAY: 0, MIPMAP: 1, LINEAR: 2, PITCH2D: 3}  # as imagearray._handles numbers them
_CU_TRSF_READ_AS_INTEGER = 0x01
_CU_TRSF_SEAMLESS_CUBEMAP = 0x40

# memory object -> handles made from it (to refuse freeing memory still in use)
_DEPENDENTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def live_handles(memory_handle: Any) -> list:
    """The handles created from ``memory_handle`` (an image_mem_handle) still alive."""
    deps = _DEPENDENTS.get(memory_handle)
    return [h for h in (deps or ()) if h.alive]


class _Handle(numpy.uint64):
    # A numpy.uint64 rather than an int: CuPy's kernel launcher takes NumPy scalars
    # (and subclasses) as arguments but refuses int subclasses, and handles must go
    # straight into cupy.RawKernel calls (DESIGN.md).
    _kind = "image"

    def __new__(cls, obj, desc: ImageDescriptor, sampler: Sampler | None):
        self = numpy.uint64.__new__(cls, obj.raw_handle)
        self._obj = obj
        self._desc = desc
        self._sampler = sampler
        return self

    @property
    def raw_handle(self) -> int:
        """The CUDA texture/surface object as an int (raises once destroyed)."""
        return int(self._obj.raw_handle)

    @property
    def alive(self) -> bool:
        return bool(self._obj.alive)

    @property
    def descriptor(self) -> ImageDescriptor:
        return self._desc

    @property
    def device(self) -> int:
        return self._obj.device

    def destroy(self) -> None:
        """Destroy the CUDA object now; a second call raises ``ReleasedResourceError``."""
        obj = self._obj
        call_on_device(obj.device, obj.destroy)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        if self._obj.alive:
            self.destroy()

    def __repr__(self) -> str:
        state = "" if self.alive else ", destroyed"
        return f"{type(self).__name__}({int(self)}, {self._desc}{state})"

    def __reduce__(self):
        raise ImageArrayTypeError(f"{type(self).__name__} cannot be pickled: it owns a CUDA object")

    # int arithmetic on a handle is always a mistake
    def _no_arithmetic(self, *args):
        raise ImageArrayTypeError(f"{type(self).__name__} is an opaque handle: no arithmetic on it")

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _no_arithmetic
    __floordiv__ = __truediv__ = __mod__ = __neg__ = __lshift__ = __rshift__ = _no_arithmetic


class SampledImageHandle(_Handle):
    """A sampled image handle (CUDA texture object). ``int(h)`` is the raw handle."""

    @property
    def sampler(self) -> Sampler:
        return self._sampler


class UnsampledImageHandle(_Handle):
    """An unsampled image handle (CUDA surface object). ``int(h)`` is the raw handle."""


@dataclasses.dataclass(frozen=True)
class HandlePlan:
    """Arguments of ``imagearray._handles.create_texture`` / ``create_surface``."""

    sampled: bool
    kind: str
    fmt: int = 0
    channels: int = 0
    width: int = 0
    height: int = 0
    pitch: int = 0
    size_bytes: int = 0
    address_modes: tuple[int, int, int] = (0, 0, 0)
    filter_mode: int = 0
    mipmap_filter_mode: int = 0
    flags: int = 0
    max_anisotropy: int = 0
    min_level_clamp: float = 0.0
    max_level_clamp: float = 0.0
    border_color: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)


def plan_handle(
    desc: ImageDescriptor,
    kind: str,
    sampler: Sampler | None,
    *,
    address: int = 0,
    pitch: int | None = None,
    limits: dict | None = None,
) -> HandlePlan:
    """Check the spec's and CUDA's rules for a handle to ``desc`` held in memory of
    ``kind`` (array, mipmap, linear, pitch2d) and return what to create.

    ``limits`` holds the device's ``image_row_pitch_align``, ``texture_alignment``,
    ``max_image_1d_linear_width``, ``max_image_linear_width/height/row_pitch``.
    """
    if not isinstance(desc, ImageDescriptor):
        raise ImageArrayTypeError(f"desc must be an ImageDescriptor, not {type(desc).__name__}")
    if not isinstance(kind, str) or kind not in _KIND_CODE:
        raise ImageArrayValueError(f"kind must be one of {', '.join(_KIND_CODE)}, not {kind!r}")
    if sampler is not None and not isinstance(sampler, Sampler):
        raise ImageArrayTypeError(f"sampler must be an ia.Sampler, not {type(sampler).__name__}")
    address = _as_uint64("address", address)
    pitch = None if pitch is None else _as_uint64("pitch", pitch)
    limits = limits or {}
    if sampler is None:
        if kind == MIPMAP or desc.type.is_mipmapped:
            raise ImageArrayValueError(
                "an unsampled image handle to a mipmap cannot be created (spec: mipmaps are "
                "sampled images only); make one for a level: get_mip_level_mem_handle(level)"
            )
        if kind in (LINEAR, PITCH2D):
            raise ImageArrayValueError(
                "CUDA surfaces need image memory (a CUDA array): USM images can only be "
                "sampled; pass a sampler, or copy the data into image memory"
            )
        return HandlePlan(False, kind)
    sampler.check_channel_type(desc.channel_type)
    if kind == MIPMAP and not sampler.normalized:
        # cuTexObjectCreate: "for CUDA mipmapped arrays, [CU_TRSF_NORMALIZED_COORDINATES]
        # has to be set"; the driver refuses the texture otherwise.
        raise ImageArrayValueError(
            "a mipmapped image is sampled with normalized coordinates only (CUDA "
            "requires them for mipmapped textures): use a Sampler with "
            "coordinates='normalized'"
        )
    flags = sampler.cuda_flags
    if not desc.type.is_cubemap:
        # CU_TRSF_SEAMLESS_CUBEMAP "can only be specified if the underlying resource
        # is a CUDA array or a CUDA mipmapped array that was created with the flag
        # CUDA_ARRAY3D_CUBEMAP" (cuTexObjectCreate); it means nothing for other images.
        flags &= ~_CU_TRSF_SEAMLESS_CUBEMAP
    if not desc.channel_type.is_normalized and desc.channel_type.dtype_name not in (
        "float16",
        "float32",
    ):
        flags |= _CU_TRSF_READ_AS_INTEGER
    w = desc.width
    h = max(desc.height, 1)
    size_bytes = 0
    row_pitch = 0
    if kind == LINEAR:
        if desc.type is not ImageType.STANDARD or desc.dimensions != 1:
            raise ImageArrayValueError(f"a 1D USM image must be a 1D standard image, not {desc}")
        size_bytes = w * desc.texel_size
        if sampler.normalized or sampler.filtering.value != "nearest":
            raise ImageArrayValueError(
                "a 1D USM image is read with integer fetches only (CUDA has no filtering or "
                "normalized coordinates on linear memory): use Sampler() with nearest "
                "filtering and unnormalized coordinates"
            )
        _check_alignment(address, limits.get("texture_alignment", 1))
        limit = limits.get("max_image_1d_linear_width")
        if limit and w > limit:  # 0: the (deprecated) attribute gave no limit
            raise ImageArrayValueError(f"width {w} exceeds the device's 1D linear limit {limit}")
    elif kind == PITCH2D:
        if desc.type is not ImageType.STANDARD or desc.dimensions != 2:
            raise ImageArrayValueError(f"a 2D USM image must be a 2D standard image, not {desc}")
        row_pitch = pitch if pitch is not None else w * desc.texel_size
        align = limits.get("image_row_pitch_align", 1)
        if row_pitch % align:
            raise ImageArrayValueError(
                f"row pitch {row_pitch} B is not a multiple of the device's image_row_pitch_align "
                f"{align} B; allocate with ia.pitched_alloc_device"
            )
        if row_pitch < w * desc.texel_size:
            raise ImageArrayValueError(
                f"row pitch {row_pitch} B is smaller than a row of {w} texels x {desc.texel_size} B"
            )
        _check_alignment(address, limits.get("texture_alignment", 1))
        for name, value, key in (
            ("width", w, "max_image_linear_width"),
            ("height", h, "max_image_linear_height"),
            ("row pitch", row_pitch, "max_image_linear_row_pitch"),
        ):
            if key in limits and value > limits[key]:
                raise ImageArrayValueError(
                    f"{name} {value} exceeds the device's {key} {limits[key]}"
                )
    return HandlePlan(
        True,
        kind,
        fmt=cuda_format(desc.channel_type),
        channels=desc.num_channels,
        width=w,
        height=h,
        pitch=row_pitch,
        size_bytes=size_bytes,
        address_modes=_clamp_unused_axes(sampler.cuda_address_modes, desc),
        filter_mode=sampler.cuda_filter_mode,
        mipmap_filter_mode=sampler.cuda_mipmap_filter_mode,
        flags=flags,
        max_anisotropy=sampler.cuda_max_anisotropy,
        min_level_clamp=sampler.min_mipmap_level_clamp,
        max_level_clamp=sampler.max_mipmap_level_clamp,
        border_color=sampler.border_color,
    )


def _clamp_unused_axes(modes: tuple[int, int, int], desc: ImageDescriptor) -> tuple:
    """``modes`` with the axes the image does not have set to clamp-to-edge.

    The texture unit filters a 1D image as a row at y = 0, the edge between the row and
    what the y address mode puts above it: with border addressing on y, every linear
    sample came back blended half and half with the border colour (seen on the H100).
    Clamping the unused axes makes that blend a no-op; cubemaps ignore address modes."""
    if desc.type.is_cubemap or desc.dimensions >= 3:
        return modes
    return modes[: desc.dimensions] + (CU_TR_ADDRESS_MODE_CLAMP,) * (3 - desc.dimensions)


def _as_uint64(name: str, value: Any) -> int:
    """``value`` as an int that fits the driver's 64-bit unsigned fields."""
    v = coerce_int(name, value, 0)
    if v >= 2**64:
        raise ImageArrayValueError(f"{name}={v} does not fit 64 bits")
    return v


def _check_alignment(address: int, align: int) -> None:
    if address % align:
        raise ImageArrayValueError(
            f"USM image memory at {address:#x} is not aligned to the device's texture "
            f"alignment of {align} B (CuPy allocations are)"
        )


def _resolve_memory(memory: Any, desc: ImageDescriptor | None):
    """-> (kind, raw address/handle, owner object, descriptor, device, pitch or None)."""
    from imagearray._image_array import ImageArray

    if isinstance(memory, ImageArray):
        if memory._is_view():
            # A layer or face view shares the layered/cubemap CUDA array; a handle
            # made from it would address the whole array with a one-layer descriptor.
            raise ImageArrayValueError(
                "a handle cannot be made for a layer or face view: make it for the whole image"
            )
        memory._check_alive()
        if memory._whole_mipmap:
            memory = memory.mem
        else:
            h = memory._handle
            return ARRAY, h.raw(), h, memory.view_descriptor, h.device, None
    if isinstance(memory, ImageMem):
        memory = memory.handle
    if is_image_mem_handle(memory):
        if not memory.alive:
            raise ReleasedResourceError("the image memory was already freed")
        mdesc = memory.desc
        kind = ARRAY if hasattr(memory, "query_descriptor") else MIPMAP
        if mdesc is None and desc is None:
            raise ImageArrayValueError("desc= is required for image memory of unknown layout")
        return kind, memory.raw(), memory, desc or mdesc, memory.device, None
    if hasattr(memory, "__cuda_array_interface__"):
        from imagearray._copies import endpoint

        ep = endpoint(memory, "memory")
        d = desc or ep.desc
        if d is None:
            raise ImageArrayValueError("desc= is required for this USM memory")
        kind = LINEAR if d.dimensions == 1 else PITCH2D
        return kind, ep.address, memory, d, ep.device, (ep.pitch or None)
    raise ImageArrayTypeError(
        "memory must be an ImageArray, ImageMem, image_mem_handle or a CuPy array (USM), not "
        f"{type(memory).__name__}"
    )


def _compatible(given: ImageDescriptor, actual: ImageDescriptor) -> bool:
    return (
        given.extent == actual.extent
        and given.texel_size == actual.texel_size
        and given.num_channels == actual.num_channels
        and given.num_layers == actual.num_layers
        and given.type.is_cubemap == actual.type.is_cubemap
    )


def create_image(
    memory: Any,
    desc: ImageDescriptor | None = None,
    sampler: Sampler | None = None,
    *,
    pitch: int | None = None,
) -> SampledImageHandle | UnsampledImageHandle:
    """Create an image handle (spec: ``create_image``).

    With a ``sampler``, a :class:`SampledImageHandle` (texture object); without, an
    :class:`UnsampledImageHandle` (surface object). ``memory`` is image memory
    (``ImageArray``, ``ImageMem``, an image_mem_handle, a mip level's handle) or USM:
    a 1D CuPy array, or a 2D pitched one (its row stride, or ``pitch``, must be a
    multiple of ``device_info("image_row_pitch_align")``). Coordinates in kernels are
    texture order (x = width).

    Normalized integer channel types (unorm/snorm) read as float; other integer
    types read as integers; fp16 reads as float.

    Raises
    ------
    ImageArrayValueError
        Unsampled handle to a mipmap or to USM; misaligned USM; a sampler that cannot
        filter this channel type; a descriptor that does not match the memory.

    Examples
    --------
    >>> img = ia.asimage(numpy.ones((64, 64), numpy.float32))  # doctest: +SKIP
    >>> with ia.create_image(img, sampler=ia.Sampler(filtering="linear")) as tex:  # doctest: +SKIP
    ...     kernel((1,), (64,), (tex, out))
    """
    if pitch is None:
        recipe = _RECIPES.get((id(memory), id(desc), id(sampler)))
        if recipe is not None:
            handle = recipe.make(memory, desc, sampler)
            if handle is not None:
                return handle
    given = desc
    if desc is not None and not isinstance(desc, ImageDescriptor):
        raise ImageArrayTypeError(f"desc must be an ImageDescriptor, not {type(desc).__name__}")
    if sampler is not None and not isinstance(sampler, Sampler):
        raise ImageArrayTypeError(f"sampler must be an ia.Sampler, not {type(sampler).__name__}")
    if pitch is not None:
        pitch = _as_uint64("pitch", pitch)
    kind, address, owner, mdesc, device, usm_pitch = _resolve_memory(memory, None)
    if desc is not None:
        desc.verify()
        if not _compatible(desc, mdesc):
            raise ImageArrayValueError(
                f"desc {desc} does not match the memory, which holds {mdesc}"
            )
        if kind == ARRAY and desc.type.is_mipmapped:
            raise ImageArrayValueError(f"{desc} is mipmapped but the memory is one level")
    else:
        desc = mdesc
    limits = {}
    if kind in (LINEAR, PITCH2D):
        # The rules that need no device limit first (e.g. no surface on USM), before
        # the device is queried; the plan is made again below with the limits.
        plan_handle(
            desc, kind, sampler, address=address, pitch=usm_pitch if pitch is None else pitch
        )
        limits = {
            k: device_info(k, device)
            for k in (
                "image_row_pitch_align",
                "texture_alignment",
                "max_image_1d_linear_width",
                "max_image_linear_width",
                "max_image_linear_height",
                "max_image_linear_row_pitch",
            )
        }
    pitch = pitch if pitch is not None else usm_pitch
    if limits:
        plan = plan_handle(desc, kind, sampler, address=address, pitch=pitch, limits=limits)
    else:
        plan = _memo_plan(desc, kind, sampler, address, pitch)
    with on_device(device):
        obj = _create(_cy, plan, kind, device, address, owner)
    handle: _Handle
    if plan.sampled:
        handle = SampledImageHandle(obj, desc, sampler)
    else:
        handle = UnsampledImageHandle(obj, desc, None)
    if is_image_mem_handle(owner):
        dependents = _DEPENDENTS.get(owner)
        if dependents is None:
            dependents = _DEPENDENTS[owner] = weakref.WeakSet()
        dependents.add(obj)
        if pitch is None and kind in (ARRAY, MIPMAP):
            _record(memory, given, sampler, owner, desc, device, plan, kind, address, dependents)
    return handle


class _Recipe:
    """What create_image(memory, desc, sampler) resolved and checked for image memory
    (ImageArray, ImageMem or image_mem_handle; no pitch): enough to make another
    handle from the same three objects without resolving and checking them again.

    Descriptors and samplers are immutable and what memory resolves to is fixed for
    the object's life, so only liveness is looked at again: every object is held
    weakly (a recipe keeps nothing alive, and a dead one is a miss), and the memory
    must still be alive (``alive_of`` is what the general path checks first: the
    ImageArray's handle, else the memory handle). Anything else goes the general way,
    which raises its errors."""

    __slots__ = (
        "memory",
        "desc",
        "sampler",
        "alive_of",
        "owner",
        "handle_desc",
        "device",
        "sampled",
        "create",
        "dependents",
    )

    def make(self, memory, desc, sampler):
        if self.memory() is not memory or self.desc() is not desc:
            return None
        if self.sampler() is not sampler:
            return None
        alive_of, owner, handle_desc = self.alive_of(), self.owner(), self.handle_desc()
        if alive_of is None or owner is None or handle_desc is None:
            return None
        if not alive_of.alive or not owner.alive:
            return None  # the general path raises ReleasedResourceError
        device = self.device
        obj = call_on_device(device, self.create, device, owner)
        if self.sampled:
            handle = SampledImageHandle(obj, handle_desc, sampler)
        else:
            handle = UnsampledImageHandle(obj, handle_desc, None)
        self.dependents.add(obj)
        return handle


def _none() -> None:
    return None


def _weak(obj: Any):
    return _none if obj is None else weakref.ref(obj)


# (id(memory), id(desc), id(sampler)) -> _Recipe; bounded, emptied when full. Entries
# hold weak references only: an id reused by a new object finds a dead (or another)
# object and misses.
_RECIPES: dict[tuple, _Recipe] = {}
_RECIPES_MAX = 256


def _record(memory, given, sampler, owner, handle_desc, device, plan, kind, address, dependents):
    from imagearray._image_array import ImageArray

    r = _Recipe()
    try:
        r.memory = weakref.ref(memory)
        r.desc = _weak(given)
        r.sampler = _weak(sampler)
        r.alive_of = weakref.ref(memory._handle if isinstance(memory, ImageArray) else owner)
        r.owner = weakref.ref(owner)
        r.handle_desc = weakref.ref(handle_desc)
    except TypeError:  # an object without weak references: not remembered
        return
    r.device = device
    r.sampled = plan.sampled
    r.create = _creator(_cy, plan, kind, address)
    r.dependents = dependents
    if len(_RECIPES) >= _RECIPES_MAX:
        _RECIPES.clear()
    _RECIPES[(id(memory), id(given), id(sampler))] = r


def _creator(cy, plan: HandlePlan, kind: str, address: int):
    """``create(device, owner)``: what _create does for ``plan``, with the driver's
    descriptors filled once where the Cython layer can hold them (TextureRecipe)."""
    if not plan.sampled:
        return lambda device, owner: cy.create_surface(device, address, owner)
    args = _texture_args(plan, kind, address)
    recipe = getattr(cy, "TextureRecipe", None)
    if recipe is not None:
        return recipe(*args).create
    return lambda device, owner: cy.create_texture(device, *args, owner)


# (id(desc), id(sampler), kind, address, pitch) -> (desc, sampler, plan). Planning is
# pure but costs several times the driver's cuTexObjectCreate, so a handle made again
# for the same descriptor and sampler objects reuses the plan. The entry holds both
# objects, so their ids cannot be reused while it exists.
_PLANS: dict[tuple, tuple] = {}
_PLANS_MAX = 1024


def _memo_plan(desc, kind, sampler, address, pitch) -> HandlePlan:
    key = (id(desc), id(sampler), kind, address, pitch)
    hit = _PLANS.get(key)
    if hit is not None and hit[0] is desc and hit[1] is sampler:
        return hit[2]
    plan = plan_handle(desc, kind, sampler, address=address, pitch=pitch)
    if len(_PLANS) >= _PLANS_MAX:
        _PLANS.clear()
    _PLANS[key] = (desc, sampler, plan)
    return plan


def _texture_args(plan: HandlePlan, kind: str, address: int) -> tuple:
    """``create_texture``'s arguments between the device and the memory."""
    return (
        _KIND_CODE[kind],
        address,
        plan.fmt,
        plan.channels,
        plan.width,
        plan.height,
        plan.pitch,
        plan.size_bytes,
        plan.address_modes,
        plan.filter_mode,
        plan.mipmap_filter_mode,
        plan.flags,
        plan.max_anisotropy,
        plan.min_level_clamp,
        plan.max_level_clamp,
        plan.border_color,
    )


def _create(cy, plan: HandlePlan, kind: str, device: int, address: int, owner: Any):
    if plan.sampled:
        return cy.create_texture(device, *_texture_args(plan, kind, address), owner)
    return cy.create_surface(device, address, owner)


def destroy_image_handle(handle: SampledImageHandle | UnsampledImageHandle) -> None:
    """Destroy an image handle now (spec: ``destroy_image_handle``)."""
    if not isinstance(handle, _Handle):
        raise ImageArrayTypeError(
            f"expected a SampledImageHandle or UnsampledImageHandle, not {type(handle).__name__}"
        )
    handle.destroy()
