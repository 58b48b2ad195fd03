"""Fresh server processes in milliseconds, for suites that need an empty server per test.

``python -m tests.server_forker`` imports the server stack once, then for each line
``<workspace> <port>`` on stdin forks a child that serves that workspace with
:func:`runtrack.server.serve.serve` (the function behind ``runtrack server``) and
answers the child's pid. The children are real server processes on real sockets; only
the interpreter start-up is shared. The :class:`Forker` class drives it from tests.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.live_server import free_port


def _serve_forever() -> None:
    import tempfile

    from runtrack.server.app import create_app
    from runtrack.server.serve import serve
    from runtrack.server.settings import ServerSettings

    with tempfile.TemporaryDirectory() as warm:  # import everything a first request needs
        app = create_app(ServerSettings.for_uri(warm))
        app.openapi()
        app.state.store.close()

    for line in sys.stdin:
        workspace, port = line.split()
        pid = os.fork()
        if pid == 0:
            sys.stdin.close()
            log = os.open(f"{workspace}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.dup2(log, 1)
            os.dup2(log, 2)
            settings = ServerSettings.for_uri(workspace, port=int(port), log_level="error")
            try:
                serve(settings)
            finally:
                os._exit(0)
        print(pid, flush=True)


class Forker:
    """Starts the forker process; :meth:`start` returns (url, pid) of a ready server."""

    def __init__(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RUNTRACK_")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.server_forker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
            cwd=Path(__file__).resolve().parents[1],
        )

    def start(self, workspace: Path, timeout: float = 60.0) -> tuple[str, int]:
        assert self.process.stdin is not None and self.process.stdout is not None
        port = free_port()
        self.process.stdin.write(f"{workspace} {port}\n")
        self.process.stdin.flush()
        pid = int(self.process.stdout.readline())
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        while True:
            try:
                httpx.get(f"{url}/api/v1/health", timeout=2.0)
                return url, pid
            except httpx.TransportError:
                if time.monotonic() > deadline or not _alive(pid):
                    log = Path(f"{workspace}.log")
                    text = log.read_text() if log.exists() else ""
                    raise RuntimeError(f"forked server on {url} did not answer:\n{text}") from None
                time.sleep(0.02)

    @staticmethod
    def stop(pid: int) -> None:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 15
        while _alive(pid):
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                return
            time.sleep(0.02)

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=15)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


if __name__ == "__main__":
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    _serve_forever()
