"""Metric histories of many runs at once, for MLflow's web UI charts.

* ``GET metrics/get-history-bulk`` — every point of one metric for up to 100 runs
  (``run_id`` repeated), each run's points by (timestamp, step, value);
* ``GET metrics/get-history-bulk-interval`` — the chart route: for up to 100 runs
  (``run_ids``), at most ``max_results`` (1 to 2,500) sampled steps per run within
  ``start_step``..``end_step``. Sampling follows MLflow: evenly spaced over the steps
  the runs logged, always keeping each run's first and last step, so charts of runs
  with different lengths keep their ends.
"""

from __future__ import annotations

import bisect
import math
from typing import Any

from fastapi import APIRouter

from runtrack.errors import NotFoundError
from runtrack.model import MetricKind
from runtrack.server.mlflow import convert
from runtrack.server.mlflow._endpoint import Args, Ctx, endpoint
from runtrack.server.mlflow._errors import MlflowRoute, invalid
from runtrack.server.mlflow.runs import load_run

router = APIRouter(prefix="/api/2.0/mlflow", route_class=MlflowRoute, tags=["mlflow"])

MAX_RUNS = 100
MAX_BULK_RESULTS = 25_000
MAX_INTERVAL_RESULTS = 2500

#: One point as MLflow sorts it: (step, timestamp ms, value).
_Point = tuple[int, int, float]


def points(ctx: Ctx, run_id: str, key: str) -> list[_Point]:
    """The numeric points of ``key`` in run ``run_id`` (none when it has no such metric)."""
    load_run(ctx, run_id)
    try:
        data = ctx.store.read_series(run_id, key)
    except NotFoundError:
        return []
    if data.kind is not MetricKind.SCALAR:
        return []
    out: list[_Point] = []
    for step, stamp, value in zip(data.steps, data.times, data.values, strict=True):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        out.append((step or 0, convert.ms(stamp) or 0, float(value)))
    return out


def _sort_key(value: float) -> float:
    return -math.inf if math.isnan(value) else value


def _wire(key: str, run_id: str, point: _Point) -> dict[str, Any]:
    step, stamp, value = point
    return {"key": key, "value": convert.wire_number(value), "timestamp": stamp,
            "step": step, "run_id": run_id}


def _run_ids(args: Args, name: str, what: str) -> list[str]:
    run_ids = args.strings(name)
    if not run_ids:
        raise invalid(f"{what} request must specify at least one run_id.")
    if len(run_ids) > MAX_RUNS:
        raise invalid(
            f"{what} request cannot specify more than {MAX_RUNS} run_ids. "
            f"Received {len(run_ids)} run_ids."
        )
    return run_ids


@endpoint(router, "GET", "/metrics/get-history-bulk")
def get_history_bulk(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Every point of one metric for several runs (at most 25,000 in all)."""
    run_ids = _run_ids(args, "run_id", "GetMetricHistoryBulk")
    key = args.text("metric_key")
    if not key:
        raise invalid("GetMetricHistoryBulk request must specify a metric_key.")
    limit = min(args.integer("max_results", default=MAX_BULK_RESULTS) or 0, MAX_BULK_RESULTS)
    out: list[dict[str, Any]] = []
    for run_id in sorted(set(run_ids)):
        found = sorted(points(ctx, run_id, key), key=lambda p: (p[1], p[0], _sort_key(p[2])))
        out.extend(_wire(key, run_id, p) for p in found)
        if len(out) >= limit:
            break
    return {"metrics": out[:max(limit, 0)]}


def _evenly(total: int, count: int) -> list[int]:
    """At most ``count`` evenly spaced indices into ``total`` items, first and last kept."""
    if total <= count:
        return list(range(total))
    if count == 1:
        return [total - 1]
    stride = (total - 1) / (count - 1)
    return sorted({round(i * stride) for i in range(count)})


def sample_steps(histories: list[list[_Point]], start: int | None, end: int | None,
                 count: int) -> list[int]:
    """The steps to chart: ``count`` evenly over the logged steps in range, plus every
    run's first and last step (when in range)."""
    ends = {s for h in histories if h for s in (min(p[0] for p in h), max(p[0] for p in h))}
    steps = sorted({p[0] for h in histories for p in h})
    if start is None or end is None:
        start, end = 0, steps[-1] if steps else 0
    lo, hi = bisect.bisect_left(steps, start), bisect.bisect_right(steps, end)
    if hi - lo <= count:
        picked = set(steps[lo:hi])
    else:
        stride = (hi - lo) / count
        picked = {steps[lo + int(i * stride)] for i in range(count)}
        picked.add(steps[hi - 1])
    return sorted(picked | {s for s in ends if start <= s <= end})


@endpoint(router, "GET", "/metrics/get-history-bulk-interval")
def get_history_bulk_interval(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Sampled points of one metric for several runs (MLflow's chart route)."""
    run_ids = _run_ids(args, "run_ids", "GetMetricHistoryBulkInterval")
    key = args.text("metric_key", required=True)
    count = args.integer("max_results", default=MAX_INTERVAL_RESULTS) or 0
    if not 1 <= count <= MAX_INTERVAL_RESULTS:
        raise invalid(f"max_results must be between 1 and {MAX_INTERVAL_RESULTS}.")
    start, end = args.integer("start_step"), args.integer("end_step")
    if (start is None) != (end is None):
        raise invalid("If either start step or end step are specified, both must be specified.")
    if start is not None and end is not None and start > end:
        raise invalid(
            "end_step must be greater than start_step. "
            f"Found start_step={start} and end_step={end}."
        )
    histories = [points(ctx, run_id, key) for run_id in run_ids]
    wanted = set(sample_steps(histories, start, end, count))
    out: list[dict[str, Any]] = []
    for run_id, history in zip(run_ids, histories, strict=True):
        rows = sorted((p for p in history if p[0] in wanted),
                      key=lambda p: (p[0], p[1], _sort_key(p[2])))
        rows = [rows[i] for i in _evenly(len(rows), max(len(wanted), 1))]
        out.extend(_wire(key, run_id, p) for p in rows)
    return {"metrics": out}
