"""The rules a sampled or unsampled image handle must meet before CUDA is asked for
one (plain Python: the spec's rules and CUDA's, testable without a GPU).

:func:`plan_handle` checks a descriptor, the kind of memory holding it and a sampler,
and returns the :class:`HandlePlan` (the arguments of ``imagearray._handles``'
``create_texture`` / ``create_surface``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from imagearray import _handles as _cy  # the Cython owners: their resource codes
from imagearray._coerce import coerce_int
from imagearray._cuda import (
    CU_TR_ADDRESS_MODE_CLAMP,
    CU_TRSF_NORMALIZED_COORDINATES,
    CU_TRSF_READ_AS_INTEGER,
    CU_TRSF_SEAMLESS_CUBEMAP,
    cuda_format,
)
from imagearray._descriptor import ImageDescriptor
from imagearray._enums import ImageType
from imagearray._errors import ImageArrayTypeError, ImageArrayValueError
from imagearray._sampler import Sampler

__all__ = ["ARRAY", "LINEAR", "MIPMAP", "PITCH2D", "HandlePlan", "plan_handle", "texture_args"]

ARRAY, MIPMAP, LINEAR, PITCH2D = "array", "mipmap", "linear", "pitch2d"
#: The resource kinds as the Cython owners number them (their module exports the codes).
KIND_CODE = {ARRAY: _cy.ARRAY, MIPMAP: _cy.MIPMAP, LINEAR: _cy.LINEAR, PITCH2D: _cy.PITCH2D}


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
    #: an 8/16-bit integer image read normalized for a linear filter: kernels declare
    #: the handle ``ia::filtered_integer_image_handle<T>`` (filtered_integer.cuh)
    filtered_integer: bool = False


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
    if not isinstance(kind, str) or kind not in KIND_CODE:
        raise ImageArrayValueError(f"kind must be one of {', '.join(KIND_CODE)}, not {kind!r}")
    if sampler is not None and not isinstance(sampler, Sampler):
        raise ImageArrayTypeError(f"sampler must be an ia.Sampler, not {type(sampler).__name__}")
    address = as_uint64("address", address)
    pitch = None if pitch is None else as_uint64("pitch", pitch)
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
        flags &= ~CU_TRSF_SEAMLESS_CUBEMAP
    filter_mode = sampler.cuda_filter_mode
    mip_filter_mode = sampler.cuda_mipmap_filter_mode
    address_modes = sampler.cuda_address_modes
    ct = desc.channel_type
    if kind == LINEAR:
        # CUDA reads 1D linear memory with integer fetches only (tex1Dfetch): its
        # sampler has no effect on them (spec), so the texture gets a plain one.
        filter_mode = mip_filter_mode = 0
        address_modes = (CU_TR_ADDRESS_MODE_CLAMP,) * 3
        flags &= ~CU_TRSF_NORMALIZED_COORDINATES
    elif sampler.filters and not ct.reads_as_float and ct.filter_twin is None:
        # 32-bit integers: the driver cannot filter them (Sampler.sampling_problem).
        # The handle is for fetching, which ignores the filter (spec).
        filter_mode = mip_filter_mode = 0
    filtered_integer = kind != LINEAR and sampler.filters and ct.filter_twin is not None
    if not ct.reads_as_float and not filtered_integer:
        flags |= CU_TRSF_READ_AS_INTEGER
    # else 8/16-bit integers with a linear filter: a normalized read, which the driver
    # filters; sample() and ia::sample_image scale it back to the image's units.
    w = desc.width
    h = max(desc.height, 1)
    size_bytes = 0
    row_pitch = 0
    if kind == LINEAR:
        if desc.type is not ImageType.STANDARD or desc.dimensions != 1:
            raise ImageArrayValueError(f"a 1D USM image must be a 1D standard image, not {desc}")
        size_bytes = w * desc.texel_size
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
        address_modes=_clamp_unused_axes(address_modes, desc),
        filter_mode=filter_mode,
        mipmap_filter_mode=mip_filter_mode,
        flags=flags,
        max_anisotropy=sampler.cuda_max_anisotropy,
        min_level_clamp=sampler.min_mipmap_level_clamp,
        max_level_clamp=sampler.max_mipmap_level_clamp,
        border_color=sampler.border_color,
        filtered_integer=filtered_integer,
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


def as_uint64(name: str, value: Any) -> int:
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


def texture_args(plan: HandlePlan, kind: str, address: int) -> tuple:
    """``create_texture``'s arguments between the device and the memory."""
    return (
        KIND_CODE[kind],
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
