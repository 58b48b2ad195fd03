"""``/api/v1/failures`` (failed runs grouped by error) and ``/api/v1/runs/{id}/system-metrics``.

Failures: the newest :data:`MAX_FAILED_RUNS` failed runs (top-level and children,
optionally of some experiments), grouped by exception type + message (the error code
when there is no type), each group with its count, newest time, hint and newest runs;
groups newest first.

System metrics: every ``sys/…`` series of a run (see docs/system-metrics.md), each
downsampled by wall time to at most ``buckets`` points, with the quantity it measures
(``cpu_percent``…) and its source (``rank0``, ``node0``, ``node0/gpu1``), so a page
draws one chart per quantity with one line per source.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from runtrack._rules import SYSTEM_PREFIX
from runtrack.model import RunQuery, RunStatus
from runtrack.server.api._error_text import exception_message
from runtrack.server.api._runs_table import run_row
from runtrack.server.api._wire import WireJSONResponse, wire
from runtrack.server.deps import get_store
from runtrack.store.base import TrackingStore

router = APIRouter(tags=["diagnostics"], default_response_class=WireJSONResponse)

MAX_FAILED_RUNS = 5_000
RUNS_PER_GROUP = 20


def failures(store: TrackingStore, experiment_ids: list[str] | None) -> dict[str, Any]:
    """The payload of the Failures page (see the module doc)."""
    runs = store.search_runs(
        RunQuery(
            experiment_ids=experiment_ids,
            status=[RunStatus.FAILED],
            include_children=True,
            order_by=[("created_time", True)],
            limit=MAX_FAILED_RUNS,
        )
    )
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for run in runs:
        if run.error is None:
            key = ("(no error recorded)", "")
            hint = None
        else:
            key = (run.error.type or run.error.code, exception_message(run.error.message))
            hint = run.error.hint
        group = groups.get(key)
        if group is None:
            group = groups[key] = {
                "type": key[0], "message": key[1], "count": 0, "hint": hint,
                "newest": run.created_time, "runs": [],
            }
        group["count"] += 1
        if len(group["runs"]) < RUNS_PER_GROUP:
            group["runs"].append(run_row(run))
    ordered = sorted(groups.values(), key=lambda g: g["newest"], reverse=True)
    return {"groups": ordered, "failed_runs": len(runs), "capped": len(runs) >= MAX_FAILED_RUNS}


@router.get("/failures", summary="Failed runs grouped by exception type and message")
def failures_route(
    experiment: list[str] = Query(default=[]), store: TrackingStore = Depends(get_store)
) -> Any:
    return wire(failures(store, [e for e in experiment if e] or None))


def system_metrics(store: TrackingStore, run_id: str, buckets: int) -> dict[str, Any]:
    """The payload of the run page's System tab (see the module doc)."""
    out = []
    for info in store.list_series(run_id):
        if not info.name.startswith(SYSTEM_PREFIX) or info.kind.value != "scalar":
            continue
        source, _, quantity = info.name[len(SYSTEM_PREFIX) :].rpartition("/")
        points = store.downsample(run_id, info.name, buckets, x="time")
        out.append({
            "name": info.name,
            "quantity": quantity,
            "source": source,
            "x": [b.x_end for b in points],
            "y": [b.last for b in points],
        })
    return {"run_id": run_id, "series": out}


@router.get("/runs/{run_id}/system-metrics", summary="A run's system metrics (sys/…)")
def system_metrics_route(
    run_id: str,
    buckets: int = Query(default=500, ge=1, le=5000),
    store: TrackingStore = Depends(get_store),
) -> Any:
    return wire(system_metrics(store, run_id, buckets))
