#!/usr/bin/env bash
# On a development machine with a registry: fetch what the offline GPU machine needs
# for the Vulkan interop tests into .gl/ (the Vulkan loader .deb) and .whl/ (the
# `vulkan` Python package and its dependencies, for CPython 3.12). Both folders are
# ignored by git; pass them as `carry` to the device run, where tools/gpu-test.sh
# unpacks them.
set -euo pipefail
cd "$(dirname "$0")/.."
# (git rev-parse: in a worktree .git is a file, not a folder)
exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
grep -qx '/.gl/' "$exclude" 2>/dev/null || printf '/.gl/\n' >> "$exclude"
grep -qx '/.whl/' "$exclude" 2>/dev/null || printf '/.whl/\n' >> "$exclude"
mkdir -p .gl .whl /tmp/amd64/partial
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
# shellcheck disable=SC2086
apt-get $o update -qq
# shellcheck disable=SC2086
(cd .gl && apt-get $o download libvulkan1)
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
  --implementation cp --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  -d .whl vulkan==1.3.275.1 cffi pycparser
ls .gl .whl
