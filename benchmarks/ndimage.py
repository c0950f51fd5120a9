"""``imagearray.ndimage`` beside cupyx.scipy.ndimage, torch and cuCIM, in one run.

Every call is order=1 (linear), ``mode='constant'`` (cval 0) unless the case says
otherwise, imagearray at its default ``precision='hardware'``; data are random in
[0, 1) (float32) or 0..255 (uint8). Cases (``Row.case`` says what is done):

1. 4096^2 float32 ``affine_transform``, a rotation by 0.3 rad about the centre (the
   warp of :mod:`benchmarks.sample`, a (2, 3) matrix), the CuPy array passed as is:
   beside cupyx ``affine_transform``, cupyx ``affine_transform(texture_memory=True)``
   (3x3 homogeneous float32 matrix; it copies the input into a CUDA array on each
   call) and torch ``grid_sample`` (bilinear, zeros padding, ``align_corners=True``,
   the grid built once outside the timed call);
2. ``map_coordinates`` of that image at (a) the same rotation's coordinates and (b)
   uniformly random ones, a (2, 4096, 4096) float32 array: beside cupyx
   ``map_coordinates`` and torch ``grid_sample``, and imagearray with
   ``_source.PRELOAD`` on (every point's coordinates loaded before the first fetch);
3. 4096^2 RGBA8 (uint8 (4096, 4096, 4)), the same rotation, one call with
   ``channel_axis=-1``: beside four cupyx ``affine_transform`` passes (channel plane
   ``img[..., c]`` into ``out[..., c]``, uint8) and cuCIM ``warp`` (the (x, y) = (col,
   row) form of the matrix; it has no ``channel_axis``, so ``batch_axes=(2,)``: the
   channel axis is not interpolated);
4. 512^3 float32, a rotation by 0.3 rad in the plane of axes 1, 2 about the centre:
   imagearray from an ImageArray made once (``ia.asimage(vol)``) and, as its own case,
   from the CuPy array (copied into a CUDA array on each call), beside cupyx
   ``affine_transform`` (measured once, the same row shown in both cases);
5. 4096^2 float32 ``zoom`` x0.5 (-> 2048^2) and x2 (-> 8192^2), ``rotate`` 30 degrees
   (``reshape=False``; cuCIM ``rotate`` too) and ``shift`` (10.3, -7.7), beside cupyx;
   and, as their own cases, ``zoom`` x0.5 / x2 with ``grid_mode=True, mode='nearest'``
   beside cupyx and cuCIM ``rescale`` (``mode='edge'``, ``anti_aliasing=False``: it
   calls ``zoom(grid_mode=True)``, skimage's pixel-area grid, not zoom's default);
6. a batch of 16 x 1024^2 RGBA8 with 16 different rotations (-0.15 .. 0.15 rad), one
   call ``affine_transform(stack, mats, batch_axes=0, channel_axis=-1)`` with a
   (16, 2, 3) matrix: beside cuCIM ``warp`` (its ``batch_axes`` apply one spatial map
   to every batch element, so per-sample matrices are a loop of 16 calls, each with
   ``batch_axes=(2,)``) and cupyx (16 x 4 ``affine_transform`` calls);
7. order=3 (cubic B-spline, ``mode='constant'``): ``affine_transform`` and
   ``map_coordinates`` (the rotation's coordinates) of 4096^2 and 256^3 float32, the
   prefilter counted, imagearray at ``precision='hardware'`` and ``'exact'`` beside
   cupyx order=3; as their own cases the interpolation alone (``prefilter=False`` on
   cupyx's coefficients) and the prefilter alone (imagearray's float32 coefficients,
   one thread per sample, beside cupyx ``spline_filter(output=float32)``, one thread
   per line). Hardware rows are checked within
   ``CUBIC_HW_ATOL`` (their bound: ndim / 256 of adjacent coefficients' differences);
8. bicubic (Keys' cubic convolution, a = -0.75: OpenCV's ``INTER_CUBIC``) ``remap`` of
   4096^2 float32 at the rotation's coordinates, ``interpolation='cubic'``,
   ``mode='opencv'`` (cval 0 per tap) beside torch ``grid_sample(mode='bicubic')``
   (zeros padding, ``align_corners=True``: the same taps and weights), checked
   within 2e-3 (torch's normalized float32 grid moves a point by up to ~2.5e-4 px).

cuCIM's ``warp``/``rotate``/``rescale`` work on float (uint8 -> float64 with
``preserve_range=True``, output 0..255 float64) and map ``'constant'`` to ndimage's
``'grid-constant'``; ``clip=False`` (order 1 cannot overshoot). torch runs on the
legacy default stream, CuPy's current one, so CuPy's events time it. Rows whose
library is missing are left out (their lines say "not measured"). An
``ia.FallbackWarning`` is an error here: a fallback would time cupyx as imagearray.

Before timing, every path is checked against cupyx (exact weights): imagearray's
hardware weights differ by up to ~1/256 of the local range per axis (atol 0.02 on
[0, 1), 2 levels on uint8); torch's zeros padding, CuPy's texture border and
cuCIM's grid-constant blend with cval within a pixel of the edges where cupyx's
'constant' gives cval, so up to ``EDGE_PX`` / side of the values may differ more.
GB/s counts the input read and the output written once in the case's own types (and
the coordinates read, for map_coordinates). Targets: 1 >= 4x cupyx, 2 >= 1.4x cupyx
(both), 3 >= 8x cupyx's per-channel passes, 4 >= 3x cupyx (ImageArray), 5 each >= 3x
cupyx, 6 >= 2x cuCIM, 7 >= 3x cupyx in 2D and >= 5x in 3D (prefilter counted); the
other comparisons (8 among them) are for information.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import replace

import numpy

from benchmarks._util import Row, measure, require_gpu, settings, speedup, target_line
from benchmarks.sample import ANGLE, CUPYX_ATOL, N, _coords

V = 512  # side of the 3D volume
B, BN = 16, 1024  # batch: samples, side
UINT8_ATOL = 2.0
EDGE_PX = 12  # values allowed off the tolerance: EDGE_PX * (values / side)

AFFINE = f"{N}^2 float32 affine_transform order=1 (rotate 0.3 rad)"
MAP_AFFINE = f"{N}^2 float32 map_coordinates order=1, affine coordinates"
MAP_RANDOM = f"{N}^2 float32 map_coordinates order=1, random coordinates"
RGBA = f"{N}^2 RGBA8 affine_transform order=1 channel_axis=-1 (rotate 0.3 rad)"
_VOL = f"{V}^3 float32 affine_transform order=1 (rotate 0.3 rad in axes 1, 2)"
VOL_ONCE = f"{_VOL}, ImageArray made once"
VOL_COPY = f"{_VOL}, from a CuPy array (copied into a CUDA array per call)"
ZOOM_HALF = f"{N}^2 float32 zoom x0.5 order=1 -> {N // 2}^2"
ZOOM_TWICE = f"{N}^2 float32 zoom x2 order=1 -> {2 * N}^2"
GRID_HALF = f"{N}^2 float32 zoom x0.5 order=1 grid_mode=True mode=nearest"
GRID_TWICE = f"{N}^2 float32 zoom x2 order=1 grid_mode=True mode=nearest"
ROTATE = f"{N}^2 float32 rotate 30 deg order=1 reshape=False"
SHIFT = f"{N}^2 float32 shift (10.3, -7.7) order=1"
BATCH = f"{B} x {BN}^2 RGBA8 affine_transform order=1 batch_axes=0 channel_axis=-1"
# order 3 (issue 16): the prefilter counted, then each part alone
V3 = 256
C2_AFF = f"{N}^2 float32 affine_transform order=3 (rotate 0.3 rad)"
C2_MAP = f"{N}^2 float32 map_coordinates order=3, affine coordinates"
C3_AFF = f"{V3}^3 float32 affine_transform order=3 (rotate 0.3 rad in axes 1, 2)"
C3_MAP = f"{V3}^3 float32 map_coordinates order=3, affine coordinates"
PREFILTER_2D = f"{N}^2 float32 order=3 prefilter alone (spline_filter, mode=constant)"
PREFILTER_3D = f"{V3}^3 float32 order=3 prefilter alone (spline_filter, mode=constant)"
PART_INTERP = ", the interpolation alone (prefilter=False on the coefficients)"
CUPYX3 = "cupyx order=3"
IA_EXACT = "imagearray precision=exact"
CUBIC_HW_ATOL = 0.1  # on [0, 1): ndim / 256 of adjacent coefficients' differences (~10)

BICUBIC = f"{N}^2 float32 remap interpolation=cubic (a=-0.75), affine coordinates"
TORCH_BICUBIC = "torch grid_sample bicubic"

CUPYX_AFFINE = "cupyx affine_transform"
CUPYX_TEX = "cupyx affine_transform texture_memory=True"
CUPYX_MAP = "cupyx map_coordinates"
PRELOADED = "imagearray, coordinates loaded first (_source.PRELOAD=True)"
CUPYX_PLANES = "cupyx affine_transform x4 channel planes"
CUPYX_LOOP = f"cupyx affine_transform x{4 * B} ({B} samples x 4 planes)"
CUPYX_ZOOM, CUPYX_ROTATE, CUPYX_SHIFT = "cupyx zoom", "cupyx rotate", "cupyx shift"
TORCH = "torch grid_sample bilinear"
CUCIM_WARP = "cuCIM warp batch_axes=(2,)"
CUCIM_LOOP = f"cuCIM warp x{B} (loop) batch_axes=(2,)"
CUCIM_ROTATE, CUCIM_RESCALE = "cuCIM rotate", "cuCIM rescale"

# (case, other, minimum, goal): the targets
TARGETS = [
    (AFFINE, CUPYX_AFFINE, 4.0, ">= 4x cupyx affine_transform"),
    (MAP_AFFINE, CUPYX_MAP, 1.4, ">= 1.4x cupyx map_coordinates"),
    (MAP_RANDOM, CUPYX_MAP, 1.4, ">= 1.4x cupyx map_coordinates"),
    (RGBA, CUPYX_PLANES, 8.0, ">= 8x cupyx's per-channel passes"),
    (VOL_ONCE, CUPYX_AFFINE, 3.0, ">= 3x cupyx affine_transform"),
    (ZOOM_HALF, CUPYX_ZOOM, 3.0, ">= 3x cupyx zoom"),
    (ZOOM_TWICE, CUPYX_ZOOM, 3.0, ">= 3x cupyx zoom"),
    (GRID_HALF, CUPYX_ZOOM, 3.0, ">= 3x cupyx zoom"),
    (GRID_TWICE, CUPYX_ZOOM, 3.0, ">= 3x cupyx zoom"),
    (ROTATE, CUPYX_ROTATE, 3.0, ">= 3x cupyx rotate"),
    (SHIFT, CUPYX_SHIFT, 3.0, ">= 3x cupyx shift"),
    (BATCH, CUCIM_LOOP, 2.0, ">= 2x cuCIM warp"),
    (C2_AFF, CUPYX3, 3.0, ">= 3x cupyx order=3, prefilter counted"),
    (C2_MAP, CUPYX3, 3.0, ">= 3x cupyx order=3, prefilter counted"),
    (C3_AFF, CUPYX3, 5.0, ">= 5x cupyx order=3, prefilter counted"),
    (C3_MAP, CUPYX3, 5.0, ">= 5x cupyx order=3, prefilter counted"),
]
# (case, other): measured beside, no minimum
INFO = [
    (AFFINE, CUPYX_TEX),
    (AFFINE, TORCH),
    (MAP_AFFINE, TORCH),
    (MAP_RANDOM, TORCH),
    (RGBA, CUCIM_WARP),
    (VOL_COPY, CUPYX_AFFINE),
    (GRID_HALF, CUCIM_RESCALE),
    (GRID_TWICE, CUCIM_RESCALE),
    (ROTATE, CUCIM_ROTATE),
    (BATCH, CUPYX_LOOP),
    (BICUBIC, TORCH_BICUBIC),
    (PREFILTER_2D, CUPYX3),
    (PREFILTER_3D, CUPYX3),
] + [(c + PART_INTERP, CUPYX3) for c in (C2_AFF, C2_MAP, C3_AFF, C3_MAP)]


def _run_bicubic(iand, torch) -> list[Row]:
    """Case 8: remap interpolation='cubic' beside torch's bicubic grid_sample."""
    import cupy

    if torch is None:
        return []
    data = cupy.random.RandomState(0).random_sample((N, N), dtype=cupy.float32)
    x, y = _coords("affine")
    g = _grid(torch, y, x, N)
    img4 = torch.from_dlpack(data).view(1, 1, N, N)
    paths = [
        (
            TORCH_BICUBIC,
            lambda: torch.nn.functional.grid_sample(
                img4, g, mode="bicubic", padding_mode="zeros", align_corners=True
            ),
        ),
        ("imagearray", lambda: iand.remap(data, y, x, mode="opencv", interpolation="cubic")),
    ]
    want = _as_cupy(paths[0][1](), (N, N))
    _agree(f"{BICUBIC}: imagearray", paths[1][1](), want, 2e-3, N)
    del want
    return [measure(BICUBIC, impl, fn, N * N * 16) for impl, fn in paths]


def _rotation(n: int, angle: float) -> numpy.ndarray:
    """(2, 3) affine_transform matrix of an n x n image: output (row, col) -> input
    (row, col), a rotation by ``angle`` about the centre ((n - 1) / 2, (n - 1) / 2);
    for (n, angle) = (N, ANGLE) it is :func:`benchmarks.sample._affine_matrix`."""
    c, s = math.cos(angle), math.sin(angle)
    m = (n - 1) / 2
    return numpy.array([[c, s, m - c * m - s * m], [-s, c, m + s * m - c * m]])


def _homogeneous(m: numpy.ndarray) -> numpy.ndarray:
    """(k, k + 1) affine matrix -> (k + 1, k + 1) homogeneous one."""
    k = m.shape[0]
    return numpy.vstack([m, numpy.eye(1, k + 1, k)])


def _xy(m: numpy.ndarray) -> numpy.ndarray:
    """(2, 3) (row, col) matrix -> the 3x3 homogeneous (x, y) = (col, row) one that
    skimage / cuCIM ``warp`` take as its inverse map (output -> input)."""
    p = [1, 0, 2]
    return _homogeneous(m)[p][:, p]


def _rotation_3d(n: int, angle: float) -> numpy.ndarray:
    """(3, 4) matrix of an n^3 volume: axis 0 kept, axes 1, 2 rotated as
    :func:`_rotation` about the centre."""
    r = _rotation(n, angle)
    m = numpy.zeros((3, 4))
    m[0, 0] = 1.0
    m[1:, 1:3], m[1:, 3] = r[:, :2], r[:, 2]
    return m


def _optional(name: str):
    """torch (with CUDA) or cuCIM's transform module, or None (its rows are skipped)."""
    try:
        if name == "torch":
            import torch

            if not torch.cuda.is_available():
                raise RuntimeError("torch.cuda.is_available() is False")
            return torch
        from cucim.skimage import transform

        return transform
    except Exception as exc:  # missing, or built for another CUDA
        print(f"ndimage: {name} not usable ({exc!s:.100}); its rows are skipped")
        return None


def _as_cupy(x, shape):
    """A path's result as a CuPy array: lists (a loop's results) stacked, torch's
    (1, 1, H, W) tensors through DLPack as ``shape``; CuPy arrays as they are."""
    import cupy

    if isinstance(x, list):
        return cupy.stack(x)
    if not isinstance(x, cupy.ndarray):
        return cupy.from_dlpack(x).reshape(shape)
    return x


def _agree(what: str, got, want, atol: float, side: int) -> None:
    """All but EDGE_PX / side of ``got``'s values within ``atol`` of ``want``'s."""
    import cupy

    assert got.shape == want.shape, f"{what}: shape {got.shape}, want {want.shape}"
    d = cupy.abs(got.astype(cupy.float32) - want.astype(cupy.float32))
    bad, worst = int((d > atol).sum()), float(d.max())
    budget = EDGE_PX * d.size // side
    print(f"{what}: max |diff| {worst:.4g}, {bad} of {d.size} > {atol:g} (edge {budget})")
    assert bad <= budget, f"{what}: {bad} values differ by more than {atol} from cupyx"


def _case(case: str, ref: str, paths, atol: float, side: int, nbytes: int) -> list[Row]:
    """Check every (impl, fn) of ``paths`` against ``ref``'s result (cupyx's), then
    time each, in the order given."""
    fns = dict(paths)
    want = fns[ref]()
    for impl, fn in paths:
        if impl != ref:
            _agree(f"{case}: {impl}", _as_cupy(fn(), want.shape), want, atol, side)
    del want
    return [measure(case, impl, fn, nbytes) for impl, fn in paths]


def _preloaded(case: str, fn, ref, side: int, nbytes: int) -> list[Row]:
    """``fn`` (imagearray's path of ``case``) with ``_source.PRELOAD`` on, checked
    against ``ref``'s result (cupyx's) and timed; the setting put back, and the call
    plans (which keep their kernels) cleared on the way in and out."""
    from imagearray.ndimage import _plan, _source

    _plan.clear()
    try:
        with settings(((_source, "PRELOAD", True),)):
            want = ref()
            _agree(f"{case}: {PRELOADED}", _as_cupy(fn(), want.shape), want, CUPYX_ATOL, side)
            del want
            return [measure(case, PRELOADED, fn, nbytes)]
    finally:
        _plan.clear()


def _grid(torch, y, x, side: int):
    """torch grid (1, H, W, 2) of normalized (x, y) for align_corners=True."""
    import cupy

    g = cupy.stack([x * (2 / (side - 1)) - 1, y * (2 / (side - 1)) - 1], axis=-1)
    return torch.from_dlpack(g[None].astype(cupy.float32))


def _run_2d(ndi, iand, torch, cu) -> list[Row]:
    """Cases 1, 2 and 5 (float32 4096^2)."""
    import cupy

    data = cupy.random.RandomState(0).random_sample((N, N), dtype=cupy.float32)
    m23 = cupy.asarray(_rotation(N, ANGLE))
    h33 = cupy.asarray(_homogeneous(_rotation(N, ANGLE)), dtype=cupy.float32)
    img4 = torch.from_dlpack(data).view(1, 1, N, N) if torch else None
    kw = {"order": 1, "mode": "constant"}

    def grid_sample(g):
        return torch.nn.functional.grid_sample(
            img4, g, mode="bilinear", padding_mode="zeros", align_corners=True
        )

    rows = []
    for kind, case in (("affine", MAP_AFFINE), ("random", MAP_RANDOM)):
        x, y = _coords(kind)
        rc = cupy.stack([y, x])
        g = _grid(torch, y, x, N) if torch else None
        paths = [
            ("imagearray", lambda rc=rc: iand.map_coordinates(data, rc, **kw)),
            (CUPYX_MAP, lambda rc=rc: ndi.map_coordinates(data, rc, **kw)),
        ]
        if torch:
            paths.append((TORCH, lambda g=g: grid_sample(g)))
        rows += _case(case, CUPYX_MAP, paths, CUPYX_ATOL, N, N * N * 16)
        rows += _preloaded(case, paths[0][1], paths[1][1], N, N * N * 16)
        if kind == "affine":
            paths = [
                ("imagearray", lambda: iand.affine_transform(data, m23, **kw)),
                (CUPYX_AFFINE, lambda: ndi.affine_transform(data, m23, **kw)),
                (CUPYX_TEX, lambda: ndi.affine_transform(data, h33, texture_memory=True, **kw)),
            ]
            if torch:
                paths.append((TORCH, lambda g=g: grid_sample(g)))
            rows += _case(AFFINE, CUPYX_AFFINE, paths, CUPYX_ATOL, N, N * N * 8)
        del x, y, rc, g

    # cuCIM: float32 stays float32 (preserve_range); 'edge' is ndimage's 'nearest'
    sk = {"order": 1, "clip": False, "preserve_range": True}
    gk = {"order": 1, "mode": "nearest", "grid_mode": True}
    for z, case, grid_case in ((0.5, ZOOM_HALF, GRID_HALF), (2, ZOOM_TWICE, GRID_TWICE)):
        side = int(N * z)
        nbytes = (N * N + side * side) * 4
        paths = [
            ("imagearray", lambda z=z: iand.zoom(data, z, **kw)),
            (CUPYX_ZOOM, lambda z=z: ndi.zoom(data, z, **kw)),
        ]
        rows += _case(case, CUPYX_ZOOM, paths, CUPYX_ATOL, side, nbytes)
        paths = [
            ("imagearray", lambda z=z: iand.zoom(data, z, **gk)),
            (CUPYX_ZOOM, lambda z=z: ndi.zoom(data, z, **gk)),
        ]
        if cu:

            def rescale(z=z):
                return cu.rescale(data, z, mode="edge", anti_aliasing=False, **sk)

            paths.append((CUCIM_RESCALE, rescale))
        rows += _case(grid_case, CUPYX_ZOOM, paths, CUPYX_ATOL, side, nbytes)

    paths = [
        ("imagearray", lambda: iand.rotate(data, 30, reshape=False, **kw)),
        (CUPYX_ROTATE, lambda: ndi.rotate(data, 30, reshape=False, **kw)),
    ]
    if cu:
        paths.append((CUCIM_ROTATE, lambda: cu.rotate(data, 30, mode="constant", **sk)))
    rows += _case(ROTATE, CUPYX_ROTATE, paths, CUPYX_ATOL, N, N * N * 8)
    paths = [
        ("imagearray", lambda: iand.shift(data, (10.3, -7.7), **kw)),
        (CUPYX_SHIFT, lambda: ndi.shift(data, (10.3, -7.7), **kw)),
    ]
    rows += _case(SHIFT, CUPYX_SHIFT, paths, CUPYX_ATOL, N, N * N * 8)
    return rows


def _run_rgba(ndi, iand, cu) -> list[Row]:
    """Cases 3 and 6 (RGBA8)."""
    import cupy

    rs = cupy.random.RandomState(0)
    kw = {"order": 1, "mode": "constant"}
    # uint8 -> float64 0..255 in cuCIM; the channel axis (2) is not interpolated
    sk = {"order": 1, "mode": "constant", "preserve_range": True, "batch_axes": (2,)}
    rgba = rs.randint(0, 256, (N, N, 4), dtype=cupy.uint8)
    m23 = cupy.asarray(_rotation(N, ANGLE))
    xy = cupy.asarray(_xy(_rotation(N, ANGLE)))

    def planes(img, m, out):
        for c in range(img.shape[-1]):
            ndi.affine_transform(img[..., c], m, output=out[..., c], **kw)
        return out

    paths = [
        ("imagearray", lambda: iand.affine_transform(rgba, m23, channel_axis=-1, **kw)),
        (CUPYX_PLANES, lambda: planes(rgba, m23, cupy.empty_like(rgba))),
    ]
    if cu:
        paths.append((CUCIM_WARP, lambda: cu.warp(rgba, xy, **sk)))
    rows = _case(RGBA, CUPYX_PLANES, paths, UINT8_ATOL, N, rgba.nbytes * 2)

    stack = rs.randint(0, 256, (B, BN, BN, 4), dtype=cupy.uint8)
    angles = numpy.linspace(-0.15, 0.15, B)
    mats = cupy.asarray(numpy.stack([_rotation(BN, a) for a in angles]))
    xys = [cupy.asarray(_xy(_rotation(BN, a))) for a in angles]

    def cupyx_loop():
        out = cupy.empty_like(stack)
        for k in range(B):
            planes(stack[k], mats[k], out[k])
        return out

    def ia_batch():
        return iand.affine_transform(stack, mats, batch_axes=0, channel_axis=-1, **kw)

    paths = [("imagearray", ia_batch), (CUPYX_LOOP, cupyx_loop)]
    if cu:
        paths.append((CUCIM_LOOP, lambda: [cu.warp(stack[k], xys[k], **sk) for k in range(B)]))
    rows += _case(BATCH, CUPYX_LOOP, paths, UINT8_ATOL, BN, stack.nbytes * 2)
    return rows


def _run_3d(ndi, iand, ia) -> list[Row]:
    """Case 4 (512^3 float32): an ImageArray made once, the CuPy array copied per call;
    cupyx measured once, its row shown in both cases."""
    import cupy

    vol = cupy.random.RandomState(0).random_sample((V, V, V), dtype=cupy.float32)
    m34 = cupy.asarray(_rotation_3d(V, ANGLE))
    kw = {"order": 1, "mode": "constant"}
    img = ia.asimage(vol)
    paths = [
        (VOL_ONCE, "imagearray", lambda: iand.affine_transform(img, m34, **kw)),
        (VOL_COPY, "imagearray", lambda: iand.affine_transform(vol, m34, **kw)),
        (VOL_ONCE, CUPYX_AFFINE, lambda: ndi.affine_transform(vol, m34, **kw)),
    ]
    want = paths[-1][2]()
    for case, impl, fn in paths[:-1]:
        _agree(f"{case}: {impl}", fn(), want, CUPYX_ATOL, V)
    del want
    cupy.get_default_memory_pool().free_all_blocks()
    rows = [measure(case, impl, fn, vol.nbytes * 2) for case, impl, fn in paths]
    return rows + [replace(rows[-1], case=VOL_COPY)]


def _run_cubic(ndi, iand) -> list[Row]:
    """order=3, mode='constant': imagearray (hardware, and exact) beside cupyx with the
    prefilter counted; then the prefilter alone (imagearray's coefficients:
    _spline.prefilter_axes) and the interpolation alone
    (prefilter=False on cupyx's coefficients), each beside cupyx's."""
    import cupy

    rows = []
    for nd, side in ((2, N), (3, V3)):
        rows += _cubic_nd(ndi, iand, nd, side)
        cupy.get_default_memory_pool().free_all_blocks()
    return rows


def _cubic_paths(ours, theirs, src, extra, **kw):
    """(impl, call) of cupyx, imagearray (hardware) and imagearray exact."""
    kw = kw | {"order": 3, "mode": "constant"}
    return [
        (CUPYX3, lambda: theirs(src, extra, **kw)),
        ("imagearray", lambda: ours(src, extra, **kw)),
        (IA_EXACT, lambda: ours(src, extra, precision="exact", **kw)),
    ]


def _cubic_nd(ndi, iand, nd: int, side: int) -> list[Row]:
    import cupy

    from imagearray.ndimage import _spline

    shape = (side,) * nd
    x = cupy.random.RandomState(0).random_sample(shape, dtype=cupy.float32)
    m = cupy.asarray(_rotation(side, ANGLE) if nd == 2 else _rotation_3d(side, ANGLE))
    idx = cupy.indices(shape, dtype=cupy.float32).reshape(nd, -1)
    mf = m.astype(cupy.float32)
    c = (mf[:, :nd] @ idx + mf[:, nd:]).reshape((nd,) + shape)
    del idx
    coef = ndi.spline_filter(x, 3, output=cupy.float32, mode="constant")
    nbytes = 2 * x.nbytes
    rows = []
    for case, ours, theirs, extra in (
        (C2_AFF if nd == 2 else C3_AFF, iand.affine_transform, ndi.affine_transform, m),
        (C2_MAP if nd == 2 else C3_MAP, iand.map_coordinates, ndi.map_coordinates, c),
    ):
        rows += _cubic_case(case, _cubic_paths(ours, theirs, x, extra), side, nbytes)
        paths = _cubic_paths(ours, theirs, coef, extra, prefilter=False)
        rows += _cubic_case(case + PART_INTERP, paths, side, nbytes)
    prefilter = [
        (CUPYX3, lambda: ndi.spline_filter(x, 3, output=cupy.float32, mode="constant")),
        ("imagearray", lambda: _spline.coefficients(x, (1, *shape, 1), nd, "constant", 0, True)),
    ]
    case = PREFILTER_2D if nd == 2 else PREFILTER_3D
    return rows + [measure(case, impl, fn, nbytes) for impl, fn in prefilter]


def _cubic_case(case: str, paths, side: int, nbytes: int) -> list[Row]:
    """Each path checked against cupyx's (the first), then timed."""
    want = paths[0][1]()
    for impl, fn in paths[1:]:
        atol = 1e-4 if impl == IA_EXACT else CUBIC_HW_ATOL
        _agree(f"{case}: {impl}", fn(), want, atol, side)
    del want
    return [measure(case, impl, fn, nbytes) for impl, fn in paths]


def run() -> list[Row]:
    require_gpu()
    import cupy
    import cupyx.scipy.ndimage as ndi

    import imagearray as ia
    from imagearray import ndimage as iand

    torch, cu = _optional("torch"), _optional("cucim")
    pool = cupy.get_default_memory_pool()
    with warnings.catch_warnings():
        # order=1 float32 / uint8 runs on textures: a fallback would time cupyx twice
        warnings.simplefilter("error", ia.FallbackWarning)
        rows = _run_2d(ndi, iand, torch, cu)
        pool.free_all_blocks()
        rows += _run_rgba(ndi, iand, cu)
        pool.free_all_blocks()
        rows += _run_3d(ndi, iand, ia)
        pool.free_all_blocks()
        rows += _run_cubic(ndi, iand)
        pool.free_all_blocks()
        rows += _run_bicubic(iand, torch)
        pool.free_all_blocks()
    return rows


def _info_line(rows: list[Row], case: str, other: str) -> str:
    s = speedup(rows, case, other)
    got = "not measured" if s is None else f"{s:.2f}x"
    return f"{case}: vs {other} {got}: target none (for information)"


def targets(rows: list[Row]) -> list[str]:
    """One line per target of ``TARGETS``, then one per comparison of ``INFO``."""
    out = [target_line(rows, case, other, m, goal) for case, other, m, goal in TARGETS]
    return out + [_info_line(rows, case, other) for case, other in INFO]


if __name__ == "__main__":
    import sys

    from benchmarks.__main__ import main

    sys.exit(main(["ndimage"]))
