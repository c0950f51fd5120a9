from typing import Any

class HostRegistration:
    address: int
    nbytes: int
    device: int
    owner: Any
    @property
    def alive(self) -> bool: ...
    def free(self) -> None: ...

def register(owner: Any, address: int, nbytes: int, device: int) -> HostRegistration: ...
