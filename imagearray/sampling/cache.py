"""The sampling engines' per-memory cache: the handles they made (textures per sampler,
surfaces), the sample() plans of each view, and mip generation's launches and graph.

One :class:`MemoryCache` per ``ImageMem`` (kept in its ``_cache`` slot), shared by
every view of that memory; :meth:`MemoryCache.close` destroys the handles and drops
the plans that name them, before the memory is freed.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from imagearray._errors import ImageArrayValueError
from imagearray._sampler import Sampler
from imagearray.handles import create_image
from imagearray.memory import ImageView

if TYPE_CHECKING:
    from imagearray.handles import SampledImageHandle, UnsampledImageHandle

__all__ = ["MemoryCache", "cache_of", "default_sampler", "lock_of", "surface", "texture"]


class MemoryCache:
    """What the sampling engines keep for one image memory.

    handles : (id(level handle), whole mipmap, sampler) or (id(level handle),
        "surface") -> the handle made for it (replaced once destroyed)
    plans : view key -> that view's sample() plans (see ``sampling.engine``)
    mipgen : the per-level filter's launches (user kernels), or None
    mipfused : (launches, surfaces they name) of the fused box filter, or None
    mipgen_graph : (launches, wide reads, CUDA graph or None) captured from the fused
        ones, or None
    """

    __slots__ = ("handles", "plans", "mipgen", "mipfused", "mipgen_graph")

    def __init__(self) -> None:
        self.handles: dict = {}
        self.plans: dict = {}
        self.mipgen: list | None = None
        self.mipfused: tuple | None = None
        self.mipgen_graph: tuple | None = None

    def close(self) -> None:
        """Destroy every live handle and forget the plans and launches naming them."""
        for plans in self.plans.values():
            plans.clear()  # views still hold their dicts: leave them empty
        self.plans.clear()
        self.mipgen = self.mipfused = self.mipgen_graph = None
        handles = list(self.handles.values())
        self.handles.clear()
        for h in handles:
            if h.alive:
                h.destroy()

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


def _cached(view: ImageView, target: Any, key: Any, sampler: Any) -> Any:
    handles = cache_of(view).handles
    h = handles.get(key)
    if h is not None and h.alive:
        return h
    # A miss makes the handle and files it under the memory's lock, which free()
    # holds around closing this cache: free() destroys every handle made before it,
    # and a miss after it raises ReleasedResourceError (create_image checks).
    with lock_of(view._handle):
        h = handles.get(key)
        if h is None or not h.alive:
            h = handles[key] = create_image(target, sampler=sampler)
    return h


def texture(view: ImageView, sampler: Any) -> SampledImageHandle:
    """The cached :class:`SampledImageHandle` of ``view`` with ``sampler``: of the whole
    mipmap for a whole mipmapped view, else of the level shown."""
    # whole mipmaps and linear-backed images: create_image resolves the view itself
    target = view if view._whole_mipmap or view._linear else view._handle
    return _cached(view, target, (id(view._handle), view._whole_mipmap, sampler), sampler)


def surface(view: ImageView) -> UnsampledImageHandle:
    """The cached :class:`UnsampledImageHandle` of the level ``view`` shows (of the whole
    layered or cubemap array for layer and face views)."""
    if view._linear:
        raise ImageArrayValueError(
            "CUDA surfaces need CUDA arrays: a linear-backed image is written through its "
            "CuPy array (img[...] = v, or cupy.asarray(img))"
        )
    return _cached(view, view._handle, (id(view._handle), "surface"), None)


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
