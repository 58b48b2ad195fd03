"""``create_app(settings)``: the only place the server is wired together.

It opens the tracking store (:func:`runtrack.store.open_store`) and the artifact
store (:func:`runtrack.store.open_artifacts`) named by the settings and puts them on
``app.state.store``, ``app.state.artifacts`` and ``app.state.settings`` (read them
through :mod:`runtrack.server.deps`), installs the shared error handlers
(:mod:`runtrack.server.errors`), includes the ``/api/v1`` routers and, with auth on,
wraps everything in :class:`runtrack.server.auth.TokenAuthMiddleware`; just inside it
(so a request without a token still answers 401 first), :mod:`runtrack.server.security`
bounds request bodies, refuses cross-site writes and adds the page headers.

Other areas plug in by convention: for each package name in :data:`PLUGIN_PACKAGES`
(``runtrack.server.pages``, ``runtrack.server.mlflow``) that exists, the app imports
it and either calls its ``mount(app)`` function (full control: routers, static
files, exception handlers for its own prefix, extra ``app.state.read_only_posts``
paths) or, if it has none, includes its ``router`` attribute (an ``APIRouter``
carrying its own prefix). A missing package is skipped, and so is one whose optional
third-party dependency is not installed (with a warning); any other error while
importing an existing package is raised (it is a bug, not an absence).

The store is closed when the app shuts down (lifespan).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from runtrack._version import __version__
from runtrack.errors import ConfigError
from runtrack.server import errors, security
from runtrack.server.settings import ServerSettings
from runtrack.store import open_artifacts, open_store

log = logging.getLogger("runtrack.server")

API_PREFIX = "/api/v1"
PLUGIN_PACKAGES = ("runtrack.server.pages", "runtrack.server.mlflow")


def create_app(settings: ServerSettings) -> FastAPI:
    """A ready FastAPI app serving ``settings``' stores."""
    store = open_store(settings.backend_store_uri)
    artifacts = open_artifacts(settings.artifact_root)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        store.close()

    app = FastAPI(
        title="runtrack",
        version=__version__,
        description="runtrack tracking server: experiments, runs, metrics, artifacts, logs.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.artifacts = artifacts
    app.state.read_only_posts = {
        f"{API_PREFIX}/runs/search", f"{API_PREFIX}/runs/count", f"{API_PREFIX}/summaries",
        f"{API_PREFIX}/run-inputs", f"{API_PREFIX}/series",
    }
    errors.install(app)
    _include_api(app)
    for name in PLUGIN_PACKAGES:
        _mount_plugin(app, name)
    security.install(app, settings)  # body limit, CSRF, page headers (inside auth)
    if settings.auth:
        _install_auth(app, settings)
    return app


def _include_api(app: FastAPI) -> None:
    from runtrack.server.api import ROUTERS

    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)


def _mount_plugin(app: FastAPI, name: str) -> None:
    try:
        found = importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        found = False
    if not found:
        return
    try:
        module: Any = importlib.import_module(name)
    except ModuleNotFoundError as exc:  # an optional dependency of that area is missing
        if exc.name is not None and exc.name.startswith("runtrack"):
            raise
        log.warning("runtrack: %s is not served: %s is not installed", name, exc.name)
        return
    mount = getattr(module, "mount", None)
    if callable(mount):
        mount(app)
    elif getattr(module, "router", None) is not None:
        app.include_router(module.router)


def _install_auth(app: FastAPI, settings: ServerSettings) -> None:
    from runtrack.server.auth import TokenAuthMiddleware, TokenBook

    if settings.token_file is None:
        raise ConfigError(
            "--auth needs a token file for this backend: pass --token-file PATH "
            "(create tokens with 'runtrack token create --token-file PATH')"
        )
    app.add_middleware(
        TokenAuthMiddleware,
        book=TokenBook(settings.token_file),
        read_only_posts=app.state.read_only_posts,
    )
