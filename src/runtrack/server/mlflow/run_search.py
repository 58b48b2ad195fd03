"""``runs/search`` in SQL: an MLflow filter and order_by as one :class:`RunQuery`.

Nearly every filter MLflow users write maps onto the store's query (metrics compare
their latest value, the point with the highest step; params, tags and the run's own
attributes compare in SQL), so the database filters, sorts and pages, and only one
page of runs is ever loaded. :func:`to_query` returns None for the few clauses with
no SQL twin here (tags synthesised from the run such as ``mlflow.parentRunId``,
``artifact_uri``, ordering by a param or tag, deleted runs across deleted and active
experiments at once); the route then filters those searches in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runtrack.model import RunQuery
from runtrack.server.mlflow import convert, search

_ATTRIBUTE_COLUMNS = {"run_id": "id", "run_name": "display_name"}
_TIMES = {"start_time", "end_time"}


def _statuses(op: str, value: Any) -> tuple[str, str, str, Any] | None:
    names = [value] if op in ("=", "!=") else list(value) if op in ("IN", "NOT IN") else None
    if names is None:
        return None
    wanted = [s.value for s, name in convert.TO_MLFLOW.items() if name in names]
    positive = op in ("=", "IN")
    if not wanted:
        wanted = ["\x00none"]  # no runtrack status reads as that MLflow status
    return ("attribute", "status", "IN" if positive else "NOT IN", wanted)


def _condition(clause: search.Clause) -> tuple[str, str, str, Any] | None:
    entity, key, op, value = clause.entity, clause.key, clause.op, clause.value
    if isinstance(value, tuple):
        value = list(value)
    if entity == search.PARAM:
        return ("property", key, op, value)
    if entity == search.TAG:
        if key == convert.RUN_NAME_TAG:
            return ("attribute", "display_name", op, value)
        if key in (convert.PARENT_TAG, *convert.HIDDEN_TAGS):
            return None
        return ("tag", key, op, value)
    if entity != search.ATTRIBUTE:
        return None
    if key in _ATTRIBUTE_COLUMNS:
        return ("attribute", _ATTRIBUTE_COLUMNS[key], op, value)
    if key == "user_id":
        return ("tag", convert.USER_TAG, op, value)
    if key == "status":
        return _statuses(op, value)
    if key in _TIMES:
        return ("attribute", key, op, None if value is None else convert.seconds(value))
    return None


def _order(keys: Sequence[search.OrderKey]) -> list[tuple[str, bool]] | None:
    out: list[tuple[str, bool]] = []
    for key in keys:
        if key.entity == search.METRIC:
            out.append((f"metric:{key.key}:top", key.descending))
        elif key.entity == search.ATTRIBUTE and key.key in _TIMES:
            out.append((key.key, key.descending))
        elif key.entity == search.ATTRIBUTE and key.key == "run_name":
            out.append(("display_name", key.descending))
        else:
            return None
    if not any(k == "start_time" for k, _ in out):
        out.append(("start_time", True))
    return out  # ties: run id ascending (the store's last key), as MLflow


def to_query(
    clauses: Sequence[search.Clause],
    order: Sequence[search.OrderKey],
    experiments: dict[str, bool],
    view: tuple[bool, ...],
) -> RunQuery | None:
    """The RunQuery for a search over ``experiments`` (runtrack id -> archived) that
    admits runs whose deleted flag is in ``view``; None if it has no SQL twin."""
    conditions: list[tuple[str, str, str, Any]] = []
    metric_filters: list[tuple[str, str, str, float]] = []
    archived = [e for e, gone in experiments.items() if gone]
    active = [e for e, gone in experiments.items() if not gone]
    if view == (False,):
        chosen = active
        conditions.append(("tag", convert.DELETED_TAG, "IS NULL", None))
    elif view == (True,):
        if archived and active:
            return None
        chosen = archived or active
        if not archived:
            conditions.append(("tag", convert.DELETED_TAG, "IS NOT NULL", None))
    else:
        chosen = list(experiments)
    for clause in clauses:
        if clause.entity == search.METRIC:
            op = "==" if clause.op == "=" else clause.op
            metric_filters.append((clause.key, "top", op, float(clause.value)))
            continue
        condition = _condition(clause)
        if condition is None:
            return None
        conditions.append(condition)
    order_by = _order(order)
    if order_by is None:
        return None
    return RunQuery(
        experiment_ids=chosen, include_children=True, conditions=conditions,
        metric_filters=metric_filters, order_by=order_by,
    )

