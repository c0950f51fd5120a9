"""Build the Cython extensions of imagearray.

The extensions cimport ``cuda.bindings.cydriver``, whose ``.pxd`` includes ``cuda.h``
(and ``cudaProfiler.h``). No GPU, driver or toolkit is needed: libcuda is loaded at
run time by cuda-bindings. The headers are looked up, in order, in
``$IMAGEARRAY_CUDA_INCLUDE``, the ``nvidia-cuda-runtime`` 13.x wheel
(``nvidia/cu13/include``, plus ``nvidia-cuda-profiler-api`` there), ``$CUDA_HOME/include``
/ ``$CUDA_PATH/include`` and ``/usr/local/cuda/include``.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import sys

from setuptools import Extension, setup


def _wheel_include_dirs() -> list[str]:
    # find_spec, not cuda.pathfinder: under build isolation pathfinder may not see
    # the isolated environment and silently pick a toolkit of another version.
    found = []
    for mod in ("nvidia.cu13", "nvidia.cuda_runtime"):
        try:
            spec = importlib.util.find_spec(mod)
        except (ImportError, ValueError):
            continue
        for loc in (spec.submodule_search_locations or []) if spec else []:
            inc = os.path.join(loc, "include")
            if os.path.isfile(os.path.join(inc, "cuda.h")):
                found.append(inc)
    return found


def cuda_include_dirs() -> list[str]:
    candidates = []
    if os.environ.get("IMAGEARRAY_CUDA_INCLUDE"):
        candidates.append(os.environ["IMAGEARRAY_CUDA_INCLUDE"])
    candidates += _wheel_include_dirs()
    for var in ("CUDA_HOME", "CUDA_PATH"):
        if os.environ.get(var):
            candidates.append(os.path.join(os.environ[var], "include"))
    candidates += ["/usr/local/cuda/include"] + sorted(glob.glob("/usr/local/cuda-13*/include"))
    for inc in candidates:
        if os.path.isfile(os.path.join(inc, "cuda.h")):
            dirs = [inc]
            # cudaProfiler.h may live in a separate wheel's include folder.
            if not os.path.isfile(os.path.join(inc, "cudaProfiler.h")):
                dirs += [d for d in candidates if os.path.isfile(os.path.join(d, "cudaProfiler.h"))]
            print(f"imagearray: building against CUDA headers in {dirs}", file=sys.stderr)
            return dirs
    raise SystemExit(
        "imagearray: cuda.h not found. Install nvidia-cuda-runtime==13.* (pip), or set "
        "IMAGEARRAY_CUDA_INCLUDE / CUDA_HOME to a CUDA 13 toolkit. Looked in: "
        + ", ".join(candidates)
    )


def extensions():
    from Cython.Build import cythonize

    inc = cuda_include_dirs()
    sources = sorted(glob.glob("cython_src/imagearray/*.pyx"))
    exts = [
        Extension(
            "imagearray." + os.path.splitext(os.path.basename(src))[0],
            [src],
            include_dirs=inc,
            language="c",
        )
        for src in sources
    ]
    return cythonize(
        exts,
        include_path=["cython_src"],
        compiler_directives={
            "language_level": 3,
            "embedsignature": True,
            "boundscheck": False,
            "wraparound": False,
        },
    )


setup(ext_modules=extensions())
