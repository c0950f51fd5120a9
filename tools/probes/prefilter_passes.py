"""Where the 256^3 float32 order=3 prefilter's time goes (H200), pass by pass: the
contiguous-axis pass (shared-memory row tiles, and a candidate that slides a
register window of 8 samples over a conflict-free shared tile), the two strided
passes at several samples a thread, the last pass into linear memory and through
a surface, the x and y passes as one kernel, next to a device-to-device copy of the
same 64 MiB. Prints one line each, and whether the candidate's bits equal the
library pass's; for the recursions' stretches and the impulse response
(``_firsource.RECURSIVE``)."""

import cupy
import numpy
from _timing import ms  # this folder's GPU timer

from imagearray.ndimage import _firsource, _spline, _textures

n = 256
x = cupy.random.RandomState(0).random_sample((1, n, n, n, 1), dtype=cupy.float32)
out = cupy.empty_like(x)


def row(name, t):
    print(f"{name:55s} {t:.4f} ms  ({2 * x.nbytes / t / 1e9:.2f} TB/s r+w)")


row("d2d copy 64 MiB", ms(lambda: out.__setitem__(Ellipsis, x)))
mode = "mirror"
n32 = numpy.int32(n)


def launch(kernel, grid, *args):
    return lambda: kernel(grid if isinstance(grid, tuple) else (grid,), (256,), args)


def passes():
    lines = x.size // n
    for tile in (64, 256):
        rows = _firsource.fir_rows(mode, tile)
        blocks = -(-lines // (2048 // tile)) * -(-n // tile)
        t = ms(launch(rows, blocks, x, out, n32, numpy.int64(lines)))
        row(f"x pass, shared tiles of {tile}, 8 a thread", t)
    ref = out.copy()
    one_run = _firsource.CHUNK if _firsource.RECURSIVE else 1
    one = _firsource.fir(mode, one_run)
    threads = x.size // n * -(-n // one_run)
    tail = (numpy.int64(threads), numpy.int64(1), n32)
    t = ms(launch(one, -(-threads // 256), x, out, *tail))
    row(f"x pass, {one_run} a thread from global memory", t)
    print("bits equal the row tiles':", bool((out == ref).all()))

    for run in (8, 16) if _firsource.RECURSIVE else (4, 8, 16):
        k = _firsource.fir(mode, run)
        for axis, stride in ((2, n), (1, n * n)):
            threads = x.size // n * -(-n // run)
            tail = (numpy.int64(threads), numpy.int64(stride), n32)
            t = ms(launch(k, (threads + 255) // 256, x, out, *tail))
            row(f"axis {axis} (stride {stride}), {run} a thread", t)

    lease = _textures.take_scratch((n, n, n), numpy.float32, 1)
    surf = numpy.uint64(int(lease.image.surface()))
    for lanes in (32, 16, 8):
        for run in (8, 16):
            k = _firsource.fir(mode, run, True, lanes)
            grid = (-(-n // lanes), -(-n // (256 // lanes)), -(-n // run))
            t = ms(launch(k, grid, x, surf, n32, n32, n32))
            row(f"axis 1 through a surface, {run} a thread, warp {lanes} x {32 // lanes}", t)
    FILL = r"""
    extern "C" __global__ void fill(const float* __restrict__ src, unsigned long long surf,
                                    int w, int h, int d) {
        int x = blockIdx.x * 16 + threadIdx.x % 16, y = blockIdx.y * 16 + threadIdx.x / 16;
        for (int z = blockIdx.z; z < d; z += gridDim.z)
            surf3Dwrite(__ldg(src + ((long long)z * h + y) * w + x), surf, x * 4, y, z);
    }
    """
    fill = cupy.RawKernel(FILL, "fill")
    t = ms(launch(fill, (n // 16, n // 16, 64), x, surf, n32, n32, n32))
    row("surface fill alone (linear -> CUDA array, 16 x 2 warps)", t)
    saved = _firsource.PLANE_BLOCKS
    ref = None
    for tile, blocks in ((64, 0), (64, 5), (64, 6), (32, saved)):
        _firsource.PLANE_BLOCKS = blocks
        k = _firsource.fir_plane(mode, tile)
        t = ms(launch(k, (-(-n // tile), -(-n // tile), n), x, out, n32, n32))
        same = "" if ref is None else f", bits equal blocks 0's: {bool((out == ref).all())}"
        ref = out.copy() if ref is None else ref
        row(f"x and y passes as one, tiles of {tile}, PLANE_BLOCKS={blocks}{same}", t)
    _firsource.PLANE_BLOCKS = saved
    full = lambda: _spline.prefilter_axes(x, 3, mode)  # noqa: E731

    def to_surface():
        le = _textures.take_scratch((n, n, n), numpy.float32, 1)
        _spline.prefilter_axes(x, 3, mode, into=le.image)
        _textures.retire(_textures.from_filled(le, 0, True))

    default = _spline.PLANE_TILE
    for tile in (0, default):
        _spline.PLANE_TILE = tile
        row(f"prefilter_axes, to linear (PLANE_TILE={tile})", ms(full))
        row(f"prefilter_axes, last pass through a surface (PLANE_TILE={tile})", ms(to_surface))
    _spline.PLANE_TILE = default


for recursive in (True, False):
    _firsource.RECURSIVE = recursive
    print(f"--- _firsource.RECURSIVE = {recursive}")
    passes()
