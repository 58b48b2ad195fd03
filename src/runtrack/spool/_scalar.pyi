"""Type stub of the C scalar logger and the reader's scan (``_scalar.c``)."""

from collections.abc import Callable
from typing import Any

class Cursor:
    offset: int
    last_point: int
    @property
    def thread(self) -> int: ...
    def map(self, mm: Any) -> None: ...
    def unmap(self) -> None: ...
    def bind(
        self,
        heads: dict[str, bytes],
        int_heads: dict[str, bytes],
        slow: Callable[[str, Any, str, Any], None],
        binder: Callable[..., tuple[str, Any, str, Any]],
    ) -> None: ...
    def __call__(
        self, name: str, value: Any, description: str = "", step: Any = None
    ) -> None: ...

def scan(
    buffer: Any, offset: int, room: int, id_bound: int,
    names: dict[int, tuple[str, str]], kinds: tuple[str, ...],
) -> tuple[int, int, int, tuple[bytes, bytes, bytes, bytes, bytes] | None]: ...
