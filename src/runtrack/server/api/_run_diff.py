"""Runs side by side (``GET /api/v1/views/diff?run=…&run=…``, the page ``/diff``).

For 2 to :data:`MAX_DIFF_RUNS` runs: each property, tag and scalar metric summary
(last, min, max) as one row with a value per run (None where a run lacks it), and
``differs`` set when the runs do not all have the same value. Rows that differ come
first, then the rest, each group by key.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from runtrack.errors import InvalidValueError
from runtrack.model import RunInfo
from runtrack.server.api._runs_table import run_row
from runtrack.store.base import TrackingStore

MAX_DIFF_RUNS = 10


def _rows(keys: set[str], value: Callable[[str, int], Any], count: int) -> list[dict[str, Any]]:
    rows = []
    for key in sorted(keys):
        values = [value(key, i) for i in range(count)]
        rows.append({"key": key, "values": values,
                     "differs": any(v != values[0] for v in values[1:])})
    rows.sort(key=lambda r: not r["differs"])
    return rows


def _attribute(run: RunInfo, key: str) -> str:
    if key == "status":
        return run.status.value
    return run.run_type if key == "run_type" else run.experiment_name


def run_diff(store: TrackingStore, run_ids: Sequence[str]) -> dict[str, Any]:
    ids = list(dict.fromkeys(run_ids))
    if not 2 <= len(ids) <= MAX_DIFF_RUNS:
        raise InvalidValueError(
            f"a diff compares 2 to {MAX_DIFF_RUNS} different runs, got {len(ids)}: "
            "pass run=<id> once per run"
        )
    runs: list[RunInfo] = [store.get_run(i) for i in ids]
    summaries = store.get_summaries(ids)
    scalars = [{n: s for n, s in summaries.get(r.id, {}).items() if s.kind.value == "scalar"}
               for r in runs]
    metric_rows = []
    names = {n for per_run in scalars for n in per_run}
    for agg, field in (("last", "last"), ("min", "minimum"), ("max", "maximum")):

        def summary(name: str, i: int, field: str = field) -> Any:
            return getattr(scalars[i].get(name), field, None)

        for row in _rows(names, summary, len(runs)):
            metric_rows.append({**row, "key": f"{row['key']} ({agg})"})
    metric_rows.sort(key=lambda r: (not r["differs"], r["key"]))
    return {
        "runs": [run_row(r) for r in runs],
        "attributes": _rows({"status", "run_type", "experiment"},
                            lambda k, i: _attribute(runs[i], k), len(runs)),
        "properties": _rows({k for r in runs for k in r.properties},
                            lambda k, i: runs[i].properties.get(k), len(runs)),
        "tags": _rows({k for r in runs for k in r.tags},
                      lambda k, i: runs[i].tags.get(k), len(runs)),
        "metrics": metric_rows,
    }
