from typing import Any

class ArrayHandle:
    device: int
    owner: Any
    desc: Any
    parent: MipmappedArrayHandle | None
    level: int
    flags: int
    dependents: Any
    lock: Any
    @property
    def alive(self) -> bool: ...
    @property
    def raw_handle(self) -> int: ...
    def raw(self) -> int: ...
    def free(self) -> None: ...
    def query_descriptor(self) -> tuple[int, int, int, int, int, int]: ...

class MipmappedArrayHandle:
    device: int
    owner: Any
    desc: Any
    num_levels: int
    dependents: Any
    lock: Any
    @property
    def alive(self) -> bool: ...
    @property
    def raw_handle(self) -> int: ...
    def raw(self) -> int: ...
    def get_level(self, level: int) -> ArrayHandle: ...
    def cached_levels(self) -> list[ArrayHandle]: ...
    def free(self) -> None: ...

def alloc_array(
    device: int,
    width: int,
    height: int,
    depth: int,
    fmt: int,
    channels: int,
    flags: int,
    desc: Any = ...,
) -> ArrayHandle: ...
def alloc_mipmapped_array(
    device: int,
    width: int,
    height: int,
    depth: int,
    fmt: int,
    channels: int,
    flags: int,
    levels: int,
    desc: Any = ...,
) -> MipmappedArrayHandle: ...
def wrap_array(device: int, raw_cuarray: int, desc: Any, owner: Any) -> ArrayHandle: ...
def wrap_mipmapped_array(
    device: int, raw_cumipmappedarray: int, desc: Any, num_levels: int, owner: Any
) -> MipmappedArrayHandle: ...
