"""Where a mip chain's time goes (H200), 8192^2 RGBA8 and 4096^2 float32: level 1
alone by the per-level kernel and by the wide-read kernel (``sampling.mipwide``,
8/16 bytes written a thread), one wide pass of 2 and of 3 levels, the chain as
``generate_mipmaps`` plans it with passes of at most 2 and 3 levels, the per-level
graph; then the default timed call by call (as ``benchmarks/`` does) beside its
graph's launch alone, which shows the host time before the launch; next to a d2d
copy of level 0. Prints one line each and whether the candidate's bits equal the
per-level chain's. ``python3 tools/probes/mip_wide.py``."""

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


def wide_launch(kern, img, lv, tb, write, levels=1):
    """wide pass reading level lv - 1, making lv .. lv + levels - 1."""
    dst = img.mip(lv)
    dw, dh, dd = dst.view_descriptor.extent
    g, b = mw.wide_grid((dw, dh, dd), tb, 1, False, write)
    more = [surface(img.mip(lv + j)) for j in range(1, levels)]
    more += [numpy.uint64(0)] * (3 - levels)
    args = (surface(img.mip(lv - 1)), surface(dst), *more, i32(dw), i32(dh), i32(dd))
    return (kern, g, b, args)


def fused_launches(fk, img, levels, start):
    """fused passes making levels start+1.. from level start."""
    desc = img.descriptor
    surfs = [surface(img.mip(lv)) for lv in range(levels)]
    extent = img.mip(0).view_descriptor.extent
    kmax = mk.fused_tile(2).kmax
    out = []
    for s, k in mk.fused_passes(extent, 2, levels):
        if s < start:
            continue
        sizes = mk.level_sizes(extent, 2, s + 1)[s] + (1, 1)
        dst = surfs[s + 1 : s + 1 + k] + [numpy.uint64(0)] * (kmax - k)
        g, b = mk.fused_grid(extent, 2, s, 1)
        out.append((fk, g, b, (surfs[s], *dst, *map(i32, (*sizes[:3], k)))))
    return out, desc


def fused_from(fk, img, levels, start):
    """fused passes planned on the chain from level ``start``."""
    surfs = [surface(img.mip(lv)) for lv in range(levels)]
    ext = img.mip(start).view_descriptor.extent
    kmax = mk.fused_tile(2).kmax
    out = []
    for s, k in mk.fused_passes(ext, 2, levels - start):
        sizes = mk.level_sizes(ext, 2, s + 1)[s] + (1, 1)
        s0 = s + start
        dst = surfs[s0 + 1 : s0 + 1 + k] + [numpy.uint64(0)] * (kmax - k)
        g, b = mk.fused_grid(ext, 2, s, 1)
        out.append((fk, g, b, (surfs[s0], *dst, *map(i32, (*sizes[:3], k)))))
    return out


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
    tb = numpy.dtype(dtype).itemsize * ch
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

    k0, g0, b0, a0 = pl[0]
    row("level 1, per-level kernel", lambda: k0(g0, b0, a0))
    for write in (8, 16):
        wk = mw.wide_kernel(dname, ch, 2, False, write).kernel
        k, g, b, a = wide_launch(wk, img, 1, tb, write)
        clear(img, [1])
        row(
            f"level 1, wide, {write} B written a thread",
            lambda k=k, g=g, b=b, a=a: k(g, b, a),
            check=lambda: same(levels_of(img, 2), want[:1]),
        )
    chain = nbytes * 4 // 3

    def chain_row(label, launches):
        clear(img, range(1, levels))
        fn = graph_of(launches)
        row(label, fn, chain, check=lambda: same(levels_of(img, levels), want))

    chain_row("chain, per-level graph", pl)
    for nlev in (2, 3):
        wn = mw.wide_kernel(dname, ch, 2, False, 8, nlev).kernel
        k, g, b, a = wide_launch(wn, img, 1, tb, 8, nlev)
        clear(img, range(1, nlev + 1))
        row(
            f"levels 1..{nlev}, one wide pass",
            lambda k=k, g=g, b=b, a=a: k(g, b, a),
            check=lambda n=nlev: same(levels_of(img, n + 1), want[:n]),
        )
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
