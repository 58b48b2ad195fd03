"""The one wire format of metric points: the binary columnar ingest body
(``application/vnd.runtrack.columns``) and the metric name/kind check.

At the bottom layer, so the RestStore (:func:`encode`) and the server (:func:`decode`)
share one definition. A :class:`~runtrack.model.PointColumns` batch travels as its
packed arrays, so neither side builds one Python object per point::

    b"RTC1" | uint32 LE header length H | H bytes of JSON header |
    ids (4n) | steps (8n) | times (8n) | values (8n) | types (n)

The header holds ``stream``, ``first_seq``, ``n``, ``names`` (``[[id, name, kind], …]``),
``descriptions`` and ``objects`` (``[[index, value], …]`` for the points of type
``POINT_OBJECT``). :func:`decode` checks every invariant the store relies on with
C-speed operations and raises InvalidValueError/LimitExceededError naming the problem.
"""

from __future__ import annotations

import json
import struct
from array import array
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from runtrack import _rules, limits
from runtrack.errors import InvalidTypeError, InvalidValueError, LimitExceededError
from runtrack.model import POINT_OBJECT, CellValue, MetricBatch, PointColumns

MEDIA_TYPE = "application/vnd.runtrack.columns"


class PointLists(Protocol):
    """The new points of one metric name in a batch, as parallel lists."""

    kind: str
    steps: list[int | None]
    times: list[float]
    values: list[Any]


G = TypeVar("G", bound=PointLists)


def group_records(records: Sequence[Any], new_group: Callable[[str], G]) -> dict[str, G]:
    """The records ``(name, kind, step, time, value)`` of a batch by metric name, in
    order, each group made by ``new_group(kind)``; times become floats. Raises
    InvalidValueError when one name comes with two kinds or a name or kind is not
    valid, InvalidTypeError when a record is not such a five-tuple. The values and
    steps are the caller's to check (a store may check packed columns its own way)."""
    groups: dict[str, G] = {}
    try:
        for name, kind, step, stamp, value in records:
            group = groups.get(name)
            if group is None:
                group = groups[name] = new_group(kind)
            elif group.kind != kind:
                raise InvalidValueError(
                    f"metric {name!r} is {group.kind} and {kind} in one batch; a metric "
                    "holds one kind"
                )
            group.steps.append(step)
            group.times.append(float(stamp))
            group.values.append(value)
    except InvalidValueError:  # a ValueError too: not a malformed record
        raise
    except (TypeError, ValueError) as exc:
        raise InvalidTypeError(
            f"a metric record must be (name, kind, step, time, value): {exc}"
        ) from exc
    for name, group in groups.items():
        _rules.check_name(name)
        _rules.check_kind(group.kind, f"metric {name!r}: ")
    return groups
MAGIC = b"RTC1"
_BYTES_PER_POINT = 4 + 8 + 8 + 8 + 1
_MAX_HEADER = 64 << 20


def check_name_and_kind(name: Any, kind: Any, where: str) -> None:
    """Refuse a metric name or kind :mod:`runtrack._rules` refuses; ``where``
    ("records[3]: ") prefixes the message. Every layer that receives metric names
    from outside (the server, the SQL store's ingest) checks them with this."""
    try:
        _rules.check_name(name)
    except InvalidValueError as exc:  # LimitExceededError keeps its type (413)
        raise type(exc)(where + exc.message) from None
    except InvalidTypeError as exc:
        raise InvalidTypeError(where + exc.message) from None
    _rules.check_kind(kind, where)


def decode(body: bytes) -> MetricBatch:
    """The batch a columnar body carries; InvalidValueError when it is malformed."""
    if len(body) < 8 or body[:4] != MAGIC:
        raise InvalidValueError(f"a {MEDIA_TYPE} body must start with {MAGIC!r}")
    (size,) = struct.unpack_from("<I", body, 4)
    if size > min(_MAX_HEADER, len(body) - 8):
        raise InvalidValueError("the columnar header length exceeds the body")
    try:
        header = json.loads(body[8 : 8 + size])
    except ValueError as exc:
        raise InvalidValueError(f"the columnar header is not valid JSON: {exc}") from exc
    if not isinstance(header, dict):
        raise InvalidValueError("the columnar header must be a JSON object")
    stream, first_seq, n = header.get("stream"), header.get("first_seq"), header.get("n")
    if not isinstance(stream, str) or not 0 < len(stream) <= 256:
        raise InvalidValueError("header.stream must be a string of 1 to 256 characters")
    if type(first_seq) is not int or first_seq < 0:
        raise InvalidValueError("header.first_seq must be an integer >= 0")
    if type(n) is not int or n < 0:
        raise InvalidValueError("header.n must be an integer >= 0")
    if n > limits.MAX_BATCH_RECORDS:
        raise LimitExceededError(
            f"a batch holds {n} records, more than MAX_BATCH_RECORDS="
            f"{limits.MAX_BATCH_RECORDS}; split it"
        )
    if len(body) != 8 + size + n * _BYTES_PER_POINT:
        raise InvalidValueError(
            f"the body holds {len(body) - 8 - size} bytes of columns; {n} points need "
            f"{n * _BYTES_PER_POINT}"
        )
    names = _names(header.get("names"))
    descriptions = header.get("descriptions") or {}
    if not isinstance(descriptions, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in descriptions.items()
    ):
        raise InvalidValueError("header.descriptions must map metric names to strings")
    at = 8 + size
    ids, at = body[at : at + 4 * n], at + 4 * n
    steps, at = body[at : at + 8 * n], at + 8 * n
    times, at = body[at : at + 8 * n], at + 8 * n
    values, at = body[at : at + 8 * n], at + 8 * n
    types = body[at : at + n]
    if types.translate(None, b"\x00\x01\x02"):
        raise InvalidValueError("types must hold only 0 (float), 1 (int) or 2 (object)")
    used = array("I")
    used.frombytes(ids)
    if not set(used) <= names.keys():
        raise InvalidValueError("ids refer to a metric id missing from header.names")
    objects = _objects(header.get("objects"), types, n)
    columns = PointColumns(names, ids, steps, times, values, types, objects)
    return MetricBatch.from_columns(stream, first_seq, columns, descriptions)


def encode(batch: MetricBatch, columns: PointColumns) -> bytes:
    """The columnar body of ``batch`` whose points are ``columns`` (bytes or numpy
    arrays: their buffers are joined as they are)."""
    header = {
        "stream": batch.stream, "first_seq": batch.first_seq, "n": len(columns),
        "names": [[i, name, kind] for i, (name, kind) in columns.names.items()],
        "descriptions": batch.descriptions,
        "objects": [[i, v] for i, v in columns.objects.items()],
    }
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    return b"".join([MAGIC, struct.pack("<I", len(raw)), raw, columns.ids, columns.steps,
                     columns.times, columns.values, columns.types])


def _names(raw: Any) -> dict[int, tuple[str, str]]:
    if not isinstance(raw, list):
        raise InvalidValueError("header.names must be a list of [id, name, kind]")
    names: dict[int, tuple[str, str]] = {}
    for item in raw:
        if not (isinstance(item, list) and len(item) == 3):
            raise InvalidValueError("header.names entries must be [id, name, kind]")
        key, name, kind = item
        if type(key) is not int or not 0 <= key < 2**32:
            raise InvalidValueError(f"metric id {key!r} must be an unsigned 32-bit integer")
        check_name_and_kind(name, kind, "")
        names[key] = (name, kind)
    return names


def _objects(raw: Any, types: bytes, n: int) -> dict[int, CellValue]:
    raw = raw or []
    if not isinstance(raw, list):
        raise InvalidValueError("header.objects must be a list of [index, value]")
    objects: dict[int, CellValue] = {}
    for item in raw:
        if not (isinstance(item, list) and len(item) == 2):
            raise InvalidValueError("header.objects entries must be [index, value]")
        index, value = item
        if type(index) is not int or not 0 <= index < n or types[index] != POINT_OBJECT:
            raise InvalidValueError(f"header.objects index {index!r} is not an object point")
        objects[index] = value
    if len(objects) != types.count(POINT_OBJECT):
        raise InvalidValueError("every point of type 2 needs its value in header.objects")
    return objects
