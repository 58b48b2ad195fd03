"""``/api/v1/runs/{run_id}/artifacts``: streamed upload, append, list, streamed download,
byte ranges, existence, delete.

Paths are the run-relative POSIX paths of :class:`runtrack.store.base.ArtifactStore`;
the artifact store normalises them and refuses absolute paths, ``..`` (also when sent
percent-encoded) and symlink escapes with 400. Uploads are spooled to a temporary
file (in memory up to :data:`SPOOL_MEMORY` bytes, then on disk) and downloads are
sent in 1 MiB blocks, so memory stays bounded whatever the file size. Writes require
the run to exist.
"""

from __future__ import annotations

import mimetypes
import tempfile
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from runtrack.catalog import MODEL_FILES_KEY
from runtrack.errors import InvalidValueError, LimitExceededError
from runtrack.server.api._wire import WireJSONResponse, wire
from runtrack.server.deps import get_artifacts, get_settings, get_store
from runtrack.server.settings import ServerSettings
from runtrack.store.base import ArtifactStore, TrackingStore, iter_chunks

router = APIRouter(tags=["artifacts"], default_response_class=WireJSONResponse)

SPOOL_MEMORY = 8 << 20
MAX_RANGE = 64 << 20
_BINARY_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string",
                                                             "format": "binary"}}},
    }
}
_INLINE_SAFE = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/json",
                "text/plain", "text/csv")


@router.put(
    "/runs/{run_id}/artifacts/{path:path}",
    summary="Upload a file (streamed body)",
    openapi_extra=_BINARY_BODY,
)
async def put_artifact(
    run_id: str,
    path: str,
    request: Request,
    overwrite: bool = False,
    store: TrackingStore = Depends(get_store),
    artifacts: ArtifactStore = Depends(get_artifacts),
) -> Any:
    if run_id == MODEL_FILES_KEY:  # registered model files: new paths only, never replaced
        overwrite = False
    else:
        await run_in_threadpool(store.get_run, run_id)
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY) as spool:
        async for chunk in request.stream():
            spool.write(chunk)
        spool.seek(0)
        info = await run_in_threadpool(
            artifacts.put, run_id, path, spool, overwrite=overwrite  # type: ignore[arg-type]
        )
    return wire(info.to_json())


@router.post(
    "/runs/{run_id}/artifacts/{path:path}",
    summary="Append bytes to a (log) file, creating it",
    openapi_extra=_BINARY_BODY,
)
async def append_artifact(
    run_id: str,
    path: str,
    request: Request,
    store: TrackingStore = Depends(get_store),
    artifacts: ArtifactStore = Depends(get_artifacts),
    settings: ServerSettings = Depends(get_settings),
) -> Any:
    await run_in_threadpool(store.get_run, run_id)
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > settings.max_request_bytes:
            raise LimitExceededError(
                f"an append of more than max_request_bytes={settings.max_request_bytes} "
                "bytes; upload large files with PUT"
            )
        parts.append(chunk)
    new_size = await run_in_threadpool(artifacts.append, run_id, path, b"".join(parts))
    return wire({"size": new_size})


@router.get("/runs/{run_id}/artifacts", summary="List a run's files under a folder")
def list_artifacts(
    run_id: str,
    prefix: str = Query(default="", max_length=5000),
    artifacts: ArtifactStore = Depends(get_artifacts),
) -> Any:
    return wire({"artifacts": [a.to_json() for a in artifacts.list(run_id, prefix)]})


@router.get(
    "/runs/{run_id}/artifacts/{path:path}",
    summary="Download a file (streamed); offset/length read a byte range",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def get_artifact(
    run_id: str,
    path: str,
    offset: int | None = Query(default=None, ge=0, le=2**62),
    length: int | None = Query(default=None, ge=0, le=MAX_RANGE),
    artifacts: ArtifactStore = Depends(get_artifacts),
) -> Response:
    if offset is not None or length is not None:
        data = artifacts.read_range(run_id, path, offset or 0, MAX_RANGE if length is None
                                    else length)
        return Response(data, media_type="application/octet-stream")
    handle = artifacts.open(run_id, path)
    return StreamingResponse(
        _blocks(handle), media_type=_media_type(path), headers={"X-Content-Type-Options": "nosniff"}
    )


@router.head("/runs/{run_id}/artifacts/{path:path}", summary="Whether a file exists")
def artifact_exists(
    run_id: str, path: str, artifacts: ArtifactStore = Depends(get_artifacts)
) -> Response:
    return Response(status_code=200 if artifacts.exists(run_id, path) else 404)


@router.delete("/runs/{run_id}/artifacts", summary="Delete every file of a run")
def delete_artifacts(run_id: str, artifacts: ArtifactStore = Depends(get_artifacts)) -> Any:
    if run_id == MODEL_FILES_KEY:
        raise InvalidValueError("registered model files are immutable; delete a model instead")
    artifacts.delete_run(run_id)
    return wire({"ok": True})


def _blocks(handle: Any) -> Iterator[bytes]:
    try:
        yield from iter_chunks(handle)
    finally:
        handle.close()


def _media_type(path: str) -> str:
    guessed, _ = mimetypes.guess_type(path)
    return guessed if guessed in _INLINE_SAFE else "application/octet-stream"
