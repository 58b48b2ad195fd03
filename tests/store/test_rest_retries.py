"""RestStore's retries against a real (tiny, scripted) HTTP server: 5xx and dropped
connections are retried with back-off, appends are not resent, errors keep their codes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from runtrack.errors import NotFoundError, StoreUnavailableError
from runtrack.store.rest import RestStore


class _Script:
    def __init__(self) -> None:
        self.answers: list[tuple[int, dict[str, object]]] = []
        self.seen: list[str] = []


@pytest.fixture
def scripted() -> Iterator[tuple[str, _Script]]:
    script = _Script()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            self.rfile.read(length)
            script.seen.append(f"{self.command} {self.path}")
            status, body = script.answers.pop(0) if script.answers else (200, {})
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", script
    server.shutdown()
    server.server_close()


def test_5xx_is_retried_then_succeeds(scripted: tuple[str, _Script]) -> None:
    url, script = scripted
    script.answers = [(503, {}), (502, {}), (200, {"next_seq": 7})]
    store = RestStore(url, backoff=0.01)
    assert store.ingest_position("r", "s") == 7
    assert len(script.seen) == 3
    store.close()


def test_persistent_5xx_becomes_store_unavailable(scripted: tuple[str, _Script]) -> None:
    url, script = scripted
    script.answers = [(500, {})] * 3
    store = RestStore(url, attempts=3, backoff=0.01)
    with pytest.raises(StoreUnavailableError):
        store.list_experiments()
    assert len(script.seen) == 3
    store.close()


def test_appends_are_not_resent_after_a_5xx(scripted: tuple[str, _Script]) -> None:
    url, script = scripted
    script.answers = [(503, {}), (200, {"size": 3})]
    store = RestStore(url, backoff=0.01)
    with pytest.raises(StoreUnavailableError):
        store.artifacts.append("r", "logs/x.txt", b"abc")
    assert len(script.seen) == 1
    store.close()


def test_error_codes_map_to_exceptions(scripted: tuple[str, _Script]) -> None:
    url, script = scripted
    script.answers = [(404, {"error": {"code": "NOT_FOUND", "message": "run 'r' does not exist"}})]
    store = RestStore(url, backoff=0.01)
    with pytest.raises(NotFoundError, match="does not exist"):
        store.get_run("r")
    assert len(script.seen) == 1
    store.close()


def test_unreachable_server() -> None:
    from tests.live_server import free_port

    store = RestStore(f"http://127.0.0.1:{free_port()}", attempts=2, backoff=0.01)
    with pytest.raises(StoreUnavailableError, match="cannot be reached"):
        store.list_experiments()
    store.close()
