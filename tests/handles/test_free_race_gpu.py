"""free() racing create_image and texture() on one image, on a GPU: only family
errors come out, no handle outlives the freed memory, and the context is alive."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import imagearray as ia

pytestmark = pytest.mark.gpu


def _one_round(how: str) -> None:
    img = ia.asimage(np.arange(64 * 64, dtype=np.float32).reshape(64, 64))
    mem_handle = img._handle
    samplers = [ia.Sampler(filtering="linear", max_mipmap_level_clamp=i) for i in range(50)]
    errors, made = [], []
    started = threading.Barrier(2)

    def creator():
        started.wait()
        for s in samplers:
            try:
                h = ia.create_image(img, sampler=s) if how == "create_image" else img.texture(s)
            except ia.ReleasedResourceError:
                return
            except Exception as exc:  # pragma: no cover - the failure report
                errors.append(exc)
                return
            made.append(h)
            if how == "create_image":
                h.destroy()  # else free() would refuse for as long as it lives

    t = threading.Thread(target=creator, daemon=True)
    t.start()
    started.wait()
    freed = False
    for _ in range(1000):
        try:
            img.free()
            freed = True
            break
        except ia.ImageArrayValueError:  # a create_image handle is alive right now
            continue
    t.join(30)
    assert not t.is_alive()
    assert errors == [], errors
    if not freed:
        img.free()  # the creator is done: nothing left alive
    assert not mem_handle.alive
    assert [h for h in made if h.alive] == [], "a handle outlived the freed memory"
    with pytest.raises(ia.ReleasedResourceError):
        ia.create_image(img, sampler=samplers[0])


@pytest.mark.parametrize("how", ["create_image", "texture"])
def test_free_racing_handle_creation(how):
    import cupy

    for _ in range(20):  # bounded: each round frees one image under the race
        _one_round(how)
    assert int(cupy.arange(100, dtype=cupy.int64).sum()) == 4950
