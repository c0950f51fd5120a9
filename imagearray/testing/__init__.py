"""Testing helpers: :mod:`imagearray.testing.reference`, a NumPy emulation of CUDA's
texture unit that GPU results are compared with.

Examples
--------
>>> import numpy as np
>>> from imagearray._sampler import Sampler
>>> from imagearray.testing import sample
>>> sample(np.array([0.0, 1.0], np.float32), [1.0], Sampler(filtering="linear"), dims=1)
array(0.5, dtype=float32)
"""

from __future__ import annotations

from imagearray.testing.reference import (
    CUBEMAP_FACES,
    GATHER_ORDER,
    box_pyramid,
    box_weights,
    cubemap_face,
    fetch,
    filter_tolerance,
    gather,
    lod_from_gradients,
    read_texels,
    sample,
    sample_cubemap,
    sample_layered,
    sample_mipmap,
)

__all__ = [
    "CUBEMAP_FACES",
    "GATHER_ORDER",
    "box_pyramid",
    "box_weights",
    "cubemap_face",
    "fetch",
    "filter_tolerance",
    "gather",
    "lod_from_gradients",
    "read_texels",
    "sample",
    "sample_cubemap",
    "sample_layered",
    "sample_mipmap",
]
