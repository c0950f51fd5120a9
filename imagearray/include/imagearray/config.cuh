// imagearray device API: configuration shared by every header.
//
// Usable from NVRTC (cupy.RawKernel / cupy.RawModule, with
// options=("-I" + imagearray.get_include(),)) and from nvcc. Needs C++17, which is
// NVRTC's default dialect.
//
// Macros a kernel may define before including any imagearray header:
//   IMAGEARRAY_NO_HALF                    do not look for <cuda_fp16.h>; half types are then
//                                         not recognized image types.
//   IMAGEARRAY_SURFACE_BOUNDARY_MODE      boundary mode of every surface read and write;
//                                         cudaBoundaryModeTrap (CUDA's default) unless set,
//                                         e.g. to cudaBoundaryModeZero while debugging.
// Macros these headers define:
//   IMAGEARRAY_DEVICE_API_VERSION         integer, bumped when the device API changes.
//   IMAGEARRAY_HAS_HALF                   1 when __half, __half2 and ia::half4 are usable.
#ifndef IMAGEARRAY_CONFIG_CUH
#define IMAGEARRAY_CONFIG_CUH

#if !defined(__cplusplus) || __cplusplus < 201703L
#error "imagearray: the device headers need C++17 (NVRTC's default; pass -std=c++17)"
#endif

#define IMAGEARRAY_DEVICE_API_VERSION 4

// Half precision comes from <cuda_fp16.h>. CuPy's own kernels include it, so it is on the
// include path wherever CuPy compiles; elsewhere the half overloads simply do not exist.
#if !defined(IMAGEARRAY_NO_HALF) && !defined(__CUDA_FP16_TYPES_EXIST__)
#if defined(__has_include)
#if __has_include(<cuda_fp16.h>)
#include <cuda_fp16.h>
#endif
#endif
#endif

#if !defined(IMAGEARRAY_NO_HALF) && defined(__CUDA_FP16_TYPES_EXIST__)
#define IMAGEARRAY_HAS_HALF 1
#else
#define IMAGEARRAY_HAS_HALF 0
#endif

#ifndef IMAGEARRAY_SURFACE_BOUNDARY_MODE
#define IMAGEARRAY_SURFACE_BOUNDARY_MODE cudaBoundaryModeTrap
#endif

#define IMAGEARRAY_DEVICE_INLINE __device__ __forceinline__
#define IMAGEARRAY_HOST_DEVICE_INLINE __host__ __device__ __forceinline__

#endif  // IMAGEARRAY_CONFIG_CUH
