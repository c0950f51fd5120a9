"""
Mipmaps and trilinear minification
==================================

A floor tiled with the test picture, seen at a grazing angle: far away, many texels
fall into one screen pixel. Left, sampled from level 0 alone (linear filtering, no
mipmaps): the distance shimmers with aliasing. Right, the same coordinates read from
a mip chain made by :meth:`~imagearray.ImageArray.generate_mipmaps` with the screen
gradients (``dx``, ``dy``: ``tex2DGrad``), blending two levels (trilinear filtering):
the distance fades smoothly to the picture's average colour. Below, the chain's
levels side by side.

.. image:: /_static/gallery/mipmaps.png
   :alt: An aliased floor, a smooth floor, and the mip levels
"""

# sphinx_gallery_thumbnail_path = "_static/gallery/mipmaps.png"

import numpy
from _common import options, save, side_by_side, to_u8

import imagearray as ia
from imagearray.demo.pictures import BACKGROUND, mip_strip, picture

SIZE = 128  # the picture: 8 levels, 128 .. 1
HEIGHT, WIDTH = 128, 256  # each view
UNORM8 = ia.ChannelType.UNORM_INT8


NAME = "mipmaps.png"  # the PNG, in docs/_static/gallery/


def floor_view() -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """Normalized coordinates of a floor in perspective and their screen gradients
    (per pixel along x and along y): ``(coords, dx, dy)``, float32 ``(H, W, 2)``."""
    xs = (numpy.arange(WIDTH) + 0.5) / WIDTH - 0.5
    ys = (numpy.arange(HEIGHT) + 0.5) / HEIGHT
    y, x = numpy.meshgrid(ys, xs, indexing="ij")
    dist = 1 / (y + 0.04)  # 50 tiles away at the top row, 2 at the bottom
    coords = numpy.stack([x * dist * 4, dist * 2], -1)
    dx = numpy.stack([dist * 4 / WIDTH, 0 * dist], -1)
    dy = numpy.stack([x * 4, numpy.full_like(x, 2)], -1) * (-(dist**2) / HEIGHT)[..., None]
    return tuple(a.astype(numpy.float32) for a in (coords, dx, dy))


def render(gpu: bool) -> numpy.ndarray:
    """The picture (RGBA8), on the GPU or (``gpu=False``) on the NumPy reference."""
    texels = picture(SIZE)
    levels = SIZE.bit_length()
    coords, dx, dy = floor_view()
    flat = ia.Sampler("repeat", "normalized", "linear")
    # the level clamp's default, [0, 0], would keep every read on level 0
    trilinear = ia.Sampler(
        "repeat",
        "normalized",
        "linear",
        mipmap_filtering="linear",
        max_mipmap_level_clamp=levels - 1,
    )
    if gpu:
        import cupy

        image = ia.asimage(texels, channels=4, normalized=True)
        pyramid = ia.empty(image.shape, numpy.uint8, 4, levels=levels, normalized=True)
        pyramid.mip(0).set(image)
        pyramid.generate_mipmaps()  # box filter, level by level
        xy = cupy.asarray(coords)
        aliased = cupy.asnumpy(image.sample(xy, flat))
        smooth = pyramid.sample(xy, trilinear, dx=cupy.asarray(dx), dy=cupy.asarray(dy))
        smooth = cupy.asnumpy(smooth)
        chain = [pyramid.mip(level).get() for level in range(levels)]
    else:
        from imagearray.testing import reference

        chain = reference.box_pyramid(texels, levels, dims=2, channel_type=UNORM8)
        aliased = reference.sample(texels, coords, flat, UNORM8, dims=2)
        lod = reference.lod_from_gradients(dx, dy, (SIZE, SIZE), dims=2)
        smooth = reference.sample_mipmap(chain, coords, trilinear, UNORM8, dims=2, level=lod)
    views = side_by_side([to_u8(aliased), to_u8(smooth)])
    strip = mip_strip(chain)
    out = numpy.zeros((HEIGHT + 4 + SIZE, views.shape[1], 4), numpy.uint8)
    out[...] = BACKGROUND
    out[:HEIGHT] = views
    out[HEIGHT + 4 :, : strip.shape[1]] = strip
    return out


def main() -> None:
    args = options(__doc__.strip().splitlines()[0])
    save(args, NAME, render(args.gpu))


if __name__ == "__main__":
    main()
