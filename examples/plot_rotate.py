"""
Rotation: imagearray.ndimage against cupyx.scipy.ndimage
========================================================

The test picture turned 30 degrees with linear interpolation (``order=1``), by
:func:`imagearray.ndimage.rotate` (the texture unit's filter) and by
``cupyx.scipy.ndimage.rotate`` (CuPy's kernel in float32), with the same arguments.
The third panel is their difference, magnified 32 times: the texture unit's 9-bit
filter weights (see :doc:`/user/precision`), at most a few 1/512ths of the range.

Without a GPU the first panel is the NumPy texture-unit reference at the same
coordinates and the second ``scipy.ndimage.rotate``.

.. image:: /_static/gallery/rotate.png
   :alt: The picture rotated twice, and their faint difference
"""

# sphinx_gallery_thumbnail_path = "_static/gallery/rotate.png"

import numpy
from _common import options, save, side_by_side, to_u8

import imagearray as ia
from imagearray.demo.pictures import picture

SIZE = 192
ANGLE = 30.0
GAIN = 32  # the difference panel's magnification


NAME = "rotate.png"  # the PNG, in docs/_static/gallery/


def rotation_coords(n: int, angle: float) -> numpy.ndarray:
    """Where ``scipy.ndimage.rotate(reshape=False)`` reads the input for each output
    texel, as texture coordinates (x, y, texel centres at .5): its matrix and offset,
    in (row, column) order."""
    c, s = numpy.cos(numpy.radians(angle)), numpy.sin(numpy.radians(angle))
    matrix = numpy.array([[c, s], [-s, c]])
    centre = numpy.full(2, (n - 1) / 2)
    offset = centre - matrix @ centre
    rows, cols = numpy.meshgrid(numpy.arange(n), numpy.arange(n), indexing="ij")
    source = numpy.stack([rows, cols], -1) @ matrix.T + offset
    return (source[..., ::-1] + 0.5).astype(numpy.float32)


def render(gpu: bool) -> numpy.ndarray:
    """The picture (RGBA8), on the GPU or (``gpu=False``) on the NumPy reference."""
    image = picture(SIZE).astype(numpy.float32) / 255  # RGBA in [0, 1]
    if gpu:
        import cupy
        import cupyx.scipy.ndimage

        import imagearray.ndimage

        a = cupy.asarray(image)
        ours = imagearray.ndimage.rotate(a, ANGLE, reshape=False, order=1, channel_axis=-1)
        theirs = cupyx.scipy.ndimage.rotate(a, ANGLE, axes=(1, 0), reshape=False, order=1)
        ours, theirs = cupy.asnumpy(ours), cupy.asnumpy(theirs)
    else:
        import scipy.ndimage

        from imagearray.testing import reference

        # mode="constant", cval=0: the border address mode, a zero border colour
        border = ia.Sampler("clamp", "unnormalized", "linear")
        ours = reference.sample(image, rotation_coords(SIZE, ANGLE), border, dims=2)
        theirs = scipy.ndimage.rotate(image, ANGLE, axes=(1, 0), reshape=False, order=1)
    diff = numpy.abs(ours - theirs)[..., :3].max(-1) * GAIN
    panels = [to_u8(ours), to_u8(theirs), to_u8(diff)]
    return side_by_side(panels)


def main() -> None:
    args = options(__doc__.strip().splitlines()[0])
    save(args, NAME, render(args.gpu))


if __name__ == "__main__":
    main()
