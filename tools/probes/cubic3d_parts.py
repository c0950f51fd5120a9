"""Where the time of a 256^3 float32 order=3 affine_transform goes (H200): the
prefilter (imagearray's coefficients; one and eight samples a thread), the copy of
the coefficients into a 3D CUDA array, the whole call with prefilter=False, and the
share of points near a border that the hardware path leaves to the 64 exact point
reads. Prints one line each."""

import cupy
import numpy
from _cases import rotation_3d  # this folder's shared cases
from _timing import ms  # this folder's GPU timer

from imagearray import ndimage as iand
from imagearray.ndimage import _spline, _textures

n = 256
x = cupy.random.RandomState(0).random_sample((n,) * 3, dtype=cupy.float32)
M = rotation_3d(n)
coef = _spline.coefficients(x, (1, n, n, n, 1), 3, "constant", 0.0, True)[0]


def copy():
    src = _textures.from_cupy(coef, coef.shape, coef.strides, 3, True)
    _textures.retire(src)


def prefilter():
    return _spline.coefficients(x, (1, n, n, n, 1), 3, "constant", 0.0, True)


def prefilter_into_array():
    lease = _spline.coefficients(x, (1, n, n, n, 1), 3, "constant", 0.0, True, to_image=True)[1]
    _textures.retire(_textures.from_filled(*lease, True))


def whole():
    return iand.affine_transform(x, M, order=3)


def interp():
    return iand.affine_transform(coef.reshape(n, n, n), M, order=3, prefilter=False)


for run in (1, 8):
    _spline.PREFILTER_RUN = run
    print(f"prefilter, {run} samples a thread {ms(prefilter):.3f} ms")
print(f"coefficients -> 3D CUDA array (+ texture) {ms(copy):.3f} ms")
print(f"prefilter, last pass through a surface (+ textures) {ms(prefilter_into_array):.3f} ms")
print(f"affine order=3, the whole call {ms(whole):.3f} ms")
print(f"affine order=3 prefilter=False {ms(interp):.3f} ms")
idx = numpy.indices((n,) * 3).reshape(3, -1).astype(numpy.float64)
pts = M[:, :3] @ idx + M[:, 3:]
inside = ((pts >= 0) & (pts <= n - 1)).all(0)
hw = ((numpy.floor(pts) - 1 >= 0) & (numpy.floor(pts) + 2 <= n - 1)).all(0)
print(f"points inside {inside.mean():.3f}, by the hardware path {hw.mean():.3f}")
print(f"exact near a border {(inside & ~hw).mean():.3f}")
