"""The sampling and fetch kernels compile with NVRTC for every read type (no GPU)."""

from __future__ import annotations

import pytest

from imagearray import _kernels
from imagearray._enums import ChannelType


def _nvrtc_compile(src: str, arch: str = "compute_90") -> tuple[bool, str]:
    try:
        from cuda.bindings import nvrtc
    except ImportError as exc:  # pragma: no cover - cuda-bindings is a dependency
        pytest.skip(f"cuda.bindings.nvrtc unavailable: {exc}")
    try:
        err, prog = nvrtc.nvrtcCreateProgram(src.encode(), b"k.cu", 0, [], [])
    except RuntimeError as exc:  # libnvrtc not found
        pytest.skip(f"NVRTC library not loadable (install nvidia-cuda-nvrtc): {exc}")
    opts = [f"--gpu-architecture={arch}".encode(), b"-std=c++17"]
    (res,) = nvrtc.nvrtcCompileProgram(prog, len(opts), opts)
    _, size = nvrtc.nvrtcGetProgramLogSize(prog)
    log = b" " * size
    nvrtc.nvrtcGetProgramLog(prog, log)
    nvrtc.nvrtcDestroyProgram(prog)
    return res == nvrtc.nvrtcResult.NVRTC_SUCCESS, log.decode(errors="replace")


@pytest.mark.parametrize("ctype", list(ChannelType))
@pytest.mark.parametrize("channels", [1, 2, 4])
def test_sample_kernels_compile(ctype, channels):
    vt, ot, _ = _kernels.read_types(ctype, channels)
    src = "\n".join(
        _kernels._SAMPLE.format(dims=d, vt=vt, ot=ot, mode=m).replace(
            "ia_sample", f"ia_sample_{d}_{m}"
        )
        for d in (1, 2, 3)
        for m in (0, 1, 2)
    )
    ok, log = _nvrtc_compile(src)
    assert ok, log


@pytest.mark.parametrize(
    "texel_size,channels", [(1, 1), (2, 2), (4, 4), (2, 1), (8, 4), (16, 4), (4, 1), (8, 2)]
)
def test_fetch_kernels_compile(texel_size, channels):
    vt = _kernels.fetch_types(texel_size, channels)
    src = "\n".join(
        _kernels._FETCH.format(dims=d, vt=vt).replace("ia_fetch", f"ia_fetch_{d}")
        for d in (1, 2, 3)
    )
    ok, log = _nvrtc_compile(src)
    assert ok, log


def test_read_types():
    assert _kernels.read_types(ChannelType.UNORM_INT8, 4)[:2] == ("float4", "float")
    assert _kernels.read_types(ChannelType.FP16, 2)[:2] == ("float2", "float")
    assert _kernels.read_types(ChannelType.SIGNED_INT16, 4)[:2] == ("short4", "short")
    assert _kernels.read_types(ChannelType.UNSIGNED_INT8, 1)[:2] == (
        "unsigned char",
        "unsigned char",
    )
    assert str(_kernels.read_types(ChannelType.SIGNED_INT32, 2)[2]) == "int32"
    assert _kernels.fetch_types(8, 4) == "ushort4" and _kernels.fetch_types(4, 1) == "unsigned int"
    assert _kernels.grid(1000) == ((4,), (256,))
