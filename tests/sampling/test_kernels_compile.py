"""The sampling and fetch kernels compile with NVRTC for every read type (no GPU)."""

from __future__ import annotations

import _nvrtc  # the tests' NVRTC
import pytest

from imagearray._enums import ChannelType
from imagearray.sampling import kernels as _kernels
from imagearray.sampling import mipkernels as _mipkernels


def assert_compiles(src: str, clean: bool = True, arch: str = "compute_90") -> None:
    """``src`` compiles for ``arch`` (the test skips where NVRTC finds no cuda_fp16.h):
    PTX for compute_90; for sm_90 a CUBIN, which ptxas makes (inline PTX checked too);
    ``clean``: without a warning either (unused variables, narrowing: an empty log)."""
    result = _nvrtc.compile(src, arch)
    if not result.ok and "cuda_fp16.h" in result.log:
        pytest.skip("cuda_fp16.h not found by NVRTC (install nvidia-cuda-runtime)")
    assert result.ok, result.log
    if clean:
        assert result.clean, result.log


KINDS = [
    (_kernels.STANDARD, 1),
    (_kernels.STANDARD, 2),
    (_kernels.STANDARD, 3),
    (_kernels.LAYERED, 1),
    (_kernels.LAYERED, 2),
    (_kernels.CUBEMAP, 2),
    (_kernels.CUBEMAP_LAYERED, 2),
]


def _many(sources):
    return "\n".join(
        src.replace("ia_sample", f"ia_sample_{k}").replace("ia_fetch", f"ia_fetch_{k}")
        for k, src in enumerate(sources)
    )


@pytest.mark.parametrize("ctype", list(ChannelType))
@pytest.mark.parametrize("channels", [1, 2, 4])
def test_sample_kernels_compile(ctype, channels):
    vt, ot, _ = _kernels.read_types(ctype, channels)
    src = _many(
        _kernels.sample_source(kind, dims, vt, ot, mode)
        for kind, dims in KINDS
        for mode in (_kernels.PLAIN, _kernels.LEVEL, _kernels.GRADIENT)
    )
    result = _nvrtc.compile(src)
    assert result.ok, result.log


@pytest.mark.parametrize(
    "texel_size,channels", [(1, 1), (2, 2), (4, 4), (2, 1), (8, 4), (16, 4), (4, 1), (8, 2)]
)
def test_fetch_kernels_compile(texel_size, channels):
    vt = _kernels.fetch_types(texel_size, channels)
    result = _nvrtc.compile(_many(_kernels.fetch_source(k, d, vt) for k, d in KINDS))
    assert result.ok, result.log


@pytest.mark.parametrize(
    "dtype", ["int8", "uint8", "int16", "uint16", "int32", "uint32", "float16", "float32"]
)
@pytest.mark.parametrize("channels", [1, 2, 4])
def test_mipgen_kernels_compile(dtype, channels):
    import numpy as np

    srcs = [
        _mipkernels.mipgen_source(np.dtype(dtype), channels, dims, layered)
        for dims, layered in ((1, False), (2, False), (3, False), (1, True), (2, True))
    ]
    for src in srcs:  # each has its own includes and macros
        assert_compiles(src, clean=False)


def test_texture_calls():
    assert _kernels.texture_call("standard", 2, 0) == "tex2D<VT>(tex, p.x, p.y)"
    assert _kernels.coord_load("standard", 2) == (
        "const float2 p = reinterpret_cast<const float2*>(c)[i];"
    )
    assert _kernels.coord_load("layered", 2) == _kernels.coord_load("standard", 2)
    assert _kernels.coord_load("standard", 3) == _kernels.coord_load("cubemap", 2) == ""
    assert _kernels.texture_call("standard", 3, 0) == "tex3D<VT>(tex, c[3*i+0], c[3*i+1], c[3*i+2])"
    assert _kernels.texture_call("layered", 1, 1) == "tex1DLayeredLod<VT>(tex, c[1*i+0], L, level)"
    assert _kernels.texture_call("cubemap", 2, 2).startswith("texCubemapGrad<VT>(tex, c[3*i+0]")


def test_read_types():
    assert _kernels.read_types(ChannelType.UNORM_INT8, 4)[:2] == ("float4", "float")
    assert _kernels.read_types(ChannelType.FP16, 2)[:2] == ("float2", "float")
    assert _kernels.read_types(ChannelType.SIGNED_INT16, 4)[:2] == ("short4", "short")
    assert _kernels.read_types(ChannelType.UNSIGNED_INT8, 1)[:2] == (
        "unsigned char",
        "unsigned char",
    )
    assert str(_kernels.read_types(ChannelType.SIGNED_INT32, 2)[2]) == "int32"
    assert _kernels.fetch_types(8, 4) == "ushort4" and _kernels.fetch_types(4, 1) == "unsigned int"
    assert _kernels.grid(1000) == ((4,), (256,))
