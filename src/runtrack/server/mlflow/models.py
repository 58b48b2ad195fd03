"""MLflow 3 logged models: ``/api/2.0/mlflow/logged-models*`` and ``runs/outputs``.

``mlflow.<flavor>.log_model`` and autologging create a logged model, upload its files
to the model's ``artifact_uri`` and finalize it. runtrack has no logged-model table:
each model is a JSON record under the side key (``logged-models/<model_id>.json``,
see :mod:`._inputs`). A model with a source run stores its files among that run's
files (``<name>/`` or ``<name>-<id>/`` when the name is taken), so runtrack's SDK,
CLI and UI show them with the run; a model without a run keeps them under the side key.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from fastapi import APIRouter

from runtrack.errors import NotFoundError
from runtrack.server.mlflow import convert, search
from runtrack.server.mlflow._endpoint import Args, Ctx, endpoint
from runtrack.server.mlflow._errors import (
    NOT_IMPLEMENTED,
    RESOURCE_DOES_NOT_EXIST,
    MlflowError,
    MlflowRoute,
    invalid,
    missing,
)
from runtrack.server.mlflow._errors import required as required_field
from runtrack.server.mlflow._inputs import SIDE_KEY, add_outputs, read_json, write_json
from runtrack.server.mlflow.runs import active_run

router = APIRouter(prefix="/api/2.0/mlflow", route_class=MlflowRoute, tags=["mlflow"])

_STATUSES = {"1": "LOGGED_MODEL_PENDING", "2": "LOGGED_MODEL_READY",
             "3": "LOGGED_MODEL_UPLOAD_FAILED"}
_ATTRIBUTES = {"name": "name", "model_id": "model_id", "source_run_id": "source_run_id",
               "status": "status", "model_type": "model_type",
               "creation_timestamp_ms": "creation_timestamp_ms",
               "creation_time": "creation_timestamp_ms",
               "last_updated_timestamp_ms": "last_updated_timestamp_ms"}
_NUMERIC = {"creation_timestamp_ms", "last_updated_timestamp_ms"}
_BAD_NAME_CHARS = set("/:.%\"'")


def _record_path(model_id: str) -> str:
    if not model_id or "/" in model_id or ".." in model_id:
        raise invalid(f"invalid logged model id {model_id!r}")
    return f"logged-models/{model_id}.json"


def load_model(ctx: Ctx, model_id: str) -> dict[str, Any]:
    record = read_json(ctx, _record_path(model_id))
    if not isinstance(record, dict) or record.get("deleted"):
        raise missing(f"Logged model with ID '{model_id}' not found.")
    return record


def _save(ctx: Ctx, record: dict[str, Any]) -> dict[str, Any]:
    record["model"]["info"]["last_updated_timestamp_ms"] = int(time.time() * 1000)
    write_json(ctx, _record_path(record["model"]["info"]["model_id"]), record)
    return {"model": record["model"]}


def _pairs(items: list[Any], what: str) -> list[dict[str, str]]:
    out = []
    for item in items:
        if not isinstance(item, dict) or not item.get("key"):
            raise invalid(f"{what} must be a list of {{key, value}} objects")
        out.append({"key": str(item["key"]), "value": str(item.get("value") or "")})
    return out


def _merge(current: list[dict[str, str]], new: list[dict[str, str]]) -> list[dict[str, str]]:
    merged = {p["key"]: p["value"] for p in current}
    merged.update({p["key"]: p["value"] for p in new})
    return [{"key": k, "value": v} for k, v in sorted(merged.items())]


def _files_folder(ctx: Ctx, run_id: str, name: str, model_id: str) -> str:
    if not ctx.artifacts.list(run_id, name):
        return name
    return f"{name}-{model_id[2:10]}"


def _known_run(ctx: Ctx, run_id: str) -> bool:
    """Whether ``run_id`` names an active run. MLflow accepts any source_run_id; an
    unknown one keeps the model's files with the model instead of the run."""
    try:
        active_run(ctx, run_id)
    except MlflowError as exc:
        if exc.code == RESOURCE_DOES_NOT_EXIST:
            return False
        raise
    return True


@endpoint(router, "POST", "/logged-models")
def create_logged_model(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Create a logged model (status pending)."""
    exp = convert.resolve_experiment(ctx.store, args.text("experiment_id", required=True))
    exp_id = convert.experiment_id(exp)
    model_id = f"m-{uuid.uuid4().hex}"
    name = args.text("name") or f"model-{model_id[2:10]}"
    if _BAD_NAME_CHARS & set(name):
        raise invalid(f"logged model name {name!r} may not contain any of / : . % \" '")
    run_id = args.text("source_run_id")
    if run_id and _known_run(ctx, run_id):
        folder = _files_folder(ctx, run_id, name, model_id)
        uri = f"mlflow-artifacts:/{exp_id}/{run_id}/artifacts/{folder}"
    else:
        uri = f"mlflow-artifacts:/{exp_id}/models/{model_id}/artifacts"
    now = int(time.time() * 1000)
    info: dict[str, Any] = {
        "model_id": model_id, "experiment_id": exp_id, "name": name,
        "creation_timestamp_ms": now, "last_updated_timestamp_ms": now, "artifact_uri": uri,
        "status": "LOGGED_MODEL_PENDING", "model_type": args.text("model_type"),
        "source_run_id": run_id, "status_message": "",
        "tags": _pairs(args.items("tags"), "tags"),
    }
    record = {"model": {"info": info, "data": {"params": _merge([], _pairs(
        args.items("params"), "params")), "metrics": []}}}
    return _save(ctx, record)


@endpoint(router, "GET", "/logged-models/{model_id}")
def get_logged_model(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Get a logged model."""
    return {"model": load_model(ctx, args.text("model_id", required=True))["model"]}


@endpoint(router, "PATCH", "/logged-models/{model_id}")
def finalize_logged_model(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Set a logged model's status (finalize)."""
    record = load_model(ctx, args.text("model_id", required=True))
    status = args.enum("status")
    if not status:
        raise required_field("status")
    status = _STATUSES.get(status, status)
    if status not in _STATUSES.values():
        raise invalid(f"unknown logged model status {status!r}")
    record["model"]["info"]["status"] = status
    return _save(ctx, record)


@endpoint(router, "DELETE", "/logged-models/{model_id}")
def delete_logged_model(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Delete a logged model (its record; files stay with the run)."""
    record = load_model(ctx, args.text("model_id", required=True))
    record["deleted"] = True
    _save(ctx, record)
    return {}


@endpoint(router, "PATCH", "/logged-models/{model_id}/tags")
def set_logged_model_tags(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Set tags of a logged model."""
    record = load_model(ctx, args.text("model_id", required=True))
    info = record["model"]["info"]
    info["tags"] = _merge(info.get("tags", []), _pairs(args.items("tags"), "tags"))
    return _save(ctx, record)


@endpoint(router, "DELETE", "/logged-models/{model_id}/tags/{tag_key}")
def delete_logged_model_tag(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Delete a tag of a logged model."""
    record = load_model(ctx, args.text("model_id", required=True))
    key = args.text("tag_key", required=True)
    info = record["model"]["info"]
    if all(t["key"] != key for t in info.get("tags", [])):
        raise missing(f"No tag with key {key!r} on logged model {info['model_id']}")
    info["tags"] = [t for t in info["tags"] if t["key"] != key]
    _save(ctx, record)
    return {}


@endpoint(router, "POST", "/logged-models/{model_id}/params")
def log_logged_model_params(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Log params of a logged model."""
    record = load_model(ctx, args.text("model_id", required=True))
    data = record["model"]["data"]
    data["params"] = _merge(data.get("params", []), _pairs(args.items("params"), "params"))
    _save(ctx, record)
    return {}


def _all_models(ctx: Ctx) -> list[dict[str, Any]]:
    try:
        files = ctx.artifacts.list(SIDE_KEY, "logged-models")
    except NotFoundError:
        return []
    models = []
    for info in files:
        record = read_json(ctx, info.path)
        if isinstance(record, dict) and not record.get("deleted"):
            models.append(record["model"])
    return models


def _model_value(model: dict[str, Any], entity: str, key: str) -> Any:
    info = model["info"]
    if entity == search.PARAM:
        return {p["key"]: p["value"] for p in model["data"].get("params", [])}.get(key)
    if entity == search.TAG:
        return {t["key"]: t["value"] for t in info.get("tags", [])}.get(key)
    if entity == search.METRIC:
        return None
    value = info.get(key)
    return float(value) if key in _NUMERIC and value is not None else value


@endpoint(router, "POST", "/logged-models/search")
def search_logged_models(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Search logged models (filter on name, model_id, source_run_id, status, tags, params)."""
    wanted = set(args.strings("experiment_ids"))
    if args.items("datasets"):
        raise MlflowError(
            NOT_IMPLEMENTED,
            "runtrack does not support the 'datasets' filter of logged-models/search; "
            "search without it and filter on the models' source runs instead",
        )
    clauses = search.parse_filter(args.text("filter"), _ATTRIBUTES, _NUMERIC)
    size = args.integer("max_results", default=50) or 50
    found = [
        m for m in _all_models(ctx)
        if (not wanted or m["info"]["experiment_id"] in wanted)
        and search.matches(clauses, lambda e, k, m=m: _model_value(m, e, k))  # type: ignore[misc]
    ]
    keys = []
    for item in args.items("order_by"):
        field = item.get("field_name") if isinstance(item, dict) else None
        if field not in _ATTRIBUTES:
            raise invalid(f"cannot order logged models by {field!r}")
        keys.append(search.OrderKey(search.ATTRIBUTE, _ATTRIBUTES[field],
                                    not item.get("ascending", True)))
    keys = keys or [search.OrderKey(search.ATTRIBUTE, "creation_timestamp_ms", True)]
    found = search.ordered(found, keys, _model_value)
    chunk, token = search.page(found, args.text("page_token") or None, size)
    result: dict[str, Any] = {"models": chunk}
    if token:
        result["next_page_token"] = token
    return result


@endpoint(router, "POST", "/runs/outputs")
def log_outputs(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Record the models a run produced (read back by runs/get)."""
    info = active_run(ctx, args.run_id())
    add_outputs(ctx, info.id, args.items("models"))
    return {}
