"""The public API: every name ``imagearray.__all__`` had before the package was split
into subpackages (commit bb9680b) still imports from ``imagearray``, and
``__init__`` re-exports only."""

import ast
import pathlib

import imagearray

NAMES_AT_BB9680B = [
    "AddressingMode",
    "Aspect",
    "CUDAError",
    "CUDAOutOfMemoryError",
    "CUDAUnavailableError",
    "ChannelOrder",
    "ChannelType",
    "CoordinateNormalizationMode",
    "CopyError",
    "CubemapFilteringMode",
    "DeviceMismatchError",
    "ExportableMemory",
    "ExternalMemDescriptor",
    "ExternalMemHandleType",
    "ExternalMemory",
    "ExternalSemaphore",
    "ExternalSemaphoreDescriptor",
    "ExternalSemaphoreHandleType",
    "FilteringMode",
    "HeadersNotFoundError",
    "HostMemoryAlreadyReleasedError",
    "HostMemoryNotPreparedError",
    "HostMemoryOverlapError",
    "ImageArray",
    "ImageArrayError",
    "ImageArrayIndexError",
    "ImageArrayTypeError",
    "ImageArrayValueError",
    "ImageDescriptor",
    "ImageMem",
    "ImageType",
    "InvalidDescriptorError",
    "PreparedMemoryLeakWarning",
    "ReleasedResourceError",
    "ResourceFD",
    "ResourceWin32Handle",
    "ResourceWin32Name",
    "SampledImageHandle",
    "Sampler",
    "UnsampledImageHandle",
    "alloc_exportable_memory",
    "alloc_image_mem",
    "asimage",
    "copy",
    "create_image",
    "destroy_external_semaphore",
    "destroy_image_handle",
    "device_has",
    "device_info",
    "empty",
    "export_memory_handle",
    "exportable_memory_granularity",
    "exportable_memory_supported",
    "free_exportable_memory",
    "free_image_mem",
    "get_device",
    "get_image_channel_type",
    "get_image_num_channels",
    "get_image_range",
    "get_include",
    "get_mip_level_mem_handle",
    "get_stream",
    "header_hash",
    "import_external_memory",
    "import_external_semaphore",
    "is_available",
    "kernel_preamble",
    "map_external_image_memory",
    "map_external_linear_memory",
    "pitched_alloc_device",
    "prepare_for_device_copy",
    "prepared_for_device_copy",
    "prepared_host_ranges",
    "release_external_memory",
    "release_from_device_copy",
    "signal_external_semaphore",
    "wait_external_semaphore",
    "zeros",
]


def test_every_earlier_public_name_still_imports():
    missing = [n for n in NAMES_AT_BB9680B if not hasattr(imagearray, n)]
    assert missing == []
    assert set(NAMES_AT_BB9680B) <= set(imagearray.__all__)


def test_all_names_exist():
    assert [n for n in imagearray.__all__ if not hasattr(imagearray, n)] == []


def test_init_only_reexports():
    tree = ast.parse(pathlib.Path(imagearray.__file__).read_text())
    kinds = {type(node).__name__ for node in tree.body}
    # the docstring, imports, __version__ and __all__: no code of its own
    assert kinds <= {"Expr", "ImportFrom", "Import", "Assign"}
    assigned = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets}
    assert assigned == {"__version__", "__all__"}
