"""Bad input through HTTP: confined artifact paths, bounded memory, named limits, one error
shape — and a schemathesis run over /api/v1 that must find no 5xx."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from runtrack import limits
from runtrack.model import NewRun, RunStatus
from runtrack.store.rest import RestStore
from tests.inprocess import InProcessServer
from tests.live_server import LiveServer, start_server

RUN = "safe-run"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(tmp_path_factory.mktemp("safety"), "--max-request-bytes", "1000000")
    store = RestStore(live.url)
    exp = store.get_or_create_experiment("safety")
    store.create_run(NewRun(exp.id, RUN, display_name="s", run_type="script"))
    store.close()
    yield live
    live.stop()


@pytest.mark.parametrize(
    "raw_path",
    [
        "%2e%2e/%2e%2e/secret.txt",
        "..%2Fsecret.txt",
        "a/%2E%2E/%2E%2E/secret.txt",
        "%2Fetc%2Fpasswd",
        "a%5C..%5C..%5Csecret.txt",
        "a/%00b",
    ],
)
def test_artifact_paths_cannot_escape_the_run(server: LiveServer, raw_path: str) -> None:
    (server.workspace / "artifacts" / "secret.txt").parent.mkdir(parents=True, exist_ok=True)
    (server.workspace / "artifacts" / "secret.txt").write_text("secret")
    url = f"{server.api}/runs/{RUN}/artifacts/{raw_path}"
    with httpx.Client() as client:
        for method in ("GET", "PUT", "POST"):
            request = client.build_request(
                method, url, content=b"x", headers={"content-type": "application/octet-stream"}
            )
            request.url = httpx.URL(url)  # keep the encoded form as sent
            answer = client.send(request)
            assert answer.status_code == 400, (method, raw_path, answer.text)
            assert answer.json()["error"]["code"] in ("INVALID_VALUE", "LIMIT_EXCEEDED")
    assert (server.workspace / "artifacts" / "secret.txt").read_text() == "secret"


def test_symlink_escape_is_refused(server: LiveServer, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "private.txt").write_text("TOP-SECRET-CONTENT")
    run_folder = server.workspace / "artifacts" / RUN
    run_folder.mkdir(parents=True, exist_ok=True)
    link = run_folder / "link"
    if not link.exists():
        os.symlink(outside, link)
    answer = httpx.get(f"{server.api}/runs/{RUN}/artifacts/link/private.txt")
    assert answer.status_code in (400, 404)
    assert "TOP-SECRET-CONTENT" not in answer.text


def test_streamed_upload_and_download_keep_memory_bounded(server: LiveServer) -> None:
    size = 96 << 20
    block = os.urandom(1 << 20)
    process = psutil.Process(server.process.pid)
    before = process.memory_info().rss

    def body() -> Iterator[bytes]:
        for _ in range(size // len(block)):
            yield block

    answer = httpx.put(f"{server.api}/runs/{RUN}/artifacts/big.bin", content=body(), timeout=120)
    assert answer.status_code == 200 and answer.json()["size"] == size
    received = 0
    with httpx.stream("GET", f"{server.api}/runs/{RUN}/artifacts/big.bin", timeout=120) as down:
        for chunk in down.iter_bytes():
            received += len(chunk)
    assert received == size
    grown = process.memory_info().rss - before
    assert grown < 48 << 20, f"server memory grew by {grown >> 20} MiB for a {size >> 20} MiB file"


def test_request_size_limit_is_named(server: LiveServer) -> None:
    record = ["m", "scalar", 1, 1.0, "x" * 2_000_000]
    body = json.dumps({"stream": "s", "first_seq": 0, "records": [record]})
    answer = httpx.post(f"{server.api}/runs/{RUN}/metrics", content=body,
                        headers={"content-type": "application/json"})
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "LIMIT_EXCEEDED"
    assert "max_request_bytes" in answer.json()["error"]["message"]


def test_batch_limit_is_named(inprocess_server: InProcessServer) -> None:
    store = inprocess_server.store()
    exp = store.get_or_create_experiment("limits")
    store.create_run(NewRun(exp.id, "limit-run", display_name="l", run_type="script",
                     status=RunStatus.RUNNING))
    store.close()
    records = [["m", "scalar", None, 0, 0]] * (limits.MAX_BATCH_RECORDS + 1)
    body = json.dumps({"stream": "s", "first_seq": 0, "records": records}, separators=(",", ":"))
    answer = inprocess_server.http.post(f"{inprocess_server.api}/runs/limit-run/metrics",
                                        content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "LIMIT_EXCEEDED"
    assert "MAX_BATCH_RECORDS" in answer.json()["error"]["message"]


def test_error_shape(inprocess_server: InProcessServer) -> None:
    http, api = inprocess_server.http, inprocess_server.api
    missing = http.get(f"{api}/runs/nope")
    assert missing.status_code == 404
    assert set(missing.json()) == {"error"}
    assert set(missing.json()["error"]) == {"code", "message"}
    assert missing.json()["error"]["code"] == "NOT_FOUND"
    invalid = http.post(f"{api}/runs", json={"run_id": 5})
    assert invalid.status_code == 422
    assert invalid.json()["error"]["code"] == "INVALID_REQUEST"
    broken = http.post(f"{api}/runs", content=b"{not json",
                       headers={"content-type": "application/json"})
    assert broken.status_code == 422 and "error" in broken.json()


def test_no_server_errors(server: LiveServer) -> None:
    """Schemathesis-generated requests for every /api/v1 operation (4 each, derandomised,
    so bounded in time) never get a 5xx. Driven through hypothesis directly rather than
    schemathesis' pytest plugin, which tracks pytest internals across versions."""
    schema = schemathesis.openapi.from_url(f"{server.api}/openapi.json").include(
        path_regex="^/api/v1/"
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20
    errors: list[str] = []
    for operation in operations:

        @given(operation.as_strategy())
        @settings(max_examples=4, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            response = case.call()
            if response.status_code >= 500:
                errors.append(
                    f"{case.method} {case.path} {case.path_parameters} -> "
                    f"{response.status_code}: {response.text[:200]}"
                )

        check()
    assert not errors, "\n".join(errors)
