"""The table behind ``device_info``: which driver attribute answers each key (plain
data, no CUDA; ``_device`` reads the attributes)."""

from __future__ import annotations

__all__ = ["CUDA_MAX_ANISOTROPY", "INFO_ATTRS"]

# the extents CUDA bounds alike for textures (max_image_*) and surfaces (max_surface_*):
# key suffix -> attribute suffixes after MAXIMUM_TEXTURE / MAXIMUM_SURFACE
_EXTENTS = {
    "1d": ("1D_WIDTH",),
    "2d": ("2D_WIDTH", "2D_HEIGHT"),
    "3d": ("3D_WIDTH", "3D_HEIGHT", "3D_DEPTH"),
    "1d_array": ("1D_LAYERED_WIDTH", "1D_LAYERED_LAYERS"),
    "2d_array": ("2D_LAYERED_WIDTH", "2D_LAYERED_HEIGHT", "2D_LAYERED_LAYERS"),
    "cubemap": ("CUBEMAP_WIDTH",),
    "cubemap_array": ("CUBEMAP_LAYERED_WIDTH", "CUBEMAP_LAYERED_LAYERS"),
}


def _extents(kind: str, prefix: str) -> dict[str, str | tuple[str, ...]]:
    names = {k: tuple(prefix + s for s in v) for k, v in _EXTENTS.items()}
    return {f"max_{kind}_{k}": v[0] if len(v) == 1 else v for k, v in names.items()}


#: ``device_info`` key -> the driver attribute(s) (``CU_DEVICE_ATTRIBUTE_`` + name) it
#: reports; a tuple of names is reported as a tuple of values.
INFO_ATTRS: dict[str, str | tuple[str, ...]] = {
    "image_row_pitch_align": "TEXTURE_PITCH_ALIGNMENT",
    "max_image_linear_width": "MAXIMUM_TEXTURE2D_LINEAR_WIDTH",
    "max_image_linear_height": "MAXIMUM_TEXTURE2D_LINEAR_HEIGHT",
    "max_image_linear_row_pitch": "MAXIMUM_TEXTURE2D_LINEAR_PITCH",
    "max_image_1d_linear_width": "MAXIMUM_TEXTURE1D_LINEAR_WIDTH",
    **_extents("image", "MAXIMUM_TEXTURE"),
    # 2D images allocated for gather (CUDA_ARRAY3D_TEXTURE_GATHER) have their own limit
    "max_image_2d_gather": ("MAXIMUM_TEXTURE2D_GATHER_WIDTH", "MAXIMUM_TEXTURE2D_GATHER_HEIGHT"),
    "max_image_1d_mipmap": "MAXIMUM_TEXTURE1D_MIPMAPPED_WIDTH",
    "max_image_2d_mipmap": (
        "MAXIMUM_TEXTURE2D_MIPMAPPED_WIDTH",
        "MAXIMUM_TEXTURE2D_MIPMAPPED_HEIGHT",
    ),
    **_extents("surface", "MAXIMUM_SURFACE"),
    "texture_alignment": "TEXTURE_ALIGNMENT",
    "surface_alignment": "SURFACE_ALIGNMENT",
    "exportable_memory_supported": (
        "VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED",
        "HANDLE_TYPE_POSIX_FILE_DESCRIPTOR_SUPPORTED",
    ),
    "timeline_semaphore_interop_supported": "TIMELINE_SEMAPHORE_INTEROP_SUPPORTED",
    "compute_capability": ("COMPUTE_CAPABILITY_MAJOR", "COMPUTE_CAPABILITY_MINOR"),
}

# CUDA clamps CUDA_TEXTURE_DESC::maxAnisotropy to [1, 16] (cuTexObjectCreate) and
# exposes no attribute for it; devices without mipmapped textures get 0.
CUDA_MAX_ANISOTROPY = 16
