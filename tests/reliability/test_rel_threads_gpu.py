"""Threads and streams (issue 20, "What to build" 3): 8 Python threads creating,
copying and sampling on their own CuPy streams give bit-identical results to a
serial run, on one device and (issue 19, two GPUs) spread over two with a peer copy
each round; free() racing sample() on one shared image never crashes (subprocess:
a crash is counted); prepare_for_device_copy of one buffer from two threads gives
the spec's answer for the same, overlapping and adjacent ranges.

Counts: ``IMAGEARRAY_REL_ROUNDS`` rounds per thread, ``IMAGEARRAY_REL_RACES`` races.
"""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from _rel import count, record, run_python

import imagearray as ia

pytestmark = pytest.mark.gpu

THREADS = 8
ROUNDS = count("rounds", 4, 40)
RACES = count("races", 20, 300)
LINEAR = ia.Sampler("clamp_to_edge", "unnormalized", "linear")


def _work(t: int, r: int, stream) -> list[np.ndarray]:
    """One round of thread ``t``: make an image from its data, copy a region into a
    second image, sample both (linear filtering: the texture unit's own rounding),
    fetch, and read everything back, all on ``stream``."""
    import cupy

    rng = np.random.default_rng(1000 * t + r)
    data = rng.standard_normal((48, 64, 4)).astype(np.float32)
    # everything, the zero fill included, ordered on the thread's stream
    with stream if stream is not None else cupy.cuda.Stream.null:
        img = ia.asimage(data, channels=4, stream=stream)
        other = ia.zeros((48, 64, 4), np.float32, channels=4)
        ia.copy(img, other, src_offset=(3, 5), dst_offset=(1, 2), extent=(40, 30), stream=stream)
        coords = cupy.asarray(rng.uniform(-4, 70, (500, 2)).astype(np.float32))
        a = img.sample(coords, LINEAR, stream=stream)
        b = other.sample(coords, LINEAR, stream=stream)
        f = other.fetch(cupy.asarray(rng.integers(-2, 66, (300, 2))), stream=stream)
        out = [x.get(stream=stream) for x in (a, b, f)] + [other.get(stream=stream)]
    img.free()
    other.free()
    return out


def _threaded(streams_of, work) -> dict:
    """``work(t, r, streams_of(t))`` for each round of :data:`THREADS` threads that
    start together: {(t, r): its result}; an exception in a thread fails the test."""
    got: dict = {}
    errors = []
    barrier = threading.Barrier(THREADS)

    def worker(t):
        try:
            streams = streams_of(t)
            barrier.wait()
            for r in range(ROUNDS):
                got[t, r] = work(t, r, streams)
        except BaseException as exc:  # reported below
            errors.append((t, repr(exc)))

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=300)
    assert not errors, errors
    assert set(got) == {(t, r) for t in range(THREADS) for r in range(ROUNDS)}
    return got


def _assert_identical(got: list, want: list, key) -> None:
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        assert g.tobytes() == w.tobytes(), f"thread/round {key} differs from the serial run"


def test_eight_threads_on_own_streams_match_a_serial_run():
    import cupy

    serial = {(t, r): _work(t, r, None) for t in range(THREADS) for r in range(ROUNDS)}
    got = _threaded(lambda t: cupy.cuda.Stream(non_blocking=True), _work)
    for key, want in serial.items():
        _assert_identical(got[key], want, key)
    record("threads", threads=THREADS, rounds=ROUNDS, identical=True)


def _peer(t: int, r: int, streams) -> tuple[np.ndarray, np.ndarray]:
    """Thread ``t``'s round ``r`` across the two devices: an RGBA8 image made on
    device ``t % 2`` (on ``streams[0]``) is copied into one on the other device by
    the spec's peer copy on a stream of the receiving device (``streams[1]``) and
    read back there. Returns (what came back, the data). ``streams`` None: each
    device's default stream."""
    import cupy

    here, there = t % 2, 1 - t % 2
    s_here, s_there = streams if streams is not None else (None, None)
    data = np.random.default_rng(5000 + 1000 * t + r).integers(0, 256, (40, 56, 4), np.uint8)
    with cupy.cuda.Device(here):
        src = ia.asimage(data, channels=4, stream=s_here)
        # made before the other device's stream reads it (streams of two devices are
        # not ordered with each other)
        (s_here or cupy.cuda.get_current_stream()).synchronize()
    with cupy.cuda.Device(there), s_there if s_there is not None else cupy.cuda.Stream.null:
        dst = ia.zeros((40, 56, 4), np.uint8, channels=4)
        ia.copy(src, dst, stream=s_there)
        got = dst.get(stream=s_there)
        dst.free()
    with cupy.cuda.Device(here):
        src.free()
    return got, data


@pytest.mark.multigpu
def test_threads_spread_over_two_devices_match_a_serial_run():
    """Issue 19: the eight threads of the test above, thread ``t`` on device ``t % 2``
    (its own streams there), each round also copying an image to the other device:
    every result bit-identical to a serial run on the same device, every peer copy
    the data it was given."""
    import cupy

    def both(t, r, streams):
        with cupy.cuda.Device(t % 2):
            mine = _work(t, r, None if streams is None else streams[0])
        return mine, _peer(t, r, streams)

    def streams_of(t):
        streams = []
        for dev in (t % 2, 1 - t % 2):
            with cupy.cuda.Device(dev):
                streams.append(cupy.cuda.Stream(non_blocking=True))
        return streams

    serial = {(t, r): both(t, r, None) for t in range(THREADS) for r in range(ROUNDS)}
    got = _threaded(streams_of, both)
    for key, (want, want_peer) in serial.items():
        mine, (peer, data) = got[key]
        _assert_identical(mine, want, key)
        np.testing.assert_array_equal(want_peer[0], want_peer[1], err_msg=f"serial {key}")
        np.testing.assert_array_equal(peer, data, err_msg=f"peer copy of thread/round {key}")
    record("threads on two devices", threads=THREADS, rounds=ROUNDS, identical=True)


_RACE = r"""
import json, sys, threading, time
import numpy as np
import cupy
import imagearray as ia

races = int(sys.argv[1])
outcome = {"races": 0, "released_errors": 0, "outside": []}
data = np.arange(256 * 256, dtype=np.float32).reshape(256, 256)
coords = cupy.asarray(np.random.default_rng(0).uniform(0, 256, (20000, 2)).astype(np.float32))
for i in range(races):
    img = ia.asimage(data)
    go = threading.Barrier(2)
    def sampler():
        s = cupy.cuda.Stream(non_blocking=True)
        go.wait()
        try:
            for _ in range(200):
                img.sample(coords, stream=s)
        except ia.ReleasedResourceError:
            outcome["released_errors"] += 1
        except Exception as exc:
            outcome["outside"].append(repr(exc)[:200])
    t = threading.Thread(target=sampler)
    t.start()
    go.wait()
    time.sleep((i % 7) * 1e-4)
    img.free()
    t.join()
    outcome["races"] += 1
cupy.cuda.Device().synchronize()
check = ia.asimage(data)
got = check.fetch(cupy.asarray([[5, 7], [255, 0]])).get()
outcome["kernel_ok"] = bool((got == [data[7, 5], data[0, 255]]).all())
print("RESULT " + json.dumps(outcome))
"""


def test_free_racing_sample_never_crashes():
    rc, out, err = run_python(f"import sys; sys.argv = ['x', '{RACES}']\n" + _RACE, timeout=400)
    line = next((ln for ln in out.splitlines() if ln.startswith("RESULT ")), None)
    record("free race", races=RACES, crashes=0 if rc == 0 and line else 1)
    assert rc == 0 and line is not None, f"rc={rc}\n{err[-3000:]}"
    got = json.loads(line[len("RESULT ") :])
    assert got["races"] == RACES and not got["outside"], got
    assert got["kernel_ok"]


def _two_threads(a, b):
    """prepare_for_device_copy(a) and (b) at once: each thread's outcome."""
    barrier = threading.Barrier(2)
    results = [None, None]

    def run(i, buf):
        barrier.wait()
        try:
            ia.prepare_for_device_copy(buf)
            results[i] = "prepared"
        except ia.HostMemoryOverlapError:
            results[i] = "overlap"
        except Exception as exc:  # pragma: no cover - the failure report
            results[i] = repr(exc)

    threads = [threading.Thread(target=run, args=(i, x)) for i, x in enumerate((a, b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_prepare_from_two_threads_gives_the_spec_s_answer():
    page = 4096
    raw = np.zeros(16 * page + page, np.uint8)
    base = (-raw.ctypes.data) % page
    buf = raw[base : base + 16 * page]  # page-aligned, 16 pages
    cases = {
        "same range": (buf[: 8 * page], buf[: 8 * page]),
        "overlapping": (buf[: 8 * page], buf[4 * page : 12 * page]),
        "adjacent": (buf[: 8 * page], buf[8 * page :]),
    }
    for _ in range(count("prepare_rounds", 10, 200)):
        for name, (a, b) in cases.items():
            results = _two_threads(a, b)
            if name == "adjacent":  # disjoint ranges: both are prepared
                assert results == ["prepared", "prepared"], (name, results)
            else:  # exactly one wins; the other is told it overlaps
                assert sorted(results) == ["overlap", "prepared"], (name, results)
            for x, res in zip((a, b), results):
                if res == "prepared":
                    ia.release_from_device_copy(x)
            assert not ia.prepared_host_ranges()
    record("prepare race", rounds=count("prepare_rounds", 10, 200), cases=len(cases))
