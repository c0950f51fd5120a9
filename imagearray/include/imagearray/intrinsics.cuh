// imagearray device API: thin wrappers over CUDA's texture and surface instructions.
// Internal (namespace ia::detail); the public functions are in image.cuh, mipmap.cuh,
// image_array.cuh and cubemap.cuh.
#ifndef IMAGEARRAY_INTRINSICS_CUH
#define IMAGEARRAY_INTRINSICS_CUH

#include <imagearray/config.cuh>
#include <imagearray/types.cuh>

namespace ia {
namespace detail {

// ---------------------------------------------------------------------------------------
// Surfaces. CUDA addresses a surface's x in bytes, so every x is scaled by the texel size;
// y, z, the layer and the face count texels. S is a type surf*read/surf*write accept.

template <class S>
IMAGEARRAY_DEVICE_INLINE int surface_x(int x) {
  return x * static_cast<int>(sizeof(S));
}

template <class S>
IMAGEARRAY_DEVICE_INLINE S surface_read(unsigned long long surf, int x) {
  return surf1Dread<S>(surf, surface_x<S>(x), IMAGEARRAY_SURFACE_BOUNDARY_MODE);
}
template <class S>
IMAGEARRAY_DEVICE_INLINE S surface_read(unsigned long long surf, int2 c) {
  return surf2Dread<S>(surf, surface_x<S>(c.x), c.y, IMAGEARRAY_SURFACE_BOUNDARY_MODE);
}
template <class S>
IMAGEARRAY_DEVICE_INLINE S surface_read(unsigned long long surf, int3 c) {
  return surf3Dread<S>(surf, surface_x<S>(c.x), c.y, c.z, IMAGEARRAY_SURFACE_BOUNDARY_MODE);
}
template <class S>
IMAGEARRAY_DEVICE_INLINE S surface_read_layered(unsigned long long surf, int x, int layer) {
  return surf1DLayeredread<S>(surf, surface_x<S>(x), layer, IMAGEARRAY_SURFACE_BOUNDARY_MODE);
}
template <class S>
IMAGEARRAY_DEVICE_INLINE S surface_read_layered(unsigned long long surf, int2 c, int layer) {
  return surf2DLayeredread<S>(surf, surface_x<S>(c.x), c.y, layer,
                              IMAGEARRAY_SURFACE_BOUNDARY_MODE);
}
template <class S>
IMAGEARRAY_DEVICE_INLINE S surface_read_cubemap(unsigned long long surf, int2 c, int face) {
  return surfCubemapread<S>(surf, surface_x<S>(c.x), c.y, face,
                            IMAGEARRAY_SURFACE_BOUNDARY_MODE);
}

template <class S>
IMAGEARRAY_DEVICE_INLINE void surface_write(const S &v, unsigned long long surf, int x) {
  surf1Dwrite<S>(v, surf, surface_x<S>(x), IMAGEARRAY_SURFACE_BOUNDARY_MODE);
}
template <class S>
IMAGEARRAY_DEVICE_INLINE void surface_write(const S &v, unsigned long long surf, int2 c) {
  surf2Dwrite<S>(v, surf, surface_x<S>(c.x), c.y, IMAGEARRAY_SURFACE_BOUNDARY_MODE);
}
template <class S>
IMAGEARRAY_DEVICE_INLINE void surface_write(const S &v, unsigned long long surf, int3 c) {
  surf3Dwrite<S>(v, surf, surface_x<S>(c.x), c.y, c.z, IMAGEARRAY_SURFACE_BOUNDARY_MODE);
}
template <class S>
IMAGEARRAY_DEVICE_INLINE void surface_write_layered(const S &v, unsigned long long surf, int x,
                                                    int layer) {
  surf1DLayeredwrite<S>(v, surf, surface_x<S>(x), layer, IMAGEARRAY_SURFACE_BOUNDARY_MODE);
}
template <class S>
IMAGEARRAY_DEVICE_INLINE void surface_write_layered(const S &v, unsigned long long surf,
                                                    int2 c, int layer) {
  surf2DLayeredwrite<S>(v, surf, surface_x<S>(c.x), c.y, layer,
                        IMAGEARRAY_SURFACE_BOUNDARY_MODE);
}
template <class S>
IMAGEARRAY_DEVICE_INLINE void surface_write_cubemap(const S &v, unsigned long long surf,
                                                    int2 c, int face) {
  surfCubemapwrite<S>(v, surf, surface_x<S>(c.x), c.y, face, IMAGEARRAY_SURFACE_BOUNDARY_MODE);
}
// Layered cubemaps: `layer_face` is 6 * cube + face.
template <class S>
IMAGEARRAY_DEVICE_INLINE S surface_read_cubemap_layered(unsigned long long surf, int2 c,
                                                        int layer_face) {
  return surfCubemapLayeredread<S>(surf, surface_x<S>(c.x), c.y, layer_face,
                                   IMAGEARRAY_SURFACE_BOUNDARY_MODE);
}
template <class S>
IMAGEARRAY_DEVICE_INLINE void surface_write_cubemap_layered(const S &v, unsigned long long surf,
                                                            int2 c, int layer_face) {
  surfCubemapLayeredwrite<S>(v, surf, surface_x<S>(c.x), c.y, layer_face,
                             IMAGEARRAY_SURFACE_BOUNDARY_MODE);
}

/// Reads DataT through the recognized type R from surface coordinates `c`.
template <class DataT, class R, class C>
IMAGEARRAY_DEVICE_INLINE DataT surface_fetch(unsigned long long surf, const C &c) {
  return bit_cast<DataT>(surface_read<typename texel_traits<R>::surf_type>(surf, c));
}

/// Writes DataT as the surface type of its size and kind.
template <class DataT, class C>
IMAGEARRAY_DEVICE_INLINE void surface_store(unsigned long long surf, const C &c,
                                            const DataT &v) {
  using S = typename write_traits<DataT>::surf_type;
  surface_write<S>(bit_cast<S>(v), surf, c);
}

// ---------------------------------------------------------------------------------------
// Texel fetch from a texture object at integer coordinates (the PTX tex instruction with
// .s32 coordinates, which reads one texel as stored: the texture's coordinate
// normalization, filtering and addressing modes do not apply). CUDA C++ exposes this only
// for 1D linear memory (tex1Dfetch), so 2D, 3D and layered 1D/2D images use inline PTX
// (tex.2d, tex.3d, tex.a1d, tex.a2d with .s32 coordinates). The result registers are
// .f32 for float and half channels (normalized integer formats arrive as float too) and
// .s32 / .u32 for integer channels, as CUDA's own tex2D<T> chooses.

#define IMAGEARRAY_DEFINE_TEXEL_FETCH(DTYPE, R, CONSTRAINT)                                  \
  IMAGEARRAY_DEVICE_INLINE texel4<R> texel_fetch_2d_##DTYPE(unsigned long long tex, int x,  \
                                                             int y) {                         \
    texel4<R> r;                                                                             \
    asm("tex.2d.v4." #DTYPE ".s32 {%0, %1, %2, %3}, [%4, {%5, %6}];"                          \
        : "=" CONSTRAINT(r.x), "=" CONSTRAINT(r.y), "=" CONSTRAINT(r.z), "=" CONSTRAINT(r.w)   \
        : "l"(tex), "r"(x), "r"(y));                                                          \
    return r;                                                                                \
  }                                                                                          \
  IMAGEARRAY_DEVICE_INLINE texel4<R> texel_fetch_3d_##DTYPE(unsigned long long tex, int x,  \
                                                             int y, int z) {                  \
    texel4<R> r;                                                                             \
    asm("tex.3d.v4." #DTYPE ".s32 {%0, %1, %2, %3}, [%4, {%5, %6, %7, %7}];"                  \
        : "=" CONSTRAINT(r.x), "=" CONSTRAINT(r.y), "=" CONSTRAINT(r.z), "=" CONSTRAINT(r.w)   \
        : "l"(tex), "r"(x), "r"(y), "r"(z));                                                  \
    return r;                                                                                \
  }                                                                                          \
  /* Layered (tex.a1d / tex.a2d): the layer index comes first, then the coordinates. */     \
  IMAGEARRAY_DEVICE_INLINE texel4<R> texel_fetch_a1d_##DTYPE(unsigned long long tex, int x, \
                                                              int layer) {                    \
    texel4<R> r;                                                                             \
    asm("tex.a1d.v4." #DTYPE ".s32 {%0, %1, %2, %3}, [%4, {%5, %6}];"                         \
        : "=" CONSTRAINT(r.x), "=" CONSTRAINT(r.y), "=" CONSTRAINT(r.z), "=" CONSTRAINT(r.w)   \
        : "l"(tex), "r"(layer), "r"(x));                                                      \
    return r;                                                                                \
  }                                                                                          \
  IMAGEARRAY_DEVICE_INLINE texel4<R> texel_fetch_a2d_##DTYPE(unsigned long long tex, int x, \
                                                              int y, int layer) {             \
    texel4<R> r;                                                                             \
    asm("tex.a2d.v4." #DTYPE ".s32 {%0, %1, %2, %3}, [%4, {%5, %6, %7, %7}];"                 \
        : "=" CONSTRAINT(r.x), "=" CONSTRAINT(r.y), "=" CONSTRAINT(r.z), "=" CONSTRAINT(r.w)   \
        : "l"(tex), "r"(layer), "r"(x), "r"(y));                                              \
    return r;                                                                                \
  }

IMAGEARRAY_DEFINE_TEXEL_FETCH(f32, float, "f")
IMAGEARRAY_DEFINE_TEXEL_FETCH(s32, int, "r")
IMAGEARRAY_DEFINE_TEXEL_FETCH(u32, unsigned int, "r")

#undef IMAGEARRAY_DEFINE_TEXEL_FETCH

/// Fetches the texel at `c` of a sampled image as the recognized type R.
template <class R>
IMAGEARRAY_DEVICE_INLINE R texel_fetch(unsigned long long tex, int x) {
  // 1D textures can only be fetched from linear (USM) memory on CUDA.
  using tr = texel_traits<R>;
  return tr::from_tex(tex1Dfetch<typename tr::tex_type>(tex, x));
}
template <class R>
IMAGEARRAY_DEVICE_INLINE R texel_fetch(unsigned long long tex, int2 c) {
  using tr = texel_traits<R>;
  if constexpr (tr::kind() == channel_kind::signed_integer) {
    return tr::from4(texel_fetch_2d_s32(tex, c.x, c.y));
  } else if constexpr (tr::kind() == channel_kind::unsigned_integer) {
    return tr::from4(texel_fetch_2d_u32(tex, c.x, c.y));
  } else {
    return tr::from4(texel_fetch_2d_f32(tex, c.x, c.y));
  }
}
template <class R>
IMAGEARRAY_DEVICE_INLINE R texel_fetch(unsigned long long tex, int3 c) {
  using tr = texel_traits<R>;
  if constexpr (tr::kind() == channel_kind::signed_integer) {
    return tr::from4(texel_fetch_3d_s32(tex, c.x, c.y, c.z));
  } else if constexpr (tr::kind() == channel_kind::unsigned_integer) {
    return tr::from4(texel_fetch_3d_u32(tex, c.x, c.y, c.z));
  } else {
    return tr::from4(texel_fetch_3d_f32(tex, c.x, c.y, c.z));
  }
}

/// Fetches the texel at `c` of layer `layer` of a sampled image array as the recognized
/// type R (no sampler state applies, as for texel_fetch).
template <class R>
IMAGEARRAY_DEVICE_INLINE R texel_fetch_layered(unsigned long long tex, int x, int layer) {
  using tr = texel_traits<R>;
  if constexpr (tr::kind() == channel_kind::signed_integer) {
    return tr::from4(texel_fetch_a1d_s32(tex, x, layer));
  } else if constexpr (tr::kind() == channel_kind::unsigned_integer) {
    return tr::from4(texel_fetch_a1d_u32(tex, x, layer));
  } else {
    return tr::from4(texel_fetch_a1d_f32(tex, x, layer));
  }
}
template <class R>
IMAGEARRAY_DEVICE_INLINE R texel_fetch_layered(unsigned long long tex, int2 c, int layer) {
  using tr = texel_traits<R>;
  if constexpr (tr::kind() == channel_kind::signed_integer) {
    return tr::from4(texel_fetch_a2d_s32(tex, c.x, c.y, layer));
  } else if constexpr (tr::kind() == channel_kind::unsigned_integer) {
    return tr::from4(texel_fetch_a2d_u32(tex, c.x, c.y, layer));
  } else {
    return tr::from4(texel_fetch_a2d_f32(tex, c.x, c.y, layer));
  }
}

// ---------------------------------------------------------------------------------------
// Sampling through the texture's sampler, as the recognized type R.

template <class R>
IMAGEARRAY_DEVICE_INLINE R texture_sample(unsigned long long tex, float x) {
  using tr = texel_traits<R>;
  return tr::from_tex(tex1D<typename tr::tex_type>(tex, x));
}
template <class R>
IMAGEARRAY_DEVICE_INLINE R texture_sample(unsigned long long tex, float2 c) {
  using tr = texel_traits<R>;
  return tr::from_tex(tex2D<typename tr::tex_type>(tex, c.x, c.y));
}
template <class R>
IMAGEARRAY_DEVICE_INLINE R texture_sample(unsigned long long tex, float3 c) {
  using tr = texel_traits<R>;
  return tr::from_tex(tex3D<typename tr::tex_type>(tex, c.x, c.y, c.z));
}

template <class R>
IMAGEARRAY_DEVICE_INLINE R texture_sample_lod(unsigned long long tex, float x, float level) {
  using tr = texel_traits<R>;
  return tr::from_tex(tex1DLod<typename tr::tex_type>(tex, x, level));
}
template <class R>
IMAGEARRAY_DEVICE_INLINE R texture_sample_lod(unsigned long long tex, float2 c, float level) {
  using tr = texel_traits<R>;
  return tr::from_tex(tex2DLod<typename tr::tex_type>(tex, c.x, c.y, level));
}
template <class R>
IMAGEARRAY_DEVICE_INLINE R texture_sample_lod(unsigned long long tex, float3 c, float level) {
  using tr = texel_traits<R>;
  return tr::from_tex(tex3DLod<typename tr::tex_type>(tex, c.x, c.y, c.z, level));
}

template <class R>
IMAGEARRAY_DEVICE_INLINE R texture_sample_grad(unsigned long long tex, float x, float dx,
                                               float dy) {
  using tr = texel_traits<R>;
  return tr::from_tex(tex1DGrad<typename tr::tex_type>(tex, x, dx, dy));
}
template <class R>
IMAGEARRAY_DEVICE_INLINE R texture_sample_grad(unsigned long long tex, float2 c, float2 dx,
                                               float2 dy) {
  using tr = texel_traits<R>;
  return tr::from_tex(tex2DGrad<typename tr::tex_type>(tex, c.x, c.y, dx, dy));
}
template <class R>
IMAGEARRAY_DEVICE_INLINE R texture_sample_grad(unsigned long long tex, float3 c, float3 dx,
                                               float3 dy) {
  // CUDA's 3D gradients are float4 with an unused w.
  using tr = texel_traits<R>;
  return tr::from_tex(tex3DGrad<typename tr::tex_type>(tex, c.x, c.y, c.z,
                                                       make_float4(dx.x, dx.y, dx.z, 0.0f),
                                                       make_float4(dy.x, dy.y, dy.z, 0.0f)));
}

template <class R>
IMAGEARRAY_DEVICE_INLINE R texture_sample_layered(unsigned long long tex, float x, int layer) {
  using tr = texel_traits<R>;
  return tr::from_tex(tex1DLayered<typename tr::tex_type>(tex, x, layer));
}
template <class R>
IMAGEARRAY_DEVICE_INLINE R texture_sample_layered(unsigned long long tex, float2 c, int layer) {
  using tr = texel_traits<R>;
  return tr::from_tex(tex2DLayered<typename tr::tex_type>(tex, c.x, c.y, layer));
}

template <class R>
IMAGEARRAY_DEVICE_INLINE R texture_sample_layered_lod(unsigned long long tex, float x, int layer,
                                                      float level) {
  using tr = texel_traits<R>;
  return tr::from_tex(tex1DLayeredLod<typename tr::tex_type>(tex, x, layer, level));
}
template <class R>
IMAGEARRAY_DEVICE_INLINE R texture_sample_layered_lod(unsigned long long tex, float2 c,
                                                      int layer, float level) {
  using tr = texel_traits<R>;
  return tr::from_tex(tex2DLayeredLod<typename tr::tex_type>(tex, c.x, c.y, layer, level));
}

template <class R>
IMAGEARRAY_DEVICE_INLINE R texture_sample_layered_grad(unsigned long long tex, float x,
                                                       int layer, float dx, float dy) {
  using tr = texel_traits<R>;
  return tr::from_tex(tex1DLayeredGrad<typename tr::tex_type>(tex, x, layer, dx, dy));
}
template <class R>
IMAGEARRAY_DEVICE_INLINE R texture_sample_layered_grad(unsigned long long tex, float2 c,
                                                       int layer, float2 dx, float2 dy) {
  using tr = texel_traits<R>;
  return tr::from_tex(tex2DLayeredGrad<typename tr::tex_type>(tex, c.x, c.y, layer, dx, dy));
}

template <class R>
IMAGEARRAY_DEVICE_INLINE R texture_sample_cubemap(unsigned long long tex, float3 d) {
  using tr = texel_traits<R>;
  return tr::from_tex(texCubemap<typename tr::tex_type>(tex, d.x, d.y, d.z));
}
template <class R>
IMAGEARRAY_DEVICE_INLINE R texture_sample_cubemap_lod(unsigned long long tex, float3 d,
                                                      float level) {
  using tr = texel_traits<R>;
  return tr::from_tex(texCubemapLod<typename tr::tex_type>(tex, d.x, d.y, d.z, level));
}
template <class R>
IMAGEARRAY_DEVICE_INLINE R texture_sample_cubemap_grad(unsigned long long tex, float3 d,
                                                       float3 dx, float3 dy) {
  // CUDA's cubemap gradients are float4 with an unused w, as for 3D textures.
  using tr = texel_traits<R>;
  return tr::from_tex(texCubemapGrad<typename tr::tex_type>(tex, d.x, d.y, d.z,
                                                          make_float4(dx.x, dx.y, dx.z, 0.0f),
                                                          make_float4(dy.x, dy.y, dy.z, 0.0f)));
}
template <class R>
IMAGEARRAY_DEVICE_INLINE R texture_sample_cubemap_layered(unsigned long long tex, float3 d,
                                                          int cube) {
  using tr = texel_traits<R>;
  return tr::from_tex(texCubemapLayered<typename tr::tex_type>(tex, d.x, d.y, d.z, cube));
}

// ---------------------------------------------------------------------------------------
// Gather (tex2Dgather, the PTX tld4 instruction): component `comp` of the 2x2 footprint a
// bilinear fetch at `c` would read, as four results of the texture unit's register type
// (.s32 / .u32 for integer channels, .f32 for float, half and normalized ones, as
// texel_fetch chooses), converted to the 4-component recognized type R.

template <class R>
IMAGEARRAY_DEVICE_INLINE R texture_gather(unsigned long long tex, float2 c, int comp) {
  using tr = texel_traits<R>;
  if constexpr (tr::kind() == channel_kind::signed_integer) {
    const int4 v = tex2Dgather<int4>(tex, c.x, c.y, comp);
    return tr::from4(texel4<int>{v.x, v.y, v.z, v.w});
  } else if constexpr (tr::kind() == channel_kind::unsigned_integer) {
    const uint4 v = tex2Dgather<uint4>(tex, c.x, c.y, comp);
    return tr::from4(texel4<unsigned int>{v.x, v.y, v.z, v.w});
  } else {
    const float4 v = tex2Dgather<float4>(tex, c.x, c.y, comp);
    return tr::from4(texel4<float>{v.x, v.y, v.z, v.w});
  }
}

}  // namespace detail
}  // namespace ia

#endif  // IMAGEARRAY_INTRINSICS_CUH
