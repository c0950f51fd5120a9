"""The demo's pictures and geometry, in plain NumPy: what both backends are given.

Everything a step samples is made here, on the host, once: the test picture, the six
cube faces, the atlas layers, and the coordinates and directions the texture unit is
asked for. The GPU and the reference are handed the same arrays, so any difference
between their pictures is the sampling's own.

Coordinates are in texture order (x = width, y = height) with texel centres at
``i + 0.5``, as :meth:`imagearray.ImageArray.sample` and
:func:`imagearray.testing.sample` take them; arrays are in NumPy order.
"""

from __future__ import annotations

import math

import numpy

__all__ = [
    "ATLAS_LAYERS",
    "BACKGROUND",
    "FACE_COLOURS",
    "FACE_DISC",
    "ROTATION_DEGREES",
    "ZOOM",
    "atlas_coords",
    "atlas_layers",
    "cube_faces",
    "mip_strip",
    "panorama_directions",
    "picture",
    "rotation_coords",
    "rotation_matrix",
    "to_u8",
]

#: The rotated view (step 4): the turn in degrees (clockwise as shown), and the
#: magnification.
ROTATION_DEGREES = 30.0
ZOOM = 1.25
#: Opaque dark grey: the rotated view's border colour and the strip's background.
BACKGROUND = (24, 24, 30, 255)
#: Cube face -> its colour, in CUDA's face order (+x, -x, +y, -y, +z, -z): every face
#: a different hue, so the panorama shows which face each direction reads.
FACE_COLOURS = (
    (230, 60, 50),
    (40, 200, 210),
    (80, 210, 70),
    (200, 70, 200),
    (60, 90, 230),
    (235, 205, 50),
)
#: Layers of the atlas (step 6), tiled 2 x 2 into one picture.
ATLAS_LAYERS = 4


def to_u8(values: numpy.ndarray) -> numpy.ndarray:
    """Normalized reads in [0, 1] (float) as RGBA8 texels: ``rint(v * 255)``, clipped.

    A texel ``k`` reads as ``k / 255`` in float32, and this gives ``k`` back exactly:
    exact reads survive the round trip, filtered ones round to the nearest step."""
    scaled = numpy.asarray(values, numpy.float32) * numpy.float32(255)
    return numpy.clip(numpy.rint(scaled), 0, 255).astype(numpy.uint8)


def _grid(height: int, width: int) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Texel centres in [0, 1]: (u along the width, v along the height), float64."""
    v, u = numpy.meshgrid(
        (numpy.arange(height) + 0.5) / height, (numpy.arange(width) + 0.5) / width, indexing="ij"
    )
    return u, v


def _rgba(r, g, b, a=None) -> numpy.ndarray:
    """Channels in [0, 1] (float64) as an RGBA8 array, rounded to nearest."""
    a = numpy.ones_like(r) if a is None else a
    stack = numpy.stack(numpy.broadcast_arrays(r, g, b, a), axis=-1)
    return numpy.clip(numpy.rint(stack * 255), 0, 255).astype(numpy.uint8)


def _disc(u, v, cu, cv, radius, soft):
    """Coverage of a disc, 1 inside, 0 outside, a linear ramp ``soft`` wide at its edge
    (smooth edges make the filtering visible without aliasing the picture itself)."""
    d = numpy.hypot(u - cu, v - cv)
    return numpy.clip((radius - d) / soft + 0.5, 0.0, 1.0)


def picture(size: int) -> numpy.ndarray:
    """The test picture: ``(size, size, 4)`` uint8 RGBA, opaque, no text.

    Red grows along x, green along y, over an 8 x 8 checkerboard that modulates blue;
    five discs (four corners and the centre, with a ring) give curved edges, and a
    fine 1-texel line grid in one quadrant shows what minification does to detail."""
    u, v = _grid(size, size)
    checker = ((numpy.floor(u * 8) + numpy.floor(v * 8)) % 2).astype(numpy.float64)
    r, g = 0.15 + 0.8 * u, 0.15 + 0.8 * v
    b = 0.25 + 0.45 * checker
    soft = 1.5 / size
    for cu, cv, colour in (
        (0.25, 0.25, (1.0, 0.85, 0.2)),
        (0.75, 0.25, (0.2, 0.9, 1.0)),
        (0.25, 0.75, (1.0, 0.3, 0.7)),
        (0.75, 0.75, (0.95, 0.95, 0.95)),
    ):
        w = _disc(u, v, cu, cv, 0.14, soft)
        r, g, b = (c * (1 - w) + k * w for c, k in zip((r, g, b), colour, strict=True))
    ring = _disc(u, v, 0.5, 0.5, 0.2, soft) - _disc(u, v, 0.5, 0.5, 0.16, soft)
    r, g, b = (c * (1 - ring) for c in (r, g, b))
    ix = numpy.arange(size)
    lines = ((ix[:, None] % 4 == 0) | (ix[None, :] % 4 == 0)) & (u > 0.5) & (v < 0.5)
    lines &= (u > 0.55) & (u < 0.95) & (v > 0.05) & (v < 0.45)
    r, g, b = (numpy.where(lines, 0.05, c) for c in (r, g, b))
    return _rgba(r, g, b)


def mip_strip(levels: list[numpy.ndarray]) -> numpy.ndarray:
    """The mip levels side by side, top-aligned, on :data:`BACKGROUND`: a
    ``(n, 2n - 1, 4)`` picture for a full chain of an ``n x n`` image."""
    height = levels[0].shape[0]
    width = sum(level.shape[1] for level in levels)
    out = numpy.empty((height, width, 4), numpy.uint8)
    out[...] = BACKGROUND
    x = 0
    for level in levels:
        h, w = level.shape[:2]
        out[:h, x : x + w] = level
        x += w
    return out


def rotation_matrix(size: int) -> tuple[numpy.ndarray, numpy.ndarray]:
    """The rotated view as ``cupyx.scipy.ndimage.affine_transform`` takes it:
    ``(matrix, offset)`` in SciPy's (row, column) order, texel centres at integers,
    mapping an output index to the input index :func:`rotation_coords` samples."""
    t = math.radians(ROTATION_DEGREES)
    c, s = math.cos(t) / ZOOM, math.sin(t) / ZOOM
    matrix = numpy.array([[c, -s], [s, c]])
    centre = numpy.full(2, size / 2 - 0.5)
    return matrix, centre - matrix @ centre


def rotation_coords(size: int) -> numpy.ndarray:
    """Where the rotated view (step 4) samples the picture: ``(size, size, 2)`` float32
    texel coordinates (x, y) of the input for each output texel: the picture turned
    :data:`ROTATION_DEGREES` clockwise as shown (rows down) and magnified :data:`ZOOM`
    times about its centre, so a step along an output row steps the input by
    ``(cos, -sin) / ZOOM`` of that angle."""
    matrix, offset = rotation_matrix(size)
    rows, cols = numpy.meshgrid(numpy.arange(size), numpy.arange(size), indexing="ij")
    index = numpy.stack([rows, cols], axis=-1).astype(numpy.float64)
    source = index @ matrix.T + offset  # (row, col) of the input, centres at integers
    return (source[..., ::-1] + 0.5).astype(numpy.float32)  # texture order, centres at .5


def panorama_directions(width: int) -> numpy.ndarray:
    """Directions of an equirectangular panorama ``(width // 2, width)``: float32
    ``(..., 3)`` unit vectors (x, y, z), y up, longitude 0 (the centre column) along
    +z and growing towards +x, latitude +90 degrees at the top row."""
    height = width // 2
    lon = ((numpy.arange(width) + 0.5) / width * 2 - 1) * math.pi
    lat = (0.5 - (numpy.arange(height) + 0.5) / height) * math.pi
    lat, lon = numpy.meshgrid(lat, lon, indexing="ij")
    dirs = numpy.stack(
        [numpy.cos(lat) * numpy.sin(lon), numpy.sin(lat), numpy.cos(lat) * numpy.cos(lon)], -1
    )
    return dirs.astype(numpy.float32)


#: The solid disc at each face's centre, in face widths: its radius.
FACE_DISC = 0.3


def cube_faces(size: int) -> numpy.ndarray:
    """Six ``size x size`` RGBA8 faces, ``(6, size, size, 4)``, in CUDA's order.

    Face ``f`` is a 4 x 4 checker of two shades of :data:`FACE_COLOURS` ``[f]`` with a
    white frame, a white arrow-like wedge towards its top edge (so the face's
    orientation shows), and a solid disc of the full colour at its centre
    (radius :data:`FACE_DISC`): any direction near a face's centre reads exactly
    that colour, filtered or not."""
    u, v = _grid(size, size)
    checker = (numpy.floor(u * 4) + numpy.floor(v * 4)) % 2
    edge = 1.0 / size
    frame = (u < edge) | (u > 1 - edge) | (v < edge) | (v > 1 - edge)
    wedge = (v < 0.3) & (numpy.abs(u - 0.5) < (0.3 - v) * 0.6)
    disc = numpy.hypot(u - 0.5, v - 0.5) <= FACE_DISC
    faces = []
    for colour in FACE_COLOURS:
        base = numpy.asarray(colour, numpy.float64) / 255
        shade = numpy.where(checker[..., None] == 1, 0.45, 0.7) * base
        rgb = numpy.where((frame | wedge)[..., None], 1.0, shade)
        rgb = numpy.where(disc[..., None], base, rgb)
        faces.append(_rgba(rgb[..., 0], rgb[..., 1], rgb[..., 2]))
    return numpy.stack(faces)


def atlas_layers(size: int) -> list[numpy.ndarray]:
    """The atlas' procedural layers, ``ATLAS_LAYERS - 1`` RGBA8 ``(size, size, 4)``
    arrays: concentric rings, diagonal stripes and a smooth interference pattern,
    each in its own colours. (Layer 0, before them, is the picture's mip level 1,
    which the backend made.)"""
    u, v = _grid(size, size)
    d = numpy.hypot(u - 0.5, v - 0.5)
    rings = 0.5 + 0.5 * numpy.cos(d * 40)
    stripes = ((u + v) * 10 % 1 < 0.5).astype(numpy.float64)
    wave = 0.5 + 0.25 * (numpy.sin(u * 17) + numpy.sin(v * 11 + u * 5))
    return [
        _rgba(0.9 * rings, 0.4 + 0.3 * rings, 0.2 * (1 - rings)),
        _rgba(0.15 + 0.7 * stripes, 0.15 + 0.2 * stripes, 0.6 - 0.4 * stripes),
        _rgba(wave, 0.6 * (1 - wave) + 0.2, 0.9 * wave * wave),
    ]


def atlas_coords(size: int) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Where the tiled atlas picture ``(2 size, 2 size)`` reads the layered image:
    ``(coords, layers)``, float32 texel centres (x, y) within a layer and the int32
    layer of each texel (layer ``2 i + j`` in tile row ``i``, column ``j``)."""
    rows, cols = numpy.meshgrid(numpy.arange(2 * size), numpy.arange(2 * size), indexing="ij")
    layers = (2 * (rows // size) + cols // size).astype(numpy.int32)
    coords = numpy.stack([cols % size, rows % size], axis=-1).astype(numpy.float32) + 0.5
    return coords, layers
