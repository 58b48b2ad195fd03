"""MLflow's model registry: ``/api/2.0/mlflow/registered-models/*`` and
``/api/2.0/mlflow/model-versions/*``, over the same store rows as the Azure ``Model``.

``model-versions/create`` copies the source's files (a run's folder given as
``runs:/…``, ``mlflow-artifacts:/…`` or a logged model ``models:/m-…``) into a folder
of their own under :data:`runtrack.catalog.MODEL_FILES_KEY`, so later changes to the run
never change a registered version. ``get-download-uri`` answers
``mlflow-artifacts:/registered-models/<folder>``, which the artifact proxy
(:mod:`.artifacts`) serves read-only; that is how ``models:/name/1`` and
``models:/name@alias`` download. Searches evaluate MLflow's filter grammar
(:mod:`.search`) over the rows in Python.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi import APIRouter

from runtrack.catalog import (
    MODEL_FILES_KEY,
    ModelVersionInfo,
    RegisteredModelInfo,
    check_model_name,
)
from runtrack.errors import ConflictError, NotFoundError
from runtrack.server.mlflow import convert, search
from runtrack.server.mlflow._endpoint import Args, Ctx, endpoint
from runtrack.server.mlflow._errors import (
    RESOURCE_ALREADY_EXISTS,
    MlflowError,
    MlflowRoute,
    invalid,
)
from runtrack.server.mlflow._inputs import read_json
from runtrack.server.mlflow.artifacts import REGISTRY_PREFIX, proxy_location

router = APIRouter(prefix="/api/2.0/mlflow", route_class=MlflowRoute, tags=["mlflow"])

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_STAGES = {s.lower(): s for s in ("None", "Staging", "Production", "Archived")}
_MODEL_ATTRS = {"name": "name", "creation_timestamp": "creation_timestamp",
                "last_updated_timestamp": "last_updated_timestamp",
                "timestamp": "last_updated_timestamp"}
_VERSION_ATTRS = {"name": "name", "version_number": "version_number",
                  "version": "version_number", "run_id": "run_id", "source_path": "source",
                  "source": "source", "creation_timestamp": "creation_timestamp",
                  "last_updated_timestamp": "last_updated_timestamp",
                  "timestamp": "last_updated_timestamp", "current_stage": "current_stage"}
_PROMPT_TAG = "mlflow.prompt.is_prompt"
_NUMERIC = {"version_number", "creation_timestamp", "last_updated_timestamp"}


# -- wire forms -------------------------------------------------------------------------------


def _pairs(tags: dict[str, str | None]) -> list[dict[str, str]]:
    return [{"key": k, "value": v or ""} for k, v in sorted(tags.items())]


def version_json(info: ModelVersionInfo) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": info.name, "version": str(info.version),
        "creation_timestamp": convert.ms(info.created_time),
        "last_updated_timestamp": convert.ms(info.updated_time),
        "current_stage": info.stage, "description": info.description or "",
        "source": info.source, "status": "READY", "tags": _pairs(info.tags),
        "aliases": list(info.aliases),
    }
    if info.run_id:
        out["run_id"] = info.run_id
    return out


def model_json(ctx: Ctx, info: RegisteredModelInfo) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": info.name,
        "creation_timestamp": convert.ms(info.created_time),
        "last_updated_timestamp": convert.ms(info.updated_time),
        "description": info.description or "",
        "tags": _pairs(info.tags),
        "aliases": [{"alias": a, "version": str(v)} for a, v in sorted(info.aliases.items())],
    }
    if info.latest_version is not None:
        latest = ctx.store.get_model_version(info.name, info.latest_version)
        out["latest_versions"] = [version_json(latest)]
    return out


def _tags(args: Args) -> dict[str, str | None]:
    return {str(t["key"]): str(t.get("value") or "") for t in args.items("tags")
            if isinstance(t, dict) and t.get("key")}


def _version_arg(args: Args) -> int:
    text = args.text("version", required=True)
    try:
        version = int(text)
    except ValueError:
        version = 0
    if not 0 < version < 2**31:
        raise invalid(f"model version must be a positive integer, got {text!r}")
    return version


def _name(args: Args) -> str:
    name = args.text("name", required=True)
    return check_model_name(name)


# -- registered models ------------------------------------------------------------------------


@endpoint(router, "POST", "/registered-models/create")
def create_registered_model(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Create a registered model."""
    name = _name(args)
    tags = _tags(args)
    try:
        info = ctx.store.create_registered_model(
            name, description=args.text("description") or None, tags=tags or None)
    except ConflictError:
        raise MlflowError(RESOURCE_ALREADY_EXISTS,
                          f"Registered Model (name={name}) already exists.") from None
    return {"registered_model": model_json(ctx, info)}


@endpoint(router, "GET", "/registered-models/get")
def get_registered_model(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Get a registered model."""
    return {"registered_model": model_json(ctx, ctx.store.get_registered_model(_name(args)))}


@endpoint(router, "POST", "/registered-models/rename")
def rename_registered_model(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Rename a registered model."""
    new_name = check_model_name(args.text("new_name", required=True))
    info = ctx.store.update_registered_model(_name(args), new_name=new_name)
    return {"registered_model": model_json(ctx, info)}


@endpoint(router, "PATCH", "/registered-models/update")
def update_registered_model(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Change a registered model's description."""
    info = ctx.store.update_registered_model(_name(args), description=args.text("description"))
    return {"registered_model": model_json(ctx, info)}


@endpoint(router, "DELETE", "/registered-models/delete")
def delete_registered_model(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Delete a registered model and its versions."""
    ctx.store.delete_registered_model(_name(args))
    return {}


def _tag(tags: dict[str, str | None], key: str) -> str | None:
    # MLflow 3 clients add "tags.`mlflow.prompt.is_prompt` != 'true'" to every registry
    # search; a model without that tag is not a prompt.
    return tags.get(key, "false" if key == _PROMPT_TAG else None)


def _model_value(ctx: Ctx, info: RegisteredModelInfo, entity: str, key: str) -> Any:
    if entity == search.TAG:
        return _tag(info.tags, key)
    if entity != search.ATTRIBUTE:
        return None
    if key == "name":
        return info.name
    return convert.ms(info.created_time if key == "creation_timestamp" else info.updated_time)


@endpoint(router, "GET", "/registered-models/search")
def search_registered_models(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Search registered models (filter on name and tags)."""
    clauses = search.parse_filter(args.text("filter"), _MODEL_ATTRS, _NUMERIC)
    models = [
        m for m in ctx.store.list_registered_models()
        if search.matches(clauses, lambda e, k, m=m: _model_value(ctx, m, e, k))  # type: ignore[misc]
    ]
    keys = search.parse_order_by([str(o) for o in args.items("order_by")], _MODEL_ATTRS)
    keys = keys or [search.OrderKey(search.ATTRIBUTE, "name", False)]
    models = search.ordered(models, keys, lambda m, e, k: _model_value(ctx, m, e, k))
    size = int(args.integer("max_results", default=100) or 100)
    chunk, token = search.page(models, args.text("page_token") or None, size)
    result: dict[str, Any] = {"registered_models": [model_json(ctx, m) for m in chunk]}
    if token:
        result["next_page_token"] = token
    return result


@endpoint(router, "POST", "/registered-models/get-latest-versions")
def get_latest_versions(ctx: Ctx, args: Args) -> dict[str, Any]:
    """The newest version of a model per stage (all stages unless ``stages`` is given)."""
    stages = {str(s).lower() for s in args.items("stages")}
    newest: dict[str, ModelVersionInfo] = {}
    for info in ctx.store.list_model_versions(_name(args)):
        if not stages or info.stage.lower() in stages:
            newest[info.stage] = info
    return {"model_versions": [version_json(v) for v in newest.values()]}


@endpoint(router, "POST", "/registered-models/set-tag")
def set_registered_model_tag(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Set a tag on a registered model."""
    key = convert.check_key("tag", args.text("key", required=True))
    ctx.store.set_model_tags(_name(args), {key: args.text("value")})
    return {}


@endpoint(router, "DELETE", "/registered-models/delete-tag")
def delete_registered_model_tag(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Delete a tag of a registered model."""
    ctx.store.remove_model_tags(_name(args), [args.text("key", required=True)])
    return {}


@endpoint(router, "POST", "/registered-models/alias")
def set_alias(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Point an alias at a model version."""
    alias = args.text("alias", required=True)
    if len(alias) > 255:
        raise invalid("alias is longer than 255 characters")
    if re.fullmatch(r"(?i)v\d+|latest", alias):
        raise invalid(f"alias {alias!r} is reserved (latest, v<number>); choose another")
    ctx.store.set_model_alias(_name(args), alias, _version_arg(args))
    return {}


@endpoint(router, "DELETE", "/registered-models/alias")
def delete_alias(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Remove an alias."""
    ctx.store.delete_model_alias(_name(args), args.text("alias", required=True))
    return {}


@endpoint(router, "GET", "/registered-models/alias")
def get_version_by_alias(ctx: Ctx, args: Args) -> dict[str, Any]:
    """The model version an alias points at."""
    name, alias = _name(args), args.text("alias", required=True)
    model = ctx.store.get_registered_model(name)
    if alias not in model.aliases:
        known = ", ".join(sorted(model.aliases)) or "none"
        raise NotFoundError(f"model {name!r} has no alias {alias!r} (its aliases: {known})")
    return {"model_version": version_json(ctx.store.get_model_version(name,
                                                                       model.aliases[alias]))}


# -- model versions -------------------------------------------------------------------------------


def _source_files(ctx: Ctx, source: str, run_id: str) -> tuple[str, str] | None:
    """``(artifact key, folder)`` holding the files ``source`` names on this server."""
    if source.startswith("runs:/"):
        rid, _, path = source[len("runs:/"):].partition("/")
        return (rid or run_id, path.strip("/"))
    if source.startswith("models:/m-"):
        record = read_json(ctx, f"logged-models/{source[len('models:/'):].strip('/')}.json")
        if not isinstance(record, dict):
            return None
        source = str(record["model"]["info"].get("artifact_uri", ""))
    if source.startswith("mlflow-artifacts:"):
        return proxy_location(source[len("mlflow-artifacts:"):].lstrip("/"))
    return None


def _copy_files(ctx: Ctx, name: str, source: str, run_id: str) -> str | None:
    """Copy the source's files under MODEL_FILES_KEY; the new folder (None: no files)."""
    where = _source_files(ctx, source, run_id)
    if where is None:
        return None
    key, rel = where
    try:
        files = ctx.artifacts.list(key, rel)
    except (NotFoundError, ValueError):
        return None
    if not files:
        return None
    folder = f"{_UNSAFE.sub('_', name)[:100] or 'model'}/{uuid.uuid4().hex}"
    for item in files:
        inner = item.path[len(rel):].lstrip("/") if rel else item.path
        inner = inner or item.path.rsplit("/", 1)[-1]
        with ctx.artifacts.open(key, item.path) as fh:
            ctx.artifacts.put(MODEL_FILES_KEY, f"{folder}/{inner}", fh)
    return folder


@endpoint(router, "POST", "/model-versions/create")
def create_model_version(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Register a new version (its files are copied from ``source``)."""
    name = _name(args)
    ctx.store.get_registered_model(name)  # MLflow creates the model first
    source = args.text("source", required=True)
    run_id = args.text("run_id")
    if run_id:
        ctx.store.get_run(run_id)
    tags = _tags(args)
    folder = _copy_files(ctx, name, source, run_id)
    info = ctx.store.create_model_version(
        name, source=source, files=folder, run_id=run_id or None,
        description=args.text("description") or None, tags=tags or None,
    )
    return {"model_version": version_json(info)}


@endpoint(router, "GET", "/model-versions/get")
def get_model_version(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Get a model version."""
    return {"model_version": version_json(ctx.store.get_model_version(_name(args),
                                                                       _version_arg(args)))}


@endpoint(router, "PATCH", "/model-versions/update")
def update_model_version(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Change a model version's description."""
    info = ctx.store.update_model_version(_name(args), _version_arg(args),
                                          description=args.text("description"))
    return {"model_version": version_json(info)}


@endpoint(router, "POST", "/model-versions/transition-stage")
def transition_stage(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Move a version to a stage (None, Staging, Production, Archived)."""
    stage = _STAGES.get(args.text("stage", required=True).lower())
    if stage is None:
        known = sorted(_STAGES.values())
        raise invalid(f"unknown stage {args.text('stage')!r}; use one of {known}")
    name, version = _name(args), _version_arg(args)
    archive = str(args.get("archive_existing_versions")).lower() == "true"
    if archive and stage in ("Staging", "Production"):
        for other in ctx.store.list_model_versions(name):
            if other.version != version and other.stage == stage:
                ctx.store.update_model_version(name, other.version, stage="Archived")
    info = ctx.store.update_model_version(name, version, stage=stage)
    return {"model_version": version_json(info)}


@endpoint(router, "DELETE", "/model-versions/delete")
def delete_model_version(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Delete a model version."""
    ctx.store.delete_model_version(_name(args), _version_arg(args))
    return {}


@endpoint(router, "GET", "/model-versions/get-download-uri")
def get_download_uri(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Where a version's files download from (the artifact proxy)."""
    info = ctx.store.get_model_version(_name(args), _version_arg(args))
    if info.files is None:
        return {"artifact_uri": info.source}
    return {"artifact_uri": f"mlflow-artifacts:/{REGISTRY_PREFIX}/{info.files}"}


@endpoint(router, "POST", "/model-versions/set-tag")
def set_model_version_tag(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Set a tag on a model version."""
    key = convert.check_key("tag", args.text("key", required=True))
    ctx.store.set_model_tags(_name(args), {key: args.text("value")}, version=_version_arg(args))
    return {}


@endpoint(router, "DELETE", "/model-versions/delete-tag")
def delete_model_version_tag(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Delete a tag of a model version."""
    ctx.store.remove_model_tags(_name(args), [args.text("key", required=True)],
                                version=_version_arg(args))
    return {}


def _version_value(info: ModelVersionInfo, entity: str, key: str) -> Any:
    if entity == search.TAG:
        return _tag(info.tags, key)
    if entity != search.ATTRIBUTE:
        return None
    values: dict[str, Any] = {
        "name": info.name, "version_number": float(info.version), "run_id": info.run_id or "",
        "source": info.source, "current_stage": info.stage,
        "creation_timestamp": float(convert.ms(info.created_time) or 0),
        "last_updated_timestamp": float(convert.ms(info.updated_time) or 0),
    }
    return values.get(key)


@endpoint(router, "GET", "/model-versions/search")
def search_model_versions(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Search model versions (filter on name, run_id, source_path, version_number, tags)."""
    clauses = search.parse_filter(args.text("filter"), _VERSION_ATTRS, _NUMERIC)
    versions = [
        v for v in ctx.store.list_model_versions()
        if search.matches(clauses, lambda e, k, v=v: _version_value(v, e, k))  # type: ignore[misc]
    ]
    keys = search.parse_order_by([str(o) for o in args.items("order_by")], _VERSION_ATTRS)
    keys = keys or [search.OrderKey(search.ATTRIBUTE, "name", False),
                    search.OrderKey(search.ATTRIBUTE, "version_number", True)]
    versions = search.ordered(versions, keys, _version_value)
    size = int(args.integer("max_results", default=10_000) or 10_000)
    chunk, token = search.page(versions, args.text("page_token") or None, size)
    result: dict[str, Any] = {"model_versions": [version_json(v) for v in chunk]}
    if token:
        result["next_page_token"] = token
    return result
