"""A run's inputs and outputs in MLflow's shape.

Dataset inputs (``runs/log-inputs``) are store rows (:meth:`TrackingStore.log_run_inputs`),
the same rows the Azure face records for ``ds.as_named_input(...)``, so both faces show
one lineage. Records runtrack's model has no place for are JSON files in the artifact
store under the reserved key :data:`SIDE_KEY` (not a run id, so they never show among a
run's files): model inputs/outputs (``runs/<run>/io.json``) and logged models
(``logged-models/<model_id>.json``)."""

from __future__ import annotations

import json
from typing import Any

from runtrack.catalog import RunInputInfo
from runtrack.errors import NotFoundError
from runtrack.server.mlflow._endpoint import Ctx
from runtrack.server.mlflow._errors import invalid

SIDE_KEY = ".mlflow"


def read_json(ctx: Ctx, path: str) -> Any:
    """The JSON document at ``path`` under :data:`SIDE_KEY`, or None."""
    try:
        with ctx.artifacts.open(SIDE_KEY, path) as fh:
            return json.loads(fh.read())
    except (NotFoundError, FileNotFoundError):
        return None


def write_json(ctx: Ctx, path: str, data: Any) -> None:
    ctx.artifacts.put(SIDE_KEY, path, json.dumps(data).encode(), overwrite=True)


def _io_path(run_id: str) -> str:
    return f"runs/{run_id}/io.json"


CONTEXT_TAG = "mlflow.data.context"


def _dataset_input(item: RunInputInfo) -> dict[str, Any]:
    tags = [{"key": k, "value": v} for k, v in sorted(item.tags.items())]
    if item.context:
        tags.insert(0, {"key": CONTEXT_TAG, "value": item.context})
    return {"tags": tags, "dataset": {
        "name": item.dataset_name or item.name, "digest": item.digest,
        "source_type": item.source_type, "source": item.source,
        "schema": item.schema, "profile": item.profile,
    }}


def read_io(ctx: Ctx, run_id: str) -> dict[str, Any]:
    """``{"inputs": RunInputs, "outputs": RunOutputs}`` of a run (empty when none)."""
    data = read_json(ctx, _io_path(run_id))
    doc = data if isinstance(data, dict) else {}
    inputs = dict(doc.get("inputs") or {})
    recorded = ctx.store.get_run_inputs([run_id]).get(run_id, [])
    legacy = inputs.pop("dataset_inputs", None) or []  # written before inputs were rows
    if recorded or legacy:
        inputs["dataset_inputs"] = [_dataset_input(i) for i in recorded] + legacy
    return {"inputs": inputs, "outputs": doc.get("outputs") or {}}


def _text(value: Any, limit: int) -> str:
    return "" if value is None else str(value)[:limit]


def to_run_input(item: Any) -> RunInputInfo | None:
    """The store row for one MLflow ``DatasetInput`` (None if it names no dataset)."""
    if not isinstance(item, dict) or not isinstance(item.get("dataset"), dict):
        return None
    data = item["dataset"]
    name = _text(data.get("name"), 500)
    if not name:
        raise invalid("a dataset input needs dataset.name")
    tags = {
        _text(t.get("key"), 250): _text(t.get("value"), 5000)
        for t in item.get("tags") or [] if isinstance(t, dict) and t.get("key")
    }
    context = tags.pop(CONTEXT_TAG, "")
    return RunInputInfo(
        name=name, digest=_text(data.get("digest"), 128), context=context[:250],
        source_type=_text(data.get("source_type"), 64), source=_text(data.get("source"), 10**6),
        schema=_text(data.get("schema"), 10**6), profile=_text(data.get("profile"), 10**6),
        tags=tags,
    )


def add_inputs(ctx: Ctx, run_id: str, datasets: list[Any], models: list[Any]) -> None:
    """Record dataset inputs (store rows; duplicates dropped) and model inputs."""
    rows = [row for row in (to_run_input(d) for d in datasets) if row is not None]
    if rows:
        ctx.store.log_run_inputs(run_id, rows)
    if not models:
        return
    data = read_json(ctx, _io_path(run_id))
    doc = data if isinstance(data, dict) else {"inputs": {}, "outputs": {}}
    current = doc.setdefault("inputs", {})
    model_inputs = current.setdefault("model_inputs", [])
    for item in models:
        if isinstance(item, dict) and item not in model_inputs:
            model_inputs.append(item)
    write_json(ctx, _io_path(run_id), doc)


def add_outputs(ctx: Ctx, run_id: str, models: list[Any]) -> None:
    """Append model outputs (``{model_id, step}``) of a run."""
    data = read_json(ctx, _io_path(run_id))
    doc = data if isinstance(data, dict) else {"inputs": {}, "outputs": {}}
    outputs = doc.setdefault("outputs", {}).setdefault("model_outputs", [])
    for item in models:
        if isinstance(item, dict) and item not in outputs:
            outputs.append(item)
    write_json(ctx, _io_path(run_id), doc)
