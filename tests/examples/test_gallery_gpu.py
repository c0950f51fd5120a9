"""The gallery's scripts on the GPU: each picture agrees with the same script run on
the NumPy texture-unit reference (the picture the site shows is the GPU's; this is
what says it shows what the texture unit does, not a different computation).

Coordinator: ``IMAGEARRAY_REQUIRE_GPU=1 python -m pytest -q tests/examples``."""

from __future__ import annotations

import subprocess
import sys

import numpy
import pytest
from _gallery_scripts import EXAMPLES, SCRIPTS, load

pytestmark = pytest.mark.gpu

#: Texels (fraction of all) allowed to differ by more than LEVELS of 255 in some
#: channel. Exact paths (gather, nearest atlas) get 0; filtered ones the texture
#: unit's rounding at sharp edges; mipmaps also the hardware's level-of-detail
#: arithmetic, which the reference approximates (OpenGL's isotropic formula); rotate
#: also imagearray.ndimage's exact interpolation near the input's edges, where the
#: script's reference samples with the border colour (a band of a few texels along
#: the turned picture's edges, in its first and third panels).
LEVELS = 4
ALLOWED = {"plot_gather": 0.0, "plot_mipmaps": 0.08, "plot_rotate": 0.06}
DEFAULT_ALLOWED = 0.01


@pytest.mark.parametrize("name", SCRIPTS)
def test_gpu_picture_matches_the_reference(name):
    m = load(name)
    gpu, ref = m.render(True), m.render(False)
    assert gpu.shape == ref.shape and gpu.dtype == ref.dtype == numpy.uint8
    off = (numpy.abs(gpu.astype(int) - ref).max(-1) > LEVELS).mean()
    assert off <= ALLOWED.get(name, DEFAULT_ALLOWED), f"{off:.2%} of the texels differ"


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_runs_on_the_gpu(tmp_path, name):
    run = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "GPU" in run.stdout and (tmp_path / load(name).NAME).is_file()
