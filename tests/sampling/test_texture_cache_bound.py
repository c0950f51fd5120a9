"""The per-memory texture cache is bounded (CPU, with stand-in handles): sample()'s
textures are evicted least recently used, each destroyed exactly once and only after
a device synchronize that follows its leaving the cache; texture()'s are never
evicted. The issue: 2,000 samplers on one image left ~1,900 live texture objects."""

from __future__ import annotations

import threading
import types

import pytest

from imagearray.sampling import cache as c


class _Handle:
    made = 0

    def __init__(self, sampler):
        self.sampler = sampler
        self.destroyed = 0
        self._obj = object()
        _Handle.made += 1

    @property
    def alive(self):
        return self.destroyed == 0

    def destroy(self):
        assert self.destroyed == 0, "destroyed twice"
        self.destroyed += 1


@pytest.fixture
def world(monkeypatch):
    events = []
    capturing = [False]

    def wait(device):
        if capturing[0]:
            return False
        events.append(("sync", device))
        return True

    monkeypatch.setattr(c, "create_image", lambda target, sampler: _Handle(sampler))
    monkeypatch.setattr(c, "_wait_for_launches", wait)
    mem = types.SimpleNamespace(_cache=None)
    handle = types.SimpleNamespace(device=3, lock=threading.RLock())
    view = types.SimpleNamespace(_mem=mem, _handle=handle, _whole_mipmap=False, _linear=False)
    return view, events, capturing


def test_cache_never_holds_more_than_the_bound_and_destroys_each_once(world):
    view, events, _ = world
    made = [c.texture(view, ("sampler", i)) for i in range(2000)]
    cache = c.cache_of(view)
    live = [h for h in made if h.alive]
    assert len(cache.lru) <= c.MAX_TEXTURES
    assert len(live) <= c.MAX_TEXTURES + c.EVICT_BATCH + 1  # cached + retired, not destroyed
    assert all(h.destroyed <= 1 for h in made)
    # every eviction synchronized the memory's device first
    # the first at MAX_TEXTURES + 1, then every EVICT_BATCH + 1 new ones
    evictions = 1 + (2000 - c.MAX_TEXTURES - 1) // (c.EVICT_BATCH + 1)
    assert events == [("sync", 3)] * evictions
    cache.close()
    assert all(h.destroyed == 1 for h in made)  # exactly once, evicted or freed


def test_a_retired_texture_survives_until_the_next_eviction(world):
    view, events, _ = world
    first = [c.texture(view, i) for i in range(c.MAX_TEXTURES + 1)]  # one past: evict
    cache = c.cache_of(view)
    retired = first[: c.EVICT_BATCH + 1]
    assert all(h.alive for h in retired)  # retired, not destroyed: launches may hold them
    assert cache.retired == retired
    for i in range(c.MAX_TEXTURES, c.MAX_TEXTURES + c.EVICT_BATCH + 1):
        c.texture(view, ("more", i))
    assert len(events) == 2
    assert all(not h.alive for h in retired)


def test_recently_used_textures_stay(world):
    view, _, _ = world
    keep = c.texture(view, "hot")
    for i in range(5 * c.MAX_TEXTURES):
        c.texture(view, i)
        assert c.texture(view, "hot") is keep  # used again every time
    assert keep.alive


def test_texture_handed_out_is_never_evicted(world):
    view, _, _ = world
    mine = c.texture(view, "mine", pin=True)
    shared = c.texture(view, "shared")
    assert c.texture(view, "shared", pin=True) is shared  # pinned from now on
    for i in range(5 * c.MAX_TEXTURES):
        c.texture(view, i)
    assert mine.alive and shared.alive
    assert c.texture(view, "mine") is mine


def test_plans_naming_a_retired_texture_are_dropped(world):
    view, _, _ = world
    cache = c.cache_of(view)
    old = c.texture(view, "old")
    plans = {"p-old": types.SimpleNamespace(texobj=old._obj), "p-other": object()}
    cache.plans["view"] = plans
    for i in range(c.MAX_TEXTURES):
        c.texture(view, i)
    assert "p-old" not in plans and "p-other" in plans


def test_no_eviction_while_a_graph_is_captured(world):
    view, events, capturing = world
    capturing[0] = True
    made = [c.texture(view, i) for i in range(c.MAX_TEXTURES + 5)]
    assert all(h.alive for h in made) and not events
    capturing[0] = False
    c.texture(view, "after")
    assert events and len(c.cache_of(view).lru) <= c.MAX_TEXTURES


def test_free_detaches_then_waits_then_destroys(world, monkeypatch):
    view, _, _ = world
    cache = c.cache_of(view)
    made = [c.texture(view, i) for i in range(3)] + [c.texture(view, "p", pin=True)]
    cache.plans["view"] = {"k": types.SimpleNamespace(texobj=made[0]._obj)}
    seen = []

    def wait(device):
        # no launch can find them any more, and none is destroyed yet
        seen.append((device, dict(cache.handles), [h.alive for h in made]))
        return True

    monkeypatch.setattr(c, "_wait_for_launches", wait)
    cache.close(device=3)
    assert [s[0] for s in seen] == [3, 3]
    assert all(s[1] == {} and all(s[2]) for s in seen)
    assert not cache.plans and all(h.destroyed == 1 for h in made)
