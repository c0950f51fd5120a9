// imagearray device API: image handles (spec: "Obtaining a handle to the image").
//
// A sampled image handle holds a CUDA texture object (cudaTextureObject_t), an unsampled
// image handle a CUDA surface object (cudaSurfaceObject_t). Both are one 64-bit integer,
// 8-byte aligned and trivially copyable, so the host side passes them to
// cupy.RawKernel as numpy.uint64 (imagearray's handle objects do this for you), and an
// array of handles is a plain uint64 device array:
//
//   extern "C" __global__ void k(ia::sampled_image_handle img, float *out);
//   extern "C" __global__ void k(const ia::unsampled_image_handle *imgs, int n, ...);
//
// An 8/16-bit integer image sampled through a linear filter is read normalized (CUDA
// cannot filter integer reads); its sampled handle is declared
// ia::filtered_integer_image_handle<ChannelT> (filtered_integer.cuh), the same uint64.
// SampledImageHandle.kernel_type names the type a Python handle is declared as.
#ifndef IMAGEARRAY_HANDLES_CUH
#define IMAGEARRAY_HANDLES_CUH

#include <imagearray/config.cuh>

namespace ia {

/// Handle of a sampled image: a CUDA texture object. Read it with fetch_image,
/// sample_image, gather_image, sample_mipmap, fetch_image_array, sample_image_array,
/// sample_mipmap_array, sample_cubemap, sample_mipmap_cubemap or sample_cubemap_array.
struct sampled_image_handle {
  using raw_handle_type = unsigned long long;

  /// Not a valid image until a raw handle is assigned (the value is left uninitialized,
  /// which keeps the type trivial).
  sampled_image_handle() = default;
  IMAGEARRAY_HOST_DEVICE_INLINE explicit sampled_image_handle(raw_handle_type raw)
      : raw_handle(raw) {}

  raw_handle_type raw_handle;
};

/// Handle of an unsampled image: a CUDA surface object. Read it with fetch_image,
/// fetch_image_array, fetch_cubemap or fetch_cubemap_array; write it with write_image,
/// write_image_array, write_cubemap or write_cubemap_array.
struct unsampled_image_handle {
  using raw_handle_type = unsigned long long;

  unsampled_image_handle() = default;
  IMAGEARRAY_HOST_DEVICE_INLINE explicit unsampled_image_handle(raw_handle_type raw)
      : raw_handle(raw) {}

  raw_handle_type raw_handle;
};

// The kernel-argument ABI: the host passes each handle as one uint64.
static_assert(sizeof(sampled_image_handle) == 8 && alignof(sampled_image_handle) == 8,
              "imagearray: sampled_image_handle must be 8 bytes, 8-byte aligned");
static_assert(sizeof(unsampled_image_handle) == 8 && alignof(unsampled_image_handle) == 8,
              "imagearray: unsampled_image_handle must be 8 bytes, 8-byte aligned");
static_assert(__is_trivially_copyable(sampled_image_handle) &&
                  __is_trivially_copyable(unsampled_image_handle),
              "imagearray: image handles must be trivially copyable");
static_assert(__is_standard_layout(sampled_image_handle) &&
                  __is_standard_layout(unsampled_image_handle),
              "imagearray: image handles must be standard layout");
static_assert(sizeof(cudaTextureObject_t) == 8 && sizeof(cudaSurfaceObject_t) == 8,
              "imagearray: CUDA texture and surface objects are expected to be 64-bit");

}  // namespace ia

#endif  // IMAGEARRAY_HANDLES_CUH
