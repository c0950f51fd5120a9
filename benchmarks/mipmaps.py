"""Mipmap generation: 8192^2 RGBA8 and 4096^2 float32, full chains.

``img.generate_mipmaps()`` in GB/s of level-0 bytes read, beside the device-to-device
copy bandwidth of the same bytes (``cupy.copyto``, GB/s of bytes copied) and beside
building the same pyramid with CuPy (a reshape-mean per level on a CuPy array, the
quickest cupyx-style way for power-of-two sizes, rounded to the storage type as
imagearray does), all in one run. Every level imagearray made is checked against a
box filter of the level above it before timing. Targets (issue 5): >= 50 % of the
copy's bandwidth (speed-up >= 0.5) and faster than CuPy.
"""

from __future__ import annotations

import numpy

from benchmarks._util import Row, measure, require_gpu, target_line

D2D = "d2d copy of level 0"
CUPY = "CuPy reshape-mean"
CASES = ((8192, numpy.uint8, 4), (4096, numpy.float32, 1))


def _case(size: int, dtype, channels: int) -> str:
    return f"{size}^2 {'RGBA8' if channels == 4 else 'float32'} pyramid"


_round_u8 = None


def _to_storage(cur, dtype):
    """float32 level -> storage type, rounded to nearest like imagearray (one kernel)."""
    import cupy

    global _round_u8
    if dtype == numpy.float32:
        return cur
    if _round_u8 is None:
        _round_u8 = cupy.ElementwiseKernel(
            "float32 x", "uint8 y", "y = (unsigned char)rintf(x)", "bench_round_u8"
        )
    return _round_u8(cur)


def _cupy_pyramid(a, levels: int, channels: int):
    import cupy

    out = [a]
    cur = a.astype(cupy.float32)
    for _ in range(1, levels):
        h, w = cur.shape[:2]
        shape = (h // 2, 2, w // 2, 2) + ((channels,) if channels > 1 else ())
        cur = cur.reshape(shape).mean(axis=(1, 3))
        out.append(_to_storage(cur, a.dtype))
    return out


def _box(prev, channels: int):
    """2x2 box filter of one level (float32), as the reference of the next."""
    import cupy

    h, w = prev.shape[:2]
    shape = (h // 2, 2, w // 2, 2) + ((channels,) if channels > 1 else ())
    return prev.astype(cupy.float32).reshape(shape).mean(axis=(1, 3))


def _check(img, levels: int, dtype, channels: int, case: str) -> None:
    """Every level l >= 1 is the box filter of level l - 1 (as imagearray stored it):
    +-1 for 8-bit normalized data, float rounding for float32."""
    import cupy

    prev = img.mip(0).to_cupy()
    worst = 0.0
    for level in range(1, levels):
        got = img.mip(level).to_cupy()
        ref = _box(prev, channels)
        if dtype == numpy.uint8:
            d = float(cupy.abs(got.astype(cupy.float32) - cupy.rint(ref)).max())
            assert d <= 1, f"{case}: level {level} differs from the box filter by {d}"
        else:
            d = float((cupy.abs(got - ref) / (1 + cupy.abs(ref))).max())
            assert d <= 1e-5, f"{case}: level {level} differs from the box filter by {d}"
        worst = max(worst, d)
        prev = got
    print(f"{case}: every level within {worst:.3g} of a box filter of the level above")


def run() -> list[Row]:
    require_gpu()
    import cupy

    import imagearray as ia

    rows = []
    for size, dtype, channels in CASES:
        levels = size.bit_length()  # full chain: size, size / 2, ..., 1
        shape = (size, size) + ((channels,) if channels > 1 else ())
        data = cupy.random.RandomState(0).randint(0, 256, shape, dtype=numpy.int32)
        data = data.astype(dtype)
        img = ia.empty(shape, dtype, channels, levels=levels, normalized=dtype == numpy.uint8)
        img.mip(0).set(data)
        nbytes = data.nbytes
        case = _case(size, dtype, channels)

        img.generate_mipmaps()
        _check(img, levels, dtype, channels, case)
        ref1 = _cupy_pyramid(data, 2, channels)[1]
        d = float(cupy.abs(ref1.astype(cupy.float32) - img.mip(1).to_cupy()).max())
        assert d <= (1 if dtype == numpy.uint8 else 1e-3), f"{case}: CuPy's level 1 off by {d}"

        rows.append(measure(case, "imagearray", img.generate_mipmaps, nbytes))
        dst = cupy.empty_like(data)
        rows.append(measure(case, D2D, lambda dst=dst, data=data: cupy.copyto(dst, data), nbytes))
        rows.append(
            measure(
                case,
                CUPY,
                lambda d=data, n=levels, c=channels: _cupy_pyramid(d, n, c),
                nbytes,
            )
        )
        del img, data, dst
    return rows


def targets(rows: list[Row]) -> list[str]:
    out = []
    for size, dtype, channels in CASES:
        case = _case(size, dtype, channels)
        out.append(
            target_line(
                rows, case, D2D, 0.5, ">= 50% of the d2d copy's GB/s, counting bytes copied once"
            )
        )
        out.append(target_line(rows, case, CUPY, 1.0, "faster than CuPy"))
    return out


if __name__ == "__main__":
    import sys

    from benchmarks.__main__ import main

    sys.exit(main(["mipmaps"]))
