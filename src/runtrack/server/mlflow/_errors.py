"""MLflow-shaped errors for ``/api/2.0/mlflow`` and ``/api/2.0/mlflow-artifacts``.

MLflow clients read ``{"error_code": "...", "message": "..."}`` and branch on the
code (``RESOURCE_DOES_NOT_EXIST`` from ``experiments/get-by-name`` is how
``set_experiment`` learns that it must create the experiment). They retry every
5xx/429/408 for minutes, so expected failures and unimplemented routes answer
400/404/501, never 5xx. :class:`MlflowRoute` turns whatever a handler raises into
that shape; the rest of the server keeps runtrack's own error shape.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from runtrack.errors import (
    ConflictError,
    InvalidTypeError,
    InvalidValueError,
    NotFoundError,
    PropertyConflictError,
    RuntrackError,
    StoreUnavailableError,
)

log = logging.getLogger("runtrack.server.mlflow")

INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"
RESOURCE_DOES_NOT_EXIST = "RESOURCE_DOES_NOT_EXIST"
RESOURCE_ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"
ENDPOINT_NOT_FOUND = "ENDPOINT_NOT_FOUND"
NOT_IMPLEMENTED = "NOT_IMPLEMENTED"

#: HTTP status of each MLflow error code this server answers with.
STATUS: dict[str, int] = {
    INVALID_PARAMETER_VALUE: 400,
    RESOURCE_ALREADY_EXISTS: 400,
    "BAD_REQUEST": 400,
    "INVALID_STATE": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    RESOURCE_DOES_NOT_EXIST: 404,
    ENDPOINT_NOT_FOUND: 404,
    NOT_IMPLEMENTED: 501,
    "TEMPORARILY_UNAVAILABLE": 503,
    "INTERNAL_ERROR": 500,
}


class MlflowError(Exception):
    """An error answered in MLflow's shape with :data:`STATUS` of its code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def invalid(message: str) -> MlflowError:
    return MlflowError(INVALID_PARAMETER_VALUE, message)


def missing(message: str) -> MlflowError:
    return MlflowError(RESOURCE_DOES_NOT_EXIST, message)


_API_DOCS = " See the API docs for more information about request parameters."


def bad_type(name: str, value: Any) -> MlflowError:
    """MLflow's answer to a request field of the wrong JSON type (its wording)."""
    shown = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return invalid(
        f"Invalid value {shown} for parameter '{name}' supplied:  Hint: Value was of type "
        f"'{type(value).__name__}'.{_API_DOCS}"
    )


def required(name: str) -> MlflowError:
    """MLflow's answer to a missing required request field (its wording)."""
    return invalid(f"Missing value for required parameter '{name}'.{_API_DOCS}")


def response(code: str, message: str) -> JSONResponse:
    return JSONResponse({"error_code": code, "message": message}, status_code=STATUS[code])


def from_runtrack(exc: RuntrackError) -> MlflowError:
    """The MLflow error for a runtrack error raised by the store."""
    if isinstance(exc, NotFoundError):
        return missing(exc.message)
    if isinstance(exc, PropertyConflictError):
        return invalid(
            f"{exc.message}. MLflow params are immutable: changing param values is not allowed"
        )
    if isinstance(exc, (InvalidValueError, InvalidTypeError, ConflictError)):
        return invalid(exc.message)
    if isinstance(exc, StoreUnavailableError):
        return MlflowError("TEMPORARILY_UNAVAILABLE", exc.message)
    return MlflowError("INTERNAL_ERROR", exc.message)


def to_response(exc: Exception, request: Request) -> Response:
    """The MLflow-shaped answer for anything a handler raised."""
    if isinstance(exc, MlflowError):
        return response(exc.code, exc.message)
    if isinstance(exc, RuntrackError):
        err = from_runtrack(exc)
        if STATUS[err.code] >= 500:
            log.error("mlflow route %s %s: %s", request.method, request.url.path, exc)
        return response(err.code, err.message)
    if isinstance(exc, RequestValidationError):
        return response(INVALID_PARAMETER_VALUE, f"invalid request: {exc.errors()[:3]}")
    if isinstance(exc, StarletteHTTPException):
        code = RESOURCE_DOES_NOT_EXIST if exc.status_code == 404 else "BAD_REQUEST"
        return response(code, str(exc.detail))
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return response(
        "INTERNAL_ERROR", f"internal server error ({type(exc).__name__}); see the server log"
    )


class MlflowRoute(APIRoute):
    """An APIRoute whose errors come out in MLflow's shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                return to_response(exc, request)

        return guarded
