"""
Gather: a 2 x 2 minimum and maximum in one fetch
================================================

:meth:`~imagearray.ImageArray.gather` returns one channel of the four texels a
bilinear fetch would blend (CUDA's ``tex2Dgather``), unfiltered. Read at texel
corners (``x = i + 1``, ``y = j + 1`` in unnormalized coordinates) each result is a
2 x 2 block of the green channel, and its minimum or maximum is a 2 x 2 erosion or
dilation, one fetch per output texel. Left to right: the green channel, its
erosion, its dilation (the image is made with ``gather=True``: CUDA gathers only
from arrays allocated for it).

.. image:: /_static/gallery/gather.png
   :alt: A gray picture, a thinned version and a thickened version
"""

# sphinx_gallery_thumbnail_path = "_static/gallery/gather.png"

import numpy
from _common import options, save, side_by_side, to_u8

import imagearray as ia
from imagearray.demo.pictures import picture

SIZE = 160
GREEN = 1  # the component gathered


NAME = "gather.png"  # the PNG, in docs/_static/gallery/


def corners(n: int) -> numpy.ndarray:
    """``(n, n, 2)`` float32 texel-corner coordinates (x, y) = (i + 1, j + 1): each
    the shared corner of texels i, i + 1 and j, j + 1 (clamped at the last)."""
    y, x = numpy.meshgrid(numpy.arange(n) + 1.0, numpy.arange(n) + 1.0, indexing="ij")
    return numpy.stack([x, y], -1).astype(numpy.float32)


def render(gpu: bool) -> numpy.ndarray:
    """The picture (RGBA8), on the GPU or (``gpu=False``) on the NumPy reference."""
    texels = picture(SIZE)
    where = corners(SIZE)
    sampler = ia.Sampler("clamp_to_edge", "unnormalized", "nearest")
    if gpu:
        import cupy

        img = ia.asimage(texels, channels=4, normalized=True, gather=True)
        block = cupy.asnumpy(img.gather(cupy.asarray(where), GREEN, sampler))
    else:
        from imagearray.testing import reference

        block = reference.gather(texels, where, sampler, GREEN, ia.ChannelType.UNORM_INT8)
    # block: (SIZE, SIZE, 4), the four texels' green, in CUDA's order
    green = texels[..., GREEN]
    panels = [green, to_u8(block.min(-1)), to_u8(block.max(-1))]
    return side_by_side(panels)


def main() -> None:
    args = options(__doc__.strip().splitlines()[0])
    save(args, NAME, render(args.gpu))


if __name__ == "__main__":
    main()
