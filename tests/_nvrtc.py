"""NVRTC for the CPU compile tests: every kernel source and device header compiles
without a GPU (the NVRTC wheel of the test extras), to PTX (``compute_XX``) or to a
CUBIN (``sm_XX``, which also runs ptxas over the inline PTX). The one home of the
tests' NVRTC calls; the tests skip where libnvrtc cannot load."""

from __future__ import annotations

import importlib.util
import os
import re

import pytest

try:
    from cuda.bindings import nvrtc

    _err, *VERSION = nvrtc.nvrtcVersion()
    HAVE_NVRTC = _err == nvrtc.nvrtcResult.NVRTC_SUCCESS
    WHY = "" if HAVE_NVRTC else f"nvrtcVersion returned {_err!r}"
except Exception as exc:  # noqa: BLE001 - no loadable libnvrtc: the compile tests skip
    HAVE_NVRTC, VERSION, WHY = False, [0, 0], str(exc)

SKIP_REASON = f"cuda.bindings.nvrtc cannot load libnvrtc: {WHY}"
needs_nvrtc = pytest.mark.skipif(not HAVE_NVRTC, reason=SKIP_REASON)


def _fp16_include() -> str | None:
    """The folder holding <cuda_fp16.h> (the nvidia-cuda-runtime wheel, else a toolkit),
    as CuPy provides it when it compiles the library's kernels."""
    candidates = []
    try:
        from cuda.pathfinder import find_nvidia_header_directory

        candidates.append(find_nvidia_header_directory("cudart"))
    except Exception:  # noqa: BLE001 - no pathfinder, or it finds none
        pass
    for name in ("nvidia.cu13", "nvidia.cuda_runtime"):
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is not None and spec.submodule_search_locations:
            candidates += [os.path.join(p, "include") for p in spec.submodule_search_locations]
    for var in ("CUDA_PATH", "CUDA_HOME"):
        if os.environ.get(var):
            candidates.append(os.path.join(os.environ[var], "include"))
    for folder in candidates:
        if folder and os.path.isfile(os.path.join(folder, "cuda_fp16.h")):
            return folder
    return None


FP16_INCLUDE = _fp16_include()


class Compiled:
    """NVRTC's verdict on one source: ``ok``, its ``log`` (NULs stripped) and, for a
    ``compute_XX`` target that compiled, the ``ptx``."""

    def __init__(self, ok: bool, log: str, ptx: str):
        self.ok, self.log, self.ptx = ok, log, ptx

    @property
    def errors(self) -> list[str]:
        return [line for line in self.log.splitlines() if re.search(r"\berror\b\s*:", line)]

    @property
    def clean(self) -> bool:
        """Compiled without a warning either (an empty log)."""
        return self.ok and not self.log.strip()


def _text(prog, size_of, get) -> str:
    _, size = size_of(prog)
    buf = bytes(size)  # (a fresh buffer: b" " * 1 is CPython's shared one-byte object)
    get(prog, buf)
    return buf.rstrip(b"\0").decode(errors="replace")


def compile(  # noqa: A001 - the module's one verb, called as _nvrtc.compile
    source: str,
    arch: str = "compute_90",
    *,
    fp16: bool = True,
    options: tuple[str, ...] = (),
    name: str = "k.cu",
) -> Compiled:
    """``source`` compiled with NVRTC for ``arch`` (C++17; with ``fp16`` the folder of
    <cuda_fp16.h> on the include path where one is found; then ``options``). Skips
    the calling test where libnvrtc cannot load."""
    if not HAVE_NVRTC:
        pytest.skip(SKIP_REASON)
    err, prog = nvrtc.nvrtcCreateProgram(source.encode(), name.encode(), 0, [], [])
    assert err == nvrtc.nvrtcResult.NVRTC_SUCCESS, err
    opts = [f"--gpu-architecture={arch}", "-std=c++17", *options]
    if fp16 and FP16_INCLUDE is not None:
        opts.append(f"-I{FP16_INCLUDE}")
    try:
        (err,) = nvrtc.nvrtcCompileProgram(prog, len(opts), [o.encode() for o in opts])
        ok = err == nvrtc.nvrtcResult.NVRTC_SUCCESS
        log = _text(prog, nvrtc.nvrtcGetProgramLogSize, nvrtc.nvrtcGetProgramLog)
        ptx = ""
        if ok and arch.startswith("compute_"):
            ptx = _text(prog, nvrtc.nvrtcGetPTXSize, nvrtc.nvrtcGetPTX)
    finally:
        nvrtc.nvrtcDestroyProgram(prog)
    return Compiled(ok, log, ptx)


def compile_log(source: str, arch: str = "compute_90") -> str | None:
    """None where ``source`` compiles for ``arch``, else NVRTC's log."""
    result = compile(source, arch)
    return None if result.ok else result.log
