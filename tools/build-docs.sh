#!/usr/bin/env bash
# Build the documentation site (docs/) with every warning an error. Installs nothing:
# CI runs it after `python -m pip install -e ".[docs]"`, so that autodoc imports the
# real package (the compiled Cython extensions included; no GPU needed).
#
# Usage: tools/build-docs.sh [OUTPUT_DIR]     (default: build/docs)
#
# -E reads every page again, so that a second run in the same folder cannot pass by
# skipping the pages whose warnings the first run reported.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-build/docs}"
if ! python -c "import sphinx, numpydoc, pydata_sphinx_theme, myst_parser, sphinx_gallery" 2>/dev/null; then
  echo "tools/build-docs.sh: the docs extra is not installed:" \
    'python -m pip install -e ".[docs]"' >&2
  exit 2
fi
python -m sphinx -W --keep-going -E -b html docs "$out"
