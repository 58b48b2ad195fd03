"""The request guard: body limit on every route, CSRF refusals, page headers."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from runtrack.model import NewRun
from runtrack.server.app import create_app
from runtrack.server.auth import create_token
from runtrack.server.settings import ServerSettings
from tests.live_server import LiveServer, start_server

LIMIT = 10_000
RUN = "guard-run"
SEARCHES = [
    "/api/v1/runs/search",
    "/api/v1/runs/count",
    "/api/v1/experiments",
    f"/api/v1/runs/{RUN}/metrics",
    "/api/2.0/mlflow/runs/search",
    "/api/2.0/mlflow/runs/log-batch",
    "/api/2.0/mlflow/experiments/create",
    "/api/v1/no/such/route",
]


def _app(tmp: Path, **options: Any) -> Any:
    settings = ServerSettings.for_uri(str(tmp / "ws"), max_request_bytes=LIMIT, **options)
    app = create_app(settings)
    store = app.state.store
    exp = store.get_or_create_experiment("guard")
    store.create_run(NewRun(exp.id, RUN, display_name="g", run_type="script"))
    return app


def _call(app: Any, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            return await c.request(method, path, **kwargs)

    return asyncio.run(go())


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Any]:
    app = _app(tmp_path)
    yield app
    app.state.store.close()


def _padded(size: int) -> bytes:
    return json.dumps({"filter": "", "pad": "x" * size}).encode()


@pytest.mark.parametrize("path", SEARCHES)
def test_a_declared_body_over_the_limit_is_413_naming_it(app: Any, path: str) -> None:
    answer = _call(app, "POST", path, content=_padded(LIMIT),
                   headers={"content-type": "application/json"})
    assert answer.status_code == 413, answer.text
    assert f"max_request_bytes={LIMIT}" in answer.text


@pytest.mark.parametrize("path", SEARCHES[:-1])  # an unknown route never reads the body
def test_a_chunked_body_over_the_limit_is_413(app: Any, path: str) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"pad": "'
        for _ in range(50):
            yield b"x" * 1000
        yield b'"}'

    answer = _call(app, "POST", path, content=chunks(),
                   headers={"content-type": "application/json"})
    assert answer.status_code == 413, answer.text
    assert f"max_request_bytes={LIMIT}" in answer.text
    shape = answer.json()
    if path.startswith("/api/2.0/"):
        assert shape["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    else:
        assert shape["error"]["code"] == "LIMIT_EXCEEDED"


def test_small_chunked_bodies_still_work(app: Any) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": '
        yield b'"chunked"}'

    answer = _call(app, "POST", "/api/v1/experiments", content=chunks(),
                   headers={"content-type": "application/json"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["name"] == "chunked"


def test_streamed_uploads_are_not_bounded(app: Any) -> None:
    data = b"y" * (5 * LIMIT)
    answer = _call(app, "PUT", f"/api/v1/runs/{RUN}/artifacts/big.bin", content=data)
    assert answer.status_code == 200, answer.text
    assert answer.json()["size"] == len(data)
    appended = _call(app, "POST", f"/api/v1/runs/{RUN}/artifacts/log.txt", content=data,
                     headers={"content-type": "application/octet-stream"})
    assert appended.status_code == 413


def test_the_limit_answers_before_the_body_is_read(tmp_path: Path) -> None:
    """A 600 MB declared body: the server answers 413 after the headers alone."""
    live = start_server(tmp_path, "--max-request-bytes", str(LIMIT))
    try:
        port = int(live.url.rsplit(":", 1)[1])
        for path in ("/api/2.0/mlflow/runs/search", "/api/v1/runs/search"):
            with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
                sock.sendall(
                    f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    "Content-Type: application/json\r\n"
                    f"Content-Length: {600 << 20}\r\n\r\n{{".encode()
                )
                received = b""
                while chunk := sock.recv(65536):  # the server closes after its answer
                    received += chunk
                answer = received.decode("latin-1")
            assert answer.startswith("HTTP/1.1 413"), answer
            assert f"max_request_bytes={LIMIT}" in answer
    finally:
        live.stop()


# -- CSRF ---------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", None])
def test_posts_need_a_json_or_binary_type(app: Any, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    for path in ("/api/2.0/mlflow/experiments/create?name=evil",
                 "/api/2.0/mlflow/experiments/create", "/api/v1/experiments",
                 f"/api/v1/runs/{RUN}/artifacts/evil.txt"):
        answer = _call(app, "POST", path, content=b'{"name": "evil"}', headers=headers)
        assert answer.status_code == 415, (path, answer.text)
        assert "application/json" in answer.text
    names = [e.name for e in app.state.store.list_experiments()]
    assert "evil" not in names
    assert not app.state.artifacts.exists(RUN, "evil.txt")


def test_json_posts_and_binary_appends_pass(app: Any) -> None:
    made = _call(app, "POST", "/api/2.0/mlflow/experiments/create", json={"name": "good"})
    assert made.status_code == 200, made.text
    appended = _call(app, "POST", f"/api/v1/runs/{RUN}/artifacts/log.txt", content=b"line\n",
                     headers={"content-type": "application/octet-stream"})
    assert appended.status_code == 200, appended.text


@pytest.mark.parametrize("headers", [
    {"origin": "https://evil.example"},
    {"origin": "null"},
    {"sec-fetch-site": "cross-site"},
    {"sec-fetch-site": "same-site", "origin": "http://testserver"},
])
def test_cross_site_writes_are_refused(app: Any, headers: dict[str, str]) -> None:
    for method, path in (("POST", "/api/2.0/mlflow/experiments/create"),
                         ("POST", "/api/v1/experiments"),
                         ("PATCH", f"/api/v1/runs/{RUN}/tags"),
                         ("DELETE", f"/api/v1/runs/{RUN}")):
        body = {"name": "evil", "tags": {"evil": "1"}}
        answer = _call(app, method, path, content=json.dumps(body),
                       headers={"content-type": "application/json", **headers})
        assert answer.status_code == 403, (method, path, answer.text)
        assert "cross-site" in answer.text
    assert app.state.store.get_run(RUN).tags.get("evil") is None


def test_same_origin_writes_pass(app: Any) -> None:
    for headers in ({"origin": "http://testserver"}, {"sec-fetch-site": "same-origin"}):
        answer = _call(app, "PATCH", f"/api/v1/runs/{RUN}/tags", json={"tags": {"ok": "1"}},
                       headers=headers)
        assert answer.status_code == 200, answer.text


def test_cookie_authenticated_writes_need_origin_proof(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.json"
    token = create_token(tokens)
    app = _app(tmp_path, auth=True, token_file=tokens)
    try:
        cookie = {"cookie": f"runtrack_token={token}"}
        body = {"tags": {"x": "1"}}
        path = f"/api/v1/runs/{RUN}/tags"
        refused = _call(app, "PATCH", path, json=body, headers=cookie)
        assert refused.status_code == 403, refused.text
        assert "Authorization: Bearer" in refused.json()["error"]["message"]
        page = _call(app, "PATCH", path, json=body,
                     headers={**cookie, "sec-fetch-site": "same-origin"})
        assert page.status_code == 200, page.text
        bearer = _call(app, "PATCH", path, json=body,
                       headers={"authorization": f"Bearer {token}"})
        assert bearer.status_code == 200, bearer.text
        read = _call(app, "GET", f"/api/v1/runs/{RUN}", headers=cookie)
        assert read.status_code == 200
    finally:
        app.state.store.close()


# -- headers ------------------------------------------------------------------------------


def test_pages_carry_csp_and_frame_headers(app: Any) -> None:
    page = _call(app, "GET", "/experiments")
    assert page.status_code == 200
    assert page.headers["x-frame-options"] == "DENY"
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
    data = _call(app, "GET", "/api/v1/experiments")
    assert data.headers["x-frame-options"] == "DENY"
    assert data.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in data.headers
    docs = _call(app, "GET", "/api/v1/docs")
    assert "cdn.jsdelivr.net" in docs.headers["content-security-policy"]


def test_live_server_sends_the_headers(live_server: LiveServer) -> None:
    page = httpx.get(f"{live_server.url}/experiments")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
