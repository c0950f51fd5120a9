"""``ia::filtered_integer_image_handle<C>`` (filtered_integer.cuh), compiled with NVRTC:
a filtered 8/16-bit integer image is sampled through a float read (the texture reads
it normalized) and scaled back to the image's units, rounded (cvt.rni) for integer
results and unrounded for float ones; DataT must hold every value of C; C must be an
8/16-bit integer type. No GPU is needed; test_filtered_integer_gpu.py runs the kernels."""

from __future__ import annotations

import re

import pytest
from test_headers import assert_compiles, compile_cuda

from imagearray import _include

#: What the GPU tests launch (test_filtered_integer_gpu.py), one kernel per channel type
#: C and integer result type T: each point's sample as T and as float, in 1D, 2D or 3D,
#: a level of a mipmap, a fetch, and four channels (T4 / float4).
FILTERED_GPU_KERNELS = r"""
template <class C, class T>
__device__ void sample_points(ia::filtered_integer_image_handle<C> h, const float *c, int n,
                              int dims, T *out, float *outf) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  if (dims == 1) {
    out[i] = ia::sample_image<T>(h, c[i]);
    outf[i] = ia::sample_image<float>(h, c[i]);
  } else if (dims == 2) {
    const float2 p = make_float2(c[2 * i], c[2 * i + 1]);
    out[i] = ia::sample_image<T>(h, p);
    outf[i] = ia::sample_image<float>(h, p);
  } else {
    const float3 p = make_float3(c[3 * i], c[3 * i + 1], c[3 * i + 2]);
    out[i] = ia::sample_image<T>(h, p);
    outf[i] = ia::sample_image<float>(h, p);
  }
}

template <class C, class T>
__device__ void sample_level(ia::filtered_integer_image_handle<C> h, const float *c, int n,
                             float level, T *out, float *outf) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const float2 p = make_float2(c[2 * i], c[2 * i + 1]);
  out[i] = ia::sample_mipmap<T>(h, p, level);
  outf[i] = ia::sample_mipmap<float>(h, p, level);
}

template <class C, class T>
__device__ void fetch_texels(ia::filtered_integer_image_handle<C> h, int w, int hgt, T *out) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y;
  if (x < w && y < hgt) out[y * w + x] = ia::fetch_image<T>(h, make_int2(x, y));
}

#define IA_FILTERED_KERNELS(NAME, C, T, T4)                                                 \
  extern "C" __global__ void sample_##NAME(ia::filtered_integer_image_handle<C> h,          \
                                           const float *c, int n, int dims, T *out,         \
                                           float *outf) {                                   \
    sample_points<C, T>(h, c, n, dims, out, outf);                                          \
  }                                                                                         \
  extern "C" __global__ void level_##NAME(ia::filtered_integer_image_handle<C> h,           \
                                          const float *c, int n, float level, T *out,       \
                                          float *outf) {                                    \
    sample_level<C, T>(h, c, n, level, out, outf);                                          \
  }                                                                                         \
  extern "C" __global__ void fetch_##NAME(ia::filtered_integer_image_handle<C> h, int w,    \
                                          int hgt, T *out) {                                \
    fetch_texels<C, T>(h, w, hgt, out);                                                     \
  }                                                                                         \
  extern "C" __global__ void sample4_##NAME(ia::filtered_integer_image_handle<C> h,         \
                                            const float *c, int n, T4 *out, float4 *outf) { \
    const int i = blockIdx.x * blockDim.x + threadIdx.x;                                    \
    if (i >= n) return;                                                                     \
    const float2 p = make_float2(c[2 * i], c[2 * i + 1]);                                   \
    out[i] = ia::sample_image<T4>(h, p);                                                    \
    outf[i] = ia::sample_image<float4>(h, p);                                               \
  }

IA_FILTERED_KERNELS(int8, signed char, short, short4)
IA_FILTERED_KERNELS(uint8, unsigned char, unsigned short, ushort4)
IA_FILTERED_KERNELS(int16, short, short, short4)
IA_FILTERED_KERNELS(uint16, unsigned short, unsigned short, ushort4)
"""

EVERY_FILTERED_FUNCTION = r"""
#include <imagearray/bindless_images.cuh>
using C = CHANNEL;
using T = RESULT;
struct alignas(alignof(T)) user_t { unsigned char bytes[sizeof(T)]; };

extern "C" __global__ void every(ia::filtered_integer_image_handle<C> h, T *out, float *f,
                                 user_t *user) {
  const float2 p = make_float2(1.25f, 2.5f), d = make_float2(1.0f, 0.0f);
  out[0] = ia::sample_image<T>(h, 1.25f);
  out[1] = ia::sample_image<T>(h, p);
  out[2] = ia::sample_image<T>(h, make_float3(1.0f, 2.0f, 3.0f));
  out[3] = ia::sample_mipmap<T>(h, p, 1.5f);
  out[4] = ia::sample_mipmap<T>(h, p, d, d);
  out[5] = ia::sample_image_array<T>(h, p, 2u);
  out[6] = ia::sample_mipmap_array<T>(h, 0.5f, 1u, 0.5f);
  out[7] = ia::sample_mipmap_array<T>(h, p, 1u, d, d);
  out[8] = ia::sample_cubemap<T>(h, make_float3(1.0f, 0.0f, 0.0f));
  out[11] = ia::sample_mipmap_cubemap<T>(h, make_float3(0.0f, 1.0f, 0.0f), 1.0f);
  out[12] = ia::sample_mipmap_cubemap<T>(h, make_float3(0.0f, 0.0f, 1.0f),
                                         make_float3(0.1f, 0.0f, 0.0f),
                                         make_float3(0.0f, 0.1f, 0.0f));
  out[13] = ia::sample_cubemap_array<T>(h, make_float3(-1.0f, 0.0f, 0.0f), 2u);
  out[9] = ia::fetch_image<T>(h, make_int2(1, 2));
  out[10] = ia::fetch_image_array<T>(h, 3, 1u);
  f[0] = ia::sample_image<float>(h, p);
  f[1] = ia::fetch_image<float>(h, make_int3(1, 2, 3));
  user[0] = ia::sample_image<user_t, T>(h, p);
}
"""

CHANNELS = ["signed char", "unsigned char", "short", "unsigned short"]
#: C -> integer results that hold all its values
RESULTS = {
    "signed char": ["signed char", "short", "int", "char4", "short2", "int4"],
    "unsigned char": ["unsigned char", "unsigned short", "unsigned int", "uchar4", "ushort4"],
    "short": ["short", "int", "short4"],
    "unsigned short": ["unsigned short", "unsigned int", "ushort2"],
}
PAIRS = [pytest.param(c, t, id=f"{c}-{t}".replace(" ", "_")) for c in CHANNELS for t in RESULTS[c]]


@pytest.mark.parametrize("channel, result", PAIRS)
def test_every_function_reads_float_and_rounds(channel, result):
    src = EVERY_FILTERED_FUNCTION.replace("CHANNEL", channel).replace("RESULT", result)
    ptx = assert_compiles(src, "compute_90").ptx
    # Every read goes through the float registers of the normalized read ...
    reads = re.findall(r"\btex\.[\w.]+", ptx)
    assert reads and all(".v4.f32." in r for r in reads), reads
    assert {r.split(".v4")[0] for r in reads} >= {
        "tex.1d",
        "tex.2d",
        "tex.3d",
        "tex.level.2d",
        "tex.grad.2d",
        "tex.a2d",
        "tex.level.a1d",
        "tex.grad.a2d",
        "tex.cube",
        "tex.level.cube",
        "tex.grad.cube",
        "tex.acube",
    }, reads
    # ... is scaled in float32 by the channel type's unit, and rounded to nearest even
    scale = {"signed char": 127, "unsigned char": 255, "short": 32767, "unsigned short": 65535}
    assert _ptx_float(scale[channel]) in ptx and "mul.rn.f32" in ptx, ptx
    assert not re.search(r"\bfma\.", ptx)  # one product, never fused
    assert "cvt.rni.s32.f32" in ptx
    assert not re.search(r"^\s*\.(global|const)\s", ptx, re.M)


def _ptx_float(v: float) -> str:
    import struct

    return "0f" + struct.pack(">f", float(v)).hex().upper()


def test_float_results_are_unrounded_and_fetches_round():
    src = r"""
#include <imagearray/bindless_images.cuh>
extern "C" __global__ void s(ia::filtered_integer_image_handle<short> h, float4 *o) {
  o[0] = ia::sample_image<float4>(h, make_float2(1.5f, 2.5f));
}
extern "C" __global__ void f(ia::filtered_integer_image_handle<short> h, float4 *o) {
  o[0] = ia::fetch_image<float4>(h, make_int2(1, 2));
}
"""
    ptx = assert_compiles(src, "compute_90").ptx
    sample, fetch = ptx.split(".entry f")
    assert "cvt.rni" not in sample and sample.count("mul.rn.f32") == 4
    assert fetch.count("cvt.rni.f32.f32") == 4


def test_the_gpu_kernels_compile():
    assert_compiles(_include.kernel_preamble() + FILTERED_GPU_KERNELS, "sm_90", fp16=False)


def test_filtered_handle_is_one_uint64_parameter():
    src = r"""
#include <imagearray/bindless_images.cuh>
extern "C" __global__ void k(ia::filtered_integer_image_handle<unsigned short> h, int *o) {
  o[0] = (int)(h.raw_handle >> 32);
}
"""
    ptx = assert_compiles(src, "compute_90").ptx
    assert re.search(r"\.param \.align 8 \.b8 k_param_0\[8\]|\.param \.u64 k_param_0", ptx), ptx


BAD = {
    "a narrower result": (
        "short",
        "o[0] = ia::sample_image<signed char>(h, 1.0f);",
        "must hold every value of ChannelT",
    ),
    "another signedness": (
        "short",
        "o[0] = ia::sample_image<unsigned short>(h, make_float2(1.0f, 1.0f));",
        "must hold every value of ChannelT",
    ),
    "a 32-bit channel type": (
        "int",
        "o[0] = 0;",
        "32-bit integer images cannot be filtered",
    ),
    "a float channel type": ("float", "o[0] = 0;", "use ia::sampled_image_handle"),
    "integer coordinates to sample": (
        "short",
        "o[0] = ia::sample_image<short>(h, make_int2(1, 1));",
        "sampling coordinates are float",
    ),
    "float coordinates to fetch": (
        "short",
        "o[0] = ia::fetch_image<short>(h, make_float2(1.0f, 1.0f));",
        "fetch and write coordinates are int",
    ),
    "a double result": (
        "short",
        "o[0] = ia::sample_image<double>(h, 1.0f);",
        "DataT is not a recognized standard type",
    ),
}


@pytest.mark.parametrize("channel, body, message", BAD.values(), ids=list(BAD))
def test_misuse_fails_with_one_message(channel, body, message):
    src = (
        "#include <imagearray/bindless_images.cuh>\n"
        f'extern "C" __global__ void k(ia::filtered_integer_image_handle<{channel}> h, '
        "short *o) {\n  " + body + "\n}\n"
    )
    result = compile_cuda(src, "compute_90")
    assert not result.ok
    errors = [e for e in result.errors if "static assertion" in e]
    assert errors and all("imagearray:" in e for e in errors), result.log
    assert any(message in e for e in errors), result.log
