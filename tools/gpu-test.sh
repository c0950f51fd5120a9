#!/usr/bin/env bash
# One-command GPU run: build in place (offline) and run the whole suite with GPU
# tests required. Usage: tools/gpu-test.sh [pytest args...]
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# The Vulkan loader carried in .gl/ (tools/fetch-gpu-extras.sh) is unpacked into /.
if compgen -G ".gl/*.deb" > /dev/null; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
  export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
  # Vulkan was carried: its tests must run, not skip.
  export IMAGEARRAY_REQUIRE_VULKAN=1
fi
# Wheels carried to an offline machine (e.g. the Vulkan bindings) go to /tmp/site.
if compgen -G ".whl/*.whl" > /dev/null; then
  $PY -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
if ! $PY -m pip install -q --no-build-isolation --no-deps -e . ; then
  echo "pip editable install failed; building in place with setup.py" >&2
  $PY setup.py -q build_ext --inplace || exit 1
fi
export IMAGEARRAY_REQUIRE_GPU=1
$PY -m imagearray info || exit 1
$PY -m pytest -q -p no:cacheprovider "$@"
