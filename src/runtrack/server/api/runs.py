"""``/api/v1/runs``: create, read, search, count, children, status, tags, properties, delete."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from runtrack import limits
from runtrack.model import ErrorInfo, NewRun, RunQuery, RunStatus
from runtrack.server.api._wire import WireJSONResponse, check_tags, wire
from runtrack.server.deps import get_store
from runtrack.store.base import TrackingStore

router = APIRouter(tags=["runs"], default_response_class=WireJSONResponse)

_Id = Field(min_length=1, max_length=limits.MAX_RUN_ID_LENGTH)


class RunCreate(BaseModel):
    experiment_id: str = Field(max_length=64)
    run_id: str = _Id
    display_name: str = Field(max_length=limits.MAX_DISPLAY_NAME_LENGTH)
    run_type: str = Field(max_length=64)
    status: RunStatus
    parent_id: str | None = Field(default=None, max_length=limits.MAX_RUN_ID_LENGTH)
    tags: dict[str, str | None] | None = None
    properties: dict[str, str] | None = None
    compute_target: str = Field(default="local", max_length=256)
    description: str | None = Field(default=None, max_length=limits.MAX_DESCRIPTION_LENGTH)
    definition: dict[str, Any] | None = None


class RunUpdate(BaseModel):
    display_name: str | None = Field(default=None, max_length=limits.MAX_DISPLAY_NAME_LENGTH)
    description: str | None = Field(default=None, max_length=limits.MAX_DESCRIPTION_LENGTH)


class ErrorBody(BaseModel):
    code: str = Field(max_length=256)
    message: str = Field(max_length=limits.MAX_ERROR_MESSAGE_LENGTH)
    type: str | None = Field(default=None, max_length=1024)
    traceback: str | None = Field(default=None, max_length=1_000_000)
    exit_code: int | None = None
    rank: int | None = None
    first_traceback: str | None = Field(default=None, max_length=1_000_000)
    hint: str | None = Field(default=None, max_length=1_000)


class StatusBody(BaseModel):
    status: RunStatus
    error: ErrorBody | None = None


class TagsBody(BaseModel):
    tags: dict[str, str | None]


class PropertiesBody(BaseModel):
    properties: dict[str, str]


class QueryBody(BaseModel):
    """The JSON form of :class:`runtrack.model.RunQuery`."""

    experiment_ids: list[str] | None = None
    status: list[RunStatus] | None = None
    run_type: str | None = None
    tags: dict[str, str | None] = Field(default_factory=dict)
    properties: dict[str, str | None] = Field(default_factory=dict)
    metric_filters: list[
        tuple[str, Literal["last", "min", "max", "top"],
              Literal["<", "<=", ">", ">=", "==", "!="], float]
    ] = Field(default_factory=list)
    conditions: list[
        tuple[Literal["tag", "property", "attribute"], str,
              Literal["=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN", "NOT IN",
                      "IS NULL", "IS NOT NULL"],
              str | float | list[str] | None]
    ] = Field(default_factory=list, max_length=100)
    parent_id: str | None = None
    include_children: bool = False
    order_by: list[tuple[str, bool]] = Field(default_factory=lambda: [("created_time", True)])
    limit: int | None = Field(default=None, ge=0, le=1_000_000)
    offset: int = Field(default=0, ge=0, le=1_000_000_000)

    def to_query(self) -> RunQuery:
        return RunQuery.from_json(self.model_dump())


@router.post("/runs", summary="Create a run")
def create_run(body: RunCreate, store: TrackingStore = Depends(get_store)) -> Any:
    if body.tags:
        check_tags(body.tags)
    info = store.create_run(NewRun.from_json(body.model_dump()))
    return wire(info.to_json())


@router.post("/runs/search", summary="Search runs (filter, order, page)")
def search_runs(body: QueryBody, store: TrackingStore = Depends(get_store)) -> Any:
    return wire({"runs": [r.to_json() for r in store.search_runs(body.to_query())]})


@router.post("/runs/count", summary="Count the runs a search would return")
def count_runs(body: QueryBody, store: TrackingStore = Depends(get_store)) -> Any:
    return wire({"count": store.count_runs(body.to_query())})


@router.get("/runs/{run_id}", summary="Get a run")
def get_run(run_id: str, store: TrackingStore = Depends(get_store)) -> Any:
    return wire(store.get_run(run_id).to_json())


@router.get("/runs/{run_id}/children", summary="List a run's child runs")
def list_children(run_id: str, store: TrackingStore = Depends(get_store)) -> Any:
    store.get_run(run_id)
    query = RunQuery(parent_id=run_id, order_by=[("number", False)])
    return wire({"runs": [r.to_json() for r in store.search_runs(query)]})


@router.patch("/runs/{run_id}", summary="Change a run's display name or description")
def update_run(run_id: str, body: RunUpdate, store: TrackingStore = Depends(get_store)) -> Any:
    info = store.update_run(run_id, display_name=body.display_name, description=body.description)
    return wire(info.to_json())


@router.put("/runs/{run_id}/status", summary="Set a run's status (and error)")
def set_status(run_id: str, body: StatusBody, store: TrackingStore = Depends(get_store)) -> Any:
    error = ErrorInfo.from_json(body.error.model_dump()) if body.error else None
    return wire(store.set_status(run_id, body.status, error=error).to_json())


@router.patch("/runs/{run_id}/tags", summary="Set run tags")
def set_tags(run_id: str, body: TagsBody, store: TrackingStore = Depends(get_store)) -> Any:
    check_tags(body.tags)
    store.set_tags(run_id, body.tags)
    return wire({"ok": True})


@router.delete("/runs/{run_id}/tags", summary="Remove run tags")
def remove_tags(
    run_id: str, key: list[str] = Query(default=[]), store: TrackingStore = Depends(get_store)
) -> Any:
    store.remove_tags(run_id, key)
    return wire({"ok": True})


@router.post("/runs/{run_id}/properties", summary="Add run properties (add-only)")
def add_properties(
    run_id: str, body: PropertiesBody, store: TrackingStore = Depends(get_store)
) -> Any:
    store.add_properties(run_id, body.properties)
    return wire({"ok": True})


@router.delete("/runs/{run_id}", summary="Delete a run, its children and their data")
def delete_run(run_id: str, store: TrackingStore = Depends(get_store)) -> Any:
    store.delete_run(run_id)
    return wire({"ok": True})
