"""Every public name has a docstring with an example, and the examples that need
no GPU run (here, in CI). The GPU ones: tests/test_doctests_gpu.py."""

from __future__ import annotations

import inspect

import pytest
from _doctests import collect, needs_gpu, run

import imagearray
import imagearray.ndimage

PUBLIC = [("imagearray", n) for n in imagearray.__all__] + [
    ("imagearray.ndimage", n) for n in imagearray.ndimage.__all__
]


@pytest.mark.parametrize("module, name", PUBLIC, ids=[f"{m}.{n}" for m, n in PUBLIC])
def test_public_name_has_an_example(module, name):
    obj = getattr(imagearray if module == "imagearray" else imagearray.ndimage, name)
    doc = inspect.getdoc(obj) or ""
    assert "\nExamples\n--------\n" in doc, f"{module}.{name}: no Examples section"
    examples = doc.split("\nExamples\n--------\n", 1)[1]
    assert ">>> " in examples, f"{module}.{name}: its Examples section has no >>> line"


CPU_TESTS = [t for t in collect() if not needs_gpu(t.name)]


def test_cpu_examples_are_found():
    names = {t.name for t in CPU_TESTS}
    # the error family, the enums and the sampler are plain Python: their examples run here
    assert {"imagearray._errors.CopyError", "imagearray._enums.ChannelType"} <= names
    assert len(CPU_TESTS) >= 40


@pytest.mark.parametrize("test", CPU_TESTS, ids=[t.name for t in CPU_TESTS])
def test_cpu_docstring_examples_run(test, tmp_path):
    failed, report = run(test, tmp_path)
    assert failed == 0, report
