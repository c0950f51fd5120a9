"""Texels: how the texture unit reads what is stored, and what its linear filter adds up.

:func:`read_texels` reads texels as the read modes define (normalized integer
channels as float); :func:`_filter_input` gives, per texel format, the values the
linear filter blends and how it sums them (16-bit grids, :func:`_snorm8_sum`,
:func:`_block_float_sum`). Also the shape and coordinate checks the other modules
share (:func:`_split_shape`, :func:`_coordinates`, :func:`_broadcast_points`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy

from imagearray._enums import ChannelType
from imagearray._errors import ImageArrayTypeError, ImageArrayValueError
from imagearray._sampler import FilteringMode, Sampler

__all__ = ["read_texels"]

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


def _filter_read_type(ct: ChannelType, sampler: Sampler) -> ChannelType:
    """The channel type the texture unit reads ``ct`` as under ``sampler``: an 8/16-bit
    integer type sampled with a linear filter (within or between levels) is read as
    its normalized twin (``ChannelType.filter_twin``: imagearray makes its texture
    without ``CU_TRSF_READ_AS_INTEGER``, the driver filters that), ``ct`` otherwise."""
    twin = ct.filter_twin
    if twin is not None and sampler.filters:
        return twin
    return ct


def _in_image_units(
    result: numpy.ndarray, ct: ChannelType, read_ct: ChannelType, rounded: bool = True
) -> numpy.ndarray:
    """A sample read as ``read_ct`` back in the units of ``ct``: the normalized result
    times ``ct.filter_scale`` in float32 (as imagearray's kernels and ia::sample_image
    compute it), rounded to nearest with ties to even into ``ct``'s dtype (integer
    return types) or left unrounded as float32 (``rounded=False``: float return
    types). Normalized int8 reads -128 as -1.0, like -127, so -128 comes back -127
    (int16: -32768 as -32767)."""
    if read_ct is ct:
        return result
    scaled = numpy.asarray(result, numpy.float32) * numpy.float32(ct.filter_scale)
    if not rounded:
        return scaled.astype(numpy.float32)
    return numpy.rint(scaled).astype(ct.dtype_name)


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


def _gather(texels: numpy.ndarray, index: list[numpy.ndarray]) -> numpy.ndarray:
    """Read texels at per-dimension indices given in texture order (x, y, z)."""
    return texels[tuple(index[::-1])]
