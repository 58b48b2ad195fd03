"""Request dependencies: the stores and settings the app was created with.

Routers never open stores; they take them from ``app.state`` through these::

    @router.get("/things")
    def things(store: TrackingStore = Depends(get_store)) -> ...

Token checks are not a per-route dependency: with auth on, the app-level
:class:`runtrack.server.auth.TokenAuthMiddleware` covers every route, including
routers added later, before any dependency runs.
"""

from __future__ import annotations

from fastapi import Request

from runtrack.server.settings import ServerSettings
from runtrack.store.base import ArtifactStore, TrackingStore


async def get_store(request: Request) -> TrackingStore:
    store: TrackingStore = request.app.state.store
    return store


async def get_artifacts(request: Request) -> ArtifactStore:
    artifacts: ArtifactStore = request.app.state.artifacts
    return artifacts


async def get_settings(request: Request) -> ServerSettings:
    settings: ServerSettings = request.app.state.settings
    return settings
