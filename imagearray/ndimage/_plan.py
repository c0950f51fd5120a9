"""Per-call plans: a call repeated with the same arguments launches its kernel again
without redoing the checks, the texture look-ups and the parameter packing.

A plan is the :class:`~imagearray.ndimage._launch.Launch` of an earlier call whose
every input is either in its key by value (numbers, strings, small NumPy arrays) or
read by the kernel where it is (CuPy arrays, by address and layout: the same
address and layout hold what the caller passes now). Calls that copy or convert
device data, fall back, tile, warn or upload a NumPy input make no plan.

A plan holds no caller's array: the textures it reads are owned by their caches
(``_textures._IN_PLACE`` for CuPy inputs, the image's memory cache for an
``ImageArray``), and the plan checks on every hit that the cache still holds them
(``Launch.deps``). An order-3 plan (``_launch.Refilled``) runs the prefilter on
the input of each call into textures of that call's own, then its launch. Plans of
an ``ImageArray`` live in its memory's cache (gone when the memory is freed); the
others in an LRU of ``_MAX_PLANS``.
"""

from __future__ import annotations

import collections
from typing import Any

import numpy

from imagearray.array import ImageArray
from imagearray.ndimage import _textures
from imagearray.sampling.cache import cache_of

_PLANS: collections.OrderedDict = collections.OrderedDict()
_MAX_PLANS = 64
_MAX_IMAGE_PLANS = 64
_CACHE_KEY = "ndimage"  # the image memory cache's plans entry
_MAX_FROZEN = 64  # NumPy arguments up to this size go into keys by value
_SCALARS = frozenset((int, float, bool, str, complex, type(None)))


class _Unkeyable(Exception):
    """An argument that cannot go into a key (the call takes the full path)."""


def _freeze(x: Any, device: bool = False) -> Any:
    """``x`` as a hashable value that equals another's exactly when the call's result
    would (``device``: CuPy arrays allowed, by address and layout)."""
    t = type(x)
    if t in _SCALARS or isinstance(x, (numpy.dtype, type)):
        return x
    if isinstance(x, numpy.generic):  # by type too: float32(0.3) == 0.3 under NEP 50
        return ("g", x.dtype.str, x.item())
    if t is tuple or t is list:  # scalars inline: most arguments are numbers
        return ("t",) + tuple(v if type(v) in _SCALARS else _freeze(v, device) for v in x)
    if t is numpy.ndarray:
        if x.size > _MAX_FROZEN or x.dtype.hasobject:
            raise _Unkeyable
        return ("n", x.dtype.str, x.shape, x.tobytes())
    if device and _is_cupy(x):
        m = x.data
        return ("c", m.ptr, x.shape, x.strides, x.dtype.char, m.device_id)
    raise _Unkeyable


def _is_cupy(x: Any) -> bool:
    import cupy

    return isinstance(x, cupy.ndarray)


def key(fn: str, input: Any, output: Any, args: tuple, device_args: tuple = ()) -> tuple | None:
    """The plan key of a call (None: the call cannot have a plan). ``args`` hold no
    device data; ``device_args`` may (CuPy arrays the kernel reads in place, if the
    full path finds it can)."""
    try:
        if isinstance(input, ImageArray):
            src = ("i", id(input._handle), input._vdesc, input.channels)
        elif _is_cupy(input):
            src = _freeze(input, True)
        else:
            return None  # NumPy inputs are uploaded on every call
        if output is None or isinstance(output, (str, numpy.dtype, type)):
            out = output
        elif _is_cupy(output):
            contiguous = output.flags.c_contiguous  # plans write C-contiguous outputs only
            out = ("o", output.shape, output.dtype.char, output.data.device_id, contiguous)
        else:
            return None
        return (fn, src, out, _freeze(args), _freeze(device_args, True))
    except (_Unkeyable, TypeError):
        return None


def _store_of(input: Any, create: bool) -> dict | None:
    if isinstance(input, ImageArray):
        cache = cache_of(input) if create else input._mem._cache
        if cache is None:
            return None
        plans = cache.plans.get(_CACHE_KEY)
        if plans is None and create:
            plans = cache.plans[_CACHE_KEY] = {}
        return plans
    return _PLANS


def run(k: tuple, input: Any, output: Any):
    """Run the plan of key ``k`` (from :func:`key`) into ``output``'s place; the
    result, or None where there is no valid plan (the caller takes the full path)."""
    if _textures.TILE_OVERRIDE is not None:  # tests forcing tiles: the full path
        return None
    plans = _store_of(input, False)
    launch = None if plans is None else plans.get(k)
    if launch is None:
        return None
    if not launch.valid():
        plans.pop(k, None)
        return None
    if plans is _PLANS:
        try:
            _PLANS.move_to_end(k)
        except KeyError:  # evicted by another thread meanwhile: still valid (deps hold)
            pass
    out = launch.run(output, input)
    _textures.collect()  # after the launch: the GPU starts before the host tidies up
    return out


def store(k: tuple | None, input: Any, launch) -> None:
    """Keep ``launch`` as the plan of ``k`` (nothing if ``k`` is None)."""
    if k is None or launch is None:
        return
    plans = _store_of(input, True)
    if plans is None:
        return
    if plans is not _PLANS and len(plans) >= _MAX_IMAGE_PLANS:
        plans.clear()
    plans[k] = launch
    if plans is _PLANS and len(_PLANS) > _MAX_PLANS:
        _PLANS.popitem(last=False)


def clear() -> None:
    """Forget every plan of CuPy inputs (an ImageArray's go with its memory)."""
    _PLANS.clear()
