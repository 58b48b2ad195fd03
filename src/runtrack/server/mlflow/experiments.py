"""``/api/2.0/mlflow/experiments/*``: create, get, get-by-name, search, update, delete,
restore, set/delete tag. Deleting an experiment archives it in runtrack."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from runtrack import limits
from runtrack.model import ExperimentInfo
from runtrack.server.mlflow import convert, search
from runtrack.server.mlflow._endpoint import Args, Ctx, endpoint
from runtrack.server.mlflow._errors import (
    RESOURCE_ALREADY_EXISTS,
    MlflowError,
    MlflowRoute,
    invalid,
    missing,
)

router = APIRouter(prefix="/api/2.0/mlflow", route_class=MlflowRoute, tags=["mlflow"])

MAX_EXPERIMENT_TAG_VALUE = 20_000
_ATTRIBUTES = {
    "name": "name",
    "experiment_id": "experiment_id",
    "creation_time": "creation_time",
    "last_update_time": "last_update_time",
}
_NUMERIC = {"creation_time", "last_update_time"}


def _check_name(name: str) -> str:
    if not name.strip():
        raise invalid("experiment name must be a non-empty string")
    if len(name) > limits.MAX_EXPERIMENT_NAME_LENGTH:
        raise invalid(
            f"experiment name is {len(name)} characters long; runtrack allows at most "
            f"{limits.MAX_EXPERIMENT_NAME_LENGTH}"
        )
    return name


def _tag_dict(items: list[Any], what: str) -> dict[str, str | None]:
    tags: dict[str, str | None] = {}
    for item in items:
        if not isinstance(item, dict):
            raise invalid(f"{what} must be a list of {{key, value}} objects")
        key = convert.check_key("tag", item.get("key"))
        value = str(item.get("value") or "")
        if len(value) > MAX_EXPERIMENT_TAG_VALUE:
            raise invalid(f"tag {key!r} value is longer than {MAX_EXPERIMENT_TAG_VALUE}")
        tags[key] = value
    return tags


@endpoint(router, "POST", "/experiments/create")
def create_experiment(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Create an experiment."""
    name = _check_name(args.text("name", required=True))
    tags = _tag_dict(args.items("tags"), "tags")
    location = args.text("artifact_location")
    if location:
        tags[convert.LOCATION_TAG] = convert.resolve_location(location)
    if ctx.store.get_experiment_by_name(name) is not None:
        raise MlflowError(
            RESOURCE_ALREADY_EXISTS, f"Experiment(name={name}) already exists."
        )
    info = ctx.store.get_or_create_experiment(name)
    if tags:
        ctx.store.set_experiment_tags(info.id, tags)
    return {"experiment_id": convert.experiment_id(info)}


@endpoint(router, "GET", "/experiments/get")
def get_experiment(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Get an experiment by id."""
    info = convert.resolve_experiment(ctx.store, args.text("experiment_id", required=True))
    return {"experiment": convert.experiment_json(info)}


@endpoint(router, "GET", "/experiments/get-by-name")
def get_experiment_by_name(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Get an experiment by name."""
    name = args.text("experiment_name", required=True)
    info = ctx.store.get_experiment_by_name(name)
    if info is None:
        raise missing(f"Could not find experiment with name '{name}'")
    return {"experiment": convert.experiment_json(info)}


def _lookup(info: ExperimentInfo) -> Any:
    data = convert.experiment_json(info)

    def lookup(entity: str, key: str) -> Any:
        if entity == search.TAG:
            return None if key in convert.HIDDEN_EXPERIMENT_TAGS else info.tags.get(key)
        if entity != search.ATTRIBUTE:
            raise invalid(f"experiments cannot be filtered by {entity}s")
        value = data[key]
        return float(value) if key in _NUMERIC else value

    return lookup


def _sort_value(lookup: Any, entity: str, key: str) -> Any:
    value = lookup(entity, key)
    return int(value) if key == "experiment_id" else value


@endpoint(router, "POST", "/experiments/search")
def search_experiments(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Search experiments (filter, order_by, view_type, paging)."""
    size = search.page_size(args)
    view = search.view_type(args, "view_type")
    convert.resolve_experiment(ctx.store, convert.DEFAULT_EXPERIMENT_ID)  # MLflow always has it
    clauses = search.parse_filter(args.text("filter"), _ATTRIBUTES, _NUMERIC)
    order = search.parse_order_by(args.strings("order_by"), _ATTRIBUTES)
    found = [
        info for info in ctx.store.list_experiments(include_archived=True)
        if info.archived in view and search.matches(clauses, _lookup(info))
    ]
    defaults = [search.OrderKey(search.ATTRIBUTE, "creation_time", True),
                search.OrderKey(search.ATTRIBUTE, "experiment_id", False)]
    keys = order + [d for d in defaults if all(d.key != k.key for k in order)]
    lookups = {info.id: _lookup(info) for info in found}
    found = search.ordered(found, keys, lambda info, e, k: _sort_value(lookups[info.id], e, k))
    chunk, token = search.page(found, args.text("page_token") or None, size)
    result: dict[str, Any] = {"experiments": [convert.experiment_json(i) for i in chunk]}
    if token:
        result["next_page_token"] = token
    return result


@endpoint(router, "POST", "/experiments/update")
def update_experiment(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Rename an experiment."""
    info = convert.resolve_experiment(ctx.store, args.text("experiment_id", required=True))
    new_name = args.text("new_name")
    if new_name:
        if info.archived:
            raise invalid("Cannot rename a non-active experiment; restore it first")
        if info.name == convert.DEFAULT_EXPERIMENT_NAME:
            raise invalid("the Default experiment (id 0) cannot be renamed in runtrack")
        ctx.store.update_experiment(info.id, name=_check_name(new_name))
    return {}


@endpoint(router, "POST", "/experiments/delete")
def delete_experiment(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Delete (archive) an experiment; its runs read as deleted."""
    info = convert.resolve_experiment(ctx.store, args.text("experiment_id", required=True))
    ctx.store.update_experiment(info.id, archived=True)
    return {}


@endpoint(router, "POST", "/experiments/restore")
def restore_experiment(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Restore a deleted (archived) experiment."""
    info = convert.resolve_experiment(ctx.store, args.text("experiment_id", required=True))
    ctx.store.update_experiment(info.id, archived=False)
    return {}


@endpoint(router, "POST", "/experiments/set-experiment-tag")
def set_experiment_tag(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Set a tag on an experiment."""
    info = convert.resolve_experiment(ctx.store, args.text("experiment_id", required=True))
    key = args.text("key", required=True)
    if key in convert.HIDDEN_EXPERIMENT_TAGS:
        raise invalid(f"tag {key!r} is reserved by runtrack (the experiment's artifact location)")
    ctx.store.set_experiment_tags(info.id, _tag_dict([{"key": key, "value": args.text("value")}],
                                                     "tag"))
    return {}


@endpoint(router, "POST", "/experiments/delete-experiment-tag")
def delete_experiment_tag(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Delete a tag of an experiment."""
    info = convert.resolve_experiment(ctx.store, args.text("experiment_id", required=True))
    key = args.text("key", required=True)
    if key not in info.tags or key in convert.HIDDEN_EXPERIMENT_TAGS:
        raise missing(f"No tag with name: {key} in experiment with id {info.id}")
    ctx.store.remove_experiment_tags(info.id, [key])
    return {}
