"""
A layered atlas
===============

Four pictures of one size in one layered image (``ia.empty((4, n, n), ...,
layered=True)``), each written through its layer's view (``atlas.layer(k).set``),
then read in one call: :meth:`~imagearray.ImageArray.sample` with ``layer=`` an
array, a layer per point. Each tile is turned a little with linear filtering:
filtering never blends one layer into the next, so each tile's edge reads its own
layer's edge texels (``clamp_to_edge``).

.. image:: /_static/gallery/atlas.png
   :alt: Four different pictures tiled two by two, each slightly rotated
"""

# sphinx_gallery_thumbnail_path = "_static/gallery/atlas.png"

import numpy
from _common import options, save, to_u8

import imagearray as ia
from imagearray.demo.pictures import atlas_layers, picture

SIZE = 128  # each layer
UNORM8 = ia.ChannelType.UNORM_INT8


NAME = "atlas.png"  # the PNG, in docs/_static/gallery/


def tile_coords(n: int, degrees: float = 12.0) -> tuple[numpy.ndarray, numpy.ndarray]:
    """The 2 x 2 tiled picture ``(2 n, 2 n)``: for each texel, float32 texel
    coordinates (x, y) within its layer (turned ``degrees`` about the tile's centre)
    and the int32 layer (``2 i + j`` in tile row ``i``, column ``j``)."""
    rows, cols = numpy.meshgrid(numpy.arange(2 * n), numpy.arange(2 * n), indexing="ij")
    layers = (2 * (rows // n) + cols // n).astype(numpy.int32)
    t = numpy.radians(degrees)
    x, y = cols % n + 0.5 - n / 2, rows % n + 0.5 - n / 2
    turned = numpy.stack(
        [numpy.cos(t) * x - numpy.sin(t) * y, numpy.sin(t) * x + numpy.cos(t) * y], -1
    )
    return (turned * 1.1 + n / 2).astype(numpy.float32), layers


def render(gpu: bool) -> numpy.ndarray:
    """The picture (RGBA8), on the GPU or (``gpu=False``) on the NumPy reference."""
    pictures = [picture(SIZE), *atlas_layers(SIZE)]  # four RGBA8 (SIZE, SIZE, 4)
    coords, layers = tile_coords(SIZE)
    sampler = ia.Sampler("clamp_to_edge", "unnormalized", "linear")
    if gpu:
        import cupy

        shape = (len(pictures), SIZE, SIZE, 4)
        atlas = ia.empty(shape, numpy.uint8, 4, layered=True, normalized=True)
        for k, p in enumerate(pictures):
            atlas.layer(k).set(p)  # one copy into layer k
        values = atlas.sample(cupy.asarray(coords), sampler, layer=cupy.asarray(layers))
        values = cupy.asnumpy(values)
    else:
        from imagearray.testing import reference

        values = reference.sample_layered(
            numpy.stack(pictures), coords, layers, sampler, UNORM8, dims=2
        )
    return to_u8(values)


def main() -> None:
    args = options(__doc__.strip().splitlines()[0])
    save(args, NAME, render(args.gpu))


if __name__ == "__main__":
    main()
