"""Token auth: every route of the OpenAPI document (and the pages) refuses a missing or
wrong token, read-only tokens cannot write, and tokens are stored hashed."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from runtrack.errors import AuthError
from runtrack.model import NewRun, RunStatus
from runtrack.store.rest import RestStore
from tests.live_server import LiveServer, free_port, start_server

READ = {"get", "head", "options"}


def _create_token(workspace: Path, *extra: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "runtrack", "token", "create", "--backend-store-uri",
         str(workspace), *extra],
        capture_output=True, text=True, check=True, timeout=60,
    )
    token = done.stdout.strip()
    assert token.startswith("rt_")
    return token


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str, str]]:
    tmp = tmp_path_factory.mktemp("auth")
    workspace = tmp / "ws"
    write = _create_token(workspace, "--name", "ci")
    read = _create_token(workspace, "--read-only")
    server = start_server(tmp, "--auth", workspace=workspace)
    yield server, write, read
    server.stop()


def _operations(server: LiveServer, token: str) -> list[tuple[str, str]]:
    doc = httpx.get(f"{server.api}/openapi.json",
                    headers={"Authorization": f"Bearer {token}"}).json()
    ops = []
    for path, methods in doc["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        ops.extend((method, concrete) for method in methods if method != "parameters")
    return ops


def test_tokens_are_stored_hashed(auth_server: tuple[LiveServer, str, str]) -> None:
    server, write, read = auth_server
    text = (server.workspace / "tokens.json").read_text()
    assert write not in text and read not in text
    assert (server.workspace / "tokens.json").stat().st_mode & 0o077 == 0


def test_every_route_refuses_missing_and_wrong_tokens(
    auth_server: tuple[LiveServer, str, str],
) -> None:
    server, write, _ = auth_server
    ops = _operations(server, write)
    assert len(ops) > 20
    ops += [("get", "/"), ("get", "/api/v1/openapi.json"), ("get", "/api/v1/docs")]
    client = httpx.Client(base_url=server.url)
    for method, path in ops:
        for headers in ({}, {"Authorization": "Bearer rt_wrong"},
                        {"Cookie": "runtrack_token=nope"}):
            answer = client.request(method, path, headers=headers)
            assert answer.status_code == 401, (method, path, headers, answer.text)
            assert answer.headers["www-authenticate"] == "Bearer"
            if method != "head":
                assert answer.json()["error"]["code"] == "UNAUTHORIZED"


def test_read_only_tokens_cannot_write(
    auth_server: tuple[LiveServer, str, str], tmp_path: Path
) -> None:
    server, write, read = auth_server
    from runtrack.server.app import create_app
    from runtrack.server.settings import ServerSettings

    app = create_app(ServerSettings.for_uri(str(tmp_path / "ws")))
    allowed_posts = set(app.state.read_only_posts)
    app.state.store.close()
    assert "/api/v1/runs/search" in allowed_posts
    client = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {read}"})
    for method, path in _operations(server, write):
        answer = client.request(method, path)
        if method in READ or path in allowed_posts:
            assert answer.status_code not in (401, 403), (method, path)
        else:
            assert answer.status_code == 403, (method, path, answer.text)
            assert answer.json()["error"]["code"] == "FORBIDDEN"


def test_rest_store_with_tokens(auth_server: tuple[LiveServer, str, str]) -> None:
    server, write, read = auth_server
    store = RestStore(server.url, token=write)
    reader = RestStore(server.url, token=read)
    anonymous = RestStore(server.url, attempts=1)
    try:
        exp = store.get_or_create_experiment("auth")
        store.create_run(NewRun(exp.id, "auth-run", display_name="a", run_type="script",
                         status=RunStatus.RUNNING))
        assert reader.get_run("auth-run").id == "auth-run"
        with pytest.raises(AuthError, match="read-only"):
            reader.set_tags("auth-run", {"a": "b"})
        with pytest.raises(AuthError, match="token"):
            anonymous.get_run("auth-run")
        cookie = httpx.get(f"{server.api}/runs/auth-run", cookies={"runtrack_token": read})
        assert cookie.status_code == 200
        later = _create_token(server.workspace)  # the running server picks it up
        answer = httpx.get(f"{server.api}/runs/auth-run",
                           headers={"Authorization": f"Bearer {later}"})
        assert answer.status_code == 200
    finally:
        for s in (store, reader, anonymous):
            s.close()


def test_non_loopback_without_auth_warns_loudly(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "runtrack", "server", "--backend-store-uri", str(tmp_path / "ws"),
         "--host", "0.0.0.0", "--port", str(free_port())],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )
    try:
        assert process.stderr is not None
        lines = []
        for line in process.stderr:
            lines.append(line)
            if "runtrack server on" in line or len(lines) > 50:
                break
        assert "WITHOUT AUTH" in "".join(lines)
    finally:
        process.terminate()
        process.wait(timeout=30)
