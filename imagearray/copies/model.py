"""What a copy is made of (plain Python, no CUDA): its two endpoints and the plan the
Cython executor runs."""

from __future__ import annotations

import dataclasses
from typing import Any

from imagearray import _copy as _cy  # the Cython executor: its endpoint codes
from imagearray._descriptor import ImageDescriptor

__all__ = ["DEVICE", "HOST", "IMAGE", "KIND_CODE", "SIZE_LIMIT", "CopyPlan", "Endpoint"]

HOST, DEVICE, IMAGE = "host", "device", "image"
#: Pitches, offsets and extents go to size_t fields of CUDA_MEMCPY3D: refuse what no
#: allocation can have (a 1D copy never reads the pitch, so no bound check catches it).
SIZE_LIMIT = 2**63
#: The endpoint kinds as the Cython executor numbers them (its module exports the codes).
KIND_CODE = {HOST: _cy.HOST, DEVICE: _cy.DEVICE, IMAGE: _cy.ARRAY}


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """One side of a copy, described without touching CUDA.

    kind : "host" | "device" | "image"
    device : device ordinal (None for host memory)
    address : host pointer, device pointer or CUarray
    nbytes : capacity of linear memory (host/device)
    pitch : bytes between rows of device memory (0: tightly packed)
    desc : image: the allocation's descriptor (of this level / view);
           device: the descriptor inferred from the array, if any
    origin : image views (a layer or face of a bigger allocation): where the view starts
    shape_bytes : device memory with a shape (a CuPy array): its shape, the last axis
           counted in bytes; () when unknown (a bare pointer)
    """

    kind: str
    device: int | None
    address: int = 0
    nbytes: int = 0
    pitch: int = 0
    desc: ImageDescriptor | None = None
    writable: bool = True
    origin: tuple[int, int, int] = (0, 0, 0)
    owner: Any = None
    shape_bytes: tuple[int, ...] = ()


@dataclasses.dataclass(frozen=True)
class CopyPlan:
    """What the Cython layer runs: ``(kind, address, pitch, height, x_bytes, y, z)``
    for each side and ``(width_bytes, height, depth)``."""

    src: tuple[int, int, int, int, int, int, int]
    dst: tuple[int, int, int, int, int, int, int]
    extent: tuple[int, int, int]
    src_device: int | None
    dst_device: int | None

    @property
    def is_peer(self) -> bool:
        return (
            self.src_device is not None
            and self.dst_device is not None
            and self.src_device != self.dst_device
        )
