"""What could lower the texture unit's floor under a 256^3 order=3 affine_transform:
raw kernels making 8 trilinear fetches a point (the cubic footprint's offsets, fixed
weights, the benchmark's rotation) from a float32 and a float16 3D CUDA array, with
blocks of 32 x 8 x 1 (one plane) and 3D blocks; then imagearray's own calls with
each block as ``ndimage._launch.BLOCK_3D`` (put back afterwards). GPU ms, one line
each. ``python3 tools/probes/cubic3d_rates.py``."""

import cupy
import numpy
from _cases import linear_texture_3d, rotation_3d  # this folder's shared cases
from _timing import ms  # this folder's GPU timer

import imagearray as ia
from imagearray import ndimage as iand
from imagearray.ndimage import _launch

n = 256
SRC = r"""
extern "C" __global__ void fetch(cudaTextureObject_t t, float* out, int n, float c, float s,
                                 float h) {
    int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
    int z = blockIdx.z * blockDim.z + threadIdx.z;
    if (x >= n || y >= n || z >= n) return;
    float cy = c * y + s * x + (h - c * h - s * h);
    float cx = -s * y + c * x + (h + s * h - c * h);
    float cz = z;
    float v = 0.f;
#pragma unroll
    for (int k = 0; k < 8; k++) {
        float ox = (k & 1) ? 1.3f : -0.7f, oy = (k & 2) ? 1.3f : -0.7f, oz = (k & 4) ? 1.3f : -0.7f;
        v += 0.125f * tex3D<float>(t, cx + ox + 0.5f, cy + oy + 0.5f, cz + oz + 0.5f);
    }
    out[((long long)z * n + y) * n + x] = v;
}
"""
kern = cupy.RawKernel(SRC, "fetch")
x = cupy.random.RandomState(0).random_sample((n,) * 3, dtype=cupy.float32)
out = cupy.empty_like(x)
c, s, h = numpy.cos(0.3), numpy.sin(0.3), (n - 1) / 2
for bits, data in ((32, x), (16, x.astype(cupy.float16))):
    tex, arr = linear_texture_3d(data, bits)
    args = (tex, out, numpy.int32(n), numpy.float32(c), numpy.float32(s), numpy.float32(h))
    for block in ((32, 8, 1), (32, 4, 2), (16, 8, 2), (16, 4, 4), (8, 8, 4), (32, 2, 4)):
        grid = tuple(-(-n // b) for b in block)
        t = ms(lambda g=grid, b=block, a=args: kern(g, b, a), reps=50)
        print(
            f"fp{bits} block {block}: 8 trilinear fetches a point {t:.3f} ms"
            f"  ({n**3 * 8 / t / 1e6:.0f} G fetches/s)"
        )

# imagearray's 3D launches with each block shape (ndimage._launch.BLOCK_3D)


M = rotation_3d(n)
first = None
default = _launch.BLOCK_3D
for block in ((32, 8, 1), (32, 4, 2), (16, 8, 2), (16, 4, 4), (8, 8, 4)):
    _launch.BLOCK_3D = block
    img = ia.asimage(x)
    got = iand.affine_transform(img, M, order=3, prefilter=False)
    first = got if first is None else first
    same = bool((got == first).all())
    t = ms(lambda img=img: iand.affine_transform(img, M, order=3, prefilter=False), reps=30)
    t1 = ms(lambda img=img: iand.affine_transform(img, M, order=1), reps=30)
    tw = ms(lambda: iand.affine_transform(x, M, order=3), reps=30)
    print(
        f"imagearray block {block}: order=3 prefilter=False {t:.3f} ms, order=1 {t1:.3f} ms,"
        f" the whole order=3 call {tw:.3f} ms (values as the first: {same})"
    )
_launch.BLOCK_3D = default
