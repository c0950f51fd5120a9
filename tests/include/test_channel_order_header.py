"""The channel-order template argument (channel_order.cuh), compiled with NVRTC: every
form of fetch_image / sample_image / fetch_image_array / write_image /
write_image_array with an ``ia::image_channel_order`` for every 4-component type, the
permutation itself checked at compile time (``static_assert`` over a constexpr
texel), and the misuses refused with one ``imagearray:`` message. No GPU is needed;
test_channel_order_gpu.py runs the kernels."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_headers import assert_compiles, compile_cuda, needs_fp16

from imagearray import ChannelOrder, _include

#: order -> the stored channel each result channel (x, y, z, w) comes from (a read), or
#: each stored channel takes from the written value (a write): the peer's swap_order.
PERMUTATION = {
    "rgba": (0, 1, 2, 3),
    "argb": (3, 0, 1, 2),
    "bgra": (2, 1, 0, 3),
    "abgr": (3, 2, 1, 0),
}

#: What the GPU tests launch: a fetch (surface and texture) and a write of an RGBA8 image
#: through each order.
CHANNEL_ORDER_GPU_KERNELS = r"""
#define IA_ORDER_KERNELS(O)                                                                 \
  extern "C" __global__ void fetch_##O(ia::unsampled_image_handle surf,                    \
                                       ia::sampled_image_handle tex, int w, int h,         \
                                       uchar4 *from_surface, uchar4 *from_texture) {       \
    const int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y;                   \
    if (x >= w || y >= h) return;                                                           \
    from_surface[y * w + x] =                                                               \
        ia::fetch_image<uchar4, ia::image_channel_order::O>(surf, make_int2(x, y));        \
    from_texture[y * w + x] =                                                               \
        ia::fetch_image<uchar4, uchar4, ia::image_channel_order::O>(tex, make_int2(x, y)); \
  }                                                                                         \
  extern "C" __global__ void write_##O(ia::unsampled_image_handle out, int w, int h,       \
                                       const uchar4 *values) {                             \
    const int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y;                   \
    if (x >= w || y >= h) return;                                                           \
    ia::write_image<uchar4, ia::image_channel_order::O>(out, make_int2(x, y),              \
                                                        values[y * w + x]);                \
  }                                                                                         \
  extern "C" __global__ void sample_##O(ia::sampled_image_handle tex, const float2 *c,     \
                                        int n, float4 *out) {                               \
    const int i = blockIdx.x * blockDim.x + threadIdx.x;                                    \
    if (i < n) out[i] = ia::sample_image<float4, ia::image_channel_order::O>(tex, c[i]);    \
  }

IA_ORDER_KERNELS(rgba)
IA_ORDER_KERNELS(argb)
IA_ORDER_KERNELS(bgra)
IA_ORDER_KERNELS(abgr)
"""

EVERY_FORM = r"""
#include <imagearray/bindless_images.cuh>
using T = TYPE;
using O = ia::image_channel_order;
struct alignas(alignof(T)) user_t { unsigned char bytes[sizeof(T)]; };

template <O Order>
__device__ void every(ia::unsampled_image_handle u, ia::sampled_image_handle s, T *out,
                      user_t *user) {
  out[0] = ia::fetch_image<T, Order>(u, make_int2(1, 2));
  out[1] = ia::fetch_image<T, T, Order>(u, 3);
  out[2] = ia::fetch_image<T, Order>(s, make_int3(1, 2, 3));
  out[3] = ia::sample_image<T, Order>(s, make_float2(1.5f, 2.5f));
  out[4] = ia::sample_image<T, T, Order>(s, 0.5f);
  out[5] = ia::fetch_image_array<T, Order>(u, make_int2(1, 2), 1u);
  out[6] = ia::fetch_image_array<T, T, Order>(s, 4, 2u);
  user[0] = ia::fetch_image<user_t, T, Order>(u, make_int2(1, 2));
  ia::write_image<T, Order>(u, make_int2(1, 2), out[0]);
  ia::write_image_array<T, Order>(u, 1, 2u, out[1]);
}

extern "C" __global__ void all_orders(ia::unsampled_image_handle u, ia::sampled_image_handle s,
                                      T *out, user_t *user) {
  every<O::rgba>(u, s, out, user);
  every<O::argb>(u, s, out + 8, user + 1);
  every<O::bgra>(u, s, out + 16, user + 2);
  every<O::abgr>(u, s, out + 24, user + 3);
  // without an order: the spec's forms are untouched
  out[32] = ia::fetch_image<T>(u, make_int2(1, 2));
  out[33] = ia::fetch_image<T, T>(u, make_int2(1, 2));
  ia::write_image(u, make_int2(1, 2), out[32]);
}
"""

TYPES = ["char4", "uchar4", "short4", "ushort4", "int4", "uint4", "float4"]
TYPE_PARAMS = [pytest.param(t, id=t) for t in TYPES] + [
    pytest.param("ia::half4", id="ia_half4", marks=needs_fp16)
]


@pytest.mark.parametrize("type_name", TYPE_PARAMS)
def test_every_form_compiles_for_every_4_component_type(type_name):
    assert_compiles(EVERY_FORM.replace("TYPE", type_name), "sm_90")


def _permutation_checks() -> str:
    lines = []
    for order, perm in PERMUTATION.items():
        for k, axis in enumerate("xyzw"):
            lines.append(
                f"static_assert(ia::detail::in_order<O::{order}>(s).{axis} == s.{'xyzw'[perm[k]]},"
                f' "{order}.{axis}");'
            )
    return "\n".join(lines)


def test_the_permutations_are_the_peers():
    src = (
        "#include <imagearray/bindless_images.cuh>\n"
        "using O = ia::image_channel_order;\n"
        "struct q { int x, y, z, w; };\n"
        "constexpr q s{10, 20, 30, 40};\n" + _permutation_checks() + "\n"
        # the orders that do not permute leave four channels alone
        "static_assert(ia::detail::in_order<O::r>(s).x == 10 && "
        'ia::detail::in_order<O::rgbx>(s).w == 40, "identity");\n'
        'extern "C" __global__ void k() {}\n'
    )
    assert_compiles(src, "compute_90")


def test_a_wrong_permutation_would_be_caught():
    # the compile-time check above can fail: a deliberately wrong expectation does
    src = (
        "#include <imagearray/bindless_images.cuh>\n"
        "struct q { int x, y, z, w; };\n"
        "constexpr q s{10, 20, 30, 40};\n"
        'static_assert(ia::detail::in_order<ia::image_channel_order::argb>(s).x == 20, "");\n'
    )
    assert not compile_cuda(src, "compute_90").ok


def test_enum_names_follow_the_python_channel_orders():
    text = (Path(_include.get_include()) / "imagearray" / "channel_order.cuh").read_text()
    body = text[text.index("enum class image_channel_order") :]
    body = body[body.index("{") + 1 : body.index("};")]
    names = [n.strip() for n in body.replace("\n", " ").split(",") if n.strip()]
    assert names == [o.value for o in ChannelOrder]


def test_the_gpu_kernels_compile():
    assert_compiles(_include.kernel_preamble() + CHANNEL_ORDER_GPU_KERNELS, "sm_90", fp16=False)


BAD = {
    "a 1-component read": "o[0] = ia::fetch_image<float, ia::image_channel_order::bgra>(u, 1);",
    "a 2-component sample": (
        "float2 v = ia::sample_image<float2, ia::image_channel_order::argb>(s, 1.0f); o[0] = v.x;"
    ),
    "a user type written": (
        "ia::write_image<rgba8, ia::image_channel_order::abgr>(u, 1, rgba8{});"
    ),
    "a user type read without a hint": (
        "rgba8 p = ia::fetch_image<rgba8, ia::image_channel_order::bgra>(u, 1); o[0] = p.r;"
    ),
}


@pytest.mark.parametrize("body", BAD.values(), ids=list(BAD))
def test_misuse_fails_with_an_imagearray_message(body):
    src = (
        "#include <imagearray/bindless_images.cuh>\n"
        "struct rgba8 { unsigned char r, g, b, a; };\n"
        'extern "C" __global__ void k(ia::unsampled_image_handle u, ia::sampled_image_handle s,'
        " float *o) {\n  " + body + "\n}\n"
    )
    result = compile_cuda(src, "compute_90")
    assert not result.ok
    errors = [e for e in result.errors if "static assertion" in e]
    assert errors and all("imagearray:" in e for e in errors), result.log
