"""GPU tests of the spec's current-revision queries: the aspects against the driver's
attributes read here through cuda.bindings, and get_image_memory_support /
is_image_handle_supported against what creation actually does on this device."""

from __future__ import annotations

import numpy as np
import pytest

import imagearray as ia
from imagearray.testing import reference

pytestmark = pytest.mark.gpu


def _attr(name: str, ordinal: int = 0) -> int:
    from cuda.bindings import driver as cu

    (err,) = cu.cuInit(0)
    assert err == cu.CUresult.CUDA_SUCCESS, err
    err, dev = cu.cuDeviceGet(ordinal)
    assert err == cu.CUresult.CUDA_SUCCESS, err
    attr = getattr(cu.CUdevice_attribute, f"CU_DEVICE_ATTRIBUTE_{name}")
    err, value = cu.cuDeviceGetAttribute(attr, dev)
    assert err == cu.CUresult.CUDA_SUCCESS, err
    return int(value)


def test_aspects_follow_the_driver_attributes():
    import cupy

    ordinal = cupy.cuda.Device().id
    cc = _attr("COMPUTE_CAPABILITY_MAJOR", ordinal)
    assert ia.device_has("unique_addressing_per_dim") == (
        cc >= 3 and _attr("MAXIMUM_TEXTURE2D_WIDTH", ordinal) > 0
    )
    assert ia.device_has("bindless_images_sample_2d_usm") == (
        cc >= 3 and _attr("MAXIMUM_TEXTURE2D_LINEAR_WIDTH", ordinal) > 0
    )
    # CUDA samples no 1D linear memory (tex1Dfetch only)
    assert ia.device_has("bindless_sampled_image_sample_1d_usm") is False
    # the spelling asks the same
    assert ia.device_has("bindless_sampled_image_sample_2d_usm") == ia.device_has(
        ia.Aspect.BINDLESS_IMAGES_SAMPLE_2D_USM
    )


def test_the_aspects_say_what_sampling_does(rng):
    import cupy

    # 2D pitched USM samples as image memory does (H100/H200: the aspect holds)
    assert ia.device_has(ia.Aspect.BINDLESS_IMAGES_SAMPLE_2D_USM)
    data = rng.random((6, 9)).astype(np.float32)
    arr, pitch = ia.pitched_alloc_device(ia.ImageDescriptor(9, 6))
    arr[...] = cupy.asarray(data)
    s = ia.Sampler("repeat", "normalized", "linear", mipmap_filtering="nearest")
    c = rng.random((64, 2)).astype(np.float32)
    with ia.create_image(arr, ia.ImageDescriptor(9, 6), s, pitch=pitch) as h:
        img = ia.asimage(arr, copy=False)
        got = img.sample(cupy.asarray(c), s).get()
        assert h.kernel_type == "ia::sampled_image_handle"
    # random coordinates: within the 8-bit weights' bound (reference.filter_tolerance)
    tol = reference.filter_tolerance(data, s, dims=2)
    np.testing.assert_allclose(got, reference.sample(data, c, s, dims=2), rtol=0, atol=tol)
    # 1D USM: fetched, never sampled (the aspect is False)
    line = ia.asimage(cupy.arange(16, dtype=cupy.float32), copy=False)
    with pytest.raises(ia.ImageArrayValueError, match="integer fetches only"):
        line.sample(cupy.asarray([1.5], cupy.float32))


DESCS = [
    ia.ImageDescriptor(4096),
    ia.ImageDescriptor(40000),  # beyond the 1D surface limit of many devices
    ia.ImageDescriptor(640, 480, channel_order="rgba"),
    ia.ImageDescriptor(100, 65001),  # beyond the usual 2D linear height (65000)
    ia.ImageDescriptor(32, 32, 32),
    ia.ImageDescriptor(64, 64, type="mipmap", num_levels=3),
    ia.ImageDescriptor(64, 64, type="array", array_size=3),
    ia.ImageDescriptor(16, 16, type="cubemap", array_size=6),
]


def _make_usm(desc: ia.ImageDescriptor, sampler):
    import cupy

    if desc.dimensions == 1:
        a = cupy.zeros(desc.width * desc.num_channels, desc.dtype)
        return ia.create_image(a, desc, sampler)
    # the descriptor form: the array is of desc's dtype and shape, as create_image wants
    arr, pitch = ia.pitched_alloc_device(desc)
    return ia.create_image(arr, desc, sampler, pitch=pitch)


def _creates(make) -> bool:
    try:
        h = make()
    except ia.ImageArrayValueError:
        return False
    h.destroy()
    return True


@pytest.mark.parametrize("desc", DESCS, ids=str)
def test_memory_support_is_what_allocation_and_creation_do(desc):
    support = ia.get_image_memory_support(desc)
    # image memory: alloc_image_mem succeeds exactly when it is listed
    try:
        mem = ia.ImageMem(desc)
    except ia.ImageArrayValueError:
        assert ia.ImageMemoryHandleType.OPAQUE_HANDLE not in support
    else:
        assert ia.ImageMemoryHandleType.OPAQUE_HANDLE in support
        kind_sampler = ia.Sampler(coordinates="normalized")
        for handle, sampler in (
            (ia.SampledImageHandle, kind_sampler),
            (ia.UnsampledImageHandle, None),
        ):
            made = _creates(lambda s=sampler: ia.create_image(mem, desc, s))
            assert ia.is_image_handle_supported(handle, desc, "opaque_handle") is made, handle
        mem.free()
    # linear memory: a sampled handle over a CuPy array is made exactly when listed
    usm = ia.ImageMemoryHandleType.USM_POINTER
    if desc.dimensions == 3 or desc.type is not ia.ImageType.STANDARD:
        assert usm not in support
        assert not ia.is_image_handle_supported(ia.SampledImageHandle, desc, usm)
        return
    made = _creates(lambda: _make_usm(desc, ia.Sampler()))
    assert (usm in support) is made
    assert ia.is_image_handle_supported(ia.SampledImageHandle, desc, usm) is made
    assert ia.is_image_handle_supported(ia.UnsampledImageHandle, desc, usm) is False
    if made:
        with pytest.raises(ia.ImageArrayValueError, match="CUDA surfaces need image memory"):
            _make_usm(desc, None)
