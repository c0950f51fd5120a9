// imagearray device API: reading and writing standard images (spec: "Reading and writing
// inside the kernel").
//
// Coordinates are in texture order: x = width (the fastest-varying axis), y = height,
// z = depth. A 2D image of NumPy shape (height, width) is read at make_int2(col, row).
//
//   DataT fetch_image<DataT, HintT = DataT>(unsampled_image_handle, int | int2 | int3)
//   DataT fetch_image<DataT, HintT = DataT>(sampled_image_handle,   int | int2 | int3)
//   DataT sample_image<DataT, HintT = DataT>(sampled_image_handle, float | float2 | float3)
//   DataT gather_image<DataT, HintT = DataT>(sampled_image_handle, float2, int component = 0)
//   void  write_image<DataT>(unsampled_image_handle, int | int2 | int3, const DataT &)
//
// DataT is a recognized standard type or a user-defined type with a HintT (types.cuh).
#ifndef IMAGEARRAY_IMAGE_CUH
#define IMAGEARRAY_IMAGE_CUH

#include <imagearray/config.cuh>
#include <imagearray/handles.cuh>
#include <imagearray/intrinsics.cuh>
#include <imagearray/types.cuh>

namespace ia {

/// Reads the texel at integer `coords` of an unsampled image (a surface), exactly as
/// stored. Out-of-range coordinates trap (IMAGEARRAY_SURFACE_BOUNDARY_MODE, config.cuh).
///
///   float v = ia::fetch_image<float>(img, make_int2(x, y));
template <typename DataT, typename HintT = DataT, typename CoordT>
IMAGEARRAY_DEVICE_INLINE DataT fetch_image(const unsampled_image_handle &image,
                                           const CoordT &coords) {
  if constexpr (detail::check_read_types<DataT, HintT>() &
                detail::check_int_coords<CoordT>()) {
    using R = detail::read_type_t<DataT, HintT>;
    return detail::surface_fetch<DataT, R>(image.raw_handle, detail::to_int_coord(coords));
  } else {
    return detail::invalid_result<DataT>();
  }
}

/// Reads the texel at integer `coords` of a sampled image (a texture), exactly as stored:
/// the image's sampler (coordinate normalization, filtering, addressing) does not apply,
/// and coordinates outside the image are undefined. Integer channels with a normalized
/// read mode arrive as float, so read them as float or half types.
///
/// On CUDA a 1D sampled image can be fetched only when it is backed by linear (USM)
/// memory; 2D images (pitched USM or image memory) and 3D images can always be fetched.
///
///   float4 v = ia::fetch_image<float4>(img, make_int2(x, y));
template <typename DataT, typename HintT = DataT, typename CoordT>
IMAGEARRAY_DEVICE_INLINE DataT fetch_image(const sampled_image_handle &image,
                                           const CoordT &coords) {
  if constexpr (detail::check_read_types<DataT, HintT>() &
                detail::check_int_coords<CoordT>()) {
    using R = detail::read_type_t<DataT, HintT>;
    return detail::as_data<DataT>(
        detail::texel_fetch<R>(image.raw_handle, detail::to_int_coord(coords)));
  } else {
    return detail::invalid_result<DataT>();
  }
}

/// Samples a sampled image at floating-point `coords` through the sampler it was created
/// with (normalized or unnormalized coordinates, addressing, nearest or linear filtering).
/// Unnormalized texel centres are at i + 0.5. 1D images backed by linear (USM) memory
/// cannot be sampled on CUDA; fetch them instead.
///
/// Every sampler makes a handle (the spec: a sampler does not affect fetches), but CUDA
/// cannot apply some: repeat / mirrored_repeat with unnormalized coordinates (the
/// texture is made clamping) and a linear filter on 32-bit integers (made with nearest
/// filtering). Sampling such a handle reads with what the texture was made with;
/// ImageArray.sample refuses it. An 8/16-bit integer image with a linear filter reads
/// normalized: declare its handle ia::filtered_integer_image_handle<T>
/// (filtered_integer.cuh), through which this returns the value in the image's units.
///
///   float4 v = ia::sample_image<float4>(img, make_float2(u, v));
template <typename DataT, typename HintT = DataT, typename CoordT>
IMAGEARRAY_DEVICE_INLINE DataT sample_image(const sampled_image_handle &image,
                                            const CoordT &coords) {
  if constexpr (detail::check_read_types<DataT, HintT>() &
                detail::check_float_coords<CoordT>()) {
    using R = detail::read_type_t<DataT, HintT>;
    return detail::as_data<DataT>(
        detail::texture_sample<R>(image.raw_handle, detail::to_float_coord(coords)));
  } else {
    return detail::invalid_result<DataT>();
  }
}

/// Gathers one component of the 2x2 texels that a bilinear sample of a 2D sampled image at
/// `coords` would blend (CUDA's tex2Dgather, PTX tld4): no filtering, channel `component`
/// (0 = x/r, 1 = y/g, 2 = z/b, 3 = w/a) of each of the four texels, as a texture read returns
/// it. With xB = x - 0.5 and yB = y - 0.5 in texels (x = width), i0 = floor(xB) and
/// j0 = floor(yB), the four are, counter-clockwise from the lower left (y grows downwards):
///
///   .x = texel (i0, j0 + 1)   .y = (i0 + 1, j0 + 1)   .z = (i0 + 1, j0)   .w = (i0, j0)
///
/// The floors are taken after xB and yB are rounded to 8 fractional bits, as for the
/// filter weights: x = 2.49805 gathers columns 2 and 3, not 1 and 2 (CUDA C++ Programming
/// Guide, "Texture Gather"). The sampler's coordinate normalization and addressing apply
/// to each of the four texels as to a bilinear fetch's (clamp-to-edge clamps each index,
/// border texels read the border colour's component, wrap and mirror fold the indices);
/// its filtering mode does not matter (imagearray makes gather textures with nearest
/// filtering).
///
/// DataT is a 4-component type, whatever the image's channel count: char4, uchar4, short4,
/// ushort4, int4 or uint4 for plain integer channels (read as integers, as fetch_image
/// reads them), float4 or ia::half4 for float, half and normalized channels (read as
/// float), or a user-defined type with such a HintT.
///
/// Only a 2D image backed by a CUDA array allocated with the gather flag
/// (cudaArrayTextureGather / CUDA_ARRAY3D_TEXTURE_GATHER; in imagearray gather=True, e.g.
/// ia.asimage(a, gather=True)) can be gathered. Gathering any other image (pitched or
/// linear memory, 1D, 3D, layered, cubemap or mipmapped images, arrays made without the
/// flag), or a component beyond the image's channels, is undefined; ImageArray.gather
/// refuses all of these with an error before it launches anything.
///
///   float4 q = ia::gather_image<float4>(img, make_float2(u, v), 1);  // green of 4 texels
template <typename DataT, typename HintT = DataT, typename CoordT>
IMAGEARRAY_DEVICE_INLINE DataT gather_image(const sampled_image_handle &image,
                                            const CoordT &coords, const int component = 0) {
  if constexpr (detail::check_gather_types<DataT, HintT>() &
                detail::check_gather_coords<CoordT>()) {
    using R = detail::read_type_t<DataT, HintT>;
    return detail::as_data<DataT>(
        detail::texture_gather<R>(image.raw_handle, detail::to_float_coord(coords), component));
  } else {
    return detail::invalid_result<DataT>();
  }
}

/// Writes `color` to the texel at integer `coords` of an unsampled image. DataT is a
/// recognized standard type or a trivially copyable struct or union of the size of one;
/// its bytes are stored as they are. Reading the same image again in the same kernel is
/// undefined (spec: no read-after-write).
///
///   ia::write_image(out, make_int2(x, y), make_float4(r, g, b, a));
template <typename DataT, typename CoordT>
IMAGEARRAY_DEVICE_INLINE void write_image(unsampled_image_handle image, const CoordT &coords,
                                          const DataT &color) {
  if constexpr (detail::check_write_type<DataT>() & detail::check_int_coords<CoordT>()) {
    detail::surface_store(image.raw_handle, detail::to_int_coord(coords), color);
  }
}

}  // namespace ia

#endif  // IMAGEARRAY_IMAGE_CUH
