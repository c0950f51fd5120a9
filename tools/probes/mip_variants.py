"""generate_mipmaps' 4096^2 float32 / 8192^2 RGBA8 chains, GPU us alone (cupyx
benchmark median), each way it can run: the deep first pass (mipdeep) with ROWS 8
and 4, each also with a register cap (__launch_bounds__ minimum 4 blocks); the wide
passes (ROWS=0); the one-launch chain (mipchain) with its fences as they are and
with one fence by thread 0 after the block's barrier (the cooperative-groups grid
sync's order); each checked bit for bit against the first; then torch avg_pool2d's
chain and a device-to-device copy of level 0.
``python3 tools/probes/mip_variants.py``."""

import cupy
import numpy
from _cases import torch_pool_chain  # this folder's shared cases
from cupyx.profiler import benchmark

import imagearray as ia
from imagearray.sampling import mipchain as mc
from imagearray.sampling import mipdeep as md
from imagearray.sampling import mipkernels as mk
from imagearray.sampling import mipwide as mw

NEW_FUSED, NEW_STAGE, NEW_WIDE, NEW_DEEP = mk._FUSED, mc._STAGE, mw._WIDE, md._DEEP
T0_STAGE = NEW_STAGE.replace(
    """        __threadfence();  // this thread's writes, before the group's count says so
        __syncthreads();
        if (tid == 0) {{""",
    """        __syncthreads();
        if (tid == 0) {{
            __threadfence();""",
).replace(
    """        __syncthreads();
        if (!last) return;
        __threadfence();  // the group's writes, before this block reads them""",
    """        if (tid == 0 && last) __threadfence();
        __syncthreads();
        if (!last) return;""",
)
assert T0_STAGE != NEW_STAGE


def clear():
    for f in (mk.fused_kernel, mk.compiled):  # (wide, chain and deep kernels: compiled)
        f.cache_clear()


def gpu_us(fn, n=300):
    r = benchmark(fn, n_repeat=n, n_warmup=20)
    return numpy.median(r.gpu_times[0]) * 1e6


def variants():
    """(name, ONE_LAUNCH, mipdeep.ROWS, fused, stage, wide, deep sources)"""
    n = NEW_FUSED, NEW_STAGE, NEW_WIDE, NEW_DEEP
    yield "deep pass ROWS=8", False, 8, *n
    lb = NEW_DEEP.replace("__launch_bounds__(NT)", "__launch_bounds__(NT, 4)")
    yield "deep pass ROWS=8, min blocks 4", False, 8, *n[:3], lb
    yield "deep pass ROWS=4", False, 4, *n
    yield "deep pass ROWS=4, min blocks 4", False, 4, *n[:3], lb
    yield "wide passes (the default)", False, 0, *n
    yield "one launch", True, 0, *n
    yield "one launch, thread-0 fence", True, 0, NEW_FUSED, T0_STAGE, NEW_WIDE, NEW_DEEP


for size, dtype, ch in ((4096, numpy.float32, 1), (8192, numpy.uint8, 4)):
    shape = (size, size) + ((ch,) if ch > 1 else ())
    data = cupy.random.RandomState(1).randint(0, 255, shape).astype(dtype)
    want = None
    for name, one, rows, fused, stage, wide, deep in variants():
        mc.ONE_LAUNCH, md.ROWS, mk._FUSED, mc._STAGE, mw._WIDE, md._DEEP = (
            one,
            rows,
            fused,
            stage,
            wide,
            deep,
        )
        clear()
        img = ia.empty(shape, dtype, ch, levels=size.bit_length(), normalized=dtype == numpy.uint8)
        img.mip(0).set(data)
        img.generate_mipmaps()
        got = [img.mip(lv).get() for lv in range(1, size.bit_length())]
        if want is None:
            want = got
        same = all(numpy.array_equal(a, b) for a, b in zip(want, got))
        t = gpu_us(img.generate_mipmaps)
        n = len(img._mem._cache.mipfused[0])
        print(
            f"{size}^2 {numpy.dtype(dtype).name} x{ch} {name}: {t:.2f} us, {n} launches"
            f"  (bits same: {same})"
        )
        del img
    if ch == 1:
        print(f"{size}^2 torch avg_pool2d chain {gpu_us(torch_pool_chain(size), 100):.2f} us")
    a = cupy.zeros(shape, dtype)
    b = cupy.empty_like(a)
    t = gpu_us(lambda a=a, b=b: b.__setitem__(Ellipsis, a))
    print(f"{size}^2 d2d copy of level 0 {t:.2f} us")
