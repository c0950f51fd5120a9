"""Argument coercion shared by the plain-Python layer: enums from their string
values and strict ints, each failing with a message that names the argument and
what is allowed."""

from __future__ import annotations

import enum
import operator
from typing import Any, TypeVar

import numpy

from imagearray._errors import ImageArrayTypeError, ImageArrayValueError

__all__ = ["check_cast", "coerce_enum", "coerce_int"]

_E = TypeVar("_E", bound=enum.Enum)


def coerce_enum(
    enum_cls: type[_E], name: str, value: Any, error: type[Exception] = ImageArrayValueError
) -> _E:
    """Return ``value`` as a member of ``enum_cls``; a string names a member's value
    (case-insensitive). Unknown strings raise ``error``, other types
    ``ImageArrayTypeError``; both messages list what is allowed."""
    if isinstance(value, enum_cls):
        return value
    if isinstance(value, str):
        try:
            return enum_cls(value.lower())
        except ValueError:
            allowed = ", ".join(repr(m.value) for m in enum_cls)
            raise error(
                f"{name}={value!r} is not a {enum_cls.__name__}; allowed: {allowed}"
            ) from None
    raise ImageArrayTypeError(
        f"{name} must be a {enum_cls.__name__} or its string value, "
        f"got {value!r} of type {type(value).__name__}"
    )


def coerce_int(
    name: str, value: Any, minimum: int | None = 0, error: type[Exception] = ImageArrayValueError
) -> int:
    """Return ``value`` as a Python int >= ``minimum`` (None: no bound). NumPy integers
    are accepted; bools and floats raise ``ImageArrayTypeError``, values below
    ``minimum`` ``error``."""
    if isinstance(value, (bool, numpy.bool_)):
        raise ImageArrayTypeError(f"{name} must be an int, got the bool {value!r}")
    try:
        result = operator.index(value)
    except Exception as exc:  # TypeError, or whatever a broken __index__ raises
        raise ImageArrayTypeError(
            f"{name} must be an int, got {value!r} of type {type(value).__name__}"
        ) from (None if isinstance(exc, TypeError) else exc)
    if minimum is not None and result < minimum:
        raise error(f"{name} must be >= {minimum}, got {name}={result}")
    return result


def check_cast(value: Any, dtype: Any) -> None:
    """The one casting rule of writes into an image (``set``, ``fill``, ``img[k] = v``,
    ``asimage(..., dtype=)`` and ``astype`` keep their own: those are explicit casts).

    Arrays and NumPy scalars: ``numpy.can_cast(value.dtype, dtype, "same_kind")``
    (so float data into an integer image is refused). Python scalars by kind: bools
    anywhere, ints where they fit the dtype, floats into float images only. Raises
    ``ImageArrayTypeError`` (or ``ImageArrayValueError`` for an int that does not fit)
    naming both types."""
    dtype = numpy.dtype(dtype)
    if isinstance(value, (bool, numpy.bool_)):
        return
    if isinstance(value, int):
        if dtype.kind in "iu":
            info = numpy.iinfo(dtype)
            if not info.min <= value <= info.max:
                raise ImageArrayValueError(
                    f"{value} does not fit in a {dtype} image ({info.min}..{info.max})"
                )
        return
    src = getattr(value, "dtype", None)
    if src is None:
        if isinstance(value, float):
            src = numpy.dtype(numpy.float64) if dtype.kind != "f" else dtype
        elif isinstance(value, complex):
            src = numpy.dtype(numpy.complex128)
        else:
            return  # sequences: the caller makes an array of them and asks again
    if not numpy.can_cast(src, dtype, "same_kind"):
        raise ImageArrayTypeError(
            f"cannot write {src} data into a {dtype} image (casting rule: "
            f"numpy.can_cast(..., 'same_kind')); convert it first, e.g. "
            f"a.round().astype(numpy.{dtype})"
        )
