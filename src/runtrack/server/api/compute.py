"""``/api/v1/compute-targets``: the workspace's named compute targets (``runtrack compute``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from runtrack.server.api._wire import WireJSONResponse, wire
from runtrack.server.deps import get_store
from runtrack.store.base import TrackingStore

router = APIRouter(tags=["compute"], default_response_class=WireJSONResponse)


class ComputeTargetCreate(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    kind: str = Field(max_length=32)
    address: str | None = Field(default=None, max_length=2048)


@router.post("/compute-targets", summary="Name a compute target of the workspace")
def add_compute_target(
    body: ComputeTargetCreate, store: TrackingStore = Depends(get_store)
) -> Any:
    return wire(store.add_compute_target(body.name, body.kind, body.address).to_json())


@router.get("/compute-targets", summary="List the named compute targets ('local' is implied)")
def list_compute_targets(store: TrackingStore = Depends(get_store)) -> Any:
    return wire({"compute_targets": [t.to_json() for t in store.list_compute_targets()]})


@router.delete("/compute-targets/{name}", summary="Forget a named compute target")
def remove_compute_target(name: str, store: TrackingStore = Depends(get_store)) -> Any:
    store.remove_compute_target(name)
    return wire({"ok": True})
