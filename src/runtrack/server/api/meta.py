"""``/api/v1/health``: is the server up, and which version it runs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from runtrack._version import __version__
from runtrack.server.deps import get_settings
from runtrack.server.settings import ServerSettings

router = APIRouter(tags=["server"])


@router.get("/health", summary="Server status and version")
def health(settings: ServerSettings = Depends(get_settings)) -> dict[str, Any]:
    return {"status": "ok", "version": __version__, "auth": settings.auth}
