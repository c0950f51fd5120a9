"""Host memory benchmark: pageable vs prepared vs cudaMallocHost, in one process.

The same copy (``ia.copy`` on the current stream) from or into three kinds of host
memory holding the same bytes:

- ``imagearray``: a NumPy array prepared with ``ia.prepare_for_device_copy``
  (``cuMemHostRegister``, portable);
- ``pageable``: the same kind of NumPy array, not prepared;
- ``cudaMallocHost``: ``cupyx.empty_pinned`` (CuPy's pinned pool, ``cudaHostAlloc``),
  the bandwidth a page-locked allocation reaches on this machine.

Cases: 512 MiB host <-> CuPy array (laid out as 8192 x 16384 RGBA8 so ``ia.copy``
knows the shape) and an 8192 x 8192 RGBA8 image (256 MiB, ``ia.empty``) <-> host,
both directions; plus the one-time cost of preparing and releasing 512 MiB beside
``cudaHostAlloc`` / ``cudaFreeHost`` of the same size.

Time is ``max(GPU, CPU)`` median as a caller sees it (an asynchronous copy's GPU
time is the real transfer). The table's speed-up column reads, for each case,
``other time / prepared time``: the targets are ``pageable`` >= 4x and
``cudaMallocHost`` >= 0.9x (prepared reaches 90 % of its bandwidth); :func:`targets`
checks them.
"""

from __future__ import annotations

import statistics
import time

import numpy

from benchmarks._util import Row, measure, require_gpu

MiB = 1 << 20
LINEAR_SHAPE = (8192, 16384, 4)  # 512 MiB
IMAGE_SIZE = 8192  # 8192 x 8192 RGBA8, 256 MiB
N_PREPARE = 5

PREPARED, PAGEABLE, PINNED = "imagearray", "pageable", "cudaMallocHost"


def _host_set(shape, fill: numpy.ndarray) -> dict[str, numpy.ndarray]:
    import cupyx

    out = {
        PAGEABLE: numpy.empty(shape, numpy.uint8),
        PINNED: cupyx.empty_pinned(shape, numpy.uint8),
    }
    out[PREPARED] = numpy.empty(shape, numpy.uint8)
    for a in out.values():
        a[...] = fill  # touches every page, so no first-touch faults are timed
    return out


def _pin_costs(buf: numpy.ndarray) -> list[Row]:
    """Median wall time of preparing / releasing ``buf``, and of cudaHostAlloc /
    cudaFreeHost of the same size."""
    import cupy

    from imagearray import prepare_for_device_copy, release_from_device_copy

    runtime = cupy.cuda.runtime
    prep, rel, alloc, free = [], [], [], []
    for _ in range(N_PREPARE):
        t0 = time.perf_counter()
        prepare_for_device_copy(buf)
        t1 = time.perf_counter()
        release_from_device_copy(buf)
        t2 = time.perf_counter()
        ptr = runtime.hostAlloc(buf.nbytes, 0)
        t3 = time.perf_counter()
        runtime.freeHost(ptr)
        t4 = time.perf_counter()
        prep.append(t1 - t0)
        rel.append(t2 - t1)
        alloc.append(t3 - t2)
        free.append(t4 - t3)
    size = f"{buf.nbytes // MiB} MiB"

    def row(case, impl, times):
        return Row(case, impl, 0.0, statistics.median(times) * 1e3, buf.nbytes)

    return [
        row(f"page-lock {size} (one-time)", PREPARED, prep),
        row(f"page-lock {size} (one-time)", PINNED, alloc),
        row(f"unlock {size} (one-time)", PREPARED, rel),
        row(f"unlock {size} (one-time)", PINNED, free),
    ]


def _check_paths(lin, img_host, lin_src, img_src, dev, img) -> None:
    """Before timing: each host memory kind moves the right bytes both ways, into
    cleared destinations (the buffers already hold the source bytes, so checking
    them only after the timed copies could not catch a copy that moved nothing)."""
    import cupy

    import imagearray as ia

    ref = cupy.asarray(lin_src)
    blank = cupy.zeros(img_src.shape, numpy.uint8)
    for impl in (PREPARED, PAGEABLE, PINNED):
        dev.fill(0)
        # copies from page-locked memory are asynchronous: wait before touching it
        ia.copy(lin[impl], dev).synchronize()
        assert bool((dev == ref).all()), f"{impl}: host -> cupy array"
        lin[impl].fill(0)
        ia.copy(dev, lin[impl]).synchronize()
        assert numpy.array_equal(lin[impl], lin_src), f"{impl}: cupy array -> host"
        ia.copy(blank, img)
        ia.copy(img_host[impl], img).synchronize()
        img_host[impl].fill(0)
        ia.copy(img, img_host[impl]).synchronize()
        assert numpy.array_equal(img_host[impl], img_src), f"{impl}: host <-> image"
    del ref, blank


def run() -> list[Row]:
    require_gpu()
    import cupy

    import imagearray as ia
    from imagearray import prepare_for_device_copy, release_from_device_copy

    rng = numpy.random.default_rng(0)
    # 1 MiB of random bytes tiled: real data, cheap to make at this size.
    tile = rng.integers(0, 256, (16, 16384, 4), dtype=numpy.uint8)
    lin_src = numpy.tile(tile, (LINEAR_SHAPE[0] // 16, 1, 1))
    img_src = numpy.ascontiguousarray(lin_src[:IMAGE_SIZE, :IMAGE_SIZE])
    lin = _host_set(LINEAR_SHAPE, lin_src)
    img_host = _host_set(img_src.shape, img_src)
    dev = cupy.asarray(lin_src)
    img = ia.empty((IMAGE_SIZE, IMAGE_SIZE, 4), numpy.uint8, 4, normalized=True)

    cases = [
        ("512 MiB host -> cupy array", lin, lambda h: ia.copy(h, dev)),
        ("512 MiB cupy array -> host", lin, lambda h: ia.copy(dev, h)),
        ("8192x8192 RGBA8 host -> image", img_host, lambda h: ia.copy(h, img)),
        ("8192x8192 RGBA8 image -> host", img_host, lambda h: ia.copy(img, h)),
    ]
    rows: list[Row] = []
    prepare_for_device_copy(lin[PREPARED])
    prepare_for_device_copy(img_host[PREPARED])
    try:
        _check_paths(lin, img_host, lin_src, img_src, dev, img)
        for case, hosts, copy in cases:
            for impl in (PREPARED, PAGEABLE, PINNED):
                h = hosts[impl]
                rows.append(measure(case, impl, lambda h=h, copy=copy: copy(h), h.nbytes))
        cupy.cuda.get_current_stream().synchronize()
    finally:
        release_from_device_copy(lin[PREPARED])
        release_from_device_copy(img_host[PREPARED])

    rows += _pin_costs(lin[PAGEABLE])
    return rows


def targets(rows: list[Row]) -> list[str]:
    """One line per copy case: prepared vs pageable (target >= 4x) and vs
    cudaMallocHost (target >= 90 % of its bandwidth)."""
    by_case: dict[str, dict[str, Row]] = {}
    for r in rows:
        by_case.setdefault(r.case, {})[r.impl] = r
    out = []
    for case, impls in by_case.items():
        if "one-time" in case or not {PREPARED, PAGEABLE, PINNED} <= impls.keys():
            continue
        p, g, m = impls[PREPARED].gbps, impls[PAGEABLE].gbps, impls[PINNED].gbps
        vs_pageable, vs_pinned = p / g, p / m
        ok = "met" if vs_pageable >= 4 and vs_pinned >= 0.9 else "NOT met"
        out.append(
            f"{case}: prepared {p:.1f} GB/s = {vs_pageable:.2f}x pageable ({g:.1f} GB/s), "
            f"{vs_pinned:.0%} of cudaMallocHost ({m:.1f} GB/s): target {ok}"
        )
    return out


if __name__ == "__main__":
    import sys

    from benchmarks.__main__ import main

    sys.exit(main(["hostmem"]))
