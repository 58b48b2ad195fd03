"""Request-level protections that hold for every route: body size, CSRF, page headers.

:class:`RequestGuard` wraps the app just inside the token check (see
:func:`install`; auth reads no body). Before any router or body read it

* **bounds the body**: a request whose ``Content-Length`` exceeds
  ``ServerSettings.max_request_bytes`` answers 413 at once, and a body sent without a
  length (chunked) is counted as it is read and cut off with the same 413 the moment it
  passes the limit. Streamed file uploads (``PUT`` of an artifact, the patterns in
  ``app.state.streamed_uploads``) go to disk block by block and are not bounded;
* **refuses cross-site writes** (CSRF). A ``POST`` must carry ``Content-Type:
  application/json`` or one of the binary types in :data:`BODY_TYPES`, which a page on
  another origin cannot send without a CORS preflight this server never grants. Every
  write (any method but ``GET``/``HEAD``/``OPTIONS``) whose ``Sec-Fetch-Site`` says
  ``cross-site``/``same-site``, or whose ``Origin`` names another host than the request's
  ``Host``, answers 403; a write authenticated by the ``runtrack_token`` cookie (no
  ``Authorization`` header) must also prove it comes from this server's own pages with
  one of those two headers. Paths in ``app.state.form_posts`` (a login form) may post
  forms, and always need that proof; the file upload of :data:`RAW_POSTS` may carry any
  type, with the same cross-site checks;
* **adds page headers**: every answer gets ``X-Content-Type-Options: nosniff`` and
  ``X-Frame-Options: DENY``; HTML answers get the :data:`PAGE_POLICY`
  Content-Security-Policy (scripts only from this server, no framing), the interactive
  API docs a policy that also admits their CDN.

Refusals use the error shape of the path: MLflow's ``{"error_code", "message"}`` under
``/api/2.0`` and ``/api/3.0``, runtrack's ``{"error": {"code", "message"}}`` elsewhere.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI

from runtrack.errors import LimitExceededError
from runtrack.server.settings import ServerSettings

#: Content types a POST body may have (besides the form posts of ``app.state.form_posts``).
BODY_TYPES = frozenset({
    "application/json",
    "application/octet-stream",
    "application/vnd.runtrack.columns",
})
#: Uploads streamed to storage, not bounded by max_request_bytes: (method, path pattern).
STREAMED_UPLOADS = (
    ("PUT", re.compile(r"^/api/v1/runs/[^/]+/artifacts/.+")),
    ("PUT", re.compile(r"^/api/2\.0/mlflow-artifacts/artifacts/.+")),
)
#: POST paths whose body is a file of any type (MLflow's web-UI upload): no Content-Type
#: rule, but the cross-site and cookie checks still apply.
RAW_POSTS = frozenset({"/ajax-api/2.0/mlflow/upload-artifact", "/api/2.0/mlflow/upload-artifact"})
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
_DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "img-src 'self' data: https://fastapi.tiangolo.com; object-src 'none'; "
    "frame-ancestors 'none'"
)
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SAME_SITE_FETCH = frozenset({"same-origin", "none"})
_COOKIE = "runtrack_token"


def install(app: FastAPI, settings: ServerSettings) -> None:
    """Wrap ``app`` in :class:`RequestGuard` (call before the auth middleware is added,
    after every other one)."""
    if not hasattr(app.state, "streamed_uploads"):
        app.state.streamed_uploads = list(STREAMED_UPLOADS)
    if not hasattr(app.state, "form_posts"):
        app.state.form_posts = set()
    app.add_middleware(
        RequestGuard,
        max_request_bytes=settings.max_request_bytes,
        streamed_uploads=app.state.streamed_uploads,
        form_posts=app.state.form_posts,
        docs_path=app.docs_url,
    )


class _BodyTooLarge(LimitExceededError):
    """Raised from ``receive`` when a body without a declared length passes the limit."""


class RequestGuard:
    """The ASGI middleware described in this module's docstring."""

    def __init__(
        self,
        app: Any,
        *,
        max_request_bytes: int,
        streamed_uploads: list[tuple[str, re.Pattern[str]]],
        form_posts: set[str],
        docs_path: str | None = None,
    ) -> None:
        self.app = app
        self.limit = max_request_bytes
        self.streamed_uploads = streamed_uploads
        self.form_posts = form_posts
        self.docs_path = docs_path

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        path: str = scope["path"]
        headers = _headers(scope)
        refusal = self._refusal(method, path, headers)
        if refusal is not None:
            await _refuse(send, path, *refusal)
            return
        bounded = not any(
            method == m and pattern.match(path) for m, pattern in self.streamed_uploads
        )
        send = self._with_headers(send, path)
        if not bounded or "content-length" in headers:
            await self.app(scope, receive, send)
            return
        await self._counted(scope, receive, send, path)

    def _refusal(self, method: str, path: str, headers: dict[str, str]) -> tuple[int, str] | None:
        """(status, message) when the request is refused before it reaches a route."""
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit and not any(
            method == m and pattern.match(path) for m, pattern in self.streamed_uploads
        ):
            return 413, _too_big(f"a body of {int(declared)} bytes", self.limit)
        if method in _SAFE_METHODS:
            return None
        form = path in self.form_posts
        if method == "POST" and not form and path not in RAW_POSTS:
            kind = headers.get("content-type", "").split(";")[0].strip().lower()
            if kind not in BODY_TYPES:
                return 415, (
                    f"a POST needs Content-Type application/json (or "
                    f"{', '.join(sorted(BODY_TYPES - {'application/json'}))} for binary "
                    f"bodies), not {kind or 'none'!r}: this keeps pages of other sites from "
                    "posting to this server"
                )
        verdict = _same_origin(headers)
        if verdict is False:
            return 403, (
                f"cross-site {method} refused: this server accepts writes from its own pages "
                "and from API clients, not from pages of other sites"
            )
        if verdict is None and (form or _cookie_authenticated(headers)):
            return 403, (
                f"a {method} authenticated by the {_COOKIE} cookie must come from this "
                "server's pages (Origin or Sec-Fetch-Site header); API clients send "
                "'Authorization: Bearer <token>' instead"
            )
        return None

    def _with_headers(self, send: Any, path: str) -> Any:
        docs = self.docs_path

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {key.lower() for key, _ in headers}
                extra = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY")]
                kind = dict(headers).get(b"content-type", b"")
                if kind.startswith(b"text/html"):
                    policy = _DOCS_POLICY if path == docs else PAGE_POLICY
                    extra.append((b"content-security-policy", policy.encode()))
                headers.extend(h for h in extra if h[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        return send_with_headers

    async def _counted(self, scope: dict[str, Any], receive: Any, send: Any, path: str) -> None:
        """Run the app on a body of unknown length, answering 413 once it passes the limit."""
        limit = self.limit
        seen = 0
        over = False
        started = False

        async def counting_receive() -> dict[str, Any]:
            nonlocal seen, over
            message: dict[str, Any] = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    over = True
                    raise _BodyTooLarge(_too_big(f"a body of more than {limit} bytes", limit))
            return message

        async def guarded_send(message: dict[str, Any]) -> None:
            nonlocal started
            if over:  # whatever the route made of the error, the answer is the 413
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await _refuse(send, path, 413, _too_big("a body", limit))
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _BodyTooLarge:
            if started:
                raise
            await _refuse(send, path, 413, _too_big("a body", limit))


def _headers(scope: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, value in scope.get("headers", ()):
        name = key.decode("latin-1").lower()
        text = value.decode("latin-1")
        found[name] = f"{found[name]}; {text}" if name == "cookie" and name in found else text
    return found


def _same_origin(headers: dict[str, str]) -> bool | None:
    """True/False when a browser header says the request comes from this server's own
    pages or not; None when neither ``Sec-Fetch-Site`` nor ``Origin`` was sent."""
    site = headers.get("sec-fetch-site")
    if site:
        return site.lower() in _SAME_SITE_FETCH
    origin = headers.get("origin")
    if not origin:
        return None
    if origin == "null":
        return False
    return urlsplit(origin).netloc.lower() == headers.get("host", "").lower()


def _cookie_authenticated(headers: dict[str, str]) -> bool:
    if "authorization" in headers:
        return False
    cookies = headers.get("cookie", "")
    return any(part.strip().startswith(_COOKIE + "=") for part in cookies.split(";"))


def _too_big(what: str, limit: int) -> str:
    return (
        f"{what} is more than max_request_bytes={limit}: send smaller requests (split "
        "batches, upload files with PUT) or raise the server's --max-request-bytes"
    )


_MLFLOW_CODES = {413: "REQUEST_LIMIT_EXCEEDED", 415: "BAD_REQUEST", 403: "PERMISSION_DENIED"}
_RUNTRACK_CODES = {413: "LIMIT_EXCEEDED", 415: "UNSUPPORTED_MEDIA_TYPE", 403: "FORBIDDEN"}


async def _refuse(send: Any, path: str, status: int, message: str) -> None:
    if path.startswith(("/api/2.0/", "/api/3.0/")):
        payload: dict[str, Any] = {"error_code": _MLFLOW_CODES[status], "message": message}
    else:
        payload = {"error": {"code": _RUNTRACK_CODES[status], "message": message}}
    body = json.dumps(payload).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"connection", b"close"),
        ],
    })
    await send({"type": "http.response.body", "body": body})
