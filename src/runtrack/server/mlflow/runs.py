"""``/api/2.0/mlflow/runs/*``: create, get, update, delete, restore, search, set/delete tag.

Runs created here are ordinary runtrack runs of type ``mlflow``. MLflow status updates
(``end_run()``) apply only to those: a run created by runtrack itself (a submitted
script, an interactive run) that an MLflow client attached to through
``MLFLOW_RUN_ID`` keeps the status its own lifecycle gives it.
"""

from __future__ import annotations

import dataclasses
import secrets
import uuid
from typing import Any

from fastapi import APIRouter

from runtrack import limits
from runtrack._bulk import collector_paused
from runtrack.errors import NotFoundError, RunStateError
from runtrack.model import NewRun, RunInfo, RunQuery, RunStatus, SeriesInfo
from runtrack.server.mlflow import convert, run_search, search
from runtrack.server.mlflow._endpoint import Args, Ctx, endpoint
from runtrack.server.mlflow._errors import MlflowError, MlflowRoute, invalid, missing
from runtrack.server.mlflow._inputs import read_io
from runtrack.store.base import RunRestater, TrackingStore
from runtrack.store.readers import TopPoint, TopPointReader, scalar_summaries

router = APIRouter(prefix="/api/2.0/mlflow", route_class=MlflowRoute, tags=["mlflow"])

_ATTRIBUTES = {
    "run_id": "run_id", "run_name": "run_name", "run name": "run_name",
    "status": "status", "user_id": "user_id", "artifact_uri": "artifact_uri",
    "start_time": "start_time", "created": "start_time", "end_time": "end_time",
}
_NUMERIC = {"start_time", "end_time"}
_ADJECTIVES = ("amber", "brisk", "calm", "deft", "eager", "fond", "gentle", "keen", "lucid",
               "merry", "nimble", "quiet", "rapid", "sunny", "tidy", "vivid", "witty", "zesty")
_NOUNS = ("otter", "heron", "lynx", "finch", "badger", "koala", "panda", "wren", "yak",
          "gecko", "ibis", "marten", "newt", "owl", "puffin", "quail", "robin", "seal")


def _run_name() -> str:
    return (f"{secrets.choice(_ADJECTIVES)}-{secrets.choice(_NOUNS)}-"
            f"{secrets.randbelow(1000):03d}")


# -- shared helpers (also used by the metrics and artifact routes) ------------------------


def load_run(ctx: Ctx, run_id: str) -> RunInfo:
    try:
        return ctx.store.get_run(run_id)
    except NotFoundError:
        raise missing(f"Run with id={run_id} not found") from None


def experiment_view(ctx: Ctx, info: RunInfo) -> tuple[str, bool]:
    """The run's MLflow experiment id and whether its experiment is deleted."""
    exp = ctx.store.get_experiment(info.experiment_id)
    return convert.experiment_id(exp), exp.archived


def active_run(ctx: Ctx, run_id: str) -> RunInfo:
    """The run, or INVALID_PARAMETER_VALUE when it is deleted (MLflow refuses writes).

    Only the run's own deleted mark is checked (one read per write request); a run
    of a deleted experiment still accepts writes."""
    info = load_run(ctx, run_id)
    if convert.run_deleted(info):
        raise invalid(
            f"The run {run_id} must be in the 'active' state. Current state is deleted."
        )
    return info


def tag_value(value: Any) -> str:
    text = "" if value is None else str(value)
    return text[: convert.MAX_TAG_VALUE_LENGTH]


def run_response(ctx: Ctx, info: RunInfo) -> dict[str, Any]:
    exp_id, archived = experiment_view(ctx, info)
    summaries = ctx.store.get_summaries([info.id]).get(info.id, {})
    deleted = convert.run_deleted(info, archived)
    io = read_io(ctx, info.id)
    return convert.run_json(info, exp_id, summaries, deleted=deleted,
                            inputs=io["inputs"], outputs=io["outputs"])


# -- routes -------------------------------------------------------------------------------


@endpoint(router, "POST", "/runs/create")
def create_run(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Create a run (a runtrack run of type mlflow)."""
    exp = convert.resolve_experiment(ctx.store, args.text("experiment_id") or "0")
    if exp.archived:
        raise invalid(f"The experiment {exp.id} must be in the 'active' state; restore it first")
    tags: dict[str, str | None] = {}
    for item in args.items("tags"):
        if not isinstance(item, dict):
            raise invalid("tags must be a list of {key, value} objects")
        tags[convert.check_key("tag", item.get("key"))] = tag_value(item.get("value"))
    run_name = args.text("run_name")
    tag_name = tags.pop(convert.RUN_NAME_TAG, None)
    if run_name and tag_name and run_name != tag_name:
        raise invalid(
            f"Both 'run_name' argument and 'mlflow.runName' tag are specified, but with "
            f"different values (run_name='{run_name}', mlflow.runName='{tag_name}')."
        )
    name = (run_name or tag_name or _run_name())[: limits.MAX_DISPLAY_NAME_LENGTH]
    parent_id = tags.pop(convert.PARENT_TAG, None)
    if parent_id is not None:
        try:
            ctx.store.get_run(parent_id)
        except NotFoundError:
            tags[convert.PARENT_TAG], parent_id = parent_id, None
    user = args.text("user_id")
    if user and convert.USER_TAG not in tags:
        tags[convert.USER_TAG] = tag_value(user)
    start_ms = args.integer("start_time")
    info = ctx.store.create_run(NewRun(
        exp.id, uuid.uuid4().hex, display_name=name, run_type=convert.RUN_TYPE,
        status=RunStatus.RUNNING, parent_id=parent_id, tags=tags, compute_target="mlflow",
    ))
    if start_ms and isinstance(ctx.store, RunRestater):
        info = ctx.store.restate_run(info.id, start_time=convert.seconds(start_ms))
    return {"run": run_response(ctx, info)}


@endpoint(router, "GET", "/runs/get")
def get_run(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Get a run with its latest metrics, params and tags."""
    return {"run": run_response(ctx, load_run(ctx, args.run_id()))}


@endpoint(router, "POST", "/runs/update")
def update_run(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Rename a run and/or set its status and end time (runs of type mlflow only).

    MLflow's rules: the client's ``end_time`` is kept, and a finished run may go back
    to RUNNING (``mlflow.start_run(run_id=...)`` resumes it) and end again."""
    info = active_run(ctx, args.run_id())
    run_name = args.text("run_name")
    status = args.enum("status")
    end_ms = args.integer("end_time")
    if run_name:
        name = run_name[: limits.MAX_DISPLAY_NAME_LENGTH]
        info = ctx.store.update_run(info.id, display_name=name)
    wanted = convert.mlflow_status(status) if status else None
    if info.run_type == convert.RUN_TYPE and (wanted is not None or end_ms is not None):
        if isinstance(ctx.store, RunRestater):
            end = None if end_ms is None else convert.seconds(end_ms)
            info = ctx.store.restate_run(info.id, status=wanted, end_time=end)
        elif wanted is not None and not info.status.is_terminal:
            try:
                info = ctx.store.set_status(info.id, wanted)
            except RunStateError:
                info = ctx.store.get_run(info.id)
    exp_id, archived = experiment_view(ctx, info)
    return {"run_info": convert.run_info_json(info, exp_id, convert.run_deleted(info, archived))}


@endpoint(router, "POST", "/runs/delete")
def delete_run(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Mark a run deleted (MLflow's soft delete; runtrack keeps the run, tagged)."""
    info = load_run(ctx, args.run_id())
    ctx.store.set_tags(info.id, {convert.DELETED_TAG: convert.DELETED})
    return {}


@endpoint(router, "POST", "/runs/restore")
def restore_run(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Restore a deleted run."""
    info = load_run(ctx, args.run_id())
    ctx.store.remove_tags(info.id, [convert.DELETED_TAG])
    return {}


@endpoint(router, "POST", "/runs/set-tag")
def set_tag(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Set a tag on a run (mlflow.runName renames it)."""
    info = active_run(ctx, args.run_id())
    key = convert.check_key("tag", args.text("key", required=True))
    value = tag_value(args.text("value"))
    apply_tags(ctx, info, {key: value})
    return {}


def apply_tags(ctx: Ctx, info: RunInfo, tags: dict[str, str]) -> None:
    """Write MLflow tags to a run: the name and parent tags map onto the run itself."""
    plain: dict[str, str | None] = {}
    for key, value in tags.items():
        if key == convert.RUN_NAME_TAG:
            ctx.store.update_run(info.id, display_name=value[: limits.MAX_DISPLAY_NAME_LENGTH])
        elif key == convert.PARENT_TAG and value == info.parent_id:
            continue
        elif key in convert.HIDDEN_TAGS:
            raise invalid(f"tag {key!r} is reserved by runtrack; use delete_run/restore_run")
        else:
            plain[key] = value
    if plain:
        ctx.store.set_tags(info.id, plain)


@endpoint(router, "POST", "/runs/delete-tag")
def delete_tag(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Delete a tag of a run."""
    info = active_run(ctx, args.run_id())
    key = args.text("key", required=True)
    if key not in info.tags or key in convert.HIDDEN_TAGS:
        if key in (convert.RUN_NAME_TAG, convert.PARENT_TAG):
            raise invalid(f"tag {key!r} is the run's name/parent in runtrack; it cannot be deleted")
        raise missing(f"No tag with name: {key} in run with id {info.id}")
    ctx.store.remove_tags(info.id, [key])
    return {}


# -- search ---------------------------------------------------------------------------------


class _View:
    """Lookups of one search over runs (values as MLflow filters see them)."""

    def __init__(self, exp_ids: dict[str, tuple[str, bool]],
                 summaries: dict[str, dict[str, SeriesInfo]]) -> None:
        self.exp_ids = exp_ids
        self.summaries = summaries

    def deleted(self, info: RunInfo) -> bool:
        return convert.run_deleted(info, self.exp_ids[info.experiment_id][1])

    def value(self, info: RunInfo, entity: str, key: str) -> Any:
        if entity == search.METRIC:
            summary = self.summaries.get(info.id, {}).get(key)
            found = None if summary is None else convert.latest(summary)
            return None if found is None else found[0]
        if entity == search.PARAM:
            return info.properties.get(key)
        if entity == search.TAG:
            return convert.run_tags(info).get(key)
        data = convert.run_info_json(info, self.exp_ids[info.experiment_id][0], False)
        value = data.get(key)
        return float(value) if key in _NUMERIC and value is not None else value


@endpoint(router, "POST", "/runs/search")
def search_runs(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Search runs with MLflow's filter and order_by grammar, paged."""
    wanted = args.strings("experiment_ids")
    if not wanted:
        return {}
    size = search.page_size(args)
    view_type = search.view_type(args, "run_view_type")
    clauses = search.parse_filter(args.text("filter"), _ATTRIBUTES, _NUMERIC)
    order = search.parse_order_by(args.strings("order_by"), _ATTRIBUTES)
    exps: dict[str, tuple[str, bool]] = {}
    for exp_id in wanted:
        try:
            exp = convert.resolve_experiment(ctx.store, exp_id)
        except MlflowError:
            continue  # MLflow ignores unknown experiment ids in a search
        exps[exp.id] = (convert.experiment_id(exp), exp.archived)
    if not exps:
        return {}
    query = run_search.to_query(clauses, order, {e: gone for e, (_, gone) in exps.items()},
                                view_type)
    if query is not None:  # the database filters, sorts and pages
        start = search.decode_token(args.text("page_token") or None)
        query = dataclasses.replace(query, offset=start, limit=size + 1)
        found = ctx.store.search_runs(query)
        chunk = found[:size]
        token = search.encode_token(start + size) if len(found) > size else None
    else:
        chunk, token = _search_in_python(ctx, exps, clauses, order, view_type, args, size)
    with collector_paused():  # a page of 10,000 runs is ~200,000 dicts and lists
        metrics = convert.top_point_metrics(_top_points(ctx.store, [r.id for r in chunk]))
        runs = [
            convert.run_json(r, exps[r.experiment_id][0], {}, metrics=metrics.get(r.id, []),
                             deleted=convert.run_deleted(r, exps[r.experiment_id][1]))
            for r in chunk
        ]
    result: dict[str, Any] = {"runs": runs}
    if token:
        result["next_page_token"] = token
    return result


def _top_points(store: TrackingStore, run_ids: list[str]) -> list[TopPoint]:
    """The runs' latest metric points: the store's narrow read where it has one, else
    taken from their scalar summaries."""
    if isinstance(store, TopPointReader):
        return store.read_top_points(run_ids)
    points: list[TopPoint] = []
    for summary in scalar_summaries(store, run_ids, None):
        found = convert.latest(summary)
        if found is not None:
            points.append((summary.run_id, summary.name, *found))
    return points


def _search_in_python(
    ctx: Ctx, exps: dict[str, tuple[str, bool]], clauses: list[search.Clause],
    order: list[search.OrderKey], view_type: tuple[bool, ...], args: Args, size: int,
) -> tuple[list[RunInfo], str | None]:
    """The search for filters with no SQL twin: every run of the experiments, filtered
    and sorted here."""
    query = RunQuery(
        experiment_ids=list(exps), include_children=True, order_by=[("created_time", True)],
        tags={c.key: c.value for c in clauses if c.entity == search.TAG and c.op == "="
              and c.key not in (convert.RUN_NAME_TAG, convert.PARENT_TAG)},
        properties={c.key: c.value for c in clauses
                    if c.entity == search.PARAM and c.op == "="},
    )
    found = ctx.store.search_runs(query)
    names = sorted({c.key for c in clauses if c.entity == search.METRIC}
                   | {k.key for k in order if k.entity == search.METRIC})
    summaries = ctx.store.get_summaries([r.id for r in found], names) if names else {}
    view = _View(exps, summaries)
    found = [r for r in found if view.deleted(r) in view_type
             and search.matches(clauses, lambda e, k, r=r: view.value(r, e, k))]  # type: ignore[misc]
    defaults = [search.OrderKey(search.ATTRIBUTE, "start_time", True),
                search.OrderKey(search.ATTRIBUTE, "run_id", False)]
    keys = order + [d for d in defaults if all(d.key != k.key or k.entity != d.entity
                                               for k in order)]
    found = search.ordered(found, keys, view.value)
    return search.page(found, args.text("page_token") or None, size)
