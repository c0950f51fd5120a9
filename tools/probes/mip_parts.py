"""Where a mip chain's time goes (H200), 4096^2 float32 and 8192^2 RGBA8: each launch
of the default chain, as one launch (mipchain) and as separate launches, timed alone;
generate_mipmaps() timed call by call as benchmarks/ does (its host time before the
launch counts) beside its graph's launch alone; torch avg_pool2d's chain; then a host
profile of generate_mipmaps(). ``python3 tools/probes/mip_parts.py``."""

import cProfile
import pstats

import cupy
import numpy
from _cases import torch_pool_chain  # this folder's shared cases
from _timing import ms  # this folder's GPU timer
from cupyx.profiler import benchmark

import imagearray as ia
from imagearray.sampling import mipchain


def alone(fn, n=200):
    r = benchmark(fn, n_repeat=n, n_warmup=10)
    return numpy.median(r.gpu_times[0]) * 1e6, numpy.median(r.cpu_times) * 1e6


for size, dtype, ch in ((4096, numpy.float32, 1), (8192, numpy.uint8, 4)):
    shape = (size, size) + ((ch,) if ch > 1 else ())
    name = f"{size}^2 {numpy.dtype(dtype).name} x{ch}"
    for one in (True, False):
        mipchain.ONE_LAUNCH = one
        img = ia.empty(shape, dtype, ch, levels=size.bit_length(), normalized=dtype == numpy.uint8)
        img.mip(0).set(cupy.zeros(shape, dtype))
        img.generate_mipmaps()
        for k, g, b, a in img._mem._cache.mipfused[0]:
            t = ms(lambda k=k, g=g, b=b, a=a: k(g, b, a), reps=50)
            print(f"{name} one={one}: launch grid {g}: {t * 1e3:.2f} us")
        gpu, cpu = alone(img.generate_mipmaps)
        print(f"{name} one={one}: generate_mipmaps alone GPU {gpu:.2f} us, host {cpu:.2f} us")
        gpu, cpu = alone(img._mem._cache.mipgen_graph[1].launch)
        print(f"{name} one={one}: graph.launch alone GPU {gpu:.2f} us, host {cpu:.2f} us")
        print(f"{name} one={one}: back to back {ms(img.generate_mipmaps, 200) * 1e3:.2f} us")
    mipchain.ONE_LAUNCH = True
    if ch == 1:
        gpu, cpu = alone(torch_pool_chain(size), 100)
        print(f"{name}: torch avg_pool2d chain alone GPU {gpu:.2f} us, host {cpu:.2f} us")
pr = cProfile.Profile()
pr.enable()
for _ in range(2000):
    img.generate_mipmaps()
pr.disable()
pstats.Stats(pr).sort_stats("tottime").print_stats(12)
