"""Page routes. Each page's context is its ``/api/v1`` twin's payload, so what a page
shows can also be fetched as JSON with the same query string:

=================================  =========================================
page                               JSON twin
=================================  =========================================
``/experiments``                   ``/api/v1/experiments``
``/runs`` (all runs)               ``/api/v1/views/runs``
``/experiments/{id}`` (its runs)   ``/api/v1/views/runs?experiment={id}``
``/runs/{run_id}``                 ``/api/v1/views/runs/{run_id}``
``/diff?run=…&run=…``              ``/api/v1/views/diff?run=…&run=…``
``/sweeps/{run_id}``               ``/api/v1/views/sweeps/{run_id}``
=================================  =========================================

Errors render an HTML page with the shared error code and message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import MultiDict

from runtrack.errors import RuntrackError
from runtrack.server.api._run_diff import run_diff
from runtrack.server.api._run_page import run_page
from runtrack.server.api._runs_table import parse_state, runs_table
from runtrack.server.api._sweep_page import sweep_page
from runtrack.server.deps import get_artifacts, get_store
from runtrack.server.errors import status_for
from runtrack.server.pages._templates import make_templates
from runtrack.server.security import PAGE_POLICY
from runtrack.store.base import ArtifactStore, TrackingStore

router = APIRouter(include_in_schema=False)
templates = make_templates()


def _render(request: Request, name: str, build: Callable[[], dict[str, Any]],
            twin: str) -> Response:
    try:
        context = build()
    except RuntrackError as exc:
        return templates.TemplateResponse(
            request, "error.html", {"code": exc.code, "message": exc.message},
            status_code=status_for(exc),
        )
    query = request.url.query
    context["twin"] = f"{twin}{'&' if '?' in twin else '?'}{query}" if query else twin
    return templates.TemplateResponse(request, name, context)


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/experiments", status_code=307)


@router.get("/experiments")
def experiments_page(request: Request, store: TrackingStore = Depends(get_store)) -> Response:
    def build() -> dict[str, Any]:
        return {"experiments": [e.to_json() for e in store.list_experiments()]}

    return _render(request, "experiments.html", build, "/api/v1/experiments")


@router.get("/runs")
def runs_page(request: Request, store: TrackingStore = Depends(get_store)) -> Response:
    def build() -> dict[str, Any]:
        return {"table": runs_table(store, parse_state(request.query_params)), "experiment": None}

    return _render(request, "runs.html", build, "/api/v1/views/runs")


@router.get("/experiments/{experiment_id}")
def experiment_page(
    experiment_id: str, request: Request, store: TrackingStore = Depends(get_store)
) -> Response:
    def build() -> dict[str, Any]:
        experiment = store.get_experiment(experiment_id)
        params = request.query_params.multi_items()
        state = parse_state(MultiDict([*params, ("experiment", experiment_id)]))
        return {"table": runs_table(store, state), "experiment": experiment.to_json()}

    return _render(request, "runs.html", build,
                   f"/api/v1/views/runs?experiment={quote(experiment_id, safe='')}")


@router.get("/diff")
def diff_page(request: Request, store: TrackingStore = Depends(get_store)) -> Response:
    def build() -> dict[str, Any]:
        return {"diff": run_diff(store, request.query_params.getlist("run"))}

    return _render(request, "diff.html", build, "/api/v1/views/diff")


@router.get("/runs/{run_id}")
def run_detail_page(
    run_id: str,
    request: Request,
    store: TrackingStore = Depends(get_store),
    artifacts: ArtifactStore = Depends(get_artifacts),
) -> Response:
    def build() -> dict[str, Any]:
        return {"page": run_page(store, artifacts, run_id)}

    return _render(request, "run.html", build, f"/api/v1/views/runs/{run_id}")


@router.get("/sweeps/{run_id}")
def sweep_detail_page(
    run_id: str, request: Request, store: TrackingStore = Depends(get_store)
) -> Response:
    def build() -> dict[str, Any]:
        return {"sweep": sweep_page(store, run_id)}

    response = _render(request, "sweep.html", build, f"/api/v1/views/sweeps/{run_id}")
    response.headers["Content-Security-Policy"] = WEBGL_PAGE_POLICY
    return response


#: Plotly's WebGL traces (the sweep page's parallel coordinates) compile their drawing
#: commands with ``Function`` (regl): that page alone also allows 'unsafe-eval'; scripts
#: still come from this server only.
WEBGL_PAGE_POLICY = PAGE_POLICY.replace("script-src 'self';", "script-src 'self' 'unsafe-eval';")
