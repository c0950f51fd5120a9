"""A small Vulkan peer for the interop tests, built from the calls that
``gpu/vulkan_interop_probe.py`` showed working on the GPU machine (Python ``vulkan``
package, ``VK_KHR_external_memory_fd``, ``VK_KHR_external_semaphore_fd``, Vulkan 1.2
timeline semaphores).

``vulkan`` is imported lazily: importing this module never needs it. :func:`get_peer`
returns a process-wide :class:`VulkanPeer` or skips the calling test with the reason
(package missing, no Vulkan driver, no device with the external memory/semaphore
extensions). Set ``IMAGEARRAY_REQUIRE_VULKAN=1`` to turn those skips into failures,
so that a run meant to exercise Vulkan cannot pass by skipping.

Every operation waits for its own fence: the peer is a synchronous reference, not a
performance test. File descriptors it exports are returned to the caller, who owns
them (import them, which transfers ownership on success, or close them).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

REQUIRE_VULKAN = os.environ.get("IMAGEARRAY_REQUIRE_VULKAN") == "1"

_QUEUE_FAMILY_IGNORED = 0xFFFFFFFF
_TIMEOUT_NS = 60 * 10**9

_peer: VulkanPeer | None = None
_peer_error: str | None = None


def _unavailable(reason: str):
    if REQUIRE_VULKAN:
        pytest.fail(f"IMAGEARRAY_REQUIRE_VULKAN=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def get_peer() -> VulkanPeer:
    """The process-wide Vulkan peer; skips (or fails, see module doc) when unusable."""
    global _peer, _peer_error
    if _peer is None and _peer_error is None:
        try:
            _peer = VulkanPeer()
        except _Unusable as exc:
            _peer_error = str(exc)
        except Exception as exc:  # the driver or loader failed in an unexpected way
            _peer_error = f"Vulkan set-up failed: {type(exc).__name__}: {exc}"
    if _peer is None:
        _unavailable(_peer_error or "no Vulkan peer")
    return _peer


def close_peer() -> None:
    global _peer
    if _peer is not None:
        _peer.close()
        _peer = None


class _Unusable(Exception):
    pass


@dataclass
class VkBuffer:
    buffer: Any
    memory: Any
    size: int  # allocationSize
    fd: int | None = None  # exported fd, owned by the caller


@dataclass
class VkImage:
    image: Any
    memory: Any
    size: int  # allocationSize (what CUDA must import)
    format: int
    width: int
    height: int
    levels: int
    texel_size: int
    fd: int | None = None

    def level_extent(self, level: int) -> tuple[int, int]:
        return max(1, self.width >> level), max(1, self.height >> level)


@dataclass
class VkSemaphore:
    semaphore: Any
    timeline: bool
    fd: int | None = None


@dataclass
class _Owned:
    buffers: list = field(default_factory=list)
    images: list = field(default_factory=list)
    memories: list = field(default_factory=list)
    semaphores: list = field(default_factory=list)


class VulkanPeer:
    """One Vulkan instance and device (the CUDA device's, matched by UUID when the
    driver reports one), one queue, one command pool."""

    FORMATS = {
        # imagearray (channel_order, channel_type) -> (VkFormat name, texel bytes)
        ("r", "unsigned_int32"): ("VK_FORMAT_R32_UINT", 4),
        ("r", "fp32"): ("VK_FORMAT_R32_SFLOAT", 4),
        ("rgba", "unsigned_int8"): ("VK_FORMAT_R8G8B8A8_UINT", 4),
        ("rgba", "fp32"): ("VK_FORMAT_R32G32B32A32_SFLOAT", 16),
    }

    def __init__(self, cuda_device: int = 0) -> None:
        try:
            import vulkan as vk
        except ImportError as exc:
            raise _Unusable(f"the Python 'vulkan' package is not installed ({exc})") from None
        except OSError as exc:  # the package found no libvulkan.so.1
            raise _Unusable(f"no Vulkan loader: {exc}") from None
        self.vk = vk
        self._owned = _Owned()
        app = vk.VkApplicationInfo(
            sType=vk.VK_STRUCTURE_TYPE_APPLICATION_INFO,
            pApplicationName="imagearray-tests",
            applicationVersion=1,
            pEngineName="imagearray",
            engineVersion=1,
            apiVersion=vk.VK_MAKE_VERSION(1, 2, 0),
        )
        try:
            self.instance = vk.vkCreateInstance(
                vk.VkInstanceCreateInfo(
                    sType=vk.VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                    pApplicationInfo=app,
                    enabledLayerCount=0,
                    enabledExtensionCount=0,
                ),
                None,
            )
        except Exception as exc:
            raise _Unusable(f"vkCreateInstance failed (no Vulkan driver?): {exc!r}") from None
        self.device = None
        try:
            self._pick_device(cuda_device)
            self._make_device()
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ set-up
    def _pick_device(self, cuda_device: int) -> None:
        vk = self.vk
        pds = list(vk.vkEnumeratePhysicalDevices(self.instance))
        if not pds:
            raise _Unusable("Vulkan reports no physical device")
        want = ["VK_KHR_external_memory_fd", "VK_KHR_external_semaphore_fd"]
        usable = []
        for pd in pds:
            exts = {e.extensionName for e in vk.vkEnumerateDeviceExtensionProperties(pd, None)}
            if all(w in exts for w in want):
                usable.append(pd)
        if not usable:
            raise _Unusable(f"no Vulkan device has {' and '.join(want)}")
        self.extensions = want
        uuid = _cuda_uuid(cuda_device)
        chosen = None
        if uuid is not None:
            for pd in usable:
                if self._device_uuid(pd) == uuid:
                    chosen = pd
                    break
        if chosen is None:  # no UUID on either side: take the first NVIDIA device
            nvidia = [p for p in usable if vk.vkGetPhysicalDeviceProperties(p).vendorID == 0x10DE]
            chosen = (nvidia or usable)[0]
        self.physical_device = chosen
        self.name = vk.vkGetPhysicalDeviceProperties(chosen).deviceName

    def _device_uuid(self, pd) -> bytes | None:
        vk = self.vk
        try:
            ffi = getattr(vk, "ffi", None)
            if ffi is None:
                from vulkan._vulkancache import ffi  # type: ignore[no-redef]
            idp = ffi.new(
                "VkPhysicalDeviceIDProperties*",
                {"sType": vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES},
            )
            props = ffi.new(
                "VkPhysicalDeviceProperties2*",
                {"sType": vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, "pNext": idp},
            )
            vk.vkGetPhysicalDeviceProperties2(pd, props)
            return bytes(ffi.buffer(idp.deviceUUID))
        except Exception:
            return None

    def _make_device(self) -> None:
        vk = self.vk
        feat12 = vk.VkPhysicalDeviceVulkan12Features(
            sType=vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
            timelineSemaphore=vk.VK_TRUE,
        )
        families = vk.vkGetPhysicalDeviceQueueFamilyProperties(self.physical_device)
        wanted = vk.VK_QUEUE_GRAPHICS_BIT | vk.VK_QUEUE_COMPUTE_BIT
        fam = next((i for i, f in enumerate(families) if f.queueFlags & wanted), 0)
        self.queue_family = fam
        qci = vk.VkDeviceQueueCreateInfo(
            sType=vk.VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
            queueFamilyIndex=fam,
            queueCount=1,
            pQueuePriorities=[1.0],
        )
        self.device = vk.vkCreateDevice(
            self.physical_device,
            vk.VkDeviceCreateInfo(
                sType=vk.VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                pNext=feat12,
                queueCreateInfoCount=1,
                pQueueCreateInfos=[qci],
                enabledExtensionCount=len(self.extensions),
                ppEnabledExtensionNames=self.extensions,
            ),
            None,
        )
        self.queue = vk.vkGetDeviceQueue(self.device, fam, 0)
        self.pool = vk.vkCreateCommandPool(
            self.device,
            vk.VkCommandPoolCreateInfo(
                sType=vk.VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                queueFamilyIndex=fam,
                flags=vk.VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
            ),
            None,
        )
        self._get_memory_fd = vk.vkGetDeviceProcAddr(self.device, "vkGetMemoryFdKHR")
        self._get_semaphore_fd = vk.vkGetDeviceProcAddr(self.device, "vkGetSemaphoreFdKHR")
        self._counter_value = self._core_or_khr("vkGetSemaphoreCounterValue")
        self._signal = self._core_or_khr("vkSignalSemaphore")
        self._wait_semaphores = self._core_or_khr("vkWaitSemaphores")

    def _core_or_khr(self, name: str):
        fn = getattr(self.vk, name, None)
        return fn if fn is not None else self.vk.vkGetDeviceProcAddr(self.device, name + "KHR")

    def close(self) -> None:
        vk = self.vk
        if self.device is not None:
            vk.vkDeviceWaitIdle(self.device)
            for s in self._owned.semaphores:
                vk.vkDestroySemaphore(self.device, s, None)
            for b in self._owned.buffers:
                vk.vkDestroyBuffer(self.device, b, None)
            for i in self._owned.images:
                vk.vkDestroyImage(self.device, i, None)
            for m in self._owned.memories:
                vk.vkFreeMemory(self.device, m, None)
            if getattr(self, "pool", None) is not None:
                vk.vkDestroyCommandPool(self.device, self.pool, None)
            vk.vkDestroyDevice(self.device, None)
            self.device = None
            self._owned = _Owned()
        if self.instance is not None:
            vk.vkDestroyInstance(self.instance, None)
            self.instance = None

    # ------------------------------------------------------------------ helpers
    def _memtype(self, bits: int, flags: int) -> int:
        props = self.vk.vkGetPhysicalDeviceMemoryProperties(self.physical_device)
        for i in range(props.memoryTypeCount):
            if bits & (1 << i) and (props.memoryTypes[i].propertyFlags & flags) == flags:
                return i
        raise RuntimeError(f"no Vulkan memory type with flags {flags:#x} in {bits:#x}")

    def _allocate(self, req, flags: int, pnext=None):
        vk = self.vk
        mem = vk.vkAllocateMemory(
            self.device,
            vk.VkMemoryAllocateInfo(
                sType=vk.VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                pNext=pnext,
                allocationSize=req.size,
                memoryTypeIndex=self._memtype(req.memoryTypeBits, flags),
            ),
            None,
        )
        self._owned.memories.append(mem)
        return mem

    def _memory_fd(self, memory) -> int:
        vk = self.vk
        return int(
            self._get_memory_fd(
                self.device,
                vk.VkMemoryGetFdInfoKHR(
                    sType=vk.VK_STRUCTURE_TYPE_MEMORY_GET_FD_INFO_KHR,
                    memory=memory,
                    handleType=vk.VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT,
                ),
            )
        )

    def submit(self, record, wait=(), signal=()) -> None:
        """Record commands with ``record(cb)``, submit them waiting on ``wait`` and
        signalling ``signal`` (lists of ``(VkSemaphore, value)``; value ignored for
        binary semaphores), and wait for the fence."""
        vk = self.vk
        cb = vk.vkAllocateCommandBuffers(
            self.device,
            vk.VkCommandBufferAllocateInfo(
                sType=vk.VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                commandPool=self.pool,
                level=vk.VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                commandBufferCount=1,
            ),
        )[0]
        vk.vkBeginCommandBuffer(
            cb,
            vk.VkCommandBufferBeginInfo(
                sType=vk.VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                flags=vk.VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
            ),
        )
        if record is not None:
            record(cb)
        vk.vkEndCommandBuffer(cb)
        pnext = None
        if any(s.timeline for s, _ in (*wait, *signal)):
            pnext = vk.VkTimelineSemaphoreSubmitInfo(
                sType=vk.VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
                waitSemaphoreValueCount=len(wait),
                pWaitSemaphoreValues=[int(v or 0) for _, v in wait] or None,
                signalSemaphoreValueCount=len(signal),
                pSignalSemaphoreValues=[int(v or 0) for _, v in signal] or None,
            )
        info = vk.VkSubmitInfo(
            sType=vk.VK_STRUCTURE_TYPE_SUBMIT_INFO,
            pNext=pnext,
            waitSemaphoreCount=len(wait),
            pWaitSemaphores=[s.semaphore for s, _ in wait] or None,
            pWaitDstStageMask=[vk.VK_PIPELINE_STAGE_ALL_COMMANDS_BIT] * len(wait) or None,
            commandBufferCount=1,
            pCommandBuffers=[cb],
            signalSemaphoreCount=len(signal),
            pSignalSemaphores=[s.semaphore for s, _ in signal] or None,
        )
        fence = vk.vkCreateFence(
            self.device, vk.VkFenceCreateInfo(sType=vk.VK_STRUCTURE_TYPE_FENCE_CREATE_INFO), None
        )
        try:
            vk.vkQueueSubmit(self.queue, 1, [info], fence)
            vk.vkWaitForFences(self.device, 1, [fence], vk.VK_TRUE, _TIMEOUT_NS)
        finally:
            vk.vkDestroyFence(self.device, fence, None)
            vk.vkFreeCommandBuffers(self.device, self.pool, 1, [cb])

    def _staging(self, size: int) -> VkBuffer:
        vk = self.vk
        return self.create_buffer(
            size,
            vk.VK_BUFFER_USAGE_TRANSFER_SRC_BIT | vk.VK_BUFFER_USAGE_TRANSFER_DST_BIT,
            vk.VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | vk.VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
        )

    def _free_buffer(self, b: VkBuffer) -> None:
        vk = self.vk
        vk.vkDestroyBuffer(self.device, b.buffer, None)
        vk.vkFreeMemory(self.device, b.memory, None)
        self._owned.buffers.remove(b.buffer)
        self._owned.memories.remove(b.memory)

    def _host_write(self, b: VkBuffer, data: bytes) -> None:
        m = self.vk.vkMapMemory(self.device, b.memory, 0, len(data), 0)
        m[: len(data)] = data
        self.vk.vkUnmapMemory(self.device, b.memory)

    def _host_read(self, b: VkBuffer, size: int) -> bytes:
        m = self.vk.vkMapMemory(self.device, b.memory, 0, size, 0)
        out = bytes(m[:size])
        self.vk.vkUnmapMemory(self.device, b.memory)
        return out

    # ------------------------------------------------------------------ buffers
    def create_buffer(
        self, size: int, usage: int, flags: int, *, export=False, import_fd=None
    ) -> VkBuffer:
        vk = self.vk
        ext_info = None
        if export or import_fd is not None:
            ext_info = vk.VkExternalMemoryBufferCreateInfo(
                sType=vk.VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO,
                handleTypes=vk.VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT,
            )
        buf = vk.vkCreateBuffer(
            self.device,
            vk.VkBufferCreateInfo(
                sType=vk.VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                pNext=ext_info,
                size=size,
                usage=usage,
                sharingMode=vk.VK_SHARING_MODE_EXCLUSIVE,
            ),
            None,
        )
        self._owned.buffers.append(buf)
        req = vk.vkGetBufferMemoryRequirements(self.device, buf)
        pnext = None
        if export:
            pnext = vk.VkExportMemoryAllocateInfo(
                sType=vk.VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO,
                handleTypes=vk.VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT,
            )
        if import_fd is not None:
            pnext = vk.VkImportMemoryFdInfoKHR(
                sType=vk.VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR,
                handleType=vk.VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT,
                fd=import_fd,
            )
        mem = self._allocate(req, flags, pnext)
        vk.vkBindBufferMemory(self.device, buf, mem, 0)
        out = VkBuffer(buf, mem, int(req.size))
        if export:
            out.fd = self._memory_fd(mem)
        return out

    def export_buffer(self, size: int) -> VkBuffer:
        """Device-local buffer memory exported as an opaque fd (``.fd``, caller-owned)."""
        vk = self.vk
        return self.create_buffer(
            size,
            vk.VK_BUFFER_USAGE_TRANSFER_SRC_BIT | vk.VK_BUFFER_USAGE_TRANSFER_DST_BIT,
            vk.VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT,
            export=True,
        )

    def import_buffer(self, fd: int, size: int) -> VkBuffer:
        """Import an opaque fd (e.g. from imagearray's export) as a buffer; Vulkan
        owns the fd once this returns."""
        vk = self.vk
        return self.create_buffer(
            size,
            vk.VK_BUFFER_USAGE_TRANSFER_SRC_BIT | vk.VK_BUFFER_USAGE_TRANSFER_DST_BIT,
            vk.VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT,
            import_fd=fd,
        )

    def read_buffer(self, b: VkBuffer, size: int) -> bytes:
        """Copy ``size`` bytes of a device buffer to a host-visible one and read them."""
        vk = self.vk
        host = self._staging(size)
        try:
            self.submit(
                lambda cb: vk.vkCmdCopyBuffer(
                    cb,
                    b.buffer,
                    host.buffer,
                    1,
                    [vk.VkBufferCopy(srcOffset=0, dstOffset=0, size=size)],
                )
            )
            return self._host_read(host, size)
        finally:
            self._free_buffer(host)

    def write_buffer(self, b: VkBuffer, data: bytes) -> None:
        vk = self.vk
        host = self._staging(len(data))
        try:
            self._host_write(host, data)
            self.submit(
                lambda cb: vk.vkCmdCopyBuffer(
                    cb,
                    host.buffer,
                    b.buffer,
                    1,
                    [vk.VkBufferCopy(srcOffset=0, dstOffset=0, size=len(data))],
                )
            )
        finally:
            self._free_buffer(host)

    # ------------------------------------------------------------------ images
    def export_image(
        self, width: int, height: int, channel_order: str, channel_type: str, levels: int = 1
    ) -> VkImage:
        """A 2D optimal-tiling image in its own (dedicated) exportable allocation, in
        ``VK_IMAGE_LAYOUT_GENERAL``; ``.fd`` is the caller's."""
        vk = self.vk
        fmt_name, texel = self.FORMATS[(channel_order, channel_type)]
        fmt = getattr(vk, fmt_name)
        img = vk.vkCreateImage(
            self.device,
            vk.VkImageCreateInfo(
                sType=vk.VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
                pNext=vk.VkExternalMemoryImageCreateInfo(
                    sType=vk.VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_IMAGE_CREATE_INFO,
                    handleTypes=vk.VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT,
                ),
                imageType=vk.VK_IMAGE_TYPE_2D,
                format=fmt,
                extent=vk.VkExtent3D(width=width, height=height, depth=1),
                mipLevels=levels,
                arrayLayers=1,
                samples=vk.VK_SAMPLE_COUNT_1_BIT,
                tiling=vk.VK_IMAGE_TILING_OPTIMAL,
                usage=(
                    vk.VK_IMAGE_USAGE_TRANSFER_SRC_BIT
                    | vk.VK_IMAGE_USAGE_TRANSFER_DST_BIT
                    | vk.VK_IMAGE_USAGE_SAMPLED_BIT
                    | vk.VK_IMAGE_USAGE_STORAGE_BIT
                ),
                sharingMode=vk.VK_SHARING_MODE_EXCLUSIVE,
                initialLayout=vk.VK_IMAGE_LAYOUT_UNDEFINED,
            ),
            None,
        )
        self._owned.images.append(img)
        req = vk.vkGetImageMemoryRequirements(self.device, img)
        dedicated = vk.VkMemoryDedicatedAllocateInfo(
            sType=vk.VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO, image=img
        )
        export = vk.VkExportMemoryAllocateInfo(
            sType=vk.VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO,
            pNext=dedicated,
            handleTypes=vk.VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT,
        )
        mem = self._allocate(req, vk.VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, export)
        vk.vkBindImageMemory(self.device, img, mem, 0)
        out = VkImage(img, mem, int(req.size), fmt, width, height, levels, texel)
        self.submit(lambda cb: self._to_general(cb, out))
        out.fd = self._memory_fd(mem)
        return out

    def _to_general(self, cb, img: VkImage) -> None:
        vk = self.vk
        barrier = vk.VkImageMemoryBarrier(
            sType=vk.VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
            srcAccessMask=0,
            dstAccessMask=vk.VK_ACCESS_TRANSFER_READ_BIT | vk.VK_ACCESS_TRANSFER_WRITE_BIT,
            oldLayout=vk.VK_IMAGE_LAYOUT_UNDEFINED,
            newLayout=vk.VK_IMAGE_LAYOUT_GENERAL,
            srcQueueFamilyIndex=_QUEUE_FAMILY_IGNORED,
            dstQueueFamilyIndex=_QUEUE_FAMILY_IGNORED,
            image=img.image,
            subresourceRange=vk.VkImageSubresourceRange(
                aspectMask=vk.VK_IMAGE_ASPECT_COLOR_BIT,
                baseMipLevel=0,
                levelCount=img.levels,
                baseArrayLayer=0,
                layerCount=1,
            ),
        )
        vk.vkCmdPipelineBarrier(
            cb,
            vk.VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT,
            vk.VK_PIPELINE_STAGE_TRANSFER_BIT,
            0,
            0,
            None,
            0,
            None,
            1,
            [barrier],
        )

    def _region(self, img: VkImage, level: int):
        vk = self.vk
        w, h = img.level_extent(level)
        return vk.VkBufferImageCopy(
            bufferOffset=0,
            bufferRowLength=0,
            bufferImageHeight=0,
            imageSubresource=vk.VkImageSubresourceLayers(
                aspectMask=vk.VK_IMAGE_ASPECT_COLOR_BIT,
                mipLevel=level,
                baseArrayLayer=0,
                layerCount=1,
            ),
            imageOffset=vk.VkOffset3D(x=0, y=0, z=0),
            imageExtent=vk.VkExtent3D(width=w, height=h, depth=1),
        )

    def _record_image_to_buffer(self, img: VkImage, level: int, host: VkBuffer):
        vk = self.vk
        region = self._region(img, level)
        return lambda cb: vk.vkCmdCopyImageToBuffer(
            cb, img.image, vk.VK_IMAGE_LAYOUT_GENERAL, host.buffer, 1, [region]
        )

    def read_image(self, img: VkImage, level: int = 0, *, wait=(), signal=()) -> bytes:
        """The texels of ``level`` as tightly packed bytes (rows of ``width * texel``),
        copied by Vulkan to a host-visible buffer; the copy waits on ``wait``."""
        w, h = img.level_extent(level)
        n = w * h * img.texel_size
        host = self._staging(n)
        try:
            self.submit(self._record_image_to_buffer(img, level, host), wait, signal)
            return self._host_read(host, n)
        finally:
            self._free_buffer(host)

    def write_image(self, img: VkImage, data: bytes, level: int = 0, *, wait=(), signal=()):
        """Upload tightly packed texels to ``level`` (Vulkan buffer-to-image copy); the
        submission signals ``signal`` when done."""
        vk = self.vk
        w, h = img.level_extent(level)
        assert len(data) == w * h * img.texel_size, (len(data), w, h, img.texel_size)
        host = self._staging(len(data))
        region = self._region(img, level)
        try:
            self._host_write(host, data)
            self.submit(
                lambda cb: vk.vkCmdCopyBufferToImage(
                    cb, host.buffer, img.image, vk.VK_IMAGE_LAYOUT_GENERAL, 1, [region]
                ),
                wait,
                signal,
            )
        finally:
            self._free_buffer(host)

    # ------------------------------------------------------------------ semaphores
    def export_semaphore(self, timeline: bool = False, initial: int = 0) -> VkSemaphore:
        """An exportable binary or timeline semaphore; ``.fd`` is the caller's."""
        vk = self.vk
        chain = None
        if timeline:
            chain = vk.VkSemaphoreTypeCreateInfo(
                sType=vk.VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
                semaphoreType=vk.VK_SEMAPHORE_TYPE_TIMELINE,
                initialValue=initial,
            )
        export = vk.VkExportSemaphoreCreateInfo(
            sType=vk.VK_STRUCTURE_TYPE_EXPORT_SEMAPHORE_CREATE_INFO,
            pNext=chain,
            handleTypes=vk.VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD_BIT,
        )
        sem = vk.vkCreateSemaphore(
            self.device,
            vk.VkSemaphoreCreateInfo(
                sType=vk.VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO, pNext=export
            ),
            None,
        )
        self._owned.semaphores.append(sem)
        fd = self._get_semaphore_fd(
            self.device,
            vk.VkSemaphoreGetFdInfoKHR(
                sType=vk.VK_STRUCTURE_TYPE_SEMAPHORE_GET_FD_INFO_KHR,
                semaphore=sem,
                handleType=vk.VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD_BIT,
            ),
        )
        return VkSemaphore(sem, timeline, int(fd))

    def counter(self, sem: VkSemaphore) -> int:
        return int(self._counter_value(self.device, sem.semaphore))

    def host_signal(self, sem: VkSemaphore, value: int) -> None:
        vk = self.vk
        self._signal(
            self.device,
            vk.VkSemaphoreSignalInfo(
                sType=vk.VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO,
                semaphore=sem.semaphore,
                value=value,
            ),
        )

    def wait_counter(self, sem: VkSemaphore, value: int, timeout_ns: int = _TIMEOUT_NS) -> bool:
        """Host wait until the timeline counter reaches ``value``; False on timeout."""
        vk = self.vk
        try:
            self._wait_semaphores(
                self.device,
                vk.VkSemaphoreWaitInfo(
                    sType=vk.VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
                    semaphoreCount=1,
                    pSemaphores=[sem.semaphore],
                    pValues=[value],
                ),
                timeout_ns,
            )
        except Exception as exc:  # the package raises VkTimeout for VK_TIMEOUT
            if type(exc).__name__ == "VkTimeout":
                return False
            raise
        return True


def _cuda_uuid(device: int) -> bytes | None:
    try:
        import cupy

        uuid = cupy.cuda.runtime.getDeviceProperties(device).get("uuid")
    except Exception:
        return None
    if isinstance(uuid, (bytes, bytearray)) and len(uuid) == 16:
        return bytes(uuid)
    return None


def as_array(data: bytes, dtype, shape) -> np.ndarray:
    return np.frombuffer(data, dtype=dtype).reshape(shape)
