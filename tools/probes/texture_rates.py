"""Rates of the ways to bilinearly sample float32 on the GPU machine, in raw kernels
(no imagearray code): filtered tex2D, tex2Dgather (a gather-flagged CUDA array) with
ALU weights, four point fetches, and four __ldg loads from the CuPy array, for a
4096^2 rotation and a x2 zoom (8192^2 points). ``python3 tools/probes/texture_rates.py``."""

from __future__ import annotations

import cupy
import numpy
from _timing import ms as gpu_ms  # this folder's GPU timer
from cupy.cuda import runtime
from cupy.cuda import texture as tx

N = 4096
SRC = r"""
__device__ __forceinline__ void coords(int x, int y, const float* m, float& q, float& r) {
    r = m[0] * y + m[1] * x + m[2];   // row
    q = m[3] * y + m[4] * x + m[5];   // column
}
struct P { float m[6]; };
extern "C" __global__ void k_filt(cudaTextureObject_t t, float* out, int n, int on, P p) {
    int x = blockIdx.x * 32 + threadIdx.x, y = blockIdx.y * 8 + threadIdx.y;
    if (x >= on || y >= on) return;
    float q, r; coords(x, y, p.m, q, r);
    float v = 0.f;
    if (q >= 0.f && r >= 0.f && q <= n - 1 && r <= n - 1) v = tex2D<float>(t, q + 0.5f, r + 0.5f);
    out[(long long)y * on + x] = v;
}
extern "C" __global__ void k_gather(cudaTextureObject_t t, float* out, int n, int on, P p) {
    int x = blockIdx.x * 32 + threadIdx.x, y = blockIdx.y * 8 + threadIdx.y;
    if (x >= on || y >= on) return;
    float q, r; coords(x, y, p.m, q, r);
    float v = 0.f;
    if (q >= 0.f && r >= 0.f && q <= n - 1 && r <= n - 1) {
        float fq = floorf(q), fr = floorf(r), a = q - fq, b = r - fr;
        float4 g = tex2Dgather<float4>(t, fq + 1.0f, fr + 1.0f, 0);
        // CUDA's order: x (i0, j1), y (i1, j1), z (i1, j0), w (i0, j0)
        v = (1.f - b) * ((1.f - a) * g.w + a * g.z) + b * ((1.f - a) * g.x + a * g.y);
    }
    out[(long long)y * on + x] = v;
}
extern "C" __global__ void k_point(cudaTextureObject_t t, float* out, int n, int on, P p) {
    int x = blockIdx.x * 32 + threadIdx.x, y = blockIdx.y * 8 + threadIdx.y;
    if (x >= on || y >= on) return;
    float q, r; coords(x, y, p.m, q, r);
    float v = 0.f;
    if (q >= 0.f && r >= 0.f && q <= n - 1 && r <= n - 1) {
        float fq = floorf(q), fr = floorf(r), a = q - fq, b = r - fr;
        float v00 = tex2D<float>(t, fq + 0.5f, fr + 0.5f);
        float v01 = tex2D<float>(t, fq + 1.5f, fr + 0.5f);
        float v10 = tex2D<float>(t, fq + 0.5f, fr + 1.5f);
        float v11 = tex2D<float>(t, fq + 1.5f, fr + 1.5f);
        v = (1.f - b) * ((1.f - a) * v00 + a * v01) + b * ((1.f - a) * v10 + a * v11);
    }
    out[(long long)y * on + x] = v;
}
extern "C" __global__ void k_ldg(const float* __restrict__ in, float* out, int n, int on, P p) {
    int x = blockIdx.x * 32 + threadIdx.x, y = blockIdx.y * 8 + threadIdx.y;
    if (x >= on || y >= on) return;
    float q, r; coords(x, y, p.m, q, r);
    float v = 0.f;
    if (q >= 0.f && r >= 0.f && q <= n - 1 && r <= n - 1) {
        int iq = (int)floorf(q), ir = (int)floorf(r);
        float a = q - iq, b = r - ir;
        int iq1 = min(iq + 1, n - 1), ir1 = min(ir + 1, n - 1);
        const float* r0 = in + (long long)ir * n; const float* r1 = in + (long long)ir1 * n;
        v = (1.f - b) * ((1.f - a) * __ldg(r0 + iq) + a * __ldg(r0 + iq1))
          + b * ((1.f - a) * __ldg(r1 + iq) + a * __ldg(r1 + iq1));
    }
    out[(long long)y * on + x] = v;
}
#define TX 32
#define TY 8
#define CAP 4096
extern "C" __global__ void k_smem(const float* __restrict__ in, float* out, int n, int on, P p) {
    __shared__ float tile[CAP];
    const int bx = blockIdx.x * TX, by = blockIdx.y * TY;
    float rmin = 1e30f, rmax = -1e30f, qmin = 1e30f, qmax = -1e30f;
#pragma unroll
    for (int k = 0; k < 4; k++) {
        float q, r;
        coords(bx + (k & 1) * (TX - 1), by + (k >> 1) * (TY - 1), p.m, q, r);
        rmin = fminf(rmin, r); rmax = fmaxf(rmax, r); qmin = fminf(qmin, q); qmax = fmaxf(qmax, q);
    }
    const int r0 = (int)floorf(rmin) - 1, q0 = (int)floorf(qmin) - 1;
    const int h = (int)floorf(rmax) - r0 + 3, w = (int)floorf(qmax) - q0 + 3;
    const bool fits = h * w <= CAP;
    if (fits) {
        for (int row = threadIdx.y; row < h; row += TY) {
            const int yy = min(max(r0 + row, 0), n - 1);
            const float* src = in + (long long)yy * n;
            for (int col = threadIdx.x; col < w; col += TX)
                tile[row * w + col] = __ldg(src + min(max(q0 + col, 0), n - 1));
        }
        __syncthreads();
    }
    const int x = bx + threadIdx.x, y = by + threadIdx.y;
    if (x >= on || y >= on) return;
    float q, r; coords(x, y, p.m, q, r);
    float v = 0.f;
    if (q >= 0.f && r >= 0.f && q <= n - 1 && r <= n - 1) {
        int iq = (int)floorf(q), ir = (int)floorf(r);
        float a = q - iq, b = r - ir;
        int lr = ir - r0, lq = iq - q0;
        if (fits && lr >= 0 && lq >= 0 && lr + 1 < h && lq + 1 < w) {
            const float* t = tile + lr * w + lq;
            v = (1.f - b) * ((1.f - a) * t[0] + a * t[1]) + b * ((1.f - a) * t[w] + a * t[w + 1]);
        } else {
            int iq1 = min(iq + 1, n - 1), ir1 = min(ir + 1, n - 1);
            const float* r0p = in + (long long)ir * n; const float* r1p = in + (long long)ir1 * n;
            v = (1.f - b) * ((1.f - a) * __ldg(r0p + iq) + a * __ldg(r0p + iq1))
              + b * ((1.f - a) * __ldg(r1p + iq) + a * __ldg(r1p + iq1));
        }
    }
    out[(long long)y * on + x] = v;
}
// C output points per thread (rows y, y + 8, ...: the block covers 32 x 8C), their
// fetches issued before any is used
template <int C>
__device__ void filt_c(cudaTextureObject_t t, float* out, int n, int on, const P& p) {
    const int x = blockIdx.x * 32 + threadIdx.x, y0 = blockIdx.y * 8 * C + threadIdx.y;
    if (x >= on) return;
    float v[C];
#pragma unroll
    for (int k = 0; k < C; k++) {
        float q, r; coords(x, y0 + 8 * k, p.m, q, r);
        v[k] = (q >= 0.f && r >= 0.f && q <= n - 1 && r <= n - 1)
            ? tex2D<float>(t, q + 0.5f, r + 0.5f) : 0.f;
    }
#pragma unroll
    for (int k = 0; k < C; k++)
        if (y0 + 8 * k < on) out[(long long)(y0 + 8 * k) * on + x] = v[k];
}
extern "C" __global__ void k_filt2(cudaTextureObject_t t, float* out, int n, int on, P p) {
    filt_c<2>(t, out, n, on, p);
}
extern "C" __global__ void k_filt4(cudaTextureObject_t t, float* out, int n, int on, P p) {
    filt_c<4>(t, out, n, on, p);
}
extern "C" __global__ void k_filt8(cudaTextureObject_t t, float* out, int n, int on, P p) {
    filt_c<8>(t, out, n, on, p);
}
"""


def _tex(arr, filt, gather):
    ch = tx.ChannelFormatDescriptor(32, 0, 0, 0, runtime.cudaChannelFormatKindFloat)
    h, w = arr.shape
    flags = 8 if gather else 0  # cudaArrayTextureGather
    ca = tx.CUDAarray(ch, w, h, 0, flags)
    ca.copy_from(arr)
    res = tx.ResourceDescriptor(runtime.cudaResourceTypeArray, cuArr=ca)
    fm = runtime.cudaFilterModeLinear if filt else runtime.cudaFilterModePoint
    td = tx.TextureDescriptor(
        (runtime.cudaAddressModeClamp,) * 2, fm, runtime.cudaReadModeElementType
    )
    return ca, tx.TextureObject(res, td)


def main():
    mod = cupy.RawModule(code=SRC, options=("-std=c++17",))
    x = cupy.random.RandomState(0).random_sample((N, N), dtype=cupy.float32)
    c, s, m = numpy.cos(0.3), numpy.sin(0.3), (N - 1) / 2
    rot = [c, s, m - c * m - s * m, -s, c, m + s * m - c * m]
    z = (N - 1) / (2 * N - 1)
    zoom = [z, 0, 0, 0, z, 0]
    keep = [_tex(x, True, False), _tex(x, False, True), _tex(x, False, False)]
    texs = {"k_filt": keep[0][1], "k_gather": keep[1][1], "k_point": keep[2][1]}
    texs.update({f"k_filt{c}": keep[0][1] for c in (2, 4, 8)})
    print("| kernel | rotate 4096^2 ms | Gpts/s | zoom x2 8192^2 ms | Gpts/s | max diff vs k_ldg |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name in ("k_filt", "k_filt2", "k_filt4", "k_filt8", "k_gather", "k_point", "k_ldg"):
        k = mod.get_function(name)
        row = [name]
        diffs = []
        for mat, on in ((rot, N), (zoom, 2 * N)):
            out = cupy.empty((on, on), cupy.float32)
            ref = cupy.empty((on, on), cupy.float32)
            p = numpy.array(mat, numpy.float32).view(numpy.dtype("V24"))[0]
            src = texs.get(name)
            arg = numpy.uint64(src.ptr) if src is not None else x
            rows = 8 * int(name[6:] or 1) if name.startswith("k_filt") else 8
            grid = ((on + 31) // 32, (on + rows - 1) // rows)

            def go(k=k, arg=arg, out=out, grid=grid, on=on, p=p):
                k(grid, (32, 8), (arg, out, numpy.int32(N), numpy.int32(on), p))

            ms = gpu_ms(go, 50)
            mod.get_function("k_ldg")(grid, (32, 8), (x, ref, numpy.int32(N), numpy.int32(on), p))
            go()
            diffs.append(float(cupy.abs(out - ref).max()))
            row += [f"{ms:.4f}", f"{on * on / ms / 1e6:.0f}"]
        print("| " + " | ".join(row) + f" | {max(diffs):.2e} |")


if __name__ == "__main__":
    main()
