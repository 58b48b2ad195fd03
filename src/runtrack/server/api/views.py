"""``/api/v1/views/…``: the payloads the web pages render, and the run archive.

Every page of :mod:`runtrack.server.pages` renders one of these payloads, so whatever
a page shows can be fetched as JSON with the same query string:

* ``GET /views/runs`` — the runs table (state parameters: :mod:`._runs_table`),
  ``GET /views/runs.csv``, the same rows (all pages) as CSV, and ``GET /views/run-ids``,
  the ids of every run they select (at most :data:`MAX_MATCHING_RUNS`: "select all");
* ``GET /views/runs/{run_id}`` — a run's page (:mod:`._run_page`);
* ``GET /views/chart`` — downsampled traces for charts (:mod:`._chart_data`);
* ``GET /views/diff`` — runs side by side (:mod:`._run_diff`);
* ``GET /views/sweeps/{run_id}`` — a sweep's page (:mod:`._sweep_page`);
* ``GET /views/status`` — live status of runs, polled by open pages;
* ``GET /runs/{run_id}/archive`` — every file of a run (or under ``prefix``) as one
  streamed zip (:mod:`._archive`).

The experiments page renders ``GET /api/v1/experiments`` (:mod:`.experiments`).
"""

from __future__ import annotations

import gzip
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MultiDict

from runtrack.errors import NotFoundError
from runtrack.server.api._archive import archive_name, zip_blocks
from runtrack.server.api._chart_data import (
    MAX_BUCKETS,
    chart_traces,
    compact,
    run_label,
)
from runtrack.server.api._run_diff import MAX_DIFF_RUNS, run_diff
from runtrack.server.api._run_page import run_page
from runtrack.server.api._runs_table import (
    ATTRIBUTE_SORTS,
    MAX_CSV_ROWS,
    MAX_PER_PAGE,
    MAX_SEARCH_LENGTH,
    matching_runs,
    parse_state,
    runs_table,
    table_csv,
)
from runtrack.server.api._runs_table import duration as run_duration
from runtrack.server.api._sweep_page import sweep_page
from runtrack.server.api._wire import WireJSONResponse
from runtrack.server.deps import get_artifacts, get_store
from runtrack.store.base import ArtifactStore, TrackingStore

router = APIRouter(tags=["views"], default_response_class=WireJSONResponse)

MAX_STATUS_RUNS = 500
#: The most runs "select all runs matching the filter" selects.
MAX_MATCHING_RUNS = 1_000


def table_params(
    experiment: list[str] = Query(default=[], description="experiment ids"),
    status: list[str] = Query(default=[], description="run statuses, e.g. Running"),
    tag: list[str] = Query(default=[], description="key or key=value"),
    filter: list[str] = Query(default=[], description="metric threshold, e.g. loss:min<0.2"),
    col: list[str] = Query(
        default=[], description="metric:<name>:<last|min|max>, prop:<key> or tag:<key>"
    ),
    sort: str | None = Query(
        default=None, description=f"{', '.join(ATTRIBUTE_SORTS)} or a col key; '-' = descending"
    ),
    page: str | None = Query(default=None, description="page number, from 1"),
    per_page: str | None = Query(default=None, description=f"rows per page, 1 to {MAX_PER_PAGE}"),
    q: str | None = Query(default=None, max_length=MAX_SEARCH_LENGTH,
                          description="words to find in run names, ids, tags, properties"),
    archived: str | None = Query(default=None, description="1: archived runs too"),
) -> MultiDict:
    items: list[tuple[str, Any]] = [("q", q)] if q else []
    if archived:
        items.append(("archived", archived))
    for key, values in (("experiment", experiment), ("status", status), ("tag", tag),
                        ("filter", filter), ("col", col)):
        items += [(key, v) for v in values]
    items += [(k, v) for k, v in (("sort", sort), ("page", page), ("per_page", per_page)) if v]
    return MultiDict(items)


@router.get("/views/runs", summary="Runs table: chosen columns, server-side sort, filters, pages")
def runs_view(
    params: MultiDict = Depends(table_params), store: TrackingStore = Depends(get_store)
) -> Any:
    return runs_table(store, parse_state(params))


@router.get(
    "/views/runs.csv",
    summary=f"The runs table as CSV: every matching run (at most {MAX_CSV_ROWS:,}), its columns",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def runs_csv(
    params: MultiDict = Depends(table_params), store: TrackingStore = Depends(get_store)
) -> Response:
    state = parse_state(params)
    text = table_csv(store, state, MAX_CSV_ROWS)
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="runs.csv"'})


@router.get("/views/run-ids",
            summary=f"Every run the runs table's filters select (at most {MAX_MATCHING_RUNS:,})")
def run_ids_view(
    params: MultiDict = Depends(table_params), store: TrackingStore = Depends(get_store)
) -> Any:
    runs, total = matching_runs(store, parse_state(params), MAX_MATCHING_RUNS)
    return {"total": total, "limit": MAX_MATCHING_RUNS,
            "runs": [{"id": r.id, "label": run_label(r)} for r in runs]}


@router.get("/views/runs/{run_id}", summary="A run's page: run, children, series, files, images")
def run_view(
    run_id: str,
    store: TrackingStore = Depends(get_store),
    artifacts: ArtifactStore = Depends(get_artifacts),
) -> Any:
    return run_page(store, artifacts, run_id)


@router.get("/views/sweeps/{run_id}",
            summary="A sweep's page: its trials best first, and the parallel-coordinates data")
def sweep_view(run_id: str, store: TrackingStore = Depends(get_store)) -> Any:
    return sweep_page(store, run_id)


@router.get("/views/diff", summary="Runs side by side: properties, tags, metric summaries")
def diff_view(
    run: list[str] = Query(min_length=2, max_length=MAX_DIFF_RUNS, description="run ids"),
    store: TrackingStore = Depends(get_store),
) -> Any:
    return run_diff(store, run)


#: runs a chart request reads between two looks at whether its client is still there
CHART_RUNS_PER_PART = 10


@router.get("/views/chart", summary="Min/max-preserving chart traces of metrics of runs")
async def chart_view(
    request: Request,
    run: list[str] = Query(min_length=1, max_length=100, description="run ids"),
    metric: list[str] = Query(min_length=1, max_length=50, description="metric names"),
    x: str = Query(default="step", max_length=300,
                   description="step, index, time, relative or metric:<name>"),
    buckets: int = Query(default=1000, ge=1, le=MAX_BUCKETS),
    x_min: float | None = Query(default=None, allow_inf_nan=False),
    x_max: float | None = Query(default=None, allow_inf_nan=False),
    format: Literal["full", "compact"] = Query(
        default="full", description="compact: x as whole-number deltas, y to 5 digits"
    ),
    store: TrackingStore = Depends(get_store),
) -> Any:
    """Read ``CHART_RUNS_PER_PART`` runs at a time, in the worker threads; a client gone
    meanwhile (a page whose newer draw superseded this one aborts it) ends the work."""
    payload: dict[str, Any] | None = None  # a bad x fails in the first part, before reads
    for start in range(0, len(run), CHART_RUNS_PER_PART):
        if start and await request.is_disconnected():
            return Response(status_code=499)  # nobody to answer: the work stops here
        part = await run_in_threadpool(
            _chart_part, store, run[start : start + CHART_RUNS_PER_PART], metric, x,
            buckets, x_min, x_max, format == "compact",
        )
        if payload is None:
            payload = part
        else:
            payload["traces"] += part["traces"]
            payload["missing"] += part["missing"]
    assert payload is not None  # at least one run (min_length=1)
    # the JSON text and its compression off the event loop too (100 traces: ~0.25 s)
    encode = _compact_json if format == "compact" else _wire_json
    return await run_in_threadpool(
        lambda: gzipped(request, encode(payload), "application/json"))


def _wire_json(payload: dict[str, Any]) -> bytes:
    return bytes(WireJSONResponse(payload).body)


def _compact_json(payload: dict[str, Any]) -> bytes:
    """The compact form's JSON, through ``orjson`` when it is installed (the ``fast``
    extra; several times faster on 100 traces). That form holds no NaN or infinity
    (non-finite y values are null already), so both encoders give the same values."""
    try:
        import orjson
    except ImportError:
        return _wire_json(payload)
    try:
        return bytes(orjson.dumps(payload))
    except TypeError:  # an integer past 64 bits: the standard encoder takes it
        return _wire_json(payload)


def _chart_part(
    store: TrackingStore, runs: list[str], metrics: list[str], x: str, buckets: int,
    x_min: float | None, x_max: float | None, compact_form: bool,
) -> dict[str, Any]:
    """One part's traces, in the compact form when asked (in the worker thread)."""
    part = chart_traces(store, runs, metrics, x=x, buckets=buckets, x_min=x_min, x_max=x_max)
    return compact(part) if compact_form else part


def gzipped(request: Request, body: bytes, media_type: str) -> Response:
    """``body``, gzip-compressed when the client accepts it and it is worth it."""
    if len(body) < 1024 or "gzip" not in request.headers.get("accept-encoding", "").lower():
        return Response(body, media_type=media_type)
    return Response(gzip.compress(body, 5, mtime=0), media_type=media_type,
                    headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})


@router.get("/views/status", summary="Live status and duration of runs (polled by pages)")
def status_view(
    run: list[str] = Query(default=[], max_length=MAX_STATUS_RUNS, description="run ids"),
    store: TrackingStore = Depends(get_store),
) -> Any:
    found = []
    for run_id in dict.fromkeys(run):
        try:
            info = store.get_run(run_id)
        except NotFoundError:
            continue
        found.append({
            "id": info.id,
            "status": info.status.value,
            "terminal": info.status.is_terminal,
            "start_time": info.start_time,
            "end_time": info.end_time,
            "duration": run_duration(info),
            "error": info.error.to_json() if info.error else None,
        })
    return {"runs": found}


@router.get(
    "/runs/{run_id}/archive",
    summary="Download a run's files (or those under prefix) as one streamed zip",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/zip": {}}}},
)
async def archive(
    run_id: str,
    prefix: str = Query(default="", max_length=5000),
    store: TrackingStore = Depends(get_store),
    artifacts: ArtifactStore = Depends(get_artifacts),
) -> StreamingResponse:
    await run_in_threadpool(store.get_run, run_id)
    if prefix:
        await run_in_threadpool(artifacts.list, run_id, prefix)  # bad paths answer 400 now
    name = archive_name(run_id, prefix)
    return StreamingResponse(
        zip_blocks(artifacts, run_id, prefix),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
