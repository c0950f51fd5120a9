from typing import Any

class ArrayHandle:
    device: int
    desc: Any
    parent: MipmappedArrayHandle | None
    level: int
    @property
    def alive(self) -> bool: ...
    @property
    def raw_handle(self) -> int: ...
    def raw(self) -> int: ...
    def free(self) -> None: ...
    def query_descriptor(self) -> tuple[int, int, int, int, int, int]: ...

class MipmappedArrayHandle:
    device: int
    desc: Any
    num_levels: int
    @property
    def alive(self) -> bool: ...
    @property
    def raw_handle(self) -> int: ...
    def raw(self) -> int: ...
    def get_level(self, level: int) -> ArrayHandle: ...
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
