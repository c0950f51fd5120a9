"""The offset of an image mapped from imported memory, without a GPU.

The issue: ``map_external_image_memory(mem, desc, offset=3)`` was accepted, and the
first write to the mapped image killed the context. The offset must be 0 or a
multiple of the device's texture alignment; it is checked before any driver call
(fake resources below stand in for the import).
"""

from __future__ import annotations

import pytest

import imagearray as ia
from imagearray import interop as ext
from imagearray.interop import memory as ext_mem

DESC = ia.ImageDescriptor(16, 8, channel_order="rgba", channel_type="unorm_int8")  # 512 B
ALIGN = 512


class Resource:
    """Stands in for imagearray._interop.ExternalMemoryResource: records mappings."""

    device = 0
    alive = True
    mappings = 0

    def __init__(self):
        self.calls = []

    def raw(self):
        return 0xABC

    def release(self):
        self.alive = False

    def map_mipmapped_array(self, *plan):
        self.calls.append(plan)
        return Mapped()


class Mapped:
    alive = True

    def level(self, level):
        return 0x1000 + level

    def free(self):
        self.alive = False


@pytest.fixture
def aligned_to(monkeypatch):
    asked = []

    def device_info(name, device):
        asked.append((name, device))
        assert name == "texture_alignment"
        return ALIGN

    monkeypatch.setattr(ext_mem, "device_info", device_info)
    monkeypatch.setattr(ext_mem, "check_device_support", lambda desc, device: None)
    return asked


def memory(size=1 << 16):
    res = Resource()
    return ext.ExternalMemory._make(res, ext.ExternalMemDescriptor(ext.ResourceFD(3), size)), res


@pytest.mark.parametrize("offset", [1, 3, 256, 511, 513, ALIGN + 4])
def test_plan_refuses_an_offset_off_the_alignment(offset):
    with pytest.raises(ia.ImageArrayValueError) as info:
        ext.plan_image_mapping(1 << 16, DESC, offset, offset_align=ALIGN)
    msg = str(info.value)
    assert f"offset={offset}" in msg and "texture alignment" in msg and "512" in msg


@pytest.mark.parametrize("offset", [0, ALIGN, 3 * ALIGN])
def test_plan_takes_aligned_offsets(offset):
    assert ext.plan_image_mapping(1 << 16, DESC, offset, offset_align=ALIGN)[0] == offset


def test_unaligned_offset_is_refused_before_the_driver_maps(aligned_to):
    mem, res = memory()
    with pytest.raises(ia.ImageArrayValueError, match="offset=3 is not a multiple"):
        ext.map_external_image_memory(mem, DESC, offset=3)
    with pytest.raises(ia.ImageArrayValueError, match="offset=3 is not a multiple"):
        mem.map_image(DESC, offset=3)
    assert res.calls == []
    assert aligned_to == [("texture_alignment", 0)] * 2


def test_aligned_offsets_are_mapped_there(aligned_to):
    mem, res = memory()
    ext.map_external_image_memory(mem, DESC, offset=2 * ALIGN)
    assert res.calls[0][0] == 2 * ALIGN
    ext.map_external_image_memory(mem, DESC)  # offset 0: no device query needed
    assert res.calls[1][0] == 0
    assert aligned_to == [("texture_alignment", 0)]


def test_image_array_from_a_descriptor_checks_the_offset_before_importing(aligned_to, monkeypatch):
    def no_import(*args, **kwargs):  # pragma: no cover - must not be reached
        raise AssertionError("imported (and so took the fd) before refusing the offset")

    monkeypatch.setattr(ext_mem, "import_external_memory", no_import)
    monkeypatch.setattr(ext_mem, "get_device", lambda device=None: 0)
    desc = ext.ExternalMemDescriptor(ext.ResourceFD(4), 1 << 16)
    with pytest.raises(ia.ImageArrayValueError, match="offset=3 is not a multiple"):
        ia.ImageArray.from_external(desc, DESC, offset=3)
    with pytest.raises(ia.ImageArrayValueError, match="offset=3 is not a multiple"):
        ext.image_mem_from_external(desc, DESC, offset=3)
