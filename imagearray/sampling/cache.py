"""The sampling engines' per-memory cache: the handles they made (textures per sampler,
surfaces), the sample() plans of each view, and mip generation's launches and graph.

One :class:`MemoryCache` per ``ImageMem`` (kept in its ``_cache`` slot), shared by
every view of that memory; :meth:`MemoryCache.close` destroys the handles and drops
the plans that name them, before the memory is freed.

Bound. The textures that ``sample()``, ``gather()`` and their plans make for
themselves (one per distinct sampler) are kept least-recently-used, at most
:data:`MAX_TEXTURES` per memory. Past it the least recently used leave the cache
and the plans naming them (retired) until it is :data:`EVICT_BATCH` below the
bound, and the ones retired by the previous eviction are destroyed after a
device-wide synchronize: every launch that could read them was enqueued before
they were retired and has finished. Each is destroyed exactly once (by that
eviction, or by ``free()``). While CuPy's current stream is capturing a graph
(where synchronizing is not allowed) eviction waits for a later miss. Handles
returned by ``ImageArray.texture()`` are the caller's to pass to kernels at any
time: they are never evicted (their promise is "valid until the memory is freed");
a program that makes unboundedly many samplers for its own
kernels should ``create_image`` and destroy them itself.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from imagearray._errors import ImageArrayValueError
from imagearray._sampler import Sampler
from imagearray.handles import create_image
from imagearray.memory import ImageView

if TYPE_CHECKING:
    from imagearray.handles import SampledImageHandle, UnsampledImageHandle

__all__ = [
    "EVICT_BATCH",
    "MAX_TEXTURES",
    "MemoryCache",
    "cache_of",
    "default_sampler",
    "lock_of",
    "surface",
    "texture",
]

#: Textures kept per image memory for sample()/gather() (not texture()'s: never evicted).
MAX_TEXTURES = 64
#: How far below MAX_TEXTURES an eviction brings the cache (one device synchronize each).
EVICT_BATCH = 16


class MemoryCache:
    """What the sampling engines keep for one image memory.

    handles : (id(level handle), whole mipmap, sampler) or (id(level handle),
        "surface") -> the handle made for it (replaced once destroyed)
    lru : the evictable keys of ``handles``, least recently used first
    pinned : the keys of ``handles`` never evicted (texture()'s and surfaces)
    retired : handles evicted from ``handles``, destroyed by the next eviction
    plans : view key -> that view's sample() plans (see ``sampling.engine``)
    mipgen : the per-level filter's launches (user kernels), or None
    mipfused : (launches, the CUDA objects of the surfaces they name) of the default
        box filter's chain, or None
    mipgen_graph : (launches, CUDA graph or None) captured from the default chain's
        launches, or None
    """

    __slots__ = (
        "handles",
        "lru",
        "pinned",
        "retired",
        "plans",
        "mipgen",
        "mipfused",
        "mipgen_graph",
    )

    def __init__(self) -> None:
        self.handles: dict = {}
        self.lru: OrderedDict = OrderedDict()
        self.pinned: set = set()
        self.retired: list = []
        self.plans: dict = {}
        self.mipgen: list | None = None
        self.mipfused: tuple | None = None
        self.mipgen_graph: tuple | None = None

    def close(self, device: int | None = None) -> None:
        """Destroy every live handle and forget the plans and launches naming them.

        With ``device`` (free()): the handles and plans leave the cache first, so no
        new launch finds them; then the device is synchronized (as cudaFree waits
        for the work using its memory): the launches queued before, and those other
        threads were enqueueing with a handle they had already looked up (they run
        while this thread waits, without the GIL), finish before anything is
        destroyed. A second synchronize catches such a launch enqueued while the
        first one was already waiting."""
        for plans in self.plans.values():
            plans.clear()  # views still hold their dicts: leave them empty
        self.plans.clear()
        self.mipgen = self.mipfused = self.mipgen_graph = None
        handles = list(self.handles.values()) + self.retired
        self.handles.clear()
        self.lru.clear()
        self.pinned.clear()
        self.retired = []
        if device is not None and handles:
            _wait_for_launches(device)
            _wait_for_launches(device)
        for h in handles:
            if h.alive:
                h.destroy()

    def evict(self, device: int) -> int:
        """Called under the memory's lock when ``lru`` is past :data:`MAX_TEXTURES`:
        destroy what the previous eviction retired (after every launch on the device
        has finished) and retire the least recently used. Returns how many were
        destroyed; 0 (nothing done) while a graph is being captured."""
        if not _wait_for_launches(device):
            return 0
        old, self.retired = self.retired, []
        retiring = []
        while len(self.lru) > MAX_TEXTURES - EVICT_BATCH:
            key, _ = self.lru.popitem(last=False)
            h = self.handles.pop(key, None)
            if h is not None:
                retiring.append(h)
        gone = {id(h._obj) for h in retiring + old if hasattr(h, "_obj")}
        for plans in list(self.plans.values()):  # no plan launches a retired texture
            for pk, plan in list(plans.items()):
                if id(getattr(plan, "texobj", None)) in gone:
                    plans.pop(pk, None)
        self.retired = retiring
        destroyed = 0
        for h in old:
            if h.alive:
                h.destroy()
                destroyed += 1
        return destroyed

    def __bool__(self) -> bool:
        return bool(self.handles or self.plans or self.mipgen or self.mipfused or self.mipgen_graph)


def cache_of(view: ImageView) -> MemoryCache:
    """The cache of ``view``'s memory (made on first use)."""
    mem = view._mem
    cache = mem._cache
    if cache is None:
        cache = mem._cache = MemoryCache()
    return cache


def lock_of(memory_handle: Any) -> Any:
    """The lock that a memory's free() holds (see ``imagearray._memory``); a module
    lock for stand-ins that have none."""
    return getattr(memory_handle, "lock", _NO_LOCK_OF_ITS_OWN)


_NO_LOCK_OF_ITS_OWN = threading.RLock()


def _wait_for_launches(device: int) -> bool:
    """Synchronize ``device`` (every stream of it: a texture may be read by a launch
    on any); False, doing nothing, while CuPy's current stream captures a graph.
    Where CuPy cannot synchronize (no usable device, or a context a fault already
    lost) nothing runs there any more: True, and the driver calls that follow
    report a lost context themselves."""
    import cupy

    try:
        with cupy.cuda.Device(device):
            if cupy.cuda.get_current_stream().is_capturing():
                return False
            cupy.cuda.Device().synchronize()
    except Exception:  # see above
        pass
    return True


def _cached(view: ImageView, target: Any, key: Any, sampler: Any, evictable: bool) -> Any:
    cache = cache_of(view)
    handles = cache.handles
    h = handles.get(key)
    if h is not None and h.alive:
        if evictable:
            try:
                cache.lru.move_to_end(key)  # recently used
            except KeyError:  # pinned, or being evicted (destroyed only after a sync)
                pass
            return h
        if key in cache.pinned:  # never leaves ``handles`` while alive
            return h
    # A miss makes the handle and files it under the memory's lock, which free()
    # holds around closing this cache: free() destroys every handle made before it,
    # and a miss after it raises ReleasedResourceError (create_image checks). Pinning
    # and eviction happen under it too.
    with lock_of(view._handle):
        h = handles.get(key)
        if h is None or not h.alive:
            h = handles[key] = create_image(target, sampler=sampler)
            if evictable:
                cache.lru[key] = None
                if len(cache.lru) > MAX_TEXTURES:
                    cache.evict(view._handle.device)
        if not evictable:
            cache.lru.pop(key, None)
            cache.pinned.add(key)
    return h


def texture(view: ImageView, sampler: Any, *, pin: bool = False) -> SampledImageHandle:
    """The cached :class:`SampledImageHandle` of ``view`` with ``sampler``: of the whole
    mipmap for a whole mipmapped view, else of the level shown. Evictable (see the
    module's "Bound") unless ``pin`` (``ImageArray.texture()``: handed to the caller)."""
    # whole mipmaps and linear-backed images: create_image resolves the view itself
    target = view if view._whole_mipmap or view._linear else view._handle
    key = (id(view._handle), view._whole_mipmap, sampler)
    return _cached(view, target, key, sampler, not pin)


def surface(view: ImageView) -> UnsampledImageHandle:
    """The cached :class:`UnsampledImageHandle` of the level ``view`` shows (of the whole
    layered or cubemap array for layer and face views)."""
    if view._linear:
        raise ImageArrayValueError(
            "CUDA surfaces need CUDA arrays: a linear-backed image is written through its "
            "CuPy array (img[...] = v, or cupy.asarray(img))"
        )
    return _cached(view, view._handle, (id(view._handle), "surface"), None, False)


def default_sampler(view: ImageView) -> Sampler:
    """The sampler ``sample()`` uses without one: clamp-to-edge, linear filtering where
    CUDA filters the channel type (nearest otherwise), unnormalized coordinates
    (normalized for whole mipmaps and cubemaps, which CUDA samples only so: sample()
    converts texel coordinates for them). Made once per view: sample() asks for it
    on every call."""
    cached = view.__dict__.get("_dsampler")
    if cached is None:
        filterable = view._vdesc.channel_type.reads_as_float
        # normalized where CUDA samples only so: whole mipmaps and cubemaps
        normalized = view._whole_mipmap or view.descriptor.type.is_cubemap
        key = (normalized, filterable, view.levels)
        cached = _DEFAULTS.get(key)
        if cached is None:  # samplers are immutable: one per kind, shared
            cached = _DEFAULTS[key] = Sampler(
                "clamp_to_edge",
                "normalized" if normalized else "unnormalized",
                "linear" if filterable else "nearest",
                mipmap_filtering="linear" if filterable else "nearest",
                max_mipmap_level_clamp=float(view.levels - 1),
            )
        view._dsampler = cached
    return cached


_DEFAULTS: dict[tuple, Sampler] = {}
