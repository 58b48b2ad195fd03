"""The artifact proxy ``/api/2.0/mlflow-artifacts/artifacts/<path>``.

Runs answer ``artifact_uri = mlflow-artifacts:/<exp>/<run_id>/artifacts``, so the
MLflow client uploads, lists and downloads through these routes, and the paths map
straight onto the run's files in runtrack's ArtifactStore:
``<exp>/<run_id>/artifacts/<file>`` -> ``(run_id, <file>)``. Logged models without a
source run live under ``<exp>/models/<model_id>/artifacts/<file>`` (kept under the
reserved side key). Registered model versions are read-only under
``registered-models/<folder>/<file>``. Paths are percent-decoded once by the router; ``..``, ``#``,
backslashes and absolute paths are refused (400). Multipart uploads, presigned
downloads and deletes answer 501, so the client falls back or reports it.
"""

from __future__ import annotations

import mimetypes
import tempfile
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from runtrack.catalog import MODEL_FILES_KEY
from runtrack.errors import InvalidValueError, NotFoundError
from runtrack.server.mlflow._endpoint import Ctx, context
from runtrack.server.mlflow._errors import (
    NOT_IMPLEMENTED,
    MlflowError,
    MlflowRoute,
    invalid,
    missing,
)
from runtrack.server.mlflow._inputs import SIDE_KEY, read_json
from runtrack.store.base import iter_chunks

PREFIX = "/api/2.0/mlflow-artifacts"
router = APIRouter(prefix=PREFIX, route_class=MlflowRoute, tags=["mlflow"])

_SPOOL_BYTES = 8 << 20
#: First segment of the proxy paths of registered model files (see :mod:`.registry`).
REGISTRY_PREFIX = "registered-models"


def _split(path: str, *, allow_root: bool = False) -> tuple[str, str] | None:
    """``(artifact key, file path inside it)`` for a proxy path; None for the levels
    above a run's ``artifacts`` folder (nothing to list there)."""
    if "#" in path or "\\" in path or path.startswith("/") or "\x00" in path:
        raise invalid(f"Invalid path: {path!r}")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts or (len(parts) > 1 and parts[1] == SIDE_KEY):
        raise invalid(f"Invalid path: {path!r}")
    if len(parts) >= 3 and parts[0] == REGISTRY_PREFIX:  # registered model files (read-only)
        return MODEL_FILES_KEY, "/".join(parts[1:])
    if len(parts) >= 3 and parts[2] == "artifacts" and parts[1] != "models":
        return parts[1], "/".join(parts[3:])
    if len(parts) >= 4 and parts[1] == "models" and parts[3] == "artifacts":
        return SIDE_KEY, "/".join(["models", parts[2], "artifacts", *parts[4:]])
    if allow_root:
        return None
    raise invalid(
        f"Invalid path: {path!r}; expected <experiment>/<run_id>/artifacts/<file> "
        "(use the run's artifact_uri)"
    )


def proxy_location(path: str) -> tuple[str, str] | None:
    """``(artifact key, path)`` a proxy path (``<exp>/<run_id>/artifacts/<file>`` …) names,
    or None when it names no run folder; 400 for unsafe paths."""
    return _split(path, allow_root=True)


def _require_owner(ctx: Ctx, key: str, rel: str) -> None:
    """404 unless the run (or, under the side key, the logged model) exists."""
    if key == MODEL_FILES_KEY:
        raise invalid("registered model files are immutable; register a new version instead")
    if key == SIDE_KEY:
        model_id = rel.split("/")[1]
        if read_json(ctx, f"logged-models/{model_id}.json") is None:
            raise missing(f"Logged model with ID '{model_id}' not found.")
        return
    try:
        ctx.store.get_run(key)
    except NotFoundError:
        raise missing(f"Run with id={key} not found") from None


def _upload(ctx: Ctx, path: str, body: Any) -> None:
    key, rel = _split(path) or ("", "")
    if not rel:
        raise invalid(f"Invalid path: {path!r} names no file")
    _require_owner(ctx, key, rel)
    body.seek(0)
    ctx.artifacts.put(key, rel, body, overwrite=True)


@router.put("/artifacts/{path:path}", summary="Upload an artifact file")
async def upload(path: str, request: Request) -> Response:
    ctx = context(request)
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as body:
        async for block in request.stream():
            await run_in_threadpool(body.write, block)
        await run_in_threadpool(_upload, ctx, path, body)
    return JSONResponse({})


def listing(ctx: Ctx, path: str) -> dict[str, Any]:
    where = _split(path, allow_root=True)
    if where is None:
        return {}
    key, rel = where
    try:
        files = ctx.artifacts.list(key, rel)
    except InvalidValueError:
        return {}
    entries: dict[str, dict[str, Any]] = {}
    for info in files:
        if info.path == rel:
            return {}  # a file, not a folder
        inner = info.path[len(rel) + 1:] if rel else info.path
        head, sep, _ = inner.partition("/")
        if sep:
            entries[head] = {"path": head, "is_dir": True}
        else:
            entry: dict[str, Any] = {"path": head, "is_dir": False}
            if info.size:
                entry["file_size"] = info.size
            entries[head] = entry
    if key == SIDE_KEY:
        entries.pop("io.json", None)
    return {"files": list(entries.values())} if entries else {}


@router.get("/artifacts", summary="List artifact files of a folder")
async def list_artifacts(request: Request, path: str = "") -> Response:
    return JSONResponse(await run_in_threadpool(listing, context(request), path))


def open_file(ctx: Ctx, path: str) -> Any:
    key, rel = _split(path) or ("", "")
    if not rel:
        raise missing(f"artifact {path!r} is a folder, not a file")
    try:
        return ctx.artifacts.open(key, rel)
    except (NotFoundError, IsADirectoryError, FileNotFoundError):
        raise missing(f"artifact {path!r} does not exist") from None


@router.get("/artifacts/{path:path}", summary="Download an artifact file")
async def download(path: str, request: Request) -> Response:
    handle = await run_in_threadpool(open_file, context(request), path)
    name = path.rsplit("/", 1)[-1]
    media = mimetypes.guess_type(name)[0] or "application/octet-stream"

    def chunks() -> Any:
        with handle:
            yield from iter_chunks(handle)

    return StreamingResponse(
        chunks(), media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.delete("/artifacts/{path:path}", summary="Delete artifacts (not implemented)")
async def delete(path: str) -> Response:
    raise MlflowError(NOT_IMPLEMENTED, "runtrack does not delete single run artifacts")


@router.post("/mpu/{rest:path}", summary="Multipart upload (not implemented)")
async def multipart(rest: str) -> Response:
    raise MlflowError(
        NOT_IMPLEMENTED,
        "Multipart upload is not supported for the current artifact repository",
    )
