// imagearray device API: cubemaps (spec: "Reading, writing, and sampling a cubemap").
//
//   DataT fetch_cubemap<DataT, HintT = DataT>(unsampled_image_handle, int2 coords, int face)
//   void  write_cubemap<DataT>(unsampled_image_handle, int2 coords, int face, const DataT &)
//   DataT sample_cubemap<DataT, HintT = DataT>(sampled_image_handle, float3 direction)
//
// Beyond the spec, for the combined image types it anticipates (ImageType.MIPMAP_CUBEMAP
// and ImageType.CUBEMAP_ARRAY):
//   DataT sample_mipmap_cubemap<DataT, HintT = DataT>(sampled_image_handle, float3 direction,
//                                                     float level)
//   DataT sample_mipmap_cubemap<DataT, HintT = DataT>(sampled_image_handle, float3 direction,
//                                                     float3 dx, float3 dy)
//   DataT fetch_cubemap_array<DataT, HintT = DataT>(unsampled_image_handle, int2 coords,
//                                                   int face, unsigned int cube)
//   void  write_cubemap_array<DataT>(unsampled_image_handle, int2 coords, int face,
//                                    unsigned int cube, const DataT &)
//   DataT sample_cubemap_array<DataT, HintT = DataT>(sampled_image_handle, float3 direction,
//                                                    unsigned int cube)
//
// An unsampled cubemap is a six-layer 2D image array: `coords` (x = width, y = height)
// address a texel of face `face` in CUDA's order 0..5 = +X, -X, +Y, -Y, +Z, -Z; in an
// array of cubemaps, cube `cube` holds layers 6 * cube .. 6 * cube + 5. A sampled
// cubemap is addressed by a direction from the cube's centre; its sampler's
// cubemap_filtering (disjointed or seamless) decides how edges between faces filter.
#ifndef IMAGEARRAY_CUBEMAP_CUH
#define IMAGEARRAY_CUBEMAP_CUH

#include <imagearray/config.cuh>
#include <imagearray/handles.cuh>
#include <imagearray/intrinsics.cuh>
#include <imagearray/types.cuh>

namespace ia {

/// Reads the texel at `coords` of face `face` (0..5) of an unsampled cubemap.
///
///   uchar4 v = ia::fetch_cubemap<uchar4>(cube, make_int2(x, y), face);
template <typename DataT, typename HintT = DataT>
IMAGEARRAY_DEVICE_INLINE DataT fetch_cubemap(const unsampled_image_handle &image,
                                             const int2 &coords, const int face) {
  if constexpr (detail::check_read_types<DataT, HintT>()) {
    using R = detail::read_type_t<DataT, HintT>;
    using S = typename detail::texel_traits<R>::surf_type;
    return detail::bit_cast<DataT>(
        detail::surface_read_cubemap<S>(image.raw_handle, coords, face));
  } else {
    return detail::invalid_result<DataT>();
  }
}

/// Writes `color` to the texel at `coords` of face `face` (0..5) of an unsampled cubemap.
/// DataT follows write_image's rules.
///
///   ia::write_cubemap(cube, make_int2(x, y), face, make_uchar4(r, g, b, 255));
template <typename DataT>
IMAGEARRAY_DEVICE_INLINE void write_cubemap(unsampled_image_handle image, const int2 &coords,
                                            const int face, const DataT &color) {
  if constexpr (detail::check_write_type<DataT>()) {
    using S = typename detail::write_traits<DataT>::surf_type;
    detail::surface_write_cubemap<S>(detail::bit_cast<S>(color), image.raw_handle, coords,
                                     face);
  }
}

/// Samples a sampled cubemap in `direction` (need not be normalized): the largest
/// component picks the face, the other two the position on it.
///
///   float4 v = ia::sample_cubemap<float4>(cube, make_float3(dx, dy, dz));
template <typename DataT, typename HintT = DataT>
IMAGEARRAY_DEVICE_INLINE DataT sample_cubemap(const sampled_image_handle &image,
                                              const float3 &direction) {
  if constexpr (detail::check_read_types<DataT, HintT>()) {
    using R = detail::read_type_t<DataT, HintT>;
    return detail::as_data<DataT>(
        detail::texture_sample_cubemap<R>(image.raw_handle, direction));
  } else {
    return detail::invalid_result<DataT>();
  }
}

/// Samples a mipmapped cubemap in `direction` at mip `level` (fractional levels blend two
/// levels when the sampler's mipmap filtering is linear).
///
///   float4 v = ia::sample_mipmap_cubemap<float4>(cube, make_float3(dx, dy, dz), 2.0f);
template <typename DataT, typename HintT = DataT>
IMAGEARRAY_DEVICE_INLINE DataT sample_mipmap_cubemap(const sampled_image_handle &image,
                                                     const float3 &direction,
                                                     const float level) {
  if constexpr (detail::check_read_types<DataT, HintT>()) {
    using R = detail::read_type_t<DataT, HintT>;
    return detail::as_data<DataT>(
        detail::texture_sample_cubemap_lod<R>(image.raw_handle, direction, level));
  } else {
    return detail::invalid_result<DataT>();
  }
}

/// Samples a mipmapped cubemap in `direction`, choosing the level (and the anisotropic
/// footprint, up to the sampler's max_anisotropy) from the screen-space gradients `dx` and
/// `dy` of the direction.
///
///   float4 v = ia::sample_mipmap_cubemap<float4>(cube, dir, ddir_dx, ddir_dy);
template <typename DataT, typename HintT = DataT>
IMAGEARRAY_DEVICE_INLINE DataT sample_mipmap_cubemap(const sampled_image_handle &image,
                                                     const float3 &direction,
                                                     const float3 &dx, const float3 &dy) {
  if constexpr (detail::check_read_types<DataT, HintT>()) {
    using R = detail::read_type_t<DataT, HintT>;
    return detail::as_data<DataT>(
        detail::texture_sample_cubemap_grad<R>(image.raw_handle, direction, dx, dy));
  } else {
    return detail::invalid_result<DataT>();
  }
}

/// Reads the texel at `coords` of face `face` (0..5) of cubemap `cube` of an unsampled
/// array of cubemaps (layer 6 * cube + face).
///
///   uchar4 v = ia::fetch_cubemap_array<uchar4>(cubes, make_int2(x, y), face, cube);
template <typename DataT, typename HintT = DataT>
IMAGEARRAY_DEVICE_INLINE DataT fetch_cubemap_array(const unsampled_image_handle &image,
                                                   const int2 &coords, const int face,
                                                   const unsigned int cube) {
  if constexpr (detail::check_read_types<DataT, HintT>()) {
    using R = detail::read_type_t<DataT, HintT>;
    using S = typename detail::texel_traits<R>::surf_type;
    return detail::bit_cast<DataT>(detail::surface_read_cubemap_layered<S>(
        image.raw_handle, coords, 6 * static_cast<int>(cube) + face));
  } else {
    return detail::invalid_result<DataT>();
  }
}

/// Writes `color` to the texel at `coords` of face `face` (0..5) of cubemap `cube` of an
/// unsampled array of cubemaps. DataT follows write_image's rules.
///
///   ia::write_cubemap_array(cubes, make_int2(x, y), face, cube, make_float4(r, g, b, a));
template <typename DataT>
IMAGEARRAY_DEVICE_INLINE void write_cubemap_array(unsampled_image_handle image,
                                                  const int2 &coords, const int face,
                                                  const unsigned int cube, const DataT &color) {
  if constexpr (detail::check_write_type<DataT>()) {
    using S = typename detail::write_traits<DataT>::surf_type;
    detail::surface_write_cubemap_layered<S>(detail::bit_cast<S>(color), image.raw_handle,
                                             coords, 6 * static_cast<int>(cube) + face);
  }
}

/// Samples cubemap `cube` of a sampled array of cubemaps in `direction`; filtering never
/// reaches another cube.
///
///   float v = ia::sample_cubemap_array<float>(cubes, make_float3(dx, dy, dz), cube);
template <typename DataT, typename HintT = DataT>
IMAGEARRAY_DEVICE_INLINE DataT sample_cubemap_array(const sampled_image_handle &image,
                                                    const float3 &direction,
                                                    const unsigned int cube) {
  if constexpr (detail::check_read_types<DataT, HintT>()) {
    using R = detail::read_type_t<DataT, HintT>;
    return detail::as_data<DataT>(detail::texture_sample_cubemap_layered<R>(
        image.raw_handle, direction, static_cast<int>(cube)));
  } else {
    return detail::invalid_result<DataT>();
  }
}

}  // namespace ia

#endif  // IMAGEARRAY_CUBEMAP_CUH
