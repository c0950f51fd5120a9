"""Mipmap generation: 8192^2 RGBA8 and 4096^2 float32, full chains.

``img.generate_mipmaps()`` in GB/s of level-0 bytes read, beside the device-to-device
copy bandwidth of the same bytes (``cupy.copyto``) and beside building the same
pyramid with CuPy (a reshape-mean per level on a CuPy array, the quickest cupyx-style
way for power-of-two sizes), all in one run.
"""

from __future__ import annotations

import numpy

from benchmarks._util import Row, measure


def _cupy_pyramid(a, levels: int, channels: int):
    import cupy

    out = [a]
    cur = a.astype(cupy.float32)
    for _ in range(1, levels):
        h, w = cur.shape[:2]
        shape = (h // 2, 2, w // 2, 2) + ((channels,) if channels > 1 else ())
        cur = cur.reshape(shape).mean(axis=(1, 3))
        out.append(cur.astype(a.dtype) if a.dtype != cupy.float32 else cur)
    return out


def run() -> list[Row]:
    import cupy

    import imagearray as ia

    rows = []
    for size, dtype, channels in ((8192, numpy.uint8, 4), (4096, numpy.float32, 1)):
        levels = size.bit_length()
        shape = (size, size) + ((channels,) if channels > 1 else ())
        data = cupy.random.RandomState(0).randint(0, 255, shape).astype(dtype)
        img = ia.empty(
            (size, size), dtype, channels, levels=levels, normalized=dtype == numpy.uint8
        )
        img.mip(0).set(data)
        nbytes = data.nbytes
        case = f"{size}^2 {'RGBA8' if channels == 4 else 'float32'} pyramid"
        rows.append(measure(case, "imagearray", img.generate_mipmaps, nbytes))
        dst = cupy.empty_like(data)
        rows.append(
            measure(
                case,
                "d2d copy of level 0",
                lambda dst=dst, data=data: cupy.copyto(dst, data),
                nbytes,
            )
        )
        rows.append(
            measure(
                case,
                "CuPy reshape-mean",
                lambda d=data, n=levels, c=channels: _cupy_pyramid(d, n, c),
                nbytes,
            )
        )
        # what was timed is a real pyramid: level 1 against CuPy's
        ref = _cupy_pyramid(data, 2, channels)[1]
        got = cupy.asarray(img.mip(1).get())
        if dtype == numpy.uint8:
            ref = cupy.rint(
                data.reshape(size // 2, 2, size // 2, 2, channels)
                .astype(cupy.float32)
                .mean(axis=(1, 3))
            )
        diff = float(cupy.abs(got.astype(cupy.float32) - ref.astype(cupy.float32)).max())
        print(f"{case}: max |level 1 - CuPy| = {diff:.3g}")
    return rows
