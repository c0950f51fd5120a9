"""Sampling one image: addressing, nearest-point sampling and linear filtering.

:func:`sample` reads one mip level as ``tex1D/tex2D/tex3D`` do, through
:func:`_sample_level`, which every other sampler of the package calls too: the
addressing modes (:func:`_to_texel_space`, :func:`_address_index`), the 8-bit
filter weights (:func:`_quantize_weight`) and the integer corner weights
(:func:`_corner_weights`). :func:`filter_tolerance` bounds what the reference cannot
pin down; :func:`fetch` reads texels exactly as stored.
"""

from __future__ import annotations

from typing import Any

import numpy

from imagearray._enums import ChannelType
from imagearray._errors import ImageArrayTypeError, ImageArrayValueError
from imagearray._sampler import AddressingMode, FilteringMode, Sampler
from imagearray.testing.reference.texels import (
    _AXES,
    _EXTENTS,
    _asarray,
    _channel_type,
    _coordinates,
    _filter_input,
    _filter_read_type,
    _FilterSum,
    _gather,
    _in_image_units,
    _is_dims,
    _split_shape,
    read_texels,
)

__all__ = ["fetch", "filter_tolerance", "sample"]

#: Texel coordinates are clipped to this magnitude: far beyond any image, so clamp and
#: border results are unchanged, and neither int64 indices nor float32 products overflow.
_COORD_LIMIT = float(2**30)


def _quantize_weight(frac: numpy.ndarray) -> numpy.ndarray:
    """Return a filter weight as the texture unit stores it: 9-bit fixed point, 8 bits of fraction.

    The guide says only that alpha, beta and gamma "are stored in 9-bit fixed point
    format with 8 bits of fractional value"; it does not say how the fraction is
    rounded. Measured tex1D results posted on NVIDIA's forum ("tex1D accuracy",
    forums.developer.nvidia.com/t/tex1d-accuracy/6801) show round to nearest: a
    fraction of 0.1 gives 26/256 and 0.3 gives 77/256, where truncation would give
    25/256 and 76/256. Ties (a fraction of exactly (k + 0.5)/256) round half up, as
    ``tools/probes/texture_unit_probe.cu`` measured on the H100 (256 of 256 ties). A
    fraction just below 1 rounds to 256/256 = 1.0, which the 9th (integer) bit
    represents. Coordinates that are not exactly representable in the hardware's
    fixed-point format may still land a weight on the other side of a step:
    :func:`filter_tolerance` bounds that for comparisons at arbitrary coordinates.

    Parameters
    ----------
    frac : numpy.ndarray
        Fractions in [0, 1).

    Returns
    -------
    numpy.ndarray
        float32 multiples of 1/256 in [0, 1].
    """
    return (_weight_steps(frac) / 256.0).astype(numpy.float32)


def _weight_steps(frac: numpy.ndarray) -> numpy.ndarray:
    """:func:`_quantize_weight` in steps of 1/256: int64 in [0, 256]."""
    # float64 keeps frac * 256 + 0.5 exact, so the rounding is decided by frac alone.
    scaled = numpy.asarray(frac, dtype=numpy.float64) * 256.0
    return numpy.floor(scaled + 0.5).astype(numpy.int64)


def _effective_mode(mode: AddressingMode, normalized: bool) -> AddressingMode:
    """Resolve ``NONE`` as :attr:`Sampler.cuda_address_modes` does: wrap or clamp."""
    if mode is AddressingMode.NONE:
        return AddressingMode.REPEAT if normalized else AddressingMode.CLAMP_TO_EDGE
    return mode


def _to_texel_space(x: numpy.ndarray, extent: int, mode: AddressingMode, normalized: bool):
    """Map a float32 coordinate to texel units, applying wrap/mirror as the guide does.

    The guide applies wrap and mirror to the normalized coordinate: wrap replaces x by
    ``frac(x) = x - floor(x)``; mirror by ``frac(x)`` if ``floor(x)`` is even and by
    ``1 - frac(x)`` if it is odd. The result is then scaled by the extent. Indices that
    still fall outside (x == 1.0 after mirroring, or the second texel of a linear
    filter) are folded by :func:`_address_index` with the same periodicity.
    """
    if normalized:
        if mode is AddressingMode.REPEAT:
            x = x - numpy.floor(x)
        elif mode is AddressingMode.MIRRORED_REPEAT:
            whole = numpy.floor(x)
            frac = x - whole
            x = numpy.where(numpy.mod(whole, 2) == 1, numpy.float32(1) - frac, frac)
        with numpy.errstate(over="ignore"):  # +-inf is clipped below
            x = x * numpy.float32(extent)
    # Only clamp and border reach the limit, and their results do not change there.
    return numpy.clip(x, -_COORD_LIMIT, _COORD_LIMIT).astype(numpy.float32)


def _address_index(i: numpy.ndarray, extent: int, mode: AddressingMode):
    """Return ``(index in [0, extent), inside)`` for integer texel indices ``i``.

    ``inside`` is False where ``CLAMP`` (border) addressing reads the border colour.
    Clamp-to-edge clamps; wrap is periodic with period ``extent``; mirror is periodic
    with period ``2 * extent`` and repeats the edge texel (index -1 reads 0, index
    ``extent`` reads ``extent - 1``), the continuation of the guide's mirror rule.
    """
    if mode is AddressingMode.REPEAT:
        return numpy.mod(i, extent), True
    if mode is AddressingMode.MIRRORED_REPEAT:
        m = numpy.mod(i, 2 * extent)
        return numpy.where(m >= extent, 2 * extent - 1 - m, m), True
    clipped = numpy.clip(i, 0, extent - 1)
    if mode is AddressingMode.CLAMP:
        return clipped, (i >= 0) & (i < extent)
    return clipped, True


def _floor_index(x: numpy.ndarray) -> numpy.ndarray:
    """``floor(x)`` as int64 (``x`` is within ``_COORD_LIMIT``)."""
    return numpy.floor(x).astype(numpy.int64)


def _sample_level(
    texels: numpy.ndarray,
    coords: numpy.ndarray,
    sampler: Sampler,
    dims: int,
    border: numpy.ndarray,
    layer: numpy.ndarray | None = None,
    filter_sum: _FilterSum | None = None,
) -> numpy.ndarray:
    """Sample one mip level: the guide's nearest-point sampling or linear filtering.

    ``texels`` are read already (:func:`read_texels`); ``coords`` are float32 with the
    last axis (x[, y[, z]]); ``border`` is the border colour in ``texels``' dtype, one
    value per channel. With ``layer`` (int64 indices in range, shaped as the points),
    ``texels`` has a leading layer axis and each point reads only its own layer: the
    taps of a filter never cross layers. :func:`sample_mipmap` calls this once per
    level, :func:`sample_layered` and :func:`sample_cubemap` once with ``layer``.
    Linear filtering needs ``filter_sum`` and ``texels`` (and ``border``) from
    :func:`_filter_input` (:func:`_level_input`).
    """
    lead = 0 if layer is None else 1
    extents = texels.shape[lead : lead + dims][::-1]
    has_channels = texels.ndim == lead + dims + 1
    # Per dimension: the texel indices each of its 1 (nearest) or 2 (linear) taps
    # reads and where they are inside the image (border addressing); for linear, the
    # axis' 8-bit weight of its second tap.
    taps: list[list[tuple[numpy.ndarray, Any]]] = []
    alphas: list[numpy.ndarray] = []
    for d in range(dims):
        mode = _effective_mode(sampler.addressing[d], sampler.normalized)
        if sampler.filtering is FilteringMode.LINEAR and mode is AddressingMode.MIRRORED_REPEAT:
            # The filter works on the unmirrored coordinate and mirrors the texel
            # indices (measured on the H100/H200: in a mirrored tile the bilinear
            # corner rule below takes its "1" corner at the unmirrored i + 1, which
            # is the mirrored i). The weights are the same either way.
            x = _to_texel_space(coords[..., d], extents[d], AddressingMode.CLAMP, True)
        else:
            x = _to_texel_space(coords[..., d], extents[d], mode, sampler.normalized)
        if sampler.filtering is FilteringMode.NEAREST:
            taps.append([_address_index(_floor_index(x), extents[d], mode)])
            continue
        xb = (x - numpy.float32(0.5)).astype(numpy.float32)
        if mode is AddressingMode.CLAMP_TO_EDGE:
            # The coordinate itself is clamped to the edge texels' centres (as OpenGL
            # defines clamp-to-edge): weight 0 on an axis outside. Only 3D shows it
            # (its corner weights do not sum per axis to the axis' weight).
            xb = numpy.clip(xb, numpy.float32(0), numpy.float32(extents[d] - 1))
        i = _floor_index(xb)
        taps.append([_address_index(i, extents[d], mode), _address_index(i + 1, extents[d], mode)])
        alphas.append(_weight_steps(xb - numpy.floor(xb)))

    def read(corner: tuple[int, ...]) -> numpy.ndarray:
        """The texels at one corner of the taps (the border colour outside)."""
        chosen = [taps[d][c] for d, c in enumerate(corner)]
        index = [index for index, _ in chosen]
        value = _gather(texels, index) if layer is None else texels[(layer, *index[::-1])]
        inside = numpy.logical_and.reduce(
            [numpy.broadcast_to(ok, coords.shape[:-1]) for _, ok in chosen]
        )
        if has_channels:
            inside = inside[..., None]
        return numpy.where(inside, value, border)

    if sampler.filtering is FilteringMode.NEAREST:
        return read((0,) * dims).astype(texels.dtype)
    values, weights = [], []
    for corner, weight in _corner_weights(alphas).items():
        values.append(read(corner).astype(numpy.float64))
        weights.append(weight[..., None] if has_channels else weight)
    return filter_sum(values, weights)


def _round_half(n: numpy.ndarray) -> numpy.ndarray:
    """``n / 256`` rounded half up (``n`` int64)."""
    return (n + 128) >> 8


def _corner_weights(alpha: list[numpy.ndarray]) -> dict[tuple[int, ...], numpy.ndarray]:
    """The linear filter's corner weights in 1/256 units, keyed by corner ``(x[, y[, z]])``
    (0: the tap at ``floor(xB)``, 1: the next one), from each axis' 8-bit weight
    ``alpha`` (int64, 0..256).

    Measured on the H100 and H200 (``tools/probes/sampling_diag.py``; every corner of
    60000 trilinear and 20000 bilinear samples): the weights are integers that sum to
    256, made by splitting in turn: along z (``256 - az``, ``az``), each z weight along
    x (``x1 = rh(ax wz)``, ``x0 = wz - x1``), each of those along y (``rh(x1 ay)`` for
    y = 1 beside x1, ``rh(x0 (256 - ay))`` for y = 0 beside x0, the rest the
    complement), ``rh`` rounding ``n / 256`` half up. In 2D this is
    ``w11 = rh(ax ay)``, ``w10 = ax - w11``, ``w01 = ay - w11``,
    ``w00 = 256 - ax - ay + w11``; in 1D ``256 - ax``, ``ax``.
    """
    dims = len(alpha)
    ax = alpha[0]
    if dims == 1:
        return {(0,): 256 - ax, (1,): ax}
    ay = alpha[1]
    out = {}
    for z, wz in ((0, 256 - alpha[2]), (1, alpha[2])) if dims == 3 else ((None, 256),):
        x1 = _round_half(ax * wz)
        x0 = wz - x1
        x1y1 = _round_half(x1 * ay)
        x0y0 = _round_half(x0 * (256 - ay))
        cells = {(0, 0): x0y0, (0, 1): x0 - x0y0, (1, 0): x1 - x1y1, (1, 1): x1y1}
        for (x, y), w in cells.items():
            out[(x, y) if z is None else (x, y, z)] = w
    return out


def sample(
    data: Any,
    coords: Any,
    sampler: Sampler,
    channel_type: ChannelType | str | None = None,
    *,
    dims: int,
    rounded: bool = True,
) -> numpy.ndarray:
    """Return what ``tex1D/tex2D/tex3D`` (``sample_image``) reads at ``coords``.

    Emulates one mip level of CUDA's texture unit: coordinate normalization,
    per-dimension addressing, nearest-point sampling (``T[floor(x)]``) or linear
    filtering (``xB = x - 0.5``, ``i = floor(xB)``, ``alpha = frac(xB)`` stored with 8
    fractional bits, ``(1 - alpha) T[i] + alpha T[i+1]``; in 2D and 3D integer corner
    weights (:func:`_corner_weights`), summed as the texture unit does for each texel
    format (:func:`_filter_input`)), each texel read through the addressing mode. ``NONE``
    addressing wraps with normalized coordinates and clamps to the edge with
    unnormalized ones, as :attr:`Sampler.cuda_address_modes` configures CUDA.

    Coordinates are in texture order (x = width); ``data`` is in NumPy (C) order.

    Parameters
    ----------
    data : array_like
        The image, C order: ``(width[, C])``, ``(height, width[, C])`` or
        ``(depth, height, width[, C])``.
    coords : array_like
        Coordinates, last axis ``(x[, y[, z]])``; cast to float32.
    sampler : Sampler
        The sampler the texture was made with.
    channel_type : ChannelType or str, optional
        How ``data`` is read (see :func:`read_texels`); default: by its dtype.
    dims : int
        Number of spatial axes of ``data`` (1, 2 or 3); keyword only.
    rounded : bool, optional
        For 8/16-bit integer channels filtered linearly (read normalized and scaled
        back to the image's units): True (default) rounds to nearest into their dtype,
        as integer return types get; False returns the unrounded float32, as float
        return types get. Keyword only.

    Returns
    -------
    numpy.ndarray
        Shape ``coords.shape[:-1]`` (+ ``(C,)`` with a channel axis). float32, except
        non-normalized integer channels, which keep their dtype (8/16-bit ones
        filtered linearly: see ``rounded``).

    Raises
    ------
    ImageArrayValueError
        If ``dims`` or the shapes do not fit, a coordinate is not finite, or the sampler
        cannot read the channel type (see :meth:`Sampler.check_channel_type`).
    ImageArrayTypeError
        If ``data``'s dtype does not store ``channel_type``.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.array([[0, 1], [2, 3]], np.float32)
    >>> sample(image, [1.0, 1.0], Sampler(filtering="linear"), dims=2)
    array(1.5, dtype=float32)
    >>> sample(image, [[0.5, 1.5], [9.0, -9.0]], Sampler("clamp_to_edge"), dims=2)
    array([2., 1.], dtype=float32)
    """
    _check_sampler(sampler)
    data = _asarray(data, "data")
    ct = _channel_type(data, channel_type)
    sampler.check_channel_type(ct)
    read_ct = _filter_read_type(ct, sampler)
    _, channels = _split_shape(data, dims)
    dims = int(dims)
    coords = _float_coordinates(coords, dims, "coords")
    texels, filter_sum, border = _level_input(data, read_ct, sampler, channels)
    result = _sample_level(texels, coords, sampler, dims, border, None, filter_sum)
    return numpy.asarray(_in_image_units(result, ct, read_ct, rounded))


def filter_tolerance(
    data: Any,
    sampler: Sampler,
    channel_type: ChannelType | str | None = None,
    *,
    dims: int,
    mip_blend: bool = False,
) -> float:
    """Return the absolute tolerance between a GPU read and this module's reference.

    The guide fixes a filter weight to 8 fractional bits but not how it gets there:
    :func:`_quantize_weight` rounds to nearest (as measured on the forum), truncation is
    as plausible, and the hardware's fixed-point coordinates can land a weight on the
    other side of a rounding step than float32 arithmetic does. Either way a weight is
    off by at most 1/256. The filter is linear in each weight, so a weight off by 1/256
    moves the result by at most ``span / 256`` (``span``: the range of the values it
    blends), and ``dims`` weights (one per axis; 2 for cubemap faces) by at most
    ``dims * span / 256``. ``mip_blend`` adds the weight between two mip levels. On
    top, a few float32 ulps of the largest value: normalized integer channels read as
    ``v / (2**n - 1)``, which the hardware need not round as NumPy does.

    With nearest filtering and no mip blend only the ulps remain, which is 0 for
    non-normalized integer channels: those compare exactly.

    Parameters
    ----------
    data : array_like or list of array_like
        The texels (all levels of a mipmap), stored as ``channel_type``.
    sampler : Sampler
        The sampler read with: its ``filtering`` and, for the border colour, its
        addressing.
    channel_type : ChannelType or str, optional
        How ``data`` is read (see :func:`read_texels`); default: by its dtype.
    dims : int
        Number of filter weights per level: the image's spatial axes (2 for cubemaps).
    mip_blend : bool, optional
        True when two mip levels are blended (``mipmap_filtering="linear"``).

    Returns
    -------
    float
        A non-negative absolute tolerance.

    Examples
    --------
    >>> import numpy as np
    >>> data = np.array([0.0, 1.0], np.float32)
    >>> filter_tolerance(data, Sampler(filtering="linear"), dims=1) == 1 / 256 + 8 * 2.0**-24
    True
    >>> filter_tolerance(np.array([0, 9], np.int32), Sampler(), dims=1)
    0.0
    """
    _check_sampler(sampler)
    if not _is_dims(dims, (1, 2, 3)):
        raise ImageArrayValueError(f"dims must be 1, 2 or 3, got dims={dims!r}")
    dims = int(dims)
    if not isinstance(mip_blend, (bool, numpy.bool_)):
        raise ImageArrayTypeError(f"mip_blend must be a bool, got {mip_blend!r}")
    arrays = data if isinstance(data, (list, tuple)) else [data]
    arrays = [_asarray(a, "data") for a in arrays]
    if not arrays or any(a.size == 0 for a in arrays):
        raise ImageArrayValueError("data holds no texels: the tolerance needs their range")
    values = [read_texels(a, channel_type).astype(numpy.float64) for a in arrays]
    if AddressingMode.CLAMP in tuple(sampler.addressing):
        values.append(numpy.asarray(sampler.border_color, numpy.float64))
    flat = numpy.concatenate([v.ravel() for v in values])
    span = float(flat.max() - flat.min())
    weights = (dims if sampler.filtering is FilteringMode.LINEAR else 0) + int(bool(mip_blend))
    ct = _channel_type(arrays[0], channel_type)
    exact = weights == 0 and not ct.is_normalized and not mip_blend
    ulps = 0.0 if exact else 8 * 2.0**-24 * float(numpy.abs(flat).max())
    return weights * span / 256 + ulps


def _check_sampler(sampler: Any) -> None:
    if not isinstance(sampler, Sampler):
        raise ImageArrayTypeError(
            f"sampler must be a Sampler, got {sampler!r} of type {type(sampler).__name__}"
        )


def _float_coordinates(
    values: Any, dims: int, name: str, what: str = "coordinates"
) -> numpy.ndarray:
    """Return real, finite coordinates (last axis of ``dims`` entries) as float32."""
    coords = _coordinates(values, dims, name)
    if not (
        numpy.issubdtype(coords.dtype, numpy.floating)
        or numpy.issubdtype(coords.dtype, numpy.integer)
    ):
        raise ImageArrayTypeError(f"{name} must be real numbers, got dtype {coords.dtype}")
    with numpy.errstate(over="ignore"):  # beyond float32: infinite, refused just below
        coords = coords.astype(numpy.float32)
    if not numpy.all(numpy.isfinite(coords)):
        raise ImageArrayValueError(
            f"the reference does not model non-finite {what}; got "
            f"{coords[~numpy.isfinite(coords)][:4].tolist()}"
        )
    return coords


def _border_texel(sampler: Sampler, channels: int | None, ct: ChannelType) -> numpy.ndarray:
    """The sampler's border colour as a texel of ``ct`` (one value per channel, a 0-d
    array without channels), which the texture unit then reads like any other.

    Normalized integer formats store the colour rounded to nearest, ties toward zero,
    on their steps (measured on the H100: 0.25 reads 64/255 in ``unorm_int8`` and
    32/127 in ``snorm_int8``, the tie 0.5 reads 127/255 and 63/127), clipped to the
    format's range; ``fp16`` rounds it to a half; the other integer formats take its
    value converted (C's float to int).
    """
    colour = numpy.asarray(sampler.border_color[: channels or 1], dtype=numpy.float64)
    if ct.is_normalized:
        info = numpy.iinfo(ct.dtype_name)
        top = float(info.max)
        colour = numpy.sign(colour) * numpy.ceil(numpy.abs(colour) * top - 0.5)
        colour = numpy.clip(colour, info.min, info.max)
    texel = colour.astype(ct.dtype_name)
    return texel if channels else texel[0]


def _level_input(
    data: numpy.ndarray, ct: ChannelType, sampler: Sampler, channels: int | None
) -> tuple[numpy.ndarray, _FilterSum | None, numpy.ndarray]:
    """:func:`_filter_input` of ``data`` with the border colour read the same way:
    ``(texels, filter_sum, border)`` for :func:`_sample_level`."""
    texels, filter_sum = _filter_input(data, ct, sampler)
    border, _ = _filter_input(_border_texel(sampler, channels, ct), ct, sampler)
    return texels, filter_sum, border


def fetch(
    data: Any, indices: Any, dims: int, channel_type: ChannelType | str | None = None
) -> numpy.ndarray:
    """Return the texels at integer ``indices`` exactly as stored (``fetch_image``).

    What a surface read or ``fetch_image`` returns: no addressing, no filtering and no
    normalization. CUDA surfaces trap on an out-of-range access by default; the
    reference raises instead.

    Parameters
    ----------
    data : array_like
        The image, C order (see :func:`sample`).
    indices : array_like of int
        Texel indices, last axis ``(x[, y[, z]])`` in texture order.
    dims : int
        Number of spatial axes of ``data`` (1, 2 or 3).
    channel_type : ChannelType or str, optional
        If given, ``data``'s dtype is checked against it.

    Returns
    -------
    numpy.ndarray
        Shape ``indices.shape[:-1]`` (+ ``(C,)``), ``data``'s dtype.

    Raises
    ------
    ImageArrayTypeError
        If ``indices`` are not integers.
    ImageArrayValueError
        If an index is outside the image (the message names the first one), or the
        shapes do not fit.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.arange(6, dtype=np.uint8).reshape(2, 3)
    >>> fetch(image, [[2, 0], [0, 1]], dims=2)
    array([2, 3], dtype=uint8)
    """
    data = _asarray(data, "data")
    _channel_type(data, channel_type)
    extents, _ = _split_shape(data, dims)
    dims = int(dims)
    indices = _coordinates(indices, dims, "indices")
    if not numpy.issubdtype(indices.dtype, numpy.integer):
        raise ImageArrayTypeError(f"indices must be integers, got dtype {indices.dtype}")
    bad = numpy.any((indices < 0) | (indices >= numpy.asarray(extents)), axis=-1)
    if numpy.any(bad):
        first = indices[bad][0]
        where = ", ".join(f"{a}={int(v)}" for a, v in zip(_AXES[:dims], first, strict=True))
        size = ", ".join(f"{e}={n}" for e, n in zip(_EXTENTS[:dims], extents, strict=True))
        raise ImageArrayValueError(
            f"texel index ({where}) is outside the image ({size}); "
            f"{int(numpy.count_nonzero(bad))} index(es) out of range"
        )
    return numpy.asarray(_gather(data, [indices[..., d] for d in range(dims)]))
