"""The cases the 3D probes here share (the benchmark's): the (3, 4) matrix that keeps
axis 0 and rotates axes 1, 2 by ``angle`` about the centre of an ``n``^3 volume, and
a raw CuPy 3D texture of a volume with linear filtering; torch's mip chain."""

import numpy


def rotation_3d(n: int, angle: float = 0.3) -> numpy.ndarray:
    c, s, h = numpy.cos(angle), numpy.sin(angle), (n - 1) / 2
    m = numpy.zeros((3, 4))
    m[0, 0] = 1.0
    m[1:, 1:3] = [[c, s], [-s, c]]
    m[1:, 3] = [h - c * h - s * h, h + s * h - c * h]
    return m


def linear_texture_3d(data, bits: int = 32):
    """(texture object, its CUDA array): a float ``bits``-bit (32 or 16) 3D CUDA array
    holding ``data`` (a cubic CuPy volume of that float type), clamped, linear filter."""
    from cupy.cuda import runtime
    from cupy.cuda import texture as tx

    n = data.shape[0]
    ch = tx.ChannelFormatDescriptor(bits, 0, 0, 0, runtime.cudaChannelFormatKindFloat)
    arr = tx.CUDAarray(ch, n, n, n)
    arr.copy_from(data)
    res = tx.ResourceDescriptor(runtime.cudaResourceTypeArray, cuArr=arr)
    modes = (runtime.cudaAddressModeClamp,) * 3
    td = tx.TextureDescriptor(modes, runtime.cudaFilterModeLinear, runtime.cudaReadModeElementType)
    return tx.TextureObject(res, td), arr


def torch_pool_chain(size: int):
    """A callable making torch ``avg_pool2d``'s chain of a ``size``^2 float32 image
    (on the GPU, zeros) down to one texel, as the mipmaps benchmark times torch."""
    import torch

    t = torch.zeros((1, 1, size, size), device="cuda")

    def pool(t=t):
        y = t
        while y.shape[-1] > 1:
            y = torch.nn.functional.avg_pool2d(y, 2)

    return pool
