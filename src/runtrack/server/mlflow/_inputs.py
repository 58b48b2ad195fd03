"""Side records MLflow needs and runtrack's model has no place for, kept as JSON files
in the artifact store under the reserved key :data:`SIDE_KEY` (not a run id, so they
never show among a run's files): run inputs/outputs (``runs/<run>/io.json``) and
logged models (``logged-models/<model_id>.json``)."""

from __future__ import annotations

import json
from typing import Any

from runtrack.errors import NotFoundError
from runtrack.server.mlflow._endpoint import Ctx

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


def read_io(ctx: Ctx, run_id: str) -> dict[str, Any]:
    """``{"inputs": RunInputs, "outputs": RunOutputs}`` of a run (empty when none)."""
    data = read_json(ctx, _io_path(run_id))
    if not isinstance(data, dict):
        return {"inputs": {}, "outputs": {}}
    return {"inputs": data.get("inputs") or {}, "outputs": data.get("outputs") or {}}


def add_inputs(ctx: Ctx, run_id: str, datasets: list[Any], models: list[Any]) -> None:
    """Append dataset and model inputs (duplicates are dropped)."""
    doc = read_io(ctx, run_id)
    current = doc["inputs"]
    known = current.setdefault("dataset_inputs", [])
    seen = {json.dumps(d.get("dataset", {}), sort_keys=True) for d in known}
    for item in datasets:
        if not isinstance(item, dict):
            continue
        ident = json.dumps(item.get("dataset", {}), sort_keys=True)
        if ident not in seen:
            seen.add(ident)
            known.append(item)
    model_inputs = current.setdefault("model_inputs", [])
    for item in models:
        if isinstance(item, dict) and item not in model_inputs:
            model_inputs.append(item)
    write_json(ctx, _io_path(run_id), doc)


def add_outputs(ctx: Ctx, run_id: str, models: list[Any]) -> None:
    """Append model outputs (``{model_id, step}``) of a run."""
    doc = read_io(ctx, run_id)
    outputs = doc["outputs"].setdefault("model_outputs", [])
    for item in models:
        if isinstance(item, dict) and item not in outputs:
            outputs.append(item)
    write_json(ctx, _io_path(run_id), doc)
