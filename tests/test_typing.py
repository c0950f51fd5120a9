"""The public API type-checks as users see it: mypy (``--strict``) passes a snippet of
ordinary user code and rejects snippets that misuse the API.

imagearray ships ``py.typed``; CuPy ships no type information (no ``py.typed``), so
``cupy`` is ignored as a missing import (what a user of mypy has to do too) and
``cupy.ndarray`` results are ``Any``.

Two ways mypy can find imagearray:

- "source": the package's parent directory on ``mypy_path``, with errors inside
  imagearray silenced (``follow_imports = silent``), as mypy does for an installed
  package: it checks the annotations whatever the install. A package installed into
  site-packages (a wheel: tools/dist-test.sh) is found there instead: mypy refuses
  site-packages on ``mypy_path``.
- "installed": only what the environment's interpreter has installed (a wheel, a
  plain ``.pth``). mypy cannot follow setuptools' import-hook editable installs
  (python/mypy#13392, pypa/setuptools#3518): then this mode is skipped, saying so.
"""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys
import sysconfig
import textwrap

import pytest

import imagearray

mypy_api = pytest.importorskip("mypy.api", reason="mypy is in the test extra")

PACKAGE_DIR = pathlib.Path(imagearray.__file__).resolve().parent
IN_SITE_PACKAGES = PACKAGE_DIR.parent in {
    pathlib.Path(sysconfig.get_paths()[k]).resolve() for k in ("purelib", "platlib")
}

GOOD = '''
"""What a user writes: the public API, type-checked."""

from __future__ import annotations

from typing import Literal

import cupy
import numpy
from typing_extensions import assert_type

import imagearray as ia


def main() -> None:
    img: ia.ImageArray = ia.zeros((64, 64), numpy.float32)
    coords = cupy.random.rand(100, 2).astype(cupy.float32) * 64
    v = img.sample(coords)
    v = img.sample(coords, ia.Sampler("clamp_to_edge", filtering="nearest"), level=0.0)
    v = img.sample(coords, coordinates="normalized", stream=None)
    t = img.texture()
    assert_type(t, ia.SampledImageHandle)
    assert_type(img.texture(ia.Sampler()), ia.SampledImageHandle)
    raw: int = int(t)
    assert_type(img.surface(), ia.UnsampledImageHandle)
    lin = ia.asimage(numpy.zeros((4, 4), numpy.float32), numpy.float32, memory="linear")
    assert_type(ia.asimage([[1, 2], [3, 4]], numpy.uint8), ia.ImageArray)
    assert_type(ia.empty_like(lin), ia.ImageArray)
    assert_type(img.astype(numpy.float16), ia.ImageArray)
    assert_type(img.astype("uint8", copy=False), ia.ImageArray)
    assert_type(img.shape, tuple[int, ...])
    assert_type(img.memory, Literal["array", "linear"])
    shape: tuple[int, ...] = img.shape
    dev = img.device
    ev = ia.copy(img, ia.empty_like(img))
    ev.synchronize()
    n: int = img.ndim + img.size + img.channels + img.device_id + raw + len(shape)
    host: numpy.ndarray = img.get()
    layered = ia.zeros((3, 8, 8), numpy.uint8, layered=True, normalized=True)
    assert_type(layered.layer(1), ia.ImageArray)
    assert_type(layered.copy(), ia.ImageArray)
    m = img.mean() + img.max()
    with ia.ones(16, numpy.int32, memory="linear") as lin1d:
        f = lin1d.fetch(cupy.arange(16)[:, None])
    cube = ia.full((6, 8, 8, 4), 0.5, numpy.float16, 4, cubemap=True)
    d = cube.sample_cubemap(cupy.ones((10, 3), cupy.float32))
    assert_type(ia.zeros_like(img, memory="array", device=0), ia.ImageArray)
    assert_type(ia.ones([2, 3, 5], "int16", 1), ia.ImageArray)
    img[1:3, 2:5] = 0
    print(v, dev, n, host, m, f, d)
'''

# Each line marked "# E: <code>" must get exactly that mypy error; no other line any.
BAD = """
import cupy
import numpy

import imagearray as ia

img = ia.zeros((4, 4), numpy.float32)
coords = cupy.zeros((1, 2), cupy.float32)
img.shape + 1  # E: operator
img.layer("0")  # E: arg-type
img.sample(coords, None, None)  # E: call-arg
img.sample(coords, "linear")  # E: arg-type
img.sample(coords, level="high")  # E: arg-type
ia.zeros((4, 4), layerd=True)  # E: call-arg
ia.empty((4, 4), memory="gpu")  # E: arg-type
ia.zeros("64")  # E: arg-type
wrong: ia.UnsampledImageHandle = img.texture()  # E: assignment
"""

_ERROR = re.compile(
    r"^(?P<file>[^:\n]+):(?P<line>\d+): error: (?P<msg>.*?)  \[(?P<code>[a-z-]+)\]$"
)


def _config(mode: str) -> str:
    lines = ["[mypy]", "strict = True"]
    if mode == "source" and not IN_SITE_PACKAGES:
        lines.append(f"mypy_path = {PACKAGE_DIR.parent}")
    lines += ["", "[mypy-cupy.*]", "ignore_missing_imports = True"]
    if mode == "source":
        # as for an installed package: imagearray's own errors are not the user's
        lines += ["", "[mypy-imagearray.*]", "follow_imports = silent"]
        lines += ["follow_imports_for_stubs = True"]
    return "\n".join(lines) + "\n"


def _run_mypy(tmp_path: pathlib.Path, monkeypatch, mode: str, files: dict[str, str]):
    """(errors as (file, line, code, message), mypy's output, exit status)."""
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text).lstrip())
    (tmp_path / "mypy.ini").write_text(_config(mode))
    # not the repository: mypy also searches the working directory
    monkeypatch.chdir(tmp_path)
    args = [
        "--config-file",
        str(tmp_path / "mypy.ini"),
        "--cache-dir",
        str(tmp_path / ".mypy_cache"),
        "--no-color-output",
        "--no-error-summary",
        "--show-error-codes",
        *files,
    ]
    if mode == "source":
        out, err, status = mypy_api.run(args)
    else:
        # In this process mypy would take pytest's sys.path (which holds the
        # repository) for the installed packages: ask a fresh interpreter instead.
        proc = subprocess.run(
            [sys.executable, "-m", "mypy", *args], capture_output=True, text=True, timeout=300
        )
        out, err, status = proc.stdout, proc.stderr, proc.returncode
    errors = []
    for line in out.splitlines():
        m = _ERROR.match(line)
        if m:
            errors.append((m["file"], int(m["line"]), m["code"], m["msg"]))
    return errors, out + err, status


def _expected(text: str) -> dict[int, str]:
    """line number -> the error code its "# E: <code>" marker names."""
    lines = textwrap.dedent(text).lstrip().splitlines()
    return {
        i: line.rsplit("# E:", 1)[1].strip()
        for i, line in enumerate(lines, start=1)
        if "# E:" in line
    }


def _check(tmp_path, monkeypatch, mode):
    errors, output, status = _run_mypy(
        tmp_path, monkeypatch, mode, {"user_ok.py": GOOD, "user_wrong.py": BAD}
    )
    assert not [e for e in errors if e[0] != "user_wrong.py"], output
    got: dict[int, list[str]] = {}
    for _, line, code, _ in errors:
        got.setdefault(line, []).append(code)
    want = {line: [code] for line, code in _expected(BAD).items()}
    assert got == want, output
    assert status == 1, output


@pytest.mark.parametrize("mode", ["source"])
def test_user_code_type_checks(tmp_path, monkeypatch, mode):
    _check(tmp_path, monkeypatch, mode)


def test_methods_bound_from_engines_have_the_engines_signatures(tmp_path, monkeypatch):
    """``sample = sample`` in the class body: mypy binds ``self`` (the engine's
    ``view``) and keeps the engine's parameter and return types."""
    probe = """
    import numpy

    import imagearray as ia

    img = ia.zeros((4, 4), numpy.float32)
    reveal_type(img.sample)
    reveal_type(img.fetch)
    reveal_type(img.sample_cubemap)
    reveal_type(img.texture)
    reveal_type(ia.copy)
    """
    _, output, _ = _run_mypy(tmp_path, monkeypatch, "source", {"probe.py": probe})
    revealed = re.findall(r'Revealed type is "(.*)"', output)
    assert len(revealed) == 5, output
    sample, fetch, cube, texture, copy = revealed
    assert sample.startswith("def (coords: Any, sampler: imagearray._sampler.Sampler | None ="), (
        sample
    )
    assert "view" not in sample and "level: float | None" in sample
    assert fetch.startswith("def (indices: Any, *, layer: Any =") and "view" not in fetch
    assert cube.startswith("def (directions: Any, sampler: imagearray._sampler.Sampler | None")
    assert texture.endswith("-> imagearray.handles.create.SampledImageHandle"), texture
    assert copy.startswith("def (src: Any, dst: Any, *, desc: imagearray._descriptor."), copy


def test_package_ships_py_typed():
    """PEP 561: the marker that makes mypy read an installed package's annotations."""
    assert (PACKAGE_DIR / "py.typed").is_file()
