"""Small-call benchmark (issue 21 item 10): host microseconds per call of the calls a
tile loop makes, 500 in a row, beside the CuPy call a user would make instead.

A 64 x 64 region of a 2048 x 2048 RGBA fp32 image: slicing it (``img[y:y+64,
x:x+64]``, a view, and ``.to_cupy()`` of it) against CuPy's ``big[region].copy()``;
``ia.copy`` of the region host -> image, image -> host and image -> image against
``cupy.ndarray.set`` / ``get`` and a strided device copy of the same bytes; a texture
handle created and destroyed against ``cupy.cuda.texture.TextureObject``. Each call
moves the right bytes (checked against NumPy before timing). The time is the host's:
the loop of 500 calls divided by 500 (the median of 5 loops), so ``cpu_ms`` is the
column that counts; ``gpu_ms`` is 0. Target: each within 1.5x of CuPy's time.
"""

from __future__ import annotations

import statistics
import time

import numpy

from benchmarks._util import Row, require_gpu, target_line

N_CALLS = 500
N_LOOPS = 5
SIZE = 2048
TILE = 64
X, Y = 700, 300  # the region's corner (texture order)
CUPY = "cupy"
CASES = (
    "img[region] (a view) vs big[region].copy()",
    "img[region].to_cupy()",
    "ia.copy 64x64 host -> image",
    "ia.copy 64x64 image -> host",
    "ia.copy 64x64 image -> image",
    "texture create + destroy",
)


def host_us(fn) -> float:
    """Median over N_LOOPS loops of the host time of one call, in microseconds."""
    import cupy

    for _ in range(20):
        fn()
    cupy.cuda.Device().synchronize()
    loops = []
    for _ in range(N_LOOPS):
        t = time.perf_counter()
        for _ in range(N_CALLS):
            fn()
        loops.append((time.perf_counter() - t) / N_CALLS * 1e6)
        cupy.cuda.Device().synchronize()
    return float(statistics.median(loops))


def _row(case: str, impl: str, fn) -> Row:
    return Row(case, impl, 0.0, host_us(fn) / 1e3, 0)


def run() -> list[Row]:
    require_gpu()
    import cupy
    from cupy.cuda import runtime, texture

    import imagearray as ia

    rng = numpy.random.default_rng(0)
    full = rng.standard_normal((SIZE, SIZE, 4)).astype(numpy.float32)
    img = ia.asimage(full, channels=4)
    img2 = ia.zeros((SIZE, SIZE, 4), numpy.float32, 4)
    big = cupy.asarray(full)
    big2 = cupy.zeros_like(big)
    tile = rng.standard_normal((TILE, TILE, 4)).astype(numpy.float32)
    tile_out = numpy.empty_like(tile)
    dev_tile = cupy.empty((TILE, TILE, 4), cupy.float32)
    ys, xs = slice(Y, Y + TILE), slice(X, X + TILE)
    region = dict(extent=(TILE, TILE))

    # every imagearray path moves the right bytes
    numpy.testing.assert_array_equal(img[ys, xs].to_cupy().get(), full[ys, xs])
    ia.copy(tile, img, dst_offset=(X, Y), **region).synchronize()
    full[ys, xs] = tile
    ia.copy(img, tile_out, src_offset=(X, Y), **region).synchronize()
    numpy.testing.assert_array_equal(tile_out, tile)
    ia.copy(img, img2, src_offset=(X, Y), dst_offset=(5, 9), **region).synchronize()
    numpy.testing.assert_array_equal(img2[9 : 9 + TILE, 5 : 5 + TILE].get(), tile)
    numpy.testing.assert_array_equal(img.get(), full)

    sampler = ia.Sampler(filtering="linear")
    ch = texture.ChannelFormatDescriptor(32, 32, 32, 32, runtime.cudaChannelFormatKindFloat)
    cuarr = texture.CUDAarray(ch, SIZE, SIZE)
    res = texture.ResourceDescriptor(runtime.cudaResourceTypeArray, cuArr=cuarr)
    tdesc = texture.TextureDescriptor(
        (runtime.cudaAddressModeClamp,) * 2,
        runtime.cudaFilterModeLinear,
        runtime.cudaReadModeElementType,
    )
    mem, desc = img.mem, img.descriptor

    def ia_texture():
        ia.create_image(mem, desc, sampler).destroy()

    def cupy_texture():
        texture.TextureObject(res, tdesc)  # destroyed when dropped

    def cupy_d2d():
        big2[9 : 9 + TILE, 5 : 5 + TILE] = big[ys, xs]

    cases = [
        (CASES[0], lambda: img[Y : Y + TILE, X : X + TILE], lambda: big[ys, xs].copy()),
        (CASES[1], lambda: img[Y : Y + TILE, X : X + TILE].to_cupy(), lambda: big[ys, xs].copy()),
        (
            CASES[2],
            lambda: ia.copy(tile, img, dst_offset=(X, Y), **region),
            lambda: dev_tile.set(tile),
        ),
        (
            CASES[3],
            lambda: ia.copy(img, tile_out, src_offset=(X, Y), **region),
            lambda: dev_tile.get(out=tile_out),
        ),
        (
            CASES[4],
            lambda: ia.copy(img, img2, src_offset=(X, Y), dst_offset=(5, 9), **region),
            cupy_d2d,
        ),
        (CASES[5], ia_texture, cupy_texture),
    ]
    rows = []
    for case, mine, theirs in cases:
        rows.append(_row(case, "imagearray", mine))
        rows.append(_row(case, CUPY, theirs))
    return rows


def targets(rows: list[Row]) -> list[str]:
    """Issue 21: each small call within 1.5x of CuPy's host time."""
    return [target_line(rows, case, CUPY, 1 / 1.5, "within 1.5x of CuPy") for case in CASES]


if __name__ == "__main__":
    import sys

    from benchmarks.__main__ import main

    sys.exit(main(["small_calls"]))
