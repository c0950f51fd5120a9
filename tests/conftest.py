"""Test configuration: GPU tests skip without a device, with the reason.

On the GPU machine set ``IMAGEARRAY_REQUIRE_GPU=1`` (tools/gpu-test.sh does): a
missing device then fails the run instead of skipping, so a GPU run can never pass
by skipping.
"""

from __future__ import annotations

import os

import pytest

REQUIRE_GPU = os.environ.get("IMAGEARRAY_REQUIRE_GPU") == "1"


def _gpu_reason() -> str | None:
    try:
        import cupy
    except Exception as exc:  # pragma: no cover - cupy is a dependency
        return f"CuPy cannot be imported: {exc}"
    if not cupy.cuda.is_available():
        return "no CUDA device (cupy.cuda.is_available() is False)"
    import imagearray as ia

    if not ia.is_available():
        return "CUDA driver not usable by imagearray"
    return None


_GPU_REASON = _gpu_reason()


def _device_count() -> int:
    if _GPU_REASON is not None:
        return 0
    import cupy

    return cupy.cuda.runtime.getDeviceCount()


def pytest_collection_modifyitems(config, items):
    if _GPU_REASON is not None and REQUIRE_GPU:
        raise pytest.UsageError(f"IMAGEARRAY_REQUIRE_GPU=1 but {_GPU_REASON}")
    skip_gpu = pytest.mark.skip(reason=_GPU_REASON or "")
    ndev = _device_count()
    for item in items:
        if _GPU_REASON is not None and (
            "gpu" in item.keywords or "multigpu" in item.keywords or "vulkan" in item.keywords
        ):
            item.add_marker(skip_gpu)
        elif "multigpu" in item.keywords and ndev < 2:
            item.add_marker(
                pytest.mark.skip(reason=f"needs 2 CUDA devices, this machine has {ndev}")
            )


@pytest.fixture
def rng():
    import numpy as np

    return np.random.default_rng(12345)
