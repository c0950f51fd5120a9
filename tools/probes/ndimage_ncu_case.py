"""The launches that ``ncu --kernel-name ia_interp`` profiles: a 4096^2 float32 and an
RGBA8 affine_transform (rotation by 0.3 rad), then the float32 one from an
ImageArray (a CUDA array), twice each."""

import cupy
import numpy

import imagearray as ia

x = cupy.random.random((4096, 4096), dtype=cupy.float32)
rgba = cupy.random.randint(0, 255, (4096, 4096, 4)).astype(cupy.uint8)
c, s, m = numpy.cos(0.3), numpy.sin(0.3), 4095 / 2
M = numpy.array([[c, s, m - c * m - s * m], [-s, c, m + s * m - c * m]])
for _ in range(2):
    ia.ndimage.affine_transform(x, M, order=1)
for _ in range(2):
    ia.ndimage.affine_transform(rgba, M, order=1, channel_axis=-1)
img = ia.asimage(x)
for _ in range(2):
    ia.ndimage.affine_transform(img, M, order=1)
cupy.cuda.Device().synchronize()
