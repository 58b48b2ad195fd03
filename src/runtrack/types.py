"""Type aliases named once."""

from __future__ import annotations

import os
from typing import TypeAlias, Union

JSONValue: TypeAlias = bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"] | None
JSONDict: TypeAlias = dict[str, JSONValue]
Scalar: TypeAlias = bool | int | float | str | None
StrPath: TypeAlias = Union[str, "os.PathLike[str]"]
