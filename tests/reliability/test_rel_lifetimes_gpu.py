"""Lifetimes (issue 20, "What to build" 1): create/destroy cycles of every resource,
explicit and dropped to the GC, with device memory (cudaMemGetInfo), RSS, open fds
and live imagearray objects measured before and after (thresholds in ``_rel``); and
use-after-free / double free of each handle kind raise, never crash.

Counts: ``cheap`` cycles (textures, surfaces, samplers' texture recipes, host
registrations of small ranges) and ``alloc`` cycles (image memory of every type,
pitched USM, exportable and imported memory): small by default, 100,000 and 20,000
with ``IMAGEARRAY_RELIABILITY_FULL=1`` (tools/reliability.sh).
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from _rel import check_growth, count, record, snapshot

import imagearray as ia
from imagearray.interop import exportable as exp

pytestmark = pytest.mark.gpu

N_CHEAP = count("cheap", 1000, 100_000)
N_ALLOC = count("alloc", 600, 20_000)
D2 = ia.ImageDescriptor(64, 64)


def _cycles(name: str, n: int, one) -> None:
    """``one(i)`` n times (even i: released explicitly, odd i: dropped to the GC),
    after a warm-up round; the thresholds checked and the figures recorded."""
    for i in range(min(50, n)):
        one(i)
    before = snapshot()
    t0 = time.perf_counter()
    for i in range(n):
        one(i)
    seconds = time.perf_counter() - t0
    after = snapshot()
    growth = check_growth(before, after, name)
    record(
        "lifetime",
        resource=name,
        cycles=n,
        seconds=round(seconds, 2),
        before=before,
        after=after,
        growth=growth,
    )


# ------------------------------------------------------------------ cheap resources
@pytest.fixture(scope="module")
def mem():
    m = ia.ImageMem(D2)
    yield m
    m.free()


def test_texture_handles(mem):
    sampler = ia.Sampler("clamp_to_edge", "unnormalized", "linear")

    def one(i):
        h = ia.create_image(mem, D2, sampler)
        assert isinstance(h, ia.SampledImageHandle)
        if i % 2 == 0:
            h.destroy()

    _cycles("texture handle", N_CHEAP, one)


def test_surface_handles(mem):
    def one(i):
        h = ia.create_image(mem, D2)
        if i % 2 == 0:
            ia.destroy_image_handle(h)

    _cycles("surface handle", N_CHEAP, one)


def test_sampler_recipes(mem):
    # a new Sampler object each cycle: a new texture recipe (memo keyed by id) each time
    def one(i):
        s = ia.Sampler("repeat", "normalized", "nearest", max_mipmap_level_clamp=float(i % 7))
        h = ia.create_image(mem, D2, s)
        if i % 2 == 0:
            h.destroy()

    _cycles("sampler recipe", N_CHEAP, one)


def test_host_registrations_of_small_ranges():
    bufs = [np.zeros(4096 + 64, np.uint8) for _ in range(4)]  # each its own pages

    def one(i):
        b = bufs[i % 4][64 * (i % 8) : 64 * (i % 8) + 512]  # small, varying ranges
        if i % 2 == 0:
            ia.prepare_for_device_copy(b)
            ia.release_from_device_copy(b)
        else:
            with ia.prepared_for_device_copy(b):
                pass

    _cycles("host registration", N_CHEAP, one)
    assert not ia.prepared_host_ranges()


# ------------------------------------------------------------------ allocations
IMAGE_TYPES = {
    "1D": ia.ImageDescriptor(256),
    "2D": ia.ImageDescriptor(64, 64, channel_order="rgba", channel_type="unorm_int8"),
    "3D": ia.ImageDescriptor(16, 16, 16),
    "mipmap": ia.ImageDescriptor(64, 64, type="mipmap", num_levels=4),
    "layered": ia.ImageDescriptor(32, 32, type="array", array_size=4),
    "cubemap": ia.ImageDescriptor(16, 16, type="cubemap", array_size=6),
}


@pytest.mark.parametrize("kind", list(IMAGE_TYPES))
def test_image_memory(kind):
    desc = IMAGE_TYPES[kind]

    def one(i):
        m = ia.ImageMem(desc)
        if i % 2 == 0:
            m.free()

    _cycles(f"image memory {kind}", N_ALLOC, one)


def test_pitched_usm():
    # a CuPy array from CuPy's pool: released when dropped (its pool is emptied
    # before each snapshot, so cudaMemGetInfo sees only what is still held)
    def one(i):
        desc = ia.ImageDescriptor(64 + i % 5, 64)
        arr, pitch = ia.pitched_alloc_device(desc)
        assert pitch >= desc.width * 4 and arr.strides[0] == pitch
        if i % 2 == 0:  # and a texture over it, made and destroyed
            ia.create_image(arr, desc, ia.Sampler()).destroy()

    _cycles("pitched USM", N_ALLOC, one)


def _exportable_or_skip():
    if not exp.exportable_memory_supported():
        pytest.skip("this device/driver cannot allocate exportable (POSIX fd) memory")
    return exp.exportable_memory_granularity()


def test_exportable_memory():
    gran = _exportable_or_skip()

    def one(i):
        m = exp.alloc_exportable_memory(gran)
        if i % 2 == 0:
            exp.free_exportable_memory(m)

    _cycles("exportable memory", N_ALLOC, one)


def test_imported_memory():
    gran = _exportable_or_skip()
    from imagearray import interop as ext

    src = exp.alloc_exportable_memory(gran)
    try:

        def one(i):
            fd = exp.export_memory_handle(src)
            res = ext.ResourceFD(fd)
            imp = ext.import_external_memory(ext.ExternalMemDescriptor(res, src.size))
            if i % 2 == 0:
                ext.release_external_memory(imp)
            else:
                del imp  # dropped: released by the GC
            if not res.consumed:  # pragma: no cover - CUDA takes the fd on success
                os.close(fd)

        _cycles("imported memory", N_ALLOC, one)
    finally:
        src.free()


# ------------------------------------------------------------------ after free
def test_use_after_free_raises_and_double_free_raises():
    import cupy

    img = ia.asimage(np.arange(64, dtype=np.float32).reshape(8, 8))
    tex = ia.create_image(img, sampler=ia.Sampler())
    surf = ia.create_image(img)
    tex.destroy()
    surf.destroy()
    for h in (tex, surf):
        with pytest.raises(ia.ReleasedResourceError):
            _ = h.raw_handle
        with pytest.raises(ia.ReleasedResourceError):
            h.destroy()  # second destroy: raises
    img.free()
    with pytest.raises(ia.ReleasedResourceError):
        img.sample(cupy.zeros((1, 2), cupy.float32))
    with pytest.raises(ia.ReleasedResourceError):
        img.get()
    with pytest.raises(ia.ReleasedResourceError):
        ia.create_image(img, sampler=ia.Sampler())
    with pytest.raises(ia.ReleasedResourceError):
        img.free()
    m = ia.ImageMem(D2)
    h = ia.create_image(m, D2)
    with pytest.raises(ia.ImageArrayError):  # refused while a handle reads it
        m.free()
    h.destroy()
    m.free()
    for action in (
        m.free,
        lambda: ia.copy(np.zeros((64, 64), np.float32), m),
        lambda: ia.create_image(m, D2),
    ):
        with pytest.raises(ia.ReleasedResourceError):
            action()
    # the context is fine: a kernel still runs right
    np.testing.assert_array_equal(ia.asimage(np.eye(4, dtype=np.float32)).get(), np.eye(4))


def test_exportable_and_imported_after_free():
    gran = _exportable_or_skip()
    from imagearray import interop as ext

    m = exp.alloc_exportable_memory(gran)
    fd = exp.export_memory_handle(m)
    imp = ext.import_external_memory(ext.ExternalMemDescriptor(ext.ResourceFD(fd), m.size))
    m.free()
    with pytest.raises(ia.ReleasedResourceError):
        m.free()
    with pytest.raises(ia.ReleasedResourceError):
        exp.export_memory_handle(m)
    ext.release_external_memory(imp)
    with pytest.raises(ia.ReleasedResourceError):
        imp.release()
    with pytest.raises(ia.ReleasedResourceError):
        ext.map_external_linear_memory(imp, 0, gran)
