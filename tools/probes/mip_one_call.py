"""How much of a one-call-at-a-time mip chain's GPU time is the chain's own work:
4096^2 float32 (and 8192^2 RGBA8). Each callable is timed three ways, in GPU us
(medians): ``one`` as benchmarks/ times it (an event, the call, an event, then a
synchronize: the host's time before the first launch and the launch's own latency
count), ``queued`` behind a ~2 ms spinning kernel (the host has submitted everything
before the GPU reaches the first event: the GPU's work alone), and ``b2b`` (mean of
200 calls back to back). Callables: an empty kernel (CuPy RawKernel), a graph of it,
the chain as ``generate_mipmaps`` replays it (graph), its cached launches in the
stream (the PDL launchers after the first), the first wide pass alone, the chain with
each of ``CANDIDATES`` (settings the defaults may take), and torch's ``avg_pool2d``
chain. ``python3 tools/probes/mip_one_call.py``."""

import cupy
import numpy
from _cases import torch_pool_chain  # this folder's shared cases
from _timing import ms, timed  # this folder's GPU timers

import imagearray as ia
from imagearray.sampling import mipchain, mipkernels, mipwide

SPIN = r"""extern "C" __global__ void spin(long long t) {
    long long s = clock64();
    while (clock64() - s < t) {}
}
extern "C" __global__ void nothing() {}"""
mod = cupy.RawModule(code=SPIN)
spin, nothing = mod.get_function("spin"), mod.get_function("nothing")


def one(fn, reps=100):
    return timed(fn, cupy.cuda.Device().synchronize, reps)


def queued(fn, reps=40):
    return timed(fn, lambda: spin((1,), (1,), (numpy.int64(4_000_000),)), reps)


def graph_of(fn):
    side = cupy.cuda.Stream(non_blocking=True)
    side.begin_capture()
    with side:
        fn()
    g = side.end_capture()
    return g.launch


def report(label, fn):
    fn()
    b2b = ms(fn, 200) * 1e3
    print(f"{label:44s} one {one(fn):8.2f}  queued {queued(fn):8.2f}  b2b {b2b:8.2f} us")


def empty():
    nothing((1,), (32,), ())


# the settings the next defaults may take (benchmarks/mipmaps.py times them too)
CANDIDATES = (
    ("STREAMING", ((mipwide, "STREAMING", True),)),
    ("PREREAD", ((mipkernels, "PREREAD", True),)),
    ("STREAMING + PREREAD", ((mipwide, "STREAMING", True), (mipkernels, "PREREAD", True))),
    (
        "STREAMING + PREREAD + TAIL_ONE_LAUNCH",
        (
            (mipwide, "STREAMING", True),
            (mipkernels, "PREREAD", True),
            (mipchain, "TAIL_ONE_LAUNCH", True),
        ),
    ),
)

report("empty kernel", empty)
report("graph of an empty kernel", graph_of(empty))
for size, dtype, ch in ((4096, numpy.float32, 1), (8192, numpy.uint8, 4)):
    shape = (size, size) + ((ch,) if ch > 1 else ())
    n = size.bit_length()
    img = ia.empty(shape, dtype, ch, levels=n, normalized=dtype == numpy.uint8)
    img.generate_mipmaps()
    launches = img._mem._cache.mipfused[0]
    name = f"{size}^2 {numpy.dtype(dtype).name} x{ch}"
    report(f"{name} generate_mipmaps (graph)", img.generate_mipmaps)

    def stream(launches=launches):
        for fn, grid, block, args in launches:
            fn(grid, block, args)

    report(f"{name} its {len(launches)} launches in the stream", stream)

    def first(launches=launches):
        fn, grid, block, args = launches[0]
        fn(grid, block, args)

    report(f"{name} first wide pass alone", first)
    report(f"{name} graph of the first wide pass", graph_of(first))
    for label, changes in CANDIDATES:  # each on an image of its own (its own plan)
        saved = [(m, a, getattr(m, a)) for m, a, _ in changes]
        for m, a, v in changes:
            setattr(m, a, v)
        try:
            other = ia.empty(shape, dtype, ch, levels=n, normalized=dtype == numpy.uint8)
            other.generate_mipmaps()
            report(f"{name} chain, {label}", other.generate_mipmaps)
        finally:
            for m, a, v in saved:
                setattr(m, a, v)
        other = None
    if dtype == numpy.float32:
        try:
            report(f"{name} torch avg_pool2d chain", torch_pool_chain(size))
        except ImportError:
            print("torch: not installed")
    img = None
