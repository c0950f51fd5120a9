#!/usr/bin/env bash
# The reliability suite of issue 20 at full size, on a GPU machine, in one command
# (well within 10 minutes on an H200), then a summary to paste into the issue.
#
# Usage: tools/reliability.sh [pytest args...]
#
# Runs tests/reliability/ with IMAGEARRAY_RELIABILITY_FULL=1 (100,000 cycles of each
# cheap resource, 20,000 of each allocation, > 10,000 generated bad-input cases on the
# GPU, 8 threads x 40 rounds, 300 free/sample races, OOM of every memory kind) and
# IMAGEARRAY_REQUIRE_GPU=1 (no GPU fails instead of skipping). Single counts can be
# changed with IMAGEARRAY_REL_<NAME> (see tests/reliability/_rel.py). Builds the
# Cython extensions first when they do not import (offline, as tools/gpu-test.sh).
# Output: pytest's, then the summary; with $OUT set (the device tool) also
# $OUT/reliability.txt (the summary), $OUT/reliability.jsonl (the raw figures) and
# $OUT/pytest.log. Exit status: pytest's (the summary is printed either way).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
PY=${PYTHON:-python3}
LIMIT=${RELIABILITY_LIMIT:-570}

if ! $PY -c "import imagearray._driver" 2> /dev/null; then
  echo "reliability: building the extensions"
  $PY -m pip install -q --no-build-isolation --no-deps -e . > /tmp/reliability-build.log 2>&1 \
    || $PY setup.py build_ext --inplace -q >> /tmp/reliability-build.log 2>&1 \
    || { tail -30 /tmp/reliability-build.log; exit 2; }
fi

OUTDIR=${OUT:-}
REPORT=$(mktemp /tmp/reliability.XXXXXX.jsonl)
export IMAGEARRAY_RELIABILITY_FULL=1 IMAGEARRAY_RELIABILITY_REPORT=$REPORT IMAGEARRAY_REQUIRE_GPU=1
export IMAGEARRAY_REL_DEVICE_ALONE=1  # one pytest process: device memory is ours alone
start=$(date +%s)
if [ -n "$OUTDIR" ]; then
  timeout -k 10 "$LIMIT" $PY -m pytest -q -p no:cacheprovider tests/reliability "$@" 2>&1 \
    | tee "$OUTDIR/pytest.log"
  rc=${PIPESTATUS[0]}
else
  timeout -k 10 "$LIMIT" $PY -m pytest -q -p no:cacheprovider tests/reliability "$@"
  rc=$?
fi
seconds=$(($(date +%s) - start))
[ "$rc" = 124 ] && echo "reliability: the run passed its ${LIMIT} s limit and was stopped"
SUMMARY=$($PY tools/reliability_summary.py "$REPORT" --seconds "$seconds" --rc "$rc")
echo
echo "$SUMMARY"
if [ -n "$OUTDIR" ]; then
  echo "$SUMMARY" > "$OUTDIR/reliability.txt"
  cp "$REPORT" "$OUTDIR/reliability.jsonl"
fi
exit "$rc"
