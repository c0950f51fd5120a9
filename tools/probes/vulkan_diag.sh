#!/usr/bin/env bash
# Why the NVIDIA Vulkan ICD refuses vkCreateInstance on the GPU machine (diagnostic
# only): which libraries the driver tries to load, device nodes, capabilities.
# Usage (device tool, carry .gl and .whl): bash tools/probes/vulkan_diag.sh > $OUT/vk.txt
cd "$(dirname "$0")/../.." || exit 2
for f in .gl/*.deb; do dpkg -x "$f" / 2>/dev/null; done; ldconfig
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl >/dev/null 2>&1
export PYTHONPATH=/tmp/site
echo "== id: $(id)"; grep -E '^Cap(Eff|Bnd)' /proc/self/status
echo "== env"; env | grep -iE 'nvidia|vk_|display|xdg' | sort
echo "== ICD manifests"
for f in /usr/local/nvidia/share/vulkan/icd.d/* /usr/share/vulkan/icd.d/* /etc/vulkan/icd.d/* \
  /usr/share/vulkan/implicit_layer.d/* /etc/vulkan/implicit_layer.d/*; do
  [ -f "$f" ] && { echo "-- $f"; tr -d '\n' < "$f" | cut -c1-400; echo; }
done
echo "== driver libraries"
ls -la /usr/local/nvidia/lib64 2>&1 | grep -iE 'glx|vulkan|glcore|glvk|gpucomp|tls|glsi|egl|rtcore|present|allocator' | awk '{print $NF, $5}'
ls /usr/share/nvidia /etc/nvidia /usr/local/nvidia 2>&1 | head -20
echo "== device nodes"; ls -la /dev/nvidia* /dev/dri 2>&1
SMOKE='
import vulkan as vk
app = vk.VkApplicationInfo(sType=vk.VK_STRUCTURE_TYPE_APPLICATION_INFO, apiVersion=vk.VK_MAKE_VERSION(1, 2, 0))
vk.vkCreateInstance(vk.VkInstanceCreateInfo(sType=vk.VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, pApplicationInfo=app), None)
print("vulkan instance OK")'
echo "== LD_DEBUG=libs (failed or nvidia loads)"
LD_DEBUG=libs python3 -c "$SMOKE" 2>&1 | grep -E 'cannot open|not found|find library=lib(nvidia|GLX|vulkan|EGL|X11|xcb|wayland|drm|gbm)|error|instance OK|Error' | sort | uniq -c | sort -rn | head -60
echo "== strace openat (failures)"
if command -v strace >/dev/null; then
  strace -f -e trace=openat,open,access,stat -o /tmp/st.txt python3 -c "$SMOKE" >/dev/null 2>&1
  grep -E 'ENOENT|EACCES|EPERM' /tmp/st.txt | grep -vE '\.py|\.pyc|python3|/site/|__pycache__|encodings' | awk '{$1=""; print}' | sort | uniq -c | sort -rn | head -60
  echo "-- dev opens"; grep -E '/dev/' /tmp/st.txt | head -30
else
  echo "no strace"
fi
echo "== with VK_LOADER_DEBUG=all (tail)"
VK_LOADER_DEBUG=all python3 -c "$SMOKE" 2>&1 | grep -vE '^\s*$' | tail -25
