"""The parts every ndimage drop-in shares (``interpolation`` and ``warps``): argument
conversions, the plan lookup before any work, and the common tail (output, the
cupyx fallback or the texture launch)."""

from __future__ import annotations

import operator
from typing import Any

from imagearray._errors import ImageArrayTypeError, ImageArrayValueError
from imagearray.ndimage import _cubicconv, _plan, _spline, _textures
from imagearray.ndimage._call import Call, check_precision
from imagearray.ndimage._modes import kernel_mode

__all__ = ["finish", "planned", "same_memory", "sequence", "spatial_shape"]


def sequence(arg: Any, ndim: int, name: str) -> list:
    """cupyx's ``_fix_sequence_arg`` with float conversion."""
    if isinstance(arg, str):
        raise ImageArrayTypeError(f"{name} must be a number or a sequence of numbers, not {arg!r}")
    try:
        items = list(arg)
    except TypeError:
        items = [arg] * ndim
    try:
        values = [float(x) for x in items]
    except (TypeError, ValueError):
        raise ImageArrayTypeError(f"{name} must hold numbers, not {arg!r}") from None
    if len(values) != ndim:
        raise ImageArrayValueError(
            f"{name} has {len(values)} values; the input has {ndim} spatial axes"
        )
    return values


def spatial_shape(shape: Any, call: Call, name: str = "output_shape") -> tuple:
    try:
        out = tuple(operator.index(n) for n in shape)
    except TypeError:
        raise ImageArrayTypeError(f"{name} must be a tuple of ints, not {shape!r}") from None
    if len(out) != call.ndim or any(n < 0 for n in out):
        raise ImageArrayValueError(
            f"{name}={shape!r} must hold {call.ndim} sizes >= 0 (the spatial axes)"
        )
    return out


def planned(fn: str, input: Any, output: Any, order: Any, args: tuple, device_args=()):
    """(the call's plan key or None, the result of its plan or None): see
    :mod:`imagearray.ndimage._plan`. ``args``: every other argument that decides the
    result; ``device_args``: those the kernel may read where they are."""
    if order is None:  # warns on every call
        return None, None
    k = _plan.key(fn, input, output, (order,) + args, device_args)
    return k, (None if k is None else _plan.run(k, input, output))


def finish(
    call,
    coords,
    spatial,
    output,
    order,
    mode,
    cval,
    precision,
    one,
    plan=None,
    prefilter=True,
    conv_a=0.0,
):
    """The common tail: output, fallback or launch (kept as the plan of key ``plan``
    where the launch can be repeated). ``conv_a`` nonzero: cubic convolution with
    that parameter (``order`` is ``_source.CUBIC_CONV``; the warps'
    ``interpolation="cubic"``)."""
    hardware = check_precision(precision)
    kmode = kernel_mode(mode)
    if conv_a:
        hardware = False  # point reads only: Keys' weights are not all positive
        kmode = _cubicconv.check_mode(kmode)
    dtype = call.output_dtype(output, spatial)
    value = call.check_cval(mode, cval, dtype)  # before any fallback: our errors
    reason = call.fallback_reason(order, dtype)
    if reason is not None:
        if conv_a:  # cupyx has no cubic convolution
            raise ImageArrayValueError(
                f"{call.fn}: interpolation='cubic' runs on textures only, and this call "
                f"cannot: {reason}"
            )
        return call.fallback(reason, one, call.output(output, spatial)[0], spatial)
    spline = None
    if order == 3:  # the prefilter's launches first: the GPU starts while the host goes on
        kmode, pad = _spline.layout(mode, bool(prefilter))
        spline = call.cubic_source((mode, bool(prefilter), pad), value, hardware)
    try:  # (the output allocated after the prefilter's launches, as the coordinates)
        out = call.output(output, spatial)[0]
        coords = coords() if callable(coords) else coords
    except BaseException:
        if spline is not None:
            _textures.retire(spline[0])  # its coefficients: freed once the prefilter ran
        raise
    launch = call.run(
        coords, spatial, out, dtype, order, kmode, value, hardware, spline, conv_a=conv_a
    )
    _plan.store(plan, call.image if call.image is not None else call.original, launch)
    return out


def same_memory(a, caller: Any) -> bool:
    """Whether kernel argument ``a`` is the caller's own CuPy array (not a copy)."""
    import cupy

    return isinstance(caller, cupy.ndarray) and a.data.ptr == caller.data.ptr
