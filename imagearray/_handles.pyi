from typing import Any

ARRAY: int
MIPMAP: int
LINEAR: int
PITCH2D: int

class _CudaObject:
    device: int
    memory: Any
    @property
    def alive(self) -> bool: ...
    @property
    def raw_handle(self) -> int: ...
    def destroy(self) -> None: ...

class TextureObject(_CudaObject): ...
class SurfaceObject(_CudaObject): ...

def create_texture(
    device: int,
    kind: int,
    handle: int,
    fmt: int,
    channels: int,
    width: int,
    height: int,
    pitch: int,
    size_bytes: int,
    address_modes: tuple[int, int, int],
    filter_mode: int,
    mipmap_filter_mode: int,
    flags: int,
    max_anisotropy: int,
    min_level_clamp: float,
    max_level_clamp: float,
    border_color: tuple[float, float, float, float],
    memory: Any,
) -> TextureObject: ...
def create_surface(device: int, cuarray: int, memory: Any) -> SurfaceObject: ...

class TextureRecipe:
    def __init__(
        self,
        kind: int,
        handle: int,
        fmt: int,
        channels: int,
        width: int,
        height: int,
        pitch: int,
        size_bytes: int,
        address_modes: tuple[int, int, int],
        filter_mode: int,
        mipmap_filter_mode: int,
        flags: int,
        max_anisotropy: int,
        min_level_clamp: float,
        max_level_clamp: float,
        border_color: tuple[float, float, float, float],
    ) -> None: ...
    def create(self, device: int, memory: Any) -> TextureObject: ...
    def fields(self) -> tuple: ...

class SurfaceRecipe:
    def __init__(self, cuarray: int) -> None: ...
    def create(self, device: int, memory: Any) -> SurfaceObject: ...

def register(obj: Any, dependents: Any) -> None: ...

class HandleRecipe:
    create: Any
    memory: Any
    desc: Any
    sampler: Any
    alive_of: Any
    owner: Any
    handle_desc: Any
    def __init__(
        self,
        memory: Any,
        desc: Any,
        sampler: Any,
        alive_of: Any,
        owner: Any,
        handle_desc: Any,
        device: int,
        create: Any,
        cls: type,
        filtered_integer: bool,
    ) -> None: ...
    def make(self, memory: Any, desc: Any, sampler: Any) -> Any: ...

def uint64_of(cls: type, value: int) -> Any: ...
def from_recipe(recipes: dict, memory: Any, desc: Any, sampler: Any) -> Any: ...
