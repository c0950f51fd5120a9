"""NumPy basic indexing of an image view: a key turned into the box (x, y, z) of image
memory to copy and the key that selects the result from that box.

Plain Python over the view's shape. Shapes follow NumPy's C order; boxes are texture
order. Keys that need advanced indexing are left to the caller (``normalize``
returns None).
"""

from __future__ import annotations

import functools
import operator
from typing import Any

import numpy

from imagearray._errors import (
    ImageArrayError,
    ImageArrayIndexError,
    ImageArrayTypeError,
    ImageArrayValueError,
)
from imagearray.memory import ImageView, result_shape

__all__ = [
    "bbox",
    "family_errors",
    "normalize",
    "plain_box",
    "refuse_inexact",
    "relative_key",
    "result_shape",
]


_FAMILY = (
    (IndexError, ImageArrayIndexError),
    (TypeError, ImageArrayTypeError),
    (ValueError, ImageArrayValueError),
)


def family_errors(method):
    """``method`` (``__getitem__``/``__setitem__``) with what NumPy and CuPy raise for a
    key or value they refuse (float keys, shapes that do not broadcast, strings) as
    the family's ``ImageArrayIndexError``/``TypeError``/``ValueError``, which are
    still the built-in exceptions NumPy code catches."""

    @functools.wraps(method)
    def wrapper(self, *args):
        try:
            return method(self, *args)
        except ImageArrayError:
            raise
        except (IndexError, TypeError, ValueError) as exc:
            family = next(f for base, f in _FAMILY if isinstance(exc, base))
            raise family(f"{method.__name__}: {exc}") from exc

    return wrapper


_INEXACT = (float, complex, numpy.floating, numpy.complexfloating)


def refuse_inexact(key: Any) -> None:
    """Raise ``ImageArrayIndexError`` for a float or complex scalar in ``key``, as
    NumPy does (CuPy truncates ``a[1.5]`` to ``a[1]``: a silent wrong answer)."""
    for k in key if isinstance(key, tuple) else (key,):
        if isinstance(k, _INEXACT):
            raise ImageArrayIndexError(
                f"index {k!r} is not an integer: only integers, slices (`:`), ellipsis "
                "(`...`), None and integer or boolean arrays are valid indices"
            )


def _has_advanced(key: tuple) -> bool:
    return any(
        not isinstance(k, (slice, int, numpy.integer, type(None), type(Ellipsis)))
        or isinstance(k, bool)
        for k in key
    )


def _slice_indices(k: slice, size: int) -> tuple[int, int, int]:
    """``k.indices(size)``, with NumPy's complaints as family errors."""
    try:
        return k.indices(size)
    except ValueError:  # "slice step cannot be zero"
        raise ImageArrayValueError(f"slice step cannot be zero: {k!r}") from None
    except Exception:  # TypeError, or what a broken __index__ raises
        raise ImageArrayTypeError(f"slice indices must be integers or None, got {k!r}") from None


def plain_box(view: ImageView, key: Any):
    """``(lo, ext)`` (x, y, z) of the commonest key, a tuple of step-1 slices of the
    image axes (``img[y0:y1, x0:x1]``): the box view it gives, without the general
    path's per-axis split. None for any other key, and for an empty box, which the
    general path handles."""
    axes = view._axes
    if len(key) > len(axes):
        return None
    lo = [0, 0, 0]
    ext = [1, 1, 1]
    shape = view._shape
    for i, a in enumerate(axes):
        if i < len(key):
            k = key[i]
            if type(k) is not slice or (k.step is not None and k.step != 1):
                return None
            try:
                start, stop, _ = k.indices(shape[i])
            except Exception:  # not ints: the general path reports it
                return None
            if stop <= start:
                return None
            lo[a], ext[a] = start, stop - start
        else:
            ext[a] = shape[i]
    return (lo[0], lo[1], lo[2]), (ext[0], ext[1], ext[2])


def normalize(view: ImageView, key: Any):
    """Split a basic-indexing key into per-axis (start, stop, step, n, is_int) for
    the image axes, the channel key and the trailing NumPy key. Returns None for
    keys that need advanced indexing."""
    if not isinstance(key, tuple):
        key = (key,)
    refuse_inexact(key)  # before the advanced path, where CuPy would truncate them
    if _has_advanced(key):
        return None
    n_img = len(view._axes)
    ndim = view.ndim
    n_real = sum(1 for k in key if k is not None and k is not Ellipsis)
    if sum(1 for k in key if k is Ellipsis) > 1:
        raise ImageArrayIndexError("an index can only have a single ellipsis ('...')")
    if n_real > ndim:
        raise ImageArrayIndexError(
            f"too many indices for array: array is {ndim}-dimensional, but {n_real} were indexed"
        )
    expanded: list[Any] = []
    for k in key:
        if k is Ellipsis:
            expanded.extend([slice(None)] * (ndim - n_real))
        else:
            expanded.append(k)
    if Ellipsis not in key:
        expanded.extend([slice(None)] * (ndim - n_real))
    real = [k for k in expanded if k is not None]
    for k in real[n_img:]:  # the channel axis: validate before any copy
        if isinstance(k, slice):
            _slice_indices(k, view.channels)
        elif not -view.channels <= operator.index(k) < view.channels:
            raise ImageArrayIndexError(
                f"index {k} is out of bounds for axis {n_img} with size {view.channels}"
            )
    per_axis = []
    for axis, (k, size) in enumerate(zip(real[:n_img], view.shape)):
        if isinstance(k, slice):
            start, stop, step = _slice_indices(k, size)
            n = len(range(start, stop, step))
            per_axis.append((start, stop, step, n, False))
        else:
            i = operator.index(k)
            if not -size <= i < size:
                raise ImageArrayIndexError(
                    f"index {i} is out of bounds for axis {axis} with size {size}"
                )
            i %= size
            per_axis.append((i, i + 1, 1, 1, True))
    return expanded, per_axis


def bbox(view: ImageView, per_axis):
    lo = [0, 0, 0]
    ext = [1, 1, 1]
    rel = []
    for box_axis, (start, _stop, step, n, is_int) in zip(view._axes, per_axis):
        if is_int:
            first, last = start, start
        elif step > 0:
            first, last = start, start + (n - 1) * step
        else:
            first, last = start + (n - 1) * step, start
        lo[box_axis] = first
        ext[box_axis] = last - first + 1
        if is_int:
            rel.append(0)
        else:
            rs = start - first
            end = rs + n * step
            rel.append(slice(rs, end if end >= 0 else None, step))
    return tuple(lo), tuple(ext), rel


def relative_key(expanded, per_axis, rel):
    out = []
    i = 0
    n_img = len(per_axis)
    for k in expanded:
        if k is None:
            out.append(None)
        elif i < n_img:
            out.append(rel[i])
            i += 1
        else:
            out.append(k)  # channel axis key, applied as is
            i += 1
    return tuple(out)
