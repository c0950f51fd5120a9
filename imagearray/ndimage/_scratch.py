"""CUDA arrays an ndimage call fills and reads once (a CuPy input copied for its
textures, order-3 coefficients, the mip method's chain), kept after the call for the
next one of the same kind instead of freed.

Allocating and freeing a CUDA array costs the host far more than filling it
(``cuArray3DCreate`` / ``cuMipmappedArrayCreate`` and their destroys,
tools/probes/array_fill.py and mip_resize_parts.py time them), and a destroy waits
for the work queued before it. CuPy keeps freed device memory in its pool for the
same reason.

:func:`take` lends an ``ImageArray`` (from the pool or new; ``_textures.take_scratch``
is the caller's door); the caller gives the :class:`Lease` back with the textures it
made (``_textures.retire``), and the image returns to the pool only once the launches
reading it have finished. A kind already lent :data:`BUFFERS` times waits for a
lease to come back instead of allocating a third image. At most
:data:`MAX_BYTES` of idle images are kept (the oldest freed first); :func:`clear`
frees them all, and an allocation that runs out of device memory clears the pool
and tries once more.
"""

from __future__ import annotations

import collections
import threading
from typing import Any

from imagearray._device import current_device
from imagearray._errors import CUDAOutOfMemoryError
from imagearray.array import empty

#: Bytes of idle images the pool keeps (per process, all devices).
MAX_BYTES = 1 << 30
#: Images of one kind lent at once before :func:`take` waits for one to come back
#: rather than allocate another (double buffering: a call's fill can overlap the
#: launch of the one before; allocating costs the host more than such a wait).
BUFFERS = 2

# key -> idle images; insertion order of _ORDER is the eviction order
_IDLE: dict[tuple, list] = {}
_ORDER: collections.OrderedDict = collections.OrderedDict()  # id(img) -> (key, img, bytes)
_BYTES = 0
_LENT: dict[tuple, int] = {}  # key -> images of that kind lent now
_LOCK = threading.Lock()


class Lease:
    """An image lent by :func:`take`; :meth:`give_back` returns it to the pool (once,
    after the work reading it has finished)."""

    __slots__ = ("key", "image", "nbytes")

    def __init__(self, key: tuple, image: Any, nbytes: int) -> None:
        self.key, self.image, self.nbytes = key, image, nbytes
        _LENT[key] = _LENT.get(key, 0) + 1  # (under _LOCK or on a new image: see take)

    def give_back(self) -> None:
        img, self.image = self.image, None
        if img is None:
            return
        with _LOCK:
            _unlend(self.key)
        if img._handle.alive:
            _put(self.key, img, self.nbytes)

    def __del__(self) -> None:
        if self.image is not None:  # dropped without give_back (an error on the way)
            try:
                with _LOCK:
                    _unlend(self.key)
            except Exception:  # noqa: BLE001 - interpreter shutdown: nothing to count
                pass


def _unlend(key: tuple) -> None:
    n = _LENT.get(key, 0) - 1
    if n > 0:
        _LENT[key] = n
    else:
        _LENT.pop(key, None)


def take(shape: tuple, dtype: Any, channels: int, wait: Any = None, **kw: Any) -> Lease:
    """A :class:`Lease` of an uninitialised ``empty(shape, dtype, channels, **kw)`` on
    the current device: an idle one of exactly that kind, else a new one. With
    :data:`BUFFERS` of the kind lent already, ``wait()`` is called first (it waits
    for the oldest queued work to finish and gives its leases back: True, or False
    where nothing was queued) and the idle images are looked at again."""
    key = (current_device(), tuple(shape), str(dtype), channels, tuple(sorted(kw.items())))
    while True:
        with _LOCK:
            idle = _IDLE.get(key)
            while idle:
                img = idle.pop()
                nbytes = _ORDER.pop(id(img))[2]
                _count(-nbytes)
                if img._handle.alive:
                    return Lease(key, img, nbytes)
            busy = _LENT.get(key, 0) >= BUFFERS
        if not (busy and wait is not None and wait()):
            break
    try:
        img = empty(shape, dtype, channels, **kw)
    except CUDAOutOfMemoryError:
        if not clear():
            raise
        img = empty(shape, dtype, channels, **kw)
    with _LOCK:
        return Lease(key, img, _nbytes(img))


def _nbytes(img: Any) -> int:
    n = img.dtype.itemsize
    for s in img.shape:
        n *= s
    return n * (2 if img.levels > 1 else 1)  # a mip chain: at most twice level 0


def _count(delta: int) -> None:
    global _BYTES
    _BYTES += delta


def _put(key: tuple, img: Any, nbytes: int) -> None:
    evicted = []
    with _LOCK:
        _IDLE.setdefault(key, []).append(img)
        _ORDER[id(img)] = (key, img, nbytes)
        _count(nbytes)
        while _BYTES > MAX_BYTES and _ORDER:
            evicted.append(_evict_oldest())
    for old in evicted:
        _free(old)


def _evict_oldest() -> Any:
    _, (key, img, nbytes) = _ORDER.popitem(last=False)
    _IDLE[key].remove(img)
    if not _IDLE[key]:
        del _IDLE[key]
    _count(-nbytes)
    return img


def _free(img: Any) -> None:
    if img._handle.alive:
        img.free()


def clear() -> int:
    """Free every idle image; the number freed."""
    with _LOCK:
        evicted = [_evict_oldest() for _ in range(len(_ORDER))]
    for img in evicted:
        _free(img)
    return len(evicted)


def idle_bytes() -> int:
    """Bytes of the idle images the pool holds."""
    return _BYTES
