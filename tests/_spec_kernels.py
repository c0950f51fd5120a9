"""The spec's example kernels (section "Examples"), in CUDA form for the device API.

Shared by the NVRTC compile tests and the GPU tests that run them with the spec's
expected values, and ``raw_module`` which compiles device-API code the way a user
does (``ia.kernel_preamble()`` + ``-I ia.get_include()``).
"""


def raw_module(src: str):
    import cupy

    import imagearray as ia

    return cupy.RawModule(
        code=ia.kernel_preamble() + src, options=("-std=c++17", "-I" + ia.get_include())
    )


SPEC_EXAMPLES = {
    "1d_image_read_write": r"""
extern "C" __global__ void k(ia::unsampled_image_handle imgIn,
                             ia::unsampled_image_handle imgOut, int width) {
  int id = blockIdx.x * blockDim.x + threadIdx.x;
  if (id < width) {
    float pixel = ia::fetch_image<float>(imgIn, int(id));
    ia::write_image(imgOut, int(id), pixel);
  }
}""",
    # "Reading from a dynamically sized array of 2D images", as the spec writes it ...
    "dynamic_array_of_unsampled_images": r"""
extern "C" __global__ void k(const ia::unsampled_image_handle *imgHandleAcc,
                             size_t numImages, float *outAcc, size_t width) {
  size_t dim0 = threadIdx.x;
  size_t dim1 = threadIdx.y;
  float sum = 0;
  for (int i = 0; i < numImages; i++) {
    sum += ia::fetch_image<float>(imgHandleAcc[i], make_int2(dim0, dim1));
  }
  outAcc[dim1 * width + dim0] = sum;
}""",
    # ... and with sampled handles: texel fetch and filtered sampling.
    "dynamic_array_of_sampled_images": r"""
extern "C" __global__ void k(const ia::sampled_image_handle *images, int n,
                             float *out, int width, int height) {
  int x = blockIdx.x * blockDim.x + threadIdx.x;
  int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= width || y >= height) return;
  float sum = 0.0f;
  for (int i = 0; i < n; ++i) {
    sum += ia::fetch_image<float>(images[i], make_int2(x, y));
    sum += ia::sample_image<float>(images[i], make_float2(x + 0.5f, y + 0.5f));
  }
  out[y * width + x] = sum;
}""",
    "1d_mipmap_anisotropic_and_levels": r"""
extern "C" __global__ void k(ia::sampled_image_handle mipHandle, float *outAcc, int width) {
  int id = blockIdx.x * blockDim.x + threadIdx.x;
  if (id >= width) return;
  float x = (static_cast<float>(id) + 0.5f) / static_cast<float>(width);
  float px1 = ia::sample_mipmap<float>(mipHandle, x, 0.0f, 0.0f);
  float px2 = ia::sample_mipmap<float>(mipHandle, x, 1.0f);
  outAcc[id] = px1 + px2;
}""",
    "1d_image_array_read_write": r"""
extern "C" __global__ void k(ia::unsampled_image_handle arrayHandle1,
                             ia::unsampled_image_handle arrayHandle2,
                             ia::unsampled_image_handle outHandle, int width) {
  int id = blockIdx.x * blockDim.x + threadIdx.x;
  if (id >= width) return;
  float4 px1 = ia::fetch_image_array<float4>(arrayHandle1, int(id), 0);
  float4 px2 = ia::fetch_image_array<float4>(arrayHandle1, int(id), 1);
  float4 px3 = ia::fetch_image_array<float4>(arrayHandle2, int(id), 0);
  float4 px4 = ia::fetch_image_array<float4>(arrayHandle2, int(id), 1);
  float sum1 = px1.x + px3.x;
  float sum2 = px2.x + px4.x;
  ia::write_image_array<float4>(outHandle, int(id), 0, make_float4(sum1, sum1, sum1, sum1));
  ia::write_image_array<float4>(outHandle, int(id), 1, make_float4(sum2, sum2, sum2, sum2));
}""",
    "sampled_cubemap": r"""
extern "C" __global__ void k(ia::sampled_image_handle imgHandle, float *outAcc,
                             int width, int height) {
  int dim0 = blockIdx.x * blockDim.x + threadIdx.x;
  int dim1 = blockIdx.y * blockDim.y + threadIdx.y;
  if (dim0 >= width || dim1 >= height) return;
  float fdim0 = 1.f;
  float fdim1 = (((float(dim0) / (float)width) * 1.98f) - 0.99f) + (1.f / (float)width);
  float fdim2 = (((float(dim1) / (float)height) * 1.98f) - 0.99f) + (1.f / (float)height);
  float4 px = ia::sample_cubemap<float4>(imgHandle, make_float3(fdim0, fdim1, fdim2));
  outAcc[dim0 * width + dim1] = px.x;  // the spec's buffer{height, width}[{dim0, dim1}]
}""",
    "interop_uint32_read_modify_write": r"""
extern "C" __global__ void k(ia::unsampled_image_handle img_input,
                             ia::unsampled_image_handle img_output) {
  size_t dim0 = blockIdx.x * blockDim.x + threadIdx.x;
  size_t dim1 = blockIdx.y * blockDim.y + threadIdx.y;
  unsigned int pixel = ia::fetch_image<unsigned int>(img_input, make_int2(dim0, dim1));
  pixel *= 10;
  ia::write_image(img_output, make_int2(dim0, dim1), pixel);
}""",
}
