"""The table behind ``device_info``: which driver attribute answers each key (plain
data, no CUDA; ``_device`` reads the attributes)."""

from __future__ import annotations

__all__ = ["CUDA_MAX_ANISOTROPY", "INFO_ATTRS"]

#: ``device_info`` key -> the driver attribute(s) (``CU_DEVICE_ATTRIBUTE_`` + name) it
#: reports; a tuple of names is reported as a tuple of values.
INFO_ATTRS: dict[str, str | tuple[str, ...]] = {
    "image_row_pitch_align": "TEXTURE_PITCH_ALIGNMENT",
    "max_image_linear_width": "MAXIMUM_TEXTURE2D_LINEAR_WIDTH",
    "max_image_linear_height": "MAXIMUM_TEXTURE2D_LINEAR_HEIGHT",
    "max_image_linear_row_pitch": "MAXIMUM_TEXTURE2D_LINEAR_PITCH",
    "max_image_1d_linear_width": "MAXIMUM_TEXTURE1D_LINEAR_WIDTH",
    "max_image_1d": "MAXIMUM_TEXTURE1D_WIDTH",
    "max_image_2d": ("MAXIMUM_TEXTURE2D_WIDTH", "MAXIMUM_TEXTURE2D_HEIGHT"),
    # 2D images allocated for gather (CUDA_ARRAY3D_TEXTURE_GATHER) have their own limit
    "max_image_2d_gather": ("MAXIMUM_TEXTURE2D_GATHER_WIDTH", "MAXIMUM_TEXTURE2D_GATHER_HEIGHT"),
    "max_image_3d": (
        "MAXIMUM_TEXTURE3D_WIDTH",
        "MAXIMUM_TEXTURE3D_HEIGHT",
        "MAXIMUM_TEXTURE3D_DEPTH",
    ),
    "max_image_1d_array": ("MAXIMUM_TEXTURE1D_LAYERED_WIDTH", "MAXIMUM_TEXTURE1D_LAYERED_LAYERS"),
    "max_image_2d_array": (
        "MAXIMUM_TEXTURE2D_LAYERED_WIDTH",
        "MAXIMUM_TEXTURE2D_LAYERED_HEIGHT",
        "MAXIMUM_TEXTURE2D_LAYERED_LAYERS",
    ),
    "max_image_cubemap": "MAXIMUM_TEXTURECUBEMAP_WIDTH",
    "max_image_cubemap_array": (
        "MAXIMUM_TEXTURECUBEMAP_LAYERED_WIDTH",
        "MAXIMUM_TEXTURECUBEMAP_LAYERED_LAYERS",
    ),
    "max_image_1d_mipmap": "MAXIMUM_TEXTURE1D_MIPMAPPED_WIDTH",
    "max_image_2d_mipmap": (
        "MAXIMUM_TEXTURE2D_MIPMAPPED_WIDTH",
        "MAXIMUM_TEXTURE2D_MIPMAPPED_HEIGHT",
    ),
    "max_surface_1d": "MAXIMUM_SURFACE1D_WIDTH",
    "max_surface_2d": ("MAXIMUM_SURFACE2D_WIDTH", "MAXIMUM_SURFACE2D_HEIGHT"),
    "max_surface_3d": (
        "MAXIMUM_SURFACE3D_WIDTH",
        "MAXIMUM_SURFACE3D_HEIGHT",
        "MAXIMUM_SURFACE3D_DEPTH",
    ),
    "max_surface_1d_array": ("MAXIMUM_SURFACE1D_LAYERED_WIDTH", "MAXIMUM_SURFACE1D_LAYERED_LAYERS"),
    "max_surface_2d_array": (
        "MAXIMUM_SURFACE2D_LAYERED_WIDTH",
        "MAXIMUM_SURFACE2D_LAYERED_HEIGHT",
        "MAXIMUM_SURFACE2D_LAYERED_LAYERS",
    ),
    "max_surface_cubemap": "MAXIMUM_SURFACECUBEMAP_WIDTH",
    "max_surface_cubemap_array": (
        "MAXIMUM_SURFACECUBEMAP_LAYERED_WIDTH",
        "MAXIMUM_SURFACECUBEMAP_LAYERED_LAYERS",
    ),
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
