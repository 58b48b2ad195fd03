"""``Experiment.search_runs``: one row per run, metric summaries as columns.

Two store calls whatever the number of runs: ``search_runs`` (the runs with their tags
and properties) and ``get_summaries`` (every run's series summaries, no point read).
Columns, in this order: the run's fields (:data:`RUN_COLUMNS`), then
``metrics.<name>`` (the last value logged), ``metrics_min.<name>`` and
``metrics_max.<name>`` (over the numeric values) of each scalar metric, then
``properties.<key>`` and ``tags.<key>``, names sorted within each group. A run without
a metric, property or tag holds None there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runtrack.errors import InvalidTypeError
from runtrack.model import MetricKind, RunInfo, RunQuery, SeriesInfo
from runtrack.store.base import TrackingStore

RUN_COLUMNS = (
    "run_id", "display_name", "number", "status", "run_type", "parent_id",
    "created_time", "start_time", "end_time",
)
#: metrics under this prefix (system metrics) are left out unless named
_SYSTEM_PREFIX = "sys/"


def runs_table(
    store: TrackingStore, query: RunQuery, metrics: Sequence[str] | None, frame: bool | None
) -> Any:
    """The table (see the module docstring): a pandas DataFrame when ``frame`` is True,
    or None and pandas imports; else a list of row dicts."""
    if metrics is not None and (
        isinstance(metrics, str) or not all(isinstance(m, str) for m in metrics)
    ):
        raise InvalidTypeError(
            f"metrics must be a list of metric names, got {metrics!r} (e.g. ['loss', 'acc'])"
        )
    pandas = _pandas(frame)
    found = store.search_runs(query)
    summaries = store.get_summaries([r.id for r in found], metrics) if found else {}
    names = _metric_names(summaries, metrics)
    columns = _columns(found, summaries, names)
    if pandas is not None:
        return pandas.DataFrame(columns, columns=list(columns))
    keys = list(columns)
    return [dict(zip(keys, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def _pandas(frame: bool | None) -> Any:
    if frame is False:
        return None
    try:
        import pandas  # type: ignore[import-untyped,unused-ignore]
    except ImportError as exc:
        if frame:
            raise ImportError(
                "search_runs(frame=True) needs pandas: pip install pandas, or pass "
                "frame=False for a list of dicts"
            ) from exc
        return None
    return pandas


def _metric_names(
    summaries: dict[str, dict[str, SeriesInfo]], wanted: Sequence[str] | None
) -> list[str]:
    seen: set[str] = set()
    for by_name in summaries.values():
        seen.update(name for name, s in by_name.items() if s.kind is MetricKind.SCALAR)
    if wanted is not None:
        return [name for name in wanted if name in seen]
    return sorted(name for name in seen if not name.startswith(_SYSTEM_PREFIX))


def _columns(
    found: list[RunInfo], summaries: dict[str, dict[str, SeriesInfo]], names: list[str]
) -> dict[str, list[Any]]:
    columns: dict[str, list[Any]] = {
        "run_id": [r.id for r in found],
        "display_name": [r.display_name for r in found],
        "number": [r.number for r in found],
        "status": [r.status.value for r in found],
        "run_type": [r.run_type for r in found],
        "parent_id": [r.parent_id for r in found],
        "created_time": [r.created_time for r in found],
        "start_time": [r.start_time for r in found],
        "end_time": [r.end_time for r in found],
    }
    per_run = [summaries.get(r.id, {}) for r in found]
    for name in names:
        infos = [s if (s := by_name.get(name)) and s.kind is MetricKind.SCALAR else None
                 for by_name in per_run]
        columns[f"metrics.{name}"] = [None if s is None else s.last_value for s in infos]
        columns[f"metrics_min.{name}"] = [None if s is None else s.minimum for s in infos]
        columns[f"metrics_max.{name}"] = [None if s is None else s.maximum for s in infos]
    for prefix, side in (("properties", "properties"), ("tags", "tags")):
        keys = sorted({k for r in found for k in getattr(r, side)})
        for key in keys:
            columns[f"{prefix}.{key}"] = [getattr(r, side).get(key) for r in found]
    return columns
