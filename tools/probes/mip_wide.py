"""Where a mip chain's time goes (H200), 8192^2 RGBA8 and 4096^2 float32: the
per-level graph, the chain as ``generate_mipmaps`` plans it with wide passes
(``sampling.mipwide``) of at most 2 and 3 levels, the default; then the default
timed call by call (as ``benchmarks/`` does) beside its graph's launch alone, which
shows the host time before the launch; next to a d2d copy of level 0. Prints one
line each and whether the candidate's bits equal the per-level chain's.
``python3 tools/probes/mip_wide.py``."""

import cupy
import numpy
from _timing import ms  # this folder's GPU timer

import imagearray as ia
from imagearray.sampling import mipkernels as mk
from imagearray.sampling import mipwide as mw
from imagearray.sampling.cache import surface

i32 = numpy.int32


def graph_of(launches):
    """launches [(kernel, grid, block, args)] captured into one CUDA graph: its launch."""
    side = cupy.cuda.Stream(non_blocking=True)
    side.begin_capture()
    with side:
        for k, g, b, a in launches:
            k(g, b, a)
    graph = side.end_capture()
    return graph.launch


def per_level_launch(kern, img, lv):
    src, dst = img.mip(lv - 1), img.mip(lv)
    sw, sh, sd = src.view_descriptor.extent
    dw, dh, dd = dst.view_descriptor.extent
    g = (-(-dw // 16), -(-dh // 16), dd)
    args = (surface(src), surface(dst), *map(i32, (sw, sh, sd, dw, dh, dd)), i32(1), i32(0))
    return (kern, g, (16, 16, 1), args)


def levels_of(img, levels):
    return [img.mip(lv).to_cupy().copy().view(cupy.uint8) for lv in range(1, levels)]


def clear(img, levels):
    for lv in levels:
        v = img.mip(lv)
        v.set(cupy.zeros(v.shape, v.dtype))


def same(a, b):
    return all(bool((x == y).all()) for x, y in zip(a, b))


def run_case(size, dtype, ch):
    name = f"{size}^2 {'RGBA8' if ch == 4 else 'f32'}"
    levels = size.bit_length()
    shape = (size, size) + ((ch,) if ch > 1 else ())
    data = cupy.random.RandomState(0).randint(0, 256, shape, dtype=numpy.int32).astype(dtype)
    if dtype == numpy.float32:
        data = cupy.random.RandomState(0).standard_normal(shape, dtype=numpy.float32) * 100
    img = ia.empty(shape, dtype, ch, levels=levels, normalized=dtype == numpy.uint8)
    img.mip(0).set(data)
    dname = numpy.dtype(dtype).name
    nbytes = data.nbytes
    dst = cupy.empty_like(data)
    t = ms(lambda: cupy.copyto(dst, data))
    print(f"{name}: d2d copy of level 0 {t:.4f} ms ({2 * nbytes / t / 1e9:.0f} GB/s r+w)")

    per = mk.mipgen_kernel(dname, ch, 2, False).kernel
    pl = [per_level_launch(per, img, lv) for lv in range(1, levels)]
    for launch in pl:
        launch[0](launch[1], launch[2], launch[3])
    want = levels_of(img, levels)
    lv1 = nbytes * 5 // 4

    def row(label, fn, b=lv1, check=None):
        t = ms(fn)
        ok = "" if check is None else f"  same bits: {check()}"
        print(f"{name}: {label:48s} {t:.4f} ms ({b / t / 1e9:.0f} GB/s){ok}")

    chain = nbytes * 4 // 3

    def chain_row(label, launches):
        clear(img, range(1, levels))
        fn = graph_of(launches)
        row(label, fn, chain, check=lambda: same(levels_of(img, levels), want))

    chain_row("chain, per-level graph", pl)
    for most in (2, 3):  # the default chain with passes of at most `most` levels
        mw.WIDE_LEVELS = most
        fresh = ia.empty(shape, dtype, ch, levels=levels, normalized=dtype == numpy.uint8)
        fresh.mip(0).set(data)
        fresh.generate_mipmaps()
        plan = mw.chain_plan(fresh.mip(0).view_descriptor.extent, 2, levels)
        row(
            f"generate_mipmaps(), WIDE_LEVELS={most} ({len(plan)} launches)",
            fresh.generate_mipmaps,
            chain,
            check=lambda f=fresh: same(levels_of(f, levels), want),
        )
    mw.WIDE_LEVELS = 3
    img.generate_mipmaps()
    row("generate_mipmaps() (the default)", img.generate_mipmaps, chain)
    # as benchmarks/ times it: each call alone (its host time before the launch shows)
    from cupyx.profiler import benchmark

    graph = img._mem._cache.mipgen_graph[1]
    for label, fn in (
        ("generate_mipmaps()", img.generate_mipmaps),
        ("its graph.launch()", graph.launch),
    ):
        r = benchmark(fn, n_repeat=50, n_warmup=5)
        gpu, cpu = numpy.median(r.gpu_times[0]) * 1e3, numpy.median(r.cpu_times) * 1e3
        print(f"{name}: {label:48s} alone: GPU {gpu:.4f} ms, host {cpu * 1e3:.1f} us")


for case in ((8192, numpy.uint8, 4), (4096, numpy.float32, 1)):
    run_case(*case)
