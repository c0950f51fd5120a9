"""Mip pyramids: an exact box-filtered mip chain (:func:`box_pyramid`) to sample, and
its per-axis filter (:func:`box_weights`) for GPU kernels to check against.
"""

from __future__ import annotations

from typing import Any

import numpy

from imagearray._enums import ChannelType
from imagearray._errors import ImageArrayValueError
from imagearray.testing.reference.texels import _asarray, _channel_type, _split_shape

__all__ = ["box_pyramid", "box_weights"]


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
