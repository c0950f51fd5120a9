// imagearray device API: linearly filtered 8- and 16-bit integer images.
//
// CUDA cannot filter an integer read: the driver refuses a linear filter on a texture
// made with CU_TRSF_READ_AS_INTEGER (cudaErrorInvalidFilterSetting). imagearray, like
// DPC++ on CUDA, makes the sampled handle of an int8/uint8/int16/uint16 image whose
// sampler filters linearly (within a level or between mip levels) with a normalized read
// instead: the texture unit returns v / 127, v / 255, v / 32767 or v / 65535 as float
// (int8's -128 reads -1.0 like -127, int16's -32768 like -32767) and filters that. Such a
// texture returns floats, so a kernel must know it reads one: it declares the handle as
//
//   ia::filtered_integer_image_handle<ChannelT>
//
// with ChannelT the image's channel type (signed char, unsigned char, short or unsigned
// short; SampledImageHandle.kernel_type names it). Passed from Python it is the same one
// uint64 as ia::sampled_image_handle. Through it, these return the filtered value in the
// image's units, f * scale computed in float32 (H = filtered_integer_image_handle<C>;
// every function takes <DataT, HintT = DataT>):
//
//   DataT sample_image(H, float | float2 | float3 coords)
//   DataT sample_mipmap(H, coords, float level)
//   DataT sample_mipmap(H, coords, dx, dy /* of the coordinates' type */)
//   DataT sample_image_array(H, float | float2 coords, unsigned int layer)
//   DataT sample_mipmap_array(H, float | float2 coords, unsigned int layer, float level)
//   DataT sample_mipmap_array(H, float | float2 coords, unsigned int layer, dx, dy)
//   DataT sample_cubemap(H, float3 direction)
//   DataT sample_mipmap_cubemap(H, float3 direction, float level | float3 dx, float3 dy)
//   DataT sample_cubemap_array(H, float3 direction, unsigned int cube)
//   DataT fetch_image(H, int2 | int3 coords)
//   DataT fetch_image_array(H, int | int2 coords, unsigned int layer)
//
// DataT (or the HintT of a user-defined DataT) is
//   - an integer type able to hold every value of C (same signedness, channels at least as
//     wide: short or int for an int8 image, unsigned short for uint16): the value is
//     rounded to nearest, ties to even (__float2int_rn), as ImageArray.sample returns it;
//   - float, float2, float4 (or __half, __half2, ia::half4): the value unrounded (the
//     filtered value between two integers), as reference.sample(..., rounded=False) models.
// Fetches read one texel through the same normalized read and always round, so they
// return the stored value (except -128 / -32768, which come back -127 / -32767).
//
// Reading such a handle as ia::sampled_image_handle with an integer DataT reinterprets
// the float bits, and a filtered_integer_image_handle on a texture with an integer read
// (nearest filtering) misreads likewise: the handle type must match what Python made.
#ifndef IMAGEARRAY_FILTERED_INTEGER_CUH
#define IMAGEARRAY_FILTERED_INTEGER_CUH

#include <imagearray/config.cuh>
#include <imagearray/handles.cuh>
#include <imagearray/intrinsics.cuh>
#include <imagearray/types.cuh>

namespace ia {

namespace detail {

/// What one unit of the normalized read of C is in C's units (0: C cannot be filtered).
template <class C>
struct filter_scale {
  enum : int { value = 0 };
};
template <>
struct filter_scale<signed char> {
  enum : int { value = 127 };
};
template <>
struct filter_scale<unsigned char> {
  enum : int { value = 255 };
};
template <>
struct filter_scale<char> {
  enum : int { value = static_cast<char>(-1) < 0 ? 127 : 255 };
};
template <>
struct filter_scale<short> {
  enum : int { value = 32767 };
};
template <>
struct filter_scale<unsigned short> {
  enum : int { value = 65535 };
};

template <class C>
__host__ __device__ constexpr bool check_filter_channel() {
  static_assert(filter_scale<C>::value != 0,
                "imagearray: filtered_integer_image_handle<ChannelT> takes the image's "
                "channel type: signed char, unsigned char, short or unsigned short. 32-bit "
                "integer images cannot be filtered on CUDA (sample them with nearest "
                "filtering through ia::sampled_image_handle); float and normalized images "
                "use ia::sampled_image_handle.");
  return filter_scale<C>::value != 0;
}

}  // namespace detail

/// Handle of a sampled 8/16-bit integer image whose sampler filters linearly: a CUDA
/// texture object that reads the image normalized (see the top of this file). ChannelT is
/// the image's channel type: signed char, unsigned char, short or unsigned short.
template <class ChannelT>
struct filtered_integer_image_handle {
  using raw_handle_type = unsigned long long;
  using channel_type = ChannelT;
  static_assert(detail::check_filter_channel<ChannelT>(), "imagearray: see above");

  filtered_integer_image_handle() = default;
  IMAGEARRAY_HOST_DEVICE_INLINE explicit filtered_integer_image_handle(raw_handle_type raw)
      : raw_handle(raw) {}

  raw_handle_type raw_handle;
};

static_assert(sizeof(filtered_integer_image_handle<short>) == 8 &&
                  alignof(filtered_integer_image_handle<short>) == 8 &&
                  __is_trivially_copyable(filtered_integer_image_handle<short>) &&
                  __is_standard_layout(filtered_integer_image_handle<short>),
              "imagearray: filtered_integer_image_handle must be one 8-byte uint64, as "
              "sampled_image_handle is");

namespace detail {

/// DataT (through HintT) as a filtered integer read may return it.
template <class DataT, class HintT, class C>
__host__ __device__ constexpr bool check_filtered_types() {
  if constexpr (!check_read_types<DataT, HintT>()) {
    return false;
  } else {
    using R = read_type_t<DataT, HintT>;
    using tr = texel_traits<R>;
    constexpr channel_kind kind = tr::kind();
    constexpr bool is_int =
        kind == channel_kind::signed_integer || kind == channel_kind::unsigned_integer;
    constexpr bool c_signed = static_cast<C>(-1) < 0;
    constexpr bool same_sign = (kind == channel_kind::signed_integer) == c_signed;
    constexpr bool wide = sizeof(R) / tr::channels >= sizeof(C);
    static_assert(!is_int || (same_sign && wide),
                  "imagearray: an integer DataT read through filtered_integer_image_handle"
                  "<ChannelT> must hold every value of ChannelT: the same signedness and "
                  "channels at least as wide (short or int for signed char, unsigned short "
                  "for unsigned short); read float types for the unrounded value.");
    return !is_int || (same_sign && wide);
  }
}

/// A normalized read `f` of an image of channel type C, in C's units, as R: integer R
/// rounded to nearest (ties to even); float and half R unrounded unless `Round`.
template <class R, class C, bool Round>
IMAGEARRAY_DEVICE_INLINE R in_image_units(const float4 &f) {
  using tr = texel_traits<R>;
  constexpr float s = static_cast<float>(filter_scale<C>::value);
  // __fmul_rn: one float32 product, never contracted, as the reference computes it.
  const float4 v = make_float4(__fmul_rn(f.x, s), __fmul_rn(f.y, s), __fmul_rn(f.z, s),
                               __fmul_rn(f.w, s));
  if constexpr (tr::kind() == channel_kind::signed_integer ||
                tr::kind() == channel_kind::unsigned_integer) {
    return tr::from4(texel4<int>{__float2int_rn(v.x), __float2int_rn(v.y),
                                 __float2int_rn(v.z), __float2int_rn(v.w)});
  } else if constexpr (Round) {
    return tr::from4(texel4<float>{rintf(v.x), rintf(v.y), rintf(v.z), rintf(v.w)});
  } else {
    return tr::from4(texel4<float>{v.x, v.y, v.z, v.w});
  }
}

template <class DataT, class HintT, class C, bool Round>
IMAGEARRAY_DEVICE_INLINE DataT filtered_result(const float4 &f) {
  return as_data<DataT>(in_image_units<read_type_t<DataT, HintT>, C, Round>(f));
}

}  // namespace detail

/// Samples a linearly filtered 8/16-bit integer image at `coords` (texture order); the
/// result is in the image's units: rounded for integer DataT, unrounded for float DataT.
///
///   short v = ia::sample_image<short>(ct, make_float3(x, y, z));   // int16 CT volume
///   float f = ia::sample_image<float>(ct, make_float3(x, y, z));   // unrounded
template <typename DataT, typename HintT = DataT, typename ChannelT, typename CoordT>
IMAGEARRAY_DEVICE_INLINE DataT sample_image(const filtered_integer_image_handle<ChannelT> &image,
                                            const CoordT &coords) {
  if constexpr (detail::check_filtered_types<DataT, HintT, ChannelT>() &
                detail::check_float_coords<CoordT>()) {
    return detail::filtered_result<DataT, HintT, ChannelT, false>(
        detail::texture_sample<float4>(image.raw_handle, detail::to_float_coord(coords)));
  } else {
    return detail::invalid_result<DataT>();
  }
}

/// Samples a filtered integer mipmap at `coords` and mip `level`, in the image's units.
///
///   unsigned short v = ia::sample_mipmap<unsigned short>(mip, make_float2(u, v), 1.5f);
template <typename DataT, typename HintT = DataT, typename ChannelT, typename CoordT>
IMAGEARRAY_DEVICE_INLINE DataT sample_mipmap(const filtered_integer_image_handle<ChannelT> &image,
                                             const CoordT &coords, const float level) {
  if constexpr (detail::check_filtered_types<DataT, HintT, ChannelT>() &
                detail::check_float_coords<CoordT>()) {
    return detail::filtered_result<DataT, HintT, ChannelT, false>(
        detail::texture_sample_lod<float4>(image.raw_handle, detail::to_float_coord(coords),
                                           level));
  } else {
    return detail::invalid_result<DataT>();
  }
}

/// Samples a filtered integer mipmap at `coords` with gradients `dx`, `dy`, in the
/// image's units.
template <typename DataT, typename HintT = DataT, typename ChannelT, typename CoordT,
          typename GradT>
IMAGEARRAY_DEVICE_INLINE DataT sample_mipmap(const filtered_integer_image_handle<ChannelT> &image,
                                             const CoordT &coords, const GradT &dx,
                                             const GradT &dy) {
  if constexpr (detail::check_filtered_types<DataT, HintT, ChannelT>() &
                detail::check_float_coords<CoordT>() &
                detail::check_gradients<CoordT, GradT>()) {
    return detail::filtered_result<DataT, HintT, ChannelT, false>(
        detail::texture_sample_grad<float4>(image.raw_handle, detail::to_float_coord(coords),
                                            detail::to_float_coord(dx),
                                            detail::to_float_coord(dy)));
  } else {
    return detail::invalid_result<DataT>();
  }
}

/// Samples layer `layer` of a filtered integer image array, in the image's units.
template <typename DataT, typename HintT = DataT, typename ChannelT, typename CoordT>
IMAGEARRAY_DEVICE_INLINE DataT sample_image_array(
    const filtered_integer_image_handle<ChannelT> &image, const CoordT &coords,
    const unsigned int layer) {
  if constexpr (detail::check_filtered_types<DataT, HintT, ChannelT>() &
                detail::check_float_array_coords<CoordT>()) {
    return detail::filtered_result<DataT, HintT, ChannelT, false>(
        detail::texture_sample_layered<float4>(
            image.raw_handle, detail::to_float_coord(coords), static_cast<int>(layer)));
  } else {
    return detail::invalid_result<DataT>();
  }
}

/// Samples layer `layer` of a filtered integer mipmapped image array at mip `level`.
template <typename DataT, typename HintT = DataT, typename ChannelT, typename CoordT>
IMAGEARRAY_DEVICE_INLINE DataT sample_mipmap_array(
    const filtered_integer_image_handle<ChannelT> &image, const CoordT &coords,
    const unsigned int layer, const float level) {
  if constexpr (detail::check_filtered_types<DataT, HintT, ChannelT>() &
                detail::check_float_array_coords<CoordT>()) {
    return detail::filtered_result<DataT, HintT, ChannelT, false>(
        detail::texture_sample_layered_lod<float4>(
            image.raw_handle, detail::to_float_coord(coords), static_cast<int>(layer), level));
  } else {
    return detail::invalid_result<DataT>();
  }
}

/// Samples layer `layer` of a filtered integer mipmapped image array with gradients.
template <typename DataT, typename HintT = DataT, typename ChannelT, typename CoordT,
          typename GradT>
IMAGEARRAY_DEVICE_INLINE DataT sample_mipmap_array(
    const filtered_integer_image_handle<ChannelT> &image, const CoordT &coords,
    const unsigned int layer, const GradT &dx, const GradT &dy) {
  if constexpr (detail::check_filtered_types<DataT, HintT, ChannelT>() &
                detail::check_float_array_coords<CoordT>() &
                detail::check_gradients<CoordT, GradT>()) {
    return detail::filtered_result<DataT, HintT, ChannelT, false>(
        detail::texture_sample_layered_grad<float4>(
            image.raw_handle, detail::to_float_coord(coords), static_cast<int>(layer),
            detail::to_float_coord(dx), detail::to_float_coord(dy)));
  } else {
    return detail::invalid_result<DataT>();
  }
}

/// Samples a filtered integer cubemap in `direction`, in the image's units.
template <typename DataT, typename HintT = DataT, typename ChannelT>
IMAGEARRAY_DEVICE_INLINE DataT sample_cubemap(
    const filtered_integer_image_handle<ChannelT> &image, const float3 &direction) {
  if constexpr (detail::check_filtered_types<DataT, HintT, ChannelT>()) {
    return detail::filtered_result<DataT, HintT, ChannelT, false>(
        detail::texture_sample_cubemap<float4>(image.raw_handle, direction));
  } else {
    return detail::invalid_result<DataT>();
  }
}

/// Samples a filtered integer mipmapped cubemap in `direction` at mip `level`.
template <typename DataT, typename HintT = DataT, typename ChannelT>
IMAGEARRAY_DEVICE_INLINE DataT sample_mipmap_cubemap(
    const filtered_integer_image_handle<ChannelT> &image, const float3 &direction,
    const float level) {
  if constexpr (detail::check_filtered_types<DataT, HintT, ChannelT>()) {
    return detail::filtered_result<DataT, HintT, ChannelT, false>(
        detail::texture_sample_cubemap_lod<float4>(image.raw_handle, direction, level));
  } else {
    return detail::invalid_result<DataT>();
  }
}

/// Samples a filtered integer mipmapped cubemap in `direction` with gradients.
template <typename DataT, typename HintT = DataT, typename ChannelT>
IMAGEARRAY_DEVICE_INLINE DataT sample_mipmap_cubemap(
    const filtered_integer_image_handle<ChannelT> &image, const float3 &direction,
    const float3 &dx, const float3 &dy) {
  if constexpr (detail::check_filtered_types<DataT, HintT, ChannelT>()) {
    return detail::filtered_result<DataT, HintT, ChannelT, false>(
        detail::texture_sample_cubemap_grad<float4>(image.raw_handle, direction, dx, dy));
  } else {
    return detail::invalid_result<DataT>();
  }
}

/// Samples cubemap `cube` of a filtered integer array of cubemaps in `direction`.
template <typename DataT, typename HintT = DataT, typename ChannelT>
IMAGEARRAY_DEVICE_INLINE DataT sample_cubemap_array(
    const filtered_integer_image_handle<ChannelT> &image, const float3 &direction,
    const unsigned int cube) {
  if constexpr (detail::check_filtered_types<DataT, HintT, ChannelT>()) {
    return detail::filtered_result<DataT, HintT, ChannelT, false>(
        detail::texture_sample_cubemap_layered<float4>(image.raw_handle, direction,
                                                       static_cast<int>(cube)));
  } else {
    return detail::invalid_result<DataT>();
  }
}

/// Reads the texel at integer `coords` (int2 or int3; CUDA fetches 1D textures only from
/// linear memory, which is never filtered) of a filtered integer image, rounded back to
/// the image's units whatever DataT: the stored value, except int8's -128 and int16's
/// -32768, which the normalized read turns into -127 and -32767.
template <typename DataT, typename HintT = DataT, typename ChannelT, typename CoordT>
IMAGEARRAY_DEVICE_INLINE DataT fetch_image(const filtered_integer_image_handle<ChannelT> &image,
                                           const CoordT &coords) {
  if constexpr (detail::check_filtered_types<DataT, HintT, ChannelT>() &
                detail::check_int_coords<CoordT>()) {
    return detail::filtered_result<DataT, HintT, ChannelT, true>(
        detail::texel_fetch<float4>(image.raw_handle, detail::to_int_coord(coords)));
  } else {
    return detail::invalid_result<DataT>();
  }
}

/// Reads the texel at integer `coords` of layer `layer` of a filtered integer image array,
/// rounded back to the image's units as fetch_image does.
template <typename DataT, typename HintT = DataT, typename ChannelT, typename CoordT>
IMAGEARRAY_DEVICE_INLINE DataT fetch_image_array(
    const filtered_integer_image_handle<ChannelT> &image, const CoordT &coords,
    const unsigned int layer) {
  if constexpr (detail::check_filtered_types<DataT, HintT, ChannelT>() &
                detail::check_array_coords<CoordT>()) {
    return detail::filtered_result<DataT, HintT, ChannelT, true>(
        detail::texel_fetch_layered<float4>(image.raw_handle, detail::to_int_coord(coords),
                                            static_cast<int>(layer)));
  } else {
    return detail::invalid_result<DataT>();
  }
}

}  // namespace ia

#endif  // IMAGEARRAY_FILTERED_INTEGER_CUH
