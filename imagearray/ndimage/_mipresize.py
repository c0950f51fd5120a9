"""The ``"mip"`` method of :func:`imagearray.ndimage.resize`: minification by
trilinear reads of a mip chain (see :mod:`imagearray.ndimage.resizing` for the filter
and its error against scikit-image).

``plan`` is pure (testable without a GPU, and shared with the NumPy texture-unit
model the tests hold the GPU to, ``tests/ndimage/_resize_util.py``): the level, the
read offsets of the anisotropic footprint and the sampler, per output shape and mode.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy

from imagearray._device import on_device
from imagearray._errors import ImageArrayValueError
from imagearray._sampler import Sampler
from imagearray.ndimage import _skimage as r
from imagearray.ndimage import _textures

__all__ = ["MIP_BOUND", "MIP_MEAN_BOUND", "MipPlan", "plan", "resize_mip"]

#: The bound :mod:`imagearray.ndimage.resizing` documents for the mip method against
#: scikit-image's ``anti_aliasing=True`` on photographs, in [0, 1] units: max and mean
#: |difference| (the model gives 0.23 and 0.018; the rest is the hardware's rounding).
MIP_BOUND = 0.25
MIP_MEAN_BOUND = 0.02

#: scikit-image mode -> the texture addressing the mip method reads borders with.
_MIP_ADDRESSING = {
    "constant": "clamp",
    "edge": "clamp_to_edge",
    "symmetric": "mirrored_repeat",
    "reflect": "clamp_to_edge",
    "wrap": "repeat",
}

#: Input dtypes kept as they are in level 0 (8/16-bit read normalized: img_as_float).
_NATIVE = ("uint8", "uint16", "int8", "int16", "float32")


class MipPlan(NamedTuple):
    """What the mip method reads for one resize (texture order: x = columns)."""

    levels: int  # mip levels to allocate (level 0 + those the reads reach)
    lod: float  # the level every read asks for
    offsets: tuple  # ((dx, dy), ...) normalized offsets of the footprint's reads
    sampler: Sampler


def plan(in_hw: tuple, out_hw: tuple, mode: str, cval: float) -> MipPlan:
    """The mip reads of a 2D resize from ``in_hw`` to ``out_hw`` (rows, columns);
    ``cval``: the border colour as the texture reads it (normalized for 8/16-bit).

    Output pixel ``(i, j)`` reads at normalized ``((j + 0.5) / ow, (i + 0.5) / oh)``,
    scikit-image's coordinate mapping. The level is ``log2`` of the smaller factor;
    along the other axis ``ceil(major / minor)`` reads spread evenly over the pixel's
    footprint are averaged."""
    h, w = in_hw
    oh, ow = out_hw
    fy, fx = max(1.0, h / oh), max(1.0, w / ow)
    lod = lod_of((fy, fx))
    full = int(math.floor(math.log2(max(h, w)))) + 1
    levels = min(full, int(math.floor(lod)) + 2)
    minor = min(fy, fx)
    n = max(1, math.ceil(max(fy, fx) / minor - 1e-6))
    taps = [(k + 0.5) / n - 0.5 for k in range(n)]
    if fx >= fy:
        offsets = tuple((t / ow, 0.0) for t in taps)
    else:
        offsets = tuple((0.0, t / oh) for t in taps)
    border = (cval,) * 4 if mode == "constant" else (0.0, 0.0, 0.0, 0.0)
    sampler = Sampler(
        _MIP_ADDRESSING[mode],
        "normalized",
        "linear",
        mipmap_filtering="linear",
        # the default clamp (0) would pin every read to level 0: no antialiasing at all
        max_mipmap_level_clamp=float(levels - 1),
        border_color=border,
    )
    return MipPlan(levels, lod, offsets, sampler)


def grid(out_hw: tuple, xp) -> Any:
    """Normalized (x, y) of every output pixel's centre, shape ``out_hw + (2,)``."""
    oh, ow = out_hw
    y = (xp.arange(oh, dtype=xp.float64) + 0.5) / oh
    x = (xp.arange(ow, dtype=xp.float64) + 0.5) / ow
    g = xp.empty((oh, ow, 2), dtype=xp.float32)
    g[..., 0] = x[None, :]
    g[..., 1] = y[:, None]
    return g


_GRIDS: dict = {}


def _grid_on_device(out_hw: tuple, device: int):
    import cupy

    key = (out_hw, device)
    g = _GRIDS.get(key)
    if g is None:
        if len(_GRIDS) >= 16:
            _GRIDS.clear()
        g = _GRIDS[key] = grid(out_hw, cupy)
    return g


def check_input(image, out_shape) -> tuple:
    """(rows, columns, channels or None) of a 2D image with at most 4 channels that
    ``out_shape`` keeps, else ``ImageArrayValueError``."""
    h, w, c = _split(image)
    if c is not None and out_shape[2] != c:
        raise ImageArrayValueError(
            f"method='mip' keeps the channel axis: output_shape={tuple(out_shape)} cannot "
            f"change its {c} channels"
        )
    return h, w, c


def _split(image) -> tuple:
    """(rows, columns, channels or None) of a 2D image with at most 4 channels."""
    if image.ndim == 2:
        return image.shape[0], image.shape[1], None
    if image.ndim == 3 and 1 <= image.shape[2] <= 4:
        return image.shape[0], image.shape[1], image.shape[2]
    raise ImageArrayValueError(
        f"method='mip' resizes 2D images with at most 4 channels last, not shape {image.shape}"
    )


def resize_mip(image, out_shape, mode: str, cval: float, clip: bool, preserve_range: bool, dev):
    """:func:`imagearray.ndimage.resize` with ``method="mip"`` (antialiasing on), on
    device ``dev``."""
    import cupy

    h, w, c = check_input(image, out_shape)
    dt = numpy.dtype(image.dtype)
    normalized = dt.name in _NATIVE and dt.kind in "iu"
    # the border colour is in the units the texture reads: [0, 1] (or [-1, 1]) for
    # normalized integers, whose preserve_range cval is in the input's units
    imax = float(numpy.iinfo(dt).max) if normalized else 1.0
    p = plan((h, w), tuple(out_shape[:2]), mode, cval / imax if preserve_range else cval)
    with on_device(dev):
        a = cupy.ascontiguousarray(cupy.asarray(image))
        native = dt.name in _NATIVE
        if not native:
            a = r.to_float(a, preserve_range, cupy).astype(numpy.float32)
        if c == 1:  # (h, w, 1) would read as a volume: one channel is a 2D image
            a = a[..., 0]
        channels = 1 if c is None else c
        tex_c = 4 if channels == 3 else channels
        if tex_c != channels:
            a = cupy.concatenate([a, cupy.zeros_like(a[..., :1])], axis=-1)
        lease = _textures.take_scratch(
            a.shape, a.dtype, tex_c, levels=p.levels, normalized=normalized
        )
        try:
            out = _read(lease.image, a, p, tuple(out_shape[:2]), dev)
        finally:  # back to the pool once the reads have finished
            _textures.retire_objects([lease])
        if tex_c != channels:
            out = out[..., :channels]
        out = cupy.ascontiguousarray(out if c != 1 else out[..., None])
        if normalized and preserve_range:
            out *= numpy.float32(imax)
        # box averages and linear reads blend input values only (and the border colour
        # for 'constant'): as in the exact method, only 'constant' can need the clip
        if clip and mode == "constant":
            ref = a[..., :channels] if tex_c != channels else a
            lo, hi = float(cupy.nanmin(ref)), float(cupy.nanmax(ref))
            if normalized and not preserve_range:
                lo, hi = max(-1.0, lo / imax), hi / imax
            r.clip_range(lo, hi, out, mode, cval, cupy)
        return out


def _read(img, a, p: MipPlan, out_hw: tuple, device: int):
    """Level 0 := ``a``, the chain generated, and the plan's reads averaged."""
    import cupy

    if p.levels > 1:
        img.mip(0).set(a)
        img.generate_mipmaps()
    else:
        img.set(a)
    g = _grid_on_device(out_hw, device)
    level = p.lod if p.levels > 1 else None
    out = None
    for dx, dy in p.offsets:
        coords = g if dx == 0 and dy == 0 else g + cupy.asarray([dx, dy], numpy.float32)
        v = img.sample(coords, p.sampler, level=level)
        out = v if out is None else out + v
    if len(p.offsets) > 1:
        out *= numpy.float32(1.0 / len(p.offsets))
    return out


def lod_of(factors) -> float:
    """The mip level the mip method reads for per-axis minification ``factors``
    (> 1): that of the smaller factor (the major axis gets several reads)."""
    return max(0.0, math.log2(min(factors)))
