"""Cubemap textures: ``texCubemap`` and ``texCubemapLayered``.

:func:`cubemap_face` is the guide's cubemap face table; :func:`sample_cubemap` samples
the face a direction selects, disjointed (no tap reads another face).
"""

from __future__ import annotations

from typing import Any

import numpy

from imagearray._enums import ChannelType
from imagearray._errors import ImageArrayValueError
from imagearray._sampler import CubemapFilteringMode, FilteringMode, Sampler
from imagearray.testing.reference.layers import _layer_indices
from imagearray.testing.reference.sampling import (
    _check_sampler,
    _float_coordinates,
    _level_input,
    _sample_level,
)
from imagearray.testing.reference.texels import (
    _asarray,
    _broadcast_points,
    _channel_type,
    _filter_read_type,
    _in_image_units,
    _split_shape,
)

__all__ = ["CUBEMAP_FACES", "cubemap_face", "sample_cubemap"]

#: Face index -> its name, in CUDA's layer order.
CUBEMAP_FACES = ("+x", "-x", "+y", "-y", "+z", "-z")


def cubemap_face(directions: Any) -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """Return the cube face a direction points to and the face coordinates (u, v).

    The CUDA C++ Programming Guide, "Cubemap Textures": the face is selected by the
    coordinate of largest magnitude ``m`` (the major axis) and its sign, and the face
    is addressed at ``u = (s/m + 1)/2``, ``v = (t/m + 1)/2`` with ``s``, ``t`` from its
    table (the OpenGL/Direct3D convention)::

        face  major    s    t    m
        0     x >= 0  -z   -y   |x|
        1     x <  0  +z   -y   |x|
        2     y >= 0  +x   +z   |y|
        3     y <  0  +x   -z   |y|
        4     z >= 0  +x   -y   |z|
        5     z <  0  -x   -y   |z|

    ``u`` runs along the face's width (x), ``v`` along its height (y), both in [0, 1].

    Ties (two or three components of equal largest magnitude, e.g. the direction
    (1, 1, 0) on the edge between +x and +y) are decided x over y over z here: the
    guide's table uses strict inequalities and says nothing, OpenGL and Vulkan leave
    ties to the implementation, and what NVIDIA hardware does has not been measured.
    GPU tests should avoid exact ties until it is. Arithmetic is float32:
    ``(s / m + 1) * 0.5`` each rounded once.

    Parameters
    ----------
    directions : array_like
        Direction vectors, last axis ``(x, y, z)``; cast to float32. Their length does
        not matter.

    Returns
    -------
    face : numpy.ndarray
        int64 face index, 0 to 5 (+x, -x, +y, -y, +z, -z; see :data:`CUBEMAP_FACES`).
    u, v : numpy.ndarray
        float32 normalized face coordinates, in [0, 1].

    Raises
    ------
    ImageArrayValueError
        If the last axis does not have 3 entries, a component is not finite, or a
        direction is zero (it points to no face).

    Examples
    --------
    >>> face, u, v = cubemap_face([[1.0, 0.0, 0.0], [0.5, -1.0, 0.5]])
    >>> face.tolist(), u.tolist(), v.tolist()
    ([0, 3], [0.5, 0.75], [0.5, 0.25])
    """
    d = _float_coordinates(directions, 3, "directions", "directions")
    x, y, z = d[..., 0], d[..., 1], d[..., 2]
    ax, ay, az = numpy.abs(x), numpy.abs(y), numpy.abs(z)
    zero = (ax == 0) & (ay == 0) & (az == 0)
    if numpy.any(zero):
        raise ImageArrayValueError(
            f"a zero direction points to no cube face; {int(numpy.count_nonzero(zero))} "
            "direction(s) are (0, 0, 0)"
        )
    x_major = (ax >= ay) & (ax >= az)
    y_major = ~x_major & (ay >= az)
    axis = numpy.where(x_major, 0, numpy.where(y_major, 1, 2))
    negative = numpy.choose(axis, [x, y, z]) < 0
    face = (2 * axis + negative).astype(numpy.int64)
    s = numpy.choose(face, [-z, z, x, x, x, -x])
    t = numpy.choose(face, [-y, -y, z, -z, -y, -y])
    m = numpy.choose(axis, [ax, ay, az])
    one, half = numpy.float32(1), numpy.float32(0.5)
    u = ((s / m + one) * half).astype(numpy.float32)
    v = ((t / m + one) * half).astype(numpy.float32)
    return face, u, v


def sample_cubemap(
    faces: Any,
    directions: Any,
    sampler: Sampler,
    channel_type: ChannelType | str | None = None,
    *,
    cube: Any = 0,
) -> numpy.ndarray:
    """Return what ``texCubemap`` (``sample_cubemap``) reads in the direction ``directions``.

    Each direction selects a face and face coordinates (u, v) by :func:`cubemap_face`
    (the CUDA C++ Programming Guide's "Cubemap Textures" table); the face is then
    sampled as a 2D image at the normalized coordinates (u, v) with the sampler's
    filtering (the guide's nearest-point sampling or linear filtering), never reading
    another face ("disjointed").

    The sampler's address modes are ignored: the bindless-images spec says "when
    seamless cubemap filtering is enabled, sampled image address modes specified are
    ignored" and clamp-to-edge applies, and the reference applies clamp-to-edge within
    the face in every case, as (u, v) never leave [0, 1] but for the second tap of a
    linear filter at a face edge. The sampler's coordinate normalization is ignored
    too: (u, v) are normalized by construction. Both are assumptions where CUDA says
    nothing; the GPU tests are the judge.

    Seamless filtering (``cubemap_filtering=SEAMLESS``) is not modelled for linear
    filtering, whose taps at a face edge would come from two or three faces, and is
    refused. With nearest filtering, seamless equals disjointed: nearest reads the
    single texel of the selected face that contains (u, v), and no tap crosses an edge.

    Parameters
    ----------
    faces : array_like
        The faces in C order, ``(6 * N, size, size[, C])``: face ``f`` of cube ``k`` is
        ``faces[6 * k + f]``, faces in the order +x, -x, +y, -y, +z, -z
        (:data:`CUBEMAP_FACES`). Faces are square, as CUDA requires.
    directions : array_like
        Direction vectors, last axis ``(x, y, z)``; cast to float32.
    sampler : Sampler
        The sampler the texture was made with: its ``filtering`` and
        ``cubemap_filtering`` are used.
    channel_type : ChannelType or str, optional
        How ``faces`` is read (see :func:`read_texels`); default: by its dtype.
    cube : int or array_like of int, optional
        Cube index of each point in a cubemap array (``texCubemapLayered``), broadcast
        against the points; default 0. Read as PTX's ``tex.acube`` reads it, "a 32-bit
        unsigned integer", and clamped to ``N - 1`` as layers are (see
        :func:`sample_layered`); keyword only.

    Returns
    -------
    numpy.ndarray
        Shape: the broadcast points (+ ``(C,)``). float32, except nearest sampling of
        non-normalized integer channels, which keeps their dtype.

    Raises
    ------
    ImageArrayValueError
        If ``faces`` is not ``6 * N`` square faces, a direction is zero or not finite,
        the sampler asks for seamless linear filtering, or it cannot read the channel
        type.
    ImageArrayTypeError
        If ``cube`` is not integers, or ``faces``' dtype does not store ``channel_type``.

    Examples
    --------
    >>> import numpy as np
    >>> faces = np.arange(6, dtype=np.float32).repeat(4).reshape(6, 2, 2)  # face f holds f
    >>> s = Sampler(coordinates="normalized")
    >>> sample_cubemap(faces, [[1, 0, 0], [0, -2, 1], [0, 0, -3]], s)
    array([0., 3., 5.], dtype=float32)
    """
    _check_sampler(sampler)
    faces = _asarray(faces, "faces")
    ct = _channel_type(faces, channel_type)
    sampler.check_channel_type(ct)
    read_ct = _filter_read_type(ct, sampler)
    if (
        sampler.cubemap_filtering is CubemapFilteringMode.SEAMLESS
        and sampler.filtering is FilteringMode.LINEAR
    ):
        raise ImageArrayValueError(
            "the reference does not model seamless cubemap filtering with linear "
            "filtering (taps across face edges); use cubemap_filtering='disjointed', or "
            "nearest filtering, with which seamless and disjointed read the same texel"
        )
    if faces.ndim not in (3, 4) or faces.shape[0] == 0 or faces.shape[0] % 6:
        raise ImageArrayValueError(
            "cubemap faces are an array (6 * N, size, size[, C]) of N >= 1 cubes, got an "
            f"array of shape {faces.shape}"
        )
    _, channels = _split_shape(faces[0], 2)
    if faces.shape[1] != faces.shape[2]:
        raise ImageArrayValueError(
            f"cubemap faces must be square (width == height), got height "
            f"{faces.shape[1]} and width {faces.shape[2]}"
        )
    face, u, v = cubemap_face(directions)
    cubes = _layer_indices(cube, faces.shape[0] // 6, "cube")
    coords, cubes = _broadcast_points(numpy.stack([u, v], axis=-1), cubes, "cube")
    layer = 6 * cubes + numpy.broadcast_to(face, cubes.shape)
    face_sampler = Sampler("clamp_to_edge", "normalized", sampler.filtering)
    # the border is never read (clamp to edge)
    texels, filter_sum, border = _level_input(faces, read_ct, face_sampler, channels)
    result = _sample_level(texels, coords, face_sampler, 2, border, layer, filter_sum)
    return numpy.asarray(_in_image_units(result, ct, read_ct))
