"""Texture-backed drop-ins for ``cupyx.scipy.ndimage`` (map_coordinates,
affine_transform, zoom, shift, rotate, remap, warps): built on ``imagearray.sampling``.
Empty until its issue lands."""
