"""The log search page and the Failures page, each with its ``/api/v1`` JSON twin.

=================================  =========================================
page                               JSON twin
=================================  =========================================
``/logs/search?q=…``               ``/api/v1/logs/search?q=…``
``/failures``                      ``/api/v1/failures``
=================================  =========================================

The search page takes the same query parameters as its twin; without ``q`` it shows
the empty form. Each hit links to the run page's log viewer at its line
(``/runs/{id}?log=<path>&line=<n>#outputs``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from runtrack.server.api import diagnostics, logsearch
from runtrack.server.deps import get_store
from runtrack.server.pages.views import _render
from runtrack.store.base import TrackingStore

router = APIRouter(include_in_schema=False)


@router.get("/logs/search")
def log_search_page(
    request: Request,
    q: str = Query(default="", max_length=1000),
    experiment: list[str] = Query(default=[]),
    status: list[str] = Query(default=[]),
    since: str | None = Query(default=None, max_length=64),
    run: str | None = Query(default=None, max_length=256),
    limit: int = Query(default=50, ge=1, le=1000),
    context: int = Query(default=2, ge=0, le=20),
    store: TrackingStore = Depends(get_store),
) -> Response:
    def build() -> dict[str, Any]:
        experiments = [{"id": e.id, "name": e.name} for e in store.list_experiments()]
        form = {"q": q, "experiment": experiment, "status": status, "since": since or "",
                "run": run or ""}
        if not q.strip():
            return {"result": None, "form": form, "experiments": experiments}
        query = logsearch.build_query(q, experiment, status, since, run, limit, context)
        return {"result": logsearch.search(store, query), "form": form,
                "experiments": experiments}

    return _render(request, "logsearch.html", build, "/api/v1/logs/search")


@router.get("/failures")
def failures_page(
    request: Request,
    experiment: list[str] = Query(default=[]),
    store: TrackingStore = Depends(get_store),
) -> Response:
    def build() -> dict[str, Any]:
        return {"failures": diagnostics.failures(store, [e for e in experiment if e] or None)}

    return _render(request, "failures.html", build, "/api/v1/failures")
