"""NumPy emulation of CUDA's texture unit, the reference GPU results are checked against.

Written from the CUDA C++ Programming Guide, appendix "Texture Fetching" (nearest-point
sampling, linear filtering with 9-bit fixed-point weights) and its description of the
addressing modes (clamp, border, wrap, mirror) and of the read modes (normalized
integer channels read as float). Where the guide is silent this module says what it
assumes; the GPU tests are the judge of those assumptions.

Conventions
-----------
- ``data`` is the image as a NumPy array in C order: 1D ``(width[, C])``, 2D
  ``(height, width[, C])``, 3D ``(depth, height, width[, C])``; ``dims`` (1, 2 or 3)
  says how many leading axes are spatial, so a trailing channel axis is never
  ambiguous. A texel has 1 to 4 channels.
- Coordinates and indices are in texture order: the last axis of ``coords`` /
  ``indices`` is ``(x[, y[, z]])`` with x along the width, as CUDA's ``tex2D(x, y)``.
- Coordinates are cast to float32 first, as the hardware takes them. The linear
  filter's arithmetic is the texture unit's own, measured where the guide is silent
  (on the H100 and H200, ``tools/probes/sampling_diag.py``): integer corner weights
  (:func:`_corner_weights`), 16-bit or block-floating-point sums per texel format
  (:func:`_filter_input`), mirrored repeat filtered in the unmirrored tile. It matched
  every raw sample measured (tens of thousands per format, 1D to 3D).

Beyond one image: :func:`sample_layered` (layered textures, filtered within a layer
only), :func:`sample_cubemap` with :func:`cubemap_face` (the guide's cubemap face
table, disjointed filtering), :func:`sample_mipmap` with :func:`lod_from_gradients`
(level clamped to the sampler's ``min/max_mipmap_level_clamp``, one level or two
blended per ``mipmap_filtering``) and :func:`box_pyramid` / :func:`box_weights`, an
exact box-filtered mip chain to sample. All of them call :func:`_sample_level`, which
samples one level (of one layer) as :func:`sample` does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy

from imagearray._enums import ChannelType
from imagearray._errors import ImageArrayTypeError, ImageArrayValueError
from imagearray._sampler import AddressingMode, CubemapFilteringMode, FilteringMode, Sampler

__all__ = [
    "CUBEMAP_FACES",
    "box_pyramid",
    "box_weights",
    "cubemap_face",
    "fetch",
    "filter_tolerance",
    "lod_from_gradients",
    "read_texels",
    "sample",
    "sample_cubemap",
    "sample_layered",
    "sample_mipmap",
]

#: NumPy dtype name -> the channel type of that storage read as-is (no normalization).
_PLAIN_CHANNEL_TYPE = {
    "int8": ChannelType.SIGNED_INT8,
    "int16": ChannelType.SIGNED_INT16,
    "int32": ChannelType.SIGNED_INT32,
    "uint8": ChannelType.UNSIGNED_INT8,
    "uint16": ChannelType.UNSIGNED_INT16,
    "uint32": ChannelType.UNSIGNED_INT32,
    "float16": ChannelType.FP16,
    "float32": ChannelType.FP32,
}
_AXES = "xyz"
_EXTENTS = ("width", "height", "depth")
#: Texel coordinates are clipped to this magnitude: far beyond any image, so clamp and
#: border results are unchanged, and neither int64 indices nor float32 products overflow.
_COORD_LIMIT = float(2**30)


# ----------------------------------------------------------------------------- texels


def _asarray(values: Any, name: str) -> numpy.ndarray:
    """``numpy.asarray(values)``, failing with a family error (e.g. ragged sequences)."""
    try:
        return numpy.asarray(values)
    except Exception as exc:
        raise ImageArrayValueError(
            f"{name} cannot be made an array ({type(exc).__name__}: {exc})"
        ) from None


def _is_dims(dims: Any, allowed: tuple[int, ...]) -> bool:
    """True when ``dims`` is an int (not a bool, not a float that equals one) in ``allowed``."""
    return (
        isinstance(dims, (int, numpy.integer))
        and not isinstance(dims, (bool, numpy.bool_))
        and int(dims) in allowed
    )


def _channel_type(data: numpy.ndarray, channel_type: ChannelType | str | None) -> ChannelType:
    """Return the channel type of ``data``: ``channel_type`` checked, or inferred."""
    if channel_type is None:
        try:
            return _PLAIN_CHANNEL_TYPE[data.dtype.name]
        except KeyError:
            raise ImageArrayTypeError(
                f"no channel type stores dtype {data.dtype.name!r}; allowed dtypes: "
                f"{', '.join(_PLAIN_CHANNEL_TYPE)}"
            ) from None
    if isinstance(channel_type, str):
        try:
            channel_type = ChannelType(channel_type.lower())
        except ValueError:
            allowed = ", ".join(repr(t.value) for t in ChannelType)
            raise ImageArrayValueError(
                f"channel_type={channel_type!r} is not a ChannelType; allowed: {allowed}"
            ) from None
    if not isinstance(channel_type, ChannelType):
        raise ImageArrayTypeError(
            f"channel_type must be a ChannelType, its string value or None, got "
            f"{channel_type!r} of type {type(channel_type).__name__}"
        )
    if data.dtype.name != channel_type.dtype_name:
        raise ImageArrayTypeError(
            f"channel type {channel_type.value!r} is stored as {channel_type.dtype_name}, "
            f"but the data has dtype {data.dtype.name}"
        )
    return channel_type


def read_texels(data: Any, channel_type: ChannelType | str | None = None) -> numpy.ndarray:
    """Return texels as the texture unit reads them, before any filtering.

    Normalized integer channels read as float32 (CUDA's ``cudaReadModeNormalizedFloat``):
    ``unorm``: ``v / (2**n - 1)``, in [0, 1]; ``snorm``: ``max(v / (2**(n-1) - 1), -1)``,
    in [-1, 1] (so -128 and -127 both read -1.0 for ``snorm_int8``). ``fp16`` reads as
    float32. ``fp32`` and the non-normalized integer types read unchanged, integers
    keeping their dtype (CUDA's ``CU_TRSF_READ_AS_INTEGER``).

    Parameters
    ----------
    data : array_like
        Texel storage, of the dtype ``channel_type`` is stored as.
    channel_type : ChannelType or str, optional
        How to read ``data``. Default: the non-normalized type of ``data``'s dtype
        (``uint8`` -> ``unsigned_int8``, ``float16`` -> ``fp16``, ...).

    Returns
    -------
    numpy.ndarray
        Same shape as ``data``; float32 for normalized, ``fp16`` and ``fp32`` channels,
        ``data``'s dtype for the other integer types.

    Raises
    ------
    ImageArrayTypeError
        If ``data``'s dtype is not the storage type of ``channel_type``, or no channel
        type stores it.

    Examples
    --------
    >>> import numpy as np
    >>> read_texels(np.array([0, 51, 255], np.uint8), "unorm_int8")
    array([0. , 0.2, 1. ], dtype=float32)
    >>> read_texels(np.array([-128, -127, 127], np.int8), "snorm_int8")
    array([-1., -1.,  1.], dtype=float32)
    """
    data = _asarray(data, "data")
    ct = _channel_type(data, channel_type)
    if ct.is_normalized:
        bits = 8 * ct.itemsize
        if ct.name.startswith("UNORM"):
            return data.astype(numpy.float32) / numpy.float32(2**bits - 1)
        scaled = data.astype(numpy.float32) / numpy.float32(2 ** (bits - 1) - 1)
        return numpy.maximum(scaled, numpy.float32(-1.0))
    if ct is ChannelType.FP16:
        return data.astype(numpy.float32)
    return data.copy()


#: How the linear filter adds up its taps for one texel format: ``finish(values,
#: weights)`` is the result (float32) from the taps' values (float64, in the units
#: :func:`_filter_input` gives) and their integer weights (1/256 units, summing to 256).
_FilterSum = Callable[[list[numpy.ndarray], list[numpy.ndarray]], numpy.ndarray]


def _grid_sum(grid: int) -> _FilterSum:
    """16-bit normalized texels: the exact sum rounded half up to the 1/``grid`` steps."""

    def finish(values, weights):
        total = sum(w * v for v, w in zip(values, weights)) / 256.0
        return numpy.floor(total + 0.5).astype(numpy.float32) / numpy.float32(grid)

    return finish


def _snorm8_sum(values, weights):
    """snorm_int8: the raw values summed as signed 8.8 fixed point ``t``, then scaled to
    the 1/32767 steps by ``t (1 + 257/32768)`` in integer steps:
    ``k = t + ((t >> 4) * 257 + 1024) >> 11``, clamped to -32767 (so 64 reads
    16513/32767 and -64 reads -16512/32767, -128 and -127 both -1)."""
    t = sum(w * v for v, w in zip(values, weights))
    k = t + numpy.floor((numpy.floor(t / 16) * 257 + 1024) / 2048)
    return numpy.maximum(k, -32767).astype(numpy.float32) / numpy.float32(32767)


def _block_float_sum(digits: int, min_exponent: int, dtype: Any) -> _FilterSum:
    """Float texels (``digits`` significand bits, ``min_exponent`` the smallest normal
    one): a block-floating-point sum. In each 2D slice (the 2 or 4 taps of one z; the
    taps come in :func:`_corner_weights`' order) every tap with a weight is cut
    (toward zero) to 4 bits below the significand of the slice's largest one; the
    weighted sum of all cut values is exact, rounded once to ``dtype`` with ties away
    from zero."""

    def finish(values, weights):
        total = 0.0
        for first in range(0, len(values), 4):
            group = list(zip(values[first : first + 4], weights[first : first + 4]))
            top = numpy.maximum.reduce(
                [
                    numpy.where((w > 0) & (v != 0), numpy.frexp(v)[1] - 1, min_exponent)
                    for v, w in group
                ]
            )
            step = numpy.ldexp(1.0, top - (digits - 1) - 4)
            total = total + sum(w * (numpy.trunc(v / step) * step) for v, w in group)
        return _round_half_away(total / 256.0, dtype).astype(numpy.float32)

    return finish


_FLOAT_SUMS = {
    ChannelType.FP32: _block_float_sum(24, -126, numpy.float32),
    ChannelType.FP16: _block_float_sum(11, -14, numpy.float16),
}


def _filter_input(
    data: numpy.ndarray, ct: ChannelType, sampler: Sampler
) -> tuple[numpy.ndarray, _FilterSum | None]:
    """``(texels, sum)`` for :func:`_sample_level`: the texel values the filter blends
    and how it adds them (None for nearest sampling, which reads :func:`read_texels`).

    Measured on the H100 and H200 (``tools/probes/sampling_diag.py``, every one of
    tens of thousands of raw samples per format in 1D, 2D and 3D): ``unorm_int8``
    widens to 16 bits as ``v * 257`` and ``unorm_int16`` stays ``v`` (1.0 = 65535),
    ``snorm_int16`` is ``max(v, -32767)`` (1.0 = 32767), each summed exactly and
    rounded half up to its 16-bit grid; ``snorm_int8`` sums its raw values
    (:func:`_snorm8_sum`); ``fp32`` and ``fp16`` add as :func:`_block_float_sum`.
    """
    if sampler.filtering is not FilteringMode.LINEAR:
        return read_texels(data, ct), None
    if ct in _FLOAT_SUMS:
        return data.astype(numpy.float64), _FLOAT_SUMS[ct]
    values = data.astype(numpy.int64)
    if ct is ChannelType.UNORM_INT8:
        return values * 257, _grid_sum(65535)
    if ct is ChannelType.UNORM_INT16:
        return values, _grid_sum(65535)
    if ct is ChannelType.SNORM_INT16:
        return numpy.maximum(values, -32767), _grid_sum(32767)
    if ct is ChannelType.SNORM_INT8:
        return values, _snorm8_sum
    # integer reads cannot be filtered: Sampler.check_channel_type refused them
    raise AssertionError(f"no linear filter for {ct}")


def _split_shape(data: numpy.ndarray, dims: int) -> tuple[tuple[int, ...], int | None]:
    """Return the extents in texture order (x, y, z) and the channel count (or None)."""
    if not _is_dims(dims, (1, 2, 3)):
        raise ImageArrayValueError(f"dims must be 1, 2 or 3, got dims={dims!r}")
    dims = int(dims)
    if data.ndim not in (dims, dims + 1):
        raise ImageArrayValueError(
            f"a {dims}D image is an array of {dims} spatial axes and an optional channel "
            f"axis, got an array of shape {data.shape}"
        )
    channels = data.shape[dims] if data.ndim == dims + 1 else None
    if channels is not None and not 1 <= channels <= 4:
        raise ImageArrayValueError(
            f"a texel has 1 to 4 channels, got {channels} (data shape {data.shape}, dims={dims})"
        )
    extents = data.shape[:dims][::-1]
    if 0 in extents:
        raise ImageArrayValueError(f"the image is empty: data shape {data.shape}, dims={dims}")
    return extents, channels


def _coordinates(values: Any, dims: int, name: str) -> numpy.ndarray:
    """Return ``values`` as an array whose last axis has ``dims`` entries (x, y, z)."""
    array = _asarray(values, name)
    if array.ndim == 0 or array.shape[-1] != dims:
        raise ImageArrayValueError(
            f"the last axis of {name} must hold the {dims} coordinate(s) "
            f"({', '.join(_AXES[:dims])}), got {name} of shape {array.shape}"
        )
    return array


def _gather(texels: numpy.ndarray, index: list[numpy.ndarray]) -> numpy.ndarray:
    """Read texels at per-dimension indices given in texture order (x, y, z)."""
    return texels[tuple(index[::-1])]


# ----------------------------------------------------------------------------- sampling


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


def _round_half_away(x: numpy.ndarray, dtype: Any) -> numpy.ndarray:
    """float64 ``x`` to ``dtype`` (float32 or float16), rounding to nearest with ties
    away from zero, as the texture unit rounds its filtered sum (NumPy's cast takes
    ties to even)."""
    dtype = numpy.dtype(dtype)
    near = x.astype(dtype)
    with numpy.errstate(over="ignore", invalid="ignore"):
        away = numpy.nextafter(near, numpy.copysign(numpy.inf, x).astype(dtype))
        gap = near.astype(numpy.float64) - x
        tie = (gap == x - away.astype(numpy.float64)) & (numpy.abs(near) < numpy.abs(away))
    return numpy.where(tie, away, near)


def sample(
    data: Any,
    coords: Any,
    sampler: Sampler,
    channel_type: ChannelType | str | None = None,
    *,
    dims: int,
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

    Returns
    -------
    numpy.ndarray
        Shape ``coords.shape[:-1]`` (+ ``(C,)`` with a channel axis). float32, except
        nearest sampling of non-normalized integer channels, which keeps their dtype.

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
    _, channels = _split_shape(data, dims)
    dims = int(dims)
    coords = _float_coordinates(coords, dims, "coords")
    texels, filter_sum, border = _level_input(data, ct, sampler, channels)
    return numpy.asarray(_sample_level(texels, coords, sampler, dims, border, None, filter_sum))


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


# ----------------------------------------------------------------------------- layers


def _layer_indices(values: Any, count: int, name: str) -> numpy.ndarray:
    """Return layer indices as the texture unit uses them, int64 in ``[0, count)``.

    PTX reads the layer (``tex.a1d``/``tex.a2d``) and the cube index (``tex.acube``) as
    "a 32-bit unsigned integer": the value is taken modulo 2**32 (so -1 is 2**32 - 1),
    then clamped to the last layer.
    """
    array = _asarray(values, name)
    if array.dtype == numpy.bool_ or not numpy.issubdtype(array.dtype, numpy.integer):
        raise ImageArrayTypeError(f"{name} must be integers, got dtype {array.dtype}")
    # int64 wrap-around of uint64 values keeps the residue modulo 2**32.
    u32 = array.astype(numpy.int64) & numpy.int64(0xFFFFFFFF)
    return numpy.minimum(u32, numpy.int64(count - 1))


def _broadcast_points(
    coords: numpy.ndarray, per_point: numpy.ndarray, name: str
) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Broadcast per-point values (a layer, a level) against the points of ``coords``."""
    try:
        shape = numpy.broadcast_shapes(coords.shape[:-1], per_point.shape)
    except ValueError:
        raise ImageArrayValueError(
            f"{name} of shape {per_point.shape} does not broadcast against the "
            f"{coords.shape[:-1]} points of coordinates of shape {coords.shape}"
        ) from None
    return (
        numpy.broadcast_to(coords, shape + coords.shape[-1:]),
        numpy.broadcast_to(per_point, shape),
    )


def sample_layered(
    data: Any,
    coords: Any,
    layers: Any,
    sampler: Sampler,
    channel_type: ChannelType | str | None = None,
    *,
    dims: int,
) -> numpy.ndarray:
    """Return what ``tex1DLayered/tex2DLayered`` reads at ``coords`` in layer ``layers``.

    The CUDA C++ Programming Guide, "Layered Textures": a layered texture is addressed
    by an integer layer index and coordinates within that layer, and "filtering is
    done only within a layer, not across layers". So each point samples its layer
    exactly as :func:`sample` samples ``data[layer]``: same addressing, nearest-point
    sampling or linear filtering, and border colour.

    Out-of-range layers are clamped, but not as signed numbers: the PTX ISA ("Texture
    Instructions: tex", ``tex.a1d``/``tex.a2d``) reads the layer as "a 32-bit unsigned
    integer". The index is taken modulo 2**32 (the ``int`` of ``tex2DLayered`` is
    passed as ``.u32``) and clamped to ``[0, L - 1]``: ``L`` and above read layer
    ``L - 1``, and so do negative indices (-1 is 2**32 - 1). The clamp itself is not
    documented by CUDA; the GPU tests are the judge.

    Coordinates are in texture order (x = width); ``data`` is in NumPy (C) order with
    the layer axis first.

    Parameters
    ----------
    data : array_like
        The layers, C order: ``(L, width[, C])`` or ``(L, height, width[, C])``.
    coords : array_like
        Coordinates within a layer, last axis ``(x[, y])``; cast to float32.
    layers : int or array_like of int
        Layer index of each point, broadcast against ``coords.shape[:-1]``.
    sampler : Sampler
        The sampler the texture was made with.
    channel_type : ChannelType or str, optional
        How ``data`` is read (see :func:`read_texels`); default: by its dtype.
    dims : int
        Number of spatial axes of a layer, 1 or 2 (CUDA has no layered 3D textures);
        keyword only.

    Returns
    -------
    numpy.ndarray
        Shape: the broadcast points (+ ``(C,)`` with a channel axis). float32, except
        nearest sampling of non-normalized integer channels, which keeps their dtype.

    Raises
    ------
    ImageArrayValueError
        If ``dims`` is not 1 or 2, the shapes do not fit, a coordinate is not finite,
        or the sampler cannot read the channel type.
    ImageArrayTypeError
        If ``layers`` are not integers, or ``data``'s dtype does not store
        ``channel_type``.

    See Also
    --------
    sample : the same on a single image.

    Examples
    --------
    >>> import numpy as np
    >>> layers = np.array([[1, 2], [10, 20]], np.float32)  # 2 layers of width 2
    >>> s = Sampler(filtering="linear")
    >>> sample_layered(layers, [[1.0], [1.0], [0.5]], [0, 1, 5], s, dims=1)
    array([ 1.5, 15. , 10. ], dtype=float32)
    """
    _check_sampler(sampler)
    if not _is_dims(dims, (1, 2)):
        raise ImageArrayValueError(
            f"a layered image has 1 or 2 spatial axes (tex1DLayered, tex2DLayered), "
            f"got dims={dims!r}"
        )
    dims = int(dims)
    data = _asarray(data, "data")
    ct = _channel_type(data, channel_type)
    sampler.check_channel_type(ct)
    if data.ndim not in (dims + 1, dims + 2) or data.shape[0] == 0:
        raise ImageArrayValueError(
            f"a layered {dims}D image is an array of a layer axis, {dims} spatial axes "
            f"and an optional channel axis, with at least one layer; got an array of "
            f"shape {data.shape}"
        )
    _, channels = _split_shape(data[0], dims)
    coords = _float_coordinates(coords, dims, "coords")
    layer = _layer_indices(layers, data.shape[0], "layers")
    coords, layer = _broadcast_points(coords, layer, "layers")
    texels, filter_sum, border = _level_input(data, ct, sampler, channels)
    return numpy.asarray(_sample_level(texels, coords, sampler, dims, border, layer, filter_sum))


# ----------------------------------------------------------------------------- cubemaps

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
    texels, filter_sum, border = _level_input(faces, ct, face_sampler, channels)
    return numpy.asarray(_sample_level(texels, coords, face_sampler, 2, border, layer, filter_sum))


# ----------------------------------------------------------------------------- mipmaps


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
    assumptions the GPU tests are the judge of. ``max_anisotropy`` plays no part: an
    explicit level selects no anisotropic footprint.

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
    levels = [_level_input(array, ct, sampler, channels) for array in arrays]
    texel_levels = [texels for texels, _, _ in levels]
    _, filter_sum, border = levels[0]

    def at(chosen: numpy.ndarray) -> numpy.ndarray:
        return _sample_levels(
            texel_levels, coords, chosen, sampler, dims, border, channels, filter_sum
        )

    if sampler.mipmap_filtering is FilteringMode.NEAREST:
        # float64: lod + 0.5 in float32 would round 0.49999997 up to 1.0.
        return at(numpy.floor(lod.astype(numpy.float64) + 0.5).astype(numpy.int64))
    low = numpy.floor(lod).astype(numpy.int64)
    high = numpy.minimum(low + 1, len(arrays) - 1)
    weight = _quantize_weight(lod - numpy.floor(lod))  # 0 where lod is the last level
    if channels:
        weight = weight[..., None]
    one = numpy.float32(1)
    first = ((one - weight) * at(low)).astype(numpy.float32)
    return (first + (weight * at(high)).astype(numpy.float32)).astype(numpy.float32)


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


# ----------------------------------------------------------------------------- pyramids


def _box_overlaps(n: int) -> numpy.ndarray:
    """Return ``(m, n)`` int64 overlaps, in units of ``1/m`` texel, of output and input texels.

    Output texel i covers ``[i*r, (i+1)*r)`` of the input, ``r = n/m``; in units of
    ``1/m`` that is ``[i*n, (i+1)*n)``, and input texel j is ``[j*m, (j+1)*m)``.
    Integer arithmetic keeps the weights exact: weight = overlap / n.
    """
    m = max(1, n // 2)
    i = numpy.arange(m, dtype=numpy.int64)[:, None]
    j = numpy.arange(n, dtype=numpy.int64)[None, :]
    low = numpy.maximum(j * m, i * n)
    high = numpy.minimum((j + 1) * m, (i + 1) * n)
    return numpy.maximum(high - low, 0)


#: Largest ``n`` of :func:`box_weights`: its (n // 2) x n float64 matrix is then 1 GiB.
_MAX_BOX_WEIGHTS = 1 << 14


def _check_extent(n: Any, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, numpy.integer)) or n < 1:
        raise ImageArrayValueError(f"{name} must be a positive integer, got {n!r}")
    return int(n)


def box_weights(n: int) -> numpy.ndarray:
    """Return the exact area-weighted box filter from ``n`` texels to ``max(1, n // 2)``.

    Output texel ``i`` averages the input over ``[i*r, (i+1)*r)``, ``r = n / m``; input
    texel ``j`` covers ``[j, j+1)`` and weighs the length of its overlap divided by
    ``r``. For even ``n`` that is the mean of texels ``2i`` and ``2i+1``; for odd ``n``
    the texel straddling two outputs is shared. This is the filter
    :func:`box_pyramid` applies along each axis, for a GPU kernel to check against.

    Parameters
    ----------
    n : int
        The input extent, >= 1.

    Returns
    -------
    numpy.ndarray
        float64, shape ``(max(1, n // 2), n)``; each row sums to 1 (to rounding); each
        weight is ``k / n`` for an integer ``k``.

    Raises
    ------
    ImageArrayValueError
        If ``n`` is not a positive integer, or is above 16384 (the dense matrix would
        need more than 1 GiB).

    Examples
    --------
    >>> box_weights(4)
    array([[0.5, 0.5, 0. , 0. ],
           [0. , 0. , 0.5, 0.5]])
    >>> box_weights(5) * 5  # r = 2.5: (x0 + x1 + x2/2)/2.5 and (x2/2 + x3 + x4)/2.5
    array([[2., 2., 1., 0., 0.],
           [0., 0., 1., 2., 2.]])
    """
    n = _check_extent(n, "n")
    if n > _MAX_BOX_WEIGHTS:
        # The matrix is dense, (n // 2) x n float64: refuse before asking for gigabytes.
        raise ImageArrayValueError(
            f"n={n} is too large for a dense weight matrix ({max(1, n // 2)} x {n}); "
            f"at most {_MAX_BOX_WEIGHTS}"
        )
    return _box_overlaps(n) / n


def _store(values: numpy.ndarray, dtype: numpy.dtype) -> numpy.ndarray:
    """Store float64 values as ``dtype``: floats round to nearest; integers rint and clip."""
    if dtype.kind == "f":
        return values.astype(dtype)
    info = numpy.iinfo(dtype)
    return numpy.clip(numpy.rint(values), info.min, info.max).astype(dtype)


def box_pyramid(
    data: Any,
    num_levels: int,
    *,
    dims: int,
    channel_type: ChannelType | str | None = None,
) -> list[numpy.ndarray]:
    """Return the mip chain of ``data`` made by an exact area-weighted box filter.

    Level ``l + 1`` is made from the stored level ``l`` (not from level 0), separably:
    along each spatial axis, :func:`box_weights` maps its ``n`` texels to
    ``max(1, n // 2)``, so level ``l`` has the extents ``max(1, n >> l)`` CUDA gives
    mip levels. Channels are filtered independently. The sums are taken in float64 on
    integer multiples of the texels and divided once by the product of the extents,
    so the average is exact before it is stored, as long as the sums stay below 2**53
    (always for 8- and 16-bit texels in images of up to 2**37 texels).

    Storage: ``float32`` and ``float16`` levels round to nearest; integer levels
    (normalized or not) round half to even (:func:`numpy.rint`) and are clipped to the
    dtype's range. Normalized channels are averaged as their stored integers, which is
    averaging the values they read as (``v / (2**n - 1)`` is linear), except for the
    most negative ``snorm`` value, which reads -1.0 like the one above it.

    Parameters
    ----------
    data : array_like
        Level 0, C order: ``(width[, C])``, ``(height, width[, C])`` or
        ``(depth, height, width[, C])``. Returned as the first level, unchanged.
    num_levels : int
        Number of levels, 1 to ``1 + floor(log2(max extent))``.
    dims : int
        Number of spatial axes (1, 2 or 3); keyword only.
    channel_type : ChannelType or str, optional
        If given, ``data``'s dtype is checked against it; keyword only.

    Returns
    -------
    list of numpy.ndarray
        ``num_levels`` arrays of ``data``'s dtype, level 0 first (``data`` itself as an
        array), ready for :func:`sample_mipmap`.

    Raises
    ------
    ImageArrayValueError
        If ``num_levels`` is not an integer in range, or the shapes do not fit ``dims``.
    ImageArrayTypeError
        If no channel type stores ``data``'s dtype, or it is not ``channel_type``'s.

    Examples
    --------
    >>> import numpy as np
    >>> levels = box_pyramid(np.array([0, 1, 2, 4, 8], np.uint8), 3, dims=1)
    >>> [level.tolist() for level in levels]  # (0 + 1 + 1)/2.5 = 0.8, (1 + 4 + 8)/2.5 = 5.2
    [[0, 1, 2, 4, 8], [1, 5], [3]]
    """
    data = _asarray(data, "data")
    _channel_type(data, channel_type)
    extents, _ = _split_shape(data, dims)
    dims = int(dims)
    most = max(extents).bit_length()
    if isinstance(num_levels, bool) or not isinstance(num_levels, (int, numpy.integer)):
        raise ImageArrayValueError(f"num_levels must be an integer, got {num_levels!r}")
    if not 1 <= num_levels <= most:
        raise ImageArrayValueError(
            f"num_levels={num_levels} is out of range: an image of extents {extents} has "
            f"1 to {most} mip levels"
        )
    levels = [data]
    for _ in range(1, int(num_levels)):
        previous = levels[-1]
        total = previous.astype(numpy.float64)
        divisor = 1
        for axis in range(dims):
            n = previous.shape[axis]
            overlaps = _box_overlaps(n).astype(numpy.float64)
            total = numpy.moveaxis(numpy.tensordot(overlaps, total, axes=([1], [axis])), 0, axis)
            divisor *= n
        levels.append(_store(total / divisor, data.dtype))
    return levels
