"""``Experiment.search_runs``: one row per run, metric summaries as columns.

One store read whatever the number of runs, no point read: the runs' fields, tags,
properties and scalar series summaries as plain tuples where the store is a
``store.readers.RunTableReader`` (one read transaction), else ``search_runs`` and
the series summaries (``store.readers.run_table``).
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
from runtrack.model import RunQuery
from runtrack.store.base import TrackingStore
from runtrack.store.readers import RUN_TABLE_COLUMNS, RunTable, run_table

RUN_COLUMNS = RUN_TABLE_COLUMNS


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
    columns = _columns(run_table(store, query, metrics, system=False), metrics)
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


def _columns(table: RunTable, wanted: Sequence[str] | None) -> dict[str, list[Any]]:
    """The table's columns, filled column by column from the store's tuples."""
    if table.runs:
        columns = dict(zip(RUN_COLUMNS, map(list, zip(*table.runs, strict=True)), strict=True))
    else:
        columns = {name: [] for name in RUN_COLUMNS}
    size = len(table.runs)
    row_of = {run_id: i for i, run_id in enumerate(columns["run_id"])}
    empty: list[Any] = [None] * size
    seen = {cell[1] for cell in table.cells}
    names = [n for n in wanted if n in seen] if wanted is not None else sorted(seen)
    by_name = {name: (empty.copy(), empty.copy(), empty.copy()) for name in names}
    for run_id, name, last, low, high in table.cells:
        row = row_of[run_id]
        lasts, lows, highs = by_name[name]
        lasts[row], lows[row], highs[row] = last, low, high
    for name in names:
        lasts, lows, highs = by_name[name]
        columns[f"metrics.{name}"] = lasts
        columns[f"metrics_min.{name}"] = lows
        columns[f"metrics_max.{name}"] = highs
    for prefix, side in (("properties", table.properties), ("tags", table.tags)):
        filled: dict[str, list[Any]] = {}
        for run_id, key, value in side:
            column = filled.get(key)
            if column is None:
                column = filled[key] = empty.copy()
            column[row_of[run_id]] = value
        for key in sorted(filled):
            columns[f"{prefix}.{key}"] = filled[key]
    return columns
