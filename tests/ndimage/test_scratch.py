"""The scratch pool's bookkeeping (imagearray.ndimage._scratch) on stand-in images:
reuse by kind, the byte cap (oldest idle freed first), clear, and the retry after an
allocation runs out of device memory. The GPU tests (test_scratch_gpu.py) lend real
CUDA arrays."""

from __future__ import annotations

import numpy as np
import pytest

from imagearray._errors import CUDAOutOfMemoryError
from imagearray.ndimage import _scratch


def _oom() -> CUDAOutOfMemoryError:
    return CUDAOutOfMemoryError(2, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory", "cuArray3DCreate")


class _Handle:
    alive = True


class _Image:
    made = 0

    def __init__(self, shape, dtype, channels, **kw):
        _Image.made += 1
        self.shape, self.dtype, self.levels = tuple(shape), np.dtype(dtype), kw.get("levels", 1)
        self._handle = _Handle()
        self.freed = 0

    def free(self):
        self.freed += 1
        self._handle = type("Dead", (), {"alive": False})()


@pytest.fixture
def pool(monkeypatch):
    monkeypatch.setattr(_scratch, "empty", _Image)
    monkeypatch.setattr(_scratch, "current_device", lambda: 0)
    monkeypatch.setattr(_scratch, "_IDLE", {})
    monkeypatch.setattr(_scratch, "_ORDER", _scratch.collections.OrderedDict())
    monkeypatch.setattr(_scratch, "_BYTES", 0)
    monkeypatch.setattr(_scratch, "_LENT", {})
    _Image.made = 0
    return _scratch


def test_an_image_given_back_is_lent_again_for_the_same_kind_only(pool):
    a = pool.take((8, 16), np.float32, 1)
    assert a.nbytes == 8 * 16 * 4 and pool.idle_bytes() == 0
    img = a.image
    a.give_back()
    assert pool.idle_bytes() == 512 and a.image is None
    a.give_back()  # a second give-back does nothing
    assert pool.idle_bytes() == 512
    assert pool.take((8, 16), np.uint8, 1).image is not img  # another dtype
    assert pool.take((8, 16), np.float32, 1, layered=True).image is not img  # other kw
    b = pool.take((8, 16), np.float32, 1)
    assert b.image is img and pool.idle_bytes() == 0 and _Image.made == 3


def test_idle_images_over_the_cap_are_freed_oldest_first(pool, monkeypatch):
    monkeypatch.setattr(pool, "MAX_BYTES", 1000)
    leases = [pool.take((10, 10), np.float32, 1) for _ in range(3)]  # 400 bytes each
    imgs = [ls.image for ls in leases]
    for ls in leases:
        ls.give_back()
    assert [i.freed for i in imgs] == [1, 0, 0] and pool.idle_bytes() == 800
    mip = pool.take((10, 10), np.float32, 1, levels=3)
    assert mip.nbytes == 800  # a chain counts twice level 0
    assert pool.clear() == 2 and pool.idle_bytes() == 0
    assert [i.freed for i in imgs] == [1, 1, 1]


def test_an_image_freed_while_idle_is_not_lent(pool):
    a = pool.take((4, 4), np.float32, 1)
    img = a.image
    a.give_back()
    img.free()  # e.g. by the user through a view
    assert pool.take((4, 4), np.float32, 1).image is not img
    assert pool.idle_bytes() == 0


def test_running_out_of_memory_clears_the_pool_and_tries_once_more(pool, monkeypatch):
    a = pool.take((4, 4), np.float32, 1)
    idle = a.image
    a.give_back()
    calls = []

    def tight(shape, dtype, channels, **kw):
        calls.append(shape)
        if idle.freed == 0:
            raise _oom()
        return _Image(shape, dtype, channels, **kw)

    monkeypatch.setattr(pool, "empty", tight)
    assert pool.take((64, 64), np.float32, 1).image.shape == (64, 64)
    assert idle.freed == 1 and len(calls) == 2

    def none_left(*args, **kw):
        raise _oom()

    monkeypatch.setattr(pool, "empty", none_left)
    with pytest.raises(CUDAOutOfMemoryError):  # nothing idle to free: the error stands
        pool.take((64, 64), np.float32, 1)


def test_a_kind_lent_twice_waits_for_one_to_come_back(pool):
    """Double buffering: a third take of a kind lent out twice first calls wait()
    (which gives the oldest back) and reuses it; where wait() finds nothing queued it
    allocates. Other kinds never wait."""
    a, b = pool.take((8, 8), np.float32, 1), pool.take((8, 8), np.float32, 1)
    waits = []

    def wait():
        waits.append(1)
        if a.image is None:
            return False
        a.give_back()
        return True

    img_a = a.image
    c = pool.take((8, 8), np.float32, 1, wait=wait)
    assert c.image is img_a and waits == [1] and _Image.made == 2
    d = pool.take((8, 8), np.float32, 1, wait=wait)  # a is gone: nothing to wait for
    assert waits == [1, 1] and _Image.made == 3 and d.image is not img_a
    assert pool._LENT[c.key] == 3
    pool.take((8, 9), np.float32, 1, wait=wait)  # another kind: lent once, no wait
    assert waits == [1, 1]
    for lease in (b, c, d):
        lease.give_back()
    assert c.key not in pool._LENT and pool.idle_bytes() == 3 * 256


def test_a_lease_dropped_without_give_back_is_no_longer_counted(pool):
    a = pool.take((4, 4), np.float32, 1)
    key = a.key
    assert pool._LENT[key] == 1
    del a
    assert key not in pool._LENT and pool.idle_bytes() == 0


def test_release_holds_device_arrays_and_frees_the_rest():
    """What a launch kept (Source.keep) is given back once it has run: images are
    freed, handles destroyed, and device arrays (order 3's 2D coefficients read in
    place) only dropped."""
    from imagearray.ndimage import _textures

    class _Tex:
        alive, destroyed = True, 0

        def destroy(self):
            self.destroyed += 1

    tex, arr, img = _Tex(), np.zeros(3), _Image((4, 4), np.float32, 1)
    img.free = lambda: setattr(img, "freed", img.freed + 1)
    _textures._release([tex, arr, img])
    assert tex.destroyed == 1 and img.freed == 1
