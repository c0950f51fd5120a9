"""Linear-backed images (issue 14): a 4096 x 4096 float32 CuPy array sampled in place
beside the same through a copy, in one run (the copy it saves, measured).

Same data (``cupy.random``, 4096 x 4096 float32) and same 4096^2 points (the affine
warp of :mod:`benchmarks.sample`: a rotation by 0.3 rad about the centre, float32
(x, y) in texels), default sampler (clamp-to-edge, linear filtering) through
``img.sample(xy)``:

- image made each call + sample (a fresh CuPy array each frame):
  ``ia.asimage(a, copy=False).sample(xy)`` (wraps the array's memory: a texture over
  pitched memory; the ``imagearray`` row) beside ``ia.asimage(a).sample(xy)``
  (allocates a CUDA array, copies ``a`` into it, samples, frees it); the difference
  of the two is the copy (with its allocation) the linear path saves;
- image made once, sample only: an already-made linear image (``imagearray``) beside
  an already-made CUDA-array image of the same data: the sampling speed of a pitched
  texture vs a CUDA-array (block-linear) one.

Before timing: the linear image shares ``a``'s memory, all four paths give the same
samples, and they match ``cupyx.scipy.ndimage.map_coordinates(order=1)``. The
speed-up column is the other row's time / the linear row's (> 1: linear is faster).
GB/s counts points read (8 B) + results written (4 B) for every row, as
:mod:`benchmarks.sample` does. Issue 14 asks for the measurement, not a minimum: the
lines after the table give the ratios and the copy saved per call (``target none``).
"""

from __future__ import annotations

from benchmarks._util import REFERENCE, Row, measure, require_gpu
from benchmarks.sample import CUPYX_ATOL, N, _coords, _texel_points

EACH = f"{N}^2 float32 CuPy array, image each call + sample (imagearray: copy=False)"
ONCE = f"{N}^2 float32 image made once, sample only (imagearray: linear)"
LINEAR = REFERENCE  # the linear-backed (copy=False) path, in both cases
COPY = "asimage(a) copy into a CUDA array + sample"
ARRAY = "CUDA-array image"
# The texture unit filters pitched and CUDA-array textures alike (same 8-bit
# weights): the two agree to the last bit or nearly; a wrong path is off by far more.
SAME_ATOL = 1e-6


def run() -> list[Row]:
    require_gpu()
    import cupy
    import cupyx.scipy.ndimage as ndi

    import imagearray as ia

    a = cupy.random.RandomState(1).random_sample((N, N), dtype=cupy.float32)
    x, y = _coords("affine")
    xy = _texel_points(x, y)
    assert xy.dtype == cupy.float32 and xy.shape == (N, N, 2), (xy.dtype, xy.shape)
    lin = ia.asimage(a, copy=False)
    arr = ia.asimage(a)
    assert lin.memory == "linear" and arr.memory == "array", (lin.memory, arr.memory)
    assert cupy.asarray(lin).data.ptr == a.data.ptr, "asimage(a, copy=False) copied a"

    def wrap_and_sample():
        return ia.asimage(a, copy=False).sample(xy)

    def copy_and_sample():
        return ia.asimage(a).sample(xy)

    paths = [
        (EACH, LINEAR, wrap_and_sample),
        (EACH, COPY, copy_and_sample),
        (ONCE, LINEAR, lambda: lin.sample(xy)),
        (ONCE, ARRAY, lambda: arr.sample(xy)),
    ]

    # Same results before timing: every path against the CUDA-array image (bit-equal
    # or nearly), that one against cupyx's exact weights (close).
    want = arr.sample(xy)
    assert want.shape == (N, N) and want.dtype == cupy.float32, (want.shape, want.dtype)
    for case, impl, fn in paths:
        got = fn()
        assert got.shape == want.shape and got.dtype == want.dtype, (case, impl, got.shape)
        diff = float(cupy.abs(got - want).max())
        assert diff <= SAME_ATOL, f"{case}: {impl} differs from the CUDA-array image by {diff}"
        del got
    ref = ndi.map_coordinates(a, cupy.stack([y, x]), order=1, mode="nearest")
    diff = float(cupy.abs(want - ref).max())
    print(f"linear: max |imagearray - cupyx map_coordinates| = {diff:.4g}")
    assert diff <= CUPYX_ATOL, f"imagearray and cupyx differ by {diff}"
    del want, ref, x, y

    nbytes = N * N * 12
    return [measure(case, impl, fn, nbytes) for case, impl, fn in paths]


def _times(rows: list[Row], case: str, other: str) -> tuple[float, float] | None:
    """(linear's, other's) time in ``case`` (max of GPU and CPU median, ms), or None."""
    found = {r.impl: r for r in rows if r.case == case}
    lin, oth = found.get(LINEAR), found.get(other)
    if lin is None or oth is None or lin.ms <= 0:
        return None
    return lin.ms, oth.ms


def targets(rows: list[Row]) -> list[str]:
    """Two lines, no minimum (issue 14 asks for the measurement): copy + sample over
    wrap + sample, with the copy saved per call; CUDA-array over linear sampling."""
    none = "target none (issue 14 asks for the measurement)"
    out = []
    t = _times(rows, EACH, COPY)
    if t is None:
        out.append(f"{EACH}: not measured: {none}")
    else:
        lin, cp = t
        out.append(
            f"image made each call + sample: copy (asimage(a)) {cp:.3f} ms / linear "
            f"(asimage(a, copy=False)) {lin:.3f} ms = {cp / lin:.2f}x, the copy saved "
            f"{cp - lin:.3f} ms per call: {none}"
        )
    t = _times(rows, ONCE, ARRAY)
    if t is None:
        out.append(f"{ONCE}: not measured: {none}")
    else:
        lin, ar = t
        out.append(
            f"sample only: CUDA-array image {ar:.3f} ms / linear image {lin:.3f} ms = "
            f"{ar / lin:.2f}x (> 1: the pitched texture samples faster): {none}"
        )
    return out


if __name__ == "__main__":
    import sys

    from benchmarks.__main__ import main

    sys.exit(main(["linear"]))
