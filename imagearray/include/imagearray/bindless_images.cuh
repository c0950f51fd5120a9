// imagearray device API: the whole of it, in namespace ia.
//
// The device side of the SYCL bindless-images model on CUDA, for kernels compiled by
// cupy.RawKernel / cupy.RawModule (NVRTC) or nvcc. From Python:
//
//   import cupy, imagearray as ia
//   src = ia.kernel_preamble() + r'''
//   extern "C" __global__ void scale(ia::unsampled_image_handle in,
//                                    ia::unsampled_image_handle out, int w, int h) {
//     int x = blockIdx.x * blockDim.x + threadIdx.x;
//     int y = blockIdx.y * blockDim.y + threadIdx.y;
//     if (x < w && y < h) {
//       float4 p = ia::fetch_image<float4>(in, make_int2(x, y));
//       ia::write_image(out, make_int2(x, y), make_float4(2 * p.x, 2 * p.y, 2 * p.z, p.w));
//     }
//   }'''
//   kernel = cupy.RawKernel(src, "scale", options=("-I" + ia.get_include(),))
//
// kernel_preamble() adds IMAGEARRAY_HEADER_HASH, a hash of these headers, so that CuPy's
// kernel cache (keyed on the source text) recompiles when the headers change.
//
// Parts, one per spec section:
//   handles.cuh      sampled_image_handle, unsampled_image_handle
//   types.cuh        recognized standard types, user-defined types, ia::half4
//   image.cuh        fetch_image, sample_image, gather_image, write_image
//   mipmap.cuh       sample_mipmap (level and gradients)
//   image_array.cuh  fetch_image_array (unsampled and sampled), write_image_array,
//                    sample_image_array, sample_mipmap_array (level and gradients)
//   cubemap.cuh      fetch_cubemap, write_cubemap, sample_cubemap, sample_mipmap_cubemap
//                    (level and gradients), fetch/write/sample_cubemap_array
//   filtered_integer.cuh  filtered_integer_image_handle<ChannelT>: sample_image,
//                    sample_mipmap, sample_image_array, sample_mipmap_array,
//                    sample_cubemap, fetch_image, fetch_image_array of 8/16-bit
//                    integer images with a linear filter, in the image's units
//   channel_order.cuh  image_channel_order; fetch_image, sample_image,
//                    fetch_image_array, write_image, write_image_array with an Order
//                    template argument (rgba, argb, bgra, abgr)
//   config.cuh       C++17 check, half detection, surface boundary mode
//   intrinsics.cuh   internal wrappers over CUDA's texture and surface instructions
//
// Coordinates everywhere are in texture order: x = width, y = height, z = depth.
#ifndef IMAGEARRAY_BINDLESS_IMAGES_CUH
#define IMAGEARRAY_BINDLESS_IMAGES_CUH

#include <imagearray/config.cuh>
#include <imagearray/handles.cuh>
#include <imagearray/types.cuh>
#include <imagearray/image.cuh>
#include <imagearray/mipmap.cuh>
#include <imagearray/image_array.cuh>
#include <imagearray/cubemap.cuh>
#include <imagearray/filtered_integer.cuh>
#include <imagearray/channel_order.cuh>

#endif  // IMAGEARRAY_BINDLESS_IMAGES_CUH
