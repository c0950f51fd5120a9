"""Interop on a GPU: exportable memory, imports, semaphores, and a real Vulkan peer.

Markers: every test is ``gpu``; those that use Vulkan are also ``vulkan`` and skip
with the reason when the ``vulkan`` package or a Vulkan driver is missing
(``IMAGEARRAY_REQUIRE_VULKAN=1`` turns that skip into a failure). Data are random
or hashed bit patterns compared as bytes, so every texel and byte is checked exactly.

Image extents are in texture order (x = width); host arrays in NumPy order (rows
first), as everywhere in imagearray.
"""

from __future__ import annotations

import gc
import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import weakref

import numpy as np
import pytest
from _vulkan_peer import close_peer, get_peer

import imagearray as ia
from imagearray import interop as ext
from imagearray.interop import exportable as exp

pytestmark = pytest.mark.gpu
vulkan = pytest.mark.vulkan


# ----------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def peer():
    p = get_peer()
    yield p
    close_peer()


@pytest.fixture
def stream():
    import cupy

    s = cupy.cuda.Stream(non_blocking=True)
    yield s
    s.synchronize()


def is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def pattern(n: int, seed: int) -> np.ndarray:
    """``n`` uint32 hashes of the index (every byte differs from its neighbours)."""
    i = np.arange(n, dtype=np.uint64)
    return (((i + np.uint64(seed)) * np.uint64(2654435761)) & np.uint64(0xFFFFFFFF)).astype(
        np.uint32
    )


def from_external(memory, desc, **kwargs):
    # ImageArray.from_external once integrated; the module function meanwhile.
    fn = getattr(ia.ImageArray, "from_external", None)
    if fn is None:
        return ia.ImageArray.from_external(memory, desc, **kwargs)
    return fn(memory, desc, **kwargs)


def vk_mem_desc(vi):
    """The ExternalMemDescriptor of a Vulkan image's dedicated exported allocation."""
    return ext.ExternalMemDescriptor(ext.ResourceFD(vi.fd), vi.size, dedicated=True)


def import_fd(fd, size, handle_type="opaque_fd", dedicated=False):
    return ext.import_external_memory(
        ext.ExternalMemDescriptor(ext.ResourceFD(fd), size, handle_type, dedicated)
    )


_SURF = r"""
extern "C" __global__ void write32(unsigned long long surf, const unsigned int *src,
                                   int w, int h) {
  int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x < w && y < h) surf2Dwrite(src[y * w + x], (cudaSurfaceObject_t)surf, x * 4, y);
}
extern "C" __global__ void read32(unsigned long long surf, unsigned int *dst, int w, int h) {
  int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x < w && y < h) {
    unsigned int v;
    surf2Dread(&v, (cudaSurfaceObject_t)surf, x * 4, y);
    dst[y * w + x] = v;
  }
}
"""


def _surf_kernel(name):
    import cupy

    return cupy.RawModule(code=_SURF).get_function(name)


def _grid(w, h):
    return ((w + 15) // 16, (h + 15) // 16), (16, 16)


# 4-byte texel formats: read and written as raw 32-bit words through a surface.
FORMATS32 = [("r", "unsigned_int32"), ("r", "fp32"), ("rgba", "unsigned_int8")]


# ----------------------------------------------------------------------------- export (no Vulkan)


def test_exportable_memory_info_and_rounding():
    assert exp.exportable_memory_supported() is True
    assert ia.device_info("exportable_memory_supported") is True
    gran = exp.exportable_memory_granularity()
    assert gran > 0 and gran & (gran - 1) == 0
    with exp.alloc_exportable_memory(gran + 1) as mem:
        assert mem.size == 2 * gran and mem.requested_size == gran + 1
        assert mem.granularity == gran and mem.device.id == mem.device_id == 0 and mem.alive
        assert mem.ptr % gran == 0
        assert mem.to_cupy().nbytes == gran + 1
        assert mem.to_cupy(np.uint32, (mem.size // 4,)).nbytes == mem.size
    assert not mem.alive
    with pytest.raises(ia.ReleasedResourceError):
        _ = mem.ptr


def test_export_handle_is_a_new_fd_each_time():
    with exp.alloc_exportable_memory(1 << 20) as mem:
        fds = [exp.export_memory_handle(mem) for _ in range(3)]
        try:
            assert len(set(fds)) == 3 and all(is_open(fd) for fd in fds)
        finally:
            for fd in fds:
                os.close(fd)  # ours: export_memory_handle hands over ownership


def test_exported_memory_imported_in_the_same_process():
    import cupy

    with exp.alloc_exportable_memory(3 << 20) as src:
        a = src.to_cupy(np.uint32)
        a[:] = cupy.asarray(pattern(a.size, 1))
        cupy.cuda.Device().synchronize()
        res = ext.ResourceFD(exp.export_memory_handle(src))
        mem = ext.import_external_memory(ext.ExternalMemDescriptor(res, src.size))
        assert res.consumed  # CUDA owns the fd now
        with mem:
            b = ext.map_external_linear_memory(mem, 0, src.requested_size, dtype=np.uint32)
            np.testing.assert_array_equal(b.get(), pattern(a.size, 1))
            b[::7] = 5  # written through the import, seen through the export
            cupy.cuda.Device().synchronize()
            expect = pattern(a.size, 1)
            expect[::7] = 5
            np.testing.assert_array_equal(a.get(), expect)
            del b
        with pytest.raises(ia.ImageArrayValueError, match="already imported"):
            ext.import_external_memory(ext.ExternalMemDescriptor(res, src.size))


def test_exportable_memory_backs_1d_and_2d_usm_images():
    import cupy

    src = r"""
    extern "C" __global__ void read_usm(ia::sampled_image_handle lin,
                                        ia::sampled_image_handle pitched,
                                        float *out1, float *out2, int n, int w, int h) {
      int i = blockIdx.x * blockDim.x + threadIdx.x;
      if (i < n) out1[i] = ia::fetch_image<float>(lin, i);
      if (i < w * h) {
        int x = i % w, y = i / w;
        out2[i] = ia::sample_image<float>(pitched, make_float2(x + 0.5f, y + 0.5f));
      }
    }
    """
    mod = cupy.RawModule(
        code=ia.kernel_preamble() + src, options=("-std=c++17", "-I" + ia.get_include())
    )
    align = ia.device_info("image_row_pitch_align")
    w, h, n = 37, 21, 1000
    pitch = -(-w * 4 // align) * align
    rng = np.random.default_rng(3)
    with exp.alloc_exportable_memory(n * 4) as m1, exp.alloc_exportable_memory(pitch * h) as m2:
        lin = m1.to_cupy(np.float32, (n,))
        img = m2.to_cupy(np.float32, (h, w), (pitch, 4))
        d1 = rng.standard_normal(n).astype(np.float32)
        d2 = rng.standard_normal((h, w)).astype(np.float32)
        lin[:] = cupy.asarray(d1)
        img[...] = cupy.asarray(d2)
        out1 = cupy.zeros(n, np.float32)
        out2 = cupy.zeros((h, w), np.float32)
        with (
            ia.create_image(lin, sampler=ia.Sampler()) as t1,
            ia.create_image(img, sampler=ia.Sampler("clamp_to_edge")) as t2,
        ):
            mod.get_function("read_usm")(
                (4,), (256,), (t1, t2, out1, out2, np.int32(n), np.int32(w), np.int32(h))
            )
            np.testing.assert_array_equal(out1.get(), d1)
            np.testing.assert_array_equal(out2.get(), d2)


def test_free_with_live_views_is_deferred_and_once():
    import cupy

    mem = exp.alloc_exportable_memory(1 << 20)
    arr = mem.to_cupy(np.uint8)
    view = arr[100:200]
    exp.free_exportable_memory(mem)
    assert not mem.alive and "unmapped when its 1 CuPy view" in repr(mem)
    with pytest.raises(ia.ReleasedResourceError):
        exp.free_exportable_memory(mem)
    with pytest.raises(ia.ReleasedResourceError, match="cannot export"):
        exp.export_memory_handle(mem)
    view[:] = 9  # still mapped: the views hold it
    cupy.cuda.Device().synchronize()
    assert int(arr[150].get()) == 9
    alloc = mem._alloc
    del arr, view
    gc.collect()
    assert alloc.destroyed and alloc.views == 0


_CHILD = textwrap.dedent(
    """
    import json, socket, sys
    import numpy as np
    import cupy
    from imagearray import interop as ext

    sock = socket.socket(fileno=int(sys.argv[1]))
    msg, fds, _, _ = socket.recv_fds(sock, 64, 1)
    size, nbytes = map(int, msg.decode().split())
    mem = ext.import_external_memory(ext.ExternalMemDescriptor(ext.ResourceFD(fds[0]), size))
    arr = ext.map_external_linear_memory(mem, 0, nbytes, dtype=np.uint32)
    seen = arr.get()
    print(json.dumps({"n": int(seen.size), "crc": int(np.bitwise_xor.reduce(seen)),
                      "first": int(seen[0]), "last": int(seen[-1])}), flush=True)
    arr[:1024] = 0xBEEF
    cupy.cuda.Device().synchronize()
    sock.sendall(b"written")
    sock.recv(16)
    del arr
    mem.release()
    """
)


def test_two_processes_share_memory_over_a_unix_socket():
    import cupy

    parent, child = socket.socketpair()
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(child.fileno())],
        pass_fds=(child.fileno(),),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    child.close()
    try:
        with exp.alloc_exportable_memory(8 << 20) as mem:
            a = mem.to_cupy(np.uint32)
            data = pattern(a.size, 7)
            a[:] = cupy.asarray(data)
            cupy.cuda.Device().synchronize()
            fd = exp.export_memory_handle(mem)
            try:
                socket.send_fds(parent, [f"{mem.size} {mem.requested_size}".encode()], [fd])
            finally:
                os.close(fd)  # send_fds gave the child its own copy; ours is still ours
            parent.settimeout(120)
            if parent.recv(16) != b"written":
                out, err = proc.communicate(timeout=60)
                pytest.fail(f"the importing process failed (rc {proc.returncode}):\n{err}")
            got = a.get()
            np.testing.assert_array_equal(got[:1024], np.full(1024, 0xBEEF, np.uint32))
            np.testing.assert_array_equal(got[1024:], data[1024:])
            parent.sendall(b"done")
            out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        seen = json.loads(out.strip().splitlines()[-1])
        assert seen == {
            "n": data.size,
            "crc": int(np.bitwise_xor.reduce(data)),
            "first": int(data[0]),
            "last": int(data[-1]),
        }
    finally:
        parent.close()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


# ------------------------------------------------------------------------ bad input (no Vulkan)


@pytest.mark.parametrize("kind", ["pipe", "file", "devnull"])
def test_bogus_fds_are_cuda_errors_and_stay_open(kind, tmp_path):
    if kind == "pipe":
        fd, w = os.pipe()
        os.close(w)
    elif kind == "file":
        path = tmp_path / "not-memory"
        path.write_bytes(b"\0" * 8192)
        fd = os.open(path, os.O_RDWR)
    else:
        fd = os.open(os.devnull, os.O_RDWR)
    try:
        res = ext.ResourceFD(fd)
        with pytest.raises(ia.CUDAError, match=f"file descriptor {fd} is still yours"):
            ext.import_external_memory(ext.ExternalMemDescriptor(res, 1 << 20))
        assert is_open(fd) and not res.consumed
        with pytest.raises(ia.CUDAError, match="still yours"):
            ext.import_external_semaphore(ext.ExternalSemaphoreDescriptor(res, "timeline_fd"))
        with pytest.raises(ia.CUDAError, match="still yours"):
            ext.import_external_semaphore(ext.ExternalSemaphoreDescriptor(res))
        assert is_open(fd) and not res.consumed
    finally:
        os.close(fd)


def test_closed_fd_is_refused():
    with exp.alloc_exportable_memory(1 << 20) as mem:
        fd = exp.export_memory_handle(mem)
        os.close(fd)
        with pytest.raises(ia.ImageArrayValueError, match="is not open"):
            import_fd(fd, mem.size)


def test_import_larger_than_the_export_is_an_error():
    with exp.alloc_exportable_memory(2 << 20) as src:
        fd = exp.export_memory_handle(src)
        res = ext.ResourceFD(fd)
        try:
            mem = ext.import_external_memory(ext.ExternalMemDescriptor(res, 2 * src.size))
        except ia.CUDAError as exc:
            assert "still yours" in str(exc)
            assert is_open(fd) and not res.consumed
            os.close(fd)
            return
        # The driver took the import: then mapping the bytes that do not exist must fail.
        with mem, pytest.raises(ia.CUDAError):
            ext.map_external_linear_memory(mem)


def test_dma_buf_import_where_the_driver_allows():
    import cupy
    from cuda.bindings import driver as cu

    attr = cu.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_DMA_BUF_SUPPORTED
    err, supported = cu.cuDeviceGetAttribute(attr, 0)
    if err != cu.CUresult.CUDA_SUCCESS or not supported:
        pytest.skip("this device/driver has no dma-buf support")
    with exp.alloc_exportable_memory(2 << 20) as src:
        a = src.to_cupy(np.uint32, (src.size // 4,))
        a[:] = cupy.asarray(pattern(a.size, 11))
        cupy.cuda.Device().synchronize()
        kind = cu.CUmemRangeHandleType.CU_MEM_RANGE_HANDLE_TYPE_DMA_BUF_FD
        err, fd = cu.cuMemGetHandleForAddressRange(src.ptr, src.size, kind, 0)
        if err != cu.CUresult.CUDA_SUCCESS:
            pytest.skip(f"the driver exports no dma-buf for device memory ({err.name})")
        fd = int(fd)
        try:
            mem = import_fd(fd, src.size, "dma_buf")
        except ia.CUDAError as exc:
            assert is_open(fd)
            os.close(fd)
            pytest.skip(f"the driver does not import dma-bufs here: {exc}")
        with mem:
            b = ext.map_external_linear_memory(mem, dtype=np.uint32)
            np.testing.assert_array_equal(b.get(), pattern(a.size, 11))
            del b


def test_release_with_a_live_linear_mapping_is_deferred():
    import cupy

    with exp.alloc_exportable_memory(1 << 20) as src:
        mem = import_fd(exp.export_memory_handle(src), src.size)
        arr = ext.map_external_linear_memory(mem, 4096, 8192, dtype=np.uint16)
        assert mem.mappings == 1
        ext.release_external_memory(mem)
        assert not mem.alive and "destroyed when its 1 mapping" in repr(mem)
        with pytest.raises(ia.ReleasedResourceError):
            ext.map_external_linear_memory(mem)
        arr[:] = 3  # the mapping keeps the import alive
        cupy.cuda.Device().synchronize()
        assert int(src.to_cupy(np.uint16)[2048].get()) == 3
        res = mem._res
        del arr
        gc.collect()
        assert res.mappings == 0 and res.destroyed


# ----------------------------------------------------------------------------- Vulkan: memory


@vulkan
def test_vulkan_buffer_mapped_as_cupy_array(peer):
    import cupy

    n = (4 << 20) + 12  # a buffer that is not a whole number of pages
    vb = peer.export_buffer(n)
    assert vb.size >= n  # the allocation, as vkGetBufferMemoryRequirements sized it
    res = ext.ResourceFD(vb.fd)
    mem = ext.import_external_memory(ext.ExternalMemDescriptor(res, vb.size))
    assert res.consumed
    with mem:
        # The whole allocation is mapped (cuExternalMemoryGetMappedBuffer wants offset
        # and size aligned as the exporter's allocation is); the array views its start.
        whole = ext.map_external_linear_memory(mem, 0, vb.size, dtype=np.uint8)
        arr = whole[:n].view(np.uint32)
        arr[:] = cupy.arange(n // 4, dtype=cupy.uint32) * cupy.uint32(2654435761)
        cupy.cuda.Device().synchronize()
        assert peer.read_buffer(vb, n) == pattern(n // 4, 0).tobytes()
        # and the other way: Vulkan writes, the CuPy array sees it
        back = pattern(n // 4, 99)
        peer.write_buffer(vb, back.tobytes())
        np.testing.assert_array_equal(arr.get(), back)
        del arr, whole


@vulkan
@pytest.mark.parametrize("order, ctype", FORMATS32)
def test_vulkan_image_written_by_cupy_through_a_surface(peer, order, ctype):
    import cupy

    w, h = 61, 37
    vi = peer.export_image(w, h, order, ctype)
    desc = ia.ImageDescriptor(w, h, channel_order=order, channel_type=ctype)
    img = from_external(vk_mem_desc(vi), desc)
    data = pattern(w * h, 5)
    with ia.create_image(img) as surf:
        _surf_kernel("write32")(*_grid(w, h), (surf, cupy.asarray(data), np.int32(w), np.int32(h)))
        cupy.cuda.Device().synchronize()
    assert peer.read_image(vi) == data.tobytes()
    img.free()


@vulkan
@pytest.mark.parametrize("order, ctype", FORMATS32)
def test_vulkan_image_read_by_cupy_and_copy(peer, order, ctype):
    import cupy

    w, h = 45, 29
    vi = peer.export_image(w, h, order, ctype)
    data = pattern(w * h, 17)
    peer.write_image(vi, data.tobytes())
    desc = ia.ImageDescriptor(w, h, channel_order=order, channel_type=ctype)
    img = from_external(vk_mem_desc(vi), desc)
    out = cupy.zeros(w * h, cupy.uint32)
    with ia.create_image(img) as surf:
        _surf_kernel("read32")(*_grid(w, h), (surf, out, np.int32(w), np.int32(h)))
        np.testing.assert_array_equal(out.get(), data)
    # copy (ImageArray.get goes through ia.copy) sees the same bytes
    assert img.get().tobytes() == data.tobytes()
    # and a copy into the image is what Vulkan reads back
    new = np.frombuffer(pattern(w * h, 23).tobytes(), dtype=img.dtype).reshape(img.shape)
    img.set(new)
    cupy.cuda.Device().synchronize()
    assert peer.read_image(vi) == new.tobytes()
    img.free()


@vulkan
def test_vulkan_rgba_fp32_image_round_trip_by_copy(peer):
    w, h = 33, 17
    vi = peer.export_image(w, h, "rgba", "fp32")
    rng = np.random.default_rng(8)
    data = rng.standard_normal((h, w, 4)).astype(np.float32)
    peer.write_image(vi, data.tobytes())
    desc = ia.ImageDescriptor(w, h, channel_order="rgba", channel_type="fp32")
    img = from_external(vk_mem_desc(vi), desc)
    np.testing.assert_array_equal(img.get(), data)
    img.free()


@vulkan
def test_vulkan_mipmap_image_levels(peer):
    import cupy

    w, h, levels = 40, 24, 3
    vi = peer.export_image(w, h, "r", "unsigned_int32", levels)
    desc = ia.ImageDescriptor(w, h, 0, "r", "unsigned_int32", "mipmap", levels)
    datas = []
    for lv in range(levels):
        lw, lh = vi.level_extent(lv)
        datas.append(pattern(lw * lh, 100 + lv).reshape(lh, lw))
        peer.write_image(vi, datas[-1].tobytes(), lv)
    img = from_external(vk_mem_desc(vi), desc)
    for lv in range(levels):
        np.testing.assert_array_equal(img.mip(lv).get(), datas[lv])
    for lv in range(levels):
        lw, lh = vi.level_extent(lv)
        new = pattern(lw * lh, 200 + lv).reshape(lh, lw)
        img.mip(lv).set(new)
        cupy.cuda.Device().synchronize()
        assert peer.read_image(vi, lv) == new.tobytes()
    img.free()


@vulkan
def test_mapped_handle_with_create_image_copy_and_free_image_mem(peer):
    from imagearray import _memory

    if not hasattr(_memory, "wrap_array"):
        pytest.skip("needs imagearray._memory.wrap_array (mapped handles as ArrayHandle)")
    import cupy

    w, h = 50, 30
    vi = peer.export_image(w, h, "r", "unsigned_int32")
    desc = ia.ImageDescriptor(w, h, channel_order="r", channel_type="unsigned_int32")
    mem = import_fd(vi.fd, vi.size, dedicated=True)
    handle = ext.map_external_image_memory(mem, desc)
    assert isinstance(handle, _memory.ArrayHandle) and handle.desc == desc
    assert ia.get_image_range(handle) == (w, h, 0)
    ref = weakref.ref(mem._res)
    del mem  # the mapping keeps the import alive
    gc.collect()
    assert ref() is not None
    data = pattern(w * h, 31).reshape(h, w)
    ia.copy(data, handle)
    out = cupy.zeros(w * h, cupy.uint32)
    with ia.create_image(handle, desc) as surf:
        _surf_kernel("read32")(*_grid(w, h), (surf, out, np.int32(w), np.int32(h)))
        np.testing.assert_array_equal(out.get().reshape(h, w), data)
    assert peer.read_image(vi) == data.tobytes()
    ia.free_image_mem(handle)
    with pytest.raises(ia.ReleasedResourceError):
        ia.free_image_mem(handle)
    gc.collect()
    assert ref() is None  # unmapped, then the import went with it


# ----------------------------------------------------------------------------- Vulkan: export


@vulkan
def test_imagearray_export_read_by_vulkan(peer):
    import cupy

    mem = exp.alloc_exportable_memory((3 << 20) + 40)
    a = mem.to_cupy(np.uint32, (mem.requested_size // 4,))
    a[:] = cupy.arange(a.size, dtype=cupy.uint32) * cupy.uint32(2654435761) + cupy.uint32(3)
    cupy.cuda.Device().synchronize()
    fd = exp.export_memory_handle(mem)
    try:
        vb = peer.import_buffer(fd, mem.size)
    except BaseException:
        os.close(fd)  # Vulkan owns it only after a successful import
        raise
    assert peer.read_buffer(vb, a.nbytes) == (pattern(a.size, 0) + np.uint32(3)).tobytes()
    back = pattern(a.size, 4)
    peer.write_buffer(vb, back.tobytes())
    np.testing.assert_array_equal(a.get(), back)
    del a
    mem.free()


# ----------------------------------------------------------------------------- Vulkan: semaphores


@vulkan
def test_timeline_semaphore_orders_cuda_after_vulkan(peer, stream):
    import cupy

    vs = peer.export_semaphore(timeline=True)
    sem = ext.import_external_semaphore(
        ext.ExternalSemaphoreDescriptor(ext.ResourceFD(vs.fd), "timeline_fd")
    )
    assert sem.is_timeline and sem.alive
    # imagearray signals, Vulkan observes
    ext.signal_external_semaphore(sem, 1, stream=stream)
    assert peer.wait_counter(vs, 1)
    assert peer.counter(vs) == 1
    # a stream waiting on 3 does not run before Vulkan signals 3
    flag = cupy.zeros(1, cupy.uint32)
    cupy.cuda.Device().synchronize()
    other = cupy.cuda.Stream(non_blocking=True)
    try:
        ext.wait_external_semaphore(sem, 3, stream=stream)
        with stream:
            flag += 1
        done = stream.record()
        time.sleep(0.3)
        assert not done.done
        peer.host_signal(vs, 2)  # not yet 3
        time.sleep(0.2)
        assert not done.done
        assert int(flag.get(stream=other)[0]) == 0
    finally:
        peer.host_signal(vs, 3)  # always release the stream
    stream.synchronize()
    assert int(flag.get()[0]) == 1
    # timeline values are required, binary-style calls refused
    with pytest.raises(ia.ImageArrayValueError, match="needs value="):
        ext.wait_external_semaphore(sem, stream=stream)
    ext.destroy_external_semaphore(sem)
    with pytest.raises(ia.ReleasedResourceError, match="already destroyed"):
        ext.wait_external_semaphore(sem, 4, stream=stream)
    with pytest.raises(ia.ReleasedResourceError):
        ext.destroy_external_semaphore(sem)


@vulkan
def test_binary_semaphores_both_ways(peer, stream):
    to_cuda = peer.export_semaphore()
    to_vk = peer.export_semaphore()
    with (
        ext.import_external_semaphore(
            ext.ExternalSemaphoreDescriptor(ext.ResourceFD(to_cuda.fd))
        ) as s_in,
        ext.import_external_semaphore(
            ext.ExternalSemaphoreDescriptor(ext.ResourceFD(to_vk.fd), "opaque_fd")
        ) as s_out,
    ):
        assert not s_in.is_timeline
        with pytest.raises(ia.ImageArrayValueError, match="binary semaphore has no counter"):
            ext.wait_external_semaphore(s_in, 1, stream=stream)
        vb = peer.export_buffer(1 << 16)
        mem = import_fd(vb.fd, vb.size)
        arr = ext.map_external_linear_memory(mem, 0, 1 << 16, dtype=np.uint32)
        data = pattern(arr.size, 41)
        peer.write_buffer(vb, data.tobytes())
        peer.submit(None, signal=[(to_cuda, None)])  # Vulkan signals
        ext.wait_external_semaphore(s_in, stream=stream)  # CUDA waits, then doubles
        with stream:
            arr *= 2
        ext.signal_external_semaphore(s_out, stream=stream)  # CUDA signals
        peer.submit(None, wait=[(to_vk, None)])  # Vulkan waits on CUDA's signal
        got = peer.read_buffer(vb, arr.nbytes)
        np.testing.assert_array_equal(np.frombuffer(got, np.uint32), data * np.uint32(2))
        stream.synchronize()
        del arr
        mem.release()
    assert not s_in.alive and not s_out.alive


_SPEC_KERNEL = r"""
extern "C" __global__ void times_ten(ia::unsampled_image_handle img_input,
                                     ia::unsampled_image_handle img_output,
                                     int width, int height) {
  int dim0 = blockIdx.x * blockDim.x + threadIdx.x;
  int dim1 = blockIdx.y * blockDim.y + threadIdx.y;
  if (dim0 >= width || dim1 >= height) return;
  // Extension: read image data from handle to imported image
  unsigned int pixel = ia::fetch_image<unsigned int>(img_input, make_int2(dim0, dim1));
  // Modify the data before writing back
  pixel *= 10;
  // Extension: write image data using handle to imported image
  ia::write_image(img_output, make_int2(dim0, dim1), pixel);
}
"""


def _unsampled(handle, desc):
    # The spec's create_image(mapped_handle, desc); through an ImageArray until the
    # mapped handle is an ArrayHandle (imagearray._memory.wrap_array).
    from imagearray.memory import ImageMem, is_image_mem_handle

    if is_image_mem_handle(handle):
        return ia.create_image(handle, desc)
    return ia.create_image(ia.ImageArray.from_mem(ImageMem._from_handle(handle)))


@vulkan
def test_spec_example_imported_memory_and_semaphores(peer, stream):
    """The spec's "Using imported memory and semaphore objects", Vulkan producing."""
    import cupy

    width, height = 64, 48
    vk_in = peer.export_image(width, height, "r", "unsigned_int32")
    vk_out = peer.export_image(width, height, "r", "unsigned_int32")
    vk_wait = peer.export_semaphore()  # Vulkan signals it before our work may begin
    vk_done = peer.export_semaphore()  # we signal it; Vulkan waits on it
    desc = ia.ImageDescriptor(
        width, height, channel_order="r", channel_type="unsigned_int32"
    )  # mapped to the external API's image layout
    input_ext_mem_desc = vk_mem_desc(vk_in)
    output_ext_mem_desc = vk_mem_desc(vk_out)
    wait_external_semaphore_desc = ext.ExternalSemaphoreDescriptor(ext.ResourceFD(vk_wait.fd))
    done_external_semaphore_desc = ext.ExternalSemaphoreDescriptor(ext.ResourceFD(vk_done.fd))

    wait_sem = ext.import_external_semaphore(wait_external_semaphore_desc)
    done_sem = ext.import_external_semaphore(done_external_semaphore_desc)
    input_mem = ext.import_external_memory(input_ext_mem_desc)
    output_mem = ext.import_external_memory(output_ext_mem_desc)
    input_mapped = ext.map_external_image_memory(input_mem, desc)
    output_mapped = ext.map_external_image_memory(output_mem, desc)
    img_input = _unsampled(input_mapped, desc)
    img_output = _unsampled(output_mapped, desc)

    # the external producer: writes the input image, then signals vk_wait
    data = np.random.default_rng(12).integers(0, 2**28, (height, width), dtype=np.uint32)
    peer.write_image(vk_in, data.tobytes(), signal=[(vk_wait, None)])

    ext.wait_external_semaphore(wait_sem, stream=stream)
    kernel = cupy.RawModule(
        code=ia.kernel_preamble() + _SPEC_KERNEL,
        options=("-std=c++17", "-I" + ia.get_include()),
    ).get_function("times_ten")
    kernel(
        ((width + 31) // 32, (height + 31) // 32),
        (32, 32),
        (img_input, img_output, np.int32(width), np.int32(height)),
        stream=stream,
    )
    ext.signal_external_semaphore(done_sem, stream=stream)

    # the external consumer: waits on vk_done, then reads the output image
    got = peer.read_image(vk_out, wait=[(vk_done, None)])
    stream.synchronize()
    np.testing.assert_array_equal(np.frombuffer(got, np.uint32).reshape(height, width), data * 10)

    img_input.destroy()
    img_output.destroy()
    input_mapped.free()
    output_mapped.free()
    ext.release_external_memory(input_mem)
    ext.release_external_memory(output_mem)
    ext.destroy_external_semaphore(wait_sem)
    ext.destroy_external_semaphore(done_sem)


# ----------------------------------------------------------------------------- Vulkan: bad input


@vulkan
def test_vulkan_import_larger_than_the_export_is_an_error(peer):
    vb = peer.export_buffer(1 << 20)
    res = ext.ResourceFD(vb.fd)
    try:
        mem = ext.import_external_memory(ext.ExternalMemDescriptor(res, 4 * vb.size))
    except ia.CUDAError as exc:
        assert "still yours" in str(exc) and is_open(vb.fd) and not res.consumed
        os.close(vb.fd)
        return
    with mem, pytest.raises(ia.CUDAError):
        ext.map_external_linear_memory(mem)


@vulkan
def test_mapping_an_image_larger_than_the_import_is_refused(peer):
    vb = peer.export_buffer(64 << 10)
    with import_fd(vb.fd, vb.size) as mem:
        big = ia.ImageDescriptor(1024, 1024, channel_order="rgba", channel_type="fp32")
        with pytest.raises(ia.ImageArrayValueError, match="needs at least 16777216 bytes"):
            ext.map_external_image_memory(mem, big)
        with pytest.raises(ia.ImageArrayValueError, match="larger than the memory"):
            ext.map_external_linear_memory(mem, 0, vb.size + 1)
        assert mem.alive and mem.mappings == 0
        small = ext.map_external_linear_memory(mem, dtype=np.uint8)  # still usable
        assert small.nbytes == vb.size
        del small


@vulkan
def test_waiting_on_a_destroyed_semaphore(peer, stream):
    vs = peer.export_semaphore(timeline=True)
    sem = ext.import_external_semaphore(
        ext.ExternalSemaphoreDescriptor(ext.ResourceFD(vs.fd), "timeline_fd")
    )
    sem.destroy()
    with pytest.raises(ia.ReleasedResourceError, match="already destroyed"):
        ext.wait_external_semaphore(sem, 1, stream=stream)
    with pytest.raises(ia.ReleasedResourceError, match="already destroyed"):
        ext.signal_external_semaphore(sem, 1, stream=stream)
    with pytest.raises(ia.ReleasedResourceError):
        _ = sem.raw_handle
