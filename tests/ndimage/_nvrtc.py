"""NVRTC for the ndimage CPU tests: the generated kernel sources compile without a
GPU (the NVRTC wheel of the test extras); the tests skip where it cannot load."""

from __future__ import annotations

import pytest

try:
    from cuda.bindings import nvrtc

    HAVE_NVRTC = nvrtc.nvrtcVersion()[0] == nvrtc.nvrtcResult.NVRTC_SUCCESS
except Exception:  # noqa: BLE001 - no loadable libnvrtc: the compile tests skip
    HAVE_NVRTC = False

needs_nvrtc = pytest.mark.skipif(not HAVE_NVRTC, reason="cuda.bindings.nvrtc cannot load libnvrtc")


def compile_log(src: str) -> str | None:
    """None where ``src`` compiles for sm_90 (C++17), else NVRTC's log."""
    err, prog = nvrtc.nvrtcCreateProgram(src.encode(), b"k.cu", 0, [], [])
    opts = [b"-std=c++17", b"--gpu-architecture=compute_90"]
    (err,) = nvrtc.nvrtcCompileProgram(prog, len(opts), opts)
    if err == nvrtc.nvrtcResult.NVRTC_SUCCESS:
        return None
    _, size = nvrtc.nvrtcGetProgramLogSize(prog)
    log = bytes(size)
    nvrtc.nvrtcGetProgramLog(prog, log)
    return log.decode(errors="replace")
