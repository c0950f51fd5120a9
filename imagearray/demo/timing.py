"""Step 7 of the demo (GPU only): imagearray against ``cupyx.scipy.ndimage`` on the
same work, the rotated view of step 4 as ``affine_transform`` computes it.

Each case runs both in this process on the same CuPy input, measured with
``cupyx.profiler.benchmark`` (CUDA events around each call, after warm-up calls that
compile and plan); the table gives the medians and their ratio. RGBA8 is one call
with ``channel_axis=-1`` for imagearray (the four channels in one texture fetch) and
one call per channel for cupyx, which has no channel axis.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable

import numpy

import imagearray as ia
from imagearray.demo.pictures import rotation_matrix

__all__ = ["N_REPEAT", "N_WARMUP", "timing_table"]

#: Calls measured, and calls before them (first-call compilation and plans).
N_REPEAT = 20
N_WARMUP = 3


def _median_ms(fn: Callable[[], object]) -> float:
    """The median GPU time of ``fn`` in ms, by CUDA events on the current stream."""
    from cupyx.profiler import benchmark

    res = benchmark(fn, n_repeat=N_REPEAT, n_warmup=N_WARMUP)
    return float(statistics.median(res.gpu_times[0])) * 1e3


def timing_table(picture: numpy.ndarray, size: int) -> list[str]:
    """The table's lines (Markdown): for each case, imagearray's and cupyx's median
    times and ``cupyx / imagearray`` (above 1: imagearray is faster).

    ``picture`` is step 1's RGBA8 picture ``(size, size, 4)``; the float32 case is its
    luminance. Both libraries get ``order=1`` and ``mode="constant"``; imagearray its
    default ``precision="hardware"`` (8-bit filter weights, see docs/ndimage.rst)."""
    import cupy
    import cupyx.scipy.ndimage as ndi

    matrix, offset = rotation_matrix(size)
    offset = tuple(float(v) for v in offset)
    dev_matrix = cupy.asarray(matrix)
    rgba = cupy.asarray(picture)
    grey = cupy.asarray((picture[..., :3].astype(numpy.float32) / 255).mean(axis=-1))

    def ours(x, **kw):
        return lambda: ia.ndimage.affine_transform(x, matrix, offset, order=1, **kw)

    def theirs(x):
        return lambda: ndi.affine_transform(x, dev_matrix, offset, order=1)

    def theirs_per_channel(x):
        def run():
            planes = [
                ndi.affine_transform(x[..., c], dev_matrix, offset, order=1) for c in range(4)
            ]
            return cupy.stack(planes, axis=-1)

        return run

    cases = [
        (f"rotate + zoom, float32 {size}x{size}", ours(grey), theirs(grey)),
        (
            f"rotate + zoom, RGBA8 {size}x{size}x4",
            ours(rgba, channel_axis=-1),
            theirs_per_channel(rgba),
        ),
    ]
    lines = [
        "| work (order=1) | imagearray (ms) | cupyx.scipy.ndimage (ms) | cupyx / imagearray |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, mine, other in cases:
        a, b = _median_ms(mine), _median_ms(other)
        lines.append(f"| {name} | {a:.3f} | {b:.3f} | {b / a:.2f}x |")
    return lines
