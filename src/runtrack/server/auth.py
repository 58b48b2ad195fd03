"""Bearer-token auth for every route of the server, and the token file.

With ``ServerSettings.auth`` on, :class:`TokenAuthMiddleware` wraps the whole ASGI app,
so every route — ``/api/v1``, the pages, artifacts, the MLflow routes and the OpenAPI
document — refuses a request without a valid token (401) before any router runs.
Tokens are read-write or read-only; a read-only token may only ``GET``/``HEAD``/
``OPTIONS`` and ``POST`` to the paths in ``app.state.read_only_posts`` (searches that
need a body); anything else answers 403.

A request presents its token as ``Authorization: Bearer <token>`` or, for browsers,
the ``runtrack_token`` cookie, which the login page sets (:mod:`runtrack.server._login`:
``/login``, ``/logout``; a page request without a token is sent there instead of a 401).

Tokens are stored hashed in a JSON side file (``ServerSettings.token_file``, default
``tokens.json`` beside the SQLite database; mode 0600), not in the tracking database,
so the storage layer and its migrations stay unaware of auth. Tokens are 256 random
bits, so an unsalted SHA-256 is enough to make a stolen file useless. The file is
re-read when it changes, so ``runtrack token create`` and ``runtrack token revoke`` take
effect on a running server at its next request. When a token was last used is kept in a
second file beside it (``<token file>.last-used.json``), written at most once a minute
per token, so a request never waits on a write and the token file is only ever written by
the ``runtrack token`` commands.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtrack.errors import ConfigError

TOKEN_PREFIX = "rt_"
COOKIE_NAME = "runtrack_token"
LAST_USED_EVERY_S = 60.0
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class TokenRecord:
    id: str
    name: str
    digest: str
    read_only: bool
    created_time: float


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def read_tokens(path: Path) -> list[TokenRecord]:
    """Every token record of ``path`` (empty when the file does not exist)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read token file {path}: {exc}; fix or remove it") from exc
    return [TokenRecord(**item) for item in data.get("tokens", [])]


def create_token(path: Path, *, name: str = "", read_only: bool = False) -> str:
    """Add a new token to ``path`` and return it (the only time it is shown)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    records = read_tokens(path)
    record = TokenRecord(secrets.token_hex(4), name, _digest(token), read_only, time.time())
    records.append(record)
    _write_json(path, {"tokens": [vars(r) for r in records]})
    return token


def _write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1)
    os.replace(tmp, path)


def revoke_token(path: Path, name_or_id: str) -> TokenRecord:
    """Remove the token whose name (or id) is ``name_or_id`` from ``path``."""
    from runtrack.errors import InvalidValueError, NotFoundError

    records = read_tokens(path)
    hits = [r for r in records if name_or_id in (r.name, r.id)]
    if not hits:
        raise NotFoundError(
            f"no token named {name_or_id!r} in {path}; 'runtrack token list' shows them"
        )
    if len(hits) > 1:
        ids = ", ".join(r.id for r in hits)
        raise InvalidValueError(
            f"{len(hits)} tokens are named {name_or_id!r} (ids {ids}): revoke one by its id"
        )
    _write_json(path, {"tokens": [vars(r) for r in records if r is not hits[0]]})
    return hits[0]


def last_used_path(path: Path) -> Path:
    return path.with_name(path.name + ".last-used.json")


def read_last_used(path: Path) -> dict[str, float]:
    """Token id -> when a server last accepted it (to the minute)."""
    try:
        data = json.loads(last_used_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): float(v) for k, v in data.items()} if isinstance(data, dict) else {}


class TokenBook:
    """Token digests of a file, re-read when the file's mtime changes."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._by_digest: dict[str, TokenRecord] = {}
        self._noted: dict[str, float] = {}

    def lookup(self, token: str) -> TokenRecord | None:
        try:
            info = self._path.stat()
            stamp = (info.st_mtime_ns, info.st_size, info.st_ino)
        except FileNotFoundError:
            stamp = (-1, -1, -1)
        with self._lock:
            if stamp != self._stamp:
                self._by_digest = {r.digest: r for r in read_tokens(self._path)}
                self._stamp = stamp
            record = self._by_digest.get(_digest(token))
        if record is not None:
            self._note_use(record.id)
        return record

    def _note_use(self, token_id: str) -> None:
        now = time.time()
        if now - self._noted.get(token_id, 0.0) < LAST_USED_EVERY_S:
            return
        self._noted[token_id] = now
        try:
            used = read_last_used(self._path)
            used[token_id] = max(now, used.get(token_id, 0.0))
            _write_json(last_used_path(self._path), used)
        except OSError:  # a read-only token folder must not refuse requests
            pass


def _token_of(scope: dict[str, Any]) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == b"authorization":
            scheme, _, rest = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and rest.strip():
                return str(rest.strip())
        elif key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                name, _, val = part.strip().partition("=")
                if name == COOKIE_NAME and val:
                    return str(val)
    return None


class TokenAuthMiddleware:
    """ASGI middleware: 401 without a valid token, 403 for writes with a read-only one."""

    def __init__(self, app: Any, book: TokenBook, read_only_posts: set[str]) -> None:
        self.app = app
        self.book = book
        self.read_only_posts = read_only_posts

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        from runtrack.server import _login

        if scope["type"] == "http" and scope.get("path") in (_login.LOGIN_PATH,
                                                             _login.LOGOUT_PATH):
            await _login.handle(scope, receive, send, COOKIE_NAME,
                                lambda t: self.book.lookup(t) is not None)
            return
        token = _token_of(scope)
        record = self.book.lookup(token) if token else None
        if record is None and scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        if record is None and _login.is_page_request(scope):
            await _login.to_login(scope, send)
            return
        if record is None:
            what = "a valid" if token else "a"
            await _refuse(
                send, 401, "UNAUTHORIZED",
                f"this server requires {what} bearer token: send 'Authorization: Bearer "
                "<token>' (create one with 'runtrack token create' on the server)",
            )
            return
        method = scope.get("method", "GET")
        if record.read_only and method not in _READ_METHODS and not (
            method == "POST" and scope.get("path") in self.read_only_posts
        ):
            await _refuse(
                send, 403, "FORBIDDEN",
                "this token is read-only; use a read-write token "
                "('runtrack token create' without --read-only) to change data",
            )
            return
        await self.app(scope, receive, send)


async def _refuse(send: Any, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
