"""Every docstring example of the package on the GPU, the ones that need a device
(tests/_doctests.py: GPU_DOCTESTS) and the CPU ones alike.

Coordinator: ``IMAGEARRAY_REQUIRE_GPU=1 python -m pytest -q tests/test_doctests_gpu.py``."""

from __future__ import annotations

import pytest
from _doctests import collect, needs_gpu, run

pytestmark = pytest.mark.gpu

TESTS = collect()


def test_gpu_examples_are_found():
    assert sum(needs_gpu(t.name) for t in TESTS) >= 30


@pytest.mark.parametrize("test", TESTS, ids=[t.name for t in TESTS])
def test_docstring_examples_run_on_the_gpu(test, tmp_path):
    failed, report = run(test, tmp_path)
    assert failed == 0, report
