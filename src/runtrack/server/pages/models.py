"""The Models pages: ``/models`` (every registered model; twin ``/api/v1/registered-models``)
and ``/models/{name}`` (its versions, source runs and files; twin
``/api/v1/registered-models/{name}/detail``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from runtrack.server.api.registry import detail
from runtrack.server.deps import get_artifacts, get_store
from runtrack.server.pages.views import _render
from runtrack.store.base import ArtifactStore, TrackingStore

router = APIRouter(include_in_schema=False)


@router.get("/models")
def models_page(request: Request, store: TrackingStore = Depends(get_store)) -> Response:
    def build() -> dict[str, Any]:
        return {"models": [m.to_json() for m in store.list_registered_models()]}

    return _render(request, "models.html", build, "/api/v1/registered-models")


@router.get("/models/{name}")
def model_page(
    name: str, request: Request, store: TrackingStore = Depends(get_store),
    artifacts: ArtifactStore = Depends(get_artifacts),
) -> Response:
    def build() -> dict[str, Any]:
        return detail(store, artifacts, name)

    return _render(request, "model.html", build,
                   f"/api/v1/registered-models/{quote(name, safe='')}/detail")
