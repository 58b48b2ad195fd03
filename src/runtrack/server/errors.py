"""One JSON error shape for the whole server.

Every error answer of ``/api/v1`` (and of the pages) is::

    {"error": {"code": "NOT_FOUND", "message": "run 'x' does not exist; …"}}

``code`` is a stable :class:`runtrack.errors.RuntrackError` code and the HTTP status
comes from :data:`runtrack.errors.ERROR_STATUS`. Request validation failures answer
422 with code ``INVALID_REQUEST``; malformed JSON and wrong types never reach a
handler, so bad input never yields a 500. Unexpected exceptions answer 500
``INTERNAL_ERROR`` without a traceback (the traceback goes to the server log).

Other areas (e.g. the MLflow routes) may install their own shape for their prefix;
:func:`error_response` is the shared builder.
"""

from __future__ import annotations

import errno
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from runtrack.errors import ERROR_STATUS, RuntrackError

log = logging.getLogger("runtrack.server")

INVALID_REQUEST = "INVALID_REQUEST"

_HTTP_CODES = {
    400: "INVALID_VALUE",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "LIMIT_EXCEEDED",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: INVALID_REQUEST,
}


#: OS errors that mean "this path cannot exist" rather than "the server is broken".
_BAD_PATH_ERRNOS = frozenset({errno.ENAMETOOLONG, errno.ENOTDIR, errno.EISDIR, errno.EINVAL,
                              errno.ELOOP})


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(code, message), status_code=status, headers=headers)


def status_for(exc: RuntrackError) -> int:
    return ERROR_STATUS.get(exc.code, 500)


def _describe_validation(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()))
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(parts) + "; see /api/v1/openapi.json"


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into the shared shape."""

    @app.exception_handler(RuntrackError)
    async def _runtrack_error(request: Request, exc: RuntrackError) -> JSONResponse:
        status = status_for(exc)
        if status >= 500:
            log.error("runtrack error on %s %s: %s", request.method, request.url.path, exc)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return error_response(status, exc.code, exc.message, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, INVALID_REQUEST, _describe_validation(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, f"HTTP_{exc.status_code}")
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return error_response(exc.status_code, code, message, dict(exc.headers or {}))

    @app.exception_handler(OSError)
    async def _os_error(request: Request, exc: OSError) -> JSONResponse:
        if exc.errno in _BAD_PATH_ERRNOS:
            return error_response(
                400, "INVALID_VALUE",
                f"the path cannot name a file here ({exc.strerror}); use shorter, plain names",
            )
        return await _unexpected(request, exc)

    from sqlalchemy.exc import DataError

    @app.exception_handler(DataError)
    async def _data_error(request: Request, exc: DataError) -> JSONResponse:
        # the database refused a value the API let through (e.g. NUL in PostgreSQL text)
        detail = str(exc.orig).splitlines()[0] if exc.orig is not None else "invalid value"
        return error_response(400, "INVALID_VALUE", f"the database refused a value: {detail}")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        message = f"internal server error ({type(exc).__name__}); see the server log"
        return error_response(500, "INTERNAL_ERROR", message)
