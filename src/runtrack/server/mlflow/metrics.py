"""``log-metric``, ``log-parameter``, ``log-batch``, ``log-inputs``, ``metrics/get-history``.

Metric points go through :meth:`TrackingStore.ingest` as one :class:`MetricBatch` per
request, on a writer stream owned by this server process
(``mlflow/<host>/<pid>``). Under a per-run lock the handler reads the stream's
position and appends at it, so concurrent requests for one run never take the same
sequence numbers; other worker processes (``--workers N``) or hosts write their own
streams, so they never collide either. A request the client replays after a lost
answer is applied twice (MLflow drops identical points; runtrack keeps both).
"""

from __future__ import annotations

import os
import socket
from typing import Any

from fastapi import APIRouter

from runtrack import _rules
from runtrack.errors import InvalidValueError, NotFoundError, PropertyConflictError
from runtrack.model import MetricBatch, MetricKind, Record
from runtrack.server.mlflow import convert, search
from runtrack.server.mlflow._endpoint import Args, Ctx, endpoint
from runtrack.server.mlflow._errors import MlflowError, MlflowRoute, bad_type, invalid
from runtrack.server.mlflow._errors import required as required_field
from runtrack.server.mlflow._inputs import add_inputs
from runtrack.server.mlflow.runs import active_run, apply_tags, load_run, tag_value

router = APIRouter(prefix="/api/2.0/mlflow", route_class=MlflowRoute, tags=["mlflow"])

MAX_BATCH_METRICS = 1000
MAX_BATCH_PARAMS = 100
MAX_BATCH_TAGS = 100
MAX_BATCH_TOTAL = 1000
HISTORY_PAGE = 25_000
#: Points per run remembered to drop replayed duplicates (two full log-batch requests).
RECENT_POINTS = 2 * MAX_BATCH_METRICS


def stream_name() -> str:
    """This process's writer stream for MLflow metric points."""
    return f"mlflow/{socket.gethostname()[:200]}/{os.getpid()}"


def _record(item: Any, where: str = "") -> Record:
    """One MLflow Metric (``where`` prefixes field names in errors: ``metrics[3].``)."""
    if not isinstance(item, dict):
        raise bad_type(where.rstrip(".") or "metrics", item)

    def given(name: str) -> Any:
        value = item.get(name)
        if value is None or value == "":
            raise required_field(where + name)
        return value

    raw_key = given("key")
    if not isinstance(raw_key, str):
        raise bad_type(where + "key", raw_key)
    key = convert.check_key("metric", raw_key)
    raw_value = given("value")
    try:
        value = convert.number(raw_value, "value")
    except MlflowError:
        raise bad_type(where + "value", raw_value) from None
    millis = _intlike(given("timestamp"), where + "timestamp")
    step = _intlike(item.get("step") or 0, where + "step")
    if millis < 0:
        raise invalid(f"metric {key!r}: timestamp must not be negative, got {millis}")
    if millis > _rules.INT64_MAX or not _rules.INT64_MIN < step <= _rules.INT64_MAX:
        raise invalid(
            f"metric {key!r}: timestamp and step must be 64-bit integers, got timestamp "
            f"{millis} and step {step}"
        )
    return (key, MetricKind.SCALAR.value, step, convert.seconds(millis), value)


def _intlike(value: Any, name: str) -> int:
    try:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise bad_type(name, value) from None


def _identity(record: Record) -> int:
    name, _, step, stamp, value = record
    shown = "nan" if value != value else value
    return hash((name, step, convert.ms(stamp), shown))


def append_points(ctx: Ctx, run_id: str, records: list[Record]) -> None:
    """Append ``records`` to the run on this process's stream (serialised per run).

    A point identical to one of the run's recent points (same key, value, timestamp
    and step) is dropped, as MLflow drops it: a request the client replays after a
    lost answer adds nothing."""
    if not records:
        return
    stream = stream_name()
    state = ctx.state
    with state.run_lock(run_id):
        seen = state.recent_points(run_id)
        fresh: dict[int, Record] = {}
        for record in records:
            identity = _identity(record)
            if identity not in seen and identity not in fresh:
                fresh[identity] = record
        records = list(fresh.values())
        if not records:
            return
        position = state.positions.get(run_id)
        if position is None:
            position = ctx.store.ingest_position(run_id, stream)
        try:
            after = ctx.store.ingest(run_id, MetricBatch(stream, position, records))
        except InvalidValueError:
            state.positions.pop(run_id, None)  # a stale position: re-read, try once more
            position = ctx.store.ingest_position(run_id, stream)
            after = ctx.store.ingest(run_id, MetricBatch(stream, position, records))
        if after != position + len(records):
            state.positions.pop(run_id, None)
            raise invalid(f"metric points of run {run_id} were not all applied; retry")
        state.positions[run_id] = after
        seen.update(dict.fromkeys(fresh))
        while len(seen) > RECENT_POINTS:
            seen.popitem(last=False)


def _params(items: list[Any]) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in items:
        if not isinstance(item, dict):
            raise invalid("params must be a list of {key, value} objects")
        key = convert.check_key("param", item.get("key"))
        if key in params:
            raise invalid(
                f"Duplicate parameter keys have been submitted: [{key}]. Please ensure the "
                "request contains only one param value per param key."
            )
        value = item.get("value")
        params[key] = ("" if value is None else str(value))[: convert.MAX_PARAM_VALUE_LENGTH]
    return params


def add_params(ctx: Ctx, run_id: str, params: dict[str, str], *, batch: bool = False) -> None:
    """Params are runtrack properties (add-only): a changed value is refused, in
    MLflow's words (``log-parameter`` and ``log-batch`` word it differently)."""
    if not params:
        return
    try:
        ctx.store.add_properties(run_id, params)
    except PropertyConflictError:
        logged = ctx.store.get_run(run_id).properties
        changed = [{"key": k, "old_value": logged[k], "new_value": v}
                   for k, v in params.items() if k in logged and logged[k] != v]
        if not changed:
            raise
        if batch:
            raise invalid(
                f"Changing param values is not allowed. Params were already logged="
                f"'{changed}' for run ID='{run_id}'."
            ) from None
        first = changed[0]
        raise invalid(
            f"Changing param values is not allowed. Param with key='{first['key']}' was "
            f"already logged with value='{first['old_value']}' for run ID='{run_id}'. "
            f"Attempted logging new value '{first['new_value']}'."
        ) from None


@endpoint(router, "POST", "/runs/log-metric")
def log_metric(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Log one metric point."""
    info = active_run(ctx, args.run_id())
    append_points(ctx, info.id, [_record(args.data)])
    return {}


@endpoint(router, "POST", "/runs/log-parameter")
def log_parameter(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Log a param (a runtrack property)."""
    info = active_run(ctx, args.run_id())
    key, value = args.text("key", required=True), args.text("value")
    add_params(ctx, info.id, _params([{"key": key, "value": value}]))
    return {}


@endpoint(router, "POST", "/runs/log-batch")
def log_batch(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Log metrics, params and tags in one request."""
    metrics, params, tags = args.items("metrics"), args.items("params"), args.items("tags")
    for what, items, cap in (("metrics", metrics, MAX_BATCH_METRICS),
                             ("params", params, MAX_BATCH_PARAMS),
                             ("tags", tags, MAX_BATCH_TAGS)):
        if len(items) > cap:
            raise invalid(
                f"A batch logging request can contain at most {cap} {what}. "
                f"Got {len(items)} {what}. Please split up {what} across multiple "
                "requests and try again."
            )
    total = len(metrics) + len(params) + len(tags)
    if total > MAX_BATCH_TOTAL:
        what = "metrics, params, and tags"
        raise invalid(
            f"A batch logging request can contain at most {MAX_BATCH_TOTAL} {what}. "
            f"Got {total} {what}. Please split up {what} across multiple requests and "
            "try again."
        )
    info = active_run(ctx, args.run_id())
    records = [_record(item, f"metrics[{i}].") for i, item in enumerate(metrics)]
    parsed_params = _params(params)
    parsed_tags: dict[str, str] = {}
    for item in tags:
        if not isinstance(item, dict):
            raise invalid("tags must be a list of {key, value} objects")
        parsed_tags[convert.check_key("tag", item.get("key"))] = tag_value(item.get("value"))
    add_params(ctx, info.id, parsed_params, batch=True)
    append_points(ctx, info.id, records)
    if parsed_tags:
        apply_tags(ctx, info, parsed_tags)
    return {}


@endpoint(router, "POST", "/runs/log-inputs")
def log_inputs(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Record dataset/model inputs of a run (read back by runs/get)."""
    info = active_run(ctx, args.run_id())
    datasets = args.items("datasets")
    for item in datasets:
        _check_dataset_input(item)
    add_inputs(ctx, info.id, datasets, args.items("models"))
    return {}


def _check_dataset_input(item: Any) -> None:
    """A dataset input as MLflow validates it (its wording)."""
    dataset = item.get("dataset") if isinstance(item, dict) else None
    if not isinstance(dataset, dict):
        raise invalid("Dataset cannot be None")
    for field in ("name", "digest", "source_type", "source"):
        if dataset.get(field) is None:
            raise invalid(f"Dataset {field} cannot be None")
        if not isinstance(dataset[field], str):
            raise bad_type(f"dataset.{field}", dataset[field])
    for tag in item.get("tags") or []:
        if not isinstance(tag, dict) or not tag.get("key"):
            raise invalid("InputTag key cannot be None")
        if tag.get("value") is None:
            raise invalid("InputTag value cannot be None")


@endpoint(router, "GET", "/metrics/get-history")
def get_metric_history(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Every point of one metric, in logged order, paged (25,000 per page)."""
    run_id = args.run_id()
    key = args.text("metric_key", required=True)
    size = args.integer("max_results", default=HISTORY_PAGE) or HISTORY_PAGE
    if size <= 0:
        raise invalid(f"max_results must be positive, got {size}")
    start = search.decode_token(args.text("page_token") or None)
    load_run(ctx, run_id)
    try:
        data = ctx.store.read_series(run_id, key, start, start + size + 1)
    except NotFoundError:
        return {}
    if data.kind is not MetricKind.SCALAR:
        return {}
    count = min(len(data.values), size)
    points = []
    rows = zip(data.steps[:count], data.times[:count], data.values[:count], strict=True)
    for step, stamp, value in rows:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        points.append({
            "key": key, "value": convert.wire_number(float(value)),
            "timestamp": convert.ms(stamp), "step": step or 0,
        })
    result: dict[str, Any] = {"metrics": points}
    if len(data.values) > size:
        result["next_page_token"] = search.encode_token(start + size)
    return result
