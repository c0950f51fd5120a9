"""``python -m imagearray demo``: the library's tour, on a GPU or without one.

:func:`run` makes a test picture procedurally, uploads it, generates its mipmaps,
renders a rotated and zoomed view by texture sampling, samples a cubemap into an
equirectangular panorama, fills a layered atlas, writes the pictures as PNGs and, on
a GPU, prints a table timing imagearray against ``cupyx.scipy.ndimage``. Without a
GPU the same steps run on the NumPy texture-unit reference
(:mod:`imagearray.testing`), which writes the same pictures.

Modules: :mod:`.pictures` (the inputs and geometry, plain NumPy), :mod:`.backends`
(the GPU and the reference behind one set of methods), :mod:`.steps` (one function
per step, and :func:`run`), :mod:`.timing` (the table).
"""

from __future__ import annotations

from imagearray.demo.backends import Backend, GPUBackend, ReferenceBackend, find_backend
from imagearray.demo.steps import FILES, MIN_SIZE, STEPS, DemoResult, run

__all__ = [
    "FILES",
    "MIN_SIZE",
    "STEPS",
    "Backend",
    "DemoResult",
    "GPUBackend",
    "ReferenceBackend",
    "find_backend",
    "run",
]
