"""``/api/v1/runs/{run_id}/logs``: a run's log files, tailed by byte offset.

Log files are the run's artifacts under :data:`LOG_FOLDERS` (``user_logs/`` for the
processes' output, ``system_logs/`` for the runner's phases, ``logs/`` for Python
logging; see docs/submitting.md). ``GET …/logs`` lists them with their sizes (paths
relative to the run). ``GET …/logs/{path}?offset=N`` answers the bytes of that file
from ``N`` (at most ``limit``) as ``application/octet-stream`` with
``X-Runtrack-Offset`` (= N) and ``X-Runtrack-Next-Offset`` (where to ask next)
headers; an empty body means "nothing new yet". Paths outside the log folders are
refused (400): this route is for tailing logs, not for reading any file.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Response

from runtrack.errors import InvalidValueError
from runtrack.server.api._wire import WireJSONResponse, wire
from runtrack.server.deps import get_artifacts
from runtrack.store.base import ArtifactStore

router = APIRouter(tags=["logs"], default_response_class=WireJSONResponse)

LOG_FOLDERS = ("user_logs", "system_logs", "logs", "azureml-logs")
MAX_TAIL = 8 << 20


@router.get("/runs/{run_id}/logs", summary="List a run's log files and their sizes")
def list_logs(run_id: str, artifacts: ArtifactStore = Depends(get_artifacts)) -> Any:
    found = [a for folder in LOG_FOLDERS for a in artifacts.list(run_id, folder)]
    return wire({"logs": [{"path": a.path, "size": a.size} for a in found]})


@router.get(
    "/runs/{run_id}/logs/{path:path}",
    summary="Tail a log file from a byte offset",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def tail_log(
    run_id: str,
    path: str,
    offset: int = Query(default=0, ge=0, le=2**62),
    limit: int = Query(default=1 << 20, ge=1, le=MAX_TAIL),
    artifacts: ArtifactStore = Depends(get_artifacts),
) -> Response:
    if path.replace("\\", "/").split("/", 1)[0] not in LOG_FOLDERS:
        raise InvalidValueError(
            f"{path!r} is not a log file: log paths start with one of {', '.join(LOG_FOLDERS)}"
        )
    data = artifacts.read_range(run_id, path, offset, limit)
    return Response(
        data,
        media_type="application/octet-stream",
        headers={
            "X-Runtrack-Offset": str(offset),
            "X-Runtrack-Next-Offset": str(offset + len(data)),
        },
    )
