"""``ImageArray.from_external``: an :class:`ImageArray` over imported external memory.

The interop layer below makes the image memory (``image_mem_from_external``); this
module, above both, wraps it in an :class:`ImageArray`.
"""

from __future__ import annotations

from typing import Any

from imagearray._descriptor import ImageDescriptor
from imagearray.array.image_array import ImageArray
from imagearray.interop import ExternalMemDescriptor, ExternalMemory, image_mem_from_external

__all__ = ["image_array_from_external"]


def image_array_from_external(
    memory: ExternalMemory | ExternalMemDescriptor,
    desc: ImageDescriptor,
    *,
    offset: int = 0,
    device: Any = None,
    color_attachment: bool = False,
) -> ImageArray:
    """An :class:`ImageArray` over imported memory (``ImageArray.from_external``).

    ``memory`` is an :class:`ExternalMemory`, or an :class:`ExternalMemDescriptor`
    to import now, in which case the import belongs to the image: it is released
    when the image memory is freed. Extents of ``desc`` are in texture order.

    Examples
    --------
    >>> img = ia.ImageArray.from_external(  # doctest: +SKIP
    ...     ia.ExternalMemDescriptor(ia.ResourceFD(fd), size, dedicated=True), desc)
    >>> img.get()  # doctest: +SKIP
    """
    mem = image_mem_from_external(
        memory, desc, offset=offset, device=device, color_attachment=color_attachment
    )
    return ImageArray.from_mem(mem)
