"""The texture unit's floor under a 256^3 float32 order=3 affine_transform (H200):
raw kernels over a 3D CUDA array read with linear filtering, at the rotation the
benchmark uses, making 1 and 8 trilinear fetches a point (the 8 at the cubic
footprint's offsets, fixed weights) beside imagearray's interpolation alone (an
ImageArray of coefficients, prefilter=False) and its whole call. GPU ms, one line
each. ``python3 tools/probes/cubic3d_floor.py``."""

import cupy
import numpy
from _cases import linear_texture_3d, rotation_3d  # this folder's shared cases
from _timing import ms  # this folder's GPU timer

import imagearray as ia
from imagearray import ndimage as iand

n = 256
SRC = r"""
extern "C" __global__ void fetch(cudaTextureObject_t t, float* out, int n, float c, float s,
                                 float h) {
    int x = blockIdx.x * 32 + threadIdx.x, y = blockIdx.y * 8 + threadIdx.y, z = blockIdx.z;
    if (x >= n || y >= n) return;
    // SciPy order (z, y, x): z kept, (y, x) rotated about the centre
    float cy = c * y + s * x + (h - c * h - s * h);
    float cx = -s * y + c * x + (h + s * h - c * h);
    float cz = z;
    float v = 0.f;
#if TAPS == 1
    v = tex3D<float>(t, cx + 0.5f, cy + 0.5f, cz + 0.5f);
#else
#pragma unroll
    for (int k = 0; k < 8; k++) {
        float ox = (k & 1) ? 1.3f : -0.7f, oy = (k & 2) ? 1.3f : -0.7f, oz = (k & 4) ? 1.3f : -0.7f;
        v += 0.125f * tex3D<float>(t, cx + ox + 0.5f, cy + oy + 0.5f, cz + oz + 0.5f);
    }
#endif
    out[((long long)z * n + y) * n + x] = v;
}
"""


x = cupy.random.RandomState(0).random_sample((n,) * 3, dtype=cupy.float32)
tex, arr = linear_texture_3d(x)
out = cupy.empty_like(x)
c, s, h = numpy.cos(0.3), numpy.sin(0.3), (n - 1) / 2
args = (tex, out, numpy.int32(n), numpy.float32(c), numpy.float32(s), numpy.float32(h))
for taps in (1, 8):
    k = cupy.RawKernel(SRC.replace("TAPS", str(taps)), "fetch")
    t = ms(lambda k=k: k((n // 32, n // 8, n), (32, 8, 1), args))
    print(
        f"raw kernel, {taps} trilinear fetch(es) a point  {t:.3f} ms"
        f"  ({n**3 * taps / t / 1e6:.0f} G fetches/s)"
    )
M = rotation_3d(n)
img = ia.asimage(x)
t = ms(lambda: iand.affine_transform(img, M, order=3, prefilter=False))
print(f"imagearray order=3 prefilter=False, ImageArray input  {t:.3f} ms")
t = ms(lambda: iand.affine_transform(img, M, order=1))
print(f"imagearray order=1, ImageArray input  {t:.3f} ms")
t = ms(lambda: iand.affine_transform(x, M, order=3))
print(f"imagearray order=3, the whole call (CuPy input)  {t:.3f} ms")
