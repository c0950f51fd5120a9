"""What image memory CUDA can allocate: array geometry, the device limits and aspects
each image type needs (plain Python over ``device_info``/``device_has``).

Extents are in texture order (x = width, y = height, z = depth).
"""

from __future__ import annotations

from imagearray._cuda import (
    CUDA_ARRAY3D_CUBEMAP,
    CUDA_ARRAY3D_LAYERED,
    CUDA_ARRAY3D_SURFACE_LDST,
    CUDA_ARRAY3D_TEXTURE_GATHER,
)
from imagearray._descriptor import ImageDescriptor
from imagearray._device import Aspect, device_has, device_info
from imagearray._enums import ImageType
from imagearray._errors import ImageArrayValueError

__all__ = [
    "check_device_support",
    "check_gather",
    "cuda_geometry",
    "image_box",
    "limit_problem",
]


def check_gather(desc: ImageDescriptor) -> None:
    """Raise unless ``desc`` may be allocated for texture gather: a 2D standard image.

    CUDA gathers from 2D CUDA arrays only (``cuArray3DCreate``: "Texture gather can
    only be performed on 2D CUDA arrays"; ``tex2Dgather`` has no layered, cubemap or
    level form). ``cuMipmappedArrayCreate`` takes the flag too, but ``tex2Dgather``
    names no level, so mipmaps are left out rather than guessed at."""
    if desc.type is not ImageType.STANDARD or desc.dimensions != 2:
        raise ImageArrayValueError(
            f"gather=True allocates 2D standard images only (CUDA gathers from 2D CUDA "
            f"arrays), not {desc}: leave gather out for {desc.dimensions}D, layered, "
            "cubemap and mipmapped images"
        )


def cuda_geometry(desc: ImageDescriptor, gather: bool = False) -> tuple[int, int, int, int]:
    """CUDA array extents ``(width, height, depth, flags)`` for ``desc``'s level 0:
    height/depth 0 when unused; depth counts layers for layered and cubemap types.
    ``gather`` adds ``CUDA_ARRAY3D_TEXTURE_GATHER`` (see :func:`check_gather`)."""
    flags = CUDA_ARRAY3D_SURFACE_LDST
    if gather:
        check_gather(desc)
        flags |= CUDA_ARRAY3D_TEXTURE_GATHER
    w, h, d = desc.width, desc.height, desc.depth
    t = desc.type
    if t.is_cubemap:
        flags |= CUDA_ARRAY3D_CUBEMAP
        d = desc.num_layers
        if t is ImageType.CUBEMAP_ARRAY:
            flags |= CUDA_ARRAY3D_LAYERED
    elif t.is_layered:
        flags |= CUDA_ARRAY3D_LAYERED
        d = desc.num_layers
    return w, h, d, flags


def image_box(desc: ImageDescriptor) -> tuple[int, int, int]:
    """The memory box ``(x, y, z)`` in texels that copies address: z is the depth of
    a 3D image or the layer (cubemap face) index of layered and cubemap images."""
    w, h, d = desc.extent
    if desc.type.is_layered or desc.type.is_cubemap:
        d = desc.num_layers
    return (w, h, d)


# (image type, dimensions) -> the device_info limits its CUDA array must meet: the
# texture limit, and the surface limit because every array is made with
# CUDA_ARRAY3D_SURFACE_LDST (cuArray3DCreate / cuMipmappedArrayCreate: "Valid extents
# with CUDA_ARRAY3D_SURFACE_LDST set"; e.g. 1D surfaces are narrower than 1D textures).
_LIMIT_KEYS = {
    (ImageType.STANDARD, 1): ("max_image_1d", "max_surface_1d"),
    (ImageType.STANDARD, 2): ("max_image_2d", "max_surface_2d"),
    (ImageType.STANDARD, 3): ("max_image_3d", "max_surface_3d"),
    (ImageType.MIPMAP, 1): ("max_image_1d_mipmap", "max_surface_1d"),
    (ImageType.MIPMAP, 2): ("max_image_2d_mipmap", "max_surface_2d"),
    (ImageType.MIPMAP, 3): ("max_image_3d", "max_surface_3d"),
    (ImageType.ARRAY, 1): ("max_image_1d_array", "max_surface_1d_array"),
    (ImageType.ARRAY, 2): ("max_image_2d_array", "max_surface_2d_array"),
    (ImageType.MIPMAP_ARRAY, 1): ("max_image_1d_array", "max_surface_1d_array"),
    (ImageType.MIPMAP_ARRAY, 2): ("max_image_2d_array", "max_surface_2d_array"),
    (ImageType.CUBEMAP, 2): ("max_image_cubemap", "max_surface_cubemap"),
    (ImageType.MIPMAP_CUBEMAP, 2): ("max_image_cubemap", "max_surface_cubemap"),
    (ImageType.CUBEMAP_ARRAY, 2): ("max_image_cubemap_array", "max_surface_cubemap_array"),
}

_REQUIRED_ASPECTS = {
    ImageType.MIPMAP: (Aspect.MIPMAP,),
    ImageType.ARRAY: (Aspect.IMAGE_ARRAY,),
    ImageType.CUBEMAP: (Aspect.CUBEMAP,),
    ImageType.MIPMAP_ARRAY: (Aspect.MIPMAP, Aspect.IMAGE_ARRAY),
    ImageType.CUBEMAP_ARRAY: (Aspect.CUBEMAP, Aspect.IMAGE_ARRAY),
    ImageType.MIPMAP_CUBEMAP: (Aspect.MIPMAP, Aspect.CUBEMAP),
}


def limit_problem(desc: ImageDescriptor, limits: tuple[int, ...] | int) -> str | None:
    """Compare ``desc`` with a device limit as ``device_info`` reports it (plain
    Python, testable without a GPU). Returns a message or None."""
    lim = (limits,) if isinstance(limits, int) else tuple(limits)
    t = desc.type
    if t is ImageType.CUBEMAP_ARRAY:
        wanted, names = (desc.width, desc.num_layers), ("face width", "layers")
    elif t.is_cubemap:
        wanted, names = (desc.width,), ("face width",)
    elif t.is_layered:
        wanted = (
            (desc.width,) + ((desc.height,) if desc.dimensions == 2 else ()) + (desc.array_size,)
        )
        names = ("width",) + (("height",) if desc.dimensions == 2 else ()) + ("layers",)
    else:
        wanted = (desc.width, desc.height, desc.depth)[: desc.dimensions]
        names = ("width", "height", "depth")[: desc.dimensions]
    for name, value, limit in zip(names, wanted, lim):
        if value > limit:
            return f"{name} {value} exceeds this device's limit of {limit} for {desc}"
    return None


def check_device_support(desc: ImageDescriptor, device: int, gather: bool = False) -> None:
    """Raise :class:`ImageArrayValueError` where ``device`` cannot allocate ``desc``
    (with the gather flag when ``gather``: a smaller 2D texture limit)."""
    for aspect in _REQUIRED_ASPECTS.get(desc.type, ()):
        if not device_has(aspect, device):
            raise ImageArrayValueError(
                f"device {device} does not support {desc.type.value} images "
                f"(aspect {aspect.value} is missing)"
            )
    keys = _LIMIT_KEYS.get((desc.type, desc.dimensions))
    if keys is None:
        raise ImageArrayValueError(f"CUDA cannot allocate {desc}")
    if gather:
        # cuArray3DCreate: with CUDA_ARRAY3D_TEXTURE_GATHER, width and height must
        # not exceed MAXIMUM_TEXTURE2D_GATHER_WIDTH / _HEIGHT.
        check_gather(desc)
        keys = ("max_image_2d_gather",) + keys[1:]
    for key in keys:
        problem = limit_problem(desc, device_info(key, device))
        if problem:
            raise ImageArrayValueError(problem)
