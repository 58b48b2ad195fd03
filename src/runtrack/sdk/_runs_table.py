"""``Experiment.search_runs``: one row per run, metric summaries as columns.

Two store calls whatever the number of runs: ``search_runs`` (the runs with their tags
and properties) and the scalar series summaries, no point read
(``store.readers.scalar_summaries``: plain tuples where the store is a
``MetricTableReader``, else taken from ``get_summaries``).
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
from runtrack.model import RunInfo, RunQuery
from runtrack.store.base import TrackingStore
from runtrack.store.readers import ScalarSummary, scalar_summaries

RUN_COLUMNS = (
    "run_id", "display_name", "number", "status", "run_type", "parent_id",
    "created_time", "start_time", "end_time",
)


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
    ids = [r.id for r in found]
    cells = scalar_summaries(store, ids, metrics, system=False) if found else []
    columns = _columns(found, cells, metrics)
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


def _columns(
    found: list[RunInfo], cells: list[ScalarSummary], wanted: Sequence[str] | None
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
    seen = {cell.name for cell in cells}
    names = [n for n in wanted if n in seen] if wanted is not None else sorted(seen)
    row_of = {run_id: i for i, run_id in enumerate(columns["run_id"])}
    empty: list[Any] = [None] * len(found)
    by_name = {name: (empty.copy(), empty.copy(), empty.copy()) for name in names}
    for cell in cells:
        row = row_of[cell.run_id]
        lasts, lows, highs = by_name[cell.name]
        lasts[row], lows[row], highs[row] = cell.last_value, cell.minimum, cell.maximum
    for name in names:
        lasts, lows, highs = by_name[name]
        columns[f"metrics.{name}"] = lasts
        columns[f"metrics_min.{name}"] = lows
        columns[f"metrics_max.{name}"] = highs
    for prefix, side in (("properties", "properties"), ("tags", "tags")):
        keys = sorted({k for r in found for k in getattr(r, side)})
        for key in keys:
            columns[f"{prefix}.{key}"] = [getattr(r, side).get(key) for r in found]
    return columns
