"""``ia::gather_image`` (image.cuh), compiled with NVRTC: every 4-component type reaches
the tld4 instruction of its register type, user types go through a HintT, and every
other use fails with one ``imagearray:`` static_assert. No GPU is needed; the GPU
tests (tests/sampling/test_gather_gpu.py) run it."""

from __future__ import annotations

import re

import pytest
from test_headers import BAD_KERNEL, assert_compiles, compile_cuda, needs_fp16

GATHER = r"""
#include <imagearray/bindless_images.cuh>

using T = TYPE;
struct alignas(alignof(T)) user_t { unsigned char bytes[sizeof(T)]; };

extern "C" __global__ void gather_all(ia::sampled_image_handle s, int comp, T *out,
                                      user_t *user) {
  const float2 c = make_float2(0.5f + threadIdx.x, 1.5f);
  out[0] = ia::gather_image<T>(s, c);           // component 0
  out[1] = ia::gather_image<T>(s, c, 3);        // a constant component
  out[2] = ia::gather_image<T>(s, c, comp);     // a run-time one
  user[0] = ia::gather_image<user_t, T>(s, c, comp);
}
"""

# 4-component type -> the tld4 result type it reads through
GATHER_TYPES = {
    "char4": "s32",
    "short4": "s32",
    "int4": "s32",
    "uchar4": "u32",
    "ushort4": "u32",
    "uint4": "u32",
    "float4": "f32",
}
GATHER_PARAMS = [pytest.param(t, r, id=t) for t, r in GATHER_TYPES.items()] + [
    pytest.param("ia::half4", "f32", id="ia_half4", marks=needs_fp16)
]


@pytest.mark.parametrize("type_name, reg", GATHER_PARAMS)
@pytest.mark.parametrize("arch", ["compute_75", "compute_90"])
def test_gather_compiles_to_tld4(type_name, reg, arch):
    ptx = assert_compiles(GATHER.replace("TYPE", type_name), arch).ptx
    # Float coordinates, a 2D footprint, four results of the read's register type.
    found = set(re.findall(rf"tld4\.([rgba])\.2d\.v4\.{reg}\.f32", ptx))
    assert found == {"r", "g", "b", "a"}, ptx  # a run-time component reaches all four
    assert not re.search(r"^\s*\.(global|const)\s", ptx, re.M)


@pytest.mark.parametrize(
    "type_name", ["float4", "uchar4", pytest.param("ia::half4", marks=needs_fp16)]
)
def test_gather_assembles(type_name):
    # sm_90 runs ptxas over what NVRTC made of tex2Dgather.
    assert_compiles(GATHER.replace("TYPE", type_name), "sm_90")


def test_gather_constant_component_is_one_instruction():
    source = (
        "#include <imagearray/image.cuh>\n"
        'extern "C" __global__ void k(ia::sampled_image_handle s, float4 *out) {\n'
        "  out[0] = ia::gather_image<float4>(s, make_float2(1.0f, 2.0f), 2);\n"
        "}\n"
    )
    ptx = assert_compiles(source, fp16=False).ptx
    assert re.findall(r"tld4\.\w\.2d", ptx) == ["tld4.b.2d"], ptx


BAD_GATHER = {
    "scalar": ("out[0] = ia::gather_image<float>(s, make_float2(1, 2))", "4-component type"),
    "two_components": (
        "out[0] = ia::gather_image<uchar2>(s, make_float2(1, 2)).x",
        "4-component type",
    ),
    "user_type_with_a_2_component_hint": (
        "out[0] = ia::gather_image<pair, float2>(s, make_float2(1, 2)).a",
        "4-component type",
    ),
    "double4": (
        "out[0] = ia::gather_image<double4>(s, make_float2(1, 2)).x",
        "is not a recognized standard type",
    ),
    "int_coordinates": (
        "out[0] = ia::gather_image<float4>(s, make_int2(1, 2)).x",
        "gather_image reads 2D images only",
    ),
    "1d_coordinates": (
        "out[0] = ia::gather_image<float4>(s, 0.5f).x",
        "gather_image reads 2D images only",
    ),
    "3d_coordinates": (
        "out[0] = ia::gather_image<float4>(s, make_float3(1, 2, 3)).x",
        "gather_image reads 2D images only",
    ),
}


@pytest.mark.parametrize("body, message", BAD_GATHER.values(), ids=BAD_GATHER.keys())
def test_unsupported_gather_fails_with_a_message(body, message):
    result = compile_cuda(BAD_KERNEL.replace("BODY", body), fp16=False)
    assert not result.ok
    assert "imagearray:" in result.log
    assert message in result.log, result.log
    assert len(result.errors) == 1, result.log
