"""The ``/api/v1`` routers, one resource per module.

JSON bodies are the ``to_json()`` forms of :mod:`runtrack.model` values (the wire
format the RestStore reads back with ``from_json()``). Every route has an OpenAPI
summary (checked by the tests).
"""

from __future__ import annotations

from fastapi import APIRouter

from runtrack.server.api import (
    artifacts,
    compute,
    datasets,
    diagnostics,
    experiments,
    logs,
    logsearch,
    meta,
    metrics,
    registry,
    runs,
)

#: Routes are matched in this order, so the metrics router (metric ingest, the hot path)
#: comes first; no two routers share a path.
ROUTERS: list[APIRouter] = [
    metrics.router,
    meta.router,
    experiments.router,
    runs.router,
    artifacts.router,
    logs.router,
    registry.router,
    logsearch.router,
    diagnostics.router,
    datasets.router,
    compute.router,
]
