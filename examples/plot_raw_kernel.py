"""
Your own kernel: a swirl through the device API
===============================================

A ``cupy.RawKernel`` that includes imagearray's device header
(:func:`~imagearray.kernel_preamble`, ``-I`` :func:`~imagearray.get_include`),
takes a texture handle as an ordinary argument (``img.texture(sampler)``, kernel
side ``ia::sampled_image_handle``) and samples it with ``ia::sample_image<float4>``
along a swirl: the picture turned more the nearer it is to the centre. Without a
GPU the same coordinates are sampled by the NumPy reference.

.. image:: /_static/gallery/raw_kernel.png
   :alt: The test picture twisted into a swirl
"""

# sphinx_gallery_thumbnail_path = "_static/gallery/raw_kernel.png"

import numpy
from _common import options, save, to_u8

import imagearray as ia
from imagearray.demo.pictures import picture

SIZE = 256
STRENGTH = 9.0  # radians of turn at the centre

SOURCE = r"""
extern "C" __global__ void swirl(ia::sampled_image_handle tex, float4 *out,
                                 int w, int h, float strength) {
  int x = blockIdx.x * blockDim.x + threadIdx.x;  // x = width: the column
  int y = blockIdx.y * blockDim.y + threadIdx.y;  // y = height: the row
  if (x >= w || y >= h) return;
  float u = (x + 0.5f) / w - 0.5f, v = (y + 0.5f) / h - 0.5f;
  float a = strength * fmaxf(0.0f, 0.5f - sqrtf(u * u + v * v));
  float c = cosf(a), s = sinf(a);
  float2 at = make_float2(c * u - s * v + 0.5f, s * u + c * v + 0.5f);  // normalized
  out[y * w + x] = ia::sample_image<float4>(tex, at);
}
"""


NAME = "raw_kernel.png"  # the PNG, in docs/_static/gallery/


def swirl_coords(n: int, strength: float) -> numpy.ndarray:
    """The kernel's coordinates, in NumPy: ``(n, n, 2)`` float32 (x, y)."""
    t = ((numpy.arange(n) + 0.5) / n - 0.5).astype(numpy.float32)
    v, u = numpy.meshgrid(t, t, indexing="ij")
    a = numpy.float32(strength) * numpy.maximum(0, 0.5 - numpy.hypot(u, v))
    c, s = numpy.cos(a), numpy.sin(a)
    return numpy.stack([c * u - s * v + 0.5, s * u + c * v + 0.5], -1).astype(numpy.float32)


def render(gpu: bool) -> numpy.ndarray:
    """The picture (RGBA8), on the GPU or (``gpu=False``) on the NumPy reference."""
    texels = picture(SIZE)
    sampler = ia.Sampler("clamp_to_edge", "normalized", "linear")
    if gpu:
        import cupy

        kernel = cupy.RawKernel(
            ia.kernel_preamble() + SOURCE, "swirl", options=("-std=c++17", "-I" + ia.get_include())
        )
        img = ia.asimage(texels, channels=4, normalized=True)
        out = cupy.empty((SIZE, SIZE, 4), cupy.float32)
        blocks = ((SIZE + 15) // 16, (SIZE + 15) // 16)
        args_ = (img.texture(sampler), out, numpy.int32(SIZE), numpy.int32(SIZE))
        kernel(blocks, (16, 16), (*args_, numpy.float32(STRENGTH)))
        values = cupy.asnumpy(out)  # synchronizes; img (and its handle) outlived the kernel
    else:
        from imagearray.testing import reference

        where = swirl_coords(SIZE, STRENGTH)
        values = reference.sample(texels, where, sampler, ia.ChannelType.UNORM_INT8, dims=2)
    return to_u8(values)


def main() -> None:
    args = options(__doc__.strip().splitlines()[0])
    save(args, NAME, render(args.gpu))


if __name__ == "__main__":
    main()
