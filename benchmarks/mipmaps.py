"""Mipmap generation: 8192^2 RGBA8 and 4096^2 float32, full chains.

``img.generate_mipmaps()`` (``mipchain.ONE_LAUNCH``: a wide-read pass, then fused
stages run by the blocks that finish last, in one launch; or ``mipwide.chain_plan``'s
separate launches, a deep or wide-read first pass, then fused passes) in GB/s of
level-0 bytes read, beside: the chain with the other ``mipwide.STREAMING`` (the wide
passes' cache operators), the other ``mipkernels.PREREAD`` (the fused passes' first
reads), both, and both with the other ``TAIL_ONE_LAUNCH``; with the other
``ONE_LAUNCH``; with the other ``mipchain.TAIL_ONE_LAUNCH`` (the levels below the first
wide pass in one launch, or in separate ones); the separate launches with the other
``pdl.ENABLED`` (programmatic dependent launch); the chain with
the other first pass (``mipdeep.ROWS``: 0, wide-read passes of up to 3 levels, or 8,
a deep pass of up to 7); the per-level box filter it replaced (one launch per level,
replayed from a captured CUDA graph as ``generate_mipmaps`` did before issue 18; its
results are the default's bit for bit, checked here); the device-to-device copy of the same bytes
(``cupy.copyto``, GB/s of bytes copied); the same pyramid built with CuPy (a
reshape-mean per level, the quickest cupyx-style way for power-of-two sizes) and
with torch ``avg_pool2d(x, 2)`` per level where torch with CUDA is installed (both
rounded to the storage type per level as imagearray does), all in one run. Every
level imagearray made is checked against a box filter of the level above it before
timing. A 256^3 float32 volume's chain is timed too (the default per-level launches,
the fused passes, torch ``avg_pool3d``, the d2d copy), with no target. Targets: >= 50 %
of the copy's bandwidth and faster than CuPy (issue 5);
faster than the copy, and >= 3x torch for float32 (issue 18).
"""

from __future__ import annotations

import numpy

from benchmarks._util import Row, measure, require_gpu, settings, target_line

D2D = "d2d copy of level 0"
CUPY = "CuPy reshape-mean"
PER_LEVEL = "per-level box filter (graph)"
TORCH = "torch avg_pool2d chain"
CASES = ((8192, numpy.uint8, 4), (4096, numpy.float32, 1))
TORCH3D = "torch avg_pool3d chain"
VOLUME = 256  # the 3D case: a 256^3 float32 volume (64 MiB), levels 256^3 .. 1


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


def _torch():
    """torch with CUDA, or None (its rows are skipped)."""
    try:
        import torch

        if not torch.cuda.is_available():
            raise RuntimeError("torch.cuda.is_available() is False")
        return torch
    except Exception as exc:  # missing, or built for another CUDA
        print(f"mipmaps: torch not usable ({exc!s:.100}); its rows are skipped")
        return None


def _torch_pyramid(torch, x, levels: int, u8: bool):
    """The chain by ``avg_pool2d(x, 2)`` per level on ``x`` (1, C, H, W) float32, each
    level rounded to uint8 (kept as float for the next) for 8-bit data."""
    pool = torch.nn.functional.avg_pool2d
    out = [x]
    for _ in range(1, levels):
        x = pool(x, 2)
        if u8:
            x = torch.round(x)  # storage: the next level is made from the stored one
            out.append(x.to(torch.uint8))
        else:
            out.append(x)
    return out


def _per_level_graph(img, dtype, channels: int):
    """The per-level box filter's launches (one per level) captured into a CUDA graph,
    as ``generate_mipmaps`` replayed them before the fused kernel: its ``launch``."""
    import cupy

    from imagearray.sampling import mipkernels

    kernel = mipkernels.mipgen_kernel(numpy.dtype(dtype).name, channels, 2, False)
    img.generate_mipmaps(kernel)  # compiled, launches cached
    side = cupy.cuda.Stream(non_blocking=True)
    side.begin_capture()
    try:
        with side:
            img.generate_mipmaps(kernel, stream=side)
    finally:
        graph = side.end_capture()
    return graph.launch


def _settings():
    """(row name, ((module, attribute, value), ...)) of each other way the chain can
    run, timed beside the default: the wide passes' other cache operators, the fused
    passes' other first-level reads, both of those together (the candidate default),
    and those with the other TAIL_ONE_LAUNCH; the other ONE_LAUNCH, the other
    TAIL_ONE_LAUNCH, the other first pass (deep or wide), and the separate launches
    with the other pdl.ENABLED (programmatic dependent launch)."""
    from imagearray.sampling import mipchain, mipdeep, mipkernels, mipwide, pdl

    first = 0 if mipdeep.ROWS else 8
    what = "wide passes" if mipdeep.ROWS else "deep first pass"
    one = not mipchain.ONE_LAUNCH
    how = "one launch" if one else "separate launches"
    dependent = not pdl.ENABLED
    launched = f"PDL {'on' if dependent else 'off'} (pdl.ENABLED={dependent})"
    tail = not mipchain.TAIL_ONE_LAUNCH
    below = "the levels below the first pass in one launch" if tail else "separate tail launches"
    cop = not mipwide.STREAMING
    ops = "streaming" if cop else "default"
    pre = not mipkernels.PREREAD
    reads = "every tap read first" if pre else "tap by tap"
    streaming = (mipwide, "STREAMING", cop)
    preread = (mipkernels, "PREREAD", pre)
    return (
        (f"wide passes' {ops} cache operators (mipwide.STREAMING={cop})", (streaming,)),
        (f"fused passes' reads {reads} (mipkernels.PREREAD={pre})", (preread,)),
        (f"STREAMING={cop} and PREREAD={pre}", (streaming, preread)),
        (
            f"STREAMING={cop}, PREREAD={pre} and TAIL_ONE_LAUNCH={tail}",
            (streaming, preread, (mipchain, "TAIL_ONE_LAUNCH", tail)),
        ),
        (f"{how} (mipchain.ONE_LAUNCH={one})", ((mipchain, "ONE_LAUNCH", one),)),
        (f"{below} (mipchain.TAIL_ONE_LAUNCH={tail})", ((mipchain, "TAIL_ONE_LAUNCH", tail),)),
        (f"{what} (mipdeep.ROWS={first})", ((mipdeep, "ROWS", first),)),
        (launched, ((pdl, "ENABLED", dependent),)),
    )


def _setting_row(setting, shape, dtype, channels, levels, data, want, case, nbytes):
    """The chain with module settings changed, on an image of its own: timed where it
    gives the default's bytes (else None)."""
    import cupy

    import imagearray as ia

    name, changes = setting
    img = ia.empty(shape, dtype, channels, levels=levels, normalized=dtype == numpy.uint8)
    img.mip(0).set(data)
    with settings(changes):
        img.generate_mipmaps()  # planned (and cached) with the setting
        for lv, w in enumerate(want[1:], 1):
            if not bool((img.mip(lv).to_cupy().view(cupy.uint8) == w.view(cupy.uint8)).all()):
                print(f"{case}: {name}: level {lv} differs from the default; not timed")
                return None
        return measure(case, name, img.generate_mipmaps, nbytes)


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

        # the per-level filter (the old default) gives the same levels, bit for bit
        fused = [img.mip(lv).to_cupy().copy() for lv in range(levels)]
        per_level = _per_level_graph(img, dtype, channels)
        per_level()
        for lv in range(1, levels):
            a, b = fused[lv], img.mip(lv).to_cupy()
            same = bool((a.view(cupy.uint8) == b.view(cupy.uint8)).all())
            assert same, f"{case}: level {lv}: fused and per-level filters differ"

        rows.append(measure(case, "imagearray", img.generate_mipmaps, nbytes))
        for setting in _settings():
            row = _setting_row(setting, shape, dtype, channels, levels, data, fused, case, nbytes)
            if row is not None:
                rows.append(row)
        del fused
        rows.append(measure(case, PER_LEVEL, per_level, nbytes))
        torch = _torch()
        if torch is not None:
            x = torch.from_dlpack(data.astype(cupy.float32))
            x = (x[None] if channels > 1 else x[None, None]).contiguous()
            if channels > 1:  # (1, H, W, C) -> (1, C, H, W)
                x = x.permute(0, 3, 1, 2).contiguous()
            u8 = dtype == numpy.uint8
            t1 = cupy.from_dlpack(_torch_pyramid(torch, x, 2, u8)[1])
            if channels > 1:
                t1 = cupy.moveaxis(t1[0], 0, -1)
            else:
                t1 = t1[0, 0]
            d = float(cupy.abs(t1.astype(cupy.float32) - img.mip(1).to_cupy()).max())
            assert d <= (1 if u8 else 1e-3), f"{case}: torch's level 1 off by {d}"
            rows.append(
                measure(
                    case,
                    TORCH,
                    lambda x=x, n=levels, u=u8, t=torch: _torch_pyramid(t, x, n, u),
                    nbytes,
                )
            )
            del x, t1
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
    return rows + _volume_rows()


def _volume_case() -> str:
    return f"{VOLUME}^3 float32 volume pyramid"


def _volume_rows() -> list[Row]:
    """A 3D chain (issue 18's "every image type that has mips"): the default (one
    launch per level, replayed from a graph) beside ``mipgen.FUSED`` (the fused
    passes: 16^3 tiles, four levels a pass from shared memory), FUSED with
    ``mipkernels.PREREAD``, torch ``avg_pool3d`` per level and the d2d copy. The
    default's level 1 is checked against a reshape-mean, FUSED's levels against the
    default's bits (a setting row that differs is not timed), torch's level 1 against
    the default's."""
    import cupy

    import imagearray as ia
    from imagearray.sampling import mipgen, mipkernels

    n, dtype = VOLUME, numpy.float32
    levels = n.bit_length()
    data = cupy.random.RandomState(1).standard_normal((n, n, n), dtype=dtype)
    case = _volume_case()
    img = ia.empty((n, n, n), dtype, 1, levels=levels)
    img.mip(0).set(data)
    img.generate_mipmaps()
    want = [None] + [img.mip(lv).to_cupy().copy() for lv in range(1, levels)]
    ref1 = data.reshape(n // 2, 2, n // 2, 2, n // 2, 2).mean(axis=(1, 3, 5))
    d = float((cupy.abs(want[1] - ref1) / (1 + cupy.abs(ref1))).max())
    assert d <= 1e-5, f"{case}: level 1 differs from the box filter by {d}"
    rows = [measure(case, "imagearray", img.generate_mipmaps, data.nbytes)]
    fused, preread = (mipgen, "FUSED", True), (mipkernels, "PREREAD", True)
    for setting in (
        ("fused passes (mipgen.FUSED=True)", (fused,)),
        ("fused passes reading every tap first (FUSED, PREREAD)", (fused, preread)),
    ):
        row = _setting_row(setting, (n, n, n), dtype, 1, levels, data, want, case, data.nbytes)
        if row is not None:
            rows.append(row)
    torch = _torch()
    if torch is not None:
        x = torch.from_dlpack(data)[None, None].contiguous()

        def chain(x=x, pool=torch.nn.functional.avg_pool3d):
            out = [x]
            for _ in range(1, levels):
                out.append(pool(out[-1], 2))
            return out

        t1 = cupy.from_dlpack(chain()[1])[0, 0]
        d = float((cupy.abs(t1 - want[1]) / (1 + cupy.abs(want[1]))).max())
        assert d <= 1e-5, f"{case}: torch's level 1 off by {d}"
        rows.append(measure(case, TORCH3D, chain, data.nbytes))
        del x, t1
    dst = cupy.empty_like(data)
    rows.append(measure(case, D2D, lambda: cupy.copyto(dst, data), data.nbytes))
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
        out.append(target_line(rows, case, D2D, 1.0, "faster than the d2d copy (issue 18)"))
        if dtype == numpy.float32:
            out.append(target_line(rows, case, TORCH, 3.0, ">= 3x torch avg_pool2d (issue 18)"))
    return out


if __name__ == "__main__":
    import sys

    from benchmarks.__main__ import main

    sys.exit(main(["mipmaps"]))
