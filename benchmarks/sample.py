"""Sampling benchmark: 4096 x 4096 float32 image, 4096 x 4096 points, bilinear.

``img.sample`` beside a hand-written ``cupy.RawKernel`` over CuPy's own
``TextureObject`` (the same hardware path, coordinates read as interleaved float2
like ours) and ``cupyx.scipy.ndimage.map_coordinates(order=1)``, for affine (a
rotation by 0.3 rad about the centre) and uniformly random coordinates. Also the
cost of creating + destroying a texture handle beside CuPy's TextureObject.
"""

from __future__ import annotations

import numpy

from benchmarks._util import Row, measure

N = 4096

_RAW = r"""
extern "C" __global__ void raw_sample(unsigned long long tex, const float2* __restrict__ c,
                                      float* __restrict__ out, long long n) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float2 p = c[i];
    out[i] = tex2D<float>(tex, p.x, p.y);
}
"""


def _coords(kind: str):
    import cupy

    if kind == "affine":
        yy, xx = cupy.mgrid[0:N, 0:N].astype(cupy.float32)
        cx = cy = (N - 1) / 2
        a = 0.3
        x = cupy.cos(a) * (xx - cx) - cupy.sin(a) * (yy - cy) + cx
        y = cupy.sin(a) * (xx - cx) + cupy.cos(a) * (yy - cy) + cy
    else:
        rs = cupy.random.RandomState(0)
        x = rs.uniform(0, N - 1, (N, N), dtype=cupy.float32)
        y = rs.uniform(0, N - 1, (N, N), dtype=cupy.float32)
    return x, y


def run() -> list[Row]:
    import cupy
    import cupyx.scipy.ndimage as ndi
    from cupy.cuda import runtime, texture

    import imagearray as ia

    data = cupy.random.RandomState(1).random_sample((N, N), dtype=cupy.float32)
    img = ia.asimage(data)
    sampler = ia.Sampler("clamp_to_edge", filtering="linear")

    ch = texture.ChannelFormatDescriptor(32, 0, 0, 0, runtime.cudaChannelFormatKindFloat)
    arr = texture.CUDAarray(ch, N, N)
    arr.copy_from(data)
    res = texture.ResourceDescriptor(runtime.cudaResourceTypeArray, cuArr=arr)
    tdesc = texture.TextureDescriptor(
        (runtime.cudaAddressModeClamp,) * 2,
        runtime.cudaFilterModeLinear,
        runtime.cudaReadModeElementType,
    )
    tex = texture.TextureObject(res, tdesc)
    raw = cupy.RawKernel(_RAW, "raw_sample")

    rows = []
    npts = N * N
    for kind in ("affine", "random"):
        x, y = _coords(kind)
        # texel centres are at i + 0.5 for the texture unit, at i for map_coordinates
        xy = cupy.stack([x + 0.5, y + 0.5], axis=-1)
        rc = cupy.stack([y, x])
        out = cupy.empty((N, N), cupy.float32)
        case = f"sample {kind}"
        # bytes: points read (8 B) + results written (4 B)
        nbytes = npts * 12
        rows.append(measure(case, "imagearray", lambda xy=xy: img.sample(xy, sampler), nbytes))
        rows.append(
            measure(
                case,
                "raw CuPy TextureObject kernel",
                lambda xy=xy, out=out: raw(
                    ((npts + 255) // 256,), (256,), (tex, xy, out, numpy.int64(npts))
                ),
                nbytes,
            )
        )
        rows.append(
            measure(
                case,
                "cupyx map_coordinates order=1",
                lambda rc=rc: ndi.map_coordinates(data, rc, order=1, mode="nearest"),
                nbytes,
            )
        )
        a = img.sample(xy, sampler)
        b = ndi.map_coordinates(data, rc, order=1, mode="nearest")
        raw(((npts + 255) // 256,), (256,), (tex, xy, out, numpy.int64(npts)))
        assert float(cupy.abs(a - out).max()) == 0.0, "imagearray and the raw kernel differ"
        print(f"{kind}: max |imagearray - cupyx| = {float(cupy.abs(a - b).max()):.4g}")

    small = ia.asimage(cupy.zeros((64, 64), cupy.float32))
    desc64 = texture.CUDAarray(ch, 64, 64)
    res64 = texture.ResourceDescriptor(runtime.cudaResourceTypeArray, cuArr=desc64)

    def ia_handle():
        ia.create_image(small, sampler=sampler).destroy()

    def cupy_handle():
        texture.TextureObject(res64, tdesc)

    rows.append(measure("create + destroy texture", "imagearray", ia_handle, 0))
    rows.append(measure("create + destroy texture", "CuPy TextureObject", cupy_handle, 0))
    return rows
