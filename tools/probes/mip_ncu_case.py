"""The launches that ``ncu --kernel-name regex:ia_mipgen`` profiles: the 4096^2 float32
chain as ``generate_mipmaps`` makes it (the wide pass of levels 1-3 first), then the
deep first pass (``mipdeep.ROWS=4``) that makes levels 1-6 in one launch, twice each."""

import cupy
import numpy

import imagearray as ia
from imagearray.sampling import mipdeep

img = ia.empty((4096, 4096), numpy.float32, 1, levels=13)
for rows in (0, 4):
    mipdeep.ROWS = rows
    img._mem._cache.mipfused = None  # the chain planned again
    img._mem._cache.mipgen_graph = None
    img.__dict__.pop("_mipgen_replay", None)
    for _ in range(2):
        img.generate_mipmaps()
cupy.cuda.Device().synchronize()
