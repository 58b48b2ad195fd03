"""``/api/v1/runs/{run_id}/logs``: a run's log files, tailed by byte offset.

``GET …/logs/{path}?offset=N`` answers the bytes from ``N`` (at most ``limit``) as
``application/octet-stream`` with ``X-Runtrack-Offset`` (= N) and
``X-Runtrack-Next-Offset`` (where to ask next) headers; an empty body means "nothing
new yet". Log files are the artifacts under ``logs/``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Response

from runtrack.server.api._wire import WireJSONResponse, wire
from runtrack.server.deps import get_artifacts
from runtrack.store.base import ArtifactStore

router = APIRouter(tags=["logs"], default_response_class=WireJSONResponse)

LOGS = "logs"
MAX_TAIL = 8 << 20


@router.get("/runs/{run_id}/logs", summary="List a run's log files and their sizes")
def list_logs(run_id: str, artifacts: ArtifactStore = Depends(get_artifacts)) -> Any:
    found = artifacts.list(run_id, LOGS)
    return wire({
        "logs": [{"path": a.path[len(LOGS) + 1 :], "size": a.size} for a in found]
    })


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
    data = artifacts.read_range(run_id, f"{LOGS}/{path}", offset, limit)
    return Response(
        data,
        media_type="application/octet-stream",
        headers={
            "X-Runtrack-Offset": str(offset),
            "X-Runtrack-Next-Offset": str(offset + len(data)),
        },
    )
