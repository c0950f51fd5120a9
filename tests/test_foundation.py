"""Foundation: errors, driver translation, device queries, device/stream model."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

import imagearray as ia


def test_import_and_public_names():
    for name in ia.__all__:
        assert hasattr(ia, name), name


def test_error_family():
    assert issubclass(ia.CUDAError, ia.ImageArrayError)
    assert issubclass(ia.CUDAUnavailableError, ia.ImageArrayError)
    assert issubclass(ia.InvalidDescriptorError, ValueError)
    assert issubclass(ia.CopyError, ValueError)
    assert issubclass(ia.ImageArrayTypeError, TypeError)
    assert issubclass(ia.CUDAOutOfMemoryError, MemoryError)
    err = ia.CUDAError(1, "CUDA_ERROR_INVALID_VALUE", "invalid argument", "cuFoo")
    assert str(err) == "cuFoo failed: CUDA_ERROR_INVALID_VALUE: invalid argument"
    assert (err.code, err.name, err.text, err.what) == (
        1,
        "CUDA_ERROR_INVALID_VALUE",
        "invalid argument",
        "cuFoo",
    )
    e = ia.CopyError("src offset 3 + extent 8 > 10", scenario=7)
    assert e.scenario == 7 and "scenario 7" in str(e) and "3 + extent 8" in str(e)


_NO_DEVICE_SCRIPT = textwrap.dedent(
    """
    import imagearray as ia
    assert ia.is_available() is False
    for call in (lambda: ia.device_info(), lambda: ia.device_has(ia.Aspect.MIPMAP),
                 lambda: ia.get_device()):
        try:
            call()
        except ia.CUDAUnavailableError as exc:
            msg = str(exc)
            assert "DynamicLibNotFound" not in type(exc).__name__
        else:
            raise SystemExit("no CUDAUnavailableError")
    print("OK", msg)
    """
)


def test_no_device_raises_cuda_unavailable():
    # CUDA_VISIBLE_DEVICES="" hides every device where there is a driver; where
    # there is none libcuda fails to load. Either way: CUDAUnavailableError.
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    res = subprocess.run(
        [sys.executable, "-c", _NO_DEVICE_SCRIPT], env=env, capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("OK ")


def test_info_command_without_device_prints_versions_then_fails_in_one_line():
    import cuda.bindings
    import cupy

    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    res = subprocess.run(
        [sys.executable, "-m", "imagearray", "info"], env=env, capture_output=True, text=True
    )
    assert res.returncode == 1
    out = res.stdout.splitlines()
    assert out[0].startswith(f"imagearray {ia.__version__} (")
    assert f"CuPy {cupy.__version__}; cuda-bindings {cuda.bindings.__version__};" in out[1]
    assert out[2] == f"device headers {ia.get_include()} (hash {ia.header_hash()})"
    assert len(out) == 3
    assert res.stderr.count("\n") == 1 and "no CUDA device available" in res.stderr


def test_unknown_aspect_and_info_key_are_type_errors():
    with pytest.raises(ia.ImageArrayTypeError, match="unknown aspect 'nope'"):
        ia.device_has("nope")
    with pytest.raises(ia.ImageArrayTypeError, match="unknown device_info key"):
        ia.device_info("nope")


# ---------------------------------------------------------------- GPU


@pytest.mark.gpu
def test_info_command_prints_table():
    res = subprocess.run(
        [sys.executable, "-m", "imagearray", "info"], capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    assert "| mipmap |" in res.stdout and "| image_row_pitch_align |" in res.stdout


@pytest.mark.gpu
def test_device_info_matches_cupy_properties():
    import cupy

    dev = cupy.cuda.runtime.getDevice()
    props = cupy.cuda.runtime.getDeviceProperties(dev)
    info = ia.device_info()
    assert info["image_row_pitch_align"] == props["texturePitchAlignment"]
    assert info["texture_alignment"] == props["textureAlignment"]
    assert info["surface_alignment"] == props["surfaceAlignment"]
    assert info["max_image_1d"] == props["maxTexture1D"]
    assert info["max_image_2d"] == tuple(props["maxTexture2D"])
    assert info["max_image_2d_gather"] == tuple(props["maxTexture2DGather"])
    assert info["max_image_3d"] == tuple(props["maxTexture3D"])
    assert info["max_image_1d_array"] == tuple(props["maxTexture1DLayered"])
    assert info["max_image_2d_array"] == tuple(props["maxTexture2DLayered"])
    assert info["max_image_cubemap"] == props["maxTextureCubemap"]
    assert info["max_image_cubemap_array"] == tuple(props["maxTextureCubemapLayered"])
    assert info["max_image_1d_mipmap"] == props["maxTexture1DMipmap"]
    assert info["max_image_2d_mipmap"] == tuple(props["maxTexture2DMipmap"])
    lin = tuple(props["maxTexture2DLinear"])
    assert (
        info["max_image_linear_width"],
        info["max_image_linear_height"],
        info["max_image_linear_row_pitch"],
    ) == lin
    assert info["max_surface_2d"] == tuple(props["maxSurface2D"])
    assert info["max_surface_3d"] == tuple(props["maxSurface3D"])
    assert info["max_surface_cubemap"] == props["maxSurfaceCubemap"]
    assert info["max_surface_1d"] == props["maxSurface1D"]
    assert info["max_surface_1d_array"] == tuple(props["maxSurface1DLayered"])
    assert info["max_surface_2d_array"] == tuple(props["maxSurface2DLayered"])
    assert info["max_surface_cubemap_array"] == tuple(props["maxSurfaceCubemapLayered"])
    assert info["compute_capability"] == (props["major"], props["minor"])
    assert info["name"] == props["name"].decode()
    assert info["total_memory"] == props["totalGlobalMem"]
    assert info["driver_version"] == cupy.cuda.runtime.driverGetVersion()
    assert info["mipmap_max_anisotropy"] == (16 if props["maxTexture2DMipmap"][0] else 0)
    assert ia.device_info("image_row_pitch_align") == props["texturePitchAlignment"]


@pytest.mark.gpu
def test_aspects_follow_device_properties():
    import cupy

    props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.runtime.getDevice())
    cc3 = props["major"] >= 3
    expected = {
        ia.Aspect.BINDLESS_IMAGES: cc3 and props["maxTexture2D"][0] > 0,
        ia.Aspect.BINDLESS_IMAGES_2D_USM: cc3 and props["maxTexture2DLinear"][0] > 0,
        ia.Aspect.BINDLESS_SAMPLED_IMAGE_FETCH_2D: cc3 and props["maxTexture2D"][0] > 0,
        ia.Aspect.BINDLESS_SAMPLED_IMAGE_FETCH_3D: cc3 and props["maxTexture3D"][0] > 0,
        ia.Aspect.BINDLESS_SAMPLED_IMAGE_FETCH_3D_USM: False,
        ia.Aspect.MIPMAP: cc3 and props["maxTexture2DMipmap"][0] > 0,
        ia.Aspect.CUBEMAP: cc3 and props["maxTextureCubemap"] > 0,
        ia.Aspect.IMAGE_ARRAY: cc3 and props["maxTexture2DLayered"][2] > 0,
        ia.Aspect.BINDLESS_IMAGES_SHARED_USM: cc3 and props["managedMemory"] == 1,
        ia.Aspect.INTEROP_SEMAPHORE_EXPORT: False,
    }
    for aspect, want in expected.items():
        assert ia.device_has(aspect) is bool(want), aspect
        assert ia.device_has(aspect.value) is bool(want), aspect
    # every aspect answers a bool
    assert all(isinstance(ia.device_has(a), bool) for a in ia.Aspect)


@pytest.mark.gpu
def test_invalid_driver_call_is_translated():
    from cuda.bindings import driver as cu

    from imagearray import _driver

    attr = int(cu.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_TEXTURE_PITCH_ALIGNMENT)
    with pytest.raises(ia.CUDAError) as info:
        _driver.device_attribute(attr, 10_000)
    assert info.value.name == "CUDA_ERROR_INVALID_DEVICE"
    assert "cuDeviceGet" in info.value.what
    assert info.value.text  # the driver's own description


@pytest.mark.gpu
def test_device_selection_and_context_is_cupys():
    import cupy

    from imagearray import _driver

    assert ia.get_device() == cupy.cuda.runtime.getDevice()
    assert ia.get_device(cupy.cuda.Device(0)) == 0
    with pytest.raises(ia.DeviceMismatchError, match="does not exist"):
        ia.get_device(cupy.cuda.runtime.getDeviceCount())
    cupy.zeros(1)  # CuPy makes its (primary) context current
    cupy_ctx = _driver.current_context_handle()
    _driver.use_device(0)
    assert _driver.primary_context_handle(0) == cupy_ctx
    assert _driver.current_context_handle() == cupy_ctx


@pytest.mark.gpu
def test_stream_resolution():
    import cupy

    s = cupy.cuda.Stream(non_blocking=True)
    assert ia.get_stream(s) == s.ptr
    with s:
        assert ia.get_stream() == s.ptr
    assert ia.get_stream() == cupy.cuda.get_current_stream().ptr
    assert ia.get_stream(int(s.ptr), device=0) == s.ptr
    with pytest.raises(ia.ImageArrayTypeError):
        ia.get_stream("default")


def test_allocation_checks_surface_limits_too(monkeypatch):
    # Every array is made with CUDA_ARRAY3D_SURFACE_LDST, so cuArray3DCreate also
    # requires the surface limits ("Valid extents with CUDA_ARRAY3D_SURFACE_LDST set").
    from imagearray.memory import limits as _limits

    limits = {
        "max_image_1d": 131072,
        "max_surface_1d": 32768,
        "max_image_1d_array": (32768, 2048),
        "max_surface_1d_array": (32768, 1024),
        "max_image_cubemap_array": (32768, 6 * 341),
        "max_surface_cubemap_array": (32768, 6 * 100),
    }
    asked = []

    def fake_info(key, device):
        asked.append(key)
        return limits[key]

    monkeypatch.setattr(_limits, "device_info", fake_info)
    monkeypatch.setattr(_limits, "device_has", lambda aspect, device: True)
    check = _limits.check_device_support
    check(ia.ImageDescriptor(32768), 0)
    assert asked == ["max_image_1d", "max_surface_1d"]
    with pytest.raises(ia.ImageArrayValueError, match="width 32769 exceeds .* limit of 32768"):
        check(ia.ImageDescriptor(32769), 0)
    check(ia.ImageDescriptor(16, type="array", array_size=1024), 0)
    with pytest.raises(ia.ImageArrayValueError, match="layers 1025 exceeds .* limit of 1024"):
        check(ia.ImageDescriptor(16, type="array", array_size=1025), 0)
    check(ia.ImageDescriptor(8, 8, type="cubemap_array", array_size=100), 0)
    with pytest.raises(ia.ImageArrayValueError, match="layers 606 exceeds .* limit of 600"):
        check(ia.ImageDescriptor(8, 8, type="cubemap_array", array_size=101), 0)


def test_every_limit_key_is_a_device_info_key():
    from imagearray import _devinfo
    from imagearray.memory import limits as _limits

    for keys in _limits._LIMIT_KEYS.values():
        for key in keys:
            assert key in _devinfo.INFO_ATTRS, key
