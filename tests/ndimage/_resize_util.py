"""Helpers of the resize and pyramid tests (CPU and GPU): test images, scikit-image's
results, and the NumPy model of ``resize(method="mip")`` built from the texture-unit
reference (:func:`imagearray.testing.reference.box_pyramid` and
:func:`~imagearray.testing.reference.sample_mipmap`) with the method's own plan
(:func:`imagearray.ndimage._mipresize.plan`). Nothing here touches the GPU.
"""

from __future__ import annotations

import numpy as np

from imagearray.ndimage import _mipresize, _skimage
from imagearray.testing import reference as ref

#: ``method="mip"`` against scikit-image's ``anti_aliasing=True`` on the photographs of
#: :func:`photo`: max and mean |difference| (imagearray.ndimage.resizing derives them)
MIP_BOUND, MIP_MEAN_BOUND = _mipresize.MIP_BOUND, _mipresize.MIP_MEAN_BOUND


def photo(kind: str) -> np.ndarray:
    """scikit-image's bundled photographs: 'gray' (camera, 512^2 uint8) or 'rgb'
    (astronaut, 512^2 x 3 uint8)."""
    from skimage import data

    return data.camera() if kind == "gray" else data.astronaut()


def smooth_random(shape, dtype, seed=0) -> np.ndarray:
    """Random data smoothed a little (sigma 1 per spatial axis, channels last kept
    apart): floats in [0, 1], uint8 over 0..255."""
    from scipy import ndimage as ndi

    rng = np.random.default_rng(seed)
    x = rng.random(shape)
    sigma = [1.0] * len(shape)
    if len(shape) == 3 and shape[-1] <= 4:
        sigma[-1] = 0.0
    x = ndi.gaussian_filter(x, sigma, mode="reflect")
    x = (x - x.min()) / (x.max() - x.min())
    if np.dtype(dtype) == np.uint8:
        return np.round(x * 255).astype(np.uint8)
    return x.astype(dtype)


def mip_model(image, out_shape, mode="reflect", cval=0.0, preserve_range=False):
    """What ``resize(image, out_shape, method="mip")`` computes, on the NumPy texture-unit
    model: (result float32, levels, sampler), levels in the texture's storage type.
    2D images with at most 4 channels last, antialiasing on."""
    image = np.asarray(image)
    dt = image.dtype
    out_shape = _skimage.output_shape_of(image.shape, out_shape)
    h, w = image.shape[:2]
    channels = image.shape[2] if image.ndim == 3 else None
    normalized = dt.name in _mipresize._NATIVE and dt.kind in "iu"
    imax = float(np.iinfo(dt).max) if normalized else 1.0
    p = _mipresize.plan((h, w), out_shape[:2], mode, cval / imax if preserve_range else cval)
    a = image
    if dt.name not in _mipresize._NATIVE:
        a = _skimage.to_float(image, preserve_range, np).astype(np.float32)
    if channels == 3:
        a = np.concatenate([a, np.zeros_like(a[..., :1])], axis=-1)
    ct = None
    if normalized:
        ct = {"u": "unorm_int", "i": "snorm_int"}[dt.kind] + str(8 * dt.itemsize)
    levels = ref.box_pyramid(a, p.levels, dims=2, channel_type=ct)
    g = _mipresize.grid(out_shape[:2], np)
    acc = np.zeros(out_shape[:2] + ((a.shape[2],) if a.ndim == 3 else ()), np.float64)
    for dx, dy in p.offsets:
        c = (g + np.array([dx, dy], np.float32)).astype(np.float32)
        acc += ref.sample_mipmap(levels, c, p.sampler, ct, dims=2, level=p.lod)
    out = (acc / len(p.offsets)).astype(np.float32)
    if channels == 3:
        out = out[..., :3]
    if normalized and preserve_range:
        out *= np.float32(imax)
    return out, levels, p.sampler


def skimage_resize(image, out_shape, **kw):
    """scikit-image's resize (float64 for integer and float64 inputs)."""
    from skimage.transform import resize

    return resize(np.asarray(image), out_shape, **kw)
