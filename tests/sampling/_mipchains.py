"""What the mip-chain GPU tests share (test_mipgen_fused_gpu, test_mipchain_gpu): random
level-0 data, bitwise comparison, and the ways a 2D chain runs (:data:`CHAINS`: this folder's
conftest makes them the ``_fused`` fixture's parameters)."""

from __future__ import annotations

import numpy as np


def _data(rng, shape, dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        # signed values over several binades: rounding differences would show
        return (rng.standard_normal(shape) * 100).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, shape, endpoint=True).astype(dtype)


def _bits(a: np.ndarray) -> np.ndarray:
    """The stored bytes of ``a`` as unsigned integers: compares -0.0 / NaN exactly."""
    return a.view({1: np.uint8, 2: np.uint16, 4: np.uint32}[a.dtype.itemsize])


# (mipwide.WIDE_LEVELS, mipchain.ONE_LAUNCH, mipdeep.ROWS, pdl.ENABLED,
# mipchain.TAIL_ONE_LAUNCH, mipwide.STREAMING, mipkernels.PREREAD) of each way a 2D
# chain runs (eight; with six the two GPU files took 97 s and 73 s on the H100 at stop
# 40, against tools/gpu-test.sh's share of several; mipdeep.ROWS=4 gave way to tail3)
CHAINS = {
    "deep8": (3, False, 8, True, False, False, False),  # deep first passes, then fused
    "one3": (3, True, 8, True, False, False, False),  # one launch where mipchain.plan takes it
    "wide3": (3, False, 0, True, False, False, False),  # the default: wide passes of <= 3 levels
    "wide3plain": (3, False, 0, False, False, False, False),  # without PDL (sampling/pdl.py)
    "wide2": (2, False, 0, True, False, False, False),
    "tail3": (3, False, 0, True, True, False, False),  # the first wide pass, then one launch
    "wide3cs": (3, False, 0, True, False, True, False),  # streaming reads and writes (.cs)
    "preread": (3, False, 0, True, False, False, True),  # fused passes read every tap first
}


def _assert_same(got, want, what):
    assert len(got) == len(want)
    for lv, (g, w) in enumerate(zip(got, want)):
        assert g.shape == w.shape, f"{what}: level {lv} shape {g.shape} != {w.shape}"
        np.testing.assert_array_equal(_bits(g), _bits(w), err_msg=f"{what}: level {lv}")
