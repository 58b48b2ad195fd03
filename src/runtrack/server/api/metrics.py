"""``/api/v1/runs/{run_id}/metrics``: batch ingest, positions, series reads, downsampling,
summaries.

Metric names may hold ``/`` (``train/loss``), so they travel as the ``name`` query
parameter, never as a path segment.

Ingest bodies are parsed by hand rather than by Pydantic: a batch holds up to
``MAX_BATCH_RECORDS`` records and this is the hot path. Two forms are accepted: JSON
(``records`` as ``[name, kind, step, time, value]`` lists, their shape checked record by
record, 400 naming the first bad one) and the binary columnar form of
:mod:`runtrack._wire`, which the RestStore sends for columnar batches.
What values, steps and kinds a metric may hold is checked by the store's ingest, with
the rules of :mod:`runtrack._rules` that every entry point shares.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from runtrack import _wire, limits
from runtrack.errors import InvalidValueError, LimitExceededError
from runtrack.model import MetricBatch, Record
from runtrack.server.api._wire import WireJSONResponse, read_body, read_json, require, wire
from runtrack.server.deps import get_store
from runtrack.server.settings import ServerSettings
from runtrack.store.base import TrackingStore

router = APIRouter(tags=["metrics"], default_response_class=WireJSONResponse)

_NAME = Query(min_length=1, max_length=limits.MAX_METRIC_NAME_LENGTH)

_INGEST_SCHEMA = {
    "type": "object",
    "required": ["stream", "first_seq", "records"],
    "properties": {
        "stream": {"type": "string", "minLength": 1, "maxLength": 256},
        "first_seq": {"type": "integer", "minimum": 0},
        "records": {
            "type": "array",
            "maxItems": limits.MAX_BATCH_RECORDS,
            "description": "[name, kind, step|null, unix time, value] per record",
            "items": {"type": "array", "minItems": 5, "maxItems": 5},
        },
        "descriptions": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


class SummariesBody(BaseModel):
    run_ids: list[str] = Field(max_length=10_000)
    names: list[str] | None = Field(default=None, max_length=limits.MAX_METRIC_NAMES_PER_RUN)


@router.post(
    "/runs/{run_id}/metrics",
    summary="Ingest a batch of metric records (idempotent by sequence number)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": _INGEST_SCHEMA},
                _wire.MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def ingest(run_id: str, request: Request) -> Any:
    # the hot path: the stores are read from app.state here rather than through
    # Depends(get_store/get_settings), whose resolution cost ~0.2 ms per request
    store: TrackingStore = request.app.state.store
    settings: ServerSettings = request.app.state.settings
    if request.headers.get("content-type", "").startswith(_wire.MEDIA_TYPE):
        batch = _wire.decode(await read_body(request, settings.max_request_bytes))
    else:
        batch = parse_batch(await read_json(request, settings.max_request_bytes))
    next_seq = await run_in_threadpool(store.ingest, run_id, batch)
    return wire({"next_seq": next_seq})


def parse_batch(data: Any) -> MetricBatch:
    """A :class:`MetricBatch` from its JSON form, every record's shape checked."""
    stream = require(data, "stream", str)
    first_seq = require(data, "first_seq", int)
    raw = require(data, "records", list)
    descriptions = data.get("descriptions") or {}
    if not stream or len(stream) > 256:
        raise InvalidValueError("stream must be 1 to 256 characters")
    if first_seq < 0:
        raise InvalidValueError("first_seq must be >= 0")
    if len(raw) > limits.MAX_BATCH_RECORDS:
        raise LimitExceededError(
            f"a batch holds {len(raw)} records, more than MAX_BATCH_RECORDS="
            f"{limits.MAX_BATCH_RECORDS}; split it"
        )
    if not isinstance(descriptions, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in descriptions.items()
    ):
        raise InvalidValueError("descriptions must map metric names to strings")
    records: list[Record] = []
    known: set[str] = set()
    for i, item in enumerate(raw):
        if not isinstance(item, list) or len(item) != 5:
            raise InvalidValueError(f"records[{i}] must be [name, kind, step, time, value]")
        name, kind, step, when, value = item
        if type(name) is not str or name not in known:
            _wire.check_name_and_kind(name, kind, f"records[{i}]: ")
            known.add(name)
        if type(when) not in (float, int):
            raise InvalidValueError(f"records[{i}]: time must be a number")
        records.append((name, kind, step, float(when), value))
    return MetricBatch(stream, first_seq, records, descriptions)


@router.get("/runs/{run_id}/metrics/position", summary="Next sequence number a stream expects")
def ingest_position(
    run_id: str,
    stream: str = Query(min_length=1, max_length=256),
    store: TrackingStore = Depends(get_store),
) -> Any:
    return wire({"next_seq": store.ingest_position(run_id, stream)})


@router.get("/runs/{run_id}/metrics", summary="List a run's metric series with summaries")
def list_series(run_id: str, store: TrackingStore = Depends(get_store)) -> Any:
    return wire({"series": [s.to_json() for s in store.list_series(run_id)]})


@router.get("/runs/{run_id}/metrics/points", summary="Read a range of points of one series")
def read_series(
    run_id: str,
    name: str = _NAME,
    start: int = Query(default=0, ge=0, le=2**62),
    end: int | None = Query(default=None, ge=0, le=2**62),
    store: TrackingStore = Depends(get_store),
) -> Any:
    return wire(store.read_series(run_id, name, start, end).to_json())


@router.get(
    "/runs/{run_id}/metrics/downsample",
    summary="Min/max/first/last buckets over a scalar series",
)
def downsample(
    run_id: str,
    name: str = _NAME,
    buckets: int = Query(default=1000, ge=1, le=100_000),
    x: Literal["index", "step", "time"] = "index",
    x_min: float | None = Query(default=None, allow_inf_nan=False),
    x_max: float | None = Query(default=None, allow_inf_nan=False),
    store: TrackingStore = Depends(get_store),
) -> Any:
    found = store.downsample(run_id, name, buckets, x=x, x_min=x_min, x_max=x_max)
    return wire({"buckets": [b.to_json() for b in found]})


@router.post("/summaries", summary="Metric summaries of many runs (no point reads)")
def get_summaries(body: SummariesBody, store: TrackingStore = Depends(get_store)) -> Any:
    found = store.get_summaries(body.run_ids, body.names)
    return wire({
        "summaries": {
            run_id: {name: info.to_json() for name, info in by_name.items()}
            for run_id, by_name in found.items()
        }
    })


@router.post("/series", summary="Every point of the series of many runs")
def read_all_series(body: SummariesBody, store: TrackingStore = Depends(get_store)) -> Any:
    found = store.read_all_series(body.run_ids, body.names)
    return wire({
        "series": {
            run_id: [data.to_json() for data in by_name.values()]
            for run_id, by_name in found.items()
        }
    })
