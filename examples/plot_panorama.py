"""
Cubemap to equirectangular panorama
===================================

Six procedural faces (each its own hue, with a wedge pointing to its top edge and a
disc at its centre) uploaded as one cubemap with ``asimage(faces, cubemap=True)``,
then read along the directions of an equirectangular panorama by
:meth:`~imagearray.ImageArray.sample_cubemap`: longitude across, latitude down,
+z in the middle. The texture unit picks the face of each direction and the texel
within it; linear filtering blends within a face.

.. image:: /_static/gallery/panorama.png
   :alt: An equirectangular panorama of six coloured cube faces
"""

# sphinx_gallery_thumbnail_path = "_static/gallery/panorama.png"

import numpy
from _common import options, save, to_u8

import imagearray as ia
from imagearray.demo.pictures import cube_faces, panorama_directions

FACE = 64  # texels per face edge
WIDTH = 512  # the panorama: WIDTH x WIDTH / 2


NAME = "panorama.png"  # the PNG, in docs/_static/gallery/


def render(gpu: bool) -> numpy.ndarray:
    """The picture (RGBA8), on the GPU or (``gpu=False``) on the NumPy reference."""
    faces = cube_faces(FACE)  # (6, FACE, FACE, 4) RGBA8: +x, -x, +y, -y, +z, -z
    directions = panorama_directions(WIDTH)  # (WIDTH / 2, WIDTH, 3) unit vectors
    sampler = ia.Sampler("clamp_to_edge", "normalized", "linear")
    if gpu:
        import cupy

        cube = ia.asimage(faces, channels=4, cubemap=True, normalized=True)
        values = cupy.asnumpy(cube.sample_cubemap(cupy.asarray(directions), sampler))
    else:
        from imagearray.testing import reference

        values = reference.sample_cubemap(faces, directions, sampler, ia.ChannelType.UNORM_INT8)
    return to_u8(values)


def main() -> None:
    args = options(__doc__.strip().splitlines()[0])
    save(args, NAME, render(args.gpu))


if __name__ == "__main__":
    main()
