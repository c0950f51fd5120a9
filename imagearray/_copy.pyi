HOST: int
DEVICE: int
ARRAY: int

_Side = tuple[int, int, int, int, int, int, int]

def memcpy3d(
    device: int, stream: int, src: _Side, dst: _Side, extent: tuple[int, int, int]
) -> None: ...
def memcpy3d_peer(
    src_device: int,
    dst_device: int,
    stream: int,
    src: _Side,
    dst: _Side,
    extent: tuple[int, int, int],
) -> None: ...
def host_key(obj: object, tag: str) -> tuple[str, int, int, bool] | None: ...
