// imagearray device API: reading a mipmap (spec: "Reading a mipmap").
//
//   DataT sample_mipmap<DataT, HintT = DataT>(sampled_image_handle,
//                                             float | float2 | float3 coords, float level)
//   DataT sample_mipmap<DataT, HintT = DataT>(sampled_image_handle,
//                                             float | float2 | float3 coords,
//                                             dx, dy /* of the coordinates' type */)
//
// The handle must be a sampled image made from mipmap memory, with the sampler's mipmap
// attributes set; sampling a standard image this way is undefined (spec). Coordinates are
// in texture order (x = width, y = height, z = depth).
#ifndef IMAGEARRAY_MIPMAP_CUH
#define IMAGEARRAY_MIPMAP_CUH

#include <imagearray/config.cuh>
#include <imagearray/handles.cuh>
#include <imagearray/intrinsics.cuh>
#include <imagearray/types.cuh>

namespace ia {

/// Samples a mipmap at `coords` and mip `level` (fractional levels blend two levels when
/// the sampler's mipmap filtering is linear).
///
///   float v = ia::sample_mipmap<float>(mip, make_float2(u, v), 1.0f);
template <typename DataT, typename HintT = DataT, typename CoordT>
IMAGEARRAY_DEVICE_INLINE DataT sample_mipmap(const sampled_image_handle &image,
                                             const CoordT &coords, const float level) {
  if constexpr (detail::check_read_types<DataT, HintT>() &
                detail::check_float_coords<CoordT>()) {
    using R = detail::read_type_t<DataT, HintT>;
    return detail::as_data<DataT>(detail::texture_sample_lod<R>(
        image.raw_handle, detail::to_float_coord(coords), level));
  } else {
    return detail::invalid_result<DataT>();
  }
}

/// Samples a mipmap at `coords`, choosing the level (and the anisotropic footprint, up to
/// the sampler's max_anisotropy) from the screen-space gradients `dx` and `dy`, which have
/// the coordinates' type.
///
///   float v = ia::sample_mipmap<float>(mip, x, 0.0f, 0.0f);  // 1D
template <typename DataT, typename HintT = DataT, typename CoordT, typename GradT>
IMAGEARRAY_DEVICE_INLINE DataT sample_mipmap(const sampled_image_handle &image,
                                             const CoordT &coords, const GradT &dx,
                                             const GradT &dy) {
  if constexpr (detail::check_read_types<DataT, HintT>() &
                detail::check_float_coords<CoordT>() &
                detail::check_gradients<CoordT, GradT>()) {
    using R = detail::read_type_t<DataT, HintT>;
    return detail::as_data<DataT>(detail::texture_sample_grad<R>(
        image.raw_handle, detail::to_float_coord(coords), detail::to_float_coord(dx),
        detail::to_float_coord(dy)));
  } else {
    return detail::invalid_result<DataT>();
  }
}

}  // namespace ia

#endif  // IMAGEARRAY_MIPMAP_CUH
