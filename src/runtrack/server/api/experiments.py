"""``/api/v1/experiments``: get-or-create, read, list, rename/archive, tags."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from runtrack import limits
from runtrack.server.api._wire import WireJSONResponse, check_tags, wire
from runtrack.server.deps import get_store
from runtrack.store.base import TrackingStore

router = APIRouter(tags=["experiments"], default_response_class=WireJSONResponse)


class ExperimentCreate(BaseModel):
    name: str = Field(min_length=1, max_length=limits.MAX_EXPERIMENT_NAME_LENGTH)


class ExperimentUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1,
                             max_length=limits.MAX_EXPERIMENT_NAME_LENGTH)
    archived: bool | None = None


class TagsBody(BaseModel):
    tags: dict[str, str | None]


@router.post("/experiments", summary="Get or create an experiment by name")
def create_experiment(
    body: ExperimentCreate, store: TrackingStore = Depends(get_store)
) -> Any:
    return wire(store.get_or_create_experiment(body.name).to_json())


@router.get("/experiments", summary="List experiments")
def list_experiments(
    include_archived: bool = False, store: TrackingStore = Depends(get_store)
) -> Any:
    infos = store.list_experiments(include_archived=include_archived)
    return wire({"experiments": [e.to_json() for e in infos]})


@router.get("/experiments/lookup", summary="Find an experiment by name (null if none)")
def lookup_experiment(
    name: str = Query(max_length=limits.MAX_EXPERIMENT_NAME_LENGTH),
    store: TrackingStore = Depends(get_store),
) -> Any:
    info = store.get_experiment_by_name(name)
    return wire({"experiment": info.to_json() if info else None})


@router.get("/experiments/{experiment_id}", summary="Get an experiment")
def get_experiment(experiment_id: str, store: TrackingStore = Depends(get_store)) -> Any:
    return wire(store.get_experiment(experiment_id).to_json())


@router.patch("/experiments/{experiment_id}", summary="Rename, archive or restore an experiment")
def update_experiment(
    experiment_id: str, body: ExperimentUpdate, store: TrackingStore = Depends(get_store)
) -> Any:
    info = store.update_experiment(experiment_id, name=body.name, archived=body.archived)
    return wire(info.to_json())


@router.patch("/experiments/{experiment_id}/tags", summary="Set experiment tags")
def set_experiment_tags(
    experiment_id: str, body: TagsBody, store: TrackingStore = Depends(get_store)
) -> Any:
    check_tags(body.tags)
    store.set_experiment_tags(experiment_id, body.tags)
    return wire({"ok": True})


@router.delete("/experiments/{experiment_id}/tags", summary="Remove experiment tags")
def remove_experiment_tags(
    experiment_id: str, key: list[str] = Query(default=[]),
    store: TrackingStore = Depends(get_store),
) -> Any:
    store.remove_experiment_tags(experiment_id, key)
    return wire({"ok": True})
