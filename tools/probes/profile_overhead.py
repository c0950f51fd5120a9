"""Where the host time of imagearray's hot calls goes, on a GPU machine.

cProfile of N calls each of: ``ia.copy`` CuPy array -> image and back, ``img.sample``,
``create_image`` + ``destroy``; per-call wall time beside CuPy's equivalent. Diagnostic
only (tools/gpu-test.sh runs it; nothing asserts on it).
"""

from __future__ import annotations

import cProfile
import io
import pstats
import sys
import time

import cupy
import numpy
from cupy.cuda import runtime, texture

import imagearray as ia

N = 300


def per_call_us(fn, n=N):
    fn()
    cupy.cuda.Device().synchronize()
    t = time.perf_counter()
    for _ in range(n):
        fn()
    dt = time.perf_counter() - t
    cupy.cuda.Device().synchronize()
    return dt / n * 1e6


def profile(name, fn, n=N, top=22):
    fn()
    pr = cProfile.Profile()
    pr.enable()
    for _ in range(n):
        fn()
    pr.disable()
    cupy.cuda.Device().synchronize()
    s = io.StringIO()
    pstats.Stats(pr, stream=s).sort_stats("tottime").print_stats(top)
    print(f"\n######## {name}: {n} calls, sorted by tottime")
    print("\n".join(s.getvalue().splitlines()[: top + 12]))


def main():
    h = w = 512
    dev = cupy.zeros((h, w, 4), cupy.uint8)
    img = ia.empty((h, w, 4), numpy.uint8, 4, normalized=True)
    ch = texture.ChannelFormatDescriptor(8, 8, 8, 8, runtime.cudaChannelFormatKindUnsigned)
    cuarr = texture.CUDAarray(ch, w, h)
    flat = dev.reshape(h, w * 4)
    stream = cupy.cuda.get_current_stream()
    xy = cupy.random.random((4096, 2), dtype=cupy.float32) * 512
    sampler = ia.Sampler(filtering="linear")
    res = texture.ResourceDescriptor(runtime.cudaResourceTypeArray, cuArr=cuarr)
    tdesc = texture.TextureDescriptor(
        (runtime.cudaAddressModeClamp,) * 2,
        runtime.cudaFilterModeLinear,
        runtime.cudaReadModeNormalizedFloat,
    )

    def create_destroy():
        ia.create_image(img.mem, img.descriptor, sampler).destroy()

    timings = {
        "ia.copy(cupy, img)": per_call_us(lambda: ia.copy(dev, img)),
        "cupy CUDAarray.copy_from": per_call_us(lambda: cuarr.copy_from(flat, stream)),
        "ia.copy(img, cupy)": per_call_us(lambda: ia.copy(img, dev)),
        "img.sample(4096 pts)": per_call_us(lambda: img.sample(xy, sampler)),
        "create_image+destroy": per_call_us(create_destroy),
        "cupy TextureObject": per_call_us(lambda: texture.TextureObject(res, tdesc)),
    }
    print("| call | host us per call |\n| --- | --- |")
    for k, v in timings.items():
        print(f"| {k} | {v:.1f} |")
    profile("ia.copy(cupy, img)", lambda: ia.copy(dev, img))
    profile("ia.copy(img, cupy)", lambda: ia.copy(img, dev))
    profile("img.sample", lambda: img.sample(xy, sampler))
    profile("create_image+destroy", create_destroy)


if __name__ == "__main__":
    sys.exit(main())
