"""Releasing prepared host memory while copies from and into it are in flight (GPU).

The issue: one thread copies host -> image -> host in a loop while another prepares
and releases the same buffer; a release that unregistered the buffer under a copy
still queued killed the context (``CUDA_ERROR_LAUNCH_FAILED``, sticky). Each run is a
subprocess (a lost context cannot take the rest of the suite with it, and a hang is
cut by the timeout): bounded loops, then a kernel must still run and every byte must
be right. The ``widened`` run stretches the moment between a copy's enqueue and the
bookkeeping that follows it (where a thread switch let the release in), with a spin
kernel ahead of each copy so that it is still queued then: before the fix it failed
on every run.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import imagearray as ia

pytestmark = pytest.mark.gpu

_SCRIPT = r"""
import sys, threading, time
import numpy as np
import cupy
import imagearray as ia
import imagearray.copies.hostmem as co
from imagearray.copies import executor

LOOPS = 200
widened = sys.argv[1] == "widened"
if widened:
    ended = executor.end_host_copy

    def late_end(held, event):
        time.sleep(0.002)  # a thread switch right after the enqueue
        return ended(held, event)

    executor.end_host_copy = late_end

spin = cupy.RawKernel(r'''
extern "C" __global__ void spin(unsigned long long ns) {
    unsigned long long t0, t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t0));
    do { asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t)); } while (t - t0 < ns);
}''', "spin")
spin_ns = np.uint64(5_000_000 if widened else 500_000)  # longer than the widened gap

data = np.random.default_rng(5).integers(0, 256, (256, 512, 4), dtype=np.uint8)
buf = data.copy()
img = ia.empty(data.shape, np.uint8, channels=4)
img.set(data)
stream = cupy.cuda.Stream(non_blocking=True)
errors = []

def copier():
    try:
        for _ in range(LOOPS):
            spin((1,), (1,), (spin_ns,), stream=stream)  # the copies stay queued a while
            ia.copy(buf, img, stream=stream)
            ia.copy(img, buf, stream=stream)
    except BaseException as exc:
        errors.append(("copier", repr(exc)))

def preparer():
    try:
        for _ in range(LOOPS):
            co.prepare_for_device_copy(buf)
            time.sleep(0.0005)
            co.release_from_device_copy(buf)
    except BaseException as exc:
        errors.append(("preparer", repr(exc)))

threads = [threading.Thread(target=f, daemon=True) for f in (copier, preparer)]
for t in threads:
    t.start()
for t in threads:
    t.join(150)
if any(t.is_alive() for t in threads):
    print("HUNG", flush=True)
    sys.exit(3)
stream.synchronize()
assert errors == [], errors
assert co.prepared_host_ranges() == []
# the context is alive: a kernel runs and gives the right answer
assert int(cupy.arange(1000, dtype=cupy.int64).sum()) == 499500
np.testing.assert_array_equal(buf, data)
np.testing.assert_array_equal(img.get(), data)
print("OK", flush=True)
"""


@pytest.mark.parametrize("how", ["plain", "widened"])
def test_release_while_copies_are_in_flight(how):
    root = os.path.dirname(os.path.dirname(os.path.abspath(ia.__file__)))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    try:
        run = subprocess.run(
            [sys.executable, "-c", _SCRIPT, how],
            capture_output=True,
            text=True,
            timeout=240,
            env=env,
            cwd=root,
        )
    except subprocess.TimeoutExpired as exc:  # pragma: no cover - the failure report
        pytest.fail(f"the two-thread loop did not finish in {exc.timeout} s: {exc.stdout}")
    tail = (run.stdout + run.stderr)[-3000:]
    assert run.returncode == 0 and run.stdout.strip().endswith("OK"), (
        f"exit {run.returncode}: {tail}"
    )
