"""Check and convert what users log, at the call, with messages that say what to do.

Accepted scalars: bool, int, float (NaN and ±inf included), str, None, and numpy
scalars of every width (converted to the matching Python type, so ``np.int64`` stays
an int, unlike Azure ML where it became a string).
"""

from __future__ import annotations

import types
from collections.abc import Iterable, Mapping
from typing import Any

from runtrack import limits
from runtrack._rules import check_name, check_text
from runtrack.errors import InvalidTypeError, InvalidValueError, LimitExceededError
from runtrack.types import Scalar

_NATIVE = (bool, int, float, str, type(None))
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_SEQUENCES = (list, tuple, range, set, frozenset, types.GeneratorType)


def check_document_name(name: str) -> str:
    """A document metric's name is also its file path in the run: refuse a name whose
    path has empty, ``.`` or ``..`` parts (a local folder and a server would resolve it
    differently)."""
    parts = name.replace("\\", "/").split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise InvalidValueError(
            f"metric name {name!r} is also the file path of its document in the run; it "
            "must not start or end with '/', nor have '//', '.' or '..' parts"
        )
    return name


def _numpy_scalar(value: Any, metric: str, where: str) -> Scalar | None:
    """Python value of a numpy scalar, or None if ``value`` is not one."""
    module = type(value).__module__
    if module != "numpy" or not hasattr(value, "item") or getattr(value, "ndim", 1) != 0:
        return None
    kind = getattr(getattr(value, "dtype", None), "kind", "")
    if kind and kind in "mMVSO":
        raise InvalidTypeError(
            f"cannot log {where} {_short(value)} of numpy type {type(value).__name__} for "
            f"metric {metric!r}: convert a date or duration with str() (or to a number "
            "with .astype('int64') / .astype(float))"
        )
    item = value.item()
    if isinstance(item, _NATIVE):
        return item  # type: ignore[no-any-return]
    return float(value)  # longdouble and friends


def scalar(value: Any, metric: str, where: str = "value") -> Scalar:
    """``value`` as a storable scalar, or a clear error naming ``metric``.

    Every check happens here, before a byte reaches the spool: ints must fit a signed
    64-bit integer (as in the store and MLflow), strings must be storable as UTF-8.
    """
    if isinstance(value, _NATIVE):
        if isinstance(value, str):
            if len(value) > limits.MAX_STRING_VALUE_LENGTH:
                raise LimitExceededError(
                    f"{where} of metric {metric!r} is a string of {len(value)} characters; "
                    f"the limit is {limits.MAX_STRING_VALUE_LENGTH}: upload long text as a "
                    "file with run.upload_file()"
                )
            if not value.isascii():
                check_text(value, f"{where} of metric {metric!r}:")
        elif isinstance(value, int) and not _INT64_MIN <= value <= _INT64_MAX:
            raise LimitExceededError(
                f"{where} of metric {metric!r} is {value}, outside the signed 64-bit range "
                f"[-2**63, 2**63-1] runtrack stores exactly: log float(value) or str(value)"
            )
        return value  # type: ignore[no-any-return]
    converted = _numpy_scalar(value, metric, where)
    if converted is not None:
        return scalar(converted, metric, where)
    if type(value).__module__ == "numpy" and getattr(value, "ndim", 0) == 0:
        return None if value.item() is None else scalar(str(value), metric, where)
    raise InvalidTypeError(
        f"cannot log {where} {_short(value)} of type {type(value).__name__} for metric "
        f"{metric!r}: use a bool, int, float, str or None (convert it with float() or str())"
    )


def log_value(value: Any, metric: str) -> Scalar:
    """Check the value of ``run.log()``: a scalar, never a sequence."""
    if isinstance(value, _SEQUENCES) or _is_array(value) or callable_generator(value):
        raise InvalidTypeError(
            f"run.log() got a {type(value).__name__} for metric {metric!r}; it logs one "
            "scalar per call: use run.log_list(name, values) for a list of values"
        )
    return scalar(value, metric)


def callable_generator(value: Any) -> bool:
    import inspect

    return inspect.isgeneratorfunction(value)


def float_array(value: Any) -> bool:
    """Whether ``value`` is a 1-D numpy array of floats (logged as one packed block)."""
    return _is_array(value) and value.ndim == 1 and value.dtype.kind == "f"


def _is_array(value: Any) -> bool:
    return type(value).__module__ == "numpy" and getattr(value, "ndim", 0) >= 1


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def list_values(values: Any, metric: str) -> list[Scalar]:
    """Elements of ``log_list``: any iterable of scalars (numpy arrays in bulk)."""
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        raise InvalidTypeError(
            f"log_list() needs an iterable of values for metric {metric!r}, got "
            f"{type(values).__name__}: use run.log() for a single value"
        )
    if _is_array(values):
        array: Any = values
        if array.ndim != 1:
            raise InvalidValueError(
                f"log_list() got a {array.ndim}-dimensional array for metric {metric!r}; "
                "pass a 1-D array (use log_table for 2-D data)"
            )
        if array.dtype.kind in "fib":
            return array.tolist()  # type: ignore[no-any-return]
        if array.dtype.kind == "u" and (array.dtype.itemsize < 8 or not len(array)
                                        or int(array.max()) <= _INT64_MAX):
            return array.tolist()  # type: ignore[no-any-return]
    out: list[Scalar] = []
    for i, item in enumerate(values):
        if isinstance(item, _SEQUENCES) or _is_array(item) or isinstance(item, Mapping):
            raise InvalidTypeError(
                f"element {i} of log_list metric {metric!r} is a {type(item).__name__}; "
                "elements must be scalars (use log_table for rows of several values)"
            )
        out.append(scalar(item, metric, f"element {i}"))
    return out


def row(cells: Mapping[str, Any], metric: str) -> dict[str, Scalar]:
    if not cells:
        raise InvalidValueError(
            f"log_row() for metric {metric!r} got no columns: pass them as keywords, "
            "e.g. run.log_row(name, x=1, y=2)"
        )
    if len(cells) > limits.MAX_TABLE_COLUMNS:
        raise LimitExceededError(
            f"metric {metric!r} has {len(cells)} columns; the limit is {limits.MAX_TABLE_COLUMNS}"
        )
    out: dict[str, Scalar] = {}
    for column, value in cells.items():
        check_name(column, "column")
        if isinstance(value, _SEQUENCES) or _is_array(value) or isinstance(value, Mapping):
            raise InvalidTypeError(
                f"column {column!r} of metric {metric!r} got a {type(value).__name__}; a row "
                "holds one scalar per column: use run.log_table() for whole columns"
            )
        out[column] = scalar(value, metric, f"column {column!r}")
    return out


def table_rows(table: Any, metric: str) -> list[dict[str, Scalar]]:
    """Rows of ``log_table``: a dict column -> list (a scalar is a 1-long column)."""
    if not isinstance(table, Mapping):
        raise InvalidTypeError(
            f"log_table() needs a dict of column name -> list of values for metric "
            f"{metric!r}, got {type(table).__name__}"
        )
    columns: dict[str, list[Scalar]] = {}
    for column, values in table.items():
        check_name(column, "column")
        if isinstance(values, (list, tuple)) or _is_array(values):
            columns[column] = list_values(values, metric)
        else:
            columns[column] = [scalar(values, metric, f"column {column!r}")]
    lengths = {c: len(v) for c, v in columns.items()}
    if len(set(lengths.values())) > 1:
        raise InvalidValueError(
            f"columns of table metric {metric!r} have different lengths {lengths}; "
            "every column needs one value per row"
        )
    if len(columns) > limits.MAX_TABLE_COLUMNS:
        raise LimitExceededError(
            f"metric {metric!r} has {len(columns)} columns; the limit is {limits.MAX_TABLE_COLUMNS}"
        )
    names = list(columns)
    n = next(iter(lengths.values()), 0)
    return [{c: columns[c][i] for c in names} for i in range(n)]


def tag_value(value: Any) -> str | None:
    """Tags and properties are strings; other values are converted with str()."""
    return None if value is None else value if isinstance(value, str) else str(value)
