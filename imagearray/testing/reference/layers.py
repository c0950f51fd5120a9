"""Layered textures: ``tex1DLayered/tex2DLayered``, filtered within a layer only.

:func:`sample_layered` samples each point in its layer as :func:`sample` samples one
image; :func:`_layer_indices` reads layer (and cube) indices as PTX does.
"""

from __future__ import annotations

from typing import Any

import numpy

from imagearray._enums import ChannelType
from imagearray._errors import ImageArrayTypeError, ImageArrayValueError
from imagearray._sampler import Sampler
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
    _is_dims,
    _split_shape,
)

__all__ = ["sample_layered"]


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
    read_ct = _filter_read_type(ct, sampler)
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
    texels, filter_sum, border = _level_input(data, read_ct, sampler, channels)
    result = _sample_level(texels, coords, sampler, dims, border, layer, filter_sum)
    return numpy.asarray(_in_image_units(result, ct, read_ct))
