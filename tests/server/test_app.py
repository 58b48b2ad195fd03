"""The app skeleton: health, the error shape, and the live and in-process server fixtures."""

from __future__ import annotations

import httpx

from tests.inprocess import InProcessServer
from tests.live_server import LiveServer


def test_health(live_server: LiveServer) -> None:
    answer = httpx.get(f"{live_server.api}/health")
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"
    assert answer.json()["auth"] is False


def test_unknown_route_has_the_error_shape(inprocess_server: InProcessServer) -> None:
    answer = inprocess_server.http.get(f"{inprocess_server.api}/no/such/route")
    assert answer.status_code == 404
    assert answer.json() == {"error": {"code": "NOT_FOUND", "message": "Not Found"}}


def test_openapi_document(inprocess_server: InProcessServer) -> None:
    doc = inprocess_server.http.get(f"{inprocess_server.api}/openapi.json").json()
    assert "/api/v1/health" in doc["paths"]
