"""The ``_fused`` fixture of the mip-chain GPU tests (test_mipgen_fused_gpu,
test_mipchain_gpu: ``pytest.mark.usefixtures("_fused")``): each test runs each way
of ``_mipchains.CHAINS``."""

from __future__ import annotations

import pytest
from _mipchains import CHAINS


@pytest.fixture(params=list(CHAINS.values()), ids=list(CHAINS))
def _fused(request, monkeypatch):
    """1D and 3D images take the fused passes here (off by default for them); 2D
    chains run each way of :data:`CHAINS`. Returns its (WIDE_LEVELS, ONE_LAUNCH,
    ROWS, ENABLED, TAIL_ONE_LAUNCH, STREAMING, PREREAD)."""
    from imagearray.sampling import mipchain, mipdeep, mipgen, mipkernels, mipwide, pdl

    monkeypatch.setattr(mipgen, "FUSED", True)
    monkeypatch.setattr(mipwide, "WIDE_LEVELS", request.param[0])
    monkeypatch.setattr(mipchain, "ONE_LAUNCH", request.param[1])
    monkeypatch.setattr(mipdeep, "ROWS", request.param[2])
    monkeypatch.setattr(pdl, "ENABLED", request.param[3])
    monkeypatch.setattr(mipchain, "TAIL_ONE_LAUNCH", request.param[4])
    monkeypatch.setattr(mipwide, "STREAMING", request.param[5])
    monkeypatch.setattr(mipkernels, "PREREAD", request.param[6])
    return request.param
