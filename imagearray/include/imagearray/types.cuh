// imagearray device API: image data types (spec: "Recognized standard types",
// "User-defined types") and coordinate types.
//
// Recognized standard types, usable as DataT directly:
//   char, signed char, unsigned char, short, unsigned short, int, unsigned int, float,
//   __half (when <cuda_fp16.h> is available, see config.cuh),
//   and their 1-, 2- and 4-component CUDA vectors: char1 char2 char4, uchar1 uchar2 uchar4,
//   short1 short2 short4, ushort1 ushort2 ushort4, int1 int2 int4, uint1 uint2 uint4,
//   float1 float2 float4, __half2 and ia::half4.
// Not image types: double, 64-bit integers, bool, and 3-component vectors (char3 ...
// float3). The spec lists sycl::vec<T, 3>, which is padded to four components; CUDA's
// 3-component vectors are packed, and CUDA has no 3-channel texture or surface formats, so
// read such images as 4-component vectors.
//
// User-defined types: any trivially copyable struct or union. Reading one needs a HintT, a
// recognized standard type of the same size; the texel is read as HintT and its bytes are
// copied into DataT:
//   struct rgba8 { unsigned char r, g, b, a; };
//   rgba8 p = ia::fetch_image<rgba8, uchar4>(img, make_int2(x, y));
// Writing one needs no hint; its size must be that of a recognized type (1, 2, 4, 8 or 16
// bytes).
//
// Half precision: texture reads return fp16 channels as float, so sampled reads of
// __half, __half2 and ia::half4 read float, float2 or float4 and round to nearest even;
// surface reads and writes move the 16-bit patterns unchanged.
//
// Anything else fails to compile with a static_assert whose message starts with
// "imagearray:".
#ifndef IMAGEARRAY_TYPES_CUH
#define IMAGEARRAY_TYPES_CUH

#include <imagearray/config.cuh>

namespace ia {

#if IMAGEARRAY_HAS_HALF
/// Four half-precision channels (an RGBA fp16 texel); CUDA has no half4 of its own.
struct __align__(8) half4 {
  __half x, y, z, w;
};

IMAGEARRAY_HOST_DEVICE_INLINE half4 make_half4(__half x, __half y, __half z, __half w) {
  half4 v;
  v.x = x;
  v.y = y;
  v.z = z;
  v.w = w;
  return v;
}
#endif

namespace detail {

// ---------------------------------------------------------------------------------------
// Small type utilities (NVRTC has no <type_traits> without extra include paths).

template <bool B, class T, class F>
struct conditional {
  using type = T;
};
template <class T, class F>
struct conditional<false, T, F> {
  using type = F;
};

template <class A, class B>
inline constexpr bool is_same_v = false;
template <class A>
inline constexpr bool is_same_v<A, A> = true;

template <class To, class From>
IMAGEARRAY_DEVICE_INLINE To bit_cast(const From &from) {
  static_assert(sizeof(To) == sizeof(From), "imagearray: internal error, bit_cast sizes");
  if constexpr (__is_trivially_copyable(To) && __is_trivially_copyable(From)) {
    return __builtin_bit_cast(To, from);
  } else {
    // __half2 has a user-provided copy constructor, which __builtin_bit_cast refuses.
    To to;
    memcpy(&to, &from, sizeof(To));
    return to;
  }
}

// ---------------------------------------------------------------------------------------
// Recognized standard types.

enum class channel_kind { signed_integer, unsigned_integer, floating, half };

template <class R>
struct texel4 {
  R x, y, z, w;
};

// For every recognized type T:
//   channels   1, 2 or 4
//   kind()     how the texture unit returns its channels (selects the PTX result type)
//   tex_type   what tex1D/tex2D/... return for T: T itself, or float[2|4] for half types
//   surf_type  what surf*read/surf*write move for T: T itself, or the same bits as ushorts
//   from_tex   tex_type -> T
//   from4      four 32-bit texture registers -> T
//
// The constants are enumerators and constexpr functions, not static data members: NVRTC
// emits every static constexpr data member of an instantiated class as a global variable
// of the module.
template <class T>
struct texel_traits {
  enum : bool { recognized = false };
};

template <int Channels, channel_kind Kind>
struct recognized_texel {
  enum : bool { recognized = true };
  enum : int { channels = Channels };
  static IMAGEARRAY_HOST_DEVICE_INLINE constexpr channel_kind kind() { return Kind; }
};

#define IMAGEARRAY_SCALAR_TEXEL(T, KIND)                                   \
  template <>                                                               \
  struct texel_traits<T> : recognized_texel<1, KIND> {                      \
    using tex_type = T;                                                     \
    using surf_type = T;                                                    \
    static IMAGEARRAY_DEVICE_INLINE T from_tex(tex_type v) { return v; }    \
    template <class R>                                                      \
    static IMAGEARRAY_DEVICE_INLINE T from4(const texel4<R> &v) {           \
      return static_cast<T>(v.x);                                           \
    }                                                                       \
  };

#define IMAGEARRAY_VECTOR_TEXELS(P, C, KIND)                                              \
  template <>                                                                              \
  struct texel_traits<P##1> : recognized_texel<1, KIND> {                                 \
    using tex_type = P##1;                                                                 \
    using surf_type = P##1;                                                                \
    static IMAGEARRAY_DEVICE_INLINE P##1 from_tex(tex_type v) { return v; }                \
    template <class R>                                                                     \
    static IMAGEARRAY_DEVICE_INLINE P##1 from4(const texel4<R> &v) {                       \
      return make_##P##1(static_cast<C>(v.x));                                             \
    }                                                                                      \
  };                                                                                       \
  template <>                                                                              \
  struct texel_traits<P##2> : recognized_texel<2, KIND> {                                 \
    using tex_type = P##2;                                                                 \
    using surf_type = P##2;                                                                \
    static IMAGEARRAY_DEVICE_INLINE P##2 from_tex(tex_type v) { return v; }                \
    template <class R>                                                                     \
    static IMAGEARRAY_DEVICE_INLINE P##2 from4(const texel4<R> &v) {                       \
      return make_##P##2(static_cast<C>(v.x), static_cast<C>(v.y));                        \
    }                                                                                      \
  };                                                                                       \
  template <>                                                                              \
  struct texel_traits<P##4> : recognized_texel<4, KIND> {                                 \
    using tex_type = P##4;                                                                 \
    using surf_type = P##4;                                                                \
    static IMAGEARRAY_DEVICE_INLINE P##4 from_tex(tex_type v) { return v; }                \
    template <class R>                                                                     \
    static IMAGEARRAY_DEVICE_INLINE P##4 from4(const texel4<R> &v) {                       \
      return make_##P##4(static_cast<C>(v.x), static_cast<C>(v.y), static_cast<C>(v.z),    \
                         static_cast<C>(v.w));                                             \
    }                                                                                      \
  };

// Plain char is signed on x86-64 and unsigned on AArch64 hosts.
IMAGEARRAY_SCALAR_TEXEL(char, (static_cast<char>(-1) < 0 ? channel_kind::signed_integer
                                                         : channel_kind::unsigned_integer))
IMAGEARRAY_SCALAR_TEXEL(signed char, channel_kind::signed_integer)
IMAGEARRAY_SCALAR_TEXEL(unsigned char, channel_kind::unsigned_integer)
IMAGEARRAY_SCALAR_TEXEL(short, channel_kind::signed_integer)
IMAGEARRAY_SCALAR_TEXEL(unsigned short, channel_kind::unsigned_integer)
IMAGEARRAY_SCALAR_TEXEL(int, channel_kind::signed_integer)
IMAGEARRAY_SCALAR_TEXEL(unsigned int, channel_kind::unsigned_integer)
IMAGEARRAY_SCALAR_TEXEL(float, channel_kind::floating)
IMAGEARRAY_VECTOR_TEXELS(char, signed char, channel_kind::signed_integer)
IMAGEARRAY_VECTOR_TEXELS(uchar, unsigned char, channel_kind::unsigned_integer)
IMAGEARRAY_VECTOR_TEXELS(short, short, channel_kind::signed_integer)
IMAGEARRAY_VECTOR_TEXELS(ushort, unsigned short, channel_kind::unsigned_integer)
IMAGEARRAY_VECTOR_TEXELS(int, int, channel_kind::signed_integer)
IMAGEARRAY_VECTOR_TEXELS(uint, unsigned int, channel_kind::unsigned_integer)
IMAGEARRAY_VECTOR_TEXELS(float, float, channel_kind::floating)

#undef IMAGEARRAY_SCALAR_TEXEL
#undef IMAGEARRAY_VECTOR_TEXELS

#if IMAGEARRAY_HAS_HALF
template <>
struct texel_traits<__half> : recognized_texel<1, channel_kind::half> {
  using tex_type = float;
  using surf_type = unsigned short;
  static IMAGEARRAY_DEVICE_INLINE __half from_tex(float v) { return __float2half_rn(v); }
  static IMAGEARRAY_DEVICE_INLINE __half from4(const texel4<float> &v) {
    return __float2half_rn(v.x);
  }
};

template <>
struct texel_traits<__half2> : recognized_texel<2, channel_kind::half> {
  using tex_type = float2;
  using surf_type = ushort2;
  static IMAGEARRAY_DEVICE_INLINE __half2 from_tex(float2 v) {
    return __floats2half2_rn(v.x, v.y);
  }
  static IMAGEARRAY_DEVICE_INLINE __half2 from4(const texel4<float> &v) {
    return __floats2half2_rn(v.x, v.y);
  }
};

template <>
struct texel_traits<half4> : recognized_texel<4, channel_kind::half> {
  using tex_type = float4;
  using surf_type = ushort4;
  static IMAGEARRAY_DEVICE_INLINE half4 from_tex(float4 v) {
    return make_half4(__float2half_rn(v.x), __float2half_rn(v.y), __float2half_rn(v.z),
                      __float2half_rn(v.w));
  }
  static IMAGEARRAY_DEVICE_INLINE half4 from4(const texel4<float> &v) {
    return make_half4(__float2half_rn(v.x), __float2half_rn(v.y), __float2half_rn(v.z),
                      __float2half_rn(v.w));
  }
};
#endif  // IMAGEARRAY_HAS_HALF

template <class T>
inline constexpr bool is_recognized_v = texel_traits<T>::recognized;

// ---------------------------------------------------------------------------------------
// Choosing the type a read goes through, and the checks with their messages.

template <class T>
inline constexpr bool is_user_type_v =
    (__is_class(T) || __is_union(T)) && __is_trivially_copyable(T);

#define IMAGEARRAY_RECOGNIZED_TYPES                                                     \
  "char, signed char, unsigned char, short, unsigned short, int, unsigned int, float, " \
  "__half (with <cuda_fp16.h>), and their 1-, 2- and 4-component CUDA vectors (char1 " \
  "char2 char4, uchar*, short*, ushort*, int*, uint*, float1 float2 float4, __half2, "  \
  "ia::half4)"

/// The recognized type a read of DataT goes through: DataT itself when it is recognized
/// (the spec ignores HintT then), else HintT.
template <class DataT, class HintT>
using read_type_t = typename conditional<is_recognized_v<DataT>, DataT, HintT>::type;

template <class DataT, class HintT>
__host__ __device__ constexpr bool check_read_types() {
  constexpr bool data_ok = is_recognized_v<DataT>;
  constexpr bool hinted = !is_same_v<DataT, HintT>;
  constexpr bool hint_ok = is_recognized_v<HintT>;
  constexpr bool user_ok = is_user_type_v<DataT>;
  constexpr bool size_ok = sizeof(DataT) == sizeof(HintT);
  static_assert(data_ok || hinted,
                "imagearray: DataT is not a recognized standard type. Recognized: "
                IMAGEARRAY_RECOGNIZED_TYPES ". double, 64-bit integers, bool and "
                "3-component vectors (char3 ... float3) are not image types. For a "
                "user-defined struct pass a recognized HintT of the same size, e.g. "
                "ia::fetch_image<my_rgba8, uchar4>(image, coords).");
  static_assert(data_ok || !hinted || hint_ok,
                "imagearray: HintT must be a recognized standard type: "
                IMAGEARRAY_RECOGNIZED_TYPES ".");
  static_assert(data_ok || !hinted || !hint_ok || user_ok,
                "imagearray: a DataT that is not a recognized standard type must be a "
                "trivially copyable struct or union (double, 64-bit integers and bool are "
                "not image types). Recognized: " IMAGEARRAY_RECOGNIZED_TYPES ".");
  static_assert(data_ok || !hinted || !hint_ok || !user_ok || size_ok,
                "imagearray: sizeof(DataT) must equal sizeof(HintT); the texel is read as "
                "HintT and its bytes are copied into DataT.");
  return data_ok || (hinted && hint_ok && user_ok && size_ok);
}

/// The type a user-defined DataT is written as: an unsigned type of its size.
template <int Size>
struct raw_bits {
  using type = void;
};
template <>
struct raw_bits<1> {
  using type = unsigned char;
};
template <>
struct raw_bits<2> {
  using type = unsigned short;
};
template <>
struct raw_bits<4> {
  using type = unsigned int;
};
template <>
struct raw_bits<8> {
  using type = uint2;
};
template <>
struct raw_bits<16> {
  using type = uint4;
};

template <class DataT, bool Recognized = is_recognized_v<DataT>>
struct write_traits {
  using surf_type = typename texel_traits<DataT>::surf_type;
};
template <class DataT>
struct write_traits<DataT, false> {
  using surf_type = typename raw_bits<static_cast<int>(sizeof(DataT))>::type;
};

template <class DataT>
__host__ __device__ constexpr bool check_write_type() {
  constexpr bool data_ok = is_recognized_v<DataT>;
  constexpr bool user_ok = is_user_type_v<DataT>;
  constexpr bool size_ok = sizeof(DataT) == 1 || sizeof(DataT) == 2 || sizeof(DataT) == 4 ||
                           sizeof(DataT) == 8 || sizeof(DataT) == 16;
  static_assert(data_ok || user_ok,
                "imagearray: the written DataT must be a recognized standard type ("
                IMAGEARRAY_RECOGNIZED_TYPES ") or a trivially copyable struct or union of "
                "the same size as one. double, 64-bit integers, bool and 3-component "
                "vectors are not image types.");
  static_assert(data_ok || !user_ok || size_ok,
                "imagearray: a user-defined DataT written to an image must be 1, 2, 4, 8 or "
                "16 bytes, the size of a recognized standard type; 3-component vectors "
                "(char3 ... float3) are not image types, write a 4-component vector.");
  return data_ok || (user_ok && size_ok);
}

/// Returns a read's result as DataT: unchanged when DataT is the type read, else its bytes.
template <class DataT, class R>
IMAGEARRAY_DEVICE_INLINE DataT as_data(const R &value) {
  if constexpr (is_same_v<DataT, R>) {
    return value;
  } else {
    return bit_cast<DataT>(value);
  }
}

/// Stands in for a result after a failed static_assert, so that the failure is the only
/// diagnostic; never runs, since such a translation unit does not compile.
template <class DataT>
IMAGEARRAY_DEVICE_INLINE DataT invalid_result() {
  __builtin_unreachable();
}

// ---------------------------------------------------------------------------------------
// Coordinates, in texture order: x = width, y = height, z = depth.

template <int Dims>
struct coord_dims {
  enum : int { dims = Dims };
};

template <class C>
struct int_coord_traits : coord_dims<0> {};
#define IMAGEARRAY_INT_SCALAR_COORD(T) \
  template <>                          \
  struct int_coord_traits<T> : coord_dims<1> {};
IMAGEARRAY_INT_SCALAR_COORD(char)
IMAGEARRAY_INT_SCALAR_COORD(signed char)
IMAGEARRAY_INT_SCALAR_COORD(unsigned char)
IMAGEARRAY_INT_SCALAR_COORD(short)
IMAGEARRAY_INT_SCALAR_COORD(unsigned short)
IMAGEARRAY_INT_SCALAR_COORD(int)
IMAGEARRAY_INT_SCALAR_COORD(unsigned int)
IMAGEARRAY_INT_SCALAR_COORD(long)
IMAGEARRAY_INT_SCALAR_COORD(unsigned long)
IMAGEARRAY_INT_SCALAR_COORD(long long)
IMAGEARRAY_INT_SCALAR_COORD(unsigned long long)
#undef IMAGEARRAY_INT_SCALAR_COORD
template <>
struct int_coord_traits<int2> : coord_dims<2> {};
template <>
struct int_coord_traits<int3> : coord_dims<3> {};

template <class C>
struct float_coord_traits : coord_dims<0> {};
template <>
struct float_coord_traits<float> : coord_dims<1> {};
template <>
struct float_coord_traits<double> : coord_dims<1> {};
template <>
struct float_coord_traits<float2> : coord_dims<2> {};
template <>
struct float_coord_traits<float3> : coord_dims<3> {};

template <class C>
inline constexpr int int_dims_v = int_coord_traits<C>::dims;
template <class C>
inline constexpr int float_dims_v = float_coord_traits<C>::dims;

template <class CoordT>
__host__ __device__ constexpr bool check_int_coords() {
  static_assert(int_dims_v<CoordT> != 0,
                "imagearray: fetch and write coordinates are int (1D), int2 (2D) or int3 "
                "(3D), in texture order x = width, y = height, z = depth; sampling takes "
                "float coordinates (sample_image).");
  return int_dims_v<CoordT> != 0;
}

template <class CoordT>
__host__ __device__ constexpr bool check_array_coords() {
  static_assert(int_dims_v<CoordT> == 1 || int_dims_v<CoordT> == 2,
                "imagearray: image array coordinates are int (1D) or int2 (2D), x = width, "
                "y = height; the layer is a separate argument.");
  return int_dims_v<CoordT> == 1 || int_dims_v<CoordT> == 2;
}

template <class CoordT>
__host__ __device__ constexpr bool check_float_coords() {
  static_assert(float_dims_v<CoordT> != 0,
                "imagearray: sampling coordinates are float (1D), float2 (2D) or float3 (3D), "
                "in texture order x = width, y = height, z = depth; integer coordinates read "
                "exact texels with fetch_image.");
  return float_dims_v<CoordT> != 0;
}

template <class CoordT>
__host__ __device__ constexpr bool check_float_array_coords() {
  static_assert(float_dims_v<CoordT> == 1 || float_dims_v<CoordT> == 2,
                "imagearray: image array sampling coordinates are float (1D) or float2 (2D), "
                "x = width, y = height; the layer is a separate argument.");
  return float_dims_v<CoordT> == 1 || float_dims_v<CoordT> == 2;
}

template <class CoordT, class GradT>
__host__ __device__ constexpr bool check_gradients() {
  constexpr bool ok = float_dims_v<GradT> == float_dims_v<CoordT>;
  static_assert(ok,
                "imagearray: sample_mipmap's gradients dx and dy have the coordinates' type: "
                "float (1D), float2 (2D) or float3 (3D).");
  return ok;
}

/// The channel count of a recognized type, 0 for any other (so that a failed read-type
/// check is the only diagnostic).
template <class R, bool Recognized = is_recognized_v<R>>
struct channel_count {
  enum : int { value = 0 };
};
template <class R>
struct channel_count<R, true> {
  enum : int { value = texel_traits<R>::channels };
};

template <class DataT, class HintT>
__host__ __device__ constexpr bool check_gather_types() {
  constexpr bool read_ok = check_read_types<DataT, HintT>();
  constexpr bool four = channel_count<read_type_t<DataT, HintT>>::value == 4;
  static_assert(!read_ok || four,
                "imagearray: gather_image returns one component of each of four texels: "
                "DataT (or its HintT) is a 4-component type, char4, uchar4, short4, ushort4, "
                "int4, uint4, float4 or ia::half4, whatever the image's channel count.");
  return read_ok && four;
}

template <class CoordT>
__host__ __device__ constexpr bool check_gather_coords() {
  static_assert(float_dims_v<CoordT> == 2,
                "imagearray: gather_image reads 2D images only: coordinates are a float2 "
                "(x = width, y = height).");
  return float_dims_v<CoordT> == 2;
}

template <class CoordT>
IMAGEARRAY_DEVICE_INLINE int to_int_coord(const CoordT &c) {
  return static_cast<int>(c);
}
IMAGEARRAY_DEVICE_INLINE int2 to_int_coord(const int2 &c) { return c; }
IMAGEARRAY_DEVICE_INLINE int3 to_int_coord(const int3 &c) { return c; }

template <class CoordT>
IMAGEARRAY_DEVICE_INLINE float to_float_coord(const CoordT &c) {
  return static_cast<float>(c);
}
IMAGEARRAY_DEVICE_INLINE float2 to_float_coord(const float2 &c) { return c; }
IMAGEARRAY_DEVICE_INLINE float3 to_float_coord(const float3 &c) { return c; }

}  // namespace detail
}  // namespace ia

#undef IMAGEARRAY_RECOGNIZED_TYPES

#endif  // IMAGEARRAY_TYPES_CUH
