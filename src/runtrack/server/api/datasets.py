"""``/api/v1/datasets`` (registered datasets and their versions) and
``/api/v1/runs/{run_id}/inputs`` (the datasets a run read: its lineage)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from runtrack import limits
from runtrack.catalog import RunInputInfo, check_model_name
from runtrack.server.api._wire import WireJSONResponse, check_tags, wire
from runtrack.server.deps import get_store
from runtrack.store.base import TrackingStore

router = APIRouter(tags=["datasets"], default_response_class=WireJSONResponse)

_MAX_VERSION = 2**31 - 1


class DatasetCreate(BaseModel):
    name: str
    kind: str = Field(pattern="^(tabular|file)$")
    definition: dict[str, Any]
    digest: str = Field(max_length=128)
    description: str | None = Field(default=None, max_length=limits.MAX_DESCRIPTION_LENGTH)
    tags: dict[str, str] | None = None
    create_new_version: bool = True


class InputBody(BaseModel):
    name: str = Field(min_length=1, max_length=500)
    digest: str = Field(default="", max_length=128)
    dataset_name: str | None = Field(default=None, max_length=255)
    dataset_version: int | None = Field(default=None, ge=1, le=_MAX_VERSION)
    source_type: str = Field(default="", max_length=64)
    source: str = Field(default="", max_length=1_000_000)
    schema_: str = Field(default="", max_length=1_000_000, alias="schema")
    profile: str = Field(default="", max_length=1_000_000)
    context: str = Field(default="", max_length=250)
    tags: dict[str, str] = Field(default_factory=dict)


class InputsBody(BaseModel):
    inputs: list[InputBody] = Field(max_length=1000)


class RunIdsBody(BaseModel):
    run_ids: list[str] = Field(max_length=10_000)


@router.post("/datasets", summary="Register a dataset version")
def register_dataset(body: DatasetCreate, store: TrackingStore = Depends(get_store)) -> Any:
    check_tags(dict(body.tags or {}))
    info = store.register_dataset(
        check_model_name(body.name), kind=body.kind, definition=body.definition,
        digest=body.digest, description=body.description, tags=body.tags,
        create_new_version=body.create_new_version,
    )
    return wire(info.to_json())


@router.get("/datasets", summary="List dataset versions (of one name, or all)")
def list_datasets(
    name: str | None = Query(default=None, max_length=255),
    store: TrackingStore = Depends(get_store),
) -> Any:
    return wire({"datasets": [d.to_json() for d in store.list_datasets(name)]})


@router.get("/datasets/{name}", summary="Get a dataset version (the latest by default)")
def get_dataset(
    name: str, version: int | None = Query(default=None, ge=1, le=_MAX_VERSION),
    store: TrackingStore = Depends(get_store),
) -> Any:
    return wire(store.get_dataset(name, version).to_json())


@router.post("/runs/{run_id}/inputs", summary="Record datasets a run read")
def log_inputs(run_id: str, body: InputsBody, store: TrackingStore = Depends(get_store)) -> Any:
    inputs = []
    for item in body.inputs:
        check_tags(dict(item.tags))
        data = item.model_dump(by_alias=True)
        inputs.append(RunInputInfo.from_json(data))
    store.log_run_inputs(run_id, inputs)
    return wire({"ok": True})


@router.post("/run-inputs", summary="The inputs of several runs")
def run_inputs(body: RunIdsBody, store: TrackingStore = Depends(get_store)) -> Any:
    found = store.get_run_inputs(body.run_ids)
    return wire({"inputs": {k: [i.to_json() for i in v] for k, v in found.items()}})
