"""Packaging: what the sdist carries, one version, the license, the command line, and a
clear error for a package whose extensions are not built.

Tests marked by ``_CHECKOUT`` need the source tree (they skip where the tests run
against an installed wheel, from a folder without it: tools/dist-test.sh).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
from pathlib import Path

import pytest

import imagearray as ia
from imagearray import _include

ROOT = Path(__file__).resolve().parents[1]
IN_CHECKOUT = (ROOT / "setup.py").is_file() and (ROOT / "cython_src" / "imagearray").is_dir()
_CHECKOUT = pytest.mark.skipif(not IN_CHECKOUT, reason="needs the source tree (setup.py)")
PACKAGE_DIR = Path(ia.__file__).resolve().parent
STUBS = sorted(p.stem for p in PACKAGE_DIR.glob("*.pyi"))


def test_version_is_the_installed_metadata_version():
    assert importlib.metadata.version("imagearray") == ia.__version__


@_CHECKOUT
def test_pyproject_reads_the_version_from_the_package():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"]
    assert "version" in project["project"]["dynamic"]
    attr = project["tool"]["setuptools"]["dynamic"]["version"]
    assert attr == {"attr": "imagearray.__version__"}


def test_license_is_mit_spdx():
    meta = importlib.metadata.metadata("imagearray")
    assert meta["License-Expression"] == "MIT"
    assert meta.get_all("License-File") == ["LICENSE"]


@_CHECKOUT
def test_license_file_is_mit():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License\n")


def test_version_flag():
    res = subprocess.run(
        [sys.executable, "-m", "imagearray", "--version"], capture_output=True, text=True
    )
    assert (res.returncode, res.stdout, res.stderr) == (0, f"imagearray {ia.__version__}\n", "")


def test_every_stub_is_a_compiled_extension():
    # require_extensions() takes the .pyi stubs as the list of extensions
    assert STUBS, "no .pyi stub beside the package"
    for name in STUBS:
        spec = importlib.util.find_spec(f"imagearray.{name}")
        assert spec is not None and spec.origin.endswith(sysconfig.get_config_var("EXT_SUFFIX"))
    _include.require_extensions()


@_CHECKOUT
def test_stubs_name_every_cython_module():
    pyx = sorted(p.stem for p in (ROOT / "cython_src" / "imagearray").glob("*.pyx"))
    assert STUBS == pyx


def _package_without(tmp_path: Path, kept: set[str]) -> Path:
    """A copy of the Python side of the package with only the ``kept`` extensions."""
    dest = tmp_path / "imagearray"
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    shutil.copytree(
        PACKAGE_DIR,
        dest,
        ignore=lambda _, names: [
            n
            for n in names
            if n == "__pycache__" or (n.endswith(suffix) and n[: -len(suffix)] not in kept)
        ],
    )
    return tmp_path


@pytest.mark.parametrize("kept", [set(), {"_driver"}], ids=["none", "only_driver"])
def test_missing_extensions_say_not_built(tmp_path, kept):
    root = _package_without(tmp_path, kept)
    # -I -S: no site-packages, so neither an installed nor an editable imagearray is
    # found; the check runs before anything that needs NumPy or CuPy.
    res = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-c",
            f"import sys; sys.path.insert(0, {str(root)!r}); import imagearray",
        ],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 1
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: imagearray's compiled extensions are not built: ")
    missing = [f"imagearray.{n}" for n in STUBS if n not in kept]
    assert ", ".join(missing) + f" not found in {root / 'imagearray'}." in last
    assert "python -m pip install -e ." in last
    assert "circular" not in res.stderr


def _copy_tree(dest: Path) -> Path:
    """The checkout as a developer has it (generated C files included), without build
    outputs, so that making the sdist writes nothing into the checkout."""
    skip = {".git", "build", "dist", "__pycache__", ".venv", ".gl", ".whl", "results"}
    shutil.copytree(
        ROOT,
        dest,
        ignore=lambda _, names: [
            n for n in names if n in skip or n.endswith((".so", ".egg-info")) or n.startswith(".")
        ],
    )
    return dest


@_CHECKOUT
def test_sdist_carries_the_sources(tmp_path):
    pytest.importorskip("setuptools", minversion="77")  # the SPDX license (PEP 639)
    tree = _copy_tree(tmp_path / "tree")
    out = tmp_path / "dist"
    res = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from setuptools import build_meta; "
            "print(build_meta.build_sdist(sys.argv[1]))",
            str(out),
        ],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    sdist = out / res.stdout.strip().splitlines()[-1]
    top = f"imagearray-{ia.__version__}"
    with tarfile.open(sdist) as tar:
        names = {n.removeprefix(top + "/") for n in tar.getnames()}
        pkg_info = tar.extractfile(f"{top}/PKG-INFO").read().decode()

    def present(pattern: str) -> set[str]:
        return {p.relative_to(tree).as_posix() for p in tree.glob(pattern)}

    cython = present("cython_src/**/*.pyx") | present("cython_src/**/*.pxd")
    assert {"cython_src/imagearray/_driver.pyx", "cython_src/imagearray/_driver.pxd"} <= cython
    assert cython - names == set()
    package = present("imagearray/**/*.py") | present("imagearray/**/*.pyi")
    package |= present("imagearray/include/**/*.cuh") | {"imagearray/py.typed"}
    assert package - names == set()
    assert {"LICENSE", "README.md", "pyproject.toml", "setup.py", "MANIFEST.in"} <= names
    # the test folders MANIFEST.in prunes test the repository (its tools, docs/,
    # examples/), which the sdist lacks
    manifest = (tree / "MANIFEST.in").read_text().splitlines()
    pruned = tuple(line.split()[1] + "/" for line in manifest if line.startswith("prune tests/"))
    assert "tests/tools/" in pruned and "tests/examples/" in pruned
    tests = {t for t in present("tests/**/*.py") if not t.startswith(pruned)}
    assert tests - names == set()
    assert [n for n in names if n.endswith((".c", ".cpp", ".so", ".pyc"))] == []
    assert [n for n in names if n.startswith(pruned)] == []
    assert f"\nVersion: {ia.__version__}\n" in pkg_info
    assert "\nLicense-Expression: MIT\n" in pkg_info


@pytest.mark.skipif(
    not os.environ.get("IMAGEARRAY_EXPECT_INSTALLED"),
    reason="IMAGEARRAY_EXPECT_INSTALLED (tools/dist-test.sh sets it) is not set",
)
def test_the_package_under_test_is_the_installed_one():
    site = Path(os.environ["IMAGEARRAY_EXPECT_INSTALLED"]).resolve()
    assert PACKAGE_DIR.is_relative_to(site), f"imagearray imported from {PACKAGE_DIR}"
    for name in STUBS:
        assert Path(importlib.util.find_spec(f"imagearray.{name}").origin).is_relative_to(site)
