"""Host time of ia.copy's Python layer without a GPU: the CUDA calls (the copy
enqueue, the stream and device queries) are stubbed out, so what is left is the
validation, planning and bookkeeping a call does in Python. Diagnostic only.

Usage: ``python tools/probes/profile_copy_planning.py [--profile]``.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import time

import numpy

import imagearray as ia
from imagearray import _memory
from imagearray.array import ImageArray
from imagearray.copies import executor
from imagearray.memory import ImageMem

N = 2000


class _Owner:
    alive = True

    def free(self):
        self.alive = False


class _Event:
    done = True

    def synchronize(self):
        return None


def _stub() -> None:
    executor._enqueue = lambda plan, stream, device: _Event()
    executor.get_device = lambda device=None: 0
    executor.get_stream = lambda stream=None, device=None: 0
    executor.device_info = lambda key, device=None: 32
    executor._current_stream = lambda device: 0
    executor.call_on_device = lambda device, fn, *args: fn(*args)


def _image(desc, address):
    h = _memory.wrap_array(0, address, desc, _Owner())
    return ImageArray.from_mem(ImageMem._from_handle(h))


def per_call_us(fn, n=N) -> float:
    fn()
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) / n * 1e6


def main(argv) -> int:
    _stub()
    desc = ia.ImageDescriptor(1024, 1024, channel_order="rgba", channel_type="fp32")
    big, other = _image(desc, 0xA000), _image(desc, 0xB000)
    host = numpy.zeros((64, 64, 4), numpy.float32)
    calls = {
        "host->image 64x64": lambda: ia.copy(host, big, dst_offset=(100, 200), extent=(64, 64)),
        "image->host 64x64": lambda: ia.copy(big, host, src_offset=(100, 200), extent=(64, 64)),
        "image->image 64x64": lambda: ia.copy(
            big, other, src_offset=(100, 200), dst_offset=(5, 6), extent=(64, 64)
        ),
    }
    for name, fn in calls.items():
        print(f"{name}: {per_call_us(fn):.1f} us per call (Python layer only)")
    if "--profile" in argv:
        for name, fn in calls.items():
            pr = cProfile.Profile()
            pr.enable()
            for _ in range(N):
                fn()
            pr.disable()
            print(f"\n######## {name}")
            pstats.Stats(pr).sort_stats("tottime").print_stats(15)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
