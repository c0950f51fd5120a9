"""Where ia.ndimage's time goes (GPU machine): host microseconds per call beside cupyx,
a profile of the host path, and the kernels' back-to-back GPU time per launch shape and
source kind. ``python3 tools/probes/ndimage_probe.py [--profile] [--blocks]``."""

from __future__ import annotations

import cProfile
import io
import pstats
import sys

import cupy
import cupyx.scipy.ndimage as ndi
import numpy

import imagearray as ia
from imagearray.ndimage import _launch, _plan

sys.path.insert(0, __file__.rsplit("/", 1)[0])  # the sibling probes
from profile_overhead import per_call_us  # noqa: E402
from texture_rates import _time as gpu_ms  # noqa: E402

N = 4096


def _rot(n, a=0.3):
    c, s = numpy.cos(a), numpy.sin(a)
    m = (n - 1) / 2
    return numpy.array([[c, s, m - c * m - s * m], [-s, c, m + s * m - c * m]])


def host_us(fn, n=500):
    return per_call_us(fn, n)


def calls(x, xn):
    m_np = _rot(x.shape[0])
    m_cp = cupy.asarray(m_np)
    rc = cupy.asarray(numpy.random.default_rng(0).random((2, 64, 64)) * x.shape[0])
    kw = {"order": 1}
    return {
        "affine numpy matrix": (
            lambda: ia.ndimage.affine_transform(x, m_np, **kw),
            lambda: ndi.affine_transform(x, cupy.asarray(m_np), **kw),
        ),
        "affine cupy matrix": (
            lambda: ia.ndimage.affine_transform(x, m_cp, **kw),
            lambda: ndi.affine_transform(x, m_cp, **kw),
        ),
        "affine ImageArray": (lambda: ia.ndimage.affine_transform(xn, m_cp, **kw), None),
        "map_coordinates 64^2": (
            lambda: ia.ndimage.map_coordinates(x, rc, **kw),
            lambda: ndi.map_coordinates(x, rc, **kw),
        ),
        "zoom x2": (lambda: ia.ndimage.zoom(x, 2, **kw), lambda: ndi.zoom(x, 2, **kw)),
        "shift": (
            lambda: ia.ndimage.shift(x, (1.5, -2.5), **kw),
            lambda: ndi.shift(x, (1.5, -2.5), **kw),
        ),
        "rotate": (
            lambda: ia.ndimage.rotate(x, 30, reshape=False, **kw),
            lambda: ndi.rotate(x, 30, reshape=False, **kw),
        ),
    }


def host_table():
    x = cupy.random.random((256, 256), dtype=cupy.float32)
    xn = ia.asimage(x)
    print("## host us per call (256^2 float32, 500 calls in a row)\n")
    print("| call | imagearray | cupyx | cupyx / ours |\n| --- | --- | --- | --- |")
    for name, (ours, theirs) in calls(x, xn).items():
        a = host_us(ours)
        b = host_us(theirs) if theirs else float("nan")
        print(f"| {name} | {a:.1f} | {b:.1f} | {b / a:.2f} |")
    _plan.clear()
    a = host_us(lambda: _plan.clear() or calls(x, xn)["affine cupy matrix"][0](), 200)
    print(f"| affine cupy matrix, no plan (full path) | {a:.1f} | | |")


def profile():
    x = cupy.random.random((256, 256), dtype=cupy.float32)
    xn = ia.asimage(x)
    for name in ("affine cupy matrix", "zoom x2"):
        fn = calls(x, xn)[name][0]
        fn()
        pr = cProfile.Profile()
        pr.enable()
        for _ in range(2000):
            fn()
        pr.disable()
        s = io.StringIO()
        pstats.Stats(pr, stream=s).sort_stats("tottime").print_stats(18)
        print(f"\n## profile: {name} (2000 calls)\n\n```\n{s.getvalue()[-4000:]}\n```")


def blocks():
    """GPU ms per launch of the planned kernel, per block shape and source."""
    rs = cupy.random.RandomState(0)
    x = rs.random_sample((N, N), dtype=cupy.float32)
    rgba = rs.randint(0, 256, (N, N, 4), dtype=cupy.uint8)
    vol = rs.random_sample((512,) * 3, dtype=cupy.float32)
    m = _rot(N)
    m3 = numpy.zeros((3, 4))
    m3[0, 0] = 1
    r = _rot(512)
    m3[1:, 1:3], m3[1:, 3] = r[:, :2], r[:, 2]
    xi, vi = ia.asimage(x), ia.asimage(vol)
    cases = {
        "affine 4096^2 f32 pitched": lambda: ia.ndimage.affine_transform(x, m, order=1),
        "affine 4096^2 f32 CUDA array": lambda: ia.ndimage.affine_transform(xi, m, order=1),
        "affine RGBA8 pitched": lambda: ia.ndimage.affine_transform(
            rgba, m, order=1, channel_axis=-1
        ),
        "zoom x2": lambda: ia.ndimage.zoom(x, 2, order=1),
        "zoom x0.5": lambda: ia.ndimage.zoom(x, 0.5, order=1),
        "shift": lambda: ia.ndimage.shift(x, (10.3, -7.7), order=1),
        "3D 512^3 CUDA array": lambda: ia.ndimage.affine_transform(vi, m3, order=1),
    }
    ref = {
        "affine 4096^2 f32 pitched": lambda: ndi.affine_transform(x, cupy.asarray(m), order=1),
        "zoom x2": lambda: ndi.zoom(x, 2, order=1),
        "3D 512^3 CUDA array": lambda: ndi.affine_transform(vol, cupy.asarray(m3), order=1),
    }
    shapes = [(32, 8), (16, 16), (32, 4), (64, 4), (32, 16), (128, 2), (8, 8)]
    print("\n## GPU ms per launch, back to back (50), by block shape\n")
    print("| case | " + " | ".join(f"{a}x{b}" for a, b in shapes) + " | cupyx |")
    print("| --- " * (len(shapes) + 2) + "|")
    for name, fn in cases.items():
        cells = []
        for shp in shapes:
            _launch.BLOCK = shp
            _plan.clear()
            cells.append(f"{gpu_ms(fn):.4f}")
        _launch.BLOCK = (32, 8)
        _plan.clear()
        r = f"{gpu_ms(ref[name], 10):.4f}" if name in ref else ""
        print(f"| {name} | " + " | ".join(cells) + f" | {r} |")


if __name__ == "__main__":
    host_table()
    if "--profile" in sys.argv:
        profile()
    if "--blocks" in sys.argv:
        blocks()
