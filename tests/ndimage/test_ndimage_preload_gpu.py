"""GPU tests of ``_source.PRELOAD`` (map_coordinates and remap loading every point's
coordinates before the first fetch): the same bits as without it for every mode,
order 0 and 1, both precisions, 2D and 3D, point counts that leave a thread's last
points past the end, NaN and far coordinates; and the results against cupyx."""

from __future__ import annotations

import cupy
import cupyx.scipy.ndimage as ndi
import numpy as np
import pytest
from _ndimage_util import GRID, MODES, SHAPES, check, coords, data, span

import imagearray as ia
from imagearray.ndimage import _plan, _source

pytestmark = pytest.mark.gpu


def _both(monkeypatch, call):
    """``call()`` without PRELOAD, then with it (plans cleared between: a plan keeps
    its kernel)."""
    results = []
    for preload in (False, True):
        monkeypatch.setattr(_source, "PRELOAD", preload)
        _plan.clear()
        results.append(call())
    _plan.clear()
    return results


def _bits(a):
    return cupy.asnumpy(a).view(np.uint8)


@pytest.mark.parametrize("precision", ["exact", "hardware"])
@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("nd", [2, 3])
def test_map_coordinates_preloaded_is_the_same(monkeypatch, nd, mode, order, precision):
    x = data(SHAPES[nd], "float32")
    c = coords(x.shape, GRID[nd], order)
    flat = c.reshape(nd, -1)  # (a view) three points NaN, far above and far below
    flat[0, 0], flat[:, 1], flat[:, 2] = np.nan, 1e9, -1e9
    kw = dict(order=order, mode=mode, cval=0.25)
    off, on = _both(
        monkeypatch, lambda: ia.ndimage.map_coordinates(x, c, precision=precision, **kw)
    )
    np.testing.assert_array_equal(_bits(on), _bits(off))
    if precision == "exact":  # the ordinary points against cupyx (test_ndimage_gpu's rule)
        want = ndi.map_coordinates(x, c, **kw)
        free = 1 if order == 0 else 0
        check(on.reshape(-1)[3:], want.reshape(-1)[3:], span(x), free=free)


@pytest.mark.parametrize("npts", [1, 255, 257, 1023, 4097])  # CO * blockDim never divides
def test_point_counts_with_a_short_last_thread(monkeypatch, npts):
    x = data((40, 50), "float32")
    rs = np.random.RandomState(npts)
    c = cupy.asarray(rs.uniform(-2, 52, (2, npts)).astype(np.float32))
    off, on = _both(monkeypatch, lambda: ia.ndimage.map_coordinates(x, c, order=1))
    np.testing.assert_array_equal(_bits(on), _bits(off))


@pytest.mark.parametrize("relative", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "uint8"])
def test_remap_preloaded_is_the_same(monkeypatch, relative, dtype):
    x = data((37, 45), dtype)
    rs = np.random.RandomState(3)
    my = rs.uniform(-3, 40, (29, 31)).astype(np.float32)
    mx = rs.uniform(-3, 48, (29, 31)).astype(np.float32)
    if relative:
        my -= np.arange(29, dtype=np.float32)[:, None]
        mx -= np.arange(31, dtype=np.float32)[None, :]
    my, mx = cupy.asarray(my), cupy.asarray(mx)
    off, on = _both(
        monkeypatch,
        lambda: ia.ndimage.remap(x, my, mx, mode="constant", relative=relative, order=1),
    )
    np.testing.assert_array_equal(_bits(on), _bits(off))
