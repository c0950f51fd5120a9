"""get_image_memory_support / is_image_handle_supported and the aspects of the spec's
current revision, without a GPU: argument checks, and the answers with the device's
limits and aspects stood in for (monkeypatched where the queries read them)."""

from __future__ import annotations

import pytest

import imagearray as ia
from imagearray import _device
from imagearray.handles import support
from imagearray.memory import limits as _limits

OPAQUE, USM = ia.ImageMemoryHandleType.OPAQUE_HANDLE, ia.ImageMemoryHandleType.USM_POINTER
D2 = ia.ImageDescriptor(640, 480, channel_order="rgba")

# an H200's figures (device_info names), enough for every type below
INFO = {
    "max_image_1d": 131072,
    "max_surface_1d": 32768,
    "max_image_2d": (131072, 65536),
    "max_surface_2d": (131072, 65536),
    "max_image_3d": (16384, 16384, 16384),
    "max_surface_3d": (16384, 16384, 16384),
    "max_image_2d_mipmap": (32768, 32768),
    "max_image_2d_array": (32768, 32768, 2048),
    "max_surface_2d_array": (32768, 32768, 2048),
    "max_image_cubemap": 32768,
    "max_surface_cubemap": 32768,
}
USM_LIMITS = {
    "image_row_pitch_align": 32,
    "texture_alignment": 512,
    "max_image_1d_linear_width": 1 << 28,
    "max_image_linear_width": 131072,
    "max_image_linear_height": 65000,
    "max_image_linear_row_pitch": 2097120,
}


@pytest.fixture
def device(monkeypatch):
    """A device 0 with INFO's limits and the aspects in ``has`` (all by default)."""
    has = {a: True for a in ia.Aspect}
    monkeypatch.setattr(support, "get_device", lambda device=None: 0)
    monkeypatch.setattr(support, "device_has", lambda aspect, dev: has[aspect])
    monkeypatch.setattr(support, "usm_limits", lambda dev: dict(USM_LIMITS))
    monkeypatch.setattr(_limits, "device_info", lambda key, dev: INFO[key])
    monkeypatch.setattr(_limits, "device_has", lambda aspect, dev: has[aspect])
    return has


@pytest.mark.parametrize(
    "desc, expected",
    [
        (ia.ImageDescriptor(4096), [USM, OPAQUE]),
        (D2, [USM, OPAQUE]),
        (ia.ImageDescriptor(64, 64, 64), [OPAQUE]),  # no 3D texture over linear memory
        (ia.ImageDescriptor(64, 64, type="mipmap", num_levels=3), [OPAQUE]),
        (ia.ImageDescriptor(64, 64, type="array", array_size=4), [OPAQUE]),
        (ia.ImageDescriptor(64, 64, type="cubemap", array_size=6), [OPAQUE]),
        # past the 1D surface limit (every array is made surface-capable), not past
        # the linear one
        (ia.ImageDescriptor(40000), [USM]),
        # wider than a 2D linear texture may be, within the 2D array limit
        (ia.ImageDescriptor(100, 65001), [OPAQUE]),
        (ia.ImageDescriptor(200000, 4), []),
    ],
    ids=lambda v: str(v) if isinstance(v, ia.ImageDescriptor) else None,
)
def test_memory_support_follows_the_creation_rules(device, desc, expected):
    assert ia.get_image_memory_support(desc) == expected


def test_memory_support_follows_the_aspects(device):
    device[ia.Aspect.BINDLESS_IMAGES_2D_USM] = False
    assert ia.get_image_memory_support(D2) == [OPAQUE]
    device[ia.Aspect.BINDLESS_IMAGES_1D_USM] = False
    assert ia.get_image_memory_support(ia.ImageDescriptor(64)) == [OPAQUE]
    device[ia.Aspect.MIPMAP] = False
    mip = ia.ImageDescriptor(64, 64, type="mipmap", num_levels=2)
    assert ia.get_image_memory_support(mip) == []
    device[ia.Aspect.BINDLESS_IMAGES] = False
    assert ia.get_image_memory_support(D2) == []


def test_usm_pitch_is_the_smallest_aligned_one(device):
    # 4100 float texels = 16400 B, rounded up to 32 B: 16416 <= the linear row pitch
    assert support._usm_pitch(ia.ImageDescriptor(4100, 2), USM_LIMITS) == 16416
    assert support._usm_pitch(ia.ImageDescriptor(4100), USM_LIMITS) is None
    # rows that need more than the device's linear pitch limit: no USM
    wide = ia.ImageDescriptor(131072, 2, channel_order="rgba")  # 2 MiB rows
    assert USM not in ia.get_image_memory_support(wide)


@pytest.mark.parametrize(
    "handle, desc, memory, expected",
    [
        (ia.SampledImageHandle, D2, "usm_pointer", True),
        (ia.UnsampledImageHandle, D2, "usm_pointer", False),  # surfaces need arrays
        (ia.SampledImageHandle, D2, OPAQUE, True),
        (ia.UnsampledImageHandle, D2, OPAQUE, True),
        (ia.SampledImageHandle, ia.ImageDescriptor(64), USM, True),
        (ia.SampledImageHandle, ia.ImageDescriptor(8, 8, 8), USM, False),
        (
            ia.SampledImageHandle,
            ia.ImageDescriptor(8, 8, type="mipmap", num_levels=2),
            OPAQUE,
            True,
        ),
        # a mipmap has no unsampled handle (spec): one per level
        (
            ia.UnsampledImageHandle,
            ia.ImageDescriptor(8, 8, type="mipmap", num_levels=2),
            OPAQUE,
            False,
        ),
        (
            ia.UnsampledImageHandle,
            ia.ImageDescriptor(8, 8, type="cubemap", array_size=6),
            OPAQUE,
            True,
        ),
        (ia.SampledImageHandle, ia.ImageDescriptor(200000, 4), OPAQUE, False),
    ],
)
def test_handle_support(device, handle, desc, memory, expected):
    assert ia.is_image_handle_supported(handle, desc, memory) is expected


def test_handle_support_takes_subclasses_of_the_handle_types(device):
    class Mine(ia.SampledImageHandle):
        pass

    assert ia.is_image_handle_supported(Mine, D2, "usm_pointer")


@pytest.mark.parametrize(
    "args, match",
    [
        (("sampled", D2, "usm_pointer"), "handle_type must be ia.SampledImageHandle"),
        ((int, D2, "usm_pointer"), "handle_type must be"),
        ((ia.SampledImageHandle, (640, 480), "usm_pointer"), "desc must be an ImageDescriptor"),
        ((ia.SampledImageHandle, D2, "usm"), "memory_type must be an ImageMemoryHandleType or"),
        ((ia.SampledImageHandle, D2, 0), "'usm_pointer', 'opaque_handle'"),
    ],
)
def test_bad_arguments_raise_before_the_device_is_asked(args, match):
    # no device is patched in: the arguments are checked first (also without CUDA)
    with pytest.raises(ia.ImageArrayTypeError, match=match):
        ia.is_image_handle_supported(*args)


def test_memory_support_refuses_what_is_not_a_descriptor():
    with pytest.raises(ia.ImageArrayTypeError, match="desc must be an ImageDescriptor, not 64"):
        ia.get_image_memory_support(64)


def test_memory_handle_type_values_are_the_spec_names():
    assert [m.value for m in ia.ImageMemoryHandleType] == ["usm_pointer", "opaque_handle"]


def test_new_aspects_and_their_spellings():
    a = ia.Aspect
    assert a("unique_addressing_per_dim") is a.UNIQUE_ADDRESSING_PER_DIM
    assert a("bindless_images_sample_1d_usm") is a.BINDLESS_IMAGES_SAMPLE_1D_USM
    # the issue's spelling, after the fetch aspects' names
    assert a("bindless_sampled_image_sample_1d_usm") is a.BINDLESS_IMAGES_SAMPLE_1D_USM
    assert a("bindless_sampled_image_sample_2d_usm") is a.BINDLESS_IMAGES_SAMPLE_2D_USM
    with pytest.raises(ValueError):
        a("bindless_sampled_image_sample_3d_usm")
    with pytest.raises(ia.ImageArrayTypeError, match="unknown aspect"):
        ia.device_has("bindless_sampled_image_sample_3d_usm")
    assert set(_device._ASPECT_RULES) == set(ia.Aspect)


def test_new_aspects_are_answered_from_attributes(monkeypatch):
    attrs = {
        "COMPUTE_CAPABILITY_MAJOR": 9,
        "MAXIMUM_TEXTURE2D_WIDTH": 131072,
        "MAXIMUM_TEXTURE2D_LINEAR_WIDTH": 131072,
    }
    monkeypatch.setattr(_device, "_attr", lambda name, dev: attrs[name])
    rules = _device._ASPECT_RULES
    assert rules[ia.Aspect.UNIQUE_ADDRESSING_PER_DIM](0)
    assert rules[ia.Aspect.BINDLESS_IMAGES_SAMPLE_2D_USM](0)
    assert not rules[ia.Aspect.BINDLESS_IMAGES_SAMPLE_1D_USM](0)  # tex1Dfetch only
    attrs["MAXIMUM_TEXTURE2D_LINEAR_WIDTH"] = 0
    assert not rules[ia.Aspect.BINDLESS_IMAGES_SAMPLE_2D_USM](0)
    attrs["COMPUTE_CAPABILITY_MAJOR"] = 2
    assert not rules[ia.Aspect.UNIQUE_ADDRESSING_PER_DIM](0)
