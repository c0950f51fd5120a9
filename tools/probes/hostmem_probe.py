"""Why 8192^2 RGBA8 image <-> prepared host memory trails cudaMallocHost (diagnostic only).

The same image <-> host copy (ia.copy on the current stream) timed against host
memory of several kinds, each filled first so no page is first touched while timed:

- numpy: numpy.empty, prepared (cuMemHostRegister) -- the benchmark's "prepared"
  (its start is 16 bytes past a page);
- page+N: 4 KiB pages, the start N bytes past a page; THP+16: huge pages, 16 past;
- numpy+THP: a 2 MiB-aligned anonymous mmap advised MADV_HUGEPAGE, prepared;
- pinned: cupyx.empty_pinned (cudaHostAlloc);
- staged: numpy prepared, the copy split in two on the stream: image <-> a CuPy
  linear buffer (device to device), then the linear buffer <-> host.

Prints GB/s (median of 10, CUDA events) and the machine's THP setting.
"""

from __future__ import annotations

import mmap
import statistics

import cupy
import cupyx
import numpy as np

import imagearray as ia

N = 8192
SHAPE = (N, N, 4)
NBYTES = N * N * 4


def timed(fn, n=10):
    s = cupy.cuda.get_current_stream()
    fn()
    s.synchronize()
    out = []
    for _ in range(n):
        a, b = cupy.cuda.Event(), cupy.cuda.Event()
        a.record(s)
        fn()
        b.record(s)
        b.synchronize()
        out.append(cupy.cuda.get_elapsed_time(a, b) * 1e-3)
    return NBYTES / statistics.median(out) / 1e9


def thp_array():
    m = mmap.mmap(-1, NBYTES + (2 << 20))
    base = np.frombuffer(m, np.uint8)
    off = (-base.ctypes.data) % (2 << 20)
    try:
        m.madvise(mmap.MADV_HUGEPAGE, 0, len(m))
    except (AttributeError, OSError) as exc:
        print(f"madvise(MADV_HUGEPAGE) failed: {exc}")
    return base[off : off + NBYTES].reshape(SHAPE), m


def main():
    for f in ("enabled", "defrag"):
        try:
            with open(f"/sys/kernel/mm/transparent_hugepage/{f}") as fh:
                print(f"THP {f}: {fh.read().strip()}")
        except OSError as exc:
            print(f"THP {f}: {exc}")
    rng = np.random.default_rng(0)
    src = rng.integers(0, 256, SHAPE, dtype=np.uint8)
    img = ia.empty((N, N, 4), np.uint8, 4, normalized=True)
    ia.copy(src, img)
    hosts = {"numpy": np.empty(SHAPE, np.uint8), "pinned": cupyx.empty_pinned(SHAPE, np.uint8)}
    hosts["numpy+THP"], keep = thp_array()
    # alignment of the host start: numpy.empty's large arrays start 16 bytes past a page
    for off in (0, 64, 256):
        raw = np.empty(NBYTES + 8192, np.uint8)
        start = (-raw.ctypes.data) % 4096 + off
        hosts[f"page+{off}"] = raw[start : start + NBYTES].reshape(SHAPE)
    thp16 = hosts["numpy+THP"].reshape(-1)
    m2 = mmap.mmap(-1, NBYTES + (4 << 20), flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    m2.madvise(mmap.MADV_HUGEPAGE)
    b2 = np.frombuffer(m2, np.uint8)
    o2 = (-b2.ctypes.data) % (2 << 20) + 16
    hosts["THP+16"] = b2[o2 : o2 + NBYTES].reshape(SHAPE)
    del thp16
    print("start addresses mod 4096:", {k: v.ctypes.data % 4096 for k, v in hosts.items()})
    for h in hosts.values():
        h[...] = src
    try:
        with open("/proc/self/smaps_rollup") as fh:
            print("".join(line for line in fh if "AnonHuge" in line).strip())
    except OSError:
        pass
    import os

    print(f"kernel {os.uname().release}")
    prepared = [k for k in hosts if k != "pinned"]
    for k in prepared:
        ia.prepare_for_device_copy(hosts[k])
    lin = cupy.empty(SHAPE, np.uint8)
    try:
        for name, h in hosts.items():
            d2h = timed(lambda h=h: ia.copy(img, h))
            h2d = timed(lambda h=h: ia.copy(h, img))
            print(f"{name:10s} image->host {d2h:6.1f} GB/s   host->image {h2d:6.1f} GB/s")
        h = hosts["numpy"]

        def staged_d2h():
            ia.copy(img, lin)
            ia.copy(lin, h)

        def staged_h2d():
            ia.copy(h, lin)
            ia.copy(lin, img)

        print(
            f"{'staged':10s} image->host {timed(staged_d2h):6.1f} GB/s   "
            f"host->image {timed(staged_h2d):6.1f} GB/s"
        )
        print(
            f"{'linear':10s} cupy->numpy {timed(lambda: ia.copy(lin, h)):6.1f} GB/s   "
            f"numpy->cupy {timed(lambda: ia.copy(h, lin)):6.1f} GB/s"
        )
        hp = hosts["pinned"]
        print(
            f"{'linear pin':10s} cupy->pinned {timed(lambda: ia.copy(lin, hp)):6.1f} GB/s   "
            f"pinned->cupy {timed(lambda: ia.copy(hp, lin)):6.1f} GB/s"
        )
        print(f"{'d2d':10s} image->cupy {timed(lambda: ia.copy(img, lin)):6.1f} GB/s")
        got = np.empty_like(src)
        ia.copy(img, got)
        assert np.array_equal(got, src)
    finally:
        for k in prepared:
            ia.release_from_device_copy(hosts[k])
    del keep


if __name__ == "__main__":
    main()
