"""The launches that ``ncu --kernel-name regex:ia_bspline3`` profiles: the 256^3
float32 prefilter (mode mirror) as order=3 runs it, the plane pass (x and y at
once), then the pass along axis 1 through a surface into a 3D CUDA array, twice."""

import cupy
import numpy

from imagearray.ndimage import _spline, _textures

n = 256
x = cupy.random.RandomState(0).random_sample((1, n, n, n, 1), dtype=cupy.float32)
for _ in range(2):
    le = _textures.take_scratch((n + 4, n + 4, n + 4), numpy.float32, 1)
    _spline.prefilter_axes(x, 3, "mirror", into=le.image, halo=(2, "mirror"))
    _textures.retire(_textures.from_filled(le, 2, True))
cupy.cuda.Device().synchronize()
