#!/usr/bin/env bash
# Make the NVIDIA Vulkan ICD load on the GPU machine's driver image (test set-up, not
# part of imagearray). Its libnvidia-glcore needs symbols of the X server (ErrorF,
# ...) that nothing in a headless container defines: the driver dlopens it eagerly,
# the lookup fails, and vk_icdGetInstanceProcAddr returns NULL for vkCreateInstance
# (the loader's "Could not get 'vkCreateInstance' via 'vk_icdGetInstanceProcAddr'").
# This builds build/libvkstubs.so with empty definitions of each symbol the dynamic
# linker reports missing, one at a time, until an instance is created; it prints the
# LD_PRELOAD to use, or nothing when Vulkan works without it or the stubs do not help.
# Usage: eval "$(bash tools/vk-stubs.sh)"   (needs cc and the `vulkan` Python package)
cd "$(dirname "$0")/.." || exit 2
PY=${PYTHON:-python3}
CC=${CC:-$(command -v cc || command -v gcc || echo /opt/gcc/bin/gcc)}
SMOKE='
import vulkan as vk
app = vk.VkApplicationInfo(sType=vk.VK_STRUCTURE_TYPE_APPLICATION_INFO, apiVersion=vk.VK_MAKE_VERSION(1, 2, 0))
vk.vkCreateInstance(vk.VkInstanceCreateInfo(sType=vk.VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, pApplicationInfo=app), None)
print("vulkan instance OK")'
mkdir -p build
if $PY -c "$SMOKE" 2>/dev/null | grep -q "instance OK"; then exit 0; fi
syms=()
preload=
for _ in $(seq 1 400); do
  missing=$(env LD_DEBUG=libs LD_PRELOAD="$preload" $PY -c "$SMOKE" 2>&1 \
    | grep -oE 'undefined symbol: [A-Za-z_][A-Za-z0-9_]*' | head -n 1 | awk '{print $3}')
  if [ -z "$missing" ]; then break; fi
  for s in "${syms[@]}"; do [ "$s" = "$missing" ] && { echo "# $missing still missing" >&2; exit 1; }; done
  syms+=("$missing")
  { echo '/* empty stand-ins for X server symbols (tools/vk-stubs.sh) */'
    for s in "${syms[@]}"; do echo "void $s(void) {}"; done; } > build/vkstubs.c
  "$CC" -shared -fPIC -o build/libvkstubs.so build/vkstubs.c || exit 1
  preload=$PWD/build/libvkstubs.so
done
echo "# stubbed ${#syms[@]}: ${syms[*]}" >&2
if LD_PRELOAD=$PWD/build/libvkstubs.so $PY -c "$SMOKE" 2>&1 | grep -q "instance OK"; then
  echo "export LD_PRELOAD=$PWD/build/libvkstubs.so"
else
  echo "# Vulkan still fails with the stubs: $(LD_PRELOAD=$PWD/build/libvkstubs.so $PY -c "$SMOKE" 2>&1 | tail -n 1)" >&2
fi
