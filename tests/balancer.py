"""A tiny round-robin TCP load balancer on 127.0.0.1 for the replica tests.

Each accepted connection goes to the next backend in turn; a backend that refuses the
connection is skipped (as a real load balancer's health check would), so after a
replica dies new connections reach the live ones. Bytes are piped both ways by two
threads per connection; nothing is parsed or buffered beyond one read.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import threading
from collections.abc import Sequence


class Balancer:
    """``url`` spreads connections over ``backends`` (``(host, port)`` pairs)."""

    def __init__(self, backends: Sequence[tuple[str, int]]) -> None:
        self.backends = list(backends)
        self._turn = itertools.cycle(range(len(self.backends)))
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections = [0] * len(self.backends)  # made so far, per backend
        self.open = [0] * len(self.backends)  # open now, per backend
        self._closed = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _connect(self) -> tuple[int, socket.socket] | None:
        for _ in range(len(self.backends)):
            with self._lock:
                index = next(self._turn)
            try:
                upstream = socket.create_connection(self.backends[index], timeout=5)
            except OSError:
                continue
            upstream.settimeout(None)
            with self._lock:
                self.connections[index] += 1
                self.open[index] += 1
            return index, upstream
        return None

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            picked = self._connect()
            if picked is None:
                client.close()
                continue
            index, upstream = picked
            threading.Thread(target=self._forward, args=(index, client, upstream),
                             daemon=True).start()
            threading.Thread(target=_pipe, args=(upstream, client), daemon=True).start()

    def _forward(self, index: int, client: socket.socket, upstream: socket.socket) -> None:
        _pipe(client, upstream)
        with self._lock:
            self.open[index] -= 1

    def close(self) -> None:
        self._closed = True
        self._listener.close()


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while True:
            data = source.recv(1 << 16)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
