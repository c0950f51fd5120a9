"""One device type everywhere: every public ``.device`` of the Python objects is a
``cupy.cuda.Device`` (as ``cupy.ndarray.device``), and ``.device_id`` its ordinal.

No GPU needed: the Python wrappers are built around stand-ins for their Cython
owners (which keep an int ``device``); building a ``cupy.cuda.Device`` from an
ordinal makes no CUDA call.
"""

from __future__ import annotations

import cupy
import pytest

import imagearray as ia
from imagearray import copies as co
from imagearray import interop as ext
from imagearray.interop import exportable as exp

DEV = 2  # not 0, so that a default cannot pass for the right answer


class FakeCyObject:
    """Stands in for a Cython owner: a texture/surface object, an import, a mapping."""

    def __init__(self, device=DEV):
        self.device = device
        self.alive = True
        self.raw_handle = 0x1234
        self.mappings = 0
        self.desc = ia.ImageDescriptor(4, 4)

    def raw(self):
        return 0x1234


def check_device(obj, dev=DEV):
    d = obj.device
    assert isinstance(d, cupy.cuda.Device) and d.id == dev
    assert type(obj.device_id) is int and obj.device_id == dev
    assert d == cupy.cuda.Device(obj.device_id)


@pytest.mark.parametrize("cls", [ia.SampledImageHandle, ia.UnsampledImageHandle])
def test_image_handle_device(cls):
    h = cls(FakeCyObject(), ia.ImageDescriptor(4, 4), None)
    check_device(h)
    assert int(h) == 0x1234


def test_image_mem_device_and_get_device():
    mem = ia.ImageMem._from_handle(FakeCyObject())
    check_device(mem)
    assert isinstance(mem.get_device(), cupy.cuda.Device) and mem.get_device().id == DEV
    assert f"device={DEV}," in repr(mem)  # messages show the plain number


def test_default_constructed_image_mem_has_no_device():
    mem = ia.ImageMem()
    for use in (lambda: mem.device, lambda: mem.device_id, mem.get_device):
        with pytest.raises(ia.ReleasedResourceError):
            use()


def test_external_memory_device():
    mem = ext.ExternalMemory._make(FakeCyObject(), ext.ExternalMemDescriptor(ext.ResourceFD(3), 64))
    check_device(mem)
    assert f"device={DEV}," in repr(mem)


@pytest.mark.parametrize("handle_type", ["opaque_fd", "timeline_fd"])
def test_external_semaphore_device(handle_type):
    desc = ext.ExternalSemaphoreDescriptor(ext.ResourceFD(3), handle_type)
    sem = ext.ExternalSemaphore._make(FakeCyObject(), desc)
    check_device(sem)
    assert f"device={DEV}," in repr(sem)


def test_exportable_memory_device():
    from imagearray import _export

    alloc = _export.ExportableAllocation.__new__(_export.ExportableAllocation)  # device 0
    mem = exp.ExportableMemory._make(alloc, 10, 0, ext.ExternalMemHandleType.OPAQUE_FD)
    check_device(mem, 0)
    mem.free()  # owns nothing: no driver call


def test_prepared_range_device():
    r = co.PreparedRange(0x1000, 64, DEV, "pointer")
    check_device(r)
    assert r == (0x1000, 64, DEV, "pointer") and hash(r) == hash((0x1000, 64, DEV, "pointer"))


def test_the_device_is_accepted_back_as_a_device_argument(monkeypatch):
    # What .device returns goes straight back into device= (checked in plain Python
    # before the driver), as a cupy.ndarray's device does.
    from imagearray.interop import memory as ext_mem

    mem = ext.ExternalMemory._make(FakeCyObject(), ext.ExternalMemDescriptor(ext.ResourceFD(3), 64))
    monkeypatch.setattr(ext_mem, "get_device", lambda d: d.id if hasattr(d, "id") else int(d))
    with pytest.raises(ia.DeviceMismatchError, match=f"on device {DEV}, not device 1"):
        ext.image_mem_from_external(mem, ia.ImageDescriptor(4, 4), device=1)
    mapped = []
    monkeypatch.setattr(ext_mem, "map_external_image_memory", lambda m, *a, **k: mapped.append(m))
    monkeypatch.setattr(ia.ImageMem, "_from_handle", classmethod(lambda cls, h: h))
    ext.image_mem_from_external(mem, ia.ImageDescriptor(4, 4), device=mem.device)
    assert mapped == [mem]
