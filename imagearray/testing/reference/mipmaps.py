"""Mipmapped textures: ``tex1DLod/tex2DLod/tex3DLod`` and the level of detail.

:func:`sample_mipmap` clamps the level to the sampler's ``min/max_mipmap_level_clamp``
and samples one level or blends two per ``mipmap_filtering``;
:func:`lod_from_gradients` picks the level from viewing gradients.
"""

from __future__ import annotations

from typing import Any

import numpy

from imagearray._enums import ChannelType
from imagearray._errors import ImageArrayTypeError, ImageArrayValueError
from imagearray._sampler import FilteringMode, Sampler
from imagearray.testing.reference.sampling import (
    _check_sampler,
    _float_coordinates,
    _level_input,
    _quantize_weight,
    _sample_level,
)
from imagearray.testing.reference.texels import (
    _EXTENTS,
    _asarray,
    _broadcast_points,
    _channel_type,
    _filter_read_type,
    _FilterSum,
    _in_image_units,
    _is_dims,
    _split_shape,
)

__all__ = ["lod_from_gradients", "sample_mipmap"]


def _mip_levels(
    levels: Any, channel_type: ChannelType | str | None, dims: int
) -> tuple[list[numpy.ndarray], ChannelType, int | None]:
    """Check a mip chain: level l has extents ``max(1, n >> l)``, one dtype, one channel count."""
    if not isinstance(levels, (list, tuple)):
        raise ImageArrayTypeError(
            f"levels must be a list or tuple of arrays, level 0 first, got {type(levels).__name__}"
        )
    if not levels:
        raise ImageArrayValueError("levels is empty: a mipmap has at least one level")
    arrays = [_asarray(level, f"levels[{i}]") for i, level in enumerate(levels)]
    ct = _channel_type(arrays[0], channel_type)
    extents0, channels = _split_shape(arrays[0], dims)
    most = max(extents0).bit_length()  # 1 + floor(log2(largest extent))
    if len(arrays) > most:
        raise ImageArrayValueError(
            f"{len(arrays)} levels given, but a mipmap of extents {extents0} has at most "
            f"{most} (the last one 1 texel wide in its largest dimension)"
        )
    for index, array in enumerate(arrays[1:], start=1):
        if array.dtype != arrays[0].dtype:
            raise ImageArrayTypeError(
                f"level {index} has dtype {array.dtype}, level 0 has {arrays[0].dtype}: "
                "all levels are stored alike"
            )
        extents, level_channels = _split_shape(array, dims)
        expected = tuple(max(1, n >> index) for n in extents0)
        if extents != expected or level_channels != channels:
            raise ImageArrayValueError(
                f"level {index} has shape {array.shape}; with level 0 of shape "
                f"{arrays[0].shape} it must have extents max(1, n >> {index}) = "
                f"{expected} (texture order) and the same channel axis"
            )
    return arrays, ct, channels


def _sample_levels(
    texel_levels: list[numpy.ndarray],
    coords: numpy.ndarray,
    chosen: numpy.ndarray,
    sampler: Sampler,
    dims: int,
    border: numpy.ndarray,
    channels: int | None,
    filter_sum: _FilterSum | None = None,
) -> numpy.ndarray:
    """Sample each point on its level ``chosen``: one vectorised call per level used."""
    nearest = sampler.filtering is FilteringMode.NEAREST
    dtype = texel_levels[0].dtype if nearest else numpy.dtype(numpy.float32)
    out = numpy.empty(chosen.shape + ((channels,) if channels else ()), dtype)
    for level in numpy.unique(chosen):
        mask = chosen == level
        out[mask] = _sample_level(
            texel_levels[level], coords[mask], sampler, dims, border, None, filter_sum
        )
    return out


def sample_mipmap(
    levels: Any,
    coords: Any,
    sampler: Sampler,
    channel_type: ChannelType | str | None = None,
    *,
    dims: int,
    level: Any,
    rounded: bool = True,
) -> numpy.ndarray:
    """Return what ``tex1DLod/tex2DLod/tex3DLod`` (``sample_mipmap`` with a level) reads.

    The level of detail (LOD) is clamped to the sampler's ``[min_mipmap_level_clamp,
    max_mipmap_level_clamp]`` (``cudaTextureDesc::minMipmapLevelClamp`` and
    ``maxMipmapLevelClamp``, float32) and then to the levels that exist,
    ``[0, len(levels) - 1]``. Then, per the sampler's ``mipmap_filtering``
    (``cudaTextureDesc::mipmapFilterMode``):

    - ``NEAREST``: the level ``floor(lod + 0.5)`` (round half up) is sampled;
    - ``LINEAR``: levels ``l = floor(lod)`` and ``l + 1`` are sampled and blended,
      ``(1 - f) T_l + f T_(l+1)``, with the fraction ``f = lod - l`` stored like a
      texel filter weight: 9-bit fixed point with 8 fractional bits, rounded to
      nearest (:func:`_quantize_weight`).

    Each level is sampled as :func:`sample` samples an image, at the same normalized
    coordinates, with the sampler's addressing and ``filtering``. The guide gives no
    rule for choosing or blending levels (only that they exist and are clamped), so
    the rounding of ``NEAREST`` and the precision of the ``LINEAR`` fraction are
    assumptions the GPU tests are the judge of. Measured on the H200
    (tools/probes/mip_blend_weight.py): the level weight a blend implies, ``(B - T_l)
    / (T_(l+1) - T_l)`` over points whose levels differ by a tenth of the span or
    more, has the model's median to 1e-4 but spreads by up to 0.05 point to point,
    for float and 16-bit images alike and with the driver's trilinear optimization
    disabled or not: a blend is not exactly a mix of the two levels as each reads
    alone, and :func:`filter_tolerance` (``mip_blend``) bounds the difference.
    ``max_anisotropy`` plays no part: an explicit level selects no anisotropic
    footprint.

    Mipmapped textures are sampled with normalized coordinates here: the spec's
    mipmaps are, and the meaning of unnormalized coordinates on levels of different
    sizes is not documented, so unnormalized samplers are refused.

    Coordinates are in texture order (x = width); levels are in NumPy (C) order.

    Parameters
    ----------
    levels : list of array_like
        The mip chain, level 0 first: level ``l`` has extents ``max(1, n >> l)`` of
        level 0's ``n``, the same dtype and the same channel axis (see
        :func:`box_pyramid` to make one). At most ``1 + floor(log2(max extent))``.
    coords : array_like
        Normalized coordinates, last axis ``(x[, y[, z]])``; cast to float32.
    sampler : Sampler
        The sampler the texture was made with; normalized coordinates.
    channel_type : ChannelType or str, optional
        How the levels are read (see :func:`read_texels`); default: by their dtype.
    dims : int
        Number of spatial axes (1, 2 or 3); keyword only.
    level : float or array_like
        The LOD of each point, broadcast against ``coords.shape[:-1]``; cast to float32;
        may be infinite (clamped); keyword only. See :func:`lod_from_gradients`.
    rounded : bool, optional
        As for :func:`~imagearray.testing.reference.sample`: 8/16-bit integer channels
        filtered linearly come back rounded into their dtype (default) or unrounded.

    Returns
    -------
    numpy.ndarray
        Shape: the broadcast points (+ ``(C,)``). float32, except nearest sampling and
        nearest mipmap filtering of non-normalized integer channels, which keep their
        dtype.

    Raises
    ------
    ImageArrayValueError
        If the levels' shapes do not form a mip chain, the sampler is unnormalized or
        cannot read the channel type, or a coordinate or level is NaN (a coordinate
        also if infinite).
    ImageArrayTypeError
        If ``levels`` is not a list or tuple, the levels' dtypes differ or do not store
        ``channel_type``, or ``level`` is not real numbers.

    Examples
    --------
    >>> import numpy as np
    >>> levels = [np.full(4, 1.0, np.float32), np.full(2, 2.0, np.float32)]
    >>> s = Sampler(coordinates="normalized", mipmap_filtering="linear",
    ...             max_mipmap_level_clamp=1.0)
    >>> sample_mipmap(levels, [[0.5], [0.5], [0.5]], s, dims=1, level=[0.25, 1.0, 7.0])
    array([1.25, 2.  , 2.  ], dtype=float32)
    """
    _check_sampler(sampler)
    if not sampler.normalized:
        raise ImageArrayValueError(
            "the reference samples mipmaps with normalized coordinates only: use "
            "Sampler(coordinates='normalized', ...)"
        )
    arrays, ct, channels = _mip_levels(levels, channel_type, dims)
    sampler.check_channel_type(ct)
    read_ct = _filter_read_type(ct, sampler)
    coords = _float_coordinates(coords, dims, "coords")
    lod = _asarray(level, "level")
    if lod.dtype == numpy.bool_ or not (
        numpy.issubdtype(lod.dtype, numpy.floating) or numpy.issubdtype(lod.dtype, numpy.integer)
    ):
        raise ImageArrayTypeError(f"level must be real numbers, got dtype {lod.dtype}")
    lod = lod.astype(numpy.float32)
    if numpy.any(numpy.isnan(lod)):
        raise ImageArrayValueError("the reference does not model a NaN level of detail")
    coords, lod = _broadcast_points(coords, lod, "level")
    lod = numpy.clip(
        lod,
        numpy.float32(sampler.min_mipmap_level_clamp),
        numpy.float32(sampler.max_mipmap_level_clamp),
    )
    lod = numpy.clip(lod, numpy.float32(0), numpy.float32(len(arrays) - 1))
    levels = [_level_input(array, read_ct, sampler, channels) for array in arrays]
    texel_levels = [texels for texels, _, _ in levels]
    _, filter_sum, border = levels[0]

    def at(chosen: numpy.ndarray) -> numpy.ndarray:
        return _sample_levels(
            texel_levels, coords, chosen, sampler, dims, border, channels, filter_sum
        )

    if sampler.mipmap_filtering is FilteringMode.NEAREST:
        # float64: lod + 0.5 in float32 would round 0.49999997 up to 1.0.
        nearest = at(numpy.floor(lod.astype(numpy.float64) + 0.5).astype(numpy.int64))
        return _in_image_units(nearest, ct, read_ct, rounded)
    low = numpy.floor(lod).astype(numpy.int64)
    high = numpy.minimum(low + 1, len(arrays) - 1)
    weight = _quantize_weight(lod - numpy.floor(lod))  # 0 where lod is the last level
    if channels:
        weight = weight[..., None]
    one = numpy.float32(1)
    first = ((one - weight) * at(low)).astype(numpy.float32)
    blend = (first + (weight * at(high)).astype(numpy.float32)).astype(numpy.float32)
    return _in_image_units(blend, ct, read_ct, rounded)


def lod_from_gradients(dx: Any, dy: Any, sizes: Any, *, dims: int) -> numpy.ndarray:
    """Return the level of detail isotropic filtering picks for gradients ``dx``, ``dy``.

    ``sample_mipmap`` with viewing gradients (``tex1DGrad/tex2DGrad/tex3DGrad``) picks
    the level from the screen-space derivatives of the coordinates. The CUDA C++
    Programming Guide gives no formula; this is the OpenGL specification's isotropic
    one (section "Scale Factor and Level of Detail"): each gradient is scaled to
    texels of level 0 (``dx * size`` per axis), its Euclidean length taken, and
    ``lod = log2(max(|dx * size|, |dy * size|))``. Zero gradients give ``-inf``, which
    the level clamp turns into level 0.

    The hardware computes the lengths and the logarithm with limited precision, and
    with ``max_anisotropy > 1`` it may use the minor axis and several taps instead;
    neither is modelled. GPU tests check only the clear cases: zero gradients read
    level 0, and a gradient of ``2**k`` texels along one axis reads level ``k``.

    Gradients are in texture order (x = width), in normalized coordinates.

    Parameters
    ----------
    dx, dy : array_like
        Derivatives of the normalized coordinates along the screen's x and y, last axis
        ``(x[, y[, z]])``; broadcast against each other.
    sizes : sequence of int
        Level 0's extents in texture order ``(width[, height[, depth]])``: ``dims``
        positive integers.
    dims : int
        Number of spatial axes (1, 2 or 3); keyword only.

    Returns
    -------
    numpy.ndarray
        float32 LOD, shape of the broadcast points; ``-inf`` for zero gradients.

    Raises
    ------
    ImageArrayValueError
        If the shapes do not fit, a gradient is not finite, or ``sizes`` are not
        ``dims`` positive integers.

    Examples
    --------
    >>> lod_from_gradients([[0.0, 0.0], [0.25, 0.0]], [[0.0, 0.0], [0.0, 0.125]],
    ...                    (16, 16), dims=2).tolist()
    [-inf, 2.0]
    """
    if not _is_dims(dims, (1, 2, 3)):
        raise ImageArrayValueError(f"dims must be 1, 2 or 3, got dims={dims!r}")
    dims = int(dims)
    gx = _float_coordinates(dx, dims, "dx", "gradients").astype(numpy.float64)
    gy = _float_coordinates(dy, dims, "dy", "gradients").astype(numpy.float64)
    size_array = _asarray(sizes, "sizes") if not isinstance(sizes, (str, bytes)) else None
    if (
        size_array is None
        or size_array.shape != (dims,)
        or size_array.dtype == numpy.bool_
        or not numpy.issubdtype(size_array.dtype, numpy.integer)
        or not numpy.all(size_array > 0)
    ):
        raise ImageArrayValueError(
            f"sizes must be {dims} positive integer extent(s) in texture order "
            f"({', '.join(_EXTENTS[:dims])}), got {sizes!r}"
        )
    scale = size_array.astype(numpy.float64)
    length_x = numpy.sqrt(numpy.sum((gx * scale) ** 2, axis=-1))
    length_y = numpy.sqrt(numpy.sum((gy * scale) ** 2, axis=-1))
    try:
        rho = numpy.maximum(length_x, length_y)
    except ValueError:
        raise ImageArrayValueError(
            f"dx of shape {gx.shape} and dy of shape {gy.shape} do not broadcast"
        ) from None
    with numpy.errstate(divide="ignore"):
        return numpy.log2(rho).astype(numpy.float32)
