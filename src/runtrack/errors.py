"""The whole runtrack exception tree, in one place.

::

    RuntrackError                       base of everything runtrack raises on purpose
    ├── ConfigError                     the workspace could not be resolved or opened
    ├── NotFoundError (LookupError)     an experiment, run, metric or artifact does not exist
    ├── ConflictError                   the call contradicts what is stored
    │   ├── PropertyConflictError       add_properties() with a different value for a key
    │   ├── ArtifactExistsError         an artifact path is already taken in the run
    │   └── RunStateError               a terminal run cannot change state again
    ├── InvalidValueError (ValueError)  an argument has the right type but a bad value
    │   └── LimitExceededError          a documented limit (runtrack.limits) was exceeded
    ├── InvalidTypeError (TypeError)    an argument has a type runtrack cannot store
    ├── StoreUnavailableError           the tracking store cannot be reached right now
    ├── AuthError                       missing or wrong token
    └── RunFailedError                  wait_for_completion() on a run that failed

Every message says what was wrong and what to do about it. ``ERROR_STATUS`` maps each
error's stable ``code`` to an HTTP status; the server and the REST client both use it.
"""

from __future__ import annotations

from typing import Any


class RuntrackError(Exception):
    """Base class of every error runtrack raises on purpose."""

    code = "INTERNAL_ERROR"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class ConfigError(RuntrackError):
    code = "CONFIG_ERROR"


class NotFoundError(RuntrackError, LookupError):
    code = "NOT_FOUND"


class ConflictError(RuntrackError):
    code = "CONFLICT"


class PropertyConflictError(ConflictError):
    code = "PROPERTY_CONFLICT"


class ArtifactExistsError(ConflictError):
    code = "ARTIFACT_EXISTS"


class RunStateError(ConflictError):
    code = "RUN_STATE"


class InvalidValueError(RuntrackError, ValueError):
    code = "INVALID_VALUE"


class LimitExceededError(InvalidValueError):
    code = "LIMIT_EXCEEDED"


class InvalidTypeError(RuntrackError, TypeError):
    code = "INVALID_TYPE"


class StoreUnavailableError(RuntrackError):
    code = "STORE_UNAVAILABLE"


class AuthError(RuntrackError):
    code = "UNAUTHORIZED"


class RunFailedError(RuntrackError):
    code = "RUN_FAILED"


ERROR_STATUS: dict[str, int] = {
    "INTERNAL_ERROR": 500,
    "CONFIG_ERROR": 400,
    "NOT_FOUND": 404,
    "CONFLICT": 409,
    "PROPERTY_CONFLICT": 409,
    "ARTIFACT_EXISTS": 409,
    "RUN_STATE": 409,
    "INVALID_VALUE": 400,
    "LIMIT_EXCEEDED": 413,
    "INVALID_TYPE": 400,
    "STORE_UNAVAILABLE": 503,
    "UNAUTHORIZED": 401,
    "RUN_FAILED": 400,
}

_BY_CODE: dict[str, type[RuntrackError]] = {
    cls.code: cls
    for cls in (
        RuntrackError,
        ConfigError,
        NotFoundError,
        ConflictError,
        PropertyConflictError,
        ArtifactExistsError,
        RunStateError,
        InvalidValueError,
        LimitExceededError,
        InvalidTypeError,
        StoreUnavailableError,
        AuthError,
        RunFailedError,
    )
}


def error_from_code(code: str, message: str) -> RuntrackError:
    """Rebuild the exception for a stable error ``code`` (used by the REST client)."""
    return _BY_CODE.get(code, RuntrackError)(message)
