"""Why the one-launch mip chain (mipchain) is slower than the separate launches, and
whether the tail (the launches after the first wide pass) is cheaper as one launch:
4096^2 float32 and 8192^2 RGBA8. Prints each kernel's registers and static shared
memory, then GPU us of: the default chain (graph replay) and each of its launches;
the one-launch kernel as made, with one fence by thread 0 after the barrier instead of
one per thread, with no fences (timing only), and returning before its stages (the
stages' code compiled in, not run); the first wide pass then the tail as one launch
(mipchain's plan applied to the chain from the wide pass's last level), plainly and
as a programmatic dependent (PDL). Each variant's
levels are compared with the default's bytes. The variants are of the kernel as it was
(``chain_source(.., inline=True, min_blocks=0)``). ``python3 tools/probes/mip_one_variants.py``.
"""

import cupy
import numpy
from _timing import ms  # this folder's GPU timer

import imagearray as ia
from imagearray.sampling import mipchain as mc
from imagearray.sampling import mipkernels as mk
from imagearray.sampling import mipwide as mw
from imagearray.sampling import pdl
from imagearray.sampling.cache import surface

FENCE = (
    "__threadfence();  // this thread's writes, before the group's count says so\n"
    "        __syncthreads();\n"
    "        if (tid == 0) {\n"
)
ONE_FENCE = "__syncthreads();\n        if (tid == 0) {\n            __threadfence();\n"
BOUNDS = "__launch_bounds__(BX * BY)"
STAGE0 = "    {  // stage 0"
NOT_RUN = "    if (n0_.v[2] >= 0) return;\n" + STAGE0
INLINE = "__device__ __forceinline__ void fused_pass("
GROUP_FENCE = "__threadfence();  // the group's writes, before this block reads them"


def variants(src: str) -> dict:
    assert FENCE in src and GROUP_FENCE in src and BOUNDS in src and INLINE in src
    nl = src.replace(INLINE, INLINE.replace("__forceinline__", "__noinline__"))
    return {
        "as made": src,
        "one fence (thread 0)": src.replace(FENCE, ONE_FENCE),
        "no fences (timing only)": src.replace(
            FENCE, "__syncthreads();\n        if (tid == 0) {\n"
        ).replace(GROUP_FENCE, ""),
        "__launch_bounds__(256, 8)": src.replace(BOUNDS, BOUNDS[:-1] + ", 8)"),
        "__launch_bounds__(256, 8), one fence": src.replace(BOUNDS, BOUNDS[:-1] + ", 8)").replace(
            FENCE, ONE_FENCE
        ),
        "__launch_bounds__(256, 6)": src.replace(BOUNDS, BOUNDS[:-1] + ", 6)"),
        "fused_pass noinline, __launch_bounds__(256, 8)": nl.replace(BOUNDS, BOUNDS[:-1] + ", 8)"),
        "fused_pass noinline, __launch_bounds__(256, 8), one fence": nl.replace(
            BOUNDS, BOUNDS[:-1] + ", 8)"
        ).replace(FENCE, ONE_FENCE),
        "fused_pass noinline": nl,
        "stages compiled, not run": src.replace(STAGE0, NOT_RUN),
        "fused_pass noinline, __launch_bounds__(256, 8), stages compiled, not run": nl.replace(
            BOUNDS, BOUNDS[:-1] + ", 8)"
        ).replace(STAGE0, NOT_RUN),
    }


def levels_of(img, n):
    return [img.mip(lv).to_cupy().view(cupy.uint8).copy() for lv in range(1, n)]


def same(img, n, want):
    got = levels_of(img, n)
    return all(bool((a == b).all()) for a, b in zip(got, want))


def attrs(fn):
    a = getattr(fn, "attributes", None)  # a RawKernel's (a Function has none)
    return f"regs {a['num_regs']}, static smem {a['shared_size_bytes']} B" if a else "-"


for size, dtype, ch in ((4096, numpy.float32, 1), (8192, numpy.uint8, 4)):
    shape = (size, size) + ((ch,) if ch > 1 else ())
    name = f"{size}^2 {numpy.dtype(dtype).name} x{ch}"
    n = size.bit_length()
    texel = numpy.dtype(dtype).itemsize * ch
    img = ia.empty(shape, dtype, ch, levels=n, normalized=dtype == numpy.uint8)
    data = cupy.random.RandomState(0).randint(0, 256, shape, dtype=numpy.int32).astype(dtype)
    img.mip(0).set(data)
    mc.ONE_LAUNCH = False
    img.generate_mipmaps()
    want = levels_of(img, n)
    print(f"{name}: chain back to back {ms(img.generate_mipmaps, 200) * 1e3:.2f} us")
    plain = img._mem._cache.mipfused[0]
    for fn, g, b, a in plain:
        t = ms(lambda fn=fn, g=g, b=b, a=a: fn(g, b, a), reps=100)
        print(f"{name}: separate launch grid {g}: {t * 1e3:.2f} us")

    wk = mw.wide_kernel(numpy.dtype(dtype).name, ch, 2, False, mw.WIDE_WRITE, 3)
    print(f"{name}: the separate wide kernel (3 levels): {attrs(wk)}")
    one = mc.plan((size, size), n, texel, 1, False)
    src = mc.chain_source(numpy.dtype(dtype), ch, False, one.head, len(one.stages), True, 0)
    surfaces = [surface(img.mip(lv)) for lv in range(n)]
    counters = cupy.zeros(one.counters, numpy.int32)
    lv1 = mk.level_sizes((size, size), 2, 2)[1] + (1,)
    made = surfaces[1 : 1 + one.head] + [numpy.uint64(0)] * (mw.DESTINATIONS - one.head)
    args = (surfaces[0], *made, *map(numpy.int32, lv1), counters) + mc.stage_args(one, surfaces)
    for what, s in variants(src).items():
        raw = cupy.RawKernel(s, "ia_mipgen_wide", options=mk._OPTIONS)
        fn = raw.kernel
        for lv in range(1, n):
            img.mip(lv).to_cupy()[...] = 0
        fn(one.grid, mw.BLOCK, args)
        ok = same(img, n, want) if "stages" not in what else "n/a"
        t = ms(lambda fn=fn, g=one.grid, a=args: fn(g, mw.BLOCK, a), reps=100)
        print(f"{name}: one launch, {what}: {t * 1e3:.2f} us, levels same: {ok} ({attrs(raw)})")

    # the first wide pass, then the rest as one launch of mipchain's plan for it
    head = plain[0]
    s0 = mw.chain_plan((size, size), 2, n)[0][2]
    sub = mk.level_sizes((size, size), 2, s0 + 1)[s0]
    tail = mc.plan(sub, n - s0, texel, 1, False)
    if tail is None:
        print(f"{name}: no one-launch plan for the tail from level {s0} ({sub})")
        continue
    tsrc = mc.chain_source(numpy.dtype(dtype), ch, False, tail.head, len(tail.stages), True, 0)
    tsurf = surfaces[s0:]
    tcnt = cupy.zeros(tail.counters, numpy.int32)
    tl1 = mk.level_sizes(sub, 2, 2)[1] + (1,)
    tmade = tsurf[1 : 1 + tail.head] + [numpy.uint64(0)] * (mw.DESTINATIONS - tail.head)
    targs = (tsurf[0], *tmade, *map(numpy.int32, tl1), tcnt) + mc.stage_args(tail, tsurf)
    tail_variants = ("as made", "one fence (thread 0)", "__launch_bounds__(256, 8)")
    tail_variants += ("fused_pass noinline, __launch_bounds__(256, 8), one fence",)
    for what, s in [(w, s) for w, s in variants(tsrc).items() if w in tail_variants]:
        tfn = cupy.RawKernel(s, "ia_mipgen_wide", options=mk._OPTIONS).kernel

        def both(tfn=tfn, head=head, g=tail.grid, a=targs):
            head[0](head[1], head[2], head[3])
            tfn(g, mw.BLOCK, a)

        for lv in range(1, n):
            img.mip(lv).to_cupy()[...] = 0
        both()
        ok = same(img, n, want)
        t = ms(lambda tfn=tfn, g=tail.grid, a=targs: tfn(g, mw.BLOCK, a), reps=100)
        tb = ms(both, reps=100)
        # the tail as a programmatic dependent of the first pass (its kernel starts
        # with IA_PDL_START, as every wide kernel does)
        dep = pdl.launcher(tfn, tail.grid, mw.BLOCK, targs)

        def both_pdl(dep=dep, head=head):
            head[0](head[1], head[2], head[3])
            dep()

        for lv in range(1, n):
            img.mip(lv).to_cupy()[...] = 0
        both_pdl()
        ok_pdl = same(img, n, want)
        tp = ms(both_pdl, reps=100)
        print(
            f"{name}: tail from level {s0} as one launch ({what}): {t * 1e3:.2f} us alone, "
            f"first pass + tail {tb * 1e3:.2f} us, levels same: {ok}; "
            f"with PDL {tp * 1e3:.2f} us, levels same: {ok_pdl}"
        )
    img = None
