"""How fast a CUDA array is filled from a CuPy array (what ia.ndimage does with a 3D
input, and with order=3 coefficients, on every call), on a GPU machine: allocation +
free of the array (host wall ms), the copy engine (cuMemcpy3D device -> array), a kernel writing
through a surface object (surf2Dwrite / surf3Dwrite), beside a device-to-device copy
of the same bytes. GPU ms (CUDA events, median of 3 x 10 calls). Diagnostic only.

    python tools/probes/array_fill.py
"""

from __future__ import annotations

import statistics
import sys
import time

import cupy
import numpy

import imagearray as ia

SRC = r"""
extern "C" __global__ void fill3(const float* __restrict__ src, unsigned long long surf,
                                 int w, int h, int d) {
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= w || y >= h) return;
    for (int z = blockIdx.z; z < d; z += gridDim.z)
        surf3Dwrite(__ldg(src + ((long long)z * h + y) * w + x), surf, x * 4, y, z);
}
extern "C" __global__ void fill2(const float* __restrict__ src, unsigned long long surf,
                                 int w, int h) {
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= w || y >= h) return;
    surf2Dwrite(__ldg(src + (long long)y * w + x), surf, x * 4, y);
}
"""


def ms(fn) -> float:
    fn()
    runs = []
    for _ in range(3):
        a, b = cupy.cuda.Event(), cupy.cuda.Event()
        a.record()
        for _ in range(10):
            fn()
        b.record()
        b.synchronize()
        runs.append(cupy.cuda.get_elapsed_time(a, b) / 10)
    return statistics.median(runs)


def wall_ms(fn) -> float:
    """Host wall time of one call (allocation is synchronous), median of 10."""
    fn()
    runs = []
    for _ in range(10):
        cupy.cuda.Device().synchronize()
        t = time.perf_counter()
        fn()
        cupy.cuda.Device().synchronize()
        runs.append((time.perf_counter() - t) * 1e3)
    return statistics.median(runs)


def main() -> int:
    mod = cupy.RawModule(code=SRC)
    fill3, fill2 = mod.get_function("fill3"), mod.get_function("fill2")
    print("| shape | alloc + free | copy engine | surface kernel | d2d copy | engine / kernel |")
    print("| --- | --- | --- | --- | --- | --- |")
    for shape in ((4096, 4096), (8192, 8192), (256, 256, 256), (512, 512, 512)):
        x = cupy.random.random(shape, dtype=cupy.float32)
        y = cupy.empty_like(x)
        img = ia.empty(shape, numpy.float32)
        surf = img.surface()
        h_surf = numpy.uint64(int(surf))
        if len(shape) == 3:
            d, h, w = shape
            grid = ((w + 31) // 32, (h + 7) // 8, min(d, 64))

            def kern(x=x, w=w, h=h, d=d, grid=grid, h_surf=h_surf):
                fill3(grid, (32, 8, 1), (x, h_surf, numpy.int32(w), numpy.int32(h), numpy.int32(d)))
        else:
            h, w = shape
            grid = ((w + 31) // 32, (h + 7) // 8)

            def kern(x=x, w=w, h=h, grid=grid, h_surf=h_surf):
                fill2(grid, (32, 8), (x, h_surf, numpy.int32(w), numpy.int32(h)))

        kern()
        cupy.cuda.Device().synchronize()
        numpy.testing.assert_array_equal(img.get(), x.get())  # the kernel wrote every texel
        img2 = ia.empty(shape, numpy.float32)
        ia.copy(x, img2).synchronize()
        numpy.testing.assert_array_equal(img2.get(), x.get())
        t_alloc = wall_ms(lambda shape=shape: ia.empty(shape, numpy.float32).free())
        t_copy = ms(lambda x=x, img2=img2: ia.copy(x, img2))
        t_kern = ms(kern)
        t_d2d = ms(lambda x=x, y=y: y.__setitem__(Ellipsis, x))
        print(
            f"| {shape} | {t_alloc:.3f} | {t_copy:.3f} | {t_kern:.3f} | {t_d2d:.3f} "
            f"| {t_copy / t_kern:.2f}x |"
        )
        surf.destroy()
        img.free()
        img2.free()
    return 0


if __name__ == "__main__":
    sys.exit(main())
