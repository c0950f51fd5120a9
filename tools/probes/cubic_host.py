"""Where a 256^3 float32 order=3 affine_transform's time goes beyond the GPU's work
(H200): each call timed alone as benchmarks/ does (GPU time from an event before the
call to one after it, so the host's time between launches counts), and queued behind
a busy kernel (the host has enqueued everything before the GPU reaches the first
event: the GPU's work alone), for a NumPy and a CuPy matrix, prefilter=False, and
cupyx; then a host profile of calls made with the GPU idle (the host's own time).
``python3 tools/probes/cubic_host.py``."""

import cProfile
import pstats

import cupy
import cupyx.scipy.ndimage as ndi
import numpy
from _cases import rotation_3d  # this folder's shared cases
from cupyx.profiler import benchmark

from imagearray import ndimage as iand

n = 256
x = cupy.random.RandomState(0).random_sample((n,) * 3, dtype=cupy.float32)
M = rotation_3d(n)
m = cupy.asarray(M)
coef = ndi.spline_filter(x, 3, output=cupy.float32, mode="constant")
SPIN = r"""extern "C" __global__ void spin(long long t) {
    long long s = clock64();
    while (clock64() - s < t) {}
}"""
spin = cupy.RawKernel(SPIN, "spin")


def queued(fn, reps=20):
    out = []
    for _ in range(reps):
        spin((1,), (1,), (numpy.int64(4_000_000),))  # ~2 ms: the host runs ahead
        a, b = cupy.cuda.Event(), cupy.cuda.Event()
        a.record()
        fn()
        b.record()
        b.synchronize()
        out.append(cupy.cuda.get_elapsed_time(a, b))
    return float(numpy.median(out))


idx = cupy.indices(x.shape, dtype=cupy.float32).reshape(3, -1)
mf = m.astype(cupy.float32)
c = (mf[:, :3] @ idx + mf[:, 3:]).reshape((3,) + x.shape)  # the benchmark's coordinates
del idx
cases = [
    ("map_coordinates, CuPy coords", lambda: iand.map_coordinates(x, c, order=3)),
    ("cupyx map_coordinates", lambda: ndi.map_coordinates(x, c, order=3)),
    ("affine, NumPy matrix", lambda: iand.affine_transform(x, M, order=3)),
    ("affine, CuPy matrix", lambda: iand.affine_transform(x, m, order=3)),
    ("affine, prefilter=False", lambda: iand.affine_transform(coef, m, order=3, prefilter=False)),
    ("cupyx affine, CuPy matrix", lambda: ndi.affine_transform(x, m, order=3)),
]
for label, fn in cases:
    fn()
    r = benchmark(fn, n_repeat=30, n_warmup=3)
    gpu, cpu = numpy.median(r.gpu_times[0]) * 1e3, numpy.median(r.cpu_times) * 1e3
    print(f"{label:28s} alone: GPU {gpu:.3f} ms, host {cpu:.3f} ms; queued {queued(fn):.3f} ms")
# the host's own time: each call after the GPU is idle (no waits on earlier work)
dev = cupy.cuda.Device()
for label, fn in cases[:1] + cases[3:4]:
    print(f"== host profile: {label}")
    pr = cProfile.Profile()
    for _ in range(50):
        dev.synchronize()
        pr.enable()
        fn()
        pr.disable()
    dev.synchronize()
    pstats.Stats(pr).sort_stats("tottime").print_stats(30)
    pstats.Stats(pr).sort_stats("cumulative").print_stats(45)
