// imagearray device API: reading and writing with a channel order (the peer's current
// revision: an optional image_channel_order template argument on fetch and write).
//
//   enum class ia::image_channel_order { a, r, rx, rg, rgx, ra, rgb, rgbx, rgba, argb,
//                                        bgra, intensity, luminance, abgr };
//
//   DataT fetch_image<DataT, Order>(unsampled_image_handle | sampled_image_handle, coords)
//   DataT fetch_image<DataT, HintT, Order>(unsampled_image_handle | sampled_image_handle,
//                                          coords)
//   DataT sample_image<DataT, Order>(sampled_image_handle, coords)
//   DataT sample_image<DataT, HintT, Order>(sampled_image_handle, coords)
//   DataT fetch_image_array<DataT, Order>(unsampled | sampled handle, coords, layer)
//   DataT fetch_image_array<DataT, HintT, Order>(unsampled | sampled handle, coords, layer)
//   void  write_image<DataT, Order>(unsampled_image_handle, coords, const DataT &)
//   void  write_image_array<DataT, Order>(unsampled_image_handle, coords, layer,
//                                         const DataT &)
//
// CUDA images have no channel order of their own: a texel's four channels are x, y, z, w
// as stored. Order permutes them, the same permutation for reads and writes:
//
//   order   result of a read / texel a write stores, from s = (s.x, s.y, s.z, s.w)
//   rgba    (s.x, s.y, s.z, s.w)      unchanged (the default)
//   argb    (s.w, s.x, s.y, s.z)
//   bgra    (s.z, s.y, s.x, s.w)
//   abgr    (s.w, s.z, s.y, s.x)
//
// where s is the stored texel for a read and the written value for a write. So a read
// returns the texel in Order (an rgba texel read as argb is (a, r, g, b)), and a write
// stores the value's channels in Order. bgra and abgr undo themselves; argb does not: a
// value read as argb and written back as argb moves every channel one place further (as
// the peer's own tests expect). The other orders leave the channels as they are. Reading
// or writing with argb, bgra or abgr needs a 4-component type (through its HintT for a
// user-defined DataT; write_image takes recognized types only then); anything else fails
// with an "imagearray:" static_assert. The permutation costs register moves only.
#ifndef IMAGEARRAY_CHANNEL_ORDER_CUH
#define IMAGEARRAY_CHANNEL_ORDER_CUH

#include <imagearray/config.cuh>
#include <imagearray/handles.cuh>
#include <imagearray/image.cuh>
#include <imagearray/image_array.cuh>
#include <imagearray/types.cuh>

namespace ia {

/// The spec's image_channel_order (the same names as imagearray.ChannelOrder).
enum class image_channel_order : unsigned int {
  a,
  r,
  rx,
  rg,
  rgx,
  ra,
  rgb,
  rgbx,
  rgba,
  argb,
  bgra,
  intensity,
  luminance,
  abgr,
};

namespace detail {

template <image_channel_order Order>
inline constexpr bool permutes_v = Order == image_channel_order::argb ||
                                   Order == image_channel_order::bgra ||
                                   Order == image_channel_order::abgr;

template <class T, bool Recognized = is_recognized_v<T>>
struct channels_of {
  enum : int { value = 0 };
};
template <class T>
struct channels_of<T, true> {
  enum : int { value = texel_traits<T>::channels };
};

template <image_channel_order Order, class T>
__host__ __device__ constexpr bool check_order_type() {
  constexpr bool ok = !permutes_v<Order> || channels_of<T>::value == 4;
  static_assert(ok,
                "imagearray: channel orders argb, bgra and abgr permute four channels: read "
                "or write a 4-component type (float4, uchar4, ushort4, int4, ia::half4, ...; "
                "a user-defined DataT through a 4-component HintT on reads).");
  return ok;
}

/// The texel `v` with its channels in Order (the table at the top of this file).
template <image_channel_order Order, class T>
IMAGEARRAY_HOST_DEVICE_INLINE constexpr T in_order(const T &v) {
  if constexpr (!permutes_v<Order>) {
    return v;
  } else {
    T r = v;
    if constexpr (Order == image_channel_order::argb) {
      r.x = v.w;
      r.y = v.x;
      r.z = v.y;
      r.w = v.z;
    } else if constexpr (Order == image_channel_order::bgra) {
      r.x = v.z;
      r.z = v.x;
    } else {  // abgr
      r.x = v.w;
      r.y = v.z;
      r.z = v.y;
      r.w = v.x;
    }
    return r;
  }
}

}  // namespace detail

/// Reads the texel at `coords` of an unsampled image with its channels in Order.
///
///   uchar4 p = ia::fetch_image<uchar4, ia::image_channel_order::bgra>(img, make_int2(x, y));
template <typename DataT, image_channel_order Order, typename CoordT>
IMAGEARRAY_DEVICE_INLINE DataT fetch_image(const unsampled_image_handle &image,
                                           const CoordT &coords) {
  using R = detail::read_type_t<DataT, DataT>;
  if constexpr (detail::check_read_types<DataT, DataT>() &
                detail::check_order_type<Order, R>()) {
    return detail::in_order<Order>(fetch_image<DataT>(image, coords));
  } else {
    return detail::invalid_result<DataT>();
  }
}
template <typename DataT, typename HintT, image_channel_order Order, typename CoordT>
IMAGEARRAY_DEVICE_INLINE DataT fetch_image(const unsampled_image_handle &image,
                                           const CoordT &coords) {
  using R = detail::read_type_t<DataT, HintT>;
  if constexpr (detail::check_read_types<DataT, HintT>() &
                detail::check_order_type<Order, R>()) {
    return detail::as_data<DataT>(detail::in_order<Order>(fetch_image<R>(image, coords)));
  } else {
    return detail::invalid_result<DataT>();
  }
}

/// Reads the texel at `coords` of a sampled image (no sampler state, as fetch_image)
/// with its channels in Order.
template <typename DataT, image_channel_order Order, typename CoordT>
IMAGEARRAY_DEVICE_INLINE DataT fetch_image(const sampled_image_handle &image,
                                           const CoordT &coords) {
  using R = detail::read_type_t<DataT, DataT>;
  if constexpr (detail::check_read_types<DataT, DataT>() &
                detail::check_order_type<Order, R>()) {
    return detail::in_order<Order>(fetch_image<DataT>(image, coords));
  } else {
    return detail::invalid_result<DataT>();
  }
}
template <typename DataT, typename HintT, image_channel_order Order, typename CoordT>
IMAGEARRAY_DEVICE_INLINE DataT fetch_image(const sampled_image_handle &image,
                                           const CoordT &coords) {
  using R = detail::read_type_t<DataT, HintT>;
  if constexpr (detail::check_read_types<DataT, HintT>() &
                detail::check_order_type<Order, R>()) {
    return detail::as_data<DataT>(detail::in_order<Order>(fetch_image<R>(image, coords)));
  } else {
    return detail::invalid_result<DataT>();
  }
}

/// Samples a sampled image at `coords` through its sampler, the result's channels in
/// Order (the filter blends each channel alone, so permuting after it is exact).
template <typename DataT, image_channel_order Order, typename CoordT>
IMAGEARRAY_DEVICE_INLINE DataT sample_image(const sampled_image_handle &image,
                                            const CoordT &coords) {
  using R = detail::read_type_t<DataT, DataT>;
  if constexpr (detail::check_read_types<DataT, DataT>() &
                detail::check_order_type<Order, R>()) {
    return detail::in_order<Order>(sample_image<DataT>(image, coords));
  } else {
    return detail::invalid_result<DataT>();
  }
}
template <typename DataT, typename HintT, image_channel_order Order, typename CoordT>
IMAGEARRAY_DEVICE_INLINE DataT sample_image(const sampled_image_handle &image,
                                            const CoordT &coords) {
  using R = detail::read_type_t<DataT, HintT>;
  if constexpr (detail::check_read_types<DataT, HintT>() &
                detail::check_order_type<Order, R>()) {
    return detail::as_data<DataT>(detail::in_order<Order>(sample_image<R>(image, coords)));
  } else {
    return detail::invalid_result<DataT>();
  }
}

/// Reads the texel at `coords` of layer `layer` of an image array with its channels in
/// Order.
template <typename DataT, image_channel_order Order, typename Handle, typename CoordT>
IMAGEARRAY_DEVICE_INLINE DataT fetch_image_array(const Handle &image, const CoordT &coords,
                                                 const unsigned int layer) {
  using R = detail::read_type_t<DataT, DataT>;
  if constexpr (detail::check_read_types<DataT, DataT>() &
                detail::check_order_type<Order, R>()) {
    return detail::in_order<Order>(fetch_image_array<DataT>(image, coords, layer));
  } else {
    return detail::invalid_result<DataT>();
  }
}
template <typename DataT, typename HintT, image_channel_order Order, typename Handle,
          typename CoordT>
IMAGEARRAY_DEVICE_INLINE DataT fetch_image_array(const Handle &image, const CoordT &coords,
                                                 const unsigned int layer) {
  using R = detail::read_type_t<DataT, HintT>;
  if constexpr (detail::check_read_types<DataT, HintT>() &
                detail::check_order_type<Order, R>()) {
    return detail::as_data<DataT>(
        detail::in_order<Order>(fetch_image_array<R>(image, coords, layer)));
  } else {
    return detail::invalid_result<DataT>();
  }
}

/// Writes `color` to the texel at `coords` of an unsampled image, its channels stored in
/// Order.
///
///   ia::write_image<uchar4, ia::image_channel_order::bgra>(out, make_int2(x, y), rgba);
template <typename DataT, image_channel_order Order, typename CoordT>
IMAGEARRAY_DEVICE_INLINE void write_image(unsampled_image_handle image, const CoordT &coords,
                                          const DataT &color) {
  if constexpr (detail::check_write_type<DataT>() & detail::check_order_type<Order, DataT>()) {
    write_image(image, coords, detail::in_order<Order>(color));
  }
}

/// Writes `color` to the texel at `coords` of layer `layer` of an unsampled image array,
/// its channels stored in Order.
template <typename DataT, image_channel_order Order, typename CoordT>
IMAGEARRAY_DEVICE_INLINE void write_image_array(unsampled_image_handle image,
                                                const CoordT &coords, const unsigned int layer,
                                                const DataT &color) {
  if constexpr (detail::check_write_type<DataT>() & detail::check_order_type<Order, DataT>()) {
    write_image_array(image, coords, layer, detail::in_order<Order>(color));
  }
}

}  // namespace ia

#endif  // IMAGEARRAY_CHANNEL_ORDER_CUH
