// imagearray device API: cubemaps (spec: "Reading, writing, and sampling a cubemap").
//
//   DataT fetch_cubemap<DataT, HintT = DataT>(unsampled_image_handle, int2 coords, int face)
//   void  write_cubemap<DataT>(unsampled_image_handle, int2 coords, int face, const DataT &)
//   DataT sample_cubemap<DataT, HintT = DataT>(sampled_image_handle, float3 direction)
//
// An unsampled cubemap is a six-layer 2D image array: `coords` (x = width, y = height)
// address a texel of face `face` in CUDA's order 0..5 = +X, -X, +Y, -Y, +Z, -Z. A sampled
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

}  // namespace ia

#endif  // IMAGEARRAY_CUBEMAP_CUH
