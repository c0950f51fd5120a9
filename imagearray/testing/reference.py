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
- Arithmetic is float32, as the hardware's is: coordinates are cast to float32 first.

Mip levels are not modelled yet: :func:`_sample_level` samples one level and is the
building block a future ``sample_mipmap`` (level from LOD, clamped to the sampler's
``min/max_mipmap_level_clamp``, one level or two blended per ``mipmap_filtering``)
will call once per level. Cubemaps are not modelled either.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy

from imagearray._enums import ChannelType
from imagearray._errors import ImageArrayTypeError, ImageArrayValueError
from imagearray._sampler import AddressingMode, FilteringMode, Sampler

__all__ = ["fetch", "read_texels", "sample"]

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
    data = numpy.asarray(data)
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


def _split_shape(data: numpy.ndarray, dims: int) -> tuple[tuple[int, ...], int | None]:
    """Return the extents in texture order (x, y, z) and the channel count (or None)."""
    if isinstance(dims, bool) or dims not in (1, 2, 3):
        raise ImageArrayValueError(f"dims must be 1, 2 or 3, got dims={dims!r}")
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
    array = numpy.asarray(values)
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
    25/256 and 76/256. Ties (a fraction of exactly (k + 0.5)/256) are rounded half
    up here; nothing documents them, and the GPU tests are the judge. A fraction just
    below 1 rounds to 256/256 = 1.0, which the 9th (integer) bit represents.

    Parameters
    ----------
    frac : numpy.ndarray
        Fractions in [0, 1).

    Returns
    -------
    numpy.ndarray
        float32 multiples of 1/256 in [0, 1].
    """
    # float64 keeps frac * 256 + 0.5 exact, so the rounding is decided by frac alone.
    scaled = numpy.asarray(frac, dtype=numpy.float64) * 256.0
    return (numpy.floor(scaled + 0.5) / 256.0).astype(numpy.float32)


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
) -> numpy.ndarray:
    """Sample one mip level: the guide's nearest-point sampling or linear filtering.

    ``texels`` are read already (:func:`read_texels`); ``coords`` are float32 with the
    last axis (x[, y[, z]]); ``border`` is the border colour in ``texels``' dtype, one
    value per channel. This is the per-level step a future mipmap reference builds on.
    """
    extents = texels.shape[:dims][::-1]
    has_channels = texels.ndim == dims + 1
    # Per dimension: the texel indices a tap reads, where they are inside the image
    # (border addressing), and the tap's weight, for each of the 1 or 2 taps.
    taps: list[list[tuple[numpy.ndarray, Any, numpy.ndarray | None]]] = []
    for d in range(dims):
        mode = _effective_mode(sampler.addressing[d], sampler.normalized)
        x = _to_texel_space(coords[..., d], extents[d], mode, sampler.normalized)
        if sampler.filtering is FilteringMode.NEAREST:
            taps.append([(*_address_index(_floor_index(x), extents[d], mode), None)])
            continue
        xb = (x - numpy.float32(0.5)).astype(numpy.float32)
        i = _floor_index(xb)
        alpha = _quantize_weight(xb - numpy.floor(xb))
        taps.append(
            [
                (*_address_index(i, extents[d], mode), numpy.float32(1) - alpha),
                (*_address_index(i + 1, extents[d], mode), alpha),
            ]
        )

    result = None
    # The guide's order: x varies fastest, e.g. T[i,j], T[i+1,j], T[i,j+1], T[i+1,j+1].
    for corner in itertools.product(*(range(len(t)) for t in reversed(taps))):
        chosen = [taps[d][c] for d, c in enumerate(reversed(corner))]
        value = _gather(texels, [index for index, _, _ in chosen])
        inside = numpy.logical_and.reduce(
            [numpy.broadcast_to(ok, coords.shape[:-1]) for _, ok, _ in chosen]
        )
        if has_channels:
            inside = inside[..., None]
        value = numpy.where(inside, value, border)
        weights = [w for _, _, w in chosen if w is not None]
        if not weights:
            return value.astype(texels.dtype)
        weight = weights[0]
        for w in weights[1:]:
            weight = weight * w
        if has_channels:
            weight = weight[..., None]
        term = (weight * value).astype(numpy.float32)
        result = term if result is None else (result + term).astype(numpy.float32)
    return result


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
    fractional bits, ``(1 - alpha) T[i] + alpha T[i+1]``, and its bilinear and
    trilinear products), each texel read through the addressing mode. ``NONE``
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
    if not isinstance(sampler, Sampler):
        raise ImageArrayTypeError(
            f"sampler must be a Sampler, got {sampler!r} of type {type(sampler).__name__}"
        )
    data = numpy.asarray(data)
    ct = _channel_type(data, channel_type)
    sampler.check_channel_type(ct)
    _, channels = _split_shape(data, dims)
    coords = _coordinates(coords, dims, "coords")
    if not (
        numpy.issubdtype(coords.dtype, numpy.floating)
        or numpy.issubdtype(coords.dtype, numpy.integer)
    ):
        raise ImageArrayTypeError(f"coords must be real numbers, got dtype {coords.dtype}")
    coords = coords.astype(numpy.float32)
    if not numpy.all(numpy.isfinite(coords)):
        raise ImageArrayValueError(
            "the reference does not model non-finite coordinates; got "
            f"{coords[~numpy.isfinite(coords)][:4].tolist()}"
        )
    texels = read_texels(data, ct)
    border = numpy.asarray(sampler.border_color[: channels or 1], dtype=numpy.float64)
    # The border colour is given as float; integer reads get its value converted.
    border = border.astype(texels.dtype) if channels else border[0].astype(texels.dtype)
    return numpy.asarray(_sample_level(texels, coords, sampler, dims, border))


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
    data = numpy.asarray(data)
    _channel_type(data, channel_type)
    extents, _ = _split_shape(data, dims)
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
