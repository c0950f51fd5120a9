"""The device headers (imagearray/include/imagearray/*.cuh), compiled with NVRTC.

No GPU is needed: NVRTC compiles to PTX (``compute_XX``) on any machine, and to a cubin
(``sm_XX``, which also runs ptxas over the inline PTX) likewise. Every public function is
instantiated for every recognized standard type, user-defined types go through their
HintT, unsupported types must fail with an ``imagearray:`` static_assert, and the spec's
example kernels must compile.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import _nvrtc  # the tests' NVRTC
import pytest

from imagearray import HeadersNotFoundError, _include

if not _nvrtc.HAVE_NVRTC:  # nothing here can run
    pytest.skip(_nvrtc.SKIP_REASON, allow_module_level=True)

INCLUDE = _include.get_include()
HEADER_DIR = Path(INCLUDE) / "imagearray"
HEADERS = sorted(p.name for p in HEADER_DIR.glob("*.cuh"))


FP16_INCLUDE = _nvrtc.FP16_INCLUDE
needs_fp16 = pytest.mark.skipif(
    FP16_INCLUDE is None,
    reason="cuda_fp16.h not found (install nvidia-cuda-runtime or set CUDA_PATH); "
    "the half-precision overloads need it",
)


def compile_cuda(
    source: str,
    arch: str = "compute_90",
    *,
    fp16: bool = True,
    options: tuple[str, ...] = (),
) -> _nvrtc.Compiled:
    """Compile ``source`` with NVRTC; the imagearray include folder is always on the path."""
    opts = (f"-I{INCLUDE}", *options)
    return _nvrtc.compile(source, arch, fp16=fp16, options=opts, name="test_kernel.cu")


def assert_compiles(source: str, arch: str = "compute_90", **kw) -> _nvrtc.Compiled:
    result = compile_cuda(source, arch, **kw)
    assert result.ok, f"NVRTC failed for {arch}:\n{result.log}"
    return result


# ---------------------------------------------------------------------------------------
# The headers themselves


def test_get_include_points_at_the_headers():
    assert os.path.isabs(INCLUDE) and os.path.isdir(INCLUDE)
    for name in (
        "bindless_images.cuh",
        "handles.cuh",
        "types.cuh",
        "image.cuh",
        "mipmap.cuh",
        "image_array.cuh",
        "cubemap.cuh",
    ):
        assert (HEADER_DIR / name).is_file(), name
    # Everything shipped sits flat in include/imagearray/, the package-data glob.
    assert not [p for p in HEADER_DIR.iterdir() if p.is_dir() and p.name != "__pycache__"]


@pytest.mark.parametrize("fp16", [False, pytest.param(True, marks=needs_fp16)])
@pytest.mark.parametrize("header", HEADERS)
def test_each_header_compiles_alone(header, fp16):
    source = f'#include <imagearray/{header}>\nextern "C" __global__ void k() {{}}\n'
    result = assert_compiles(source, fp16=fp16)
    # Nothing of the headers may become a global variable of the user's module.
    assert not re.search(r"^\s*\.(global|const)\s", result.ptx, re.M), result.ptx


def test_half_detection():
    source = (
        "#include <imagearray/bindless_images.cuh>\n"
        'static_assert(IMAGEARRAY_HAS_HALF == {want}, "half detection");\n'
    )
    assert_compiles(source.replace("{want}", "0"), fp16=False)
    if FP16_INCLUDE is not None:
        assert_compiles(source.replace("{want}", "1"), fp16=True)
        assert_compiles("#define IMAGEARRAY_NO_HALF\n" + source.replace("{want}", "0"), fp16=True)


def test_cplusplus14_is_refused_with_a_message():
    result = compile_cuda(
        "#include <imagearray/bindless_images.cuh>\n", options=("-std=c++14",), fp16=False
    )
    assert not result.ok
    assert "imagearray: the device headers need C++17" in result.log


def test_handles_are_one_uint64_kernel_parameter():
    source = (
        "#include <imagearray/handles.cuh>\n"
        'extern "C" __global__ void k(ia::sampled_image_handle s, '
        "ia::unsampled_image_handle u, unsigned long long *out) {\n"
        "  ia::sampled_image_handle copy = s;\n"
        "  ia::unsampled_image_handle made(u.raw_handle + 1);\n"
        "  out[0] = copy.raw_handle + made.raw_handle;\n"
        "}\n"
    )
    ptx = assert_compiles(source, fp16=False).ptx
    # The same parameter layout as a numpy.uint64 argument: 8 bytes, 8-byte aligned.
    for i in (0, 1):
        layout = rf"\.param \.(?:align 8 \.b8 k_param_{i}\[8\]|u64 k_param_{i}\b)"
        assert re.search(layout, ptx), ptx


# ---------------------------------------------------------------------------------------
# Every function for every recognized standard type

STANDARD_TYPES = [
    "char",
    "signed char",
    "unsigned char",
    "short",
    "unsigned short",
    "int",
    "unsigned int",
    "float",
    *[
        f"{p}{n}"
        for p in ("char", "uchar", "short", "ushort", "int", "uint", "float")
        for n in (1, 2, 4)
    ],
]
HALF_TYPES = ["__half", "__half2", "ia::half4"]

TYPE_PARAMS = [pytest.param(t, id=t.replace(" ", "_")) for t in STANDARD_TYPES] + [
    pytest.param(t, id=t.replace("::", "_"), marks=needs_fp16) for t in HALF_TYPES
]

EVERY_FUNCTION = r"""
#include <imagearray/bindless_images.cuh>

using T = TYPE;
// A user-defined type of T's size and alignment, read through HintT = T.
struct alignas(alignof(T)) user_t { unsigned char bytes[sizeof(T)]; };

template <class V>
__device__ void keep(unsigned char *out, int &offset, const V &v) {
  memcpy(out + offset, &v, sizeof(V));
  offset += static_cast<int>(sizeof(V));
}

extern "C" __global__ void every_function(ia::sampled_image_handle s,
                                          ia::unsampled_image_handle u,
                                          const ia::sampled_image_handle *many,
                                          unsigned char *out) {
  int o = 0;
  const int x = threadIdx.x;
  const int2 c2 = make_int2(x, 1);
  const int3 c3 = make_int3(x, 1, 2);
  const float fx = 0.5f + x;
  const float2 f2 = make_float2(fx, 1.5f);
  const float3 f3 = make_float3(fx, 1.5f, 2.5f);
  const unsigned int layer = blockIdx.x;

  // fetch_image / write_image on unsampled images, 1D 2D 3D
  T u1 = ia::fetch_image<T>(u, x);
  T u2 = ia::fetch_image<T>(u, c2);
  T u3 = ia::fetch_image<T>(u, c3);
  ia::write_image(u, x, u1);
  ia::write_image(u, c2, u2);
  ia::write_image<T>(u, c3, u3);
  keep(out, o, ia::fetch_image<T>(u, static_cast<unsigned int>(x)));
  keep(out, o, ia::fetch_image<T, float4>(u, c2));  // HintT ignored for a recognized DataT

  // fetch_image on sampled images (texel fetch), 1D 2D 3D
  keep(out, o, ia::fetch_image<T>(s, x));
  keep(out, o, ia::fetch_image<T>(s, c2));
  keep(out, o, ia::fetch_image<T>(many[1], c3));

  // sample_image, 1D 2D 3D
  keep(out, o, ia::sample_image<T>(s, fx));
  keep(out, o, ia::sample_image<T>(s, f2));
  keep(out, o, ia::sample_image<T>(s, f3));

  // sample_mipmap: level and gradients, 1D 2D 3D
  keep(out, o, ia::sample_mipmap<T>(s, fx, 1.0f));
  keep(out, o, ia::sample_mipmap<T>(s, f2, 1.5f));
  keep(out, o, ia::sample_mipmap<T>(s, f3, 0.0f));
  keep(out, o, ia::sample_mipmap<T>(s, fx, 0.0f, 0.0f));
  keep(out, o, ia::sample_mipmap<T>(s, f2, make_float2(0.1f, 0.0f), make_float2(0.0f, 0.1f)));
  keep(out, o, ia::sample_mipmap<T>(s, f3, f3, f3));

  // image arrays, 1D 2D
  T a1 = ia::fetch_image_array<T>(u, x, layer);
  T a2 = ia::fetch_image_array<T>(u, c2, layer);
  ia::write_image_array(u, x, layer, a1);
  ia::write_image_array<T>(u, c2, layer, a2);
  keep(out, o, ia::sample_image_array<T>(s, fx, layer));
  keep(out, o, ia::sample_image_array<T>(s, f2, 2u));

  // cubemaps
  T face = ia::fetch_cubemap<T>(u, c2, 3);
  ia::write_cubemap(u, c2, 4, face);
  keep(out, o, ia::sample_cubemap<T>(s, f3));

  // sampled image arrays: texel fetch, and mipmapped arrays by level and gradients
  keep(out, o, ia::fetch_image_array<T>(s, x, layer));
  keep(out, o, ia::fetch_image_array<T>(many[2], c2, layer));
  keep(out, o, ia::sample_mipmap_array<T>(s, fx, layer, 1.0f));
  keep(out, o, ia::sample_mipmap_array<T>(s, f2, layer, 0.5f));
  keep(out, o, ia::sample_mipmap_array<T>(s, fx, layer, 0.0f, 0.0f));
  keep(out, o, ia::sample_mipmap_array<T>(s, f2, 1u, make_float2(0.1f, 0.0f),
                                          make_float2(0.0f, 0.1f)));

  // mipmapped cubemaps and arrays of cubemaps
  keep(out, o, ia::sample_mipmap_cubemap<T>(s, f3, 1.0f));
  keep(out, o, ia::sample_mipmap_cubemap<T>(s, f3, f3, f3));
  keep(out, o, ia::sample_cubemap_array<T>(s, f3, layer));
  T cube_face = ia::fetch_cubemap_array<T>(u, c2, 1, layer);
  ia::write_cubemap_array(u, c2, 2, layer, cube_face);

  // the same through a user-defined type with HintT = T
  user_t d1 = ia::fetch_image<user_t, T>(u, c3);
  ia::write_image(u, c2, d1);
  keep(out, o, ia::fetch_image<user_t, T>(s, c2));
  keep(out, o, ia::sample_image<user_t, T>(s, f2));
  keep(out, o, ia::sample_mipmap<user_t, T>(s, f2, 1.0f));
  keep(out, o, ia::sample_mipmap<user_t, T>(s, fx, 0.0f, 0.0f));
  user_t d2 = ia::fetch_image_array<user_t, T>(u, x, layer);
  ia::write_image_array(u, c2, layer, d2);
  keep(out, o, ia::sample_image_array<user_t, T>(s, f2, layer));
  user_t d3 = ia::fetch_cubemap<user_t, T>(u, c2, 5);
  ia::write_cubemap(u, c2, 0, d3);
  keep(out, o, ia::sample_cubemap<user_t, T>(s, f3));
  keep(out, o, ia::fetch_image_array<user_t, T>(s, c2, layer));
  keep(out, o, ia::sample_mipmap_array<user_t, T>(s, f2, layer, 1.0f));
  keep(out, o, ia::sample_mipmap_array<user_t, T>(s, fx, layer, 0.0f, 0.0f));
  keep(out, o, ia::sample_mipmap_cubemap<user_t, T>(s, f3, 0.5f));
  keep(out, o, ia::sample_mipmap_cubemap<user_t, T>(s, f3, f3, f3));
  keep(out, o, ia::sample_cubemap_array<user_t, T>(s, f3, layer));
  user_t d4 = ia::fetch_cubemap_array<user_t, T>(u, c2, 3, layer);
  ia::write_cubemap_array(u, c2, 4, layer, d4);
}
"""


@pytest.mark.parametrize("arch", ["compute_75", "compute_90"])
@pytest.mark.parametrize("type_name", TYPE_PARAMS)
def test_every_function_for_every_standard_type(type_name, arch):
    result = assert_compiles(EVERY_FUNCTION.replace("TYPE", type_name), arch)
    assert "tex.2d.v4" in result.ptx and "sust.b" in result.ptx and "suld.b" in result.ptx
    assert not re.search(r"^\s*\.(global|const)\s", result.ptx, re.M)


@pytest.mark.parametrize(
    "type_name", ["float4", "uchar2", "short", pytest.param("ia::half4", marks=needs_fp16)]
)
@pytest.mark.parametrize("arch", ["sm_75", "sm_90"])
def test_inline_ptx_assembles(type_name, arch):
    # sm_XX makes NVRTC run ptxas, which checks the hand-written texel-fetch PTX.
    assert_compiles(EVERY_FUNCTION.replace("TYPE", type_name), arch)


def test_sampled_fetch_reads_exact_texels():
    source = EVERY_FUNCTION.replace("TYPE", "float4")
    ptx = assert_compiles(source).ptx
    # Integer-coordinate tex (a texel fetch): no sampler state applies.
    assert re.search(r"tex\.1d\.v4\.f32\.s32", ptx)
    assert re.search(r"tex\.2d\.v4\.f32\.s32", ptx)
    assert re.search(r"tex\.3d\.v4\.f32\.s32", ptx)
    # Layered: the layer register first, then x (a1d) or x, y (a2d).
    assert re.search(r"tex\.a1d\.v4\.f32\.s32\s+\{[^}]*\}, \[%rd\d+, \{%r\d+, %r\d+\}\]", ptx)
    assert re.search(r"tex\.a2d\.v4\.f32\.s32", ptx)
    ptx = assert_compiles(EVERY_FUNCTION.replace("TYPE", "uint2")).ptx
    assert re.search(r"tex\.2d\.v4\.u32\.s32", ptx)
    assert re.search(r"tex\.a2d\.v4\.u32\.s32", ptx)
    ptx = assert_compiles(EVERY_FUNCTION.replace("TYPE", "short4")).ptx
    assert re.search(r"tex\.3d\.v4\.s32\.s32", ptx)
    assert re.search(r"tex\.a1d\.v4\.s32\.s32", ptx)


def test_combined_image_types_use_their_instructions():
    # Mipmapped arrays, mipmapped cubemaps and arrays of cubemaps each reach the texture
    # instruction of their kind (not a 2D/3D one of the same arity).
    ptx = assert_compiles(EVERY_FUNCTION.replace("TYPE", "float4")).ptx
    for instr in (
        "tex.level.a1d.v4.f32.f32",
        "tex.level.a2d.v4.f32.f32",
        "tex.grad.a1d.v4.f32.f32",
        "tex.grad.a2d.v4.f32.f32",
        "tex.level.cube.v4.f32.f32",
        "tex.grad.cube.v4.f32.f32",
        "tex.acube.v4.f32.f32",
    ):
        assert instr in ptx, instr


def _nvcc() -> str | None:
    for folder in (os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"), "/usr/local/cuda"):
        if folder and os.path.isfile(os.path.join(folder, "bin", "nvcc")):
            return os.path.join(folder, "bin", "nvcc")
    return shutil.which("nvcc")


@pytest.mark.parametrize(
    "type_name", ["float4", "uchar2", "short", "unsigned int", "__half2", "ia::half4"]
)
def test_every_function_compiles_with_nvcc(type_name, tmp_path):
    import subprocess

    nvcc = _nvcc()
    if nvcc is None:
        pytest.skip("nvcc not found (set CUDA_HOME)")
    src = tmp_path / "every_function.cu"
    src.write_text(EVERY_FUNCTION.replace("TYPE", type_name))
    cmd = [nvcc, "-arch=sm_90", "-std=c++17", f"-I{INCLUDE}", "-cubin", "-o"]
    cmd += [str(tmp_path / "every_function.cubin"), str(src)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_surface_x_is_in_bytes():
    source = (
        "#include <imagearray/image.cuh>\n"
        'extern "C" __global__ void k(ia::unsampled_image_handle u, int x, float4 *out) {\n'
        "  out[0] = ia::fetch_image<float4>(u, make_int2(x, 3));\n"
        "}\n"
    )
    ptx = assert_compiles(source, fp16=False).ptx
    # x * sizeof(float4) == x << 4 feeds the surface load.
    assert re.search(r"shl\.b32\s+%r\d+, %r\d+, 4;", ptx), ptx
    assert "suld.b.2d.v4.b32.trap" in ptx


# ---------------------------------------------------------------------------------------
# User-defined types

USER_TYPES = r"""
#include <imagearray/bindless_images.cuh>

struct rgba8 { unsigned char r, g, b, a; };
struct pair { float a, b; };
struct my_float4 { float r, g, b, a; };   // the spec's examples
struct my_short2 { short r, g; };
union bits32 { float f; unsigned int u; };

extern "C" __global__ void user_types(ia::sampled_image_handle s,
                                      ia::unsampled_image_handle u, float *out) {
  const int2 c = make_int2(threadIdx.x, blockIdx.x);
  const float2 f = make_float2(0.5f, 0.5f);
  rgba8 p = ia::fetch_image<rgba8, uchar4>(u, c);
  ia::write_image(u, c, p);
  pair q = ia::sample_image<pair, float2>(s, f);
  ia::write_image(u, c, q);
  my_float4 r = ia::fetch_image<my_float4, float4>(s, c);
  my_short2 t = ia::fetch_image_array<my_short2, short2>(u, c, 1u);
  ia::write_image_array(u, c, 1u, t);
  bits32 v = ia::sample_cubemap<bits32, float>(s, make_float3(1.0f, 0.0f, 0.0f));
  ia::write_cubemap(u, c, 2, v);
  out[threadIdx.x] = p.r + q.b + r.a + t.g + v.f;
}
"""


def test_user_defined_types_compile():
    assert_compiles(USER_TYPES, fp16=False)


@needs_fp16
def test_user_defined_half_type_compiles():
    source = (
        "#include <imagearray/bindless_images.cuh>\n"
        "struct rgba16f { __half r, g, b, a; };\n"
        'extern "C" __global__ void k(ia::sampled_image_handle s, '
        "ia::unsampled_image_handle u, float *out) {\n"
        "  rgba16f p = ia::sample_image<rgba16f, ia::half4>(s, make_float2(0.5f, 0.5f));\n"
        "  rgba16f q = ia::fetch_image<rgba16f, ia::half4>(u, make_int2(1, 2));\n"
        "  ia::write_image(u, make_int2(1, 2), p);\n"
        "  __half2 h = ia::fetch_image<__half2>(u, 3);\n"
        "  out[0] = __half2float(p.r) + __half2float(q.a) + __low2float(h);\n"
        "}\n"
    )
    ptx = assert_compiles(source).ptx
    assert "cvt.rn.f16.f32" in ptx  # sampled half channels arrive as float and are rounded


# ---------------------------------------------------------------------------------------
# Unsupported types and coordinates fail with an "imagearray:" static_assert

BAD_KERNEL = r"""
#include <imagearray/bindless_images.cuh>
struct s12 { float a, b, c; };
struct pair { float a, b; };
extern "C" __global__ void bad(ia::sampled_image_handle s, ia::unsampled_image_handle u,
                               float *out) {
  BODY;
}
"""

BAD_CASES = {
    "double": ("out[0] = ia::fetch_image<double>(u, 1)", "is not a recognized standard type"),
    "char3": ("out[0] = ia::fetch_image<char3>(u, 1).x", "is not a recognized standard type"),
    "float3_sampled": (
        "out[0] = ia::sample_image<float3>(s, 0.5f).x",
        "is not a recognized standard type",
    ),
    "struct12_without_hint": (
        "out[0] = ia::fetch_image<s12>(u, make_int2(1, 2)).a",
        "is not a recognized standard type",
    ),
    "struct12_with_hint": (
        "out[0] = ia::fetch_image<s12, float4>(u, 1).a",
        "sizeof(DataT) must equal sizeof(HintT)",
    ),
    "hint_of_another_size": (
        "out[0] = ia::sample_image<pair, float4>(s, 0.5f).a",
        "sizeof(DataT) must equal sizeof(HintT)",
    ),
    "hint_not_recognized": (
        "out[0] = ia::fetch_image<pair, double>(u, 1).a",
        "HintT must be a recognized standard type",
    ),
    "double_with_hint": (
        "out[0] = ia::fetch_image<double, float2>(u, 1)",
        "must be a trivially copyable struct or union",
    ),
    "long_long_sampled": (
        "out[0] = ia::fetch_image<long long>(s, make_int2(1, 2))",
        "is not a recognized standard type",
    ),
    "write_double": ("ia::write_image(u, 1, 1.0)", "the written DataT must be"),
    "write_char3": ("ia::write_image(u, 1, make_char3(1, 2, 3))", "3-component vectors"),
    "write_struct12": ("ia::write_image_array(u, 1, 0u, s12{})", "must be 1, 2, 4, 8 or 16 bytes"),
    "write_cubemap_float3": (
        "ia::write_cubemap(u, make_int2(1, 2), 0, make_float3(1, 2, 3))",
        "3-component vectors",
    ),
    "cubemap_double": (
        "out[0] = ia::fetch_cubemap<double>(u, make_int2(1, 2), 0)",
        "is not a recognized standard type",
    ),
    "float_fetch_coordinates": (
        "out[0] = ia::fetch_image<float>(u, 1.5f)",
        "fetch and write coordinates are int",
    ),
    "int_sample_coordinates": (
        "out[0] = ia::sample_image<float>(s, make_int2(1, 2))",
        "sampling coordinates are float",
    ),
    "array_with_3d_coordinates": (
        "out[0] = ia::fetch_image_array<float>(u, make_int3(1, 2, 3), 0u)",
        "image array coordinates are int (1D) or int2 (2D)",
    ),
    "gradient_type": (
        "out[0] = ia::sample_mipmap<float>(s, make_float2(1, 2), 0.0f, 0.0f)",
        "gradients dx and dy have the coordinates' type",
    ),
    "sampled_array_fetch_float_coordinates": (
        "out[0] = ia::fetch_image_array<float>(s, 1.5f, 0u)",
        "image array coordinates are int (1D) or int2 (2D)",
    ),
    "sampled_array_fetch_double": (
        "out[0] = ia::fetch_image_array<double>(s, make_int2(1, 2), 0u)",
        "is not a recognized standard type",
    ),
    "mipmap_array_3d_coordinates": (
        "out[0] = ia::sample_mipmap_array<float>(s, make_float3(1, 2, 3), 0u, 0.0f)",
        "image array sampling coordinates are float (1D) or float2 (2D)",
    ),
    "mipmap_array_gradient_type": (
        "out[0] = ia::sample_mipmap_array<float>(s, make_float2(1, 2), 0u, 0.0f, 0.0f)",
        "gradients dx and dy have the coordinates' type",
    ),
    "mipmap_cubemap_char3": (
        "out[0] = ia::sample_mipmap_cubemap<char3>(s, make_float3(1, 0, 0), 0.0f).x",
        "is not a recognized standard type",
    ),
    "cubemap_array_double": (
        "out[0] = ia::fetch_cubemap_array<double>(u, make_int2(1, 2), 0, 1u)",
        "is not a recognized standard type",
    ),
    "sample_cubemap_array_struct12": (
        "out[0] = ia::sample_cubemap_array<s12, float4>(s, make_float3(1, 0, 0), 0u).a",
        "sizeof(DataT) must equal sizeof(HintT)",
    ),
    "write_cubemap_array_float3": (
        "ia::write_cubemap_array(u, make_int2(1, 2), 0, 1u, make_float3(1, 2, 3))",
        "3-component vectors",
    ),
}


@pytest.mark.parametrize("body, message", BAD_CASES.values(), ids=BAD_CASES.keys())
def test_unsupported_use_fails_with_a_message(body, message):
    result = compile_cuda(BAD_KERNEL.replace("BODY", body), fp16=False)
    assert not result.ok
    assert "imagearray:" in result.log
    assert message in result.log, result.log
    # The static_assert is the only diagnostic: no cascade of follow-on errors.
    assert len(result.errors) == 1, result.log


def test_unsupported_type_message_lists_allowed_types():
    result = compile_cuda(BAD_KERNEL.replace("BODY", BAD_CASES["double"][0]), fp16=False)
    for allowed in ("unsigned char", "float", "uchar4", "float4", "__half2", "ia::half4"):
        assert allowed in result.log


# ---------------------------------------------------------------------------------------
# The spec's example kernels (section "Examples"), in CUDA form

from _spec_kernels import SPEC_EXAMPLES  # noqa: E402


@pytest.mark.parametrize("example", SPEC_EXAMPLES.values(), ids=SPEC_EXAMPLES.keys())
def test_spec_example_compiles(example):
    assert_compiles(_include.kernel_preamble() + example, fp16=False)


# ---------------------------------------------------------------------------------------
# kernel_preamble and header_hash


def test_kernel_preamble_embeds_the_header_hash():
    digest = _include.header_hash()
    assert re.fullmatch(r"[0-9a-f]{16}", digest)
    preamble = _include.kernel_preamble()
    assert preamble == (
        f"#define IMAGEARRAY_HEADER_HASH 0x{digest}\n#include <imagearray/bindless_images.cuh>\n"
    )
    assert_compiles(
        preamble + 'static_assert(IMAGEARRAY_HEADER_HASH != 0, "");\n'
        'extern "C" __global__ void k() {}\n',
        fp16=False,
    )


def test_header_hash_follows_the_header_bytes(tmp_path):
    copy = tmp_path / "include"
    shutil.copytree(INCLUDE, copy)
    original = _include.header_hash()
    assert _include.header_hash(copy) == original

    target = copy / "imagearray" / "image.cuh"
    target.write_bytes(target.read_bytes() + b"\n")
    edited = _include.header_hash(copy)
    assert edited != original

    (copy / "imagearray" / "extra.cuh").write_text("// new header\n")
    assert _include.header_hash(copy) not in (original, edited)

    empty = tmp_path / "empty"
    (empty / "imagearray").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="no device headers"):
        _include.header_hash(empty)

    # a folder where a header should be: the family's error, not IsADirectoryError
    (empty / "imagearray" / "odd.cuh").mkdir()
    with pytest.raises(HeadersNotFoundError, match="cannot read the headers"):
        _include.header_hash(empty)


# ---------------------------------------------------------------------------------------
# On a GPU: the headers against CUDA arrays, textures and surfaces made with CuPy's own
# texture module (independent of imagearray's Cython layer).

GPU_KERNELS = r"""
struct rgba8 { unsigned char r, g, b, a; };

extern "C" __global__ void fetch_sample_2d(ia::sampled_image_handle img, int w, int h,
                                           float *fetched, float *sampled) {
  int x = blockIdx.x * blockDim.x + threadIdx.x;
  int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= w || y >= h) return;
  fetched[y * w + x] = ia::fetch_image<float>(img, make_int2(x, y));
  sampled[y * w + x] = ia::sample_image<float>(
      img, make_float2((x + 0.5f) / w, (y + 0.5f) / h));  // normalized texel centres
}

extern "C" __global__ void fetch_3d(ia::sampled_image_handle img, int w, int h,
                                    float4 *out) {
  int x = threadIdx.x, y = threadIdx.y, z = threadIdx.z;
  out[(z * h + y) * w + x] = ia::fetch_image<float4>(img, make_int3(x, y, z));
}

extern "C" __global__ void fetch_1d_linear(ia::sampled_image_handle img, int n,
                                           uchar4 *out) {
  int x = blockIdx.x * blockDim.x + threadIdx.x;
  if (x < n) out[x] = ia::fetch_image<uchar4>(img, x);
}

extern "C" __global__ void reverse_channels(ia::unsampled_image_handle src,
                                            ia::unsampled_image_handle dst, int w, int h) {
  int x = blockIdx.x * blockDim.x + threadIdx.x;
  int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= w || y >= h) return;
  rgba8 p = ia::fetch_image<rgba8, uchar4>(src, make_int2(x, y));
  rgba8 q = {p.a, p.b, p.g, p.r};
  ia::write_image(dst, make_int2(x, y), q);
}

extern "C" __global__ void read_layers(ia::unsampled_image_handle surf,
                                       ia::sampled_image_handle tex, int w, int h,
                                       float *fetched, float *sampled) {
  int x = threadIdx.x, y = threadIdx.y, layer = blockIdx.x;
  int i = (layer * h + y) * w + x;
  fetched[i] = ia::fetch_image_array<float>(surf, make_int2(x, y), layer);
  sampled[i] = ia::sample_image_array<float>(tex, make_float2(x + 0.5f, y + 0.5f), layer);
}

extern "C" __global__ void write_layers(ia::unsampled_image_handle surf, int w, int h) {
  int x = threadIdx.x, y = threadIdx.y, layer = blockIdx.x;
  ia::write_image_array(surf, make_int2(x, y), layer, 1000.0f + (layer * h + y) * w + x);
}

extern "C" __global__ void read_cube(ia::sampled_image_handle tex,
                                     ia::unsampled_image_handle surf, float *out) {
  const float3 dirs[6] = {make_float3(1, 0, 0),  make_float3(-1, 0, 0),
                          make_float3(0, 1, 0),  make_float3(0, -1, 0),
                          make_float3(0, 0, 1),  make_float3(0, 0, -1)};
  int f = threadIdx.x;
  out[f] = ia::sample_cubemap<float>(tex, dirs[f]);
  out[6 + f] = ia::fetch_cubemap<float>(surf, make_int2(0, 0), f);
}

extern "C" __global__ void write_cube(ia::unsampled_image_handle surf) {
  int f = threadIdx.x;
  ia::write_cubemap(surf, make_int2(0, 0), f, 10.0f + f);
}

#if IMAGEARRAY_HAS_HALF
extern "C" __global__ void read_half(ia::sampled_image_handle tex,
                                     ia::unsampled_image_handle surf, int w, int h,
                                     float *out) {
  int x = threadIdx.x, y = threadIdx.y, i = y * w + x;
  out[3 * i] = __half2float(ia::fetch_image<__half>(tex, make_int2(x, y)));
  out[3 * i + 1] = __half2float(ia::sample_image<__half>(tex, make_float2(x + 0.5f, y + 0.5f)));
  out[3 * i + 2] = __half2float(ia::fetch_image<__half>(surf, make_int2(x, y)));
}
#endif
"""

# cudaArray* flags (CuPy's runtime module does not export them).
_ARRAY_LAYERED, _ARRAY_SURFACE_LOAD_STORE, _ARRAY_CUBEMAP = 0x01, 0x02, 0x04


@pytest.fixture(scope="module")
def gpu():
    cupy = pytest.importorskip("cupy")
    if not cupy.cuda.is_available():
        pytest.skip("no CUDA device (cupy.cuda.is_available() is False)")
    from cupy.cuda import runtime, texture

    options = ["-I" + INCLUDE]
    if FP16_INCLUDE is not None:
        options.append("-I" + FP16_INCLUDE)
    module = cupy.RawModule(code=_include.kernel_preamble() + GPU_KERNELS, options=tuple(options))
    return cupy, runtime, texture, module


def _channel_desc(texture, bits, channels, kind):
    return texture.ChannelFormatDescriptor(*[bits if i < channels else 0 for i in range(4)], kind)


def _handle(obj):
    import numpy as np

    return np.uint64(obj.ptr)  # how imagearray passes handles: one uint64


def _texture(runtime, texture, res, *, ndim, linear, normalized):
    desc = texture.TextureDescriptor(
        (runtime.cudaAddressModeClamp,) * ndim,
        runtime.cudaFilterModeLinear if linear else runtime.cudaFilterModePoint,
        runtime.cudaReadModeElementType,
        normalizedCoords=int(normalized),
    )
    return texture.TextureObject(res, desc)


@pytest.mark.gpu
def test_gpu_sampled_fetch_ignores_the_sampler(gpu):
    import numpy as np

    cupy, runtime, texture, module = gpu
    h, w = 6, 9
    data = np.arange(h * w, dtype=np.float32).reshape(h, w) * 0.25
    arr = texture.CUDAarray(_channel_desc(texture, 32, 1, runtime.cudaChannelFormatKindFloat), w, h)
    arr.copy_from(data)
    res = texture.ResourceDescriptor(runtime.cudaResourceTypeArray, cuArr=arr)
    # Normalized coordinates and linear filtering: fetch must still read exact texels.
    tex = _texture(runtime, texture, res, ndim=2, linear=True, normalized=True)
    fetched = cupy.zeros((h, w), cupy.float32)
    sampled = cupy.zeros((h, w), cupy.float32)
    module.get_function("fetch_sample_2d")(
        (1, 1), (w, h), (_handle(tex), np.int32(w), np.int32(h), fetched, sampled)
    )
    np.testing.assert_array_equal(fetched.get(), data)
    np.testing.assert_allclose(sampled.get(), data, rtol=1e-5, atol=1e-5)

    d = 3
    data3 = np.arange(d * h * w * 4, dtype=np.float32).reshape(d, h, w * 4)
    arr3 = texture.CUDAarray(
        _channel_desc(texture, 32, 4, runtime.cudaChannelFormatKindFloat), w, h, d
    )
    arr3.copy_from(data3)
    res3 = texture.ResourceDescriptor(runtime.cudaResourceTypeArray, cuArr=arr3)
    tex3 = _texture(runtime, texture, res3, ndim=3, linear=True, normalized=True)
    out3 = cupy.zeros((d, h, w * 4), cupy.float32)
    module.get_function("fetch_3d")(
        (1,), (w, h, d), (_handle(tex3), np.int32(w), np.int32(h), out3)
    )
    np.testing.assert_array_equal(out3.get(), data3)


@pytest.mark.gpu
def test_gpu_fetch_1d_linear_memory(gpu):
    import numpy as np

    cupy, runtime, texture, module = gpu
    n = 300
    host = (np.arange(n * 4) % 251).astype(np.uint8)
    dev = cupy.asarray(host)
    res = texture.ResourceDescriptor(
        runtime.cudaResourceTypeLinear,
        arr=dev,
        chDesc=_channel_desc(texture, 8, 4, runtime.cudaChannelFormatKindUnsigned),
        sizeInBytes=host.nbytes,
    )
    tex = _texture(runtime, texture, res, ndim=1, linear=False, normalized=False)
    out = cupy.zeros(n * 4, cupy.uint8)
    module.get_function("fetch_1d_linear")((2,), (256,), (_handle(tex), np.int32(n), out))
    np.testing.assert_array_equal(out.get(), host)


@pytest.mark.gpu
def test_gpu_surface_user_type_round_trip(gpu):
    import numpy as np

    cupy, runtime, texture, module = gpu
    h, w = 5, 7
    data = (np.arange(h * w * 4) % 256).astype(np.uint8).reshape(h, w * 4)
    desc = _channel_desc(texture, 8, 4, runtime.cudaChannelFormatKindUnsigned)
    src = texture.CUDAarray(desc, w, h, 0, _ARRAY_SURFACE_LOAD_STORE)
    dst = texture.CUDAarray(desc, w, h, 0, _ARRAY_SURFACE_LOAD_STORE)
    src.copy_from(data)
    surf_src = texture.SurfaceObject(
        texture.ResourceDescriptor(runtime.cudaResourceTypeArray, cuArr=src)
    )
    surf_dst = texture.SurfaceObject(
        texture.ResourceDescriptor(runtime.cudaResourceTypeArray, cuArr=dst)
    )
    module.get_function("reverse_channels")(
        (1, 1), (w, h), (_handle(surf_src), _handle(surf_dst), np.int32(w), np.int32(h))
    )
    out = np.zeros_like(data)
    dst.copy_to(out)
    np.testing.assert_array_equal(out.reshape(h, w, 4), data.reshape(h, w, 4)[..., ::-1])


@pytest.mark.gpu
def test_gpu_image_array_layers(gpu):
    import numpy as np

    cupy, runtime, texture, module = gpu
    layers, h, w = 3, 4, 5
    data = np.arange(layers * h * w, dtype=np.float32).reshape(layers, h, w)
    arr = texture.CUDAarray(
        _channel_desc(texture, 32, 1, runtime.cudaChannelFormatKindFloat),
        w,
        h,
        layers,
        _ARRAY_LAYERED | _ARRAY_SURFACE_LOAD_STORE,
    )
    arr.copy_from(data)
    res = texture.ResourceDescriptor(runtime.cudaResourceTypeArray, cuArr=arr)
    surf = texture.SurfaceObject(res)
    tex = _texture(runtime, texture, res, ndim=2, linear=True, normalized=False)
    fetched = cupy.zeros(data.shape, cupy.float32)
    sampled = cupy.zeros(data.shape, cupy.float32)
    module.get_function("read_layers")(
        (layers,), (w, h), (_handle(surf), _handle(tex), np.int32(w), np.int32(h), fetched, sampled)
    )
    np.testing.assert_array_equal(fetched.get(), data)
    np.testing.assert_allclose(sampled.get(), data, rtol=1e-5, atol=1e-5)

    module.get_function("write_layers")(
        (layers,), (w, h), (_handle(surf), np.int32(w), np.int32(h))
    )
    out = np.zeros_like(data)
    arr.copy_to(out)
    np.testing.assert_array_equal(
        out, 1000 + np.arange(data.size, dtype=np.float32).reshape(data.shape)
    )


@pytest.mark.gpu
def test_gpu_cubemap_faces(gpu):
    import numpy as np

    cupy, runtime, texture, module = gpu
    data = np.arange(6, dtype=np.float32).reshape(6, 1, 1)  # 1x1 faces valued 0..5
    arr = texture.CUDAarray(
        _channel_desc(texture, 32, 1, runtime.cudaChannelFormatKindFloat),
        1,
        1,
        6,
        _ARRAY_CUBEMAP | _ARRAY_SURFACE_LOAD_STORE,
    )
    arr.copy_from(data)
    res = texture.ResourceDescriptor(runtime.cudaResourceTypeArray, cuArr=arr)
    surf = texture.SurfaceObject(res)
    tex = _texture(runtime, texture, res, ndim=3, linear=False, normalized=True)
    out = cupy.zeros(12, cupy.float32)
    module.get_function("read_cube")((1,), (6,), (_handle(tex), _handle(surf), out))
    # Face order +X, -X, +Y, -Y, +Z, -Z, for sampling by direction and fetching by index.
    np.testing.assert_array_equal(out.get(), np.concatenate([np.arange(6), np.arange(6)]))

    module.get_function("write_cube")((1,), (6,), (_handle(surf),))
    back = np.zeros_like(data)
    arr.copy_to(back)
    np.testing.assert_array_equal(back.ravel(), 10 + np.arange(6, dtype=np.float32))


@pytest.mark.gpu
@needs_fp16
def test_gpu_half_channels(gpu):
    import numpy as np

    cupy, runtime, texture, module = gpu
    h, w = 3, 4
    data = (np.arange(h * w, dtype=np.float32).reshape(h, w) * 0.125 - 0.5).astype(np.float16)
    arr = texture.CUDAarray(
        _channel_desc(texture, 16, 1, runtime.cudaChannelFormatKindFloat),
        w,
        h,
        0,
        _ARRAY_SURFACE_LOAD_STORE,
    )
    arr.copy_from(data)
    res = texture.ResourceDescriptor(runtime.cudaResourceTypeArray, cuArr=arr)
    surf = texture.SurfaceObject(res)
    tex = _texture(runtime, texture, res, ndim=2, linear=True, normalized=False)
    out = cupy.zeros((h, w, 3), cupy.float32)
    module.get_function("read_half")(
        (1,), (w, h), (_handle(tex), _handle(surf), np.int32(w), np.int32(h), out)
    )
    want = np.repeat(data.astype(np.float32)[..., None], 3, axis=2)
    np.testing.assert_array_equal(out.get(), want)


def test_gpu_kernels_compile():
    # The GPU tests' kernels, checked here too so a CPU-only run catches breakage.
    assert_compiles(_include.kernel_preamble() + GPU_KERNELS, "sm_90")


# ---------------------------------------------------------------------------------------
# On a GPU: the combined image types (sampled image arrays, mipmapped arrays, mipmapped
# cubemaps, arrays of cubemaps) through imagearray's own images, as a user passes them.

COMBINED_GPU_KERNELS = r"""
template <class T>
__device__ void fetch_layers(ia::sampled_image_handle tex, int w, int h, int dims, T *out) {
  int x = threadIdx.x, y = threadIdx.y, layer = blockIdx.x;
  int i = (layer * h + y) * w + x;
  out[i] = dims == 1 ? ia::fetch_image_array<T>(tex, x, layer)
                     : ia::fetch_image_array<T>(tex, make_int2(x, y), layer);
}
#define IA_FETCH_LAYERS(T)                                                                \
  extern "C" __global__ void fetch_layers_##T(ia::sampled_image_handle tex, int w, int h, \
                                              int dims, T *out) {                         \
    fetch_layers<T>(tex, w, h, dims, out);                                                \
  }
IA_FETCH_LAYERS(float)
IA_FETCH_LAYERS(float4)
IA_FETCH_LAYERS(uchar4)
IA_FETCH_LAYERS(short2)

extern "C" __global__ void mip_array_level(ia::sampled_image_handle tex, int dims,
                                           const float *c, const unsigned int *layer,
                                           float level, float *out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  out[i] = dims == 1
               ? ia::sample_mipmap_array<float>(tex, c[i], layer[i], level)
               : ia::sample_mipmap_array<float>(tex, make_float2(c[2 * i], c[2 * i + 1]),
                                                layer[i], level);
}

extern "C" __global__ void mip_array_grad(ia::sampled_image_handle tex, int dims,
                                          const float *c, const unsigned int *layer, float g,
                                          float *out, int n) {
  // dx along x and dy along y, each g (normalized units) long.
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  out[i] = dims == 1
               ? ia::sample_mipmap_array<float>(tex, c[i], layer[i], g, 0.0f)
               : ia::sample_mipmap_array<float>(tex, make_float2(c[2 * i], c[2 * i + 1]),
                                                layer[i], make_float2(g, 0.0f),
                                                make_float2(0.0f, g));
}

extern "C" __global__ void mip_cube(ia::sampled_image_handle tex, const float3 *d,
                                    float level, float g, float *by_level, float *by_grad,
                                    int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  by_level[i] = ia::sample_mipmap_cubemap<float>(tex, d[i], level);
  by_grad[i] = ia::sample_mipmap_cubemap<float>(tex, d[i], make_float3(g, g, g),
                                                make_float3(g, -g, g));
}

extern "C" __global__ void cube_array_read(ia::sampled_image_handle tex,
                                           ia::unsampled_image_handle surf, const float3 *d,
                                           const unsigned int *cube, float *sampled, int n,
                                           int size, float *fetched) {
  // blockIdx.x = 6 * cube + face, threads over (x, y); the first n threads also sample.
  int x = threadIdx.x, y = threadIdx.y, lf = blockIdx.x;
  fetched[(lf * size + y) * size + x] =
      ia::fetch_cubemap_array<float>(surf, make_int2(x, y), lf % 6, lf / 6);
  int i = lf * size * size + y * size + x;
  if (i < n) sampled[i] = ia::sample_cubemap_array<float>(tex, d[i], cube[i]);
}

extern "C" __global__ void cube_array_write(ia::unsampled_image_handle surf, int size) {
  int x = threadIdx.x, y = threadIdx.y, lf = blockIdx.x;
  ia::write_cubemap_array(surf, make_int2(x, y), lf % 6, lf / 6,
                          1000.0f + (lf * size + y) * size + x);
}
"""


def test_combined_gpu_kernels_compile():
    assert_compiles(_include.kernel_preamble() + COMBINED_GPU_KERNELS, "sm_90", fp16=False)


@pytest.fixture(scope="module")
def combined():
    cupy = pytest.importorskip("cupy")
    if not cupy.cuda.is_available():
        pytest.skip("no CUDA device (cupy.cuda.is_available() is False)")
    import imagearray as ia

    module = cupy.RawModule(
        code=ia.kernel_preamble() + COMBINED_GPU_KERNELS,
        options=("-std=c++17", "-I" + ia.get_include()),
    )
    return cupy, ia, module


@pytest.mark.gpu
@pytest.mark.parametrize(
    "dims, dtype, channels, normalized, kernel",
    [
        (2, "float32", 1, False, "float"),
        (1, "float32", 4, False, "float4"),
        (2, "uint8", 4, False, "uchar4"),
        (1, "int16", 2, False, "short2"),
        (2, "uint8", 4, True, "float4"),  # unorm arrives as float
    ],
)
def test_gpu_fetch_sampled_image_array(combined, dims, dtype, channels, normalized, kernel):
    import numpy as np

    from imagearray.testing import reference

    cupy, ia, module = combined
    layers, h, w = 3, (5 if dims == 2 else 1), 7
    shape = (layers, h, w) if dims == 2 else (layers, w)
    rng = np.random.default_rng(7)
    full = shape + ((channels,) if channels > 1 else ())
    if np.dtype(dtype).kind == "f":
        data = rng.standard_normal(full).astype(dtype)
    else:
        info = np.iinfo(dtype)
        data = rng.integers(info.min, info.max, full, endpoint=True).astype(dtype)
    img = ia.asimage(data, channels=channels, layered=True, normalized=normalized)
    # A sampler that would filter and wrap: a fetch must ignore it.
    filterable = normalized or np.dtype(dtype).kind == "f"
    s = ia.Sampler("repeat", "normalized", "linear" if filterable else "nearest")
    out_dtype = np.float32 if normalized else np.dtype(dtype)
    out = cupy.zeros(full, out_dtype)
    module.get_function(f"fetch_layers_{kernel}")(
        (layers,), (w, h), (img.texture(s), np.int32(w), np.int32(h), np.int32(dims), out)
    )
    if normalized:
        want = reference.read_texels(data, "unorm_int8")
    else:
        want = data
    np.testing.assert_array_equal(out.get(), want)


def _mip_chain(ia, shape, levels, layers, fill):
    lead = () if layers is None else (layers,)
    img = ia.empty(lead + shape, "float32", layered=layers is not None, levels=levels)
    chain = []
    for level in range(levels):
        d = fill(level, img.mip(level).shape)
        img.mip(level).set(d)
        chain.append(d)
    return img, chain


@pytest.mark.gpu
@pytest.mark.parametrize("shape", [(64,), (16, 32)])
def test_gpu_sample_mipmap_array_level(combined, shape):
    import numpy as np

    from imagearray.testing import reference

    cupy, ia, module = combined
    rng = np.random.default_rng(11)
    dims, layers, levels = len(shape), 3, 4
    img, chain = _mip_chain(
        ia, shape, levels, layers, lambda lv, sh: rng.random(sh).astype(np.float32)
    )
    n = 240
    c = rng.random((n, dims)).astype(np.float32)
    lay = (np.arange(n) % layers).astype(np.uint32)
    for mf in ("nearest", "linear"):
        s = ia.Sampler(
            "clamp_to_edge",
            "normalized",
            "linear",
            mipmap_filtering=mf,
            max_mipmap_level_clamp=float(levels - 1),
        )
        for lv in (0.0, 1.0, 1.375, 2.75, 5.0):
            out = cupy.zeros(n, np.float32)
            module.get_function("mip_array_level")(
                (1,),
                (n,),
                (
                    img.texture(s),
                    np.int32(dims),
                    cupy.asarray(c),
                    cupy.asarray(lay),
                    np.float32(lv),
                    out,
                    np.int32(n),
                ),
            )
            got = out.get()
            for layer in range(layers):
                sel = lay == layer
                levels_of_layer = [lvl[layer] for lvl in chain]
                want = reference.sample_mipmap(levels_of_layer, c[sel], s, dims=dims, level=lv)
                tol = reference.filter_tolerance(
                    levels_of_layer, s, dims=dims, mip_blend=mf == "linear"
                )
                np.testing.assert_allclose(
                    got[sel], want, rtol=0, atol=tol, err_msg=f"{mf} level {lv} layer {layer}"
                )


@pytest.mark.gpu
@pytest.mark.parametrize("shape", [(64,), (64, 64)])
def test_gpu_sample_mipmap_array_gradients(combined, shape):
    import numpy as np

    cupy, ia, module = combined
    dims, layers, levels = len(shape), 3, 4
    # Texel value 10 * layer + level: the value read names the layer and level chosen.
    img, _ = _mip_chain(
        ia,
        shape,
        levels,
        layers,
        lambda lv, sh: (
            (10 * np.arange(layers)).reshape((layers,) + (1,) * dims) + np.full(sh, float(lv))
        ).astype(np.float32),
    )
    s = ia.Sampler(
        "clamp_to_edge",
        "normalized",
        "linear",
        mipmap_filtering="nearest",
        max_mipmap_level_clamp=float(levels - 1),
    )
    n = 120
    rng = np.random.default_rng(5)
    c = cupy.asarray(rng.random((n, dims)).astype(np.float32))
    lay = (np.arange(n) % layers).astype(np.uint32)
    for k in (0, 1, 2, 3):
        g = 0.0 if k == 0 else 2.0**k / 64  # k texels of level 0 per unit: level k
        out = cupy.zeros(n, np.float32)
        module.get_function("mip_array_grad")(
            (1,),
            (n,),
            (img.texture(s), np.int32(dims), c, cupy.asarray(lay), np.float32(g), out, np.int32(n)),
        )
        np.testing.assert_array_equal(out.get(), 10.0 * lay + k, err_msg=f"k={k}")


def _face_texel_directions(size):
    """A direction through the centre of every texel of every face (level 0), built by
    inverting the CUDA programming guide's cubemap table; never on a texel boundary of
    any coarser level either."""
    import numpy as np
    from _cubemap import face_directions

    j, i = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    u, v = (i.ravel() + 0.5) / size, (j.ravel() + 0.5) / size
    return np.concatenate([face_directions(f, u, v) for f in range(6)]).astype(np.float32)


@pytest.mark.gpu
def test_gpu_sample_mipmap_cubemap(combined):
    import numpy as np

    from imagearray.testing import reference

    cupy, ia, module = combined
    size, levels = 8, 3
    rng = np.random.default_rng(3)
    cube = ia.empty((6, size, size), np.float32, cubemap=True, levels=levels)
    chain = []
    for level in range(levels):
        faces = rng.random(cube.mip(level).shape).astype(np.float32)
        cube.mip(level).set(faces)
        chain.append(faces)
    dirs = _face_texel_directions(size)
    face, _, _ = reference.cubemap_face(dirs)
    np.testing.assert_array_equal(face, np.repeat(np.arange(6), size * size))
    s = ia.Sampler(
        "clamp_to_edge",
        "normalized",
        "nearest",
        mipmap_filtering="nearest",
        max_mipmap_level_clamp=float(levels - 1),
    )
    n = len(dirs)
    d = cupy.asarray(dirs)
    for level in range(levels):
        by_level, by_grad = cupy.zeros(n, np.float32), cupy.zeros(n, np.float32)
        module.get_function("mip_cube")(
            (-(-n // 128),),
            (128,),
            (
                cube.texture(s),
                d,
                np.float32(level),
                np.float32(0.0),
                by_level,
                by_grad,
                np.int32(n),
            ),
        )
        np.testing.assert_array_equal(
            by_level.get(), reference.sample_cubemap(chain[level], dirs, s), f"level {level}"
        )
        # Zero gradients read level 0.
        np.testing.assert_array_equal(by_grad.get(), reference.sample_cubemap(chain[0], dirs, s))
    # Gradients far larger than the cube read the coarsest level (the clamp).
    by_level, by_grad = cupy.zeros(n, np.float32), cupy.zeros(n, np.float32)
    module.get_function("mip_cube")(
        (-(-n // 128),),
        (128,),
        (cube.texture(s), d, np.float32(0.0), np.float32(100.0), by_level, by_grad, np.int32(n)),
    )
    np.testing.assert_array_equal(
        by_grad.get(), reference.sample_cubemap(chain[levels - 1], dirs, s)
    )


@pytest.mark.gpu
def test_gpu_cubemap_array_fetch_sample_write(combined):
    import numpy as np

    from imagearray.testing import reference

    cupy, ia, module = combined
    size, cubes = 4, 2
    rng = np.random.default_rng(9)
    faces = rng.random((6 * cubes, size, size)).astype(np.float32)
    src = ia.asimage(faces, cubemap=True, layered=True)
    s = ia.Sampler("clamp_to_edge", "normalized", "nearest")
    dirs = np.tile(_face_texel_directions(size), (cubes, 1))
    cube_of = np.repeat(np.arange(cubes), 6 * size * size).astype(np.uint32)
    n = len(dirs)
    assert n == faces.size  # one sampling point per thread of cube_array_read
    sampled, fetched = cupy.zeros(n, np.float32), cupy.zeros(faces.shape, np.float32)
    module.get_function("cube_array_read")(
        (6 * cubes,),
        (size, size),
        (
            src.texture(s),
            src.surface(),
            cupy.asarray(dirs),
            cupy.asarray(cube_of),
            sampled,
            np.int32(n),
            np.int32(size),
            fetched,
        ),
    )
    np.testing.assert_array_equal(fetched.get(), faces)
    np.testing.assert_array_equal(
        sampled.get(), reference.sample_cubemap(faces, dirs, s, cube=cube_of)
    )
    # Each direction goes through the centre of one texel: the texel itself comes back.
    np.testing.assert_array_equal(sampled.get(), faces.ravel())

    dst = ia.zeros((6 * cubes, size, size), np.float32, cubemap=True, layered=True)
    module.get_function("cube_array_write")(
        (6 * cubes,), (size, size), (dst.surface(), np.int32(size))
    )
    np.testing.assert_array_equal(
        dst.get(), 1000 + np.arange(faces.size, dtype=np.float32).reshape(faces.shape)
    )


# The standard functions in the dimensions the other GPU tests leave to ImageArray's own
# kernels: unsampled 1D and 3D, sample_image 1D and 3D, sample_mipmap by level in 2D and 3D.
DIMENSION_GPU_KERNELS = r"""
extern "C" __global__ void twice_1d(ia::unsampled_image_handle src,
                                    ia::unsampled_image_handle dst, int w) {
  int x = blockIdx.x * blockDim.x + threadIdx.x;
  if (x < w) ia::write_image(dst, x, 2.0f * ia::fetch_image<float>(src, x));
}

extern "C" __global__ void twice_3d(ia::unsampled_image_handle src,
                                    ia::unsampled_image_handle dst) {
  int3 c = make_int3(threadIdx.x, threadIdx.y, threadIdx.z);
  float2 v = ia::fetch_image<float2>(src, c);
  ia::write_image(dst, c, make_float2(2.0f * v.x, 2.0f * v.y));
}

extern "C" __global__ void sample_nd(ia::sampled_image_handle tex, int dims, const float *c,
                                     float level, int mip, float *out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const float *p = c + dims * i;
  if (dims == 1) {
    out[i] = ia::sample_image<float>(tex, p[0]);
  } else if (dims == 2) {
    out[i] = mip ? ia::sample_mipmap<float>(tex, make_float2(p[0], p[1]), level)
                 : ia::sample_image<float>(tex, make_float2(p[0], p[1]));
  } else {
    float3 q = make_float3(p[0], p[1], p[2]);
    out[i] = mip ? ia::sample_mipmap<float>(tex, q, level) : ia::sample_image<float>(tex, q);
  }
}
"""


def test_dimension_gpu_kernels_compile():
    assert_compiles(_include.kernel_preamble() + DIMENSION_GPU_KERNELS, "sm_90", fp16=False)


@pytest.mark.gpu
def test_gpu_standard_functions_in_every_dimension(combined):
    import numpy as np

    from imagearray.testing import reference

    cupy, ia, _ = combined
    module = cupy.RawModule(
        code=ia.kernel_preamble() + DIMENSION_GPU_KERNELS,
        options=("-std=c++17", "-I" + ia.get_include()),
    )
    rng = np.random.default_rng(21)
    # unsampled 1D and 3D: fetch_image and write_image
    d1 = rng.standard_normal(37).astype(np.float32)
    src1, dst1 = ia.asimage(d1), ia.zeros((37,), np.float32)
    module.get_function("twice_1d")((1,), (64,), (src1.surface(), dst1.surface(), np.int32(37)))
    np.testing.assert_array_equal(dst1.get(), 2 * d1)
    d3 = rng.standard_normal((3, 5, 7, 2)).astype(np.float32)
    src3, dst3 = ia.asimage(d3, channels=2), ia.zeros((3, 5, 7, 2), np.float32, 2)
    module.get_function("twice_3d")((1,), (7, 5, 3), (src3.surface(), dst3.surface()))
    np.testing.assert_array_equal(dst3.get(), 2 * d3)

    # sample_image 1D and 3D, nearest (exact) and linear (within the 8-bit weights), at
    # coordinates away from the ties of the hardware's fixed-point coordinates (as
    # test_sampling_gpu.coordinates): 0.1 texel from texel edges for nearest, a quarter
    # weight step from the weights' quantization boundaries for linear.
    n = 200

    def sample_nd(texture, dims, c, level, by_level):
        out = cupy.zeros(n, np.float32)
        args = (texture, np.int32(dims), cupy.asarray(c), np.float32(level), np.int32(by_level))
        module.get_function("sample_nd")((1,), (n,), (*args, out, np.int32(n)))
        return out.get()

    for data, dims in (
        (rng.random(37).astype(np.float32), 1),
        (rng.random((3, 5, 7)).astype(np.float32), 3),
    ):
        img = ia.asimage(data)
        extent = np.array(data.shape[::-1])
        for filtering in ("nearest", "linear"):
            t = rng.integers(-1, extent + 1, (n, dims)).astype(np.float64)
            if filtering == "nearest":
                t += 0.1 + 0.8 * rng.random((n, dims))
            else:
                t += 0.5 + (rng.integers(0, 256, (n, dims)) + 0.25) / 256
            c = t.astype(np.float32)
            s = ia.Sampler("clamp_to_edge", "unnormalized", filtering)
            got = sample_nd(img.texture(s), dims, c, 0, 0)
            want = reference.sample(data, c, s, dims=dims)
            # linear within 1e-6 in 1D and 3D (the reference models the trilinear
            # corner weights and the block-float sum, as test_sampling_gpu)
            tol = 0 if filtering == "nearest" else 1e-6
            np.testing.assert_allclose(got, want, rtol=0, atol=tol, err_msg=f"{filtering} {dims}D")

    # sample_mipmap by level, 2D and 3D, nearest everywhere: exact
    for shape in ((16, 32), (8, 8, 16)):
        dims, levels = len(shape), 3
        img = ia.empty(shape, np.float32, levels=levels)
        chain = []
        for level in range(levels):
            d = rng.random(img.mip(level).shape).astype(np.float32)
            img.mip(level).set(d)
            chain.append(d)
        s = ia.Sampler(
            "clamp_to_edge",
            "normalized",
            "nearest",
            mipmap_filtering="nearest",
            max_mipmap_level_clamp=float(levels - 1),
        )
        # Level-0 texel centres: at least 1/8 texel from every texel edge of levels 0-2.
        size0 = np.array(shape[::-1])
        c = ((rng.integers(0, size0, (n, dims)) + 0.5) / size0).astype(np.float32)
        for level in range(levels):
            got = sample_nd(img.texture(s), dims, c, level, 1)
            want = reference.sample_mipmap(chain, c, s, dims=dims, level=float(level))
            np.testing.assert_array_equal(got, want, f"{dims}D level {level}")
