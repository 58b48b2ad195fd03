"""What a metric record may hold: the checks every entry point that does not go through
the SDK applies (the ``/api/v1`` ingest in JSON and columnar form, the MLflow routes).

They refuse what ``Run.log*`` refuses (``runtrack.sdk._values``), with the same error
types, so a value stored through a server could also have been logged locally:

* a metric or column name is a str of 1 to ``MAX_METRIC_NAME_LENGTH`` characters, not
  blank, without control characters (NUL included) or lone surrogates;
* a cell is None, a bool, an int in the signed 64-bit range, a float, or a str of at most
  ``MAX_STRING_VALUE_LENGTH`` characters that UTF-8 can store;
* by kind, a record's value is a cell (``scalar``, ``list``), a row — an object of 1 to
  ``MAX_TABLE_COLUMNS`` named cells — (``table``), or the artifact path of the file
  behind it, a str (``image`` and the other artifact kinds);
* a step is None or an int in ``(-2**63, 2**63 - 1]`` (``-2**63`` means "no step").

That one name keeps one kind within a run is checked by the store, which knows what is
stored (:meth:`runtrack.store.base.TrackingStore.ingest`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runtrack import limits
from runtrack.errors import InvalidTypeError, InvalidValueError, LimitExceededError
from runtrack.model import MetricKind

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
KINDS = frozenset(k.value for k in MetricKind)
#: the namespace of system metrics (``sys/<source>/<quantity>``): kept out of
#: ``get_metrics()`` and the metric columns, shown on the System tab
SYSTEM_PREFIX = "sys/"
_CELL_KINDS = frozenset({MetricKind.SCALAR.value, MetricKind.LIST.value})
_TABLE = MetricKind.TABLE.value
_PLAIN = frozenset({float, bool, type(None)})
_CELLS = frozenset({float, bool, type(None), int, str})


def check_name(name: Any, what: str = "metric") -> str:
    """``name`` if it may name a metric (or, with ``what="column"``, a table column)."""
    if not isinstance(name, str):
        raise InvalidTypeError(f"{what} name must be a string, got {type(name).__name__}")
    if not name.strip():
        raise InvalidValueError(f"{what} name {name!r} must not be empty or blank")
    if len(name) > limits.MAX_METRIC_NAME_LENGTH:
        raise LimitExceededError(
            f"{what} name {name[:40]!r}… is {len(name)} characters, more than "
            f"MAX_METRIC_NAME_LENGTH={limits.MAX_METRIC_NAME_LENGTH}"
        )
    # printable ASCII (the usual name) holds no control character: two C calls
    if not (name.isascii() and name.isprintable()) and any(ord(c) < 32 for c in name):
        raise InvalidValueError(
            f"{what} name {name[:80]!r} contains control characters (NUL, tab, newline…); "
            "remove them"
        )
    if not name.isascii():
        check_text(name, f"{what} name")
    return name


def check_kind(kind: Any, where: str = "") -> str:
    if kind not in KINDS:
        raise InvalidValueError(
            f"{where}unknown metric kind {str(kind)[:40]!r}; use one of {', '.join(sorted(KINDS))}"
        )
    return str(kind)


def check_cell(value: Any, where: str) -> None:
    """Refuse a value a metric point cannot hold (``where`` names it in the message)."""
    kind = type(value)
    if kind is float or kind is bool or value is None:
        return
    if kind is int:
        if not INT64_MIN <= value <= INT64_MAX:
            raise InvalidValueError(
                f"{where} is {value}, outside the signed 64-bit range [-2**63, 2**63-1]: send "
                "it as a float or a string"
            )
        return
    if kind is str:
        if len(value) > limits.MAX_STRING_VALUE_LENGTH:
            raise LimitExceededError(
                f"{where} is a string of {len(value)} characters, more than "
                f"MAX_STRING_VALUE_LENGTH={limits.MAX_STRING_VALUE_LENGTH}: upload long text "
                "as a file"
            )
        if not value.isascii():
            check_text(value, where)
        return
    raise InvalidTypeError(
        f"{where} is a {kind.__name__}; a metric point holds a number, string, boolean or null"
    )


def check_value(kind: str, value: Any, where: str) -> None:
    """Refuse ``value`` unless a record of metric kind ``kind`` may hold it."""
    if kind in _CELL_KINDS:
        if type(value) is dict:
            raise InvalidTypeError(
                f"{where}: a {kind} metric holds single values, not a row of columns; log "
                "rows under a table metric"
            )
        check_cell(value, f"{where}: the value")
    elif kind == _TABLE:
        if type(value) is not dict:
            raise InvalidTypeError(
                f"{where}: a table metric holds rows (an object of column -> value), not "
                f"{str(value)[:40]!r}; log single values under a scalar or list metric"
            )
        if not value:
            raise InvalidValueError(f"{where}: a table row needs at least one column")
        if len(value) > limits.MAX_TABLE_COLUMNS:
            raise LimitExceededError(
                f"{where}: a row of {len(value)} columns, more than "
                f"MAX_TABLE_COLUMNS={limits.MAX_TABLE_COLUMNS}"
            )
        for column, cell in value.items():
            _check_column(column, where)
            check_cell(cell, f"{where}: column {column!r}")
    elif type(value) is not str or not value:
        raise InvalidTypeError(
            f"{where}: a {kind} metric holds the artifact path of its file (a string)"
        )
    elif not value.isascii():
        check_text(value, f"{where}: the artifact path")


def check_values(kind: str, values: Sequence[Any], where: str) -> None:
    """:func:`check_value` for each of ``values``, at C speed for plain numbers."""
    if kind in _CELL_KINDS:
        _check_cells(values, where, kind)
    elif kind == _TABLE:
        columns: set[Any] = set()
        cells: list[Any] = []
        for row in values:
            if type(row) is not dict or not 0 < len(row) <= limits.MAX_TABLE_COLUMNS:
                check_value(kind, row, where)  # raises, naming the problem
            columns.update(row)
            cells.extend(row.values())
        for column in columns:
            _check_column(column, where)
        _check_cells(cells, where, None)
    else:
        for value in values:
            check_value(kind, value, where)


def _check_cells(values: Sequence[Any], where: str, kind: str | None) -> None:
    found = set(map(type, values))
    if found <= _PLAIN:
        return
    if int in found:
        ints = [v for v in values if type(v) is int]
        if min(ints) < INT64_MIN or max(ints) > INT64_MAX:
            for number in ints:
                check_cell(number, f"{where}: a value")
    if str in found:
        texts = [v for v in values if type(v) is str]
        if max(map(len, texts)) > limits.MAX_STRING_VALUE_LENGTH or not all(
            t.isascii() for t in texts
        ):
            for text in texts:
                check_cell(text, f"{where}: a value")
    if not found <= _CELLS:
        _check_others(values, where, kind)


def _check_others(values: Sequence[Any], where: str, kind: str | None) -> None:
    for value in values:
        if type(value) not in _CELLS:
            if kind is None:
                check_cell(value, f"{where}: a cell")
            else:
                check_value(kind, value, where)


def _check_column(column: Any, where: str) -> None:
    try:
        check_name(column, "column")
    except (InvalidValueError, InvalidTypeError) as exc:  # LimitExceededError keeps its type
        raise type(exc)(f"{where}: {exc.message}") from None


def check_steps(steps: Sequence[Any], where: str) -> None:
    """:func:`check_step` for each of ``steps``, at C speed for plain ints."""
    given = [s for s in steps if s is not None]
    if given and (
        set(map(type, given)) != {int} or min(given) <= INT64_MIN or max(given) > INT64_MAX
    ):
        for step in given:
            check_step(step, where)


def check_step(step: Any, where: str) -> None:
    if step is not None and (type(step) is not int or not INT64_MIN < step <= INT64_MAX):
        raise InvalidValueError(
            f"{where}: step must be null or an integer in (-2**63, 2**63-1], got "
            f"{str(step)[:40]}"
        )


def check_text(text: str, what: str) -> str:
    """``text`` if UTF-8 can store it. A lone surrogate (what ``os.fsdecode`` makes of
    undecodable bytes) is refused, so local and remote workspaces agree."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidValueError(
            f"{what} {text[:40]!r} holds a lone surrogate ({text[exc.start]!r} at position "
            f"{exc.start}), which UTF-8 cannot store; it usually comes from os.fsdecode() of "
            "a non-UTF-8 file name: decode the bytes with errors='replace' instead"
        ) from None
    return text
