"""The GPU timer of the probes here: mean GPU ms of ``fn`` over ``reps`` calls in a
row (CUDA events on the current stream), after one call to warm up."""

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
