"""Collect and run the package's docstring examples (shared by the CPU and the GPU
doctest tests).

Every module of ``imagearray`` is searched (compiled extensions included); the
examples see ``ia``, ``numpy`` and ``cupy`` already imported, as the CuPy and NumPy
documentation assumes, and compare with ``ELLIPSIS``. Each runs in an empty
temporary folder (the demo's example writes its pictures there).

``GPU_DOCTESTS``: the docstrings whose examples need a device, by dotted name or
prefix; the CPU test runs every other one, so a new example runs in CI unless it is
listed here.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import imagearray

GPU_DOCTESTS = (
    "imagearray.array.",
    "imagearray.copies.",
    "imagearray.demo.steps.run",
    "imagearray.handles.",
    "imagearray.interop.exportable.",
    "imagearray.interop.memory.",
    "imagearray.interop.semaphores.",
    "imagearray.memory.",
    "imagearray.ndimage.",
    "imagearray.sampling.",
    "imagearray._device.device_has",
    "imagearray._device.device_info",
    "imagearray._device.get_device",
    "imagearray._device.get_stream",
)

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def needs_gpu(name: str) -> bool:
    return any(name == p or name.startswith(p) for p in GPU_DOCTESTS)


def modules() -> list:
    found = [imagearray]
    for info in pkgutil.walk_packages(imagearray.__path__, "imagearray."):
        found.append(importlib.import_module(info.name))
    return found


def collect() -> list[doctest.DocTest]:
    """Every docstring with examples in the package, once each (by name)."""
    finder = doctest.DocTestFinder(exclude_empty=True)
    tests: dict[str, doctest.DocTest] = {}
    for module in modules():
        for test in finder.find(module, module.__name__):
            if test.examples:
                tests.setdefault(test.name, test)
    return sorted(tests.values(), key=lambda t: t.name)


def run(test: doctest.DocTest, folder) -> tuple[int, str]:
    """Run one docstring's examples in ``folder``: (failures, the report)."""
    import os

    import cupy
    import numpy

    test.globs = {"ia": imagearray, "numpy": numpy, "cupy": cupy, **test.globs}
    lines: list[str] = []
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        result = runner.run(test, out=lines.append, clear_globs=True)
    finally:
        os.chdir(cwd)
    return result.failed, "".join(lines)
