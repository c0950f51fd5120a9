"""The launch that ``ncu --kernel-name ia_interp`` profiles for the 3D case of
benchmarks/ndimage.py: 512^3 float32 from an ImageArray, rotated by 0.3 rad in the
plane of axes 1, 2 (twice)."""

import cupy
import numpy

import imagearray as ia

n = 512
vol = cupy.random.random((n, n, n), dtype=cupy.float32)
c, s, m = numpy.cos(0.3), numpy.sin(0.3), (n - 1) / 2
M = numpy.zeros((3, 4))
M[0, 0] = 1.0
M[1:, 1:3] = [[c, s], [-s, c]]
M[1:, 3] = [m - c * m - s * m, m + s * m - c * m]
img = ia.asimage(vol)
for _ in range(2):
    ia.ndimage.affine_transform(img, M, order=1)
cupy.cuda.Device().synchronize()
