"""The launch that ``ncu --kernel-name ia_interp`` profiles for the 3D case of
benchmarks/ndimage.py: 512^3 float32 from an ImageArray, rotated by 0.3 rad in the
plane of axes 1, 2 (twice)."""

import cupy
from _cases import rotation_3d  # this folder's shared cases

import imagearray as ia

n = 512
vol = cupy.random.random((n, n, n), dtype=cupy.float32)
M = rotation_3d(n)
img = ia.asimage(vol)
for _ in range(2):
    ia.ndimage.affine_transform(img, M, order=1)
cupy.cuda.Device().synchronize()
