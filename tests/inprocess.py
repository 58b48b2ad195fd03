"""A runtrack server inside the test process: the real app, no subprocess, no socket.

``InProcessServer(workspace)`` builds the app with :func:`runtrack.server.app.create_app`
(the function behind ``runtrack server``); ``.store()`` is a
:class:`~runtrack.store.rest.RestStore` whose HTTP calls go through
:class:`ASGIThreadTransport` into that app. Requests, routes, middleware, error mapping
and the wire format are the real ones; only the sockets and the process start-up are
left out, so a test costs milliseconds. Tests of what needs a real process (signals,
ports, several workers, the CLI) keep ``tests/live_server.py``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from runtrack.server.app import create_app
from runtrack.server.settings import ServerSettings
from runtrack.store.rest import RestStore

BASE_URL = "http://testserver"


class ASGIThreadTransport(httpx.BaseTransport):
    """A synchronous httpx transport into an ASGI app: ``httpx.ASGITransport`` run on an
    event loop in a thread of its own, so blocking callers (RestStore, its shipper
    threads) can use it from any thread."""

    def __init__(self, app: Any) -> None:
        self._asgi = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()  # a streamed upload is read here: the app gets it whole
        sent = httpx.Request(request.method, request.url, headers=request.headers, content=body)

        async def call() -> tuple[int, httpx.Headers, bytes]:
            answer = await self._asgi.handle_async_request(sent)
            raw = b"".join([part async for part in answer.stream])  # type: ignore[union-attr]
            return answer.status_code, answer.headers, raw

        status, headers, raw = asyncio.run_coroutine_threadsafe(call(), self._loop).result()
        return httpx.Response(status, headers=headers, content=raw)

    def close(self) -> None:
        """Nothing: each RestStore closes its client (and so this) on its own; the
        loop stays for the others until :meth:`shutdown`."""

    def shutdown(self) -> None:
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop.close()


class InProcessServer:
    """The server app over ``workspace``, served in this process until :meth:`close`."""

    def __init__(self, workspace: Path, **options: Any) -> None:
        self.settings = ServerSettings.for_uri(str(workspace), **options)
        self.app = create_app(self.settings)
        self.transport = ASGIThreadTransport(self.app)
        self.url = BASE_URL
        self.api = f"{BASE_URL}/api/v1"
        #: an httpx client into the app, for raw requests (``.get(f"{server.api}/…")``)
        self.http = httpx.Client(transport=self.transport, base_url=BASE_URL)
        self._stores: list[RestStore] = []

    def store(self, token: str | None = None, **options: Any) -> RestStore:
        """A RestStore on this server (closed with it)."""
        store = RestStore(self.url, token, transport=self.transport, **options)
        self._stores.append(store)
        return store

    def close(self) -> None:
        for store in self._stores:
            store.close()
        self.http.close()
        self.transport.shutdown()
        self.app.state.store.close()


@pytest.fixture
def inprocess_server(tmp_path: Path) -> Iterator[InProcessServer]:
    """A fresh in-process server over ``tmp_path / "server-ws"`` (re-exported by conftest)."""
    server = InProcessServer(tmp_path / "server-ws")
    yield server
    server.close()
