"""Exact bilinear (order=1, precision='exact') by point reads or by gathers (GPU
machine): a 4096^2 float32 affine_transform (a rotation by 0.3 rad about the centre)
timed with cupyx.profiler.benchmark, the input an ImageArray in a CUDA array allocated
for gather (gather=True; the same kernel but for its interior reads), one allocated
without the flag (point reads), and the CuPy array read in place (pitched, point
reads); cupyx order 1 and precision='hardware' beside. Prints the GPU times, the
point/gather ratio and the largest difference from cupyx (both ~1e-6: exact).
``python3 tools/probes/exact_bilinear.py``; keep _textures.EXACT_GATHER at what wins."""

from __future__ import annotations

import math
import statistics

import cupy
import cupyx.scipy.ndimage as ndi
from cupyx.profiler import benchmark

import imagearray as ia
from imagearray.ndimage import _textures

N = 4096


def _rotation(n: int, a: float = 0.3):
    c, s = math.cos(a), math.sin(a)
    m = (n - 1) / 2
    return cupy.asarray([[c, s, m - c * m - s * m], [-s, c, m + s * m - c * m]])


def _ms(fn) -> float:
    res = benchmark(fn, n_repeat=50, n_warmup=5)
    return float(statistics.median(res.gpu_times[0])) * 1e3


def main() -> None:
    x = cupy.random.RandomState(0).random_sample((N, N), dtype=cupy.float32)
    m = _rotation(N)
    kw = {"order": 1, "mode": "constant"}
    want = ndi.affine_transform(x, m, **kw)
    points = ia.asimage(x)
    # two gather arrays: each ImageArray keeps its own plan (the kernel of its first
    # call), so the flag below decides each one's kernel once
    gathers, gathers_points = ia.asimage(x, gather=True), ia.asimage(x, gather=True)
    assert gathers.gatherable and not points.gatherable

    def exact(src, gather: bool):
        def call():
            _textures.EXACT_GATHER = gather
            try:
                return ia.ndimage.affine_transform(src, m, precision="exact", **kw)
            finally:
                _textures.EXACT_GATHER = False

        return call

    cases = {
        "exact, gathers (ImageArray gather=True)": exact(gathers, True),
        "exact, point reads (ImageArray gather=True)": exact(gathers_points, False),
        "exact, point reads (ImageArray)": exact(points, False),
        "exact, point reads (CuPy array in place)": exact(x, False),
        "hardware (CuPy array in place)": lambda: ia.ndimage.affine_transform(x, m, **kw),
        "cupyx order=1": lambda: ndi.affine_transform(x, m, **kw),
    }
    times = {}
    for name, fn in cases.items():
        diff = float(cupy.abs(fn() - want).max())
        times[name] = _ms(fn)
        print(f"{name:48s} {times[name]:8.4f} ms   max |diff| vs cupyx {diff:.3g}")
    g = times["exact, gathers (ImageArray gather=True)"]
    p = times["exact, point reads (ImageArray gather=True)"]
    print(f"point reads / gathers (same CUDA array): {p / g:.3f} (> 1: gathers faster)")
    p2 = times["exact, point reads (CuPy array in place)"]
    print(f"point reads in place / gathers: {p2 / g:.3f}")


if __name__ == "__main__":
    main()
