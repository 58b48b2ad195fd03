"""A real ``runtrack server`` subprocess for tests (fixtures are re-exported by conftest).

``live_server`` (module-scoped) yields a :class:`LiveServer` on a free 127.0.0.1 port
over a fresh SQLite workspace; ``start_server(tmp, *extra_cli_args)`` starts more (for
example with ``--auth``) and must be paired with ``.stop()``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

STARTUP_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """A running server: ``url`` (http://127.0.0.1:PORT), its ``workspace`` folder."""

    url: str
    workspace: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def api(self) -> str:
        return f"{self.url}/api/v1"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


def start_server(
    tmp: Path, *args: str, workspace: Path | None = None, port: int | None = None
) -> LiveServer:
    """Start ``runtrack server`` (on a free port unless given) and wait (bounded) until it
    answers HTTP."""
    workspace = workspace or tmp / "server-ws"
    tmp.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log_path = tmp / f"server-{port}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNTRACK_", "AZUREML_"))}
    has_backend = "--backend-store-uri" in args
    cmd = [sys.executable, "-m", "runtrack", "server", "--port", str(port)]
    if not has_backend:
        cmd += ["--backend-store-uri", str(workspace)]
    cmd += list(args)
    with log_path.open("wb") as out:
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    server = LiveServer(f"http://127.0.0.1:{port}", workspace, process, log_path)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"runtrack server exited early:\n{server.log()}")
        try:
            httpx.get(f"{server.api}/health", timeout=2.0)
            return server
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"runtrack server did not answer in time:\n{server.log()}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server over a fresh SQLite workspace, shared by the tests of one module."""
    server = start_server(tmp_path_factory.mktemp("live"))
    yield server
    server.stop()
