"""Programmatic dependent launch (sampling/pdl.py) without a GPU: the arguments'
bytes a launch passes, and the mip kernels that may be launched so start with the
wait (compiled to ``griddepcontrol`` for sm_90, to nothing below)."""

from __future__ import annotations

import ctypes
import re

import _nvrtc  # the tests' NVRTC
import numpy as np
import pytest

from imagearray.sampling import mipkernels as mk
from imagearray.sampling import mipwide as mw
from imagearray.sampling import pdl


class _Handle:
    """A stand-in for a surface handle: CuPy passes it as int(h)."""

    def __int__(self) -> int:
        return 0x1122334455667788


def test_packed_arguments_are_the_bytes_cupy_passes():
    struct = mk.by_value(np.array([3, -4, 5], np.int32))
    args = (np.uint64(2**63 + 9), np.int32(-7), struct, _Handle(), 12)
    keep, params = pdl._packed(args)
    assert len(params) == len(args) == len(keep)
    got = [ctypes.string_at(params[i], n) for i, n in enumerate((8, 4, 12, 8, 8))]
    assert got[0] == (2**63 + 9).to_bytes(8, "little")
    assert got[1] == (-7).to_bytes(4, "little", signed=True)
    assert got[2] == b"".join(v.to_bytes(4, "little", signed=True) for v in (3, -4, 5))
    assert got[3] == (0x1122334455667788).to_bytes(8, "little")
    assert got[4] == (12).to_bytes(8, "little")


def _body_start(src: str, name: str) -> str:
    """The first statement of kernel ``name``'s body."""
    head = re.search(name + r"\([^)]*\)\s*\{", src)
    assert head is not None, name
    return src[head.end() :].lstrip().split(";")[0] + ";"


SOURCES = [
    ("wide 2D, 3 levels", mw.wide_source(np.dtype("float32"), 1, 2, False, levels=3)),
    ("wide 2D layered RGBA8", mw.wide_source(np.dtype("uint8"), 4, 2, True, levels=2)),
    ("wide 3D", mw.wide_source(np.dtype("int16"), 2, 3, False)),
    ("fused 2D", mk.fused_source(np.dtype("float32"), 1, 2, False)),
    ("fused 1D", mk.fused_source(np.dtype("uint16"), 1, 1, False)),
    ("fused 3D", mk.fused_source(np.dtype("float32"), 4, 3, False)),
    ("fused layered", mk.fused_source(np.dtype("uint8"), 2, 2, True)),
]


@pytest.mark.parametrize("what,src", SOURCES, ids=[s[0] for s in SOURCES])
def test_kernels_launched_as_dependents_wait_first(what, src):
    name = "ia_mipgen_wide" if what.startswith("wide") else "ia_mipgen_fused"
    assert _body_start(src, name) == "IA_PDL_START();"
    assert "#define IA_PDL_START()" in src


def _ptx(src: str, arch: str) -> str:
    result = _nvrtc.compile(src, arch)
    assert result.ok, result.log
    return result.ptx


def test_the_wait_is_griddepcontrol_from_sm_90_only():
    src = mk.fused_source(np.dtype("float32"), 1, 2, False)
    on = _ptx(src, "compute_90")
    assert "griddepcontrol.wait" in on and "griddepcontrol.launch_dependents" in on
    off = _ptx(src, "compute_80")
    assert "griddepcontrol" not in off


@pytest.mark.parametrize("dependent", [True, False])
def test_launcher_config_is_the_grid_block_and_attribute_asked_for(dependent):
    from types import SimpleNamespace

    from cuda.bindings import driver as drv

    args = (np.int32(7), np.uint64(9))
    launch = pdl.Launcher(SimpleNamespace(ptr=0), (3, 2), (32, 8), args, dependent)
    cfg = launch._cfg
    grid = (cfg.gridDimX, cfg.gridDimY, cfg.gridDimZ)
    assert grid == (3, 2, 1) and (cfg.blockDimX, cfg.blockDimY, cfg.blockDimZ) == (32, 8, 1)
    assert cfg.sharedMemBytes == 0 and len(launch._keep) == len(args)
    want = drv.CUlaunchAttributeID.CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION
    assert cfg.numAttrs == int(dependent)
    assert [a.id for a in cfg.attrs[: cfg.numAttrs]] == ([want] if dependent else [])
    if dependent:
        assert cfg.attrs[0].value.programmaticStreamSerializationAllowed == 1
