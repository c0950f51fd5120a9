#!/usr/bin/env bash
# One-command GPU run: build in place (offline), print `python -m imagearray info`,
# run the whole suite with GPU tests required, then the benchmarks. Logs go to $OUT
# (the device tool's folder; default build/gpu-test/), at most 8 files (the tool's limit):
#   summary.txt (with `imagearray info`)  build.log  probe.txt  pytest.log  profile.txt
#   benchmarks.md  diag2.npz (raw samples of sampling_diag.py)
#   (the merged JUnit XML stays in build/pytest.xml, the benchmarks' JSON in
#   build/benchmarks.json)
#
# Usage: tools/gpu-test.sh [--tests-only | --bench-only] [pytest args...]
#   (default: both; extra arguments go to pytest)
# The whole run is sized to end within GPU_TEST_BUDGET seconds (default 560, under the
# device tool's 600 s command limit): pytest is stopped (SIGINT: it still prints its
# summary) when only BENCH_RESERVE seconds (default 120) are left, and the benchmarks
# are stopped at the budget. When the suite needs more time than that, split the run
# into two commands: `--tests-only`, then `--bench-only` (a warm machine keeps the
# build, so the second build is quick).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
PY=${PYTHON:-python3}
MODE=all
case "${1:-}" in
  --tests-only) MODE=tests; shift ;;
  --bench-only) MODE=bench; shift ;;
esac
BUDGET=${GPU_TEST_BUDGET:-560}
RESERVE=${BENCH_RESERVE:-120}
[ "$MODE" = tests ] && RESERVE=0
LOG=${OUT:-$PWD/build/gpu-test}
mkdir -p "$LOG" || exit 2
SUMMARY="$LOG/summary.txt"
: > "$SUMMARY"
export PYTHONUNBUFFERED=1
say() { echo "== gpu-test: $*" | tee -a "$SUMMARY"; }
left() { echo $((BUDGET - SECONDS)); }

say "mode $MODE, budget ${BUDGET}s, logs in $LOG"
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 || true; } \
  | tee -a "$SUMMARY"

# The Vulkan loader carried in .gl/ (tools/fetch-gpu-extras.sh) is unpacked into /.
if [ "$MODE" != bench ] && compgen -G ".gl/*.deb" > /dev/null; then
  for f in .gl/*.deb; do dpkg -x "$f" / || say "WARNING: could not unpack $f"; done
  ldconfig || say "WARNING: ldconfig failed"
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
      mkdir -p build && VK_DRIVER_FILES=$PWD/build/nvidia_icd.json
      printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' \
        "$lib" > "$VK_DRIVER_FILES"
    fi
  fi
  export VK_DRIVER_FILES
  say "ICD manifests: $(ls /usr/local/nvidia/share/vulkan/icd.d /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>&1 | tr '\n' ' ')"
  say "Vulkan ICD: ${VK_DRIVER_FILES:-none found}: $(tr -d '\n ' < "${VK_DRIVER_FILES:-/dev/null}" 2>&1 | cut -c1-200)"
  say "driver libraries: $(ldconfig -p | grep -oE 'lib(GLX_nvidia|nvidia-glcore|nvidia-gpucomp|EGL_nvidia)[^ ]*' | sort -u | tr '\n' ' ')"
  # Vulkan was carried: its tests must run, not skip.
  export IMAGEARRAY_REQUIRE_VULKAN=1
  say "Vulkan loader unpacked; Vulkan tests required"
fi
# Wheels carried to an offline machine (e.g. the Vulkan bindings) go to /tmp/site.
if compgen -G ".whl/*.whl" > /dev/null; then
  if $PY -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl \
    >> "$LOG/build.log" 2>&1; then
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
  else
    say "WARNING: installing the carried wheels failed (see build.log)"
  fi
fi
if [ -n "${IMAGEARRAY_REQUIRE_VULKAN:-}" ]; then
  mkdir -p build
  # A Vulkan instance, with the loader's account of the drivers it tried.
  VK_LOADER_DEBUG=error,warn,driver PYTHONPATH=/tmp/site $PY -c '
import vulkan as vk
app = vk.VkApplicationInfo(sType=vk.VK_STRUCTURE_TYPE_APPLICATION_INFO, apiVersion=vk.VK_MAKE_VERSION(1, 2, 0))
vk.vkCreateInstance(vk.VkInstanceCreateInfo(sType=vk.VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, pApplicationInfo=app), None)
print("vulkan instance OK")' > build/vulkan-smoke.log 2>&1
  { echo "== vulkan smoke"; cat build/vulkan-smoke.log; } >> "$LOG/build.log"
  say "nvidia user-space libraries: $(ldconfig -p | grep -oE 'libnvidia-[a-z0-9-]+' | sort -u | tr '\n' ' ')"
  say "vulkan smoke: $(grep -iE 'error|fail|OK|not found|cannot' build/vulkan-smoke.log | tail -n 8 | cut -c1-240 | tr '\n' '|')"
  if ! grep -q "vulkan instance OK" build/vulkan-smoke.log; then
    icd=$(ldconfig -p | awk '/libGLX_nvidia.so.0/ {print $NF; exit}')
    say "ICD library $icd: missing dependencies: $(ldd "$icd" 2>&1 | grep -i 'not found' | tr '\n' ' ')"
    say "device nodes: $(ls /dev/nvidia* /dev/dri 2>&1 | tr '\n' ' ')"
    say "driver: $(head -n 1 /proc/driver/nvidia/version 2>&1); NVIDIA_DRIVER_CAPABILITIES=${NVIDIA_DRIVER_CAPABILITIES:-unset}"
    say "graphics libraries: $(ls /usr/lib/x86_64-linux-gnu 2>/dev/null | grep -E 'nvidia-(glcore|glsi|tls|gpucomp|glvkspirv|eglcore)' | tr '\n' ' ')"
    # The Vulkan driver opens /dev/nvidia-modeset, which compute-only containers lack.
    if [ ! -e /dev/nvidia-modeset ] && mknod -m 666 /dev/nvidia-modeset c 195 254 2>/dev/null; then
      VK_LOADER_DEBUG=error PYTHONPATH=/tmp/site $PY -c '
import vulkan as vk
app = vk.VkApplicationInfo(sType=vk.VK_STRUCTURE_TYPE_APPLICATION_INFO, apiVersion=vk.VK_MAKE_VERSION(1, 2, 0))
vk.vkCreateInstance(vk.VkInstanceCreateInfo(sType=vk.VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, pApplicationInfo=app), None)
print("vulkan instance OK")' > build/vulkan-smoke2.log 2>&1
      say "with /dev/nvidia-modeset made: $(tail -n 2 build/vulkan-smoke2.log | cut -c1-200 | tr '\n' '|')"
    fi
  fi
fi

# ---------------------------------------------------------------- build
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
# Every extension must import (a build can "succeed" and leave one out).
if [ "$build_ok" = 1 ] && ! $PY - >> "$LOG/build.log" 2>&1 <<'EOF'
import glob, importlib, os
names = [os.path.splitext(os.path.basename(p))[0] for p in glob.glob("cython_src/imagearray/*.pyx")]
for n in sorted(names):
    importlib.import_module("imagearray." + n)
print("imported:", ", ".join(sorted(names)))
EOF
then
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
  mkdir -p build
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
  if [ "$t" -lt 30 ]; then
    say "pytest NOT run: only ${t}s left for it"
    exit 1
  fi
  # One pytest process per test file, PYTEST_JOBS at a time: a crash (segfault,
  # hang) takes down one file's process, not the whole suite, and the GPU tests of
  # different files overlap. Extra arguments go to every process.
  jobs=${PYTEST_JOBS:-6}
  say "pytest, one process per file, $jobs at a time (stopped after ${t}s if not done)"
  rm -rf build/pytest-logs && mkdir -p build/pytest-logs
  export PYTEST_TIME=$t
  ls tests/test_*.py | xargs -P "$jobs" -I{} bash -c '
    f={}; n=$(basename "$f" .py)
    timeout -s INT -k 20 "$PYTEST_TIME" "$0" -m pytest -q -p no:cacheprovider --durations=5 \
      --junitxml=build/pytest-logs/$n.xml "${@}" "$f" > build/pytest-logs/$n.log 2>&1
    echo $? > build/pytest-logs/$n.rc' "$PY" ${extra[@]+"${extra[@]}"} "$@"
  : > "$LOG/pytest.log"
  for f in build/pytest-logs/*.log; do
    n=$(basename "$f" .log); rc=$(cat "build/pytest-logs/$n.rc" 2>/dev/null || echo "?")
    line=$(grep -E '^(=+ )?[0-9]+ (passed|failed|error|skipped)|^(=+ )?no tests ran' "$f" | tail -n 1)
    { echo "######## $n (exit $rc)"; cat "$f"; } >> "$LOG/pytest.log"
    say "  $n: exit $rc: ${line:-no summary}"
    [ "$rc" = 0 ] || status=1
  done
  $PY - build/pytest.xml build/pytest-logs/*.xml <<'PYEOF' | tee -a "$SUMMARY"
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
      f"{tot['errors']} errors, {tot['skipped']} skipped (files whose process died are not counted)")
PYEOF
  if [ "$status" = 0 ]; then say "pytest OK"; else say "pytest FAILED in some file"; fi
fi

# ---------------------------------------------------------------- benchmarks
if [ "$MODE" != tests ]; then
  # Where the host time of the hot calls goes (diagnostic; fails nothing).
  timeout 60 $PY tools/probes/profile_overhead.py > "$LOG/profile.txt" 2>&1 \
    || say "profile_overhead.py failed (see profile.txt)"
  # Image <-> host memory kinds side by side (hostmem's image case; fails nothing).
  { echo "== hostmem_probe"; timeout 90 $PY tools/probes/hostmem_probe.py 2>&1; } >> "$LOG/profile.txt" \
    || say "hostmem_probe.py failed (see profile.txt)"
  t=$(left)
  if [ "$t" -lt 60 ]; then
    say "benchmarks NOT run: only ${t}s left (run again with --bench-only)"
    status=1
  else
    say "benchmarks (stopped after ${t}s if not done)"
    IMAGEARRAY_BENCH_OUT="$PWD/build/bench-results" timeout -s INT -k 20 "$t" \
      $PY -m benchmarks --json "$PWD/build/benchmarks.json" 2>&1 | tee "$LOG/benchmarks.md"
    rc=${PIPESTATUS[0]}
    if [ "$rc" != 0 ]; then
      say "benchmarks FAILED or stopped (exit $rc)"
      status=1
    else
      say "benchmarks OK; targets:"
      grep -E ': target ' "$LOG/benchmarks.md" | tee -a "$SUMMARY"
    fi
  fi
fi
say "done after ${SECONDS}s, exit $status"
exit "$status"
