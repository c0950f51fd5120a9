"""Argument coercion shared by the plain-Python layer: enums from their string
values and strict ints, each failing with a message that names the argument and
what is allowed."""

from __future__ import annotations

import enum
import operator
from typing import Any, TypeVar

import numpy

from imagearray._errors import ImageArrayTypeError, ImageArrayValueError

__all__ = ["coerce_enum", "coerce_int"]

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
