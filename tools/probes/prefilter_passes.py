"""Where the 256^3 float32 order=3 prefilter's time goes (H200), pass by pass: the
contiguous-axis pass (shared-memory row tiles, and a candidate that slides a
register window of 8 samples over a conflict-free shared tile), the two strided
passes at several samples a thread, the last pass into linear memory and through
a surface, next to a device-to-device copy of the same 64 MiB. Prints one line
each, and whether the candidate's bits equal the library pass's."""

import cupy
import numpy

from imagearray.ndimage import _spline, _textures

n = 256
x = cupy.random.RandomState(0).random_sample((1, n, n, n, 1), dtype=cupy.float32)
out = cupy.empty_like(x)


def ms(fn, reps=20):
    fn()
    a, b = cupy.cuda.Event(), cupy.cuda.Event()
    a.record()
    for _ in range(reps):
        fn()
    b.record()
    b.synchronize()
    return cupy.cuda.get_elapsed_time(a, b) / reps


def row(name, t):
    print(f"{name:55s} {t:.4f} ms  ({2 * x.nbytes / t / 1e9:.2f} TB/s r+w)")


row("d2d copy 64 MiB", ms(lambda: out.__setitem__(Ellipsis, x)))
mode = "mirror"
rows = _spline._fir_rows(mode, _spline.ROW_TILE)
grid_rows = (x.size // n * (n // _spline.ROW_TILE),)
row("x pass, row tiles", ms(lambda: rows(grid_rows, (_spline.ROW_TILE,), (x, out, numpy.int32(n)))))
ref = out.copy()
n32 = numpy.int32(n)


def launch(kernel, blocks, *args):
    return lambda: kernel((blocks,), (256,), args)


CAND = r"""
#define H 16
#define NT 256
#define R 8
#define P (NT + 2 * H + 1)
extern "C" __global__ void __launch_bounds__(256) rows8(
    const float* __restrict__ src, float* __restrict__ dst, const int n)
{
    const float w[H + 1] = {WEIGHTS};
    __shared__ float s[R * P];
    // block: R lines, samples t0 .. t0 + NT - 1 of each (n a multiple of NT here)
    const int segs = n / NT;
    const long long line0 = (long long)(blockIdx.x / segs) * R;
    const int t0 = (blockIdx.x % segs) * NT;
    for (int k = threadIdx.x; k < R * (NT + 2 * H); k += 256) {
        const int r = k / (NT + 2 * H), c = k % (NT + 2 * H);
        int t = t0 - H + c;
        if (t < 0) t = -t; else if (t >= n) t = 2 * n - 2 - t;  // mirror
        s[r * P + c] = __ldg(src + (line0 + r) * n + t);
    }
    __syncthreads();
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int r = lane & 7, seg = warp * 4 + (lane >> 3);  // 32 segments of 8
    float win[8 + 2 * H];
#pragma unroll
    for (int k = 0; k < 8 + 2 * H; k++) win[k] = s[r * P + seg * 8 + k];
    float o[8];
#pragma unroll
    for (int q = 0; q < 8; q++) {
        float acc = 0.f;
#pragma unroll
        for (int k = H; k >= 1; k--) acc += w[k] * (win[H + q - k] + win[H + q + k]);
        o[q] = acc + w[0] * win[H + q];
    }
    __syncthreads();
#pragma unroll
    for (int q = 0; q < 8; q++) s[r * P + seg * 8 + q] = o[q];
    __syncthreads();
    for (int k = threadIdx.x; k < R * NT; k += 256) {
        const int rr = k / NT, c = k % NT;
        dst[(line0 + rr) * n + t0 + c] = s[rr * P + c];
    }
}
"""
w = ", ".join(f"{3.0**0.5 * _spline._POLE**k!r}f" for k in range(_spline.FIR_HALF + 1))
cand = cupy.RawKernel(CAND.replace("WEIGHTS", w), "rows8")
lines = x.size // n
row("x pass, candidate (8 a thread, conflict-free)", ms(launch(cand, lines // 8, x, out, n32)))
print("candidate bits equal:", bool((out == ref).all()), "max diff", float(abs(out - ref).max()))

for run in (4, 8, 16):
    k = _spline._fir(mode, run)
    for axis, stride in ((2, n), (1, n * n)):
        threads = x.size // n * -(-n // run)
        tail = (numpy.int64(threads), numpy.int64(stride), n32)
        t = ms(launch(k, (threads + 255) // 256, x, out, *tail))
        row(f"axis {axis} (stride {stride}), {run} a thread", t)

lease = _textures.take_scratch((n, n, n), numpy.float32, 1)
surf = numpy.uint64(int(lease.image.surface()))
for run in (4, 8, 16):
    k = _spline._fir(mode, run, True)
    threads = x.size // n * -(-n // run)
    tail = (numpy.int64(threads), numpy.int64(n * n), n32, n32)
    t = ms(launch(k, (threads + 255) // 256, x, surf, *tail))
    row(f"axis 1 through a surface, {run} a thread", t)
full = lambda: _spline.prefilter_axes(x, 3, mode)  # noqa: E731
row("prefilter_axes, three passes to linear", ms(full))


def to_surface():
    le = _textures.take_scratch((n, n, n), numpy.float32, 1)
    _spline.prefilter_axes(x, 3, mode, into=le.image)
    _textures.retire(_textures.from_filled(le, True))


row("prefilter_axes, last pass through a surface", ms(to_surface))
