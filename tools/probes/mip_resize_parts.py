"""Where the time of ``resize(method="mip")`` of a 4096^2 RGBA8 image to 1024^2 goes
(issue 18: 1.83 ms GPU and 1.82 ms host on the H200, for 64 MiB read once), and of
``pyramid_gaussian`` of 4096^2 float32: each part alone, GPU ms (CUDA events, 10
calls) beside the host's wall ms of one call. Diagnostic only.

    python tools/probes/mip_resize_parts.py
"""

from __future__ import annotations

import cProfile
import io
import pstats
import sys
import time

import cupy
import numpy

import imagearray as ia
from imagearray.ndimage import _mipresize

N, OUT = 4096, 1024


def both(fn, reps=10):
    fn()
    cupy.cuda.Device().synchronize()
    a, b = cupy.cuda.Event(), cupy.cuda.Event()
    t = time.perf_counter()
    a.record()
    for _ in range(reps):
        fn()
    b.record()
    host = (time.perf_counter() - t) / reps * 1e3
    b.synchronize()
    return cupy.cuda.get_elapsed_time(a, b) / reps, host


def main() -> int:
    rng = numpy.random.default_rng(0)
    rgba = cupy.asarray(rng.integers(0, 256, (N, N, 4), dtype=numpy.uint8))
    p = _mipresize.plan((N, N), (OUT, OUT), "reflect", 0.0)
    img = ia.empty(rgba.shape, rgba.dtype, 4, levels=p.levels, normalized=True)
    g = _mipresize._grid_on_device((OUT, OUT), 0)
    parts = {
        "resize(method='mip') whole": lambda: ia.ndimage.resize(rgba, (OUT, OUT, 4), method="mip"),
        "empty(levels) + free": lambda: ia.empty(
            rgba.shape, rgba.dtype, 4, levels=p.levels, normalized=True
        ).free(),
        "mip(0).set (d2a copy)": lambda: img.mip(0).set(rgba),
        "generate_mipmaps": img.generate_mipmaps,
        "sample at the level": lambda: img.sample(g, p.sampler, level=p.lod),
        "d2d copy of 64 MiB": lambda: rgba.copy(),
    }
    x = cupy.asarray(rng.random((N, N), dtype=numpy.float32))
    parts["pyramid_gaussian 4096^2 f32 whole"] = lambda: list(ia.ndimage.pyramid_gaussian(x))
    print(f"levels {p.levels}, lod {p.lod}, reads {len(p.offsets)}")
    print("| part | GPU ms | host ms |\n| --- | --- | --- |")
    for name, fn in parts.items():
        gpu, host = both(fn)
        print(f"| {name} | {gpu:.3f} | {host:.3f} |")
    for name in ("resize(method='mip') whole", "pyramid_gaussian 4096^2 f32 whole"):
        pr = cProfile.Profile()
        pr.enable()
        for _ in range(10):
            parts[name]()
        pr.disable()
        cupy.cuda.Device().synchronize()
        s = io.StringIO()
        pstats.Stats(pr, stream=s).sort_stats("tottime").print_stats(18)
        print(f"\n######## {name}: 10 calls, by tottime")
        print("\n".join(s.getvalue().splitlines()[:30]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
