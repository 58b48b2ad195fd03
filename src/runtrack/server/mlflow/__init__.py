"""MLflow compatibility: unchanged MLflow clients log into runtrack.

:func:`mount` adds MLflow's tracking REST API (``/api/2.0/mlflow/...``) and artifact
proxy (``/api/2.0/mlflow-artifacts/...``) to the app, one module per resource:
:mod:`.experiments`, :mod:`.runs`, :mod:`.metrics`, :mod:`.history`, :mod:`.models`,
:mod:`.files`, :mod:`.artifacts`. Every route is served twice, as MLflow's server does:
under ``/api/...`` (clients) and under ``/ajax-api/...`` (its web UI).
:mod:`.convert` holds the mapping between the two views of a run, :mod:`.search`
MLflow's filter/order_by grammar. Errors come out in MLflow's shape
(:mod:`._errors`); routes runtrack does not implement answer 404
``ENDPOINT_NOT_FOUND`` (never 5xx, which MLflow clients retry for minutes).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from runtrack.server.mlflow import (
    artifacts,
    datasets,
    experiments,
    files,
    history,
    metrics,
    models,
    registry,
    runs,
)
from runtrack.server.mlflow._endpoint import MlflowState
from runtrack.server.mlflow._errors import ENDPOINT_NOT_FOUND, MlflowRoute, response

__all__ = ["mount"]

_fallback = APIRouter(route_class=MlflowRoute, include_in_schema=False)
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@_fallback.api_route("/api/2.0/mlflow/{rest:path}", methods=_METHODS)
@_fallback.api_route("/api/3.0/mlflow/{rest:path}", methods=_METHODS)
@_fallback.api_route("/api/2.0/mlflow-artifacts/{rest:path}", methods=_METHODS)
async def _not_implemented(rest: str, request: Request) -> Response:
    return response(
        ENDPOINT_NOT_FOUND,
        f"runtrack does not implement {request.method} {request.url.path} "
        "(see docs/mlflow.md for the supported MLflow endpoints)",
    )


def mount(app: FastAPI) -> None:
    """Add the MLflow routes, their ``/ajax-api`` twins, their state and their read-only
    search paths to ``app``."""
    app.state.mlflow = MlflowState()
    for router in (experiments.router, runs.router, metrics.router, history.router,
                   models.router, registry.router, datasets.router, files.router, files.ajax_router,
                   artifacts.router, _fallback):
        app.include_router(router)
    searches = {"/api/2.0/mlflow/experiments/search", "/api/2.0/mlflow/runs/search",
                "/api/2.0/mlflow/logged-models/search",
                "/api/2.0/mlflow/registered-models/get-latest-versions",
                "/api/2.0/mlflow/experiments/search-datasets"}
    app.state.read_only_posts.update(searches | {"/ajax-" + p[1:] for p in searches})
    app.add_middleware(AjaxTwins)


class AjaxTwins:
    """Serve every MLflow route (``/api/<v>/mlflow...``) also under ``/ajax-api/<v>/...``,
    where MLflow's web UI calls them: the path is rewritten before routing, so routes
    any area adds get their twin too. Routes MLflow serves only under ``/ajax-api``
    (:data:`files.AJAX_ONLY`) are left as they are."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if path.startswith(_AJAX) and not files.AJAX_ONLY.match(path):
                scope = dict(scope)
                scope["path"] = "/" + path[len("/ajax-"):]
                scope["raw_path"] = scope["path"].encode()
        await self.app(scope, receive, send)


_AJAX = ("/ajax-api/2.0/mlflow", "/ajax-api/3.0/mlflow")
