"""free() racing create_image (and the engines' texture cache) on one image, without a
GPU: the memory is a real ``imagearray._memory.ArrayHandle`` wrapped over a fake
owner (its free() makes no driver call) and the texture objects are fakes.

The issue: free() iterated the set of live handles while another thread added to it
(a bare ``RuntimeError: Set changed size during iteration``), and a handle made
while the memory was being freed was lost: alive over freed memory. Now the memory's
lock orders the two: a handle made first is destroyed by ImageArray.free (a cached
one) or makes the free refuse (one of create_image); one asked for after raises
ReleasedResourceError.
"""

from __future__ import annotations

import threading

import pytest

import imagearray as ia
from imagearray import _memory
from imagearray.array import ImageArray
from imagearray.handles import create as _create_mod
from imagearray.handles import live_handles
from imagearray.sampling import cache as _cache

WAIT = 10
DESC = ia.ImageDescriptor(16, 16)
SAMPLER = ia.Sampler()


class Owner:
    """What a wrapped ArrayHandle follows (as a mapped external image's mapping)."""

    def __init__(self):
        self.alive, self.frees, self.gate = True, 0, None

    def free(self):
        if self.gate is not None:
            self.gate[0].set()
            assert self.gate[1].wait(WAIT)
        self.alive = False
        self.frees += 1


class TextureObject:
    """A fake _handles.TextureObject: alive until destroyed."""

    count = 0

    def __init__(self, owner):
        TextureObject.count += 1
        self.raw_handle = 0x100 + TextureObject.count
        self.alive, self.device, self.memory = True, 0, owner

    def destroy(self):
        if not self.alive:
            raise ia.ReleasedResourceError("destroyed twice")
        self.alive = False


@pytest.fixture
def fake(monkeypatch):
    made = []
    state = {"gate": None}

    def create(cy, plan, kind, device, address, owner):
        if state["gate"] is not None:
            state["gate"][0].set()
            assert state["gate"][1].wait(WAIT)
        assert owner.alive, "a handle was made over freed memory"
        obj = TextureObject(owner)
        made.append(obj)
        return obj

    monkeypatch.setattr(_create_mod, "_create", create)
    monkeypatch.setattr(_create_mod, "_record", lambda *a: None)  # no recipes: fakes
    monkeypatch.setattr(_create_mod, "_RECIPES", {})
    return made, state


def memory():
    owner = Owner()
    return _memory.wrap_array(0, 0x1234, DESC, owner), owner


def gate():
    return threading.Event(), threading.Event()  # (entered, go on)


def start(fn):
    out = {}

    def run():
        try:
            out["value"] = fn()
        except BaseException as exc:
            out["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, out


def join(t):
    t.join(WAIT)
    assert not t.is_alive()


def test_a_create_in_progress_makes_a_free_wait_then_refuse(fake):
    made, state = fake
    mem, owner = memory()
    state["gate"] = g = gate()
    creator, got = start(lambda: ia.create_image(mem, DESC, SAMPLER))
    assert g[0].wait(WAIT)  # the driver call is running
    freer, freed = start(mem.free)
    freer.join(0.05)
    assert freer.is_alive(), "free went on while a handle was being made"
    g[1].set()
    join(creator)
    join(freer)
    assert isinstance(freed["error"], ia.ImageArrayValueError)  # refused: a handle lives
    assert "still alive" in str(freed["error"])
    assert mem.alive and owner.frees == 0
    handle = got["value"]
    assert live_handles(mem) == [handle._obj]
    handle.destroy()
    mem.free()
    assert owner.frees == 1


def test_a_create_during_free_raises_released(fake):
    made, state = fake
    mem, owner = memory()
    owner.gate = g = gate()
    freer, freed = start(mem.free)
    assert g[0].wait(WAIT)  # free is running
    creator, got = start(lambda: ia.create_image(mem, DESC, SAMPLER))
    creator.join(0.05)
    g[1].set()
    join(freer)
    join(creator)
    assert "error" not in freed
    assert isinstance(got.get("error"), ia.ReleasedResourceError), got
    assert made == []  # nothing was made over the freed memory


def test_creates_racing_frees_never_escape_the_family_nor_lose_a_handle(fake):
    made, _ = fake
    mem, owner = memory()
    keeper = ia.create_image(mem, DESC, SAMPLER)  # free refuses while it lives
    for _ in range(500):  # dead ones in the set: a long iteration for free()
        ia.create_image(mem, DESC, SAMPLER).destroy()
    stop = threading.Event()
    errors: list = []
    handles: list = []

    def creator():
        while not stop.is_set():
            try:
                h = ia.create_image(mem, DESC, SAMPLER)
            except ia.ReleasedResourceError:
                return
            except BaseException as exc:  # pragma: no cover - the failure report
                errors.append(exc)
                return
            handles.append(h)
            h.destroy()

    threads = [threading.Thread(target=creator, daemon=True) for _ in range(3)]
    for t in threads:
        t.start()
    refusals = 0
    try:
        for i in range(300):
            if i == 150:
                keeper.destroy()
            try:
                mem.free()
                break
            except ia.ImageArrayValueError:
                refusals += 1
            except BaseException as exc:  # pragma: no cover - the failure report
                errors.append(exc)
                break
    finally:
        stop.set()
        for t in threads:
            join(t)
    assert errors == [], errors
    assert refusals >= 150
    if owner.frees:  # freed: every handle made before is gone, none after
        assert not mem.alive
        assert [o for o in made if o.alive] == []
        with pytest.raises(ia.ReleasedResourceError):
            ia.create_image(mem, DESC, SAMPLER)
    else:  # the creators kept one alive each time: still consistent
        assert mem.alive


def test_image_free_destroys_cached_handles_made_meanwhile(fake):
    """ImageArray.free against texture() on another thread: a cached handle made
    before the free is destroyed by it; one asked for after raises."""
    made, state = fake
    mem, owner = memory()
    img = ImageArray.from_mem(ia.ImageMem._from_handle(mem))
    state["gate"] = g = gate()
    getter, got = start(lambda: _cache.texture(img, SAMPLER))
    assert g[0].wait(WAIT)  # the cache is making the texture
    freer, freed = start(img.free)
    freer.join(0.05)
    assert freer.is_alive(), "free went on while the cache was making a handle"
    g[1].set()
    join(getter)
    join(freer)
    assert "error" not in freed and owner.frees == 1
    tex = got["value"]
    assert not tex.alive  # made before the free, destroyed by it
    state["gate"] = None
    with pytest.raises(ia.ReleasedResourceError):
        _cache.texture(img, ia.Sampler(filtering="linear"))
    assert [o for o in made if o.alive] == []


def test_image_mem_shows_its_handles_lock():
    m = _memory.wrap_mipmapped_array(
        0, 0x5678, ia.ImageDescriptor(8, 8, type="mipmap", num_levels=2), 2, Owner()
    )
    assert ia.ImageMem._from_handle(m).lock is m.lock
    assert memory()[0].lock is not m.lock
