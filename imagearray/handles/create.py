"""Sampled and unsampled image handles: ``create_image`` and ``destroy_image_handle``.

A :class:`SampledImageHandle` is a CUDA texture object, an
:class:`UnsampledImageHandle` a CUDA surface object. Both are ``int`` subclasses
whose value is the raw 64-bit handle, so they pass straight into ``cupy.RawKernel``
/ ``RawModule`` arguments, where the kernel declares ``ia::sampled_image_handle`` /
``ia::unsampled_image_handle``. Each owns its CUDA object (destroyed once: by
``destroy()``, the ``with`` block, ``destroy_image_handle`` or garbage collection)
and keeps the memory it reads alive.

The rules applied before any CUDA call live in :mod:`imagearray.handles.rules`
(plain Python). Freeing memory that live handles read is refused by the memory's
Cython owner, which holds the handles made from it (``dependents``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy

from imagearray import _handles as _cy  # the Cython owners
from imagearray._descriptor import ImageDescriptor
from imagearray._device import device_info, on_device
from imagearray._errors import (
    ImageArrayTypeError,
    ImageArrayValueError,
    ReleasedResourceError,
)
from imagearray._handles import HandleRecipe, from_recipe
from imagearray._sampler import Sampler
from imagearray.handles.rules import (
    ARRAY,
    LINEAR,
    MIPMAP,
    PITCH2D,
    HandlePlan,
    as_uint64,
    plan_handle,
    texture_args,
)
from imagearray.memory import ImageMem, ImageView, describe_linear, is_image_mem_handle

__all__ = [
    "SampledImageHandle",
    "check_usm",
    "UnsampledImageHandle",
    "create_image",
    "destroy_image_handle",
    "live_handles",
]


def live_handles(memory_handle: Any) -> list:
    """The handles created from ``memory_handle`` (an image_mem_handle) still alive."""
    with memory_handle.lock:
        return [h for h in list(memory_handle.dependents) if h.alive]


class _Handle(numpy.uint64):
    # A numpy.uint64 rather than an int: CuPy's kernel launcher takes NumPy scalars
    # (and subclasses) as arguments but refuses int subclasses, and handles must go
    # straight into cupy.RawKernel calls (DESIGN.md).
    # Slots, not a __dict__: a handle is made per call on the hot paths (and
    # HandleRecipe.make fills these four).
    __slots__ = ("_obj", "_desc", "_sampler", "_filtered_integer", "__weakref__")
    _kind = "image"

    def __new__(cls, obj, desc: ImageDescriptor, sampler: Sampler | None):
        self = numpy.uint64.__new__(cls, obj.raw_handle)
        self._obj = obj
        self._desc = desc
        self._sampler = sampler
        self._filtered_integer = False
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
    def device(self):
        """The device the handle belongs to, as a ``cupy.cuda.Device`` (as
        ``cupy.ndarray.device``); :attr:`device_id` is its ordinal."""
        import cupy

        return cupy.cuda.Device(self._obj.device)

    @property
    def device_id(self) -> int:
        """The ordinal of :attr:`device`."""
        return int(self._obj.device)

    def destroy(self) -> None:
        """Destroy the CUDA object now; a second call raises ``ReleasedResourceError``."""
        # in the object's device's context, pushed for the call where another is
        # current (imagearray._handles): CuPy's current device is never changed
        self._obj.destroy()

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
    """A sampled image handle (CUDA texture object). ``int(h)`` is the raw handle.

    Examples
    --------
    >>> import numpy
    >>> import imagearray as ia
    >>> img = ia.asimage(numpy.ones((64, 64), numpy.float32))
    >>> tex = img.texture(ia.Sampler(filtering="linear"))
    >>> tex.sampler.filtering
    <FilteringMode.LINEAR: 'linear'>
    >>> int(tex) != 0  # what a kernel's ia::sampled_image_handle receives
    True
    """

    __slots__ = ()

    @property
    def sampler(self) -> Sampler:
        return self._sampler

    @property
    def kernel_type(self) -> str:
        """The C++ type a kernel declares this handle as: ``"ia::sampled_image_handle"``,
        or ``"ia::filtered_integer_image_handle<T>"`` (T the image's channel type:
        ``signed char``, ``unsigned char``, ``short``, ``unsigned short``) for an 8/16-bit
        integer image whose sampler filters linearly. CUDA cannot filter an integer
        read, so such a texture reads the image normalized; through the filtered handle
        type, ``ia::sample_image<short>`` and the other sampling functions return the
        filtered value in the image's units (rounded for integer types, unrounded for
        float ones; ``imagearray/filtered_integer.cuh``). Both are one uint64 argument.

        Examples
        --------
        >>> import numpy
        >>> import imagearray as ia
        >>> ct = ia.asimage(numpy.zeros((4, 4, 4), numpy.int16), channels=1)  # a CT volume
        >>> ct.texture(ia.Sampler(filtering="linear")).kernel_type
        'ia::filtered_integer_image_handle<short>'
        >>> ct.texture(ia.Sampler()).kernel_type  # nearest: an integer read
        'ia::sampled_image_handle'
        """
        if self._filtered_integer:
            ctype = self._desc.channel_type.filter_ctype
            return f"ia::filtered_integer_image_handle<{ctype}>"
        return "ia::sampled_image_handle"


class UnsampledImageHandle(_Handle):
    """An unsampled image handle (CUDA surface object). ``int(h)`` is the raw handle.

    Examples
    --------
    >>> import numpy
    >>> import imagearray as ia
    >>> img = ia.zeros((64, 64))
    >>> surf = img.surface()  # a kernel's ia::unsampled_image_handle: reads and writes
    >>> isinstance(surf, ia.UnsampledImageHandle)
    True
    """

    __slots__ = ()


def _resolve_memory(memory: Any, desc: ImageDescriptor | None):
    """-> (kind, raw address/handle, owner object, descriptor, device, pitch or None)."""
    if isinstance(memory, ImageView):
        if memory._is_view():
            # A layer or face view shares the layered/cubemap CUDA array; a handle
            # made from it would address the whole array with a one-layer descriptor.
            raise ImageArrayValueError(
                "a handle cannot be made for a layer or face view: make it for the whole image"
            )
        memory._check_alive()
        if memory._linear:  # a linear-backed image: its CuPy array is USM
            memory, desc = memory.mem.array, desc or memory.view_descriptor
        elif memory._whole_mipmap:
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
        ep = describe_linear(memory, "memory")
        d = desc or ep.desc
        if d is None:
            raise ImageArrayValueError("desc= is required for this USM memory")
        kind = LINEAR if d.dimensions == 1 else PITCH2D
        return kind, ep.address, memory, d, ep.device, (ep.pitch or None)
    raise ImageArrayTypeError(
        "memory must be an ImageArray, ImageMem, image_mem_handle or a CuPy array (USM), not "
        f"{type(memory).__name__}"
    )


def _usm_capacity(memory: Any, address: int) -> tuple[int, str]:
    """(bytes from ``address`` to the end of ``memory``, what they are): for a CuPy
    array its allocation (a view reaches to the end of the memory it is cut from),
    for any other ``__cuda_array_interface__`` object the bytes it describes."""
    data = getattr(memory, "data", None)
    mem = getattr(data, "mem", None)
    try:
        base, size = int(mem.ptr), int(mem.size)
    except (AttributeError, TypeError, ValueError):
        ep = describe_linear(memory, "memory")
        return ep.nbytes, "the bytes the array spans"
    if base <= address <= base + size:
        return base + size - address, "the array's allocation from its first byte"
    return describe_linear(memory, "memory").nbytes, "the bytes the array spans"


def _check_usm_extent(plan: HandlePlan, desc: ImageDescriptor, memory, address, pitch) -> None:
    """Refuse a USM image reaching past its memory: the texture unit would read there
    (the last row of a 2D image at a pitch too large faults the context:
    CUDA_ERROR_ILLEGAL_ADDRESS)."""
    row = desc.width * desc.texel_size
    if plan.kind == LINEAR:
        needed, how = plan.size_bytes, f"width {desc.width} x {desc.texel_size} B"
    else:
        needed = plan.pitch * (plan.height - 1) + row
        how = (
            f"{'pitch=' if pitch is not None else 'row pitch '}{plan.pitch} B x "
            f"(height {plan.height} - 1) + a row of {row} B"
        )
    available, what = _usm_capacity(memory, address)
    if needed > available:
        raise ImageArrayValueError(
            f"the image needs {how} = {needed} B of memory, but {what} hold {available} B: "
            "a smaller pitch or height, or a larger allocation (ia.pitched_alloc_device)"
        )


_USM_LIMITS = (
    "image_row_pitch_align",
    "texture_alignment",
    "max_image_1d_linear_width",
    "max_image_linear_width",
    "max_image_linear_height",
    "max_image_linear_row_pitch",
)


_LIMITS_OF: dict[int, dict] = {}  # device -> its USM limits (attributes never change)


def usm_limits(device: int) -> dict:
    """The device limits that USM (linear and pitched) handles are checked against."""
    limits = _LIMITS_OF.get(device)
    if limits is None:
        limits = _LIMITS_OF[device] = {k: device_info(k, device) for k in _USM_LIMITS}
    return limits


def check_usm(desc: ImageDescriptor, address: int, pitch: int, device: int) -> None:
    """Raise ``ImageArrayValueError`` unless a USM image of ``desc`` at ``address``
    (rows ``pitch`` bytes apart) can be sampled on ``device``: the rules and limits
    ``create_image`` applies to a CuPy array, before any handle is asked for."""
    kind = LINEAR if desc.dimensions == 1 else PITCH2D
    plan_handle(desc, kind, _FETCH, address=address, pitch=pitch, limits=usm_limits(device))


_FETCH = Sampler()  # nearest, unnormalized: what every USM image can be read with


def _check_usm_view(desc: ImageDescriptor, memory: Any, pitch: int | None) -> None:
    """A descriptor given for a CuPy array views its bytes (uint8 rows of
    ``pitched_alloc_device`` as RGBA fp16 texels): the image's rows must lie in the
    array's rows (the row padding is no image data), and as many. With ``pitch=`` the
    caller lays the rows out; _check_usm_extent bounds them by the allocation."""
    lin = describe_linear(memory, "memory")
    shape = lin.shape_bytes
    row = desc.width * desc.texel_size
    if desc.dimensions == 1 or len(shape) < 2:
        need = row * max(desc.height, 1) if pitch is None else row
        if need > lin.nbytes:
            raise ImageArrayValueError(
                f"desc {desc} needs {need} B, the array holds {lin.nbytes} B"
            )
        return
    if pitch is not None:
        return
    array_row = math.prod(shape[1:])
    if row > array_row or desc.height > shape[0]:
        raise ImageArrayValueError(
            f"desc {desc} has {desc.height} rows of {row} B, the array {shape[0]} rows of "
            f"{array_row} B (its rows are {lin.pitch or array_row} B apart): the image's rows "
            "must lie in the array's (or pass pitch=)"
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
    >>> img = ia.asimage(numpy.ones((64, 64), numpy.float32))
    >>> with ia.create_image(img, sampler=ia.Sampler(filtering="linear")) as tex:
    ...     int(tex) != 0  # a kernel argument, until the block ends and destroys it
    True
    """
    if pitch is None:
        handle = from_recipe(_RECIPES, memory, desc, sampler)
        if handle is not None:
            return handle
    given = desc
    if desc is not None and not isinstance(desc, ImageDescriptor):
        raise ImageArrayTypeError(f"desc must be an ImageDescriptor, not {type(desc).__name__}")
    if sampler is not None and not isinstance(sampler, Sampler):
        raise ImageArrayTypeError(f"sampler must be an ia.Sampler, not {type(sampler).__name__}")
    if pitch is not None:
        pitch = as_uint64("pitch", pitch)
    usm = hasattr(memory, "__cuda_array_interface__") and not isinstance(memory, ImageView)
    # Raw USM takes the descriptor it is given (bytes viewed in another format);
    # image memory's must match the allocation.
    kind, address, owner, mdesc, device, usm_pitch = _resolve_memory(memory, desc if usm else None)
    if usm and desc is not None:
        desc.verify()
        _check_usm_view(desc, memory, pitch)
    elif desc is not None:
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
        first = plan_handle(
            desc, kind, sampler, address=address, pitch=usm_pitch if pitch is None else pitch
        )
        _check_usm_extent(first, desc, owner, address, pitch)
        limits = usm_limits(device)
    pitch = pitch if pitch is not None else usm_pitch
    if limits:
        plan = plan_handle(desc, kind, sampler, address=address, pitch=pitch, limits=limits)
    else:
        plan = _memo_plan(desc, kind, sampler, address, pitch)
    if is_image_mem_handle(owner):
        # Under the memory's lock, which free() holds: the memory is either freed
        # before (ReleasedResourceError) or refuses to be freed while this handle lives.
        dependents = owner.dependents  # the owner refuses to free while these live
        with owner.lock:
            _check_not_freed(owner)
            with on_device(device):
                obj = _create(_cy, plan, kind, device, address, owner)
            _cy.register(obj, dependents)
        if pitch is None and kind in (ARRAY, MIPMAP):
            _record(memory, given, sampler, owner, desc, device, plan, kind, address)
    else:
        with on_device(device):
            obj = _create(_cy, plan, kind, device, address, owner)
    if plan.sampled:
        return _sampled(obj, desc, sampler, plan.filtered_integer)
    return UnsampledImageHandle(obj, desc, None)


def _sampled(obj, desc: ImageDescriptor, sampler, filtered_integer: bool) -> SampledImageHandle:
    h = SampledImageHandle(obj, desc, sampler)
    if filtered_integer:
        h._filtered_integer = True
    return h


def _check_not_freed(owner: Any) -> None:
    if not owner.alive:
        raise ReleasedResourceError(
            "the image memory was freed (by another thread?) before the handle was made"
        )


# (id(memory), id(desc), id(sampler)) -> _cy.HandleRecipe; bounded, emptied when full. Entries
# hold weak references only: an id reused by a new object finds a dead (or another)
# object and misses.
_RECIPES: dict[tuple, Any] = {}
_RECIPES_MAX = 256


def _record(memory, given, sampler, owner, handle_desc, device, plan, kind, address):
    alive_of = memory._handle if isinstance(memory, ImageView) else owner
    create = _creator(_cy, plan, kind, address)
    cls = SampledImageHandle if plan.sampled else UnsampledImageHandle
    try:
        r = HandleRecipe(
            memory,
            given,
            sampler,
            alive_of,
            owner,
            handle_desc,
            device,
            create,
            cls,
            plan.filtered_integer,
        )
    except TypeError:  # an object without weak references: not remembered
        return
    if len(_RECIPES) >= _RECIPES_MAX:
        _RECIPES.clear()
    _RECIPES[(id(memory), id(given), id(sampler))] = r


def _creator(cy, plan: HandlePlan, kind: str, address: int):
    """What HandleRecipe.make calls ``create(device, owner)`` on: the driver's
    descriptors for ``plan``, filled once (TextureRecipe, SurfaceRecipe)."""
    if not plan.sampled:
        return cy.SurfaceRecipe(address)
    return cy.TextureRecipe(*texture_args(plan, kind, address))


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


def _create(cy, plan: HandlePlan, kind: str, device: int, address: int, owner: Any):
    if plan.sampled:
        return cy.create_texture(device, *texture_args(plan, kind, address), owner)
    return cy.create_surface(device, address, owner)


def destroy_image_handle(handle: SampledImageHandle | UnsampledImageHandle) -> None:
    """Destroy an image handle now (spec: ``destroy_image_handle``).

    Examples
    --------
    >>> import imagearray as ia
    >>> desc = ia.ImageDescriptor(64, 64, channel_order="r", channel_type="fp32")
    >>> mem = ia.alloc_image_mem(desc)
    >>> tex = ia.create_image(mem, desc, ia.Sampler())
    >>> ia.destroy_image_handle(tex)  # now, not when tex is collected
    >>> ia.free_image_mem(mem)
    """
    if not isinstance(handle, _Handle):
        raise ImageArrayTypeError(
            f"expected a SampledImageHandle or UnsampledImageHandle, not {type(handle).__name__}"
        )
    handle.destroy()
