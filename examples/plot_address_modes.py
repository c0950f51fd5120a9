"""
Address modes side by side
==========================

One small picture read through four samplers that differ only in their address
mode, at normalized coordinates from -1 to 2 along each axis: the picture itself
is the middle ninth of each panel. ``repeat`` repeats it, ``mirrored_repeat`` repeats it
mirrored, ``clamp_to_edge`` stretches its edge texels outwards and ``clamp``
(CUDA's border mode) reads the border colour, here transparent black: the page shows
through. Linear filtering blends the texels as the texture unit does.

.. image:: /_static/gallery/address_modes.png
   :alt: Four panels: the picture repeated, mirrored, edge-stretched, and alone
"""

# sphinx_gallery_thumbnail_path = "_static/gallery/address_modes.png"

import numpy
from _common import options, save, side_by_side, to_u8

import imagearray as ia
from imagearray.demo.pictures import picture

MODES = ["repeat", "mirrored_repeat", "clamp_to_edge", "clamp"]
SIZE = 48  # the picture
PANEL = 144  # each panel: three pictures wide


NAME = "address_modes.png"  # the PNG, in docs/_static/gallery/


def coords(n: int) -> numpy.ndarray:
    """``(n, n, 2)`` normalized coordinates (x, y) from -1 to 2, texel centres."""
    t = (numpy.arange(n) + 0.5) / n * 3 - 1
    y, x = numpy.meshgrid(t, t, indexing="ij")
    return numpy.stack([x, y], -1).astype(numpy.float32)


def render(gpu: bool) -> numpy.ndarray:
    """The picture (RGBA8), on the GPU or (``gpu=False``) on the NumPy reference."""
    texels = picture(SIZE)  # RGBA8
    where = coords(PANEL)
    samplers = [ia.Sampler(mode, "normalized", "linear") for mode in MODES]
    if gpu:
        import cupy

        img = ia.asimage(texels, channels=4, normalized=True)  # reads as [0, 1]
        xy = cupy.asarray(where)
        panels = [cupy.asnumpy(img.sample(xy, s)) for s in samplers]
    else:
        from imagearray.testing import reference

        panels = [
            reference.sample(texels, where, s, ia.ChannelType.UNORM_INT8, dims=2) for s in samplers
        ]
    return side_by_side([to_u8(p) for p in panels])


def main() -> None:
    args = options(__doc__.strip().splitlines()[0])
    save(args, NAME, render(args.gpu))


if __name__ == "__main__":
    main()
