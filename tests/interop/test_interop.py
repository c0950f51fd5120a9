"""Interop without a GPU: descriptors, handle types, fd ownership bookkeeping, the
WIN32 refusal, argument errors, lease/free-once bookkeeping and CUDAUnavailableError.

Everything here runs before (or instead of) any CUDA call, so it holds on every
machine; the GPU and Vulkan halves are in ``test_interop_gpu.py``.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import imagearray as ia
from imagearray import _export as cy_export
from imagearray import _interop as cy_interop
from imagearray import interop as ext  # the public names; private ones where they live
from imagearray.interop import exportable as exp
from imagearray.interop import memory as ext_mem
from imagearray.interop import semaphores as ext_sem

MemType = ext.ExternalMemHandleType
SemType = ext.ExternalSemaphoreHandleType


@pytest.fixture
def open_fd():
    """An open fd that is not a CUDA memory object (the read end of a pipe)."""
    r, w = os.pipe()
    yield r
    for fd in (r, w):
        try:
            os.close(fd)
        except OSError:
            pass


@pytest.fixture
def closed_fd():
    r, w = os.pipe()
    os.close(r)
    os.close(w)
    return r


def is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


# ----------------------------------------------------------------------------- ResourceFD


def test_resource_fd_accepts_ints_and_starts_unconsumed():
    r = ext.ResourceFD(np.int32(5))
    assert r.file_descriptor == 5 and type(r.file_descriptor) is int
    assert r.consumed is False
    assert repr(r) == "ResourceFD(5)"


@pytest.mark.parametrize(
    "bad, exc",
    [
        (-1, ia.ImageArrayValueError),
        (True, ia.ImageArrayTypeError),
        (3.0, ia.ImageArrayTypeError),
        ("3", ia.ImageArrayTypeError),
        (None, ia.ImageArrayTypeError),
    ],
)
def test_resource_fd_rejects_non_fds(bad, exc):
    with pytest.raises(exc, match="file_descriptor"):
        ext.ResourceFD(bad)


def test_closed_fd_is_refused_before_cuda(closed_fd):
    desc = ext.ExternalMemDescriptor(ext.ResourceFD(closed_fd), 4096)
    with pytest.raises(ia.ImageArrayValueError, match=f"file descriptor {closed_fd} is not open"):
        ext.import_external_memory(desc)
    sdesc = ext.ExternalSemaphoreDescriptor(ext.ResourceFD(closed_fd))
    with pytest.raises(ia.ImageArrayValueError, match="is not open"):
        ext.import_external_semaphore(sdesc)


def test_consumed_fd_cannot_be_imported_again(open_fd):
    res = ext.ResourceFD(open_fd)
    res._consume()  # what a successful import does
    assert res.consumed and "consumed" in repr(res)
    with pytest.raises(ia.ImageArrayValueError, match="already imported: CUDA owns it"):
        ext.import_external_memory(ext.ExternalMemDescriptor(res, 4096))
    with pytest.raises(ia.ImageArrayValueError, match="already imported"):
        ext.import_external_semaphore(ext.ExternalSemaphoreDescriptor(res, "timeline_fd"))
    assert is_open(open_fd)  # imagearray never closes an fd


# ----------------------------------------------------------------------------- descriptors


def test_memory_descriptor_defaults_and_handle_types(open_fd):
    r = ext.ResourceFD(open_fd)
    d = ext.ExternalMemDescriptor(r, np.int64(1 << 20))
    assert d.handle_type is MemType.OPAQUE_FD and d.size_in_bytes == 1 << 20
    assert d.dedicated is False
    assert ext.ExternalMemDescriptor(r, 64, "dma_buf").handle_type is MemType.DMA_BUF
    assert ext.ExternalMemDescriptor(r, 64, "OPAQUE_FD").handle_type is MemType.OPAQUE_FD
    assert ext.ExternalMemDescriptor(r, 64, MemType.OPAQUE_FD, dedicated=True).dedicated
    # cuImportExternalMemory: a dma-buf import takes no flags, so it is never dedicated
    with pytest.raises(ia.ImageArrayValueError, match="dma_buf import cannot be dedicated"):
        ext.ExternalMemDescriptor(r, 64, MemType.DMA_BUF, dedicated=True)


def test_memory_descriptor_size_must_fit_64_bits(open_fd):
    r = ext.ResourceFD(open_fd)
    assert ext.ExternalMemDescriptor(r, 2**64 - 1).size_in_bytes == 2**64 - 1
    with pytest.raises(ia.ImageArrayValueError, match="does not fit 64 bits"):
        ext.ExternalMemDescriptor(r, 2**64)


@pytest.mark.parametrize("fd", [2**31, 2**40])
def test_resource_fd_beyond_a_c_int_is_refused(fd):
    # os.fstat and CUDA's handle.fd take a C int: such a number names no fd.
    with pytest.raises(ia.ImageArrayValueError, match="is not a file descriptor"):
        ext.ResourceFD(fd)
    assert ext.ResourceFD(2**31 - 1).file_descriptor == 2**31 - 1


@pytest.mark.parametrize(
    "size, exc",
    [(0, ia.ImageArrayValueError), (-8, ia.ImageArrayValueError), (True, ia.ImageArrayTypeError)],
)
def test_memory_descriptor_size_rules(size, exc):
    with pytest.raises(exc, match="size_in_bytes"):
        ext.ExternalMemDescriptor(ext.ResourceFD(3), size)


def test_memory_descriptor_type_errors():
    with pytest.raises(ia.ImageArrayTypeError, match="external_resource must be a ResourceFD"):
        ext.ExternalMemDescriptor(3, 64)
    with pytest.raises(ia.ImageArrayValueError, match="unknown ExternalMemHandleType 'vk'"):
        ext.ExternalMemDescriptor(ext.ResourceFD(3), 64, "vk")
    with pytest.raises(ia.ImageArrayTypeError, match="dedicated must be a bool"):
        ext.ExternalMemDescriptor(ext.ResourceFD(3), 64, dedicated="yes")


@pytest.mark.skipif(sys.platform == "win32", reason="the refusal is for non-Windows platforms")
def test_win32_memory_handles_are_refused_on_this_platform():
    with pytest.raises(ia.ImageArrayValueError, match="not available on this platform"):
        ext.ExternalMemDescriptor(ext.ResourceWin32Handle(0x1234), 64)
    with pytest.raises(ia.ImageArrayValueError, match="not available on this platform"):
        ext.ExternalMemDescriptor(ext.ResourceWin32Name("Local\\mem"), 64, "win32_nt")
    # a type that does not fit the resource is refused as such
    with pytest.raises(ia.ImageArrayValueError, match="does not fit a ResourceFD"):
        ext.ExternalMemDescriptor(ext.ResourceFD(3), 64, MemType.WIN32_NT)
    with pytest.raises(ia.ImageArrayValueError, match="does not fit a ResourceWin32Handle"):
        ext.ExternalMemDescriptor(ext.ResourceWin32Handle(1), 64, "opaque_fd")


def test_semaphore_descriptor_binary_and_timeline():
    r = ext.ResourceFD(3)
    b = ext.ExternalSemaphoreDescriptor(r)
    assert b.handle_type is SemType.OPAQUE_FD and not b.is_timeline
    t = ext.ExternalSemaphoreDescriptor(r, "timeline_fd")
    assert t.handle_type is SemType.TIMELINE_FD and t.is_timeline
    with pytest.raises(ia.ImageArrayValueError, match="unknown ExternalSemaphoreHandleType"):
        ext.ExternalSemaphoreDescriptor(r, "binary")
    with pytest.raises(ia.ImageArrayTypeError, match="external_resource"):
        ext.ExternalSemaphoreDescriptor("fd")


@pytest.mark.skipif(sys.platform == "win32", reason="the refusal is for non-Windows platforms")
@pytest.mark.parametrize("ht", ["win32_nt", "timeline_win32_nt"])
def test_win32_semaphores_are_refused_on_this_platform(ht):
    with pytest.raises(ia.ImageArrayValueError, match="not available on this platform"):
        ext.ExternalSemaphoreDescriptor(ext.ResourceWin32Handle(7), ht)
    with pytest.raises(ia.ImageArrayValueError, match="does not fit a ResourceFD"):
        ext.ExternalSemaphoreDescriptor(ext.ResourceFD(3), ht)


def test_import_functions_check_argument_types():
    with pytest.raises(ia.ImageArrayTypeError, match="ExternalMemDescriptor"):
        ext.import_external_memory(ext.ResourceFD(3))
    with pytest.raises(ia.ImageArrayTypeError, match="ExternalSemaphoreDescriptor"):
        ext.import_external_semaphore(ext.ExternalMemDescriptor(ext.ResourceFD(3), 8))
    with pytest.raises(ia.ImageArrayTypeError, match="takes an ExternalMemory"):
        ext.map_external_linear_memory(object())
    with pytest.raises(ia.ImageArrayTypeError, match="takes an ExternalMemory"):
        ext.map_external_image_memory("mem", ia.ImageDescriptor(4, 4))
    with pytest.raises(ia.ImageArrayTypeError, match="takes an ExternalMemory"):
        ext.release_external_memory(None)
    with pytest.raises(ia.ImageArrayTypeError, match="ExternalSemaphore"):
        ext.wait_external_semaphore(None)
    with pytest.raises(ia.ImageArrayTypeError, match="ExternalSemaphore"):
        ext.destroy_external_semaphore(3)
    with pytest.raises(ia.ImageArrayTypeError, match="ExternalMemory or an ExternalMemDescriptor"):
        ia.ImageArray.from_external(3, ia.ImageDescriptor(4, 4))


@pytest.mark.parametrize("cls", [ext.ExternalMemory, ext.ExternalSemaphore, exp.ExportableMemory])
def test_objects_are_not_built_directly(cls):
    with pytest.raises(ia.ImageArrayTypeError, match="use ia."):
        cls()


# ----------------------------------------------------------------------------- linear plans


def test_linear_plan_defaults_to_all_bytes():
    assert ext.plan_linear_mapping(100) == (0, 100, np.dtype(np.uint8), (100,), None)
    off, size, dt, shape, strides = ext.plan_linear_mapping(100, 4, None, "uint32")
    assert (off, size, dt, shape, strides) == (4, 96, np.dtype(np.uint32), (24,), None)


def test_linear_plan_shapes_and_strides():
    plan = ext.plan_linear_mapping(4096, 0, None, np.float32, (8, 16), (256, 4))
    assert plan[3:] == ((8, 16), (256, 4))
    # 7 rows of pitch 256 + 16 floats = 1856 bytes, so 1856 bytes are enough
    assert ext.plan_linear_mapping(1856, 0, None, np.float32, (8, 16), (256, 4))[1] == 1856
    with pytest.raises(ia.ImageArrayValueError, match="needs 1856 bytes, more than the 1855"):
        ext.plan_linear_mapping(1855, 0, None, np.float32, (8, 16), (256, 4))
    with pytest.raises(ia.ImageArrayValueError, match="multiples of the item size"):
        ext.plan_linear_mapping(4096, 0, None, np.float32, (8, 16), (258, 4))
    with pytest.raises(ia.ImageArrayValueError, match="different lengths"):
        ext.plan_linear_mapping(4096, 0, None, np.float32, (8, 16), (64,))
    with pytest.raises(ia.ImageArrayValueError, match="strides need a shape"):
        ext.plan_linear_mapping(4096, strides=(4,))


@pytest.mark.parametrize(
    "args, message",
    [
        ((100, 100), "offset 100 is outside the memory: it has 100 bytes"),
        ((100, 10, 91), "offset 10 \\+ size 91 = 101 bytes is larger than the memory"),
        ((100, 0, None, np.uint64, (13,)), "needs 104 bytes, more than the 100 bytes"),
        ((3, 0, None, np.uint32), "3 bytes hold no element of uint32"),
        ((100, 0, 0), "size must be >= 1"),
        ((100, -1), "offset must be >= 0"),
    ],
)
def test_linear_plan_errors(args, message):
    with pytest.raises(ia.ImageArrayValueError, match=message):
        ext.plan_linear_mapping(*args)


def test_linear_plan_type_errors():
    with pytest.raises(ia.ImageArrayTypeError, match="cannot describe device memory"):
        ext.plan_linear_mapping(100, dtype=object)
    with pytest.raises(ia.ImageArrayTypeError, match="offset must be an int"):
        ext.plan_linear_mapping(100, 1.5)


# ----------------------------------------------------------------------------- image plans


def test_image_plan_standard_and_mipmap():
    from cuda.bindings import driver as cu

    ldst = int(cu.CUDA_ARRAY3D_SURFACE_LDST)
    desc = ia.ImageDescriptor(64, 32, channel_order="r", channel_type="unsigned_int32")
    off, w, h, d, fmt, ch, flags, levels = ext.plan_image_mapping(desc.nbytes, desc)
    assert (off, w, h, d, ch, levels) == (0, 64, 32, 0, 1, 1)
    assert fmt == int(cu.CUarray_format.CU_AD_FORMAT_UNSIGNED_INT32)
    assert flags & ldst
    flags_ca = ext.plan_image_mapping(desc.nbytes, desc, color_attachment=True)[6]
    assert flags_ca == flags | int(cu.CUDA_ARRAY3D_COLOR_ATTACHMENT)
    mip = ia.ImageDescriptor(16, 16, 0, "rgba", "unorm_int8", "mipmap", 3)
    plan = ext.plan_image_mapping(mip.nbytes + 256, mip, 256)
    assert plan[0] == 256 and plan[-1] == 3


def test_mapping_an_image_larger_than_the_memory_is_refused():
    desc = ia.ImageDescriptor(64, 64, channel_order="rgba", channel_type="fp32")  # 65536 B
    with pytest.raises(ia.ImageArrayValueError, match="needs at least 65536 bytes .* has 65535"):
        ext.plan_image_mapping(65535, desc)
    with pytest.raises(ia.ImageArrayValueError, match="from offset 1"):
        ext.plan_image_mapping(65536, desc, 1)
    # all levels count for a mipmap: 16x16 + 8x8 + 4x4 texels of 4 bytes = 1344 bytes
    mip = ia.ImageDescriptor(16, 16, 0, "r", "fp32", "mipmap", 3)
    with pytest.raises(ia.ImageArrayValueError, match="needs at least 1344 bytes"):
        ext.plan_image_mapping(1343, mip)


@pytest.mark.parametrize(
    "desc",
    [
        ia.ImageDescriptor(8, 8, type="array", array_size=2),
        ia.ImageDescriptor(8, 8, type="cubemap", array_size=6),
    ],
)
def test_only_standard_and_mipmap_images_map(desc):
    with pytest.raises(ia.ImageArrayValueError, match="standard or mipmap images only"):
        ext.plan_image_mapping(1 << 20, desc)


def test_image_plan_verifies_the_descriptor():
    with pytest.raises(ia.InvalidDescriptorError):
        ext.plan_image_mapping(1 << 20, ia.ImageDescriptor(0, 8))
    with pytest.raises(ia.ImageArrayTypeError, match="desc must be an ImageDescriptor"):
        ext.plan_image_mapping(1 << 20, (8, 8))


# ----------------------------------------------------------------------------- fakes


class FakeMemoryResource:
    """Stands in for imagearray._interop.ExternalMemoryResource (no CUDA)."""

    def __init__(self, device=0):
        self.device = device
        self.alive = True
        self.mappings = 0
        self.released = 0
        self.calls = []

    def release(self):
        if not self.alive:
            raise ia.ReleasedResourceError("the external memory was already released")
        self.alive = False
        self.released += 1

    def raw(self):
        return 0xABC

    def map_buffer(self, *args):  # pragma: no cover - must not be reached
        self.calls.append(("buffer", args))
        raise AssertionError("validation should have refused this first")

    map_mipmapped_array = map_buffer


class FakeSemaphoreResource:
    def __init__(self):
        self.device = 0
        self.alive = True
        self.ops = []

    def wait(self, value, stream):
        self.ops.append(("wait", value, stream))

    def signal(self, value, stream):
        self.ops.append(("signal", value, stream))

    def destroy(self):
        self.alive = False

    def raw(self):
        return 0xDEF


def fake_memory(size=4096):
    res = FakeMemoryResource()
    return ext.ExternalMemory._make(res, ext.ExternalMemDescriptor(ext.ResourceFD(3), size)), res


def fake_semaphore(timeline):
    res = FakeSemaphoreResource()
    desc = ext.ExternalSemaphoreDescriptor(
        ext.ResourceFD(3), "timeline_fd" if timeline else "opaque_fd"
    )
    return ext.ExternalSemaphore._make(res, desc), res


def test_external_memory_object_and_context_manager():
    mem, res = fake_memory()
    assert (mem.size, mem.device_id, mem.handle_type) == (4096, 0, MemType.OPAQUE_FD)
    assert mem.alive and mem.device.id == 0
    assert mem.raw_handle == 0xABC
    assert "4096 bytes, opaque_fd" in repr(mem)
    with mem as m:
        assert m is mem
    assert res.released == 1 and not mem.alive  # released once by the with block
    with pytest.raises(ia.ReleasedResourceError):
        ext.release_external_memory(mem)


def test_bad_mappings_are_refused_before_any_driver_call():
    mem, res = fake_memory(4096)
    big = ia.ImageDescriptor(64, 64, channel_order="r", channel_type="fp32")  # 16384 B
    with pytest.raises(ia.ImageArrayValueError, match="needs at least 16384 bytes"):
        ext.map_external_image_memory(mem, big)
    with pytest.raises(ia.ImageArrayValueError, match="larger than the memory"):
        ext.map_external_linear_memory(mem, 0, 4097)
    with pytest.raises(ia.ImageArrayValueError, match="needs 4100 bytes"):
        mem.map_linear(dtype=np.uint32, shape=(1025,))
    mem.release()
    with pytest.raises(ia.ReleasedResourceError, match="already released"):
        ext.map_external_linear_memory(mem, 0, 16)
    with pytest.raises(ia.ReleasedResourceError, match="already released"):
        ext.map_external_image_memory(mem, ia.ImageDescriptor(4, 4))
    assert res.calls == []


# ----------------------------------------------------------------------------- semaphores


def test_semaphore_values_binary_and_timeline():
    assert ext_sem._semaphore_value(False, None, "wait") == 0
    assert ext_sem._semaphore_value(True, np.uint64(2**64 - 1), "signal") == 2**64 - 1
    with pytest.raises(ia.ImageArrayValueError, match="binary semaphore has no counter"):
        ext_sem._semaphore_value(False, 1, "wait")
    with pytest.raises(ia.ImageArrayValueError, match="timeline semaphore needs value="):
        ext_sem._semaphore_value(True, None, "signal")
    with pytest.raises(ia.ImageArrayValueError, match="does not fit a 64-bit"):
        ext_sem._semaphore_value(True, 2**64, "wait")
    with pytest.raises(ia.ImageArrayValueError, match="value must be >= 0"):
        ext_sem._semaphore_value(True, -1, "wait")
    with pytest.raises(ia.ImageArrayTypeError, match="value must be an int"):
        ext_sem._semaphore_value(True, 1.0, "wait")


def test_wait_and_signal_pass_values_and_the_stream():
    sem, res = fake_semaphore(timeline=True)
    assert sem.is_timeline and sem.handle_type is SemType.TIMELINE_FD
    ext.wait_external_semaphore(sem, value=3, stream=0)  # 0: the legacy default stream
    sem.signal(4, stream=0)
    binary, bres = fake_semaphore(timeline=False)
    ext.signal_external_semaphore(binary, stream=0)
    assert res.ops == [("wait", 3, 0), ("signal", 4, 0)]
    assert bres.ops == [("signal", 0, 0)]


def test_semaphore_value_rules_are_enforced_by_wait_and_signal():
    timeline, tres = fake_semaphore(timeline=True)
    binary, bres = fake_semaphore(timeline=False)
    with pytest.raises(ia.ImageArrayValueError, match="needs value= to wait"):
        ext.wait_external_semaphore(timeline, stream=0)
    with pytest.raises(ia.ImageArrayValueError, match="signal takes no value"):
        ext.signal_external_semaphore(binary, 1, stream=0)
    assert tres.ops == bres.ops == []


def test_waiting_on_a_destroyed_semaphore_is_a_clear_error():
    sem, res = fake_semaphore(timeline=True)
    ext.destroy_external_semaphore(sem)
    assert not sem.alive and "destroyed" in repr(sem)
    with pytest.raises(ia.ReleasedResourceError, match="cannot wait .* already destroyed"):
        ext.wait_external_semaphore(sem, value=1, stream=0)
    with pytest.raises(ia.ReleasedResourceError, match="cannot signal"):
        sem.signal(1, stream=0)
    with pytest.raises(ia.ReleasedResourceError, match="already destroyed"):
        sem.destroy()
    assert res.ops == []


def test_semaphore_context_manager_destroys_once():
    sem, res = fake_semaphore(timeline=False)
    with sem:
        pass
    assert not res.alive
    with sem:  # leaving again does not destroy twice
        pass


# ----------------------------------------------------------------------------- export arguments


def test_export_arguments():
    assert exp.check_export_args(np.int64(100)) == (100, 0, MemType.OPAQUE_FD)
    assert exp.check_export_args(100, 1 << 21, "opaque_fd")[1] == 1 << 21
    with pytest.raises(ia.ImageArrayValueError, match="size must be >= 1"):
        exp.check_export_args(0)
    with pytest.raises(ia.ImageArrayTypeError, match="size must be an int"):
        exp.check_export_args(True)
    with pytest.raises(ia.ImageArrayValueError, match="power of two, not 3"):
        exp.check_export_args(100, 3)
    with pytest.raises(ia.ImageArrayValueError, match="alignment must be >= 0"):
        exp.check_export_args(100, -2)
    with pytest.raises(ia.ImageArrayValueError, match="not dma_buf"):
        exp.check_export_args(100, 0, "dma_buf")
    with pytest.raises(ia.ImageArrayValueError, match="unknown ExternalMemHandleType"):
        exp.check_export_args(100, 0, "posix")
    # size_t in the driver, and rounding up to the granularity must not wrap around
    assert exp.check_export_args(2**63, 2**63)[:2] == (2**63, 2**63)
    with pytest.raises(ia.ImageArrayValueError, match="size 9223372036854775809 is larger"):
        exp.check_export_args(2**63 + 1)
    with pytest.raises(ia.ImageArrayValueError, match="alignment 18446744073709551616 is larger"):
        exp.check_export_args(100, 2**64)


@pytest.mark.skipif(sys.platform == "win32", reason="the refusal is for non-Windows platforms")
def test_win32_export_is_refused_on_this_platform():
    with pytest.raises(ia.ImageArrayValueError, match="win32_nt is a Windows NT handle type: not"):
        exp.alloc_exportable_memory(1 << 20, handle_type="win32_nt")
    with pytest.raises(ia.ImageArrayValueError, match="not available on this platform"):
        exp.exportable_memory_granularity(MemType.WIN32_NT)


def test_export_functions_check_types():
    with pytest.raises(ia.ImageArrayTypeError, match="takes an ExportableMemory"):
        exp.export_memory_handle(3)
    with pytest.raises(ia.ImageArrayTypeError, match="takes an ExportableMemory"):
        exp.free_exportable_memory(None)


# ----------------------------------------------------------------------------- Cython bookkeeping


def test_export_views_defer_the_free_and_free_once():
    # A blank allocation (nothing created) exercises the lease logic without CUDA.
    a = cy_export.ExportableAllocation.__new__(cy_export.ExportableAllocation)
    v1, v2 = a.view(), a.view()
    assert a.views == 2 and a.alive
    a.release()
    assert not a.alive and not a.destroyed and a.views == 2
    with pytest.raises(ia.ReleasedResourceError, match="already freed"):
        a.release()
    with pytest.raises(ia.ReleasedResourceError):
        a.view()
    with pytest.raises(ia.ReleasedResourceError):
        a.export()
    del v1
    gc.collect()
    assert not a.destroyed and a.views == 1
    del v2
    gc.collect()
    assert a.destroyed and a.views == 0


def test_export_without_views_frees_at_once():
    a = cy_export.ExportableAllocation.__new__(cy_export.ExportableAllocation)
    mem = exp.ExportableMemory._make(a, 10, 0, MemType.OPAQUE_FD)
    with mem:
        assert mem.alive and "alive" in repr(mem)
    assert a.destroyed and not mem.alive and "freed" in repr(mem)
    with pytest.raises(ia.ReleasedResourceError, match="already freed"):
        exp.free_exportable_memory(mem)
    with pytest.raises(ia.ReleasedResourceError, match="cannot export"):
        exp.export_memory_handle(mem)
    with pytest.raises(ia.ReleasedResourceError):
        mem.to_cupy()


def test_external_memory_resource_releases_once():
    r = cy_interop.ExternalMemoryResource.__new__(cy_interop.ExternalMemoryResource)
    assert r.alive and r.mappings == 0
    r.release()  # no mapping: destroyed now (a blank resource has no driver object)
    assert not r.alive and r.destroyed
    with pytest.raises(ia.ReleasedResourceError, match="already released"):
        r.release()
    with pytest.raises(ia.ReleasedResourceError):
        r.raw()
    with pytest.raises(ia.ReleasedResourceError):
        r.map_buffer(0, 16)


# ----------------------------------------------------------------------------- local handles


class FakeMapped:
    def __init__(self, levels=1):
        self.alive = True
        self.frees = 0
        self.num_levels = levels

    def free(self):
        if not self.alive:
            raise ia.ReleasedResourceError("the mapped image memory was already freed")
        self.alive = False
        self.frees += 1

    def level(self, level):
        return 0x1000 + level


def test_wrapped_array_handle_frees_its_mapping_once():
    from imagearray import _memory

    owner = FakeMapped()
    h = _memory.wrap_array(0, 0x1000, ia.ImageDescriptor(8, 8), owner)
    assert ia.ImageMem._from_handle(h).alive and h.raw() == 0x1000 and h.raw_handle == 0x1000
    assert h.owner is owner
    h.free()
    assert owner.frees == 1 and not h.alive
    with pytest.raises(ia.ReleasedResourceError, match="already freed"):
        h.free()
    with pytest.raises(ia.ReleasedResourceError):
        h.raw()


def test_wrapped_mipmapped_handle_follows_the_mapping():
    from imagearray import _memory

    owner = FakeMapped(3)
    desc = ia.ImageDescriptor(16, 16, 0, "r", "fp32", "mipmap", 3)
    m = _memory.wrap_mipmapped_array(0, 0x2000, desc, 3, owner)
    assert m.alive and m.raw() == 0x2000 and m.num_levels == 3
    with pytest.raises(ia.ImageArrayValueError, match="mip level 3 out of range"):
        m.get_level(3)
    owner.alive = False  # the mapping went away: so did the handle
    assert not m.alive
    with pytest.raises(ia.ReleasedResourceError):
        m.raw()
    owner.alive = True
    m.free()
    assert owner.frees == 1 and not m.alive
    with pytest.raises(ia.ReleasedResourceError):
        m.free()


class FakeMappingResource(FakeMemoryResource):
    """A memory resource whose mappings are FakeMapped objects (no CUDA)."""

    def map_mipmapped_array(self, *plan):
        self.calls.append(("image", plan))
        self.mappings += 1
        return FakeMapped(plan[-1])


def test_image_array_from_external_owns_its_import(monkeypatch):
    monkeypatch.setattr(ext_mem, "check_device_support", lambda desc, device: None)
    desc = ia.ImageDescriptor(16, 8, channel_order="rgba", channel_type="unorm_int8")
    res = FakeMappingResource()
    fake = ext.ExternalMemory._make(res, ext.ExternalMemDescriptor(ext.ResourceFD(3), 4096))
    monkeypatch.setattr(ext_mem, "import_external_memory", lambda d, device=None: fake)
    img = ia.ImageArray.from_external(ext.ExternalMemDescriptor(ext.ResourceFD(4), 4096), desc)
    assert isinstance(img, ia.ImageArray) and img.shape == (8, 16, 4)
    kind, plan = res.calls[0]
    assert kind == "image" and plan[:4] == (0, 16, 8, 0) and plan[-1] == 1
    assert res.released == 1  # the import belongs to the image: released (deferred) at once
    handle = img._handle
    img.free()
    assert not handle.alive
    with pytest.raises(ia.ReleasedResourceError):
        img.free()


def test_dma_buf_memory_is_not_mapped_as_an_image(monkeypatch):
    # cuExternalMemoryGetMappedMipmappedArray does not support dma-buf imports.
    res = FakeMemoryResource()
    mem = ext.ExternalMemory._make(
        res, ext.ExternalMemDescriptor(ext.ResourceFD(3), 4096, "dma_buf")
    )
    desc = ia.ImageDescriptor(4, 4)
    with pytest.raises(ia.ImageArrayValueError, match="dma_buf memory cannot be mapped as image"):
        ext.map_external_image_memory(mem, desc)
    assert res.calls == [] and mem.alive

    def no_import(*args, **kwargs):  # pragma: no cover - must not be reached
        raise AssertionError("imported (and so took the fd) before refusing")

    monkeypatch.setattr(ext_mem, "import_external_memory", no_import)
    with pytest.raises(ia.ImageArrayValueError, match="dma_buf memory cannot be mapped as image"):
        ia.ImageArray.from_external(
            ext.ExternalMemDescriptor(ext.ResourceFD(3), 4096, "dma_buf"), desc
        )


def test_image_array_from_external_checks_before_importing(monkeypatch):
    def no_import(*args, **kwargs):  # pragma: no cover - must not be reached
        raise AssertionError("imported before validating")

    monkeypatch.setattr(ext_mem, "import_external_memory", no_import)
    big = ia.ImageDescriptor(64, 64, channel_order="rgba", channel_type="fp32")
    with pytest.raises(ia.ImageArrayValueError, match="needs at least 65536 bytes"):
        ia.ImageArray.from_external(ext.ExternalMemDescriptor(ext.ResourceFD(3), 1024), big)
    with pytest.raises(ia.ImageArrayValueError, match="standard or mipmap images only"):
        ia.ImageArray.from_external(
            ext.ExternalMemDescriptor(ext.ResourceFD(3), 1 << 20),
            ia.ImageDescriptor(8, 8, type="array", array_size=2),
        )


# ----------------------------------------------------------------------------- device scope


class DeviceScope:
    """Records ``on_device(device)`` scopes (CuPy's Device) around driver calls."""

    def __init__(self):
        self.current = None
        self.entered = []

    def __call__(self, device):
        scope = self

        class _Cm:
            def __enter__(self):
                scope.entered.append(device)
                scope.current = device

            def __exit__(self, *exc):
                scope.current = None

        return _Cm()


class ScopedResource:
    """Records the device scope each driver-calling method ran in."""

    def __init__(self, scope, device):
        self.scope = scope
        self.device = device
        self.alive = True
        self.mappings = 0
        self.seen = []

    def _call(self, name):
        self.seen.append((name, self.scope.current))

    def wait(self, value, stream):
        self._call("wait")

    def signal(self, value, stream):
        self._call("signal")

    def destroy(self):
        self._call("destroy")
        self.alive = False

    def release(self):
        self._call("release")
        self.alive = False

    def map_mipmapped_array(self, *plan):
        self._call("map")
        return FakeMapped(plan[-1])


def test_driver_calls_run_under_the_resource_device(monkeypatch):
    # Like the rest of the library, every driver call runs inside CuPy's
    # Device(resource device), so no context is switched behind CuPy's back.
    scope = DeviceScope()
    for module in (ext_mem, ext_sem, exp):  # where the driver calls are made
        monkeypatch.setattr(module, "on_device", scope)
    monkeypatch.setattr(ext_mem, "check_device_support", lambda desc, device: None)
    res = ScopedResource(scope, 3)
    sem = ext.ExternalSemaphore._make(
        res, ext.ExternalSemaphoreDescriptor(ext.ResourceFD(3), "timeline_fd")
    )
    sem.wait(1, stream=0)
    ext.signal_external_semaphore(sem, 2, stream=0)
    with sem:
        pass
    mres = ScopedResource(scope, 2)
    mem = ext.ExternalMemory._make(mres, ext.ExternalMemDescriptor(ext.ResourceFD(3), 4096))
    ext.map_external_image_memory(mem, ia.ImageDescriptor(4, 4))
    with mem:
        pass
    assert res.seen == [("wait", 3), ("signal", 3), ("destroy", 3)]
    assert mres.seen == [("map", 2), ("release", 2)]

    a = cy_export.ExportableAllocation.__new__(cy_export.ExportableAllocation)
    emem = exp.ExportableMemory._make(a, 10, 0, MemType.OPAQUE_FD)
    scope.entered.clear()
    with emem:
        pass
    assert a.destroyed and scope.entered == [0]


# ----------------------------------------------------------------------------- no device


_NO_DEVICE_SCRIPT = textwrap.dedent(
    """
    import os
    import imagearray as ia
    from imagearray import interop as ext
    from imagearray.interop import exportable as exp

    r, w = os.pipe()
    res = ext.ResourceFD(r)
    calls = {
        "import_external_memory": lambda: ext.import_external_memory(
            ext.ExternalMemDescriptor(res, 4096)),
        "import_external_semaphore": lambda: ext.import_external_semaphore(
            ext.ExternalSemaphoreDescriptor(res, "timeline_fd")),
        "alloc_exportable_memory": lambda: exp.alloc_exportable_memory(1 << 20),
        "exportable_memory_granularity": lambda: exp.exportable_memory_granularity(),
        "exportable_memory_supported": lambda: exp.exportable_memory_supported(),
    }
    for name, call in calls.items():
        try:
            call()
        except ia.CUDAUnavailableError:
            pass
        else:
            raise SystemExit(f"{name}: no CUDAUnavailableError")
    os.fstat(r)  # a failed import leaves the caller's fd open...
    assert not res.consumed  # ...and still importable
    print("OK")
    """
)


def test_no_device_raises_cuda_unavailable_and_keeps_the_fd():
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    res = subprocess.run(
        [sys.executable, "-c", _NO_DEVICE_SCRIPT], env=env, capture_output=True, text=True
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.strip() == "OK"


# ----------------------------------------------------------------------------- public names


_PUBLIC = [
    "ResourceFD",
    "ExternalMemDescriptor",
    "ExternalSemaphoreDescriptor",
    "ExternalMemHandleType",
    "ExternalSemaphoreHandleType",
    "import_external_memory",
    "map_external_image_memory",
    "map_external_linear_memory",
    "release_external_memory",
    "import_external_semaphore",
    "wait_external_semaphore",
    "signal_external_semaphore",
    "destroy_external_semaphore",
    "alloc_exportable_memory",
    "export_memory_handle",
    "free_exportable_memory",
]


@pytest.mark.skipif(
    not hasattr(ia, "import_external_memory"),
    reason="interop names are not exported from imagearray/__init__.py yet",
)
def test_public_names():
    for name in _PUBLIC:
        assert name in ia.__all__ and hasattr(ia, name), name
    assert hasattr(ia.ImageArray, "from_external")


def _is_open(fd):
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


@pytest.mark.parametrize("driver_closes", [True, False])
def test_failed_import_leaves_the_fd_open_whatever_the_driver_does(driver_closes):
    from imagearray._errors import CUDAError

    r, w = os.pipe()
    given = []

    def refuse(f):
        given.append(f)
        if driver_closes:  # what the 13.0 driver does with a bogus fd
            os.close(f)
        raise CUDAError(1, "CUDA_ERROR_INVALID_VALUE", "invalid argument", "cuImportExternalMemory")

    try:
        with pytest.raises(CUDAError, match=f"file descriptor {r} is still yours"):
            ext_mem._import_fd(r, 0, refuse)
        assert given[0] != r and _is_open(r) and not _is_open(given[0])
    finally:
        os.close(r)
        os.close(w)


def test_successful_import_hands_cuda_a_duplicate_and_closes_the_callers_fd():
    r, w = os.pipe()
    seen = []
    try:
        got = ext_mem._import_fd(r, 0, lambda f: seen.append((f, os.fstat(f).st_ino)) or "ok")
        assert got == "ok" and seen[0][0] != r
        assert not _is_open(r)  # the caller handed it over
        assert _is_open(seen[0][0])  # CUDA's (here: the test's) duplicate
        os.close(seen[0][0])
    finally:
        os.close(w)
