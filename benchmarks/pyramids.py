"""Pyramids and antialiased downscaling (issue 18) beside cuCIM, in one run.

Cases (``Row.case`` says what is done):

1. the whole Gaussian pyramid of a 4096^2 float32 image (``list(pyramid_gaussian(x))``,
   downscale 2, scikit-image's defaults: 13 layers down to 1x1): imagearray beside
   cuCIM's ``pyramid_gaussian`` and, for information, the same chain written with
   cupyx (``gaussian_filter`` then ``zoom(order=1, grid_mode=True, mode='mirror')``
   per layer, as scikit-image's resize calls them, no clip);
2. an antialiased 4x downscale of a 4096^2 RGBA8 picture to 1024^2
   (:func:`imagearray.demo.pictures.picture`: gradients, discs, a fine line grid):
   imagearray ``resize(method="mip")`` (the mip chain) and ``method="exact"``
   (scikit-image's Gaussian) beside cuCIM ``resize(anti_aliasing=True)`` (which
   converts the uint8 input to float64, as scikit-image does) and the cupyx chain
   (float32 ``gaussian_filter`` over the spatial axes, ``zoom`` with the channels
   kept).

Before timing, every path is checked against cuCIM where it is there: the pyramids'
layers and the exact resize within 1e-4; the mip method within the bound its
docstring derives (``MIP_BOUND`` max, ``MIP_MEAN_BOUND`` mean). Without cuCIM the
checks are against the cupyx chain. GB/s counts the input read and the outputs
written once in the case's own types. Targets: 1 >= 3x cuCIM, 2 >= 5x cuCIM (the mip
method); the other comparisons are for information.
"""

from __future__ import annotations

import warnings

import numpy

from benchmarks._util import Row, measure, require_gpu, speedup, target_line

N = 4096
PYRAMID = f"{N}^2 float32 pyramid_gaussian (all layers)"
DOWN4 = f"{N}^2 RGBA8 antialiased 4x downscale -> {N // 4}^2"
CUCIM_PYRAMID = "cuCIM pyramid_gaussian"
CUCIM_RESIZE = "cuCIM resize anti_aliasing=True"
CUPYX_CHAIN = "cupyx gaussian_filter + zoom"
EXACT = "imagearray method=exact"
ATOL = 1e-4

# (case, other, minimum, goal): the targets
TARGETS = [
    (PYRAMID, CUCIM_PYRAMID, 3.0, ">= 3x cuCIM pyramid_gaussian (issue 18)"),
    (DOWN4, CUCIM_RESIZE, 5.0, ">= 5x cuCIM resize(anti_aliasing=True) (issue 18)"),
]
# (case, other, reference): measured beside, no minimum
INFO = [
    (PYRAMID, CUPYX_CHAIN, "imagearray"),
    (DOWN4, CUPYX_CHAIN, "imagearray"),
    (DOWN4, CUCIM_RESIZE, EXACT),
    (DOWN4, EXACT, "imagearray"),
]


def _cucim():
    """cuCIM's transform module, or None (its rows are skipped)."""
    try:
        from cucim.skimage import transform

        return transform
    except Exception as exc:  # missing, or built for another CUDA
        print(f"pyramids: cuCIM not usable ({exc!s:.100}); its rows are skipped")
        return None


def _cupyx_pyramid(x):
    """scikit-image's pyramid (reflect) with cupyx: Gaussian (sigma 2/3, ndimage
    'reflect') then the grid-mode zoom ('mirror') to ceil(n / 2), until 1x1."""
    import cupyx.scipy.ndimage as ndi

    out = [x]
    while max(x.shape) > 1:
        shape = [-(-n // 2) for n in x.shape]
        s = ndi.gaussian_filter(x, 2 / 3, mode="reflect")
        z = [o / n for o, n in zip(shape, x.shape)]
        x = ndi.zoom(s, z, order=1, mode="mirror", grid_mode=True)
        out.append(x)
    return out


def _cupyx_down4(rgba):
    """scikit-image's antialiased resize of an (H, W, C) uint8 image with cupyx, in
    float32: [0, 1], Gaussian of sigma 1.5 over the spatial axes ('mirror'), zoom."""
    import cupy
    import cupyx.scipy.ndimage as ndi

    x = rgba.astype(cupy.float32) * numpy.float32(1 / 255)
    s = ndi.gaussian_filter(x, (1.5, 1.5, 0), mode="mirror")
    return ndi.zoom(s, (0.25, 0.25, 1), order=1, mode="mirror", grid_mode=True)


def _check(what: str, got, want, atol: float, mean: float | None = None, quiet=False) -> None:
    """``got`` within ``atol`` of ``want`` (and within ``mean`` on average)."""
    import cupy

    assert got.shape == want.shape, f"{what}: shape {got.shape}, want {want.shape}"
    d = cupy.abs(got.astype(cupy.float64) - want.astype(cupy.float64))
    worst, avg = float(d.max()), float(d.mean())
    if not quiet:
        print(f"{what}: max |diff| {worst:.3g}, mean {avg:.3g}")
    assert worst <= atol, f"{what}: max |diff| {worst:.3g} > {atol:g}"
    assert mean is None or avg <= mean, f"{what}: mean |diff| {avg:.3g} > {mean:g}"


def _pyramid_rows(iand, cu) -> list[Row]:
    import cupy

    x = cupy.random.RandomState(0).random_sample((N, N), dtype=cupy.float32)
    paths = [
        ("imagearray", lambda: list(iand.pyramid_gaussian(x))),
        (CUPYX_CHAIN, lambda: _cupyx_pyramid(x)),
    ]
    if cu:
        paths.append((CUCIM_PYRAMID, lambda: list(cu.pyramid_gaussian(x))))
    ref = paths[-1]
    want = ref[1]()
    for impl, fn in paths[:-1]:
        got = fn()
        assert len(got) == len(want), f"{PYRAMID}: {impl}: {len(got)} layers, {len(want)}"
        for k, (g, w) in enumerate(zip(got, want)):
            _check(f"{PYRAMID}: {impl} layer {k} vs {ref[0]}", g, w, ATOL, quiet=k not in (1, 6))
    del want
    nbytes = x.nbytes * 4 // 3  # level 0 read once, the layers (a third of it) written
    return [measure(PYRAMID, impl, fn, nbytes) for impl, fn in paths]


def _down4_rows(iand, cu) -> list[Row]:
    import cupy

    from imagearray.demo.pictures import picture
    from imagearray.ndimage._mipresize import MIP_BOUND, MIP_MEAN_BOUND

    rgba = cupy.asarray(picture(N))
    out = (N // 4, N // 4)
    paths = [
        ("imagearray", lambda: iand.resize(rgba, out, method="mip")),
        (EXACT, lambda: iand.resize(rgba, out)),
        (CUPYX_CHAIN, lambda: _cupyx_down4(rgba)),
    ]
    if cu:
        paths.append((CUCIM_RESIZE, lambda: cu.resize(rgba, out, anti_aliasing=True)))
    ref = paths[-1]
    want = ref[1]()
    for impl, fn in paths[:-1]:
        exact = impl != "imagearray"
        what = f"{DOWN4}: {impl} vs {ref[0]}"
        _check(what, fn(), want, ATOL if exact else MIP_BOUND, None if exact else MIP_MEAN_BOUND)
    del want
    nbytes = rgba.nbytes + out[0] * out[1] * 4 * 4  # uint8 in, float32 out
    return [measure(DOWN4, impl, fn, nbytes) for impl, fn in paths]


def run() -> list[Row]:
    require_gpu()
    import cupy

    import imagearray as ia
    from imagearray import ndimage as iand

    cu = _cucim()
    pool = cupy.get_default_memory_pool()
    with warnings.catch_warnings():
        # order=1 float32 runs on textures: a fallback would time cupyx as imagearray
        warnings.simplefilter("error", ia.FallbackWarning)
        rows = _pyramid_rows(iand, cu)
        pool.free_all_blocks()
        rows += _down4_rows(iand, cu)
        pool.free_all_blocks()
    return rows


def _info_line(rows: list[Row], case: str, other: str, reference: str) -> str:
    s = speedup(rows, case, other, reference)
    got = "not measured" if s is None else f"{s:.2f}x"
    return f"{case}: {reference} vs {other} {got}: target none (for information)"


def targets(rows: list[Row]) -> list[str]:
    """One line per target of ``TARGETS``, then one per comparison of ``INFO``."""
    out = [target_line(rows, case, other, m, goal) for case, other, m, goal in TARGETS]
    return out + [_info_line(rows, case, other, ref) for case, other, ref in INFO]


if __name__ == "__main__":
    import sys

    from benchmarks.__main__ import main

    sys.exit(main(["pyramids"]))
