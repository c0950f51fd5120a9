#!/usr/bin/env bash
# On a development machine with a registry: fetch what the offline GPU machine needs
# into two git-ignored folders, to pass as `carry` to the device run, where
# tools/gpu-test.sh unpacks them:
#   .gl/   the Vulkan loader and the GL vendor-neutral dispatch libraries (amd64 .debs:
#          libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2). The NVIDIA
#          Vulkan driver needs the GLVND set too: with libvulkan1 alone vkCreateInstance
#          fails.
#   .whl/  wheels for CPython 3.12 x86-64: the `vulkan` bindings (vulkan==1.3.275.1,
#          cffi, pycparser) for the Vulkan interop tests, and cuCIM (cucim-cu13) for
#          benchmarks (its other dependencies are already on the GPU machine).
# Idempotent: a package or wheel already there is not fetched again; delete a file to
# refetch it. The two folders together must stay well under the device tool's 64 MiB
# carry limit: cuCIM is left out (with a note) if it would push them past
# EXTRAS_LIMIT_MIB (default 45).
# Usage: tools/fetch-gpu-extras.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
LIMIT_MIB=${EXTRAS_LIMIT_MIB:-45}
DEBS=(libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
VULKAN_WHEELS=(vulkan==1.3.275.1 cffi pycparser)
CUCIM=cucim-cu13==26.10.0

# (git rev-parse: in a worktree .git is a file, not a folder)
exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
for p in /.gl/ /.whl/; do
  grep -qxF "$p" "$exclude" 2> /dev/null || printf '%s\n' "$p" >> "$exclude"
done
mkdir -p .gl .whl
fetched=()

# ---------------------------------------------------------------- .debs
missing=()
for p in "${DEBS[@]}"; do
  compgen -G ".gl/${p}_*_amd64.deb" > /dev/null || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  mkdir -p /tmp/amd64/partial
  o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64
    -oAPT::Sandbox::User=root)
  apt-get "${o[@]}" update -qq
  (cd .gl && apt-get "${o[@]}" download "${missing[@]}")
  for p in "${missing[@]}"; do
    f=$(compgen -G ".gl/${p}_*_amd64.deb" | head -n 1) || { echo "missing after download: $p" >&2; exit 1; }
    fetched+=("$f")
  done
fi

# ---------------------------------------------------------------- wheels
pip_download() { # pip_download DEST [extra pip args...] -- SPEC...
  local dest=$1; shift
  local args=()
  while [ "$1" != -- ]; do args+=("$1"); shift; done
  shift
  "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    ${args[@]+"${args[@]}"} -d "$dest" "$@"
}
# Whether .whl/ has a CPython 3.12 x86-64 (or pure-Python) wheel of a requirement
# (`name` or `name==version`; pip writes '-' in the name as '_').
have_wheel() { # have_wheel SPEC
  local name=${1%%==*} version='[0-9][^-]*'
  [[ $1 == *==* ]] && version=${1#*==} && version=${version//./\\.}
  local re="^${name//-/_}-${version}-(cp312|py3|py2\\.py3)-(cp312|abi3|none)-[^ ]*(x86_64|any)\\.whl$" f
  for f in .whl/*.whl; do [[ ${f#.whl/} =~ $re ]] && return 0; done
  return 1
}
list_wheels() { find .whl -maxdepth 1 -type f -name '*.whl' -printf '%f\n' | LC_ALL=C sort; }

missing=()
for s in "${VULKAN_WHEELS[@]}"; do have_wheel "$s" || missing+=("$s"); done
if [ ${#missing[@]} -gt 0 ]; then
  before=$(list_wheels)
  pip_download .whl -- "${missing[@]}"
  while read -r f; do [ -n "$f" ] && fetched+=(".whl/$f"); done < <(comm -13 <(printf '%s\n' "$before") <(list_wheels))
fi

if have_wheel "$CUCIM"; then
  :
else
  tmp=$(mktemp -d)
  pip_download "$tmp" --platform manylinux_2_28_x86_64 -- "$CUCIM"
  size_kib=$(du -sk .gl .whl "$tmp" | awk '{s += $1} END {print s}')
  if [ "$size_kib" -gt $((LIMIT_MIB * 1024)) ]; then
    echo "NOTE: $CUCIM left out: with it .gl/ + .whl/ would be $((size_kib / 1024)) MiB (limit ${LIMIT_MIB} MiB)"
  else
    for f in "$tmp"/*.whl; do mv "$f" .whl/ && fetched+=(".whl/$(basename "$f")"); done
  fi
  rm -rf "$tmp"
fi

# ---------------------------------------------------------------- report
if [ ${#fetched[@]} -gt 0 ]; then
  echo "fetched:"; printf '  %s\n' "${fetched[@]}"
else
  echo "fetched: nothing (all already there)"
fi
echo "contents:"; find .gl .whl -maxdepth 1 -type f -printf '  %10s  %p\n' | LC_ALL=C sort -k2
du -sh .gl .whl
du -csh .gl .whl | tail -n 1 | sed 's/total$/total (carry limit 64 MiB)/'
