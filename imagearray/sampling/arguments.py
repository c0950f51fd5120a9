"""The arguments of the sampling kernels as they read them: coordinates (float32),
texel indices and layers (int32), converted from what a caller passes, or refused.

Every refusal is an ``ImageArrayError`` naming the argument, what it got and what is
allowed. Integer values outside the int32 range the kernels read are clamped to it
on the device (no synchronization to look at them): an index stays out of range and
reads zero in ``fetch`` (instead of wrapping modulo 2**32 onto a texel), a layer
stays beyond the last and reads it in ``sample`` (as every layer past the last does).
"""

from __future__ import annotations

from typing import Any

import numpy

from imagearray._errors import ImageArrayTypeError, ImageArrayValueError
from imagearray.memory import ImageView

__all__ = [
    "INT32_MAX",
    "INT32_MIN",
    "int32_values",
    "layer_arg",
    "level_value",
    "numbers",
    "points",
]

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

_LAYER_CONSTANTS: dict[tuple[int, int], Any] = {}


def layer_constant(device: int, value: int):
    """A read-only one-element int32 device array holding ``value`` (kernels read the
    layer of every point from it); made once per device and value and never freed
    (no eviction: a launch still queued may read it), never written, so sharing it
    between streams is safe. Only layers that exist are cached, so there are at most
    as many as the largest layer count sampled."""
    import cupy

    arr = _LAYER_CONSTANTS.get((device, value))
    if arr is None:
        if not INT32_MIN <= value <= INT32_MAX:
            raise ImageArrayValueError(f"layer index {value} is out of the int32 range")
        with cupy.cuda.Device(device):
            arr = cupy.full((1,), value, dtype=cupy.int32)
            cupy.cuda.Device().synchronize()  # filled before any stream reads it
        _LAYER_CONSTANTS[(device, value)] = arr
    return arr


def numbers(value: Any, name: str, *, integers: bool):
    """``value`` as a CuPy array (on the current device) of real numbers, or of
    integers when ``integers``; anything else (strings, objects, complex numbers,
    floats where integers are needed) raises ImageArrayTypeError."""
    import cupy

    try:
        arr = cupy.asarray(value)
    except (TypeError, ValueError, OverflowError, IndexError, KeyError) as exc:
        raise ImageArrayTypeError(
            f"{name} must be an array of {'integers' if integers else 'numbers'} (a CuPy or "
            f"NumPy array, a list or a scalar), not {_what(value)} ({exc})"
        ) from None
    kind = arr.dtype.kind
    if integers and kind not in "iu":
        raise ImageArrayTypeError(
            f"{name} must be integers (texel or layer indices), not dtype {arr.dtype}: "
            "round them first, e.g. cupy.floor(x).astype(cupy.int32)"
        )
    if kind not in "biuf":
        raise ImageArrayTypeError(f"{name} must be real numbers, not dtype {arr.dtype}")
    return arr


def int32_values(arr):
    """An integer CuPy array as int32, values outside the int32 range clamped to it
    (on the device; int32 arrays are returned as they are)."""
    import cupy

    dt = arr.dtype
    if dt == numpy.int32 or dt.itemsize < 4 or (dt.kind == "i" and dt.itemsize == 4):
        return arr
    if dt.kind == "u":  # uint32, uint64: only the top of the range is out of int32
        return cupy.minimum(arr, INT32_MAX).astype(cupy.int32)
    return cupy.clip(arr, INT32_MIN, INT32_MAX).astype(cupy.int32)


def points(coords: Any, name: str, dtype, ncomp: int):
    """``coords`` as a C-contiguous CuPy array of ``dtype`` (float32 coordinates or
    int32 indices) with ``ncomp`` components on the last axis (inside ``Scope``: on
    the image's device)."""
    import cupy

    integers = numpy.dtype(dtype).kind in "iu"
    c = numbers(coords, name, integers=integers)
    if ncomp == 1 and (c.ndim == 0 or c.shape[-1] != 1):
        c = c[..., None]
    if c.ndim == 0 or c.shape[-1] != ncomp:
        raise ImageArrayValueError(
            f"{name} must have {ncomp} component(s) on the last axis (texture order "
            f"x, y, z), not shape {c.shape}"
        )
    if integers:
        c = int32_values(c)
    return cupy.ascontiguousarray(c, dtype=dtype)


def layer_arg(view: ImageView, value: Any, points_shape: tuple, name: str, count: int):
    """(int32 array, step) selecting a layer per point: a fixed view layer, or
    ``value`` (an int or an integer array broadcast against the points)."""
    import cupy

    fixed = view._origin[2] if view._is_view() else None
    if fixed is not None:
        if value is not None:
            raise ImageArrayValueError(f"this view already selects its {name}")
        value = fixed
    if value is None:
        if count > 1:
            raise ImageArrayValueError(
                f"{name}= is required for this {view.image_type.value} image"
            )
        value = 0
    if isinstance(value, (int, numpy.integer)) and not isinstance(value, bool):
        value = int(value)
        if 0 <= value < max(count, 1):
            # One layer for every point: a cached one-element array, so a plain
            # sample() allocates and uploads nothing besides its output.
            return layer_constant(view._handle.device, value), 0
        # Out of range: clamped to int32 (then past the layers, as the value is).
        return cupy.full((1,), min(max(value, INT32_MIN), INT32_MAX), cupy.int32), 0
    arr = int32_values(numbers(value, name, integers=True))  # on the image's device
    if arr.ndim == 0:
        return cupy.ascontiguousarray(arr.reshape(1), dtype=cupy.int32), 0
    try:
        arr = cupy.broadcast_to(arr, points_shape)
    except ValueError:
        raise ImageArrayValueError(
            f"{name} of shape {arr.shape} does not broadcast against the points' shape "
            f"{points_shape}"
        ) from None
    return cupy.ascontiguousarray(arr, dtype=cupy.int32), 1


def level_value(level: Any) -> float:
    """A mip ``level=`` as a Python float: a real number (a NumPy scalar or a 0-d array
    included), else ImageArrayTypeError. NaN and infinities pass: the texture unit
    clamps them like any level past the sampler's clamps."""
    if isinstance(level, (bool, numpy.bool_)) or isinstance(level, (str, bytes)):
        raise ImageArrayTypeError(f"level must be a real number, not {_what(level)}")
    try:
        value = float(level)
    except (TypeError, ValueError, OverflowError):
        raise ImageArrayTypeError(f"level must be a real number, not {_what(level)}") from None
    return value


def _what(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"
