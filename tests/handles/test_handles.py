"""create_image rules, checked without a GPU through plan_handle."""

from __future__ import annotations

import operator

import numpy
import pytest

import imagearray as ia
from imagearray.handles import ARRAY, LINEAR, MIPMAP, PITCH2D, plan_handle

F32_2D = ia.ImageDescriptor(100, 50)
RGBA8 = ia.ImageDescriptor(100, 50, channel_order="rgba", channel_type="unorm_int8")
LIMITS = {
    "image_row_pitch_align": 32,
    "texture_alignment": 512,
    "max_image_1d_linear_width": 1 << 27,
    "max_image_linear_width": 131072,
    "max_image_linear_height": 65000,
    "max_image_linear_row_pitch": 2097120,
}


def test_unsampled_array_plan():
    p = plan_handle(F32_2D, ARRAY, None)
    assert not p.sampled and p.kind == ARRAY


def test_unsampled_mipmap_and_usm_refused():
    mip = ia.ImageDescriptor(64, 64, type="mipmap", num_levels=3)
    with pytest.raises(ia.ImageArrayValueError, match="unsampled image handle to a mipmap"):
        plan_handle(mip, MIPMAP, None)
    with pytest.raises(ia.ImageArrayValueError, match="USM images can only be sampled"):
        plan_handle(F32_2D, PITCH2D, None)


def test_sampled_array_flags_and_modes():
    s = ia.Sampler("clamp", "normalized", "linear", border_color=(1, 2, 3, 4))
    p = plan_handle(RGBA8, ARRAY, s)
    assert p.sampled and p.channels == 4
    # CU_TR_ADDRESS_MODE_BORDER on the image's axes, CLAMP on the unused z axis (a
    # border there would blend the border colour into every linear sample)
    assert p.address_modes == (3, 3, 1)
    one_d = ia.ImageDescriptor(16, channel_type="fp32")
    assert plan_handle(one_d, ARRAY, s).address_modes == (3, 1, 1)
    three_d = ia.ImageDescriptor(4, 4, 4)
    assert plan_handle(three_d, ARRAY, s).address_modes == (3, 3, 3)
    assert p.filter_mode == 1 and p.flags == 0x02  # normalized coordinates, read as float
    assert p.border_color == (1.0, 2.0, 3.0, 4.0)
    from cuda.bindings import driver

    assert p.fmt == int(driver.CUarray_format.CU_AD_FORMAT_UNSIGNED_INT8)


def test_integer_types_read_as_integer_unless_filtered():
    u16 = ia.ImageDescriptor(8, 8, channel_type="unsigned_int16")
    p = plan_handle(u16, ARRAY, ia.Sampler())
    assert p.flags & 0x01  # CU_TRSF_READ_AS_INTEGER
    assert not plan_handle(F32_2D, ARRAY, ia.Sampler()).flags & 0x01
    assert not plan_handle(RGBA8, ARRAY, ia.Sampler()).flags & 0x01
    # 8/16-bit integers with a linear filter: a normalized read the driver filters
    for sampler in (ia.Sampler(filtering="linear"), ia.Sampler(mipmap_filtering="linear")):
        p = plan_handle(u16, ARRAY, sampler)
        assert not p.flags & 0x01
        assert (p.filter_mode, p.mipmap_filter_mode) == (
            sampler.cuda_filter_mode,
            sampler.cuda_mipmap_filter_mode,
        )
        assert p.filtered_integer  # kernels declare ia::filtered_integer_image_handle
    assert not plan_handle(u16, ARRAY, ia.Sampler()).filtered_integer
    assert not plan_handle(F32_2D, ARRAY, ia.Sampler(filtering="linear")).filtered_integer


@pytest.mark.parametrize(
    "ct, ctype",
    [
        ("signed_int8", "signed char"),
        ("unsigned_int8", "unsigned char"),
        ("signed_int16", "short"),
        ("unsigned_int16", "unsigned short"),
    ],
)
def test_filtered_integer_plans_name_the_kernel_handle_type(ct, ctype):
    d = ia.ImageDescriptor(8, 8, channel_type=ct)
    assert plan_handle(d, ARRAY, ia.Sampler(filtering="linear")).filtered_integer
    assert plan_handle(d, PITCH2D, ia.Sampler(filtering="linear"), pitch=512).filtered_integer
    # 1D USM is read with tex1Dfetch and an integer read, whatever the sampler
    d1 = ia.ImageDescriptor(64, channel_type=ct)
    assert not plan_handle(d1, LINEAR, ia.Sampler(filtering="linear")).filtered_integer
    assert ia.ChannelType(ct).filter_ctype == ctype


@pytest.mark.parametrize("ct", ["signed_int32", "unsigned_int32"])
def test_32bit_integer_handles_with_linear_samplers_are_for_fetching(ct):
    # the driver refuses a linear filter on them: the handle is made with point
    # filtering (fetches ignore the sampler, spec), ImageArray.sample refuses
    d = ia.ImageDescriptor(8, 8, channel_type=ct)
    p = plan_handle(d, ARRAY, ia.Sampler(filtering="linear", mipmap_filtering="linear"))
    assert p.flags & 0x01 and (p.filter_mode, p.mipmap_filter_mode) == (0, 0)


def test_wrapping_unnormalized_sampler_makes_a_clamping_handle():
    p = plan_handle(F32_2D, ARRAY, ia.Sampler(("repeat", "mirrored_repeat")))
    assert p.address_modes == (1, 1, 1) and not p.flags & 0x02


def test_usm_linear_and_pitched():
    d1 = ia.ImageDescriptor(1000)
    p = plan_handle(d1, LINEAR, ia.Sampler(), address=512 * 7, limits=LIMITS)
    assert p.size_bytes == 4000 and p.kind == LINEAR
    p = plan_handle(F32_2D, PITCH2D, ia.Sampler(), address=0, pitch=416, limits=LIMITS)
    assert (p.width, p.height, p.pitch) == (100, 50, 416)
    with pytest.raises(
        ia.ImageArrayValueError, match="multiple of the device's image_row_pitch_align 32"
    ):
        plan_handle(F32_2D, PITCH2D, ia.Sampler(), pitch=420, limits=LIMITS)
    with pytest.raises(ia.ImageArrayValueError, match="smaller than a row"):
        plan_handle(F32_2D, PITCH2D, ia.Sampler(), pitch=384, limits=LIMITS)
    with pytest.raises(ia.ImageArrayValueError, match="texture alignment of 512"):
        plan_handle(F32_2D, PITCH2D, ia.Sampler(), address=256, pitch=416, limits=LIMITS)
    # a filtering, normalized sampler on 1D USM: made for fetching (tex1Dfetch), with
    # the sampler's filter, addressing and normalization dropped
    for ct in ("fp32", "unsigned_int8"):
        d = ia.ImageDescriptor(1000, channel_type=ct)
        s = ia.Sampler("repeat", "normalized", "linear", mipmap_filtering="linear")
        p = plan_handle(d, LINEAR, s, limits=LIMITS)
        assert (p.filter_mode, p.mipmap_filter_mode, p.address_modes) == (0, 0, (1, 1, 1))
        assert not p.flags & 0x02
        assert bool(p.flags & 0x01) == (ct == "unsigned_int8")
    with pytest.raises(ia.ImageArrayValueError, match="1D USM image"):
        plan_handle(F32_2D, LINEAR, ia.Sampler(), limits=LIMITS)
    with pytest.raises(ia.ImageArrayValueError, match="2D USM image"):
        plan_handle(d1, PITCH2D, ia.Sampler(), limits=LIMITS)
    wide = ia.ImageDescriptor(200000, 2)
    with pytest.raises(ia.ImageArrayValueError, match="max_image_linear_width"):
        plan_handle(wide, PITCH2D, ia.Sampler(), pitch=800000, limits=LIMITS)


def test_sampler_type_checked():
    with pytest.raises(ia.ImageArrayTypeError, match="ia.Sampler"):
        plan_handle(F32_2D, ARRAY, "linear")


def test_handle_types_are_kernel_arguments_that_refuse_arithmetic():
    from cupy._core._scalar import CScalar

    from imagearray.handles import SampledImageHandle

    class FakeTex:
        raw_handle = 42
        alive = True
        device = 0

        def destroy(self):
            self.alive = False

    h = SampledImageHandle(FakeTex(), F32_2D, ia.Sampler())
    assert int(h) == 42 and h.raw_handle == 42 and operator.index(h) == 42
    # CuPy's launcher packs it as a 64-bit kernel argument (it refuses int subclasses)
    arg = CScalar(h)
    assert arg.value == 42 and arg.get_numpy_type() == numpy.uint64
    with pytest.raises(ia.ImageArrayTypeError, match="opaque handle"):
        h + 1
    with pytest.raises(ia.ImageArrayTypeError, match="cannot be pickled"):
        import pickle

        pickle.dumps(h)
    with h:
        pass
    assert not h.alive
    with pytest.raises(ia.ImageArrayTypeError):
        ia.destroy_image_handle(42)


def test_plans_are_reused_for_the_same_descriptor_and_sampler_only():
    from imagearray.handles.create import _memo_plan

    linear = ia.Sampler(filtering="linear")
    p1 = _memo_plan(F32_2D, ARRAY, linear, 0x100, None)
    assert _memo_plan(F32_2D, ARRAY, linear, 0x100, None) is p1  # planned once
    assert p1 == plan_handle(F32_2D, ARRAY, linear, address=0x100)
    other = ia.Sampler(filtering="nearest")
    p2 = _memo_plan(F32_2D, ARRAY, other, 0x100, None)
    assert p2 is not p1 and p2 == plan_handle(F32_2D, ARRAY, other, address=0x100)
    # an equal but distinct sampler is planned again (identity key), with equal result
    assert _memo_plan(F32_2D, ARRAY, ia.Sampler(filtering="linear"), 0x100, None) == p1
    # a refused plan is not remembered: it is refused every time
    mip = ia.ImageDescriptor(8, 8, type="mipmap", num_levels=2)
    for _ in range(2):
        with pytest.raises(ia.ImageArrayValueError):
            _memo_plan(mip, MIPMAP, linear, 0x100, None)


def test_mipmap_texture_needs_normalized_coordinates():
    # cuTexObjectCreate: CU_TRSF_NORMALIZED_COORDINATES "has to be set" for mipmapped arrays
    mip = ia.ImageDescriptor(64, 64, type="mipmap", num_levels=3)
    with pytest.raises(ia.ImageArrayValueError, match="normalized coordinates"):
        plan_handle(mip, MIPMAP, ia.Sampler("clamp_to_edge"))
    p = plan_handle(mip, MIPMAP, ia.Sampler("clamp_to_edge", "normalized"))
    assert p.flags == 0x02
    # one level of it is a plain array: unnormalized coordinates are fine
    assert plan_handle(mip.mip_level_desc(1), ARRAY, ia.Sampler()).flags == 0


def test_seamless_flag_only_for_cubemaps():
    seamless = ia.Sampler("clamp_to_edge", "normalized", cubemap_filtering="seamless")
    cube = ia.ImageDescriptor(8, 8, type="cubemap", array_size=6)
    assert plan_handle(cube, ARRAY, seamless).flags == 0x42
    mipcube = ia.ImageDescriptor(8, 8, type="mipmap_cubemap", array_size=6, num_levels=2)
    assert plan_handle(mipcube, MIPMAP, seamless).flags == 0x42
    # CU_TRSF_SEAMLESS_CUBEMAP is only valid on CUDA_ARRAY3D_CUBEMAP arrays
    assert plan_handle(F32_2D, ARRAY, seamless).flags == 0x02


def test_handle_for_a_layer_view_refused_before_cuda():
    from imagearray.array import ImageArray

    class FakeMem:
        descriptor = ia.ImageDescriptor(8, 8, type="array", array_size=3)

    class FakeHandle:
        alive = True
        device = 0

        def raw(self):
            raise AssertionError("no CUDA handle may be read")

    one = ia.ImageDescriptor(8, 8)
    for origin in ((0, 0, 0), (0, 0, 2)):  # layer 0 starts at the array's origin too
        view = ImageArray._make(FakeMem(), FakeHandle(), one, origin)
        with pytest.raises(ia.ImageArrayValueError, match="layer or face view"):
            ia.create_image(view, sampler=ia.Sampler())


def test_memory_with_live_handles_cannot_be_freed_by_any_route():
    # ArrayHandle.free() itself refuses, not only free_image_mem/ImageMem.free: a
    # texture or surface left alive would read freed memory. The Cython owner holds
    # the handles made from it (dependents) and decides by itself.
    from imagearray import _memory

    class FakeObject:  # stands for a TextureObject made from the memory
        alive = True

    for cls in (_memory.ArrayHandle, _memory.MipmappedArrayHandle):
        mem = cls.__new__(cls)  # owns nothing: free() makes no driver call
        tex = FakeObject()
        mem.dependents.add(tex)
        with pytest.raises(ia.ImageArrayValueError, match="1 image handle"):
            mem.free()
        with pytest.raises(ia.ImageArrayValueError, match="1 image handle"):
            ia.free_image_mem(mem)
        assert mem.alive
        tex.alive = False
        ia.free_image_mem(mem)
        assert not mem.alive
        with pytest.raises(ia.ReleasedResourceError):
            mem.free()


def test_default_constructed_image_mem_holds_no_memory():
    # spec: "The default constructor does not allocate any memory on the device and the
    # resulting image_mem object is in an uninitialized state" (no GPU needed).
    mem = ia.ImageMem()
    assert not mem.alive and repr(mem) == "ImageMem(uninitialized)"
    assert mem.get_descriptor() == ia.ImageDescriptor()
    uses = (lambda: mem.handle, mem.free, mem.get_device, lambda: mem.get_mip_level_mem_handle(0))
    for use in uses:
        with pytest.raises(ia.ReleasedResourceError):
            use()
    with mem:  # leaving the block frees nothing
        pass
    with pytest.raises(ia.ImageArrayValueError, match="nothing to allocate"):
        ia.ImageMem(device=0)


def test_handles_are_numpy_uint64s_of_their_value():
    """HandleRecipe makes a handle as numpy makes a uint64 subclass instance (the
    allocation, then the value stored): the bytes a kernel argument passes, the value,
    the hash and comparisons are numpy.uint64's, for the extreme values too."""
    import numpy

    from imagearray import _handles
    from imagearray.handles import SampledImageHandle, UnsampledImageHandle

    for cls in (SampledImageHandle, UnsampledImageHandle):
        for v in (0, 1, 0x1234_5678_9ABC_DEF0, 2**63, 2**64 - 1):
            h = _handles.uint64_of(cls, v)
            want = numpy.uint64(v)
            assert type(h) is cls and int(h) == v and h == want and hash(h) == hash(want)
            assert h.tobytes() == want.tobytes() and numpy.asarray(h).dtype == numpy.uint64
            assert not hasattr(h, "__dict__")  # the four slots only
    with pytest.raises(TypeError, match="not a numpy.uint64 subclass"):
        _handles.uint64_of(int, 5)
