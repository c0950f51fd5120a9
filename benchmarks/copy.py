"""Copy benchmark: 8192 x 8192 RGBA8 (256 MiB).

host -> image and image -> host, image <-> CuPy array, with imagearray (``ia.copy``)
beside CuPy's own ``cupy.cuda.texture.CUDAarray.copy_from/copy_to`` (same CUDA array
layout, given the current stream so both are asynchronous) and plain
``cupy.ndarray.set/get`` of the same bytes, all in one process.
"""

from __future__ import annotations

import numpy

from benchmarks._util import Row, measure

SIZE = 8192


def run() -> list[Row]:
    import cupy
    from cupy.cuda import runtime, texture

    import imagearray as ia

    h = w = SIZE
    nbytes = h * w * 4
    host = numpy.random.default_rng(0).integers(0, 256, (h, w, 4), dtype=numpy.uint8)
    host_out = numpy.empty_like(host)
    dev = cupy.asarray(host)
    dev_out = cupy.empty_like(dev)

    img = ia.empty((h, w), numpy.uint8, 4, normalized=True)
    ch = texture.ChannelFormatDescriptor(8, 8, 8, 8, runtime.cudaChannelFormatKindUnsigned)
    cuarr = texture.CUDAarray(ch, w, h)
    host_flat = host.reshape(h, w * 4)
    host_out_flat = host_out.reshape(h, w * 4)
    dev_flat = dev.reshape(h, w * 4)
    dev_out_flat = dev_out.reshape(h, w * 4)
    stream = cupy.cuda.get_current_stream()

    rows = []
    cases = [
        (
            "host -> image",
            [
                ("imagearray", lambda: ia.copy(host, img)),
                ("cupy texture", lambda: cuarr.copy_from(host_flat, stream)),
                ("cupy ndarray.set", lambda: dev.set(host)),
            ],
        ),
        (
            "image -> host",
            [
                ("imagearray", lambda: ia.copy(img, host_out)),
                ("cupy texture", lambda: cuarr.copy_to(host_out_flat, stream)),
                ("cupy ndarray.get", lambda: dev.get(out=host_out)),
            ],
        ),
        (
            "cupy array -> image",
            [
                ("imagearray", lambda: ia.copy(dev, img)),
                ("cupy texture", lambda: cuarr.copy_from(dev_flat, stream)),
                ("cupy d2d copy", lambda: cupy.copyto(dev_out, dev)),
            ],
        ),
        (
            "image -> cupy array",
            [
                ("imagearray", lambda: ia.copy(img, dev_out)),
                ("cupy texture", lambda: cuarr.copy_to(dev_out_flat, stream)),
            ],
        ),
    ]
    for case, impls in cases:
        for impl, fn in impls:
            rows.append(measure(case, impl, fn, nbytes))
    # correctness of what was timed: the last copies left equal bytes everywhere
    ia.copy(host, img)
    ia.copy(img, host_out).synchronize()
    assert numpy.array_equal(host_out, host)
    return rows
