"""The sampling engines (spec: "Reading and writing images" on the device side, run
for the host): ``sample``, ``sample_cubemap``, ``fetch`` (``engine``), ``gather``
(``gathers``: texture gather), mip generation (``mipgen``), their kernels
(``kernels``) and the per-memory cache of handles, plans and launches (``cache``).
Functions of an ``ImageView``; ``ImageArray`` binds them."""

from imagearray.sampling.cache import (
    MemoryCache,
    cache_of,
    default_sampler,
    lock_of,
    surface,
    texture,
)
from imagearray.sampling.engine import SamplePlan, fetch, kernel_kind, sample, sample_cubemap
from imagearray.sampling.gathers import gather
from imagearray.sampling.mipgen import generate_mipmaps

__all__ = [
    "MemoryCache",
    "SamplePlan",
    "cache_of",
    "default_sampler",
    "fetch",
    "gather",
    "generate_mipmaps",
    "kernel_kind",
    "lock_of",
    "sample",
    "sample_cubemap",
    "surface",
    "texture",
]
