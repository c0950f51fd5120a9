"""The GPU timers of the probes here: :func:`ms`, the mean GPU ms of ``fn`` over
``reps`` calls in a row (CUDA events on the current stream), after one call to warm
up; :func:`timed`, the median GPU us of ``fn`` called alone."""

import statistics

import cupy


def ms(fn, reps=20):
    fn()
    a, b = cupy.cuda.Event(), cupy.cuda.Event()
    a.record()
    for _ in range(reps):
        fn()
    b.record()
    b.synchronize()
    return cupy.cuda.get_elapsed_time(a, b) / reps


def timed(fn, before, reps):
    """Median GPU us from an event recorded after ``before()`` to one after ``fn()``
    (the first 3 calls left out: warm-up)."""
    out = []
    for _ in range(reps):
        before()
        a, b = cupy.cuda.Event(), cupy.cuda.Event()
        a.record()
        fn()
        b.record()
        b.synchronize()
        out.append(cupy.cuda.get_elapsed_time(a, b) * 1e3)
    return statistics.median(out[3:])
