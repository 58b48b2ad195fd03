"""The HTTP client under RestStore: one pooled ``httpx.Client``, retries, error mapping.

* Connection reuse: one client (keep-alive pool) per store, safe across threads.
* Retries with exponential back-off (``backoff * 2**n``, capped) on connection errors
  and on 5xx answers / read timeouts. Requests that are not idempotent are only
  retried when the request provably never left (connect errors).
* Every error answer of the server (``{"error": {"code", "message"}}``) is raised as
  the :mod:`runtrack.errors` class of its code; a server that stays unreachable raises
  :class:`runtrack.errors.StoreUnavailableError`.
* JSON is written with Python's ``NaN``/``Infinity`` extension, as the server does.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from runtrack.errors import (
    AuthError,
    InvalidValueError,
    RuntrackError,
    StoreUnavailableError,
    error_from_code,
)

API_PREFIX = "/api/v1"
_SAFE_TO_RESEND = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_RETRY_STATUS = frozenset({500, 502, 503, 504})


class HttpClient:
    """Calls ``<uri>/api/v1/...`` with retries; ``attempts`` tries per call in all."""

    def __init__(
        self,
        uri: str,
        token: str | None = None,
        *,
        attempts: int = 5,
        backoff: float = 0.1,
        max_backoff: float = 2.0,
        timeout: float = 120.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.uri = uri.rstrip("/")
        headers = {"User-Agent": "runtrack-rest"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.Client(
            base_url=self.uri + API_PREFIX,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=10.0),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
            transport=transport,
        )
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._local = threading.local()

    @property
    def last_call_was_resent(self) -> bool:
        """Whether this thread's last call needed more than one try."""
        return bool(getattr(self._local, "resent", False))

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Any = None,
        content: Callable[[], bytes | Iterable[bytes]] | None = None,
        content_type: str | None = None,
        idempotent: bool = True,
        allow_404: bool = False,
    ) -> httpx.Response:
        """Send and return the (2xx, or 404 when ``allow_404``) response.

        ``body`` is JSON-encoded; ``content`` is called once per try and returns the raw
        body (so a retry can re-read a rewound file).
        """
        headers: dict[str, str] = {}
        raw: bytes | Iterable[bytes] | None = None
        if body is not None:
            raw = json.dumps(body, separators=(",", ":")).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if content_type is not None:
            headers["Content-Type"] = content_type
        self._local.resent = False
        for attempt in range(self.attempts):
            last = attempt == self.attempts - 1
            if attempt:
                self._local.resent = True
                time.sleep(min(self.max_backoff, self.backoff * 2 ** (attempt - 1)))
            payload = content() if content is not None else raw
            try:
                response = self._client.request(
                    method, path, content=payload, params=params, headers=headers
                )
            except _SAFE_TO_RESEND as exc:
                if last:
                    raise self._unavailable(exc) from exc
                continue
            except httpx.TransportError as exc:
                if last or not idempotent:
                    raise self._unavailable(exc) from exc
                continue
            if response.status_code in _RETRY_STATUS and idempotent and not last:
                response.close()
                continue
            if response.is_success or (allow_404 and response.status_code == 404):
                return response
            raise self._error(response)
        raise AssertionError("unreachable")  # pragma: no cover

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.request(method, path, **kwargs).json()

    def stream(self, path: str) -> httpx.Response:
        """A streamed GET (the caller closes it); errors raised like :meth:`request`."""
        for attempt in range(self.attempts):
            if attempt:
                time.sleep(min(self.max_backoff, self.backoff * 2 ** (attempt - 1)))
            try:
                request = self._client.build_request("GET", path)
                response = self._client.send(request, stream=True)
            except httpx.TransportError as exc:
                if attempt == self.attempts - 1:
                    raise self._unavailable(exc) from exc
                continue
            if response.is_success:
                return response
            response.read()
            if response.status_code in _RETRY_STATUS and attempt < self.attempts - 1:
                continue
            raise self._error(response)
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        self._client.close()

    def _unavailable(self, exc: Exception) -> StoreUnavailableError:
        return StoreUnavailableError(
            f"the runtrack server at {self.uri} cannot be reached ({type(exc).__name__}: "
            f"{exc}) after {self.attempts} tries; check that 'runtrack server' runs there "
            "(logged metrics stay in the local spool and are sent when it is back)"
        )

    def _error(self, response: httpx.Response) -> RuntrackError:
        code, message = "", ""
        try:
            data = response.json()
            code = str(data["error"]["code"])
            message = str(data["error"]["message"])
        except (ValueError, KeyError, TypeError):
            message = response.text[:500]
        if not message:
            message = f"HTTP {response.status_code} from {response.request.url}"
        if response.status_code in (401, 403):
            return AuthError(
                f"{message} (server {self.uri}; set RUNTRACK_TOKEN to a valid token)"
            )
        if code == "INVALID_REQUEST" or (not code and response.status_code in (400, 422)):
            return InvalidValueError(message)
        if response.status_code >= 500 and code in ("", "INTERNAL_ERROR"):
            return StoreUnavailableError(
                f"the runtrack server at {self.uri} failed: {message}"
            )
        return error_from_code(code, message)
