"""MLflow compatibility: unchanged MLflow clients log into runtrack.

:func:`mount` adds MLflow's tracking REST API (``/api/2.0/mlflow/...``) and artifact
proxy (``/api/2.0/mlflow-artifacts/...``) to the app, one module per resource:
:mod:`.experiments`, :mod:`.runs`, :mod:`.metrics`, :mod:`.models`, :mod:`.artifacts`.
:mod:`.convert` holds the mapping between the two views of a run, :mod:`.search`
MLflow's filter/order_by grammar. Errors come out in MLflow's shape
(:mod:`._errors`); routes runtrack does not implement answer 404
``ENDPOINT_NOT_FOUND`` (never 5xx, which MLflow clients retry for minutes).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request, Response

from runtrack.server.mlflow import (
    artifacts,
    datasets,
    experiments,
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
    """Add the MLflow routes, their state and their read-only search paths to ``app``."""
    app.state.mlflow = MlflowState()
    for router in (experiments.router, runs.router, metrics.router, models.router,
                   registry.router, datasets.router, artifacts.router, _fallback):
        app.include_router(router)
    app.state.read_only_posts.update(
        {
            "/api/2.0/mlflow/experiments/search",
            "/api/2.0/mlflow/runs/search",
            "/api/2.0/mlflow/logged-models/search",
            "/api/2.0/mlflow/registered-models/get-latest-versions",
            "/api/2.0/mlflow/experiments/search-datasets",
            "/ajax-api/2.0/mlflow/experiments/search-datasets",
        }
    )
