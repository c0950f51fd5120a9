"""Whether PTX cache operators on the wide pass's surface reads and writes speed up
``ia_mipgen_wide`` (sampling/mipwide.py) making levels 1, 2, 3 of a 4096^2 float32
image from level 0: ``mipwide.STREAMING`` on (``.cs`` on the 16-byte reads of level 0
and the writes of level 1) and off (CUDA's surf*read / surf*write, the default),
streaming reads alone, reads cached in L2 only (``.cg``), and streaming writes of
levels 2 and 3 too; then (streaming) a 16-byte write and ``__launch_bounds__(256, 8)``.
Each variant is compiled as ``mipwide.wide_kernel`` compiles it and launched with the
args of launch 0 of the chain ``generate_mipmaps`` caches (the first wide pass).
Per variant: same bits as launch 0's levels 1..3 (True/False), mean GPU us of 200
launches back to back, median GPU us of 50 single launches (events around one
launch after a device synchronize), and GB/s of level 0 plus levels 1..3 in the b2b
time. The table is run twice so the noise shows.
``cd tools/probes && python3 mip_wide_cop.py``."""

import numpy

F32 = numpy.dtype("float32")
# the texel write of levels 2 and 3 (mipkernels._common's wr), and as a streaming one
OLD_WR1 = "surf2Dwrite<RT>(r, s, x * (int)sizeof(RT), y);"
WR1_CS = (
    'asm volatile("sust.b.2d.cs.b32.trap [%0, {%1, %2}], %3;"\n'
    '        :: "l"(s), "r"(x * (int)sizeof(RT)), "r"(y), "r"(r) : "memory");'
)


def replaced(src, old, new):
    assert src.count(old) == 1, f"{old!r} occurs {src.count(old)} times"
    return src.replace(old, new)


def variants():
    """(label, CUDA source, write, min_blocks) of each variant of the first wide pass."""
    from imagearray.sampling import mipwide as mw

    saved = mw.STREAMING
    try:
        mw.STREAMING = False
        plain = mw.wide_source(F32, 1, 2, False, 8, 3)
        mw.STREAMING = True
        base = mw.wide_source(F32, 1, 2, False, 8, 3)
        wide16 = mw.wide_source(F32, 1, 2, False, 16, 3)
        bounded = mw.wide_source(F32, 1, 2, False, 8, 3, ("", "", ""), 8)
    finally:
        mw.STREAMING = saved
    cg = replaced(base, "suld.b.2d.cs.", "suld.b.2d.cg.")
    return [
        ("STREAMING on", base, 8, 0),
        ("STREAMING off (default)", plain, 8, 0),
        ("streaming reads only", replaced(base, "sust.b.2d.cs.", "sust.b.2d."), 8, 0),
        ("reads .cg, writes plain", replaced(cg, "sust.b.2d.cs.", "sust.b.2d."), 8, 0),
        ("levels 2, 3 streaming too", replaced(base, OLD_WR1, WR1_CS), 8, 0),
        ("write=16", wide16, 16, 0),
        ("min_blocks=8", bounded, 8, 8),
    ]


def main():
    import cupy
    from _timing import ms, timed  # this folder's GPU timers

    import imagearray as ia
    from imagearray.sampling import mipkernels as mk
    from imagearray.sampling import mipwide as mw

    n = 4096
    img = ia.empty((n, n), numpy.float32, 1, levels=13)
    data = cupy.random.RandomState(0).standard_normal((n, n), dtype=numpy.float32) * 100
    img.mip(0).set(data)
    img.generate_mipmaps()
    fn0, grid0, block0, args0 = img._mem._cache.mipfused[0][0]
    print(f"launch 0: {type(fn0).__name__} grid {grid0} block {block0} {len(args0)} args")
    cupy.cuda.Device().synchronize()
    lvs = (1, 2, 3)
    want = [img.mip(lv).to_cupy().copy().view(cupy.uint8) for lv in lvs]
    nbytes = data.nbytes + sum(w.nbytes for w in want)

    def clear():
        for lv in lvs:
            v = img.mip(lv)
            v.set(cupy.zeros(v.shape, v.dtype))

    def same():
        got = [img.mip(lv).to_cupy().copy().view(cupy.uint8) for lv in lvs]
        return all(bool((g == w).all()) for g, w in zip(got, want))

    table = [("launch 0's own fn", lambda: fn0(grid0, block0, args0))]
    for label, src, write, _ in variants():
        try:
            rk = cupy.RawKernel(src, "ia_mipgen_wide", options=mk._OPTIONS)
            k = rk.kernel  # compiles and loads; calling it skips RawKernel's lookup
        except Exception as e:  # a compile or load error: one line, go on
            print(f"{label}: failed: {' '.join(str(e).split())[:400]}")
            continue
        grid = grid0 if write == 8 else mw.wide_grid((n // 2, n // 2, 1), 4, 1, False, write)[0]
        print(f"{label}: grid {grid}, {rk.num_regs} regs, {rk.local_size_bytes} B local")
        table.append((label, lambda k=k, g=grid: k(g, block0, args0)))
    for rnd in (1, 2):
        print(f"-- round {rnd} (us; GB/s of {nbytes / 2**20:.0f} MiB in the b2b time)")
        for label, fn in table:
            clear()
            fn()
            cupy.cuda.Device().synchronize()
            ok = same()
            b2b = ms(fn, 200) * 1e3
            one = timed(fn, cupy.cuda.Device().synchronize, 53)
            print(
                f"{label:24s} b2b {b2b:7.2f}  single {one:7.2f}  "
                f"{nbytes / b2b / 1e3:6.0f} GB/s  same bits {ok}"
            )


if __name__ == "__main__":
    main()
