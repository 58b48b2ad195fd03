"""How points are packed into chunk rows, and the tagged JSON used for cells.

A chunk holds consecutive points of one series in one *encoding*:

* ``f`` float64, ``i`` int64, ``b`` bool (int8): packed with :mod:`array` in native
  byte order (the database file is not meant to move between architectures of
  different endianness; the blob layout is little-endian on every supported one);
* ``j`` anything else (str, None, table rows, ints beyond int64, mixed types): a
  JSON array of tagged cells (see :func:`dumps_cells`).

Steps are int64 with :data:`STEP_NONE` standing for "no step"; ``steps_kind`` says
whether every point has a step (:data:`STEPS_ALL`), none has (:data:`STEPS_NONE`,
empty blob), some have (:data:`STEPS_MIXED`), or the steps are consecutive integers
from ``step_min`` (:data:`STEPS_RANGE`, empty blob: the usual ``step == i``). Times are
float64.

Values come back exactly as logged: an int stays an int, a bool a bool, NaN and
±inf stay themselves. "Numeric" below means int or float but not bool, and not NaN.
"""

from __future__ import annotations

import functools
import json
import math
from array import array
from collections.abc import Sequence
from typing import Any, NamedTuple

from runtrack.errors import InvalidTypeError, InvalidValueError
from runtrack.model import CellValue

STEP_NONE = -(2**63)
STEPS_ALL, STEPS_NONE, STEPS_MIXED, STEPS_RANGE = 0, 1, 2, 3
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_ARRAY_CODE = {"f": "d", "i": "q", "b": "b"}
_NONE_STEP = array("q", [STEP_NONE]).tobytes()
_SHORT_RUN = 16  # runs of one numeric type shorter than this are folded into JSON


# -- tagged JSON -----------------------------------------------------------------------


def _tag(value: object) -> Any:
    kind = type(value)
    if kind is float:
        assert isinstance(value, float)
        if math.isfinite(value):
            return value
        return {"$f": "nan" if value != value else ("inf" if value > 0 else "-inf")}
    if value is None or kind is str or kind is int or kind is bool:
        return value
    if isinstance(value, dict):
        return {"$d": [[str(k), _tag_scalar(v)] for k, v in value.items()]}
    if isinstance(value, (bool, int, float, str)):  # subclasses (numpy scalars, enums)
        return _tag(_plain(value))
    raise InvalidTypeError(
        f"cannot store a metric value of type {type(value).__name__}: log numbers, "
        "strings, booleans, None, or table rows (dicts of those)"
    )


def _tag_scalar(value: object) -> Any:
    if isinstance(value, dict):
        raise InvalidTypeError("a table cell cannot hold a dict; log scalars in each column")
    return _tag(value)


def _plain(value: bool | int | float | str) -> bool | int | float | str:
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def _untag(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        if "$f" in obj:
            return float(obj["$f"])
        if "$d" in obj:
            return {k: v for k, v in obj["$d"]}
    return obj


def dumps_cell(value: object) -> str:
    """One cell as tagged JSON text (NaN/±inf and rows survive the round trip). A
    finite float or an int is the text ``json.dumps`` writes for it, its ``repr``,
    without building an encoder (a series' first and last value, per batch)."""
    kind = type(value)
    if kind is float:
        if math.isfinite(value):  # type: ignore[arg-type]
            return float.__repr__(value)  # type: ignore[arg-type]
    elif kind is int:
        return int.__repr__(value)  # type: ignore[arg-type]
    return json.dumps(_tag(value), separators=(",", ":"), allow_nan=False)



def loads_cell(text: str | None) -> CellValue:
    """Inverse of :func:`dumps_cell`; None (SQL NULL) reads as None. A plain number
    (the common cell: a series' first or last value) skips the JSON decoder."""
    if text is None:
        return None
    if text[:1] in _NUMBER_START:
        try:
            return float(text) if "." in text or "e" in text or "E" in text else int(text)
        except ValueError:
            pass
    value: CellValue = _CELL_DECODER.decode(text)
    return value


_NUMBER_START = frozenset("-0123456789")


def dumps_cells(values: Sequence[object]) -> bytes:
    """A list of cells as a tagged JSON array (the ``j`` chunk encoding)."""
    return json.dumps([_tag(v) for v in values], separators=(",", ":"), allow_nan=False).encode()


_CELL_DECODER = json.JSONDecoder(object_hook=_untag)  # built once (json.loads builds one a call)


def loads_cells(blob: bytes) -> list[CellValue]:
    cells: list[CellValue] = json.loads(blob, object_hook=_untag)
    return cells


# -- classifying values -----------------------------------------------------------------


def _encoding_of(value: object) -> str:
    kind = type(value)
    if kind is float:
        return "f"
    if kind is int:
        assert isinstance(value, int)
        return "i" if _INT64_MIN <= value <= _INT64_MAX else "j"
    if kind is bool:
        return "b"
    return "j"


def segments(values: Sequence[object]) -> list[tuple[str, int, int]]:
    """Split ``values`` into ``(encoding, start, end)`` runs of one encoding.

    Runs of a numeric encoding shorter than a few points are folded into JSON, so a
    series that alternates types does not become one chunk per point.
    """
    n = len(values)
    if n == 0:
        return []
    types = set(map(type, values))
    if len(types) == 1:
        only = types.pop()
        if only is float:
            return [("f", 0, n)]
        if only is bool:
            return [("b", 0, n)]
        ints: Sequence[int] = values  # type: ignore[assignment]
        if only is int and min(ints) >= _INT64_MIN and max(ints) <= _INT64_MAX:
            return [("i", 0, n)]
        if only is not int:
            return [("j", 0, n)]
    runs: list[list[Any]] = []
    for i, value in enumerate(values):
        enc = _encoding_of(value)
        if runs and runs[-1][0] == enc:
            runs[-1][2] = i + 1
        else:
            runs.append([enc, i, i + 1])
    merged: list[tuple[str, int, int]] = []
    for enc, start, end in runs:
        if end - start < _SHORT_RUN:
            enc = "j"
        if merged and merged[-1][0] == enc:
            merged[-1] = (enc, merged[-1][1], end)
        else:
            merged.append((enc, start, end))
    return merged


def numeric(values: Sequence[object]) -> Sequence[float]:
    """The numeric, non-NaN values among ``values`` (ints may stay ints), in order."""
    if _floats_without_nan(values):
        return values  # type: ignore[return-value]
    out: list[float] = []
    for v in values:
        kind = type(v)
        if kind is float:
            if v == v:
                out.append(v)  # type: ignore[arg-type]
        elif kind is int:
            try:
                out.append(float(v))  # type: ignore[arg-type]
            except OverflowError:
                continue
    return out


def _floats_without_nan(values: Sequence[object]) -> bool:
    """True if every value is a float and none is NaN (mostly at C speed)."""
    if set(map(type, values)) != {float}:
        return False
    total = sum(values)  # type: ignore[arg-type]
    return bool(total == total) or not any(v != v for v in values)


# -- pieces: a chunk's content and metadata -------------------------------------------


class Piece(NamedTuple):
    """Consecutive points of one series in one encoding, packed, with metadata.

    Field names match the ``chunks`` columns, so ``row()`` is a ready insert row, and
    in their order, so the piece itself is the row's parameters (a named tuple: a
    short run makes one per series, and a frozen dataclass took ~4 µs to make).
    """

    encoding: str
    count: int  # type: ignore[assignment]  # (the column; it hides tuple.count)
    steps_kind: int
    steps: bytes
    times: bytes
    vals: bytes
    n_num: int
    vmin: float | None
    vmax: float | None
    first_num: float | None
    last_num: float | None
    step_min: int | None
    step_max: int | None
    steps_sorted: bool
    time_min: float
    time_max: float
    times_sorted: bool

    def row(self) -> dict[str, Any]:
        return self._asdict()


PIECE_COLUMNS = Piece._fields


def encode_piece(
    encoding: str,
    steps: Sequence[int | None],
    times: Sequence[float],
    values: Sequence[object],
) -> Piece:
    """Pack one run of points (all of ``encoding``) and compute its metadata."""
    n = len(values)
    code = _ARRAY_CODE.get(encoding)
    if code is None:
        vals = dumps_cells(values)
        nums = numeric(values)  # type: ignore[assignment]
    else:
        vals = array(code, values).tobytes()  # type: ignore[arg-type,type-var]
        if encoding == "b":
            nums = []
        elif encoding == "f":
            nums = numeric(values)  # type: ignore[assignment]
        else:
            nums = values  # type: ignore[assignment]
    present = [s for s in steps if s is not None]
    if len(present) == n:
        if present == list(range(present[0], present[0] + n)):
            steps_kind, steps_blob = STEPS_RANGE, b""
        else:
            steps_kind, steps_blob = STEPS_ALL, _pack_steps(present)
    elif not present:
        steps_kind, steps_blob = STEPS_NONE, b""
    else:
        steps_kind = STEPS_MIXED
        steps_blob = _pack_steps([STEP_NONE if s is None else s for s in steps])
    times_list = list(times)
    time_min, time_max = min(times_list), max(times_list)
    return Piece(
        encoding=encoding,
        count=n,
        steps_kind=steps_kind,
        steps=steps_blob,
        times=array("d", times_list).tobytes(),
        vals=vals,
        n_num=len(nums),
        vmin=float(min(nums)) if nums else None,
        vmax=float(max(nums)) if nums else None,
        first_num=float(nums[0]) if nums else None,
        last_num=float(nums[-1]) if nums else None,
        step_min=min(present) if present else None,
        step_max=max(present) if present else None,
        steps_sorted=has_all_steps(steps_kind) and present == sorted(present),
        time_min=time_min,
        time_max=time_max,
        times_sorted=times_list == sorted(times_list),
    )


def _pack_steps(steps: list[int]) -> bytes:
    try:
        return array("q", steps).tobytes()
    except (OverflowError, TypeError) as exc:
        raise InvalidValueError(
            "metric steps must be ints in the int64 range (above -2**63); "
            f"got a step that is not: {exc}"
        ) from exc


def _opt(fn: Any, a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return fn(a, b)


def merge_pieces(old: Piece, new: Piece) -> Piece:
    """``old`` followed by ``new`` (same encoding) as one piece."""
    assert old.encoding == new.encoding
    kinds = (old.steps_kind, new.steps_kind)
    if kinds == (STEPS_RANGE, STEPS_RANGE) and old.step_max + 1 == new.step_min:  # type: ignore[operator]
        steps_kind, steps = STEPS_RANGE, b""
    elif old.steps_kind == new.steps_kind != STEPS_RANGE:
        steps_kind, steps = old.steps_kind, old.steps + new.steps
    else:
        steps_kind = STEPS_ALL if all(map(has_all_steps, kinds)) else STEPS_MIXED
        steps = packed_steps(old) + packed_steps(new)
    if old.encoding == "j":
        vals = old.vals[:-1] + b"," + new.vals[1:] if old.count and new.count else old.vals
    else:
        vals = old.vals + new.vals
    return new._replace(
        count=old.count + new.count,
        steps_kind=steps_kind,
        steps=steps,
        times=old.times + new.times,
        vals=vals,
        n_num=old.n_num + new.n_num,
        vmin=_opt(min, old.vmin, new.vmin),
        vmax=_opt(max, old.vmax, new.vmax),
        first_num=old.first_num if old.n_num else new.first_num,
        last_num=new.last_num if new.n_num else old.last_num,
        step_min=_opt(min, old.step_min, new.step_min),
        step_max=_opt(max, old.step_max, new.step_max),
        steps_sorted=old.steps_sorted
        and new.steps_sorted
        and _le(old.step_max, new.step_min),
        time_min=min(old.time_min, new.time_min),
        time_max=max(old.time_max, new.time_max),
        times_sorted=old.times_sorted and new.times_sorted and old.time_max <= new.time_min,
    )


def _le(a: int | None, b: int | None) -> bool:
    return a is not None and b is not None and a <= b


def none_steps(count: int) -> bytes:
    """``count`` packed "no step" markers."""
    return _NONE_STEP * count


def has_all_steps(steps_kind: int) -> bool:
    """Whether every point of a chunk with this ``steps_kind`` has a step."""
    return steps_kind in (STEPS_ALL, STEPS_RANGE)


def packed_steps(piece: Any, low: int = 0, high: int | None = None) -> bytes:
    """Steps ``low:high`` of a chunk (Piece or row) as int64 blob, markers for None."""
    high = piece.count if high is None else high
    if piece.steps_kind == STEPS_NONE:
        return none_steps(high - low)
    if piece.steps_kind == STEPS_RANGE:
        return array("q", range(piece.step_min + low, piece.step_min + high)).tobytes()
    blob: bytes = piece.steps
    return blob if low == 0 and high * 8 == len(blob) else blob[low * 8 : high * 8]


def piece_from_row(row: Any) -> Piece:
    return Piece(**{name: row._mapping[name] for name in PIECE_COLUMNS})


# -- unpacking for reads ------------------------------------------------------------------


def unpack_values(encoding: str, blob: bytes) -> list[CellValue]:
    """The cells of a chunk as Python values of their logged types."""
    code = _ARRAY_CODE.get(encoding)
    if code is None:
        return loads_cells(blob)
    packed = array(code)
    packed.frombytes(blob)
    if encoding == "b":
        return list(map(bool, packed))
    return packed.tolist()  # type: ignore[return-value]


def unpack_steps(steps_kind: int, blob: bytes, count: int) -> list[int | None]:
    """Steps from a blob of kind ALL/MIXED/NONE (RANGE: see :func:`step_sequence`)."""
    if steps_kind == STEPS_NONE:
        return [None] * count
    packed = array("q")
    packed.frombytes(blob)
    steps: list[int | None] = packed.tolist()  # type: ignore[assignment]
    if steps_kind == STEPS_MIXED:
        steps = [None if s == STEP_NONE else s for s in steps]
    return steps


def step_sequence(steps_kind: int, blob: bytes, step_min: int | None, count: int) -> Sequence[int]:
    """Steps of a chunk as an indexable sequence (``STEP_NONE`` where a point has none)."""
    if steps_kind == STEPS_RANGE:
        assert step_min is not None
        return range(step_min, step_min + count)
    if steps_kind == STEPS_NONE:
        return array("q", none_steps(count))
    return unpack_array("q", blob)


def unpack_array(code: str, blob: bytes) -> array[Any]:
    packed = array(code)
    packed.frombytes(blob)
    return packed


def array_code(encoding: str) -> str | None:
    """The :mod:`array` type code of a packed encoding (None for JSON)."""
    return _ARRAY_CODE.get(encoding)


@functools.cache
def optional_numpy() -> Any:
    """The numpy module when it is installed (fast paths), else None."""
    try:
        import numpy
    except ImportError:
        return None
    return numpy
