"""Build the Cython extensions of imagearray.

The extensions cimport ``cuda.bindings.cydriver``, whose ``.pxd`` includes ``cuda.h``
(and ``cudaProfiler.h``). No GPU, driver or toolkit is needed: libcuda is loaded at
run time by cuda-bindings. The headers are looked up, in order, in
``$IMAGEARRAY_CUDA_INCLUDE``, the ``nvidia-cuda-runtime`` 13.x wheel
(``nvidia/cu13/include``, plus ``nvidia-cuda-profiler-api`` there), ``$CUDA_HOME/include``
/ ``$CUDA_PATH/include`` and ``/usr/local/cuda/include``.

Cython and the headers are needed by ``build_ext`` only: making an sdist runs neither.
An extension compiled from the same inputs is reused from ``build/ext-cache/`` (see
``build_ext``); ``IMAGEARRAY_BUILD_CACHE=0`` or ``build_ext --force`` compiles anew.
"""

from __future__ import annotations

import glob
import hashlib
import importlib.util
import os
import shutil
import sys
import sysconfig

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext as _build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.join(ROOT, "build", "ext-cache")


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


def extensions() -> list[Extension]:
    """One extension per ``cython_src/imagearray/*.pyx``, still to be cythonized."""
    sources = sorted(glob.glob(os.path.join("cython_src", "imagearray", "*.pyx")))
    if not sources:
        # Without this a tree that lost its .pyx files (an sdist without them) builds a
        # wheel with no extensions at all, which fails only on import.
        raise SystemExit(
            "imagearray: no cython_src/imagearray/*.pyx in " + os.getcwd() + ": this "
            "source tree is incomplete; build from a git checkout or a complete sdist"
        )
    return [
        Extension("imagearray." + os.path.splitext(os.path.basename(src))[0], [src], language="c")
        for src in sources
    ]


def _digest(*parts: object, files: tuple[str, ...] = (), trees: tuple[str, ...] = ()) -> str:
    """A hash of ``parts``, of ``files`` and of every file under ``trees``.

    Files under a tree count by their path inside it: pip's build environment, where
    the CUDA headers are, has a new temporary path each time.
    """
    h = hashlib.sha256()
    for part in parts:
        h.update(repr(part).encode() + b"\0")
    paths = [(path, path) for path in files]
    for top in trees:
        for base, dirs, names in os.walk(top):
            dirs.sort()
            paths += [
                (os.path.join(base, n), os.path.relpath(os.path.join(base, n), top))
                for n in sorted(names)
            ]
    for path, name in paths:
        h.update(name.encode() + b"\0")
        with open(path, "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:32]


class build_ext(_build_ext):
    """Cythonize, then compile each extension unless the cache holds it already.

    pip builds every editable install in fresh temporary folders, so without the cache
    each ``pip install -e .`` compiles every extension again (the README's test command
    after its main command did). An entry is keyed by the generated C file, the
    contents of every include folder (the CUDA headers and Python's), the compiler and
    linker command lines, the compiler binary and the Python version: inputs that
    differ in any of them compile anew.
    """

    def run(self):
        from Cython.Build import cythonize

        cythonized = cythonize(
            self.extensions,
            include_path=["cython_src"],
            compiler_directives={
                "language_level": 3,
                "embedsignature": True,
                "boundscheck": False,
                "wraparound": False,
            },
        )
        # Only the C sources are taken: setuptools has already prepared these objects.
        by_name = {ext.name: ext.sources for ext in cythonized}
        include = cuda_include_dirs()  # after cythonize: kept out of the C files
        for ext in self.extensions:
            ext.sources = by_name[ext.name]
            ext.include_dirs = include + ext.include_dirs
        super().run()

    def _cache_entry(self, ext) -> str | None:
        if self.force or os.environ.get("IMAGEARRAY_BUILD_CACHE") == "0":
            return None
        cc = getattr(self.compiler, "compiler_so", None) or [self.compiler.compiler_type]
        exe = shutil.which(cc[0])
        stat = os.stat(exe) if exe else None
        key = _digest(
            sys.version,
            sysconfig.get_config_var("EXT_SUFFIX"),
            cc,
            getattr(self.compiler, "linker_so", None),
            exe and (exe, stat.st_size, stat.st_mtime_ns),
            ext.define_macros,
            ext.undef_macros,
            ext.libraries,
            ext.extra_compile_args,
            ext.extra_link_args,
            files=tuple(ext.sources) + tuple(ext.depends),
            trees=tuple(d for d in ext.include_dirs + self.include_dirs if os.path.isdir(d)),
        )
        return os.path.join(CACHE, ext.name, key, os.path.basename(self.get_ext_filename(ext.name)))

    def build_extension(self, ext):
        entry = self._cache_entry(ext)
        target = self.get_ext_fullpath(ext.name)
        if entry and os.path.isfile(entry):
            print(f"imagearray: {ext.name} unchanged, reusing {entry}", file=sys.stderr)
            self.mkpath(os.path.dirname(target))
            self.copy_file(entry, target)
            return
        super().build_extension(ext)
        if entry:
            # one entry per extension: the older ones are dropped
            shutil.rmtree(os.path.join(CACHE, ext.name), ignore_errors=True)
            os.makedirs(os.path.dirname(entry))
            shutil.copy2(target, entry)


setup(ext_modules=extensions(), cmdclass={"build_ext": build_ext})
