"""Interoperability (spec: "external memory", "external semaphores", and the UR
memory-export extension): importing memory and semaphores another API exported, and
allocating memory other APIs can import.

``handle_types`` holds the handle types and the one table of their driver codes;
``resources`` the resources, descriptors and mapping plans (plain Python);
``memory`` and ``semaphores`` the imports; ``exportable`` the exportable memory.
"""

from imagearray.interop.exportable import (
    ExportableMemory,
    alloc_exportable_memory,
    check_export_args,
    export_memory_handle,
    exportable_memory_granularity,
    exportable_memory_supported,
    free_exportable_memory,
)
from imagearray.interop.handle_types import ExternalMemHandleType, ExternalSemaphoreHandleType
from imagearray.interop.memory import (
    ExternalMemory,
    image_mem_from_external,
    import_external_memory,
    map_external_image_memory,
    map_external_linear_memory,
    release_external_memory,
)
from imagearray.interop.resources import (
    ExternalMemDescriptor,
    ExternalSemaphoreDescriptor,
    ResourceFD,
    ResourceWin32Handle,
    ResourceWin32Name,
    plan_image_mapping,
    plan_linear_mapping,
)
from imagearray.interop.semaphores import (
    ExternalSemaphore,
    destroy_external_semaphore,
    import_external_semaphore,
    signal_external_semaphore,
    wait_external_semaphore,
)

__all__ = [
    "ExportableMemory",
    "ExternalMemDescriptor",
    "ExternalMemHandleType",
    "ExternalMemory",
    "ExternalSemaphore",
    "ExternalSemaphoreDescriptor",
    "ExternalSemaphoreHandleType",
    "ResourceFD",
    "ResourceWin32Handle",
    "ResourceWin32Name",
    "alloc_exportable_memory",
    "check_export_args",
    "destroy_external_semaphore",
    "export_memory_handle",
    "exportable_memory_granularity",
    "exportable_memory_supported",
    "free_exportable_memory",
    "image_mem_from_external",
    "import_external_memory",
    "import_external_semaphore",
    "map_external_image_memory",
    "map_external_linear_memory",
    "plan_image_mapping",
    "plan_linear_mapping",
    "release_external_memory",
    "signal_external_semaphore",
    "wait_external_semaphore",
]
