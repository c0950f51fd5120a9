"""Helpers of the ia.ndimage GPU tests (test_ndimage_gpu.py, test_ndimage_batch_gpu.py):
test data, coordinates that reach well outside the input, one argument set per
function, its cupyx.scipy.ndimage reference per (sample, channel) plane, and the
comparison rule. Nothing here touches the GPU at import (the modules are collected on
machines without one).

The matrices are dyadic (few-bit binary fractions): their coordinates are exact in
float32 in both implementations, so order 0 reads the same texel even at .5 ties and
integer outputs round the same sums. Where the two compute coordinates by different
float paths (``mode='opencv'``, which cupyx resolves with ``cupy.dot`` and a float64
offset; ``rotate``, whose 30 degrees put many points exactly on a tie), order 0 may pick
the other neighbour at a tie (:func:`tie_mask` leaves those points out) and integer
outputs may round the other way more often (:func:`loose`).
"""

from __future__ import annotations

import cupy
import cupyx.scipy.ndimage as ndi
import numpy as np

import imagearray as ia
from imagearray.ndimage import _modes

MODES = _modes.MODES[:-1]  # every mode a user passes (_opencv_edge is internal)
INT_DTYPES = ("uint8", "int8", "uint16", "int16")
DTYPES = INT_DTYPES + ("float16", "float32")
OTHER_DTYPES = DTYPES[:-1]  # all but float32
FUNCS = (
    "map_coordinates",
    "affine_transform",
    "zoom",
    "shift",
    "rotate",
    "warp_perspective",
    "remap",
)
WARPS = ("warp_perspective", "remap")  # 2D only
SHAPES = {2: (23, 17), 3: (9, 11, 7)}  # widths 17 / 7: rows not 32-byte aligned
GRID = {2: (19, 21), 3: (6, 7, 5)}  # map_coordinates / remap output shapes
MARGIN = 8  # coordinates reach [-MARGIN, n - 1 + MARGIN]

# (matrix: output index -> input coordinate, offset, output_shape), dyadic
AFFINE = {
    2: (
        np.array([[1.46875, 0.109375], [-0.09375, 1.53125]]),
        [-8.375, -7.625],
        (27, 21),
    ),
    3: (
        np.array([[2.25, 0.0625, -0.125], [0.09375, 2.0, 0.0625], [-0.0625, 0.125, 2.875]]),
        [-8.125, -7.875, -8.25],
        (10, 12, 8),
    ),
}
ZOOMS = {2: (1.7, 0.6), 3: (1.5, 0.7, 1.3)}
SHIFTS = {2: (5.3, -6.7), 3: (3.3, -4.6, 2.7)}
ROT_AXES = {2: (1, 0), 3: (0, 2)}
# OpenCV convention: maps output (x = column, y = row, 1) to the input (inverse_map)
WARP = np.array([[1.96875, 0.125, -8.25], [-0.0625, 1.75, -7.875], [0.0, 0.0, 1.0]])
PERSPECTIVE = np.array([[1.9, 0.13, -8.1], [-0.07, 1.7, -7.6], [2.1e-3, -1.3e-3, 1.0]])


def cval_of(dtype) -> float:
    """A non-zero cval the dtype holds exactly."""
    return 0.5 if np.dtype(dtype).kind == "f" else 7


def data(shape, dtype, seed=0):
    """Random CuPy data: floats in [-1, 1], integers over the dtype's whole range."""
    rs = cupy.random.RandomState(seed)
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return rs.uniform(-1.0, 1.0, shape).astype(dt)
    info = np.iinfo(dt)
    return rs.randint(int(info.min), int(info.max) + 1, size=shape, dtype=np.int64).astype(dt)


def span(x) -> float:
    """max - min of an input (the scale of the tolerances)."""
    x = cupy.asarray(x)
    return max(float(x.max()) - float(x.min()), 1e-30)


def coords(shape, grid, order, seed=1):
    """float32 coordinates (len(shape), *grid) in [-MARGIN, n - 1 + MARGIN]: per axis a
    third random, a third integers, a third half-integers (for order 0 moved 1e-3 off
    the tie, which cupyx and the textures may break by different float paths)."""
    rs = np.random.RandomState(seed)
    size = int(np.prod(grid))
    out = []
    for n in shape:
        u = rs.uniform(-MARGIN, n - 1 + MARGIN, size)
        kind = rs.randint(0, 3, size)
        u = np.where(kind == 1, np.round(u), u)
        u = np.where(kind == 2, np.floor(u) + 0.5 + (1e-3 if order == 0 else 0.0), u)
        out.append(u.reshape(grid))
    return cupy.asarray(np.stack(out).astype(np.float32))


def warp_coords(minv, out_shape):
    """NumPy (float64) input coordinates (row, column) of a homography that maps output
    (x, y, 1) to the input (OpenCV's convention, x = column)."""
    m = np.asarray(cupy.asnumpy(minv) if isinstance(minv, cupy.ndarray) else minv, np.float64)
    rows, cols = np.indices(tuple(out_shape), dtype=np.float64)
    w = m[2, 0] * cols + m[2, 1] * rows + m[2, 2]
    x = (m[0, 0] * cols + m[0, 1] * rows + m[0, 2]) / w
    y = (m[1, 0] * cols + m[1, 1] * rows + m[1, 2]) / w
    return np.stack([y, x])


def fn_args(fn, shape, order, seed=1):
    """(positional args, keywords) of ``fn`` for an input of spatial ``shape``; the
    same for ia.ndimage and the cupyx reference (:func:`ref`)."""
    nd = len(shape)
    if fn == "map_coordinates":
        return (coords(shape, GRID[nd], order, seed),), {}
    if fn == "affine_transform":
        m, off, out = AFFINE[nd]
        return (cupy.asarray(m), off), {"output_shape": out}
    if fn == "zoom":
        return (ZOOMS[nd],), {}
    if fn == "shift":
        return (SHIFTS[nd],), {}
    if fn == "rotate":
        return (30.0,), {"axes": ROT_AXES[nd], "reshape": True}
    if fn == "warp_perspective":
        return (WARP,), {"inverse_map": True}
    if fn == "remap":
        c = coords(shape, GRID[2], order, seed + 1)
        return (c[0], c[1]), {}
    raise AssertionError(fn)


def ours(fn, x, order, mode, cval, args, kw, **extra):
    """ia.ndimage's ``fn`` (``extra``: precision, channel_axis, batch_axes, ...)."""
    return getattr(ia.ndimage, fn)(x, *args, order=order, mode=mode, cval=cval, **kw, **extra)


def ref(fn, plane, order, mode, cval, args, kw, output=None):
    """cupyx.scipy.ndimage's result for one plane (warps: map_coordinates at the
    coordinates computed here)."""
    if fn == "warp_perspective":
        m = args[0]
        if not kw.get("inverse_map", False):
            m = np.linalg.inv(cupy.asnumpy(m) if isinstance(m, cupy.ndarray) else m)
        shape = kw.get("output_shape") or plane.shape
        c = cupy.asarray(warp_coords(m, shape).astype(np.float32))
        return ndi.map_coordinates(plane, c, output, order, mode, cval)
    if fn == "remap":
        my, mx = cupy.asarray(args[0]), cupy.asarray(args[1])
        if kw.get("relative", False):
            dt = np.float64 if np.float64 in (my.dtype, mx.dtype) else np.float32
            rows, cols = cupy.indices(my.shape, dtype=dt)
            my, mx = my.astype(dt) + rows, mx.astype(dt) + cols
        return ndi.map_coordinates(plane, cupy.stack([my, mx]), output, order, mode, cval)
    if fn == "affine_transform" and mode == "opencv":
        # cupyx's opencv branch fails on a list offset (it assigns it into a CuPy array):
        # give it the same transform as one homogeneous matrix
        nd = plane.ndim
        m = np.asarray(
            cupy.asnumpy(args[0]) if isinstance(args[0], cupy.ndarray) else args[0], np.float64
        )
        off = np.broadcast_to(np.asarray(args[1] if len(args) > 1 else 0.0, np.float64), (nd,))
        if m.ndim == 1:
            m = np.diag(m)
        full = np.eye(nd + 1)
        if m.shape == (nd, nd):
            full[:nd, :nd], full[:nd, nd] = m, off
        else:
            full[:nd] = m[:nd]
        args = (cupy.asarray(full),) + tuple(args[2:])
    return getattr(ndi, fn)(plane, *args, output=output, order=order, mode=mode, cval=cval, **kw)


def planes_ref(fn, x, order, mode, cval, args, kw, *, batched=False, channels=False, each=None):
    """cupyx's result per (sample, channel) plane of ``x``, stacked as ia.ndimage's
    output; ``each(b)`` gives sample b's (args, kw) where they differ per sample."""
    xb = x if batched else x[None]
    xc = xb if channels else xb[..., None]
    samples = []
    for b in range(xc.shape[0]):
        a, k = each(b) if each is not None else (args, kw)
        planes = [
            ref(fn, cupy.ascontiguousarray(xc[b, ..., c]), order, mode, cval, a, k)
            for c in range(xc.shape[-1])
        ]
        samples.append(cupy.stack(planes, axis=-1))
    r = cupy.stack(samples)
    r = r if channels else r[..., 0]
    return r if batched else r[0]


def hw_bound(nd, s) -> float:
    """The documented bound of precision='hardware' at order 1: ndim / 256 of the range
    (a weight of 8 fractional bits off by at most one step: see docs/ndimage.rst)."""
    return nd / 256 * s


def loose(fn, mode) -> bool:
    """Whether cupyx and ia.ndimage compute ``fn``'s coordinates by different float
    paths (see the module docstring): ties are masked, more +-1 roundings allowed."""
    return mode == "opencv" or fn == "rotate"


def rotation(shape, angle, axes, reshape):
    """cupyx.scipy.ndimage.rotate's (matrix, offset, output shape), in float64."""
    nd = len(shape)
    ax = sorted(a + nd if a < 0 else a for a in axes)
    rad = np.deg2rad(angle)
    rot = np.array([[np.cos(rad), np.sin(rad)], [-np.sin(rad), np.cos(rad)]])
    img = np.asarray(shape)
    plane = img[ax]
    if reshape:
        bounds = rot @ [[0, 0, plane[0], plane[0]], [0, plane[1], 0, plane[1]]]
        plane_out = (np.ptp(bounds, axis=1) + 0.5).astype(np.int64)
    else:
        plane_out = plane
    out = img.copy()
    out[ax] = plane_out
    m = np.eye(nd)
    m[np.ix_(ax, ax)] = rot
    off = np.zeros(nd)
    off[ax] = (plane - 1) / 2 - rot @ ((plane_out - 1) / 2)
    return m, off, tuple(int(n) for n in out)


def _affine_coords(m, off, out):
    idx = np.indices(tuple(out), dtype=np.float64)
    return np.tensordot(m, idx, 1) + np.asarray(off, np.float64).reshape((-1,) + (1,) * len(out))


def ref_coords(fn, shape, mode, args, kw):
    """The input coordinates (ndim, *output shape) of ``fn``, in float64."""
    nd = len(shape)

    def host(a):
        return np.asarray(cupy.asnumpy(a) if isinstance(a, cupy.ndarray) else a, np.float64)

    if fn == "map_coordinates":
        return host(args[0])
    if fn == "remap":
        c = np.stack([host(args[0]), host(args[1])])
        return c + np.indices(c.shape[1:]) if kw.get("relative") else c
    if fn == "warp_perspective":
        m = host(args[0]) if kw.get("inverse_map") else np.linalg.inv(host(args[0]))
        return warp_coords(m, kw.get("output_shape") or shape)
    if fn == "shift":
        s = np.broadcast_to(np.asarray(args[0], np.float64), (nd,))
        return np.indices(shape, dtype=np.float64) - s.reshape((nd,) + (1,) * nd)
    if fn == "zoom":
        z = np.broadcast_to(np.asarray(args[0], np.float64), (nd,))
        out = tuple(int(round(n * f)) for n, f in zip(shape, z))
        idx = np.indices(out, dtype=np.float64)
        c = []
        for j, (n, o) in enumerate(zip(shape, out)):
            if mode == "opencv":
                c.append(n / o * idx[j] + (n / o - 1) / 2)
            elif kw.get("grid_mode"):
                c.append(n / o * (idx[j] + 0.5) - 0.5)
            else:
                c.append((n - 1) / (o - 1) * idx[j] if o > 1 else 0 * idx[j])
        return np.stack(c)
    if fn == "rotate":  # cupyx's opencv rotate is the plain matrix with a cval border
        return _affine_coords(
            *rotation(shape, args[0], kw.get("axes", (1, 0)), kw.get("reshape", True))
        )
    if fn == "affine_transform":
        m = host(args[0])
        off = np.broadcast_to(np.asarray(args[1] if len(args) > 1 else 0.0, np.float64), (nd,))
        if m.ndim == 1:
            m = np.diag(m)
        elif m.shape != (nd, nd):
            m, off = m[:nd, :nd], m[:nd, nd]
        if mode == "opencv":  # cupyx: inverted, its two first axes swapped
            full = np.eye(nd + 1)
            full[:nd, :nd], full[:nd, nd] = m, off
            full = np.linalg.inv(full)
            full[:2] = np.roll(full[:2], 1, axis=0)
            full[:2, :2] = np.roll(full[:2, :2], 1, axis=1)
            m, off = full[:nd, :nd], full[:nd, nd]
        return _affine_coords(m, off, kw.get("output_shape") or shape)
    raise AssertionError(fn)


def tie_mask(fn, shape, order, mode, args, kw):
    """None, or (order 0 where the float paths differ) False at the output points whose
    coordinate lies within 1e-4 of a .5 tie on some axis."""
    if order != 0 or not loose(fn, mode):
        return None
    c = ref_coords(fn, shape, mode, args, kw)
    return ~(np.abs(c - np.floor(c) - 0.5) < 1e-4).any(axis=0)


def check(got, want, s, *, hw=0.0, free=0, mask=None, atol=1e-5, handful=0.005, what=""):
    """``got`` (ia.ndimage) against ``want`` (cupyx) for an input of range ``s``:
    float32/float64 within 1e-5 relative + ``atol * s``; float16 within 2e-3 relative +
    2e-3 * s (cupyx accumulates in float16); integers exactly, but for a handful of
    +-1 (roundings at a .5 tie, at most ``handful`` of the points, 0.5%, or 2); ``hw``
    widens every bound
    (precision='hardware', integers then +1 count); ``free`` points may differ by any
    amount; ``mask`` (broadcast to the output) selects the points compared."""
    assert isinstance(got, cupy.ndarray), f"{what}: result is a {type(got).__name__}"
    assert got.shape == want.shape, f"{what}: shape {got.shape} != cupyx's {want.shape}"
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} != cupyx's {want.dtype}"
    g = cupy.asnumpy(got).astype(np.float64)
    w = cupy.asnumpy(want).astype(np.float64)
    idx = np.argwhere(np.ones(g.shape, bool))  # the index of every point, C order
    if mask is not None:
        m = np.broadcast_to(mask, g.shape)
        g, w, idx = g[m], w[m], idx[m.reshape(-1)]
    g, w = g.reshape(-1), w.reshape(-1)
    nan = np.isnan(w)
    assert np.array_equal(np.isnan(g), nan), f"{what}: NaN at {idx[np.isnan(g) != nan][:5]}"
    g, w, idx = g[~nan], w[~nan], idx[~nan]
    with np.errstate(invalid="ignore"):
        err = np.where(g == w, 0.0, np.abs(g - w))
    if got.dtype.kind in "iu":
        if hw:
            bad = err > hw + 1e-5 * s + 1
        else:
            bad = err > 1
            n1 = int(np.count_nonzero(err == 1))
            assert n1 <= max(2, int(err.size * handful)), (
                f"{what}: {n1} of {err.size} points differ by 1 from cupyx"
            )
    else:
        rtol, at = (2e-3, 2e-3) if got.dtype == np.float16 else (1e-5, atol)
        bad = err > rtol * np.abs(w) + at * s + hw
    nbad = int(np.count_nonzero(bad))
    if nbad > free:
        worst = np.argsort(-np.where(bad, err, -1.0))[:5]
        rows = [f"{tuple(idx[i])}: got {g[i]!r}, cupyx {w[i]!r}" for i in worst]
        raise AssertionError(
            f"{what}: {nbad} of {err.size} points off cupyx (range {s:g}, hw {hw:g}); "
            + "; ".join(rows)
        )


def spy(monkeypatch, module, name):
    """Record the calls of ``module.name`` (still calling it); returns the call list."""
    calls = []
    orig = getattr(module, name)

    def wrapper(*args, **kwargs):
        calls.append(args)
        return orig(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return calls
