"""Artifact routes of MLflow's tracking API (beside the ``mlflow-artifacts`` proxy).

* ``GET artifacts/list`` — a run's files in one folder (``{root_uri, files}``);
* ``GET logged-models/{id}/artifacts/directories`` — a logged model's files;
* ``POST upload-artifact`` and ``GET logged-models/{id}/artifacts/files`` — the web
  UI's upload and download, served under ``/ajax-api/2.0/mlflow`` only, as MLflow does.

Paths are checked the way MLflow checks them (``..``, absolute paths: 400 "Invalid
path") and then map onto the proxy's layout, so both faces list the same files.
"""

from __future__ import annotations

import mimetypes
import re
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from runtrack.server.mlflow import artifacts, convert
from runtrack.server.mlflow._endpoint import Args, Ctx, context, endpoint
from runtrack.server.mlflow._errors import MlflowRoute, invalid, missing
from runtrack.server.mlflow.models import load_model
from runtrack.server.mlflow.runs import active_run, experiment_view, load_run
from runtrack.store.base import iter_chunks

router = APIRouter(prefix="/api/2.0/mlflow", route_class=MlflowRoute, tags=["mlflow"])
#: Routes MLflow's server has only under the web UI's prefix.
ajax_router = APIRouter(prefix="/ajax-api/2.0/mlflow", route_class=MlflowRoute, tags=["mlflow"])

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
#: Paths of :data:`ajax_router` (the ``/ajax-api`` twin rewrite leaves them alone).
AJAX_ONLY = re.compile(
    r"^/ajax-api/2\.0/mlflow/(upload-artifact|logged-models/[^/]+/artifacts/files)$"
)
_PROXY_SCHEME = "mlflow-artifacts:/"


def safe_path(path: str) -> str:
    """``path`` if it is a relative path inside its root, else 400 "Invalid path"."""
    parts = path.replace("\\", "/").split("/")
    if (path.startswith(("/", "\\")) or ".." in parts or "#" in path or "\x00" in path
            or (len(path) > 1 and path[1] == ":")):
        raise invalid(f"Invalid path: {path!r}")
    return "/".join(p for p in parts if p not in ("", "."))


def _join(root: str, rel: str) -> str:
    return f"{root}/{rel}" if rel else root


def _run_root(ctx: Ctx, run_id: str) -> tuple[str, str]:
    """``(artifact_uri, proxy path)`` of a run's artifacts folder."""
    info = load_run(ctx, run_id)
    exp_id, _ = experiment_view(ctx, info)
    uri = convert.artifact_uri(info, exp_id)
    return uri, uri[len(_PROXY_SCHEME):]


def _model_root(ctx: Ctx, model_id: str) -> tuple[str, str]:
    uri = str(load_model(ctx, model_id)["model"]["info"]["artifact_uri"])
    if not uri.startswith(_PROXY_SCHEME):
        raise missing(f"Logged model with ID '{model_id}' keeps no files on this server")
    return uri, uri[len(_PROXY_SCHEME):]


@endpoint(router, "GET", "/artifacts/list")
def list_run_artifacts(ctx: Ctx, args: Args) -> dict[str, Any]:
    """List a run's artifact files in one folder."""
    rel = safe_path(args.text("path"))
    uri, root = _run_root(ctx, args.run_id())
    return {"root_uri": uri, **artifacts.listing(ctx, _join(root, rel))}


@endpoint(router, "GET", "/logged-models/{model_id}/artifacts/directories")
def list_model_artifacts(ctx: Ctx, args: Args) -> dict[str, Any]:
    """List a logged model's artifact files in one folder."""
    rel = safe_path(args.text("artifact_directory_path"))
    uri, root = _model_root(ctx, args.text("model_id", required=True))
    return {"root_uri": uri, **artifacts.listing(ctx, _join(root, rel))}


def _upload(ctx: Ctx, run_id: str, path: str, data: bytes) -> None:
    rel = safe_path(path)
    if not rel:
        raise invalid("Request must specify path.")
    info = active_run(ctx, run_id)
    ctx.artifacts.put(info.id, rel, data, overwrite=True)


@ajax_router.post("/upload-artifact", summary="Upload one artifact file of a run (web UI)")
async def upload_artifact(request: Request) -> Response:
    run_id = request.query_params.get("run_uuid") or request.query_params.get("run_id")
    if not run_id:
        raise invalid("Request must specify run_uuid.")
    path = request.query_params.get("path")
    if not path:
        raise invalid("Request must specify path.")
    size = int(request.headers.get("content-length") or 0)
    if size > MAX_UPLOAD_BYTES:
        raise invalid("Artifact size is too large. Max size is 10MB.")
    data = await request.body()
    if not data:
        raise invalid("Request must specify data.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise invalid("Artifact size is too large. Max size is 10MB.")
    await run_in_threadpool(_upload, context(request), run_id, path, data)
    return JSONResponse({})


def _model_file(ctx: Ctx, model_id: str, path: str | None) -> Any:
    if not path:
        raise invalid('Request must include the "artifact_file_path" query parameter.')
    rel = safe_path(path)
    _, root = _model_root(ctx, model_id)
    return artifacts.open_file(ctx, _join(root, rel))


@ajax_router.get("/logged-models/{model_id}/artifacts/files",
                 summary="Download one artifact file of a logged model (web UI)")
async def download_model_file(model_id: str, request: Request) -> Response:
    path = request.query_params.get("artifact_file_path")
    handle = await run_in_threadpool(_model_file, context(request), model_id, path)
    name = (path or "").rsplit("/", 1)[-1]
    media = mimetypes.guess_type(name)[0] or "application/octet-stream"

    def chunks() -> Any:
        with handle:
            yield from iter_chunks(handle)

    return StreamingResponse(chunks(), media_type=media)
