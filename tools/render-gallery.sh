#!/usr/bin/env bash
# Render the gallery's pictures: run every examples/plot_*.py, each writing its PNG
# into OUTPUT_DIR (default docs/_static/gallery, what the site shows; commit them).
#
# Usage: tools/render-gallery.sh [--reference] [OUTPUT_DIR]
#
# On the GPU machine it refuses to fall back silently: without --reference it stops
# unless imagearray finds a GPU, so the committed pictures are the texture unit's.
# --reference renders them on the NumPy texture-unit reference (any machine).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=()
if [[ "${1:-}" == "--reference" ]]; then
  mode=(--reference)
  shift
elif ! python -c "import imagearray, sys; sys.exit(not imagearray.is_available())"; then
  echo "tools/render-gallery.sh: no GPU found (use --reference to render on the NumPy reference)" >&2
  exit 2
fi
out="${1:-docs/_static/gallery}"
for script in examples/plot_*.py; do
  python "$script" --out "$out" "${mode[@]}"
done
