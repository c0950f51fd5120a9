"""Why the benchmark's 256^3 float32 order=3 affine_transform (mode constant) takes
longer than the probes' back-to-back timing of the same call: each part timed both
ways, back to back (``_timing.ms``: the GPU's own time, host work overlapped) and
one call at a time as the benchmark times it (``cupyx.profiler.benchmark``: GPU
time from an event before the call, so host time before the launches counts; a
repeated call runs its plan, "no plan": the full path every call); then
where the host time of one whole call goes (cProfile), the share of points and of
warps the hardware path leaves to the exact border reads, and (``--no-border`` in a
second process) the interpolation with every inside point on the hardware path.
``python3 tools/probes/cubic3d_gap.py``."""

import cProfile
import pstats
import re
import statistics
import subprocess
import sys

import cupy
import numpy
from _cases import rotation_3d  # this folder's shared cases
from _timing import ms  # this folder's GPU timer

import imagearray as ia
from imagearray.ndimage import _cubic, _launch

NO_BORDER = "--no-border" in sys.argv
if NO_BORDER:  # every point whose taps are inside [-1, n] on the fast path (wrong values)
    _orig = _cubic.hardware

    def _hardware(key, filtered_at):
        return re.sub(r"inside3 = inside3 && [^;]*;", "", _orig(key, filtered_at))

    _cubic.hardware = _hardware

from cupyx.profiler import benchmark  # noqa: E402

from imagearray import ndimage as iand  # noqa: E402
from imagearray.ndimage import _firsource, _plan, _spline, _textures  # noqa: E402

n = 256
x = cupy.random.RandomState(0).random_sample((n,) * 3, dtype=cupy.float32)
M = rotation_3d(n)
Mc = cupy.asarray(M)
coef = _spline.coefficients(x, (1, n, n, n, 1), 3, "constant", 0.0, True)[0].reshape((n,) * 3)
img = ia.asimage(coef)


SHAPE = (1, n, n, n, 1)


def interp(src):
    return lambda: iand.affine_transform(src, M, order=3, prefilter=False)


def linear():
    return _spline.coefficients(x, SHAPE, 3, "constant", 0.0, True)


def both(name, fn):
    t = ms(fn, reps=30)
    r = benchmark(fn, n_repeat=20, n_warmup=3)
    g = statistics.median(r.gpu_times[0]) * 1e3
    c = statistics.median(r.cpu_times) * 1e3
    print(f"{name:58s} back to back {t:.3f} ms | one at a time GPU {g:.3f} CPU {c:.3f} ms")


if NO_BORDER:
    both("interp from an ImageArray, no border path", interp(img))
    sys.exit(0)


def into_image():
    lease = _spline.coefficients(x, SHAPE, 3, "constant", 0.0, True, to_image=True)[1]
    _textures.retire(_textures.from_filled(*lease, True))


both("whole call (numpy matrix)", lambda: iand.affine_transform(x, M, order=3))
_store = _plan.store
_plan.store = lambda *a: None  # every call takes the full path
both("whole call (CuPy matrix), no plan", lambda: iand.affine_transform(x, Mc, order=3))
_plan.store = _store
_firsource.RECURSIVE = not _firsource.RECURSIVE
both(
    f"whole call (CuPy matrix), RECURSIVE={_firsource.RECURSIVE}",
    lambda: iand.affine_transform(x, Mc, order=3),
)
_firsource.RECURSIVE = not _firsource.RECURSIVE
both("whole call (CuPy matrix, as the benchmark)", lambda: iand.affine_transform(x, Mc, order=3))
both("interp from an ImageArray", interp(img))
both("interp from CuPy coefficients", interp(coef))
both("prefilter to linear memory", linear)
both("prefilter into a 3D image (+ textures)", into_image)
both("order=1 whole call", lambda: iand.affine_transform(x, M, order=1))

prof = cProfile.Profile()
prof.enable()
for _ in range(50):
    iand.affine_transform(x, Mc, order=3)
prof.disable()
cupy.cuda.Device().synchronize()
st = pstats.Stats(prof)
st.sort_stats("tottime").print_stats(18)

idx = numpy.indices((n,) * 3).reshape(3, -1).astype(numpy.float64)
pts = (M[:, :3] @ idx + M[:, 3:]).reshape(3, n, n, n)
inside = ((pts >= 0) & (pts <= n - 1)).all(0)
hw = ((numpy.floor(pts) - 1 >= 0) & (numpy.floor(pts) + 2 <= n - 1)).all(0)
exact = inside & ~hw
bz, by, bx = _launch.BLOCK_3D[2], _launch.BLOCK_3D[1], _launch.BLOCK_3D[0]
# warps of 32 threads: x fastest, then y, then z within a block
e = exact.reshape(n // bz, bz, n // by, by, n // bx, bx).transpose(0, 2, 4, 1, 3, 5)
warps = e.reshape(-1, bz * by * bx // 32, 32).any(-1)
print(
    f"points inside {inside.mean():.4f}, exact border reads {exact.mean():.4f},"
    f" warps with one {warps.mean():.4f} (block {_launch.BLOCK_3D})"
)
again = subprocess.run([sys.executable, __file__, "--no-border"], capture_output=True, text=True)
print(again.stdout, again.stderr[-2000:])
