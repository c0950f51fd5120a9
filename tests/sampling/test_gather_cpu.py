"""``ImageArray.gather``'s checks, the gather flag's allocation rules and the gather
kernel's source, without a GPU: every refusal happens before a device is touched."""

from __future__ import annotations

import numpy as np
import pytest

import imagearray as ia
from imagearray import _cuda
from imagearray._errors import ImageArrayTypeError, ImageArrayValueError
from imagearray.array.image_array import ImageArray
from imagearray.memory import cuda_geometry, is_gatherable
from imagearray.memory import limits as _limits
from imagearray.sampling import gathers
from imagearray.sampling import kernels as _kernels

GATHER = _cuda.CUDA_ARRAY3D_TEXTURE_GATHER


class _Handle:
    """An alive ArrayHandle stand-in with the flags it was allocated with."""

    alive = True
    device = 0

    def __init__(self, flags: int = 0):
        self.flags = flags


class _FakeMem:
    def __init__(self, desc):
        self.descriptor = desc
        self._cache = None


def fake(desc, flags=_cuda.CUDA_ARRAY3D_SURFACE_LDST | GATHER):
    return ImageArray._make(_FakeMem(desc), _Handle(flags), desc)


RG = ia.ImageDescriptor(8, 6, channel_order="rg")
IMG = fake(RG)


# ------------------------------------------------------------------ allocation


def test_gather_flag_is_the_drivers():
    cu = pytest.importorskip("cuda.bindings.driver")
    assert GATHER == int(cu.CUDA_ARRAY3D_TEXTURE_GATHER) == 0x08


def test_cuda_geometry_adds_the_flag_for_2d_standard_images_only():
    assert cuda_geometry(RG) == (8, 6, 0, _cuda.CUDA_ARRAY3D_SURFACE_LDST)
    assert cuda_geometry(RG, gather=True) == (8, 6, 0, _cuda.CUDA_ARRAY3D_SURFACE_LDST | GATHER)
    for desc in (
        ia.ImageDescriptor(8),
        ia.ImageDescriptor(8, 6, 4),
        ia.ImageDescriptor(8, 6, type="array", array_size=3),
        ia.ImageDescriptor(8, 8, type="cubemap", array_size=6),
        ia.ImageDescriptor(8, 6, type="mipmap", num_levels=2),
    ):
        with pytest.raises(ImageArrayValueError, match="gather=True allocates 2D standard"):
            cuda_geometry(desc, gather=True)


def test_alloc_refuses_gather_before_the_device():
    # No GPU here: these must fail on the arguments, not on CUDA.
    with pytest.raises(ImageArrayValueError, match="2D standard images only"):
        ia.alloc_image_mem(ia.ImageDescriptor(4, 4, 4), gather=True)
    with pytest.raises(ImageArrayTypeError, match="gather must be a bool"):
        ia.alloc_image_mem(RG, gather=1)
    with pytest.raises(ImageArrayValueError, match="gather= without desc="):
        ia.ImageMem(gather=True)
    with pytest.raises(ImageArrayValueError, match="2D standard images only"):
        ia.empty((4, 4, 4), np.float32, 1, gather=True)
    with pytest.raises(ImageArrayValueError, match="needs memory='array'"):
        ia.empty((4, 4), np.float32, gather=True, memory="linear")
    with pytest.raises(ImageArrayValueError, match="gather=True needs copy=True"):
        ia.asimage(np.zeros((4, 4), np.float32), copy=False, memory="linear", gather=True)
    with pytest.raises(ImageArrayTypeError, match="gather"):
        ia.empty((4, 4), np.float32, gather="yes")
    assert not ia.ImageMem().gatherable


def test_gather_allocations_meet_the_gather_limit(monkeypatch):
    limits = {"max_image_2d": (131072, 65536), "max_image_2d_gather": (32768, 32768)}
    limits["max_surface_2d"] = (131072, 65536)
    asked = []

    def fake_info(key, device):
        asked.append(key)
        return limits[key]

    monkeypatch.setattr(_limits, "device_info", fake_info)
    monkeypatch.setattr(_limits, "device_has", lambda aspect, device: True)
    wide = ia.ImageDescriptor(40000, 8)
    _limits.check_device_support(wide, 0)
    assert asked == ["max_image_2d", "max_surface_2d"]
    asked.clear()
    with pytest.raises(ImageArrayValueError, match="width 40000 exceeds .* limit of 32768"):
        _limits.check_device_support(wide, 0, gather=True)
    assert asked == ["max_image_2d_gather"]
    _limits.check_device_support(ia.ImageDescriptor(32768, 8), 0, gather=True)


def test_is_gatherable_reads_the_allocation_flags():
    assert is_gatherable(_Handle(GATHER | _cuda.CUDA_ARRAY3D_SURFACE_LDST))
    assert not is_gatherable(_Handle(_cuda.CUDA_ARRAY3D_SURFACE_LDST))
    assert not is_gatherable(object())  # no flags known: not gatherable
    assert IMG.gatherable
    assert not fake(RG, flags=_cuda.CUDA_ARRAY3D_SURFACE_LDST).gatherable
    assert not fake(ia.ImageDescriptor(8, 6, 4)).gatherable


# ------------------------------------------------------------------ gather's checks


@pytest.mark.parametrize(
    "desc, match",
    [
        (ia.ImageDescriptor(8), "not a 1D image of type 'standard'"),
        (ia.ImageDescriptor(8, 6, 4), "not a 3D image of type 'standard'"),
        (ia.ImageDescriptor(8, 6, type="array", array_size=3), "not a 2D image of type 'array'"),
        (
            ia.ImageDescriptor(8, 8, type="cubemap", array_size=6),
            "not a 2D image of type 'cubemap'",
        ),
        (ia.ImageDescriptor(8, 6, type="mipmap", num_levels=2), "of type 'mipmap'"),
    ],
)
def test_only_2d_standard_images_gather(desc, match):
    with pytest.raises(ImageArrayValueError, match=match):
        fake(desc).gather(np.zeros((3, 2), np.float32))


def test_layer_views_and_levels_do_not_gather():
    layered = fake(ia.ImageDescriptor(8, 6, type="array", array_size=3))
    with pytest.raises(ImageArrayValueError, match="a layer, face or level"):
        layered.layer(1).gather(np.zeros((3, 2), np.float32))


def test_regions_do_not_gather():
    with pytest.raises(ImageArrayValueError, match="is a region"):
        IMG[1:3, 2:5].gather(np.zeros((3, 2), np.float32))


def test_an_array_without_the_flag_says_how_to_get_one():
    img = fake(RG, flags=_cuda.CUDA_ARRAY3D_SURFACE_LDST)
    with pytest.raises(ImageArrayValueError) as info:
        img.gather(np.zeros((3, 2), np.float32))
    msg = str(info.value)
    assert "without the gather flag" in msg and "cudaArrayTextureGather" in msg
    assert "ia.asimage(data, gather=True)" in msg and "ia.asimage(img, gather=True)" in msg


@pytest.mark.parametrize(
    "component, error, match",
    [
        (2, ImageArrayValueError, r"component=2 is not a channel of this 2-channel image: "),
        (-1, ImageArrayValueError, r"allowed 0 \(x/r\), 1 \(y/g\)"),
        (1.0, ImageArrayTypeError, r"component must be an int \(0\.\.1\)"),
        (True, ImageArrayTypeError, "component must be an int"),
        (None, ImageArrayTypeError, "component must be an int"),
    ],
)
def test_component_must_be_a_channel(component, error, match):
    with pytest.raises(error, match=match):
        IMG.gather(np.zeros((3, 2), np.float32), component)


def test_component_counts_the_images_channels():
    one = fake(ia.ImageDescriptor(8, 6))
    with pytest.raises(ImageArrayValueError, match="1-channel image: allowed 0 \\(x/r\\)$"):
        one.gather(np.zeros((3, 2), np.float32), 1)


@pytest.mark.parametrize(
    "coords, error, match",
    [
        (np.zeros((3, 3), np.float32), ImageArrayValueError, r"shape \(\.\.\., 2\).*\(3, 3\)"),
        (np.zeros(2, np.float32)[0], ImageArrayValueError, r"not shape \(\)"),
        ([1.0, 2.0, 3.0], ImageArrayValueError, r"not shape \(3,\)"),
        (np.zeros((3, 2), np.complex64), ImageArrayTypeError, "real numbers.*complex64"),
        (np.zeros((3, 2), bool), ImageArrayTypeError, "real numbers.*bool"),
        ([[1.0, 2.0], [3.0]], ImageArrayValueError, "cannot be made an array"),
    ],
)
def test_coords_are_checked_before_the_device(coords, error, match):
    with pytest.raises(error, match=match):
        IMG.gather(coords)


def test_sampler_must_be_a_sampler():
    with pytest.raises(ImageArrayTypeError, match="sampler must be an ia.Sampler or None"):
        IMG.gather(np.zeros((3, 2), np.float32), 0, "clamp")


def test_gather_textures_are_made_with_nearest_filtering():
    assert gathers._gather_sampler(None) == ia.Sampler("clamp_to_edge", "unnormalized", "nearest")
    linear = ia.Sampler("clamp", "normalized", "linear", border_color=(1, 2, 3, 4))
    made = gathers._gather_sampler(linear)
    assert made.filtering is ia.FilteringMode.NEAREST
    assert (made.addressing, made.coordinates, made.border_color) == (
        linear.addressing,
        linear.coordinates,
        linear.border_color,
    )
    nearest = ia.Sampler("repeat", "normalized")
    assert gathers._gather_sampler(nearest) is nearest


# ------------------------------------------------------------------ the kernel


@pytest.mark.parametrize("ctype", list(ia.ChannelType))
def test_gather_types(ctype):
    vt, ot, dtype = _kernels.gather_types(ctype)
    if ctype.reads_as_float:
        assert (vt, ot, dtype) == ("float4", "float", np.dtype(np.float32))
    else:
        assert dtype == np.dtype(ctype.dtype_name) and vt.endswith("4")
        assert _kernels.read_types(ctype, 4)[:2] == (vt, ot)


@pytest.mark.parametrize("ctype", list(ia.ChannelType))
def test_gather_kernels_compile(ctype):
    import _nvrtc

    result = _nvrtc.compile(_kernels.gather_source(*_kernels.gather_types(ctype)[:2]))
    assert result.ok, result.log
