"""The compare workspace's server side: saved views, run actions, hyperparameter rows.

* ``GET /views/experiments/{id}/saved-views`` lists an experiment's saved views,
  ``POST`` (JSON ``{"name", "query"}``) saves one, ``DELETE …/saved-views/{name}``
  removes it. A view is the runs page's query string (filters, columns, compare
  panels, grouping); it is kept server-side as an experiment tag
  ``runtrack.view:<name>``, so every user of the server sees it and no schema changes.
* ``POST /views/runs/actions`` (JSON) applies one action to several runs: ``tag``,
  ``untag``, ``rename``, ``cancel``, ``delete``, ``archive`` or ``unarchive``. Archiving
  sets the reserved tag ``runtrack.archived`` (:data:`._runs_table.ARCHIVED_TAG`, value:
  when, in epoch seconds) and unarchiving removes it; the runs tables hide archived runs
  unless asked (``archived=1``). Nothing else changes: an archived run keeps its data,
  the SDK and the MLflow API still list it. Like every write it obeys the server's
  rules: read-only tokens are refused by auth, cross-site and form posts by
  :mod:`runtrack.server.security`.
* ``GET /views/hparams?run=…`` gives, per run, its properties, tags and scalar metric
  summaries (last/min/max) as flat columns: the rows of the parallel-coordinates and
  scatter charts.
* ``GET /views/access`` says whether the caller may change data (the pages hide run
  actions when not).
"""

from __future__ import annotations

import time
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from runtrack import limits
from runtrack.errors import InvalidValueError, NotFoundError, RunStateError
from runtrack.model import RunStatus
from runtrack.server.api._chart_data import run_label
from runtrack.server.api._runs_table import ARCHIVED_TAG
from runtrack.server.api._wire import WireJSONResponse, check_tags
from runtrack.server.deps import get_settings, get_store
from runtrack.server.settings import ServerSettings
from runtrack.store.base import TrackingStore

router = APIRouter(tags=["views"], default_response_class=WireJSONResponse)

VIEW_TAG = "runtrack.view:"
MAX_VIEW_NAME = 100
MAX_VIEW_QUERY = 4_000
MAX_ACTION_RUNS = 500
MAX_HPARAM_RUNS = 1_000


class SavedView(BaseModel):
    name: str = Field(min_length=1, max_length=MAX_VIEW_NAME)
    query: str = Field(max_length=MAX_VIEW_QUERY, description="the runs page's query string")


def _views(store: TrackingStore, experiment_id: str) -> list[dict[str, str]]:
    tags = store.get_experiment(experiment_id).tags
    return sorted(({"name": k[len(VIEW_TAG):], "query": v or ""}
                   for k, v in tags.items() if k.startswith(VIEW_TAG)),
                  key=lambda v: v["name"].lower())


@router.get("/views/experiments/{experiment_id}/saved-views",
            summary="Saved views of an experiment's runs page")
def list_views(experiment_id: str, store: TrackingStore = Depends(get_store)) -> Any:
    return {"views": _views(store, experiment_id)}


@router.post("/views/experiments/{experiment_id}/saved-views",
             summary="Save (or replace) a named view of an experiment's runs page")
def save_view(experiment_id: str, body: SavedView,
              store: TrackingStore = Depends(get_store)) -> Any:
    name = body.name.strip()
    if not name or any(c in name for c in "\n\r\t"):
        raise InvalidValueError(
            f"view name {body.name!r} is empty or holds a line break or tab: use a short title"
        )
    query = body.query.lstrip("?")
    store.set_experiment_tags(experiment_id, {VIEW_TAG + name: query})
    return {"views": _views(store, experiment_id), "saved": {"name": name, "query": query}}


@router.delete("/views/experiments/{experiment_id}/saved-views/{name}",
               summary="Remove a saved view")
def delete_view(experiment_id: str, name: str, store: TrackingStore = Depends(get_store)) -> Any:
    if name not in {v["name"] for v in _views(store, experiment_id)}:
        raise NotFoundError(f"experiment {experiment_id} has no saved view named {name!r}")
    store.remove_experiment_tags(experiment_id, [VIEW_TAG + name])
    return {"views": _views(store, experiment_id)}


class RunAction(BaseModel):
    action: Literal["tag", "untag", "rename", "cancel", "delete", "archive", "unarchive"]
    runs: list[str] = Field(min_length=1, max_length=MAX_ACTION_RUNS)
    tags: dict[str, str | None] = Field(
        default_factory=dict, description="tag: key -> value; untag: the keys")
    display_name: str | None = Field(default=None, max_length=limits.MAX_DISPLAY_NAME_LENGTH)


def _cancel(store: TrackingStore, run_id: str) -> str:
    """A submitted (script) run is asked to stop: its supervisor polls for
    CancelRequested and stops the process tree. Any other run is marked Canceled."""
    info = store.get_run(run_id)
    if info.status.is_terminal:
        return info.status.value
    wanted = RunStatus.CANCEL_REQUESTED if info.run_type == "script" else RunStatus.CANCELED
    if info.status is RunStatus.CANCEL_REQUESTED:
        return RunStatus.CANCEL_REQUESTED.value
    try:
        return str(store.set_status(run_id, wanted).status.value)
    except RunStateError:
        return str(store.get_run(run_id).status.value)


@router.post("/views/runs/actions",
             summary="Tag, untag, rename, cancel, delete, archive or unarchive runs")
def run_actions(body: RunAction, store: TrackingStore = Depends(get_store)) -> Any:
    ids = list(dict.fromkeys(body.runs))
    if body.action in ("tag", "untag") and not body.tags:
        raise InvalidValueError(f"action {body.action!r} needs tags: {{\"tags\": {{key: value}}}}")
    if body.action == "rename" and (len(ids) != 1 or not (body.display_name or "").strip()):
        raise InvalidValueError("action 'rename' takes one run and a non-empty display_name")
    if body.action == "tag":
        check_tags(body.tags)
    for run_id in ids:
        store.get_run(run_id)  # every run exists before anything changes
    done: list[dict[str, Any]] = []
    archived_at = f"{time.time():.3f}"
    for run_id in ids:
        if body.action == "archive":
            if ARCHIVED_TAG not in store.get_run(run_id).tags:  # keep the first time
                store.set_tags(run_id, {ARCHIVED_TAG: archived_at})
        elif body.action == "unarchive":
            store.remove_tags(run_id, [ARCHIVED_TAG])
        elif body.action == "tag":
            store.set_tags(run_id, body.tags)
        elif body.action == "untag":
            store.remove_tags(run_id, list(body.tags))
        elif body.action == "rename":
            store.update_run(run_id, display_name=(body.display_name or "").strip())
        elif body.action == "cancel":
            done.append({"id": run_id, "status": _cancel(store, run_id)})
            continue
        else:
            store.delete_run(run_id)
            done.append({"id": run_id, "deleted": True})
            continue
        done.append({"id": run_id})
    return {"action": body.action, "runs": done}


@router.get("/views/hparams", summary="Properties, tags and metric summaries of runs, flat")
def hparams(
    run: list[str] = Query(min_length=1, max_length=MAX_HPARAM_RUNS, description="run ids"),
    store: TrackingStore = Depends(get_store),
) -> Any:
    ids = list(dict.fromkeys(run))
    infos = [store.get_run(i) for i in ids]
    summaries = store.get_summaries(ids)
    rows: list[dict[str, Any]] = []
    columns: dict[str, str] = {}
    for info in infos:
        values: dict[str, Any] = {}
        for key, value in info.properties.items():
            values[f"prop:{key}"] = _number_or_text(value)
            columns.setdefault(f"prop:{key}", key)
        for key, tag_value in info.tags.items():
            values[f"tag:{key}"] = _number_or_text(tag_value)
            columns.setdefault(f"tag:{key}", key)
        for name, s in summaries.get(info.id, {}).items():
            if s.kind.value != "scalar":
                continue
            for agg, number in (("last", s.last), ("min", s.minimum), ("max", s.maximum)):
                key = f"metric:{name}:{agg}"
                values[key] = number
                columns.setdefault(key, f"{name} ({agg})")
        rows.append({"id": info.id, "label": run_label(info), "status": info.status.value,
                     "values": values})
    return {"columns": [{"key": k, "label": v} for k, v in sorted(columns.items())],
            "runs": rows}


def _number_or_text(value: str | None) -> float | str | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return value
    return number if number == number and abs(number) != float("inf") else value


@router.get("/views/access", summary="Whether the caller may change data")
def access(request: Request, settings: ServerSettings = Depends(get_settings)) -> Any:
    return {"write": can_write(request, settings)}


def can_write(request: Request, settings: ServerSettings) -> bool:
    """False for a read-only token (auth on), else True."""
    if not settings.auth or settings.token_file is None:
        return True
    from runtrack.server.auth import COOKIE_NAME, TokenBook

    header = request.headers.get("authorization", "")
    scheme, _, rest = header.partition(" ")
    token = rest.strip() if scheme.lower() == "bearer" else request.cookies.get(COOKIE_NAME)
    record = TokenBook(settings.token_file).lookup(token) if token else None
    return record is not None and not record.read_only
