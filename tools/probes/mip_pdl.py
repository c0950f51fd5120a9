"""Whether programmatic dependent launch (PDL, sm_90) takes the gaps out of the mip
chain's separate launches: 4096^2 float32 and 8192^2 RGBA8. Each launch of the default
chain (mipgen's cached launches) is recompiled with ``griddepcontrol.wait`` (its body
waits for the launch before it to finish and flush) and ``launch_dependents`` (the next
launch may be scheduled at once) at its start, and launched with
``cuLaunchKernelEx`` and the programmatic stream serialization attribute. Prints GPU us
of: the chain as made (graph replay), its launches back to back in the stream, the
recompiled launches with and without the attribute; the levels are compared with the
default's bytes. ``python3 tools/probes/mip_pdl.py``.
"""

import cupy
import numpy
from _timing import ms  # this folder's GPU timer

import imagearray as ia
from imagearray.sampling import mipkernels as mk
from imagearray.sampling import mipwide as mw
from imagearray.sampling import pdl

PDL = 'asm volatile("griddepcontrol.launch_dependents;");\n'
WAIT = 'asm volatile("griddepcontrol.wait;" ::: "memory");\n'


def with_pdl(src: str, name: str, trigger: bool) -> str:
    i = src.index(name + "(")
    depth, j = 0, i + len(name)
    while True:  # the parameter list's closing parenthesis
        depth += {"(": 1, ")": -1}.get(src[j], 0)
        if depth == 0:
            break
        j += 1
    k = src.index("{", j) + 1
    return src[:k] + "\n" + (PDL if trigger else "") + WAIT + src[k:]


def configs(launches, dependent: bool):
    return [pdl.Launcher(fn, g, b, a, dependent) for fn, g, b, a in launches]


def run(launchers):
    for launch in launchers:
        launch()


def levels_of(img, n):
    return [img.mip(lv).to_cupy().view(cupy.uint8).copy() for lv in range(1, n)]


for size, dtype, ch in ((4096, numpy.float32, 1), (8192, numpy.uint8, 4)):
    shape = (size, size) + ((ch,) if ch > 1 else ())
    name = f"{size}^2 {numpy.dtype(dtype).name} x{ch}"
    n = size.bit_length()
    img = ia.empty(shape, dtype, ch, levels=n, normalized=dtype == numpy.uint8)
    data = cupy.random.RandomState(0).randint(0, 256, shape, dtype=numpy.int32).astype(dtype)
    img.mip(0).set(data)
    img.generate_mipmaps()
    want = levels_of(img, n)
    plain = img._mem._cache.mipfused[0]
    print(f"{name}: chain as made (graph) {ms(img.generate_mipmaps, 200) * 1e3:.2f} us")
    t = ms(lambda plain=plain: [fn(g, b, a) for fn, g, b, a in plain], 200)
    print(f"{name}: its {len(plain)} launches in the stream {t * 1e3:.2f} us")
    steps = mw.chain_plan((size, size), 2, n)
    dn = numpy.dtype(dtype)
    for trigger in (True, False):
        mine = []
        for (kind, _s, k), (_fn, g, b, a) in zip(steps, plain):
            if kind == "wide":
                src, kname = mw.wide_source(dn, ch, 2, False, mw.WIDE_WRITE, k), "ia_mipgen_wide"
            else:
                src, kname = mk.fused_source(dn, ch, 2, False), "ia_mipgen_fused"
            raw = cupy.RawKernel(with_pdl(src, kname, trigger), kname, options=mk._OPTIONS)
            mine.append((raw.kernel, g, b, a))
        for dependent in (False, True):
            cf = configs(mine, dependent)
            for lv in range(1, n):
                img.mip(lv).to_cupy()[...] = 0
            run(cf)
            ok = all(bool((x == y).all()) for x, y in zip(levels_of(img, n), want))
            t = ms(lambda cf=cf: run(cf), 200)
            what = f"trigger at start {trigger}, PDL attribute {dependent}"
            print(f"{name}: recompiled ({what}): {t * 1e3:.2f} us, levels same: {ok}")
    img = None
