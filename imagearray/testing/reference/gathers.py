"""Texture gather: ``tex2Dgather`` (``gather_image``), the 2x2 footprint of one component.

:func:`gather` returns, for each point, component ``component`` of the four texels a
bilinear fetch at that point would blend, unfiltered, in CUDA's order. It shares the
addressing of :mod:`.sampling` (:func:`sampling._to_texel_space`,
:func:`sampling._address_index`) and its 8-bit rounding of ``x - 0.5``
(:func:`sampling._weight_steps`).
"""

from __future__ import annotations

from typing import Any

import numpy

from imagearray._enums import ChannelType
from imagearray._errors import ImageArrayTypeError, ImageArrayValueError
from imagearray._sampler import AddressingMode, Sampler
from imagearray.testing.reference.sampling import (
    _address_index,
    _border_texel,
    _check_sampler,
    _effective_mode,
    _float_coordinates,
    _floor_index,
    _to_texel_space,
    _weight_steps,
)
from imagearray.testing.reference.texels import _asarray, _channel_type, _split_shape, read_texels

__all__ = ["GATHER_ORDER", "gather"]

#: The texel each slot of a gather result holds, as (column, row) offsets from
#: ``(i0, j0) = (floor(x - 0.5), floor(y - 0.5))``: ``.x, .y, .z, .w``, counter-clockwise
#: from the lower left with y growing downwards (the PTX ISA's ``tld4``; checked on an
#: H200 against a bilinear fetch).
GATHER_ORDER = ((0, 1), (1, 1), (1, 0), (0, 0))


def _footprint(x: numpy.ndarray, extent: int, mode: AddressingMode, normalized: bool):
    """The two texel indices of one axis, ``[(index, inside), (index, inside)]``, for
    float32 coordinates ``x`` as :func:`gather` reads them."""
    if mode is AddressingMode.MIRRORED_REPEAT:
        # As the linear filter: the footprint of the unmirrored coordinate, its
        # indices mirrored (sampling._sample_level).
        t = _to_texel_space(x, extent, AddressingMode.CLAMP, True)
    else:
        t = _to_texel_space(x, extent, mode, normalized)
    xb = (t - numpy.float32(0.5)).astype(numpy.float32)
    # xB keeps 8 fractional bits, rounded as the filter weights are: a fraction that
    # rounds to 256/256 moves the footprint one texel on (the guide's x = 2.49805).
    i0 = _floor_index(xb) + (_weight_steps(xb - numpy.floor(xb)) >= 256)
    return [_address_index(i0, extent, mode), _address_index(i0 + 1, extent, mode)]


def _read_gathered(raw: numpy.ndarray, ct: ChannelType) -> numpy.ndarray:
    """The texels as a gather returns them: :func:`read_texels`, except ``snorm_int8``,
    which the gather widens to 16 bits first, by bit replication of the magnitude
    ``m = |v|``: ``q = 258 m + b`` with ``b`` bit 6 of ``m`` for ``v >= 0`` and of
    ``m - 1`` for ``v < 0``, at most 32767, read as ``snorm_int16`` (``q / 32767``):
    45 reads 11610/32767, 64 16513/32767, -64 -16512/32767, -65 -16771/32767 and -128
    -32767/32767 (all 256 values as an H200 returns them; the fetch reads v/127)."""
    if ct is not ChannelType.SNORM_INT8:
        return read_texels(raw, ct)
    v = raw.astype(numpy.int32)
    m = numpy.abs(v)
    b = (numpy.where(v < 0, m - 1, m) >> 6) & 1
    q = numpy.where(v < 0, -1, 1) * numpy.minimum(258 * m + b, 32767)
    return read_texels(q.astype(numpy.int16), ChannelType.SNORM_INT16)


def gather(
    data: Any,
    coords: Any,
    sampler: Sampler,
    component: int = 0,
    channel_type: ChannelType | str | None = None,
) -> numpy.ndarray:
    """Return what ``tex2Dgather`` (``gather_image``) reads at ``coords``: component
    ``component`` of each texel of the 2x2 footprint a bilinear fetch would blend.

    With ``xB = x - 0.5`` and ``yB = y - 0.5`` in texels (after coordinate
    normalization and wrap), each kept with 8 fractional bits (rounded as
    :func:`sampling._quantize_weight` rounds: the CUDA C++ Programming Guide's "Texture
    Gather" example, x = 2.49805, gathers columns 2 and 3), ``i0 = floor(xB)`` and
    ``j0 = floor(yB)``, the result's last axis is, in CUDA's order
    (:data:`GATHER_ORDER`)::

        [T(i0, j0 + 1), T(i0 + 1, j0 + 1), T(i0 + 1, j0), T(i0, j0)]

    ``T(i, j)`` is column ``i``, row ``j``, read through the sampler's addressing mode
    per axis as a bilinear fetch reads it: clamp-to-edge clamps each index to the
    image (assumed: OpenGL's and Direct3D's gather rule; the GPU tests are the judge),
    border (``clamp``) reads the border colour (stored in the channel type, as
    :func:`sample` stores it) outside the image, wrap and mirror fold the indices
    (mirror as the linear filter does: the unmirrored coordinate's footprint with
    mirrored indices). ``NONE`` wraps normalized coordinates and clamps unnormalized
    ones. The sampler's filtering does not matter: a gather does not filter.

    Coordinates are in texture order (x = width); ``data`` is in NumPy (C) order.

    Parameters
    ----------
    data : array_like
        The 2D image, C order: ``(height, width[, C])``.
    coords : array_like
        Coordinates, last axis ``(x, y)``; cast to float32.
    sampler : Sampler
        The sampler the texture was made with (its filtering is ignored).
    component : int, optional
        The channel gathered: 0 (x/r) up to the channel count - 1.
    channel_type : ChannelType or str, optional
        How ``data`` is read (see :func:`read_texels`); default: by its dtype.

    Returns
    -------
    numpy.ndarray
        Shape ``coords.shape[:-1] + (4,)``; float32 for normalized, ``fp16`` and
        ``fp32`` channels, ``data``'s dtype for the other integer types.

    Raises
    ------
    ImageArrayValueError
        If the shapes do not fit, a coordinate is not finite, or ``component`` is not
        a channel of ``data``.
    ImageArrayTypeError
        If ``data``'s dtype does not store ``channel_type``, or ``component`` is not an
        int.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.arange(9, dtype=np.float32).reshape(3, 3)  # T(i, j) = 3 j + i
    >>> gather(image, [1.0, 1.0], Sampler())  # i0 = j0 = 0
    array([3., 4., 1., 0.], dtype=float32)
    >>> gather(image, [[0.2, 0.2]], Sampler("clamp", border_color=(9, 9, 9, 9)))
    array([[9., 0., 9., 9.]], dtype=float32)
    """
    _check_sampler(sampler)
    data = _asarray(data, "data")
    ct = _channel_type(data, channel_type)
    extents, channels = _split_shape(data, 2)
    count = channels or 1
    if isinstance(component, (bool, numpy.bool_)) or not isinstance(
        component, (int, numpy.integer)
    ):
        raise ImageArrayTypeError(f"component must be an int, got {component!r}")
    if not 0 <= component < count:
        raise ImageArrayValueError(
            f"component={int(component)} is not a channel of a {count}-channel image: "
            f"0..{count - 1}"
        )
    coords = _float_coordinates(coords, 2, "coords")
    texels = _read_gathered(data, ct)
    border = _read_gathered(_border_texel(sampler, channels, ct), ct)
    if channels:
        texels, border = texels[..., component], border[component]
    axes = [
        _footprint(
            coords[..., d],
            extents[d],
            _effective_mode(sampler.addressing[d], sampler.normalized),
            sampler.normalized,
        )
        for d in range(2)
    ]
    slots = []
    for dx, dy in GATHER_ORDER:
        (i, i_in), (j, j_in) = axes[0][dx], axes[1][dy]
        slots.append(numpy.where(i_in & j_in, texels[j, i], border))
    return numpy.stack(slots, axis=-1).astype(texels.dtype)
