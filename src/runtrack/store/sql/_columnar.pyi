"""Type stub of the C split of a columnar batch (``_columnar.c``)."""

from typing import Any

def split(
    ids: Any, types: Any, steps: Any, times: Any, values: Any, skip: int, group_of: Any,
    tables: bytes,
) -> tuple[list[int], list[tuple[Any, ...]]]: ...
