"""When the host of one 256^3 float32 order=3 affine_transform (mode constant, CuPy
matrix: the benchmark's call), then of its map_coordinates (CuPy coordinates),
reaches each step, in microseconds from the call's start, one call at a time after a
synchronize (as ``benchmarks/`` times it): the median of 30 calls. A step's GPU work
can start no earlier than its launch, so the offset of the first prefilter launch is
time the GPU waits. Then the GPU time of the same call in the same loop.
``python3 tools/probes/cubic3d_timeline.py``."""

import statistics
import time

import cupy
from _cases import rotation_3d  # this folder's shared cases

from imagearray import ndimage as iand
from imagearray.ndimage import _call, _common, _launch, _plan, _spline, _textures

MARKS: list = []


def mark(owner, name):
    orig = getattr(owner, name)

    def wrapped(*a, **k):
        MARKS.append((name + " >", time.perf_counter()))
        r = orig(*a, **k)
        MARKS.append((name + " <", time.perf_counter()))
        return r

    setattr(owner, name, wrapped)


for owner, name in (
    (_call.Call, "__init__"),
    (_common, "finish"),
    (_call.Call, "output"),
    (_call.Call, "cubic_source"),
    (_plan, "key"),
    (_plan, "run"),
    (_launch.Refilled, "run"),
    (_call, "spline_source"),
    (_call, "filled_source"),
    (_spline.VolumeFill, "__call__"),
    (_textures, "collect"),
    (_spline, "border"),
    (_spline, "prefilter_axes"),
    (cupy, "empty_like"),
    (cupy, "empty"),
    (_spline, "fir_plane"),
    (_spline, "fir"),
    (_spline, "coefficients"),
    (_textures, "take_scratch"),
    (_spline, "_plane_pass"),
    (_spline, "_surface_pass"),
    (_textures, "from_filled"),
    (_launch, "run"),
    (_launch.Launch, "launch"),
):
    mark(owner, name)
from imagearray.ndimage import interpolation  # noqa: E402

interpolation.finish = _common.finish  # (imported by name there)

n = 256
x = cupy.random.RandomState(0).random_sample((n,) * 3, dtype=cupy.float32)
M = cupy.asarray(rotation_3d(n))
idx = cupy.indices(x.shape, dtype=cupy.float32).reshape(3, -1)
mf = M.astype(cupy.float32)
C = (mf[:, :3] @ idx + mf[:, 3:]).reshape((3,) + x.shape)  # the benchmark's coordinates
del idx
for label, call in (
    ("affine_transform", lambda: iand.affine_transform(x, M, order=3)),
    ("map_coordinates", lambda: iand.map_coordinates(x, C, order=3)),
):
    rows: dict = {}
    gpu = []
    for i in range(33):
        cupy.cuda.Device().synchronize()
        MARKS.clear()
        a, b = cupy.cuda.Event(), cupy.cuda.Event()
        a.record()
        t0 = time.perf_counter()
        call()
        t1 = time.perf_counter()
        b.record()
        b.synchronize()
        if i < 3:
            continue
        gpu.append(cupy.cuda.get_elapsed_time(a, b) * 1e3)
        seen: dict = {}
        for name, t in MARKS + [("return", t1)]:
            seen[name] = seen.get(name, 0) + 1
            rows.setdefault(f"{name} #{seen[name]}", []).append((t - t0) * 1e6)
    print(f"== {label}")
    for name, ts in sorted(rows.items(), key=lambda kv: statistics.median(kv[1])):
        print(f"{name:32s} {statistics.median(ts):8.1f} us")
    print(f"GPU time of the call {statistics.median(gpu):.1f} us")
