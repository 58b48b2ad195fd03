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

from typing import Any

from runtrack import limits
from runtrack.errors import InvalidTypeError, InvalidValueError, LimitExceededError
from runtrack.model import MetricKind

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
KINDS = frozenset(k.value for k in MetricKind)
_CELL_KINDS = frozenset({MetricKind.SCALAR.value, MetricKind.LIST.value})
_TABLE = MetricKind.TABLE.value


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
    if any(ord(c) < 32 for c in name):
        raise InvalidValueError(
            f"{what} name {name[:80]!r} contains control characters (NUL, tab, newline…); "
            "remove them"
        )
    if not name.isascii():
        _check_utf8(name, f"{what} name")
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
            _check_utf8(value, where)
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
            try:
                check_name(column, "column")
            except (InvalidValueError, InvalidTypeError) as exc:
                raise type(exc)(f"{where}: {exc.message}") from None
            check_cell(cell, f"{where}: column {column!r}")
    elif type(value) is not str or not value:
        raise InvalidTypeError(
            f"{where}: a {kind} metric holds the artifact path of its file (a string)"
        )
    elif not value.isascii():
        _check_utf8(value, f"{where}: the artifact path")


def check_step(step: Any, where: str) -> None:
    if step is not None and (type(step) is not int or not INT64_MIN < step <= INT64_MAX):
        raise InvalidValueError(
            f"{where}: step must be null or an integer in (-2**63, 2**63-1], got "
            f"{str(step)[:40]}"
        )


def _check_utf8(text: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidValueError(
            f"{what} {text[:40]!r} holds a lone surrogate at position {exc.start}, which "
            "UTF-8 cannot store; decode file names with errors='replace'"
        ) from None
