#!/usr/bin/env bash
# One-command GPU run: build in place (offline), print `python -m imagearray info`,
# run the whole suite with GPU tests required, then the benchmarks.
#
# Usage: tools/gpu-test.sh [--tests-only | --bench-only] [--bench-before DIR]
#                          [--list-tests] [pytest args...]
#   (default: tests and benchmarks; the first argument that is none of these, and all
#   after it, go to every pytest process)
#   --tests-only / --bench-only   one half only (`--bench-only` runs no test at all)
#   --bench-before DIR   DIR is another checkout of the project (an older commit, e.g.
#       `mkdir -p build/before && git archive OLD | tar -x -C build/before`, carried as
#       `build/before`): after this tree's benchmarks, DIR is built in place there
#       (`setup.py build_ext --inplace`; the installed package is left alone) and its
#       benchmarks run (`cd DIR && PYTHONPATH=DIR python3 -m benchmarks`), then this
#       tree's benchmarks run again, so the noise between runs is visible. The three
#       runs share the time left equally; the profiling probes are skipped.
#   --list-tests   print the test files found (and their log names), run nothing
#
# Test files: tests/**/test_*.py, one pytest process per file, PYTEST_JOBS (6) at a
# time; summary.txt names each by its path under tests/ without .py
# (`copies/test_copy_plan`); per-file logs and JUnit XML in build/pytest-logs/ are
# named by that path with '/' as '__'; the merged JUnit XML is build/pytest.xml.
#
# Carried extras (tools/fetch-gpu-extras.sh; device tool `carry: [".gl", ".whl"]`):
# every .gl/*.deb is unpacked into / (the Vulkan loader and the GLVND libraries the
# NVIDIA Vulkan driver needs), every .whl/*.whl installed into /tmp/site (PYTHONPATH),
# VK_DRIVER_FILES set to the NVIDIA ICD manifest; with libvulkan1 and the `vulkan`
# wheel there, IMAGEARRAY_REQUIRE_VULKAN=1: the Vulkan interop tests must run.
#
# Output in $OUT (the device tool's folder; default build/gpu-test/), at most 8 files
# (the tool's limit):
#   summary.txt (with `imagearray info`)  build.log  probe.txt  pytest.log  profile.txt
#   benchmarks.md  benchmarks.json  diag2.npz (raw samples of sampling_diag.py)
# With --bench-before: benchmarks.md holds this tree's run, then `## before (DIR)`,
# then `## after, again`, then `## before vs after` (imagearray's times side by side);
# benchmarks.json is {"after": ..., "before": ..., "after_again": ...} (each what
# `python -m benchmarks --json` writes, null if that run wrote nothing); no
# profile.txt. Without it benchmarks.json is the one run's JSON.
#
# Time: the whole run is sized to end within GPU_TEST_BUDGET seconds (default 560,
# under the device tool's 600 s command limit): pytest is stopped (SIGINT: it still
# prints its summary) when only BENCH_RESERVE seconds (default 120; 420 with
# --bench-before) are left, and the benchmarks are stopped at the budget. When the
# suite needs more time than that, split the run into two commands: `--tests-only`,
# then `--bench-only [--bench-before DIR]` (a warm machine keeps the build, so the
# second build is quick). BENCH_NAMES (e.g. "copy sample") limits every benchmark
# run to those benchmarks. SKIP_PROFILE (any value) skips the profiling probes
# (profile.txt) that otherwise take up to 150 s of the benchmarks' time.
# shellcheck disable=SC2086,SC2016,SC2010,SC2012
# ($PY unquoted on purpose: PYTHON may carry options; single-quoted bash -c scripts;
# ls in diagnostic listings)
set -uo pipefail
SCRIPT=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
START=$PWD
cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
PY=${PYTHON:-python3}

usage() { sed -n '2,/^# shellcheck/p' "$SCRIPT" | sed '$d; s/^# \{0,1\}//'; }
MODE=all
BEFORE=
LIST_ONLY=0
while [ $# -gt 0 ]; do
  case $1 in
    --tests-only | --bench-only)
      new=${1#--}; new=${new%-only}
      if [ "$MODE" != all ] && [ "$MODE" != "$new" ]; then
        echo "gpu-test: --tests-only and --bench-only exclude each other" >&2; exit 2
      fi
      MODE=$new; shift ;;
    --bench-before)
      [ $# -ge 2 ] || { echo "gpu-test: --bench-before needs a folder" >&2; exit 2; }
      BEFORE=$2; shift 2 ;;
    --bench-before=*) BEFORE=${1#*=}; shift ;;
    --list-tests) LIST_ONLY=1; shift ;;
    -h | --help) usage; exit 0 ;;
    --) shift; break ;;
    *) break ;;
  esac
done
if [ -n "$BEFORE" ]; then
  [ "$MODE" = tests ] && { echo "gpu-test: --bench-before with --tests-only runs nothing" >&2; exit 2; }
  # Relative to where the script was started (the repository root, for the device tool).
  dir=$(cd "$START" && cd "$BEFORE" 2> /dev/null && pwd) \
    || { echo "gpu-test: --bench-before: no folder $BEFORE" >&2; exit 2; }
  BEFORE=$dir
fi

# tests/**/test_*.py, sorted; the name of each: its path under tests/ without .py.
discover_tests() { find tests -type f -name 'test_*.py' -not -path '*/__pycache__/*' | LC_ALL=C sort; }
test_name() { local n=${1#tests/}; echo "${n%.py}"; }
if [ "$LIST_ONLY" = 1 ]; then
  while read -r f; do n=$(test_name "$f"); echo "$n  ($f -> build/pytest-logs/${n//\//__}.log)"; done \
    < <(discover_tests)
  exit 0
fi

BUDGET=${GPU_TEST_BUDGET:-560}
if [ -n "$BEFORE" ]; then RESERVE=${BENCH_RESERVE:-420}; else RESERVE=${BENCH_RESERVE:-120}; fi
[ "$MODE" = tests ] && RESERVE=0
LOG=${OUT:-$PWD/build/gpu-test}
mkdir -p "$LOG" build || exit 2
SUMMARY="$LOG/summary.txt"
: > "$SUMMARY"
export PYTHONUNBUFFERED=1
say() { echo "== gpu-test: $*" | tee -a "$SUMMARY"; }
left() { echo $((BUDGET - SECONDS)); }

say "mode $MODE${BEFORE:+, benchmarks before: $BEFORE}, budget ${BUDGET}s, logs in $LOG"
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 || true; } \
  | tee -a "$SUMMARY"

# ---------------------------------------------------------------- carried extras
# .gl/: every .deb unpacked into / (tools/fetch-gpu-extras.sh fetches the Vulkan loader
# and the GL vendor-neutral dispatch libraries: the NVIDIA Vulkan driver needs both).
VK_SET=(libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
if compgen -G ".gl/*.deb" > /dev/null; then
  for f in .gl/*.deb; do dpkg -x "$f" / || say "WARNING: could not unpack $f"; done
  ldconfig || say "WARNING: ldconfig failed"
  missing=()
  for p in "${VK_SET[@]}"; do compgen -G ".gl/${p}_*.deb" > /dev/null || missing+=("$p"); done
  debs=(.gl/*.deb)
  say "unpacked ${#debs[@]} .deb from .gl${missing[*]:+; WARNING: missing from the Vulkan set: ${missing[*]}}"
  # The NVIDIA ICD manifest: where ../shared/gpu/README.md saw it, else wherever it
  # is; without one, a manifest is written for the driver's Vulkan library.
  if [ -z "${VK_DRIVER_FILES:-}" ]; then
    for d in /usr/local/nvidia/share/vulkan/icd.d /usr/share/vulkan/icd.d /etc/vulkan/icd.d \
      /usr/local/share/vulkan/icd.d; do
      [ -f "$d/nvidia_icd.json" ] && { VK_DRIVER_FILES=$d/nvidia_icd.json; break; }
    done
  fi
  if [ -z "${VK_DRIVER_FILES:-}" ]; then
    lib=$(ldconfig -p | awk '/libGLX_nvidia.so.0|libnvidia-vulkan-producer/ {print $NF; exit}')
    if [ -n "$lib" ]; then
      VK_DRIVER_FILES=$PWD/build/nvidia_icd.json
      printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' \
        "$lib" > "$VK_DRIVER_FILES"
    fi
  fi
  [ -n "${VK_DRIVER_FILES:-}" ] && export VK_DRIVER_FILES
fi
# .whl/: every wheel (the Vulkan bindings, cuCIM) installed into /tmp/site.
if compgen -G ".whl/*.whl" > /dev/null; then
  if $PY -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl \
    >> "$LOG/build.log" 2>&1; then
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
    say "installed into /tmp/site: $(find .whl -maxdepth 1 -type f -name '*.whl' -printf '%f\n' | sed 's/-.*//' | sort | tr '\n' ' ')"
  else
    say "WARNING: installing the carried wheels failed (see build.log)"
  fi
fi
# The Vulkan set was carried: the Vulkan tests must run, not skip.
if [ "$MODE" != bench ] && compgen -G ".gl/libvulkan1_*.deb" > /dev/null \
  && compgen -G ".whl/vulkan-*.whl" > /dev/null; then
  export IMAGEARRAY_REQUIRE_VULKAN=1
  say "Vulkan set carried; Vulkan tests required"
  say "ICD manifests: $(ls /usr/local/nvidia/share/vulkan/icd.d /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>&1 | tr '\n' ' ')"
  say "Vulkan ICD: ${VK_DRIVER_FILES:-none found}: $(tr -d '\n ' < "${VK_DRIVER_FILES:-/dev/null}" 2>&1 | cut -c1-200)"
  say "driver libraries: $(ldconfig -p | grep -oE 'lib(GLX_nvidia|nvidia-glcore|nvidia-gpucomp|EGL_nvidia)[^ ]*' | sort -u | tr '\n' ' ')"
  # A Vulkan instance, with the loader's account of the drivers it tried.
  VK_SMOKE='
import vulkan as vk
app = vk.VkApplicationInfo(sType=vk.VK_STRUCTURE_TYPE_APPLICATION_INFO, apiVersion=vk.VK_MAKE_VERSION(1, 2, 0))
vk.vkCreateInstance(vk.VkInstanceCreateInfo(sType=vk.VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, pApplicationInfo=app), None)
print("vulkan instance OK")'
  VK_LOADER_DEBUG=error,warn,driver $PY -c "$VK_SMOKE" > build/vulkan-smoke.log 2>&1
  { echo "== vulkan smoke"; cat build/vulkan-smoke.log; } >> "$LOG/build.log"
  say "vulkan smoke: $(grep -iE 'error|fail|OK|not found|cannot' build/vulkan-smoke.log | tail -n 8 | cut -c1-240 | tr '\n' '|')"
  if ! grep -q "vulkan instance OK" build/vulkan-smoke.log; then
    say "nvidia user-space libraries: $(ldconfig -p | grep -oE 'libnvidia-[a-z0-9-]+' | sort -u | tr '\n' ' ')"
    icd=$(ldconfig -p | awk '/libGLX_nvidia.so.0/ {print $NF; exit}')
    say "ICD library $icd: missing dependencies: $(ldd "$icd" 2>&1 | grep -i 'not found' | tr '\n' ' ')"
    say "device nodes: $(ls /dev/nvidia* /dev/dri 2>&1 | tr '\n' ' ')"
    say "driver: $(head -n 1 /proc/driver/nvidia/version 2>&1); NVIDIA_DRIVER_CAPABILITIES=${NVIDIA_DRIVER_CAPABILITIES:-unset}"
    say "graphics libraries: $(ls /usr/lib/x86_64-linux-gnu 2>/dev/null | grep -E 'nvidia-(glcore|glsi|tls|gpucomp|glvkspirv|eglcore)' | tr '\n' ' ')"
    # The Vulkan driver opens /dev/nvidia-modeset, which compute-only containers lack.
    if [ ! -e /dev/nvidia-modeset ] && mknod -m 666 /dev/nvidia-modeset c 195 254 2>/dev/null; then
      VK_LOADER_DEBUG=error $PY -c "$VK_SMOKE" > build/vulkan-smoke2.log 2>&1
      say "with /dev/nvidia-modeset made: $(tail -n 2 build/vulkan-smoke2.log | cut -c1-200 | tr '\n' '|')"
    fi
  fi
fi

# ---------------------------------------------------------------- build
# Every extension of the tree in the current folder must import, from that tree (a
# build can "succeed" and leave one out).
check_imports() {
  $PY - "$PWD" <<'EOF'
import glob, importlib, os, sys
root = os.path.realpath(sys.argv[1])
src = os.path.join("cython_src", "imagearray")
names = sorted(
    "imagearray." + os.path.splitext(os.path.relpath(p, src))[0].replace(os.sep, ".")
    for p in glob.glob(os.path.join(src, "**", "*.pyx"), recursive=True)
)
for n in names:
    importlib.import_module(n)
import imagearray
where = os.path.realpath(imagearray.__file__)
if not where.startswith(root + os.sep):
    sys.exit(f"imagearray imported from {where}, not from {root}")
print(f"imported from {root}:", ", ".join(names))
EOF
}
# pyproject.toml's SPDX license needs setuptools 77 (PEP 639); an older one stops with
# a schema error about project.license that does not say so. A newer setuptools wheel
# carried in .whl/ is found first (PYTHONPATH).
st=$($PY -c 'import setuptools; print(setuptools.__version__)' 2>&1)
if [ "${st%%.*}" -lt 77 ] 2> /dev/null; then
  say "WARNING: setuptools $st is older than 77, which pyproject.toml needs: carry a newer one in .whl/"
fi
build_ok=0
say "building: $PY -m pip install --no-build-isolation --no-deps -e ."
if $PY -m pip install --no-build-isolation --no-deps -e . >> "$LOG/build.log" 2>&1; then
  build_ok=1
else
  say "pip editable install FAILED (last lines of build.log below); trying setup.py build_ext --inplace"
  tail -n 30 "$LOG/build.log"
  if $PY setup.py build_ext --inplace >> "$LOG/build.log" 2>&1; then
    build_ok=1
  fi
fi
if [ "$build_ok" = 1 ] && ! check_imports >> "$LOG/build.log" 2>&1; then
  build_ok=0
fi
if [ "$build_ok" != 1 ]; then
  say "BUILD FAILED after ${SECONDS}s: last 40 lines of $LOG/build.log:"
  tail -n 40 "$LOG/build.log" | tee -a "$SUMMARY"
  exit 1
fi
say "build OK after ${SECONDS}s"

# ---------------------------------------------------------------- device
$PY -m imagearray info 2>&1 | tee -a "$SUMMARY"
if [ "${PIPESTATUS[0]}" != 0 ]; then
  say "python -m imagearray info FAILED: no usable GPU; nothing else run"
  exit 1
fi
export IMAGEARRAY_REQUIRE_GPU=1
status=0

# ---------------------------------------------------------------- probe
# What the texture unit does where CUDA's documentation is silent (weight rounding,
# ties, layer clamping, mip selection, unorm/snorm conversion): testing.reference's
# calibration. Informational: a failure here fails nothing.
if [ "$MODE" != bench ]; then
  NVCC=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
  if "$NVCC" -arch=native -std=c++17 -o build/texture_unit_probe \
    tools/probes/texture_unit_probe.cu > "$LOG/probe.txt" 2>&1; then
    timeout 60 build/texture_unit_probe >> "$LOG/probe.txt" 2>&1
    say "probe: $(grep -E '^(weights|unorm8|snorm8):' "$LOG/probe.txt" | tr '\n' ' ')"
    # The linear filter measured through imagearray (weights, border, formats).
    timeout 60 $PY tools/probes/sampling_diag.py >> "$LOG/probe.txt" 2>&1 \
      || say "sampling_diag.py failed (see probe.txt)"
  else
    say "probe did not build (see probe.txt)"
  fi
fi

# ---------------------------------------------------------------- tests
if [ "$MODE" != bench ]; then
  t=$(($(left) - RESERVE))
  extra=()
  # One hanging test (e.g. a stream waiting on a semaphore nobody signals) must not
  # eat the whole budget: pytest-timeout, where installed, fails it after 120 s.
  if $PY -c "import pytest_timeout" 2> /dev/null; then
    extra+=(--timeout="${PYTEST_PER_TEST_TIMEOUT:-120}")
  fi
  mapfile -t files < <(discover_tests)
  if [ "$t" -lt 30 ]; then
    say "pytest NOT run: only ${t}s left for it (BENCH_RESERVE=${RESERVE}s kept for the benchmarks)"
    status=1; files=()
  elif [ ${#files[@]} = 0 ]; then
    say "pytest NOT run: no tests/**/test_*.py found"
    status=1
  fi
  # One pytest process per test file, PYTEST_JOBS at a time: a crash (segfault,
  # hang) takes down one file's process, not the whole suite, and the GPU tests of
  # different files overlap. Extra arguments go to every process; the file is the
  # last argument xargs adds.
  jobs=${PYTEST_JOBS:-6}
  [ ${#files[@]} -gt 0 ] && say "pytest, ${#files[@]} files (tests/**/test_*.py), one process per file, $jobs at a time (stopped after ${t}s if not done)"
  rm -rf build/pytest-logs && mkdir -p build/pytest-logs
  export PYTEST_TIME=$t
  [ ${#files[@]} -gt 0 ] && printf '%s\0' "${files[@]}" | xargs -0 -r -n 1 -P "$jobs" bash -c '
    py=$0; f=${!#}; set -- "${@:1:$#-1}"
    n=${f#tests/}; n=${n%.py}; n=${n//\//__}
    timeout -s INT -k 20 "$PYTEST_TIME" "$py" -m pytest -q -p no:cacheprovider --durations=5 \
      --junitxml="build/pytest-logs/$n.xml" "$@" "$f" > "build/pytest-logs/$n.log" 2>&1
    echo $? > "build/pytest-logs/$n.rc"' "$PY" ${extra[@]+"${extra[@]}"} "$@"
  : > "$LOG/pytest.log"
  for f in "${files[@]}"; do
    name=$(test_name "$f"); n=${name//\//__}
    rc=$(cat "build/pytest-logs/$n.rc" 2> /dev/null || echo "?")
    line=$(grep -E '^(=+ )?[0-9]+ (passed|failed|error|skipped)|^(=+ )?no tests ran' \
      "build/pytest-logs/$n.log" 2> /dev/null | tail -n 1)
    { echo "######## $name (exit $rc)"; cat "build/pytest-logs/$n.log" 2> /dev/null; } >> "$LOG/pytest.log"
    say "  $name: exit $rc: ${line:-no summary}"
    # exit 5: every test of the file skipped (e.g. test_typing without mypy, which
    # the GPU machine lacks): the skip reasons are in pytest.log, not a failure
    [ "$rc" = 0 ] || [ "$rc" = 5 ] || status=1
  done
  xmls=(); for x in build/pytest-logs/*.xml; do [ -f "$x" ] && xmls+=("$x"); done
  $PY - build/pytest.xml ${xmls[@]+"${xmls[@]}"} <<'PYEOF' | tee -a "$SUMMARY"
import sys, xml.etree.ElementTree as ET
out, files = sys.argv[1], sys.argv[2:]
root = ET.Element("testsuites")
tot = dict(tests=0, failures=0, errors=0, skipped=0)
for f in files:
    try:
        for suite in ET.parse(f).getroot().iter("testsuite"):
            root.append(suite)
            for k in tot:
                tot[k] += int(suite.get(k, 0))
    except Exception as exc:
        print(f"== gpu-test: unreadable {f}: {exc}")
ET.ElementTree(root).write(out)
passed = tot["tests"] - tot["failures"] - tot["errors"] - tot["skipped"]
print(f"== gpu-test: pytest total: {passed} passed, {tot['failures']} failed, "
      f"{tot['errors']} errors, {tot['skipped']} skipped (files whose process died are not "
      f"counted); merged JUnit XML: build/pytest.xml")
# why the skips skipped (the two-GPU run shows no "needs 2 CUDA devices" here)
why = {}
for case in root.iter("testcase"):
    for skip in case.iter("skipped"):
        msg = (skip.get("message") or "").strip()[:120]
        why[msg] = why.get(msg, 0) + 1
for msg, n in sorted(why.items(), key=lambda kv: -kv[1]):
    print(f"== gpu-test:   skipped {n}: {msg}")
PYEOF
  if [ "$status" = 0 ]; then say "pytest OK"; else say "pytest FAILED in some file"; fi
fi

# ---------------------------------------------------------------- benchmarks
# bench_run TAG DIR SHARE: `python -m benchmarks` of the tree in DIR, stopped after
# SHARE seconds; Markdown appended to benchmarks.md and build/bench-TAG.md, JSON in
# build/bench-TAG.json.
bench_run() {
  local tag=$1 dir=$2 share=$3 rc
  rm -f "build/bench-$tag.json"
  # shellcheck disable=SC2086 # BENCH_NAMES: benchmark names, split on spaces
  (cd "$dir" && PYTHONPATH=$dir${PYTHONPATH:+:$PYTHONPATH} \
    IMAGEARRAY_BENCH_OUT="$dir/build/bench-results-$tag" timeout -s INT -k 20 "$share" \
    $PY -m benchmarks --json "$ROOT/build/bench-$tag.json" ${BENCH_NAMES:-}) 2>&1 \
    | tee "build/bench-$tag.md" | tee -a "$LOG/benchmarks.md"
  rc=${PIPESTATUS[0]}
  if [ "$rc" != 0 ]; then
    say "benchmarks ($tag) FAILED or stopped (exit $rc)"
    status=1
  else
    say "benchmarks ($tag) OK; targets:"
  fi
  grep -E ': target ' "build/bench-$tag.md" | sed "s/^/  [$tag] /" | tee -a "$SUMMARY"
}
# benchmarks.json from the runs' JSON files (with --bench-before: one object of them);
# with --bench-before, also imagearray's times side by side (benchmarks.md, summary).
bench_merge() {
  if [ -z "$BEFORE" ]; then
    [ -f build/bench-after.json ] && cp build/bench-after.json "$LOG/benchmarks.json"
    return 0
  fi
  $PY - "$LOG/benchmarks.json" "$1" <<'PYEOF'
import json, math, os, sys
out, final = sys.argv[1], sys.argv[2] == "final"
runs = {}
for key in ("after", "before", "after_again"):
    path = f"build/bench-{key.replace('_', '-')}.json"
    try:
        with open(path) as f:
            runs[key] = json.load(f)
    except (OSError, ValueError):
        runs[key] = None
with open(out, "w") as f:
    json.dump(runs, f, indent=1)
if not final:
    sys.exit()
def times(run):  # (benchmark, case) -> imagearray's max(GPU, CPU) median in ms
    got = {}
    for name, b in ((run or {}).get("benchmarks") or {}).items():
        for r in b.get("rows", []):
            if r.get("impl") == "imagearray":
                got[(name, r["case"])] = max(r["gpu_ms"], r["cpu_ms"])
    return got
a, b, a2 = times(runs["after"]), times(runs["before"]), times(runs["after_again"])
keys = [k for k in b if k in a or k in a2]
fmt = lambda d, k: f"{d[k]:.3f}" if k in d else ""
lines = ["", "## before vs after", "",
         "imagearray's time (max of GPU and CPU median, ms); before / after > 1: this tree is faster", "",
         "| benchmark | case | before | after | after, again | before / after | before / after, again |",
         "| --- | --- | --- | --- | --- | --- | --- |"]
logs = {"after": [], "after_again": []}
for k in keys:
    ratios = []
    for d, key in ((a, "after"), (a2, "after_again")):
        if k in d and d[k] > 0 and b[k] > 0:
            ratios.append(f"{b[k] / d[k]:.2f}x")
            logs[key].append(math.log(b[k] / d[k]))
        else:
            ratios.append("")
    lines.append(f"| {k[0]} | {k[1]} | {fmt(b, k)} | {fmt(a, k)} | {fmt(a2, k)} | {ratios[0]} | {ratios[1]} |")
with open(os.path.join(os.path.dirname(out), "benchmarks.md"), "a") as f:
    f.write("\n".join(lines) + "\n")
geo = ", ".join(f"{key.replace('_', ', ')}: {math.exp(sum(v) / len(v)):.2f}x over {len(v)} cases"
                for key, v in logs.items() if v) or "no case measured in both trees"
print(f"== gpu-test: before / after, geometric mean of imagearray's times: {geo}")
PYEOF
}
if [ "$MODE" != tests ]; then
  rm -f build/bench-*.json
  : > "$LOG/benchmarks.md"
  if [ -n "${SKIP_PROFILE:-}" ] && [ -z "$BEFORE" ]; then
    say "profiling probes skipped (SKIP_PROFILE set: the benchmarks get the time)"
  elif [ -z "$BEFORE" ]; then
    # Where the host time of the hot calls goes (diagnostic; fails nothing).
    timeout 60 $PY tools/probes/profile_overhead.py > "$LOG/profile.txt" 2>&1 \
      || say "profile_overhead.py failed (see profile.txt)"
    # Image <-> host memory kinds side by side (hostmem's image case; fails nothing).
    { echo "== hostmem_probe"; timeout 90 $PY tools/probes/hostmem_probe.py 2>&1; } >> "$LOG/profile.txt" \
      || say "hostmem_probe.py failed (see profile.txt)"
  else
    say "profiling probes skipped (--bench-before: the three benchmark runs get the time)"
    if [ ! -f "$BEFORE/setup.py" ] || [ ! -d "$BEFORE/benchmarks" ] || [ ! -d "$BEFORE/imagearray" ]; then
      say "--bench-before: $BEFORE is not a checkout of imagearray (no setup.py, benchmarks/ or imagearray/); not compared"
      status=1; BEFORE=
    else
      say "building $BEFORE in place: $PY setup.py build_ext --inplace"
      if (cd "$BEFORE" && { echo "== build of $BEFORE"; $PY setup.py build_ext --inplace \
        && PYTHONPATH=$BEFORE${PYTHONPATH:+:$PYTHONPATH} check_imports; }) >> "$LOG/build.log" 2>&1; then
        say "build of $BEFORE OK after ${SECONDS}s"
      else
        say "build of $BEFORE FAILED (see build.log); not compared"
        status=1; BEFORE=
      fi
    fi
  fi
  if [ -n "$BEFORE" ]; then runs=(after before after-again); else runs=(after); fi
  for i in "${!runs[@]}"; do
    tag=${runs[$i]}
    # The time left, shared equally by the runs still to come.
    t=$(( $(left) / (${#runs[@]} - i) ))
    if [ "$t" -lt 60 ]; then
      say "benchmarks ($tag) NOT run: only ${t}s for it (run again with --bench-only)"
      status=1
      continue
    fi
    case $tag in
      after) dir=$PWD ;;
      before) dir=$BEFORE; printf '\n## before (%s)\n\n' "$BEFORE" >> "$LOG/benchmarks.md" ;;
      after-again) dir=$PWD; printf '\n## after, again\n\n' >> "$LOG/benchmarks.md" ;;
    esac
    say "benchmarks ($tag, $dir; stopped after ${t}s if not done)"
    bench_run "$tag" "$dir" "$t"
    bench_merge partial
  done
  [ -n "$BEFORE" ] && bench_merge final | tee -a "$SUMMARY"
fi
say "done after ${SECONDS}s, exit $status"
exit "$status"
