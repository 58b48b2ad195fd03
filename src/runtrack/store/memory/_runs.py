"""Experiments and runs held as plain records, and run search over them.

Search follows :class:`~runtrack.model.RunQuery` as ``SqlStore`` reads it: a missing
value (an unset time, a metric the run lacks, a NaN summary) never satisfies a
comparison and sorts last in either direction; ties go by run id.
"""

from __future__ import annotations

import json
import math
import operator
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from runtrack.errors import InvalidValueError
from runtrack.model import ErrorInfo, RunInfo, RunQuery, RunStatus
from runtrack.store.memory._series import Series


@dataclass
class ExperimentRecord:
    id: str
    name: str
    created_time: float
    tags: dict[str, str | None] = field(default_factory=dict)
    archived: bool = False
    next_number: int = 1


@dataclass
class RunRecord:
    id: str
    experiment: ExperimentRecord
    number: int
    display_name: str
    status: RunStatus
    run_type: str
    created_time: float
    last_activity: float
    start_time: float | None = None
    end_time: float | None = None
    parent_id: str | None = None
    description: str | None = None
    compute_target: str = "local"
    #: the definition as JSON text, so every read hands out a fresh copy
    definition: str = "{}"
    error: ErrorInfo | None = None
    tags: dict[str, str | None] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)
    #: series by name, in first-logged order
    series: dict[str, Series] = field(default_factory=dict)
    #: next expected sequence number per writer stream
    cursors: dict[str, int] = field(default_factory=dict)

    def info(self) -> RunInfo:
        return RunInfo(
            id=self.id, experiment_id=self.experiment.id,
            experiment_name=self.experiment.name, number=self.number,
            display_name=self.display_name, status=self.status, run_type=self.run_type,
            created_time=self.created_time, start_time=self.start_time,
            end_time=self.end_time, parent_id=self.parent_id, description=self.description,
            compute_target=self.compute_target, tags=dict(self.tags),
            properties=dict(self.properties), definition=json.loads(self.definition),
            error=self.error,
        )


_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "==": operator.eq, "!=": operator.ne,
}
_FIELDS = ("last", "min", "max", "top")
_ATTRIBUTES = ("created_time", "start_time", "end_time", "number", "display_name", "status",
               "run_type", "last_activity")
_CONDITION_ATTRIBUTES = ("id", "display_name", "status", "created_time", "start_time",
                         "end_time")
_CONDITION_OPS = ("=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN", "NOT IN",
                  "IS NULL", "IS NOT NULL")

Predicate = Callable[[RunRecord], bool]


def _summary(run: RunRecord, name: str, which: str) -> float | None:
    """A summary field of one of the run's series; None when missing or NaN."""
    found = run.series.get(name)
    if found is None:
        return None
    if which == "top":
        value = None if found.top is None else found.top[2]
    else:
        value = {"last": found.last, "min": found.minimum, "max": found.maximum}[which]
    return None if value is None or math.isnan(value) else value


def _attribute(run: RunRecord, key: str) -> Any:
    if key == "status":
        return run.status.value
    if key == "duration":
        if run.start_time is None:
            return None
        return (run.end_time if run.end_time is not None else time.time()) - run.start_time
    return getattr(run, key)


def _like(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """SQL's LIKE pattern (``%`` any run, ``_`` one character) as a regular expression."""
    parts = [".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern]
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _comparison(op: str, wanted: Any) -> Callable[[Any], bool]:
    """A test of one stored value; a missing (None) value passes none."""
    if op in ("LIKE", "ILIKE"):
        pattern = _like(str(wanted), op == "ILIKE")
        return lambda value: value is not None and pattern.fullmatch(str(value)) is not None
    if op in ("IN", "NOT IN"):
        choices = list(wanted)
        inside = op == "IN"
        return lambda value: value is not None and (value in choices) is inside
    if op == "IS NULL":
        return lambda value: value is None
    if op == "IS NOT NULL":
        return lambda value: value is not None
    compare = _OPS["==" if op == "=" else op]

    def test(value: Any) -> bool:
        if value is None:
            return False
        try:
            return bool(compare(value, wanted))
        except TypeError:  # a text value against a number: SQL finds no match either
            return False

    return test


def _condition(source: str, key: str, op: str, wanted: Any) -> Predicate:
    if op not in _CONDITION_OPS:
        raise InvalidValueError(f"condition op {op!r} is not one of {list(_CONDITION_OPS)}")
    if op in ("IN", "NOT IN") and not isinstance(wanted, (list, tuple)):
        raise InvalidValueError(f"condition {op} on {key!r} needs a list of values")
    test = _comparison(op, wanted)
    if source in ("tag", "property"):
        side = "tags" if source == "tag" else "properties"
        if op == "IS NULL":
            return lambda run: key not in getattr(run, side)
        if op == "IS NOT NULL":
            return lambda run: key in getattr(run, side)
        return lambda run: key in getattr(run, side) and test(getattr(run, side)[key])
    if source == "attribute" and key in _CONDITION_ATTRIBUTES:
        return lambda run: test(_attribute(run, key))
    raise InvalidValueError(
        f"condition on ({source!r}, {key!r}) is not valid: source must be tag, property or "
        f"attribute ({', '.join(_CONDITION_ATTRIBUTES)})"
    )


def _metric_filter(name: str, which: str, op: str, threshold: Any) -> Predicate:
    compare = _OPS.get(op)
    if which not in _FIELDS or compare is None:
        raise InvalidValueError(
            f"metric filter ({name!r}, {which!r}, {op!r}) is not valid: field must be "
            f"one of {sorted(_FIELDS)} and op one of {sorted(_OPS)}"
        )
    if not isinstance(threshold, (int, float)) or math.isnan(threshold):
        raise InvalidValueError(f"metric filter on {name!r} needs a number, got {threshold!r}")

    def test(run: RunRecord) -> bool:
        value = _summary(run, name, which)
        return value is not None and bool(compare(value, threshold))

    return test


def _has_all(side: str, wanted: dict[str, str | None]) -> Predicate:
    def test(run: RunRecord) -> bool:
        values: dict[str, Any] = getattr(run, side)
        return all(
            key in values and (value is None or values[key] == value)
            for key, value in wanted.items()
        )

    return test


def predicates(query: RunQuery) -> list[Predicate]:
    """The tests a run must pass to match ``query`` (InvalidValueError for a bad query)."""
    tests: list[Predicate] = []
    if query.experiment_ids is not None:
        experiments = set(query.experiment_ids)
        tests.append(lambda run: run.experiment.id in experiments)
    if query.status is not None:
        statuses = {RunStatus(s) for s in query.status}
        tests.append(lambda run: run.status in statuses)
    if query.run_type is not None:
        run_type = query.run_type
        tests.append(lambda run: run.run_type == run_type)
    if query.tags:
        tests.append(_has_all("tags", query.tags))
    if query.properties:
        tests.append(_has_all("properties", query.properties))
    tests += [_metric_filter(*f) for f in query.metric_filters]
    tests += [_condition(*c) for c in query.conditions]
    parent = query.parent_id
    if parent is not None:
        tests.append(lambda run: run.parent_id == parent)
    elif not query.include_children:
        tests.append(lambda run: run.parent_id is None)
    return tests


def _sort_key(key: str) -> Callable[[RunRecord], Any]:
    if key.startswith("metric:"):
        name, _, which = key[len("metric:") :].rpartition(":")
        if not name or which not in _FIELDS:
            raise InvalidValueError(
                f"cannot order by {key!r}: use metric:<name>:<last|min|max|top>"
            )
        return lambda run: _summary(run, name, which)
    if key == "duration" or key in _ATTRIBUTES:
        return lambda run: _attribute(run, key)
    raise InvalidValueError(
        f"cannot order runs by {key!r}: use one of {sorted([*_ATTRIBUTES, 'duration'])} "
        "or metric:<name>:<last|min|max|top>"
    )


def ordered(runs: list[RunRecord], order_by: list[tuple[str, bool]]) -> list[RunRecord]:
    """``runs`` sorted by each (key, descending) in turn, missing values last, then by id."""
    keys = [(_sort_key(key), bool(descending)) for key, descending in order_by]
    result = sorted(runs, key=lambda run: run.id)
    for value_of, descending in reversed(keys):  # stable sorts: the first key decides
        values = {run.id: value_of(run) for run in result}
        present = [run for run in result if values[run.id] is not None]
        present.sort(key=lambda run: values[run.id], reverse=descending)
        result = present + [run for run in result if values[run.id] is None]
    return result
