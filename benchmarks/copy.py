"""Copy benchmark: 8192 x 8192 RGBA8 (256 MiB).

host -> image and image -> host, image <-> CuPy array, with imagearray (``ia.copy``)
beside CuPy's own ``cupy.cuda.texture.CUDAarray.copy_from/copy_to`` (same CUDA array
layout, given the current stream so both are asynchronous) and plain
``cupy.ndarray.set/get`` of the same bytes, all in one process. Every path is checked
to move the right bytes before it is timed. Target (issue 3): imagearray >= 0.95x
CuPy's texture module for each copy.
"""

from __future__ import annotations

import numpy

from benchmarks._util import Row, measure, require_gpu, target_line

SIZE = 8192
TEXTURE = "cupy texture"
CASES = ("host -> image", "image -> host", "cupy array -> image", "image -> cupy array")


def run() -> list[Row]:
    require_gpu()
    import cupy
    from cupy.cuda import runtime, texture

    import imagearray as ia

    h = w = SIZE
    nbytes = h * w * 4
    host = numpy.random.default_rng(0).integers(0, 256, (h, w, 4), dtype=numpy.uint8)
    host_out = numpy.empty_like(host)
    dev = cupy.asarray(host)
    dev_out = cupy.empty_like(dev)

    img = ia.empty((h, w, 4), numpy.uint8, 4, normalized=True)
    ch = texture.ChannelFormatDescriptor(8, 8, 8, 8, runtime.cudaChannelFormatKindUnsigned)
    cuarr = texture.CUDAarray(ch, w, h)
    # CUDAarray.copy_from/copy_to want (height, channels * width) for a 2D array.
    host_flat = host.reshape(h, w * 4)
    host_out_flat = host_out.reshape(h, w * 4)
    dev_flat = dev.reshape(h, w * 4)
    dev_out_flat = dev_out.reshape(h, w * 4)
    stream = cupy.cuda.get_current_stream()

    # Each path moves the right bytes (checked before timing, into cleared buffers).
    def check_host(put, get, what):
        host_out.fill(0)
        put()
        get()
        stream.synchronize()
        assert numpy.array_equal(host_out, host), what

    def check_dev(put, get, what):
        dev_out.fill(0)
        put()
        get()
        assert bool((dev_out == dev).all()), what

    check_host(lambda: ia.copy(host, img), lambda: ia.copy(img, host_out), "imagearray host")
    check_dev(lambda: ia.copy(dev, img), lambda: ia.copy(img, dev_out), "imagearray device")
    check_host(
        lambda: cuarr.copy_from(host_flat, stream),
        lambda: cuarr.copy_to(host_out_flat, stream),
        "cupy texture host",
    )
    check_dev(
        lambda: cuarr.copy_from(dev_flat, stream),
        lambda: cuarr.copy_to(dev_out_flat, stream),
        "cupy texture device",
    )

    cases = [
        (
            CASES[0],
            [
                ("imagearray", lambda: ia.copy(host, img)),
                (TEXTURE, lambda: cuarr.copy_from(host_flat, stream)),
                ("cupy ndarray.set", lambda: dev.set(host)),
            ],
        ),
        (
            CASES[1],
            [
                ("imagearray", lambda: ia.copy(img, host_out)),
                (TEXTURE, lambda: cuarr.copy_to(host_out_flat, stream)),
                ("cupy ndarray.get", lambda: dev.get(out=host_out)),
            ],
        ),
        (
            CASES[2],
            [
                ("imagearray", lambda: ia.copy(dev, img)),
                (TEXTURE, lambda: cuarr.copy_from(dev_flat, stream)),
                ("cupy d2d copy", lambda: cupy.copyto(dev_out, dev)),
            ],
        ),
        (
            CASES[3],
            [
                ("imagearray", lambda: ia.copy(img, dev_out)),
                (TEXTURE, lambda: cuarr.copy_to(dev_out_flat, stream)),
            ],
        ),
    ]
    rows = []
    for case, impls in cases:
        for impl, fn in impls:
            rows.append(measure(case, impl, fn, nbytes))
    return rows


def targets(rows: list[Row]) -> list[str]:
    """Issue 3: imagearray >= 0.95x CuPy's texture module for every copy."""
    return [target_line(rows, case, TEXTURE, 0.95, "not slower than CuPy") for case in CASES]


if __name__ == "__main__":
    import sys

    from benchmarks.__main__ import main

    sys.exit(main(["copy"]))
