// imagearray device API: image arrays, also called layered images (spec: "Reading an image
// array", "Writing an image array").
//
//   DataT fetch_image_array<DataT, HintT = DataT>(unsampled_image_handle, int | int2,
//                                                 unsigned int layer)
//   void  write_image_array<DataT>(unsampled_image_handle, int | int2, unsigned int layer,
//                                  const DataT &)
//   DataT sample_image_array<DataT, HintT = DataT>(sampled_image_handle, float | float2,
//                                                  unsigned int layer)
//   DataT fetch_image_array<DataT, HintT = DataT>(sampled_image_handle, int | int2,
//                                                 unsigned int layer)
//   DataT sample_mipmap_array<DataT, HintT = DataT>(sampled_image_handle, float | float2,
//                                                   unsigned int layer, float level)
//   DataT sample_mipmap_array<DataT, HintT = DataT>(sampled_image_handle, float | float2,
//                                                   unsigned int layer,
//                                                   dx, dy /* of the coordinates' type */)
//
// The handle must come from image-array memory (ImageType.ARRAY, or ImageType.MIPMAP_ARRAY
// for sample_mipmap_array); using fetch_image or write_image on it is undefined (spec).
// The sampled forms go beyond the spec, which has no sampled image arrays; CUDA has them.
// Coordinates are in texture order (x = width, y = height); the layer is an integer index,
// never filtered across.
#ifndef IMAGEARRAY_IMAGE_ARRAY_CUH
#define IMAGEARRAY_IMAGE_ARRAY_CUH

#include <imagearray/config.cuh>
#include <imagearray/handles.cuh>
#include <imagearray/intrinsics.cuh>
#include <imagearray/types.cuh>

namespace ia {

/// Reads the texel at integer `coords` of layer `layer` of an unsampled image array.
///
///   float4 v = ia::fetch_image_array<float4>(arr, x, 1u);
template <typename DataT, typename HintT = DataT, typename CoordT>
IMAGEARRAY_DEVICE_INLINE DataT fetch_image_array(const unsampled_image_handle &image,
                                                 const CoordT &coords,
                                                 const unsigned int layer) {
  if constexpr (detail::check_read_types<DataT, HintT>() &
                detail::check_array_coords<CoordT>()) {
    using R = detail::read_type_t<DataT, HintT>;
    using S = typename detail::texel_traits<R>::surf_type;
    return detail::bit_cast<DataT>(detail::surface_read_layered<S>(
        image.raw_handle, detail::to_int_coord(coords), static_cast<int>(layer)));
  } else {
    return detail::invalid_result<DataT>();
  }
}

/// Writes `color` to the texel at integer `coords` of layer `layer` of an unsampled image
/// array. DataT follows write_image's rules.
///
///   ia::write_image_array(arr, make_int2(x, y), layer, make_float4(s, s, s, 1.0f));
template <typename DataT, typename CoordT>
IMAGEARRAY_DEVICE_INLINE void write_image_array(unsampled_image_handle image,
                                                const CoordT &coords, const unsigned int layer,
                                                const DataT &color) {
  if constexpr (detail::check_write_type<DataT>() & detail::check_array_coords<CoordT>()) {
    using S = typename detail::write_traits<DataT>::surf_type;
    detail::surface_write_layered<S>(detail::bit_cast<S>(color), image.raw_handle,
                                     detail::to_int_coord(coords), static_cast<int>(layer));
  }
}

/// Samples layer `layer` of a sampled image array at floating-point `coords` through its
/// sampler; filtering stays within the layer.
///
///   float v = ia::sample_image_array<float>(arr, make_float2(u, v), layer);
template <typename DataT, typename HintT = DataT, typename CoordT>
IMAGEARRAY_DEVICE_INLINE DataT sample_image_array(const sampled_image_handle &image,
                                                  const CoordT &coords,
                                                  const unsigned int layer) {
  if constexpr (detail::check_read_types<DataT, HintT>() &
                detail::check_float_array_coords<CoordT>()) {
    using R = detail::read_type_t<DataT, HintT>;
    return detail::as_data<DataT>(detail::texture_sample_layered<R>(
        image.raw_handle, detail::to_float_coord(coords), static_cast<int>(layer)));
  } else {
    return detail::invalid_result<DataT>();
  }
}

/// Reads the texel at integer `coords` of layer `layer` of a sampled image array, exactly
/// as stored: the sampler (normalization, filtering, addressing) does not apply, and
/// coordinates outside the layer are undefined. Integer channels with a normalized read
/// mode arrive as float, as for fetch_image on a sampled image. CUDA C++ has no layered
/// texel fetch: this is PTX tex.a1d / tex.a2d with integer coordinates.
///
///   float4 v = ia::fetch_image_array<float4>(arr, make_int2(x, y), layer);
template <typename DataT, typename HintT = DataT, typename CoordT>
IMAGEARRAY_DEVICE_INLINE DataT fetch_image_array(const sampled_image_handle &image,
                                                 const CoordT &coords,
                                                 const unsigned int layer) {
  if constexpr (detail::check_read_types<DataT, HintT>() &
                detail::check_array_coords<CoordT>()) {
    using R = detail::read_type_t<DataT, HintT>;
    return detail::as_data<DataT>(detail::texel_fetch_layered<R>(
        image.raw_handle, detail::to_int_coord(coords), static_cast<int>(layer)));
  } else {
    return detail::invalid_result<DataT>();
  }
}

/// Samples layer `layer` of a mipmapped image array at `coords` and mip `level`
/// (fractional levels blend two levels when the sampler's mipmap filtering is linear);
/// filtering stays within the layer.
///
///   float v = ia::sample_mipmap_array<float>(arr, make_float2(u, v), layer, 1.5f);
template <typename DataT, typename HintT = DataT, typename CoordT>
IMAGEARRAY_DEVICE_INLINE DataT sample_mipmap_array(const sampled_image_handle &image,
                                                   const CoordT &coords,
                                                   const unsigned int layer, const float level) {
  if constexpr (detail::check_read_types<DataT, HintT>() &
                detail::check_float_array_coords<CoordT>()) {
    using R = detail::read_type_t<DataT, HintT>;
    return detail::as_data<DataT>(detail::texture_sample_layered_lod<R>(
        image.raw_handle, detail::to_float_coord(coords), static_cast<int>(layer), level));
  } else {
    return detail::invalid_result<DataT>();
  }
}

/// Samples layer `layer` of a mipmapped image array at `coords`, choosing the level (and
/// the anisotropic footprint, up to the sampler's max_anisotropy) from the screen-space
/// gradients `dx` and `dy`, which have the coordinates' type.
///
///   float v = ia::sample_mipmap_array<float>(arr, make_float2(u, v), layer, dx, dy);
template <typename DataT, typename HintT = DataT, typename CoordT, typename GradT>
IMAGEARRAY_DEVICE_INLINE DataT sample_mipmap_array(const sampled_image_handle &image,
                                                   const CoordT &coords,
                                                   const unsigned int layer, const GradT &dx,
                                                   const GradT &dy) {
  if constexpr (detail::check_read_types<DataT, HintT>() &
                detail::check_float_array_coords<CoordT>() &
                detail::check_gradients<CoordT, GradT>()) {
    using R = detail::read_type_t<DataT, HintT>;
    return detail::as_data<DataT>(detail::texture_sample_layered_grad<R>(
        image.raw_handle, detail::to_float_coord(coords), static_cast<int>(layer),
        detail::to_float_coord(dx), detail::to_float_coord(dy)));
  } else {
    return detail::invalid_result<DataT>();
  }
}

}  // namespace ia

#endif  // IMAGEARRAY_IMAGE_ARRAY_CUH
