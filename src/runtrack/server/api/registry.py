"""``/api/v1/registered-models``: the model registry (models, versions, tags, properties,
aliases). A version's files are uploaded first under the reserved artifact key
:data:`runtrack.catalog.MODEL_FILES_KEY` (``PUT /runs/.models/artifacts/<folder>/...``,
never overwriting), then the version is created pointing at that folder."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from runtrack import limits
from runtrack.catalog import MODEL_FILES_KEY, check_model_name
from runtrack.server.api._wire import WireJSONResponse, check_tags, wire
from runtrack.server.deps import get_artifacts, get_store
from runtrack.store.base import ArtifactStore, TrackingStore

router = APIRouter(tags=["models"], default_response_class=WireJSONResponse)

_Description = Field(default=None, max_length=limits.MAX_DESCRIPTION_LENGTH)
_MAX_VERSION = 2**31 - 1
VersionNo = Annotated[int, Path(ge=1, le=_MAX_VERSION)]
AliasName = Annotated[str, Path(min_length=1, max_length=255)]


class ModelCreate(BaseModel):
    name: str
    description: str | None = _Description
    tags: dict[str, str | None] | None = None


class ModelUpdate(BaseModel):
    new_name: str | None = None
    description: str | None = _Description


class VersionCreate(BaseModel):
    source: str = Field(max_length=limits.MAX_ARTIFACT_PATH_LENGTH)
    files: str | None = Field(default=None, max_length=1024)
    run_id: str | None = Field(default=None, max_length=limits.MAX_RUN_ID_LENGTH)
    description: str | None = _Description
    tags: dict[str, str | None] | None = None
    properties: dict[str, str] | None = None


class VersionUpdate(BaseModel):
    description: str | None = _Description
    stage: str | None = Field(default=None, max_length=32)


class TagsBody(BaseModel):
    tags: dict[str, str | None]
    version: int | None = Field(default=None, ge=1, le=_MAX_VERSION)


class PropertiesBody(BaseModel):
    properties: dict[str, str]


class AliasBody(BaseModel):
    version: int = Field(ge=1, le=_MAX_VERSION)


def check_properties(properties: dict[str, str]) -> None:
    """Property keys within the tag key limit (the same column width)."""
    check_tags(dict(properties))


@router.post("/registered-models", summary="Create a registered model (no versions yet)")
def create_model(body: ModelCreate, store: TrackingStore = Depends(get_store)) -> Any:
    check_tags(body.tags or {})
    info = store.create_registered_model(check_model_name(body.name),
                                         description=body.description, tags=body.tags)
    return wire(info.to_json())


@router.get("/registered-models", summary="List registered models")
def list_models(store: TrackingStore = Depends(get_store)) -> Any:
    return wire({"models": [m.to_json() for m in store.list_registered_models()]})


@router.get("/model-versions", summary="List the versions of every registered model")
def list_all_versions(store: TrackingStore = Depends(get_store)) -> Any:
    return wire({"versions": [v.to_json() for v in store.list_model_versions()]})


@router.get("/registered-models/{name}", summary="Get a registered model")
def get_model(name: str, store: TrackingStore = Depends(get_store)) -> Any:
    return wire(store.get_registered_model(name).to_json())


@router.patch("/registered-models/{name}", summary="Rename or describe a registered model")
def update_model(name: str, body: ModelUpdate, store: TrackingStore = Depends(get_store)) -> Any:
    new_name = None if body.new_name is None else check_model_name(body.new_name)
    info = store.update_registered_model(name, new_name=new_name, description=body.description)
    return wire(info.to_json())


@router.delete("/registered-models/{name}", summary="Delete a registered model and its versions")
def delete_model(name: str, store: TrackingStore = Depends(get_store)) -> Any:
    gone = store.delete_registered_model(name)
    return wire({"versions": [v.to_json() for v in gone]})


@router.post("/registered-models/{name}/versions", summary="Register the next version")
def create_version(
    name: str, body: VersionCreate, store: TrackingStore = Depends(get_store)
) -> Any:
    check_tags(body.tags or {})
    check_properties(body.properties or {})
    info = store.create_model_version(
        check_model_name(name), source=body.source, files=body.files, run_id=body.run_id,
        description=body.description, tags=body.tags, properties=body.properties,
    )
    return wire(info.to_json())


@router.get("/registered-models/{name}/versions", summary="List the versions of a model")
def list_versions(name: str, store: TrackingStore = Depends(get_store)) -> Any:
    return wire({"versions": [v.to_json() for v in store.list_model_versions(name)]})


@router.get("/registered-models/{name}/versions/{version}", summary="Get a model version")
def get_version(name: str, version: VersionNo, store: TrackingStore = Depends(get_store)) -> Any:
    return wire(store.get_model_version(name, version).to_json())


@router.patch("/registered-models/{name}/versions/{version}",
              summary="Change a version's description or stage")
def update_version(
    name: str, version: VersionNo, body: VersionUpdate, store: TrackingStore = Depends(get_store)
) -> Any:
    info = store.update_model_version(name, version, description=body.description,
                                      stage=body.stage)
    return wire(info.to_json())


@router.delete("/registered-models/{name}/versions/{version}", summary="Delete a model version")
def delete_version(name: str, version: VersionNo, store: TrackingStore = Depends(get_store)) -> Any:
    return wire(store.delete_model_version(name, version).to_json())


@router.patch("/registered-models/{name}/tags", summary="Set tags of a model or a version")
def set_tags(name: str, body: TagsBody, store: TrackingStore = Depends(get_store)) -> Any:
    check_tags(body.tags)
    store.set_model_tags(name, body.tags, version=body.version)
    return wire({"ok": True})


@router.delete("/registered-models/{name}/tags", summary="Remove tags of a model or a version")
def remove_tags(
    name: str, key: list[str] = Query(default=[]),
    version: int | None = Query(default=None, ge=1, le=_MAX_VERSION),
    store: TrackingStore = Depends(get_store),
) -> Any:
    store.remove_model_tags(name, key, version=version)
    return wire({"ok": True})


@router.post("/registered-models/{name}/versions/{version}/properties",
             summary="Add properties to a model version (add-only)")
def add_properties(
    name: str, version: VersionNo, body: PropertiesBody, store: TrackingStore = Depends(get_store)
) -> Any:
    check_properties(body.properties)
    store.add_model_version_properties(name, version, body.properties)
    return wire({"ok": True})


@router.put("/registered-models/{name}/aliases/{alias}", summary="Point an alias at a version")
def set_alias(
    name: str, body: AliasBody, alias: AliasName, store: TrackingStore = Depends(get_store)
) -> Any:
    store.set_model_alias(name, alias, body.version)
    return wire({"ok": True})


@router.delete("/registered-models/{name}/aliases/{alias}", summary="Remove an alias")
def delete_alias(name: str, alias: AliasName, store: TrackingStore = Depends(get_store)) -> Any:
    store.delete_model_alias(name, alias)
    return wire({"ok": True})


@router.get("/registered-models/{name}/detail",
            summary="A model with every version and its files (the Models page's data)")
def model_detail(
    name: str, store: TrackingStore = Depends(get_store),
    artifacts: ArtifactStore = Depends(get_artifacts),
) -> Any:
    return wire(detail(store, artifacts, name))


def detail(store: TrackingStore, artifacts: ArtifactStore, name: str) -> dict[str, Any]:
    """``{"model": …, "versions": [… + "file_list": [{path, size, url}]]}``, newest first."""
    model = store.get_registered_model(name)
    versions = []
    for info in reversed(store.list_model_versions(name)):
        item = info.to_json()
        files = [] if info.files is None else artifacts.list(MODEL_FILES_KEY, info.files)
        item["file_list"] = [
            {"path": f.path[len(info.files or "") + 1:], "size": f.size,
             "url": f"/api/v1/runs/{MODEL_FILES_KEY}/artifacts/{quote(f.path)}"}
            for f in files
        ]
        versions.append(item)
    return {"model": model.to_json(), "versions": versions}
