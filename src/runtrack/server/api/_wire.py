"""Shared pieces of the /api/v1 wire: the JSON response class and body parsing.

Bodies and answers are the ``to_json()`` forms of :mod:`runtrack.model`. Metric
values may be NaN or ±Infinity, so the server writes (and reads) JSON with Python's
``NaN``/``Infinity`` extension, as the RestStore does; everything else is plain JSON.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from runtrack import limits
from runtrack.errors import InvalidValueError, LimitExceededError


class WireJSONResponse(JSONResponse):
    """JSON that keeps NaN and ±Infinity (as ``NaN``/``Infinity``)."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def wire(content: Any, status_code: int = 200) -> WireJSONResponse:
    """Answer ``content`` as-is (no ``jsonable_encoder`` pass: faster, and NaN survives)."""
    return WireJSONResponse(content, status_code=status_code)


async def read_json(request: Request, limit: int) -> Any:
    """The request body parsed as JSON; 413 past ``limit`` bytes, 400 if not JSON."""
    body = await read_body(request, limit)
    try:
        return json.loads(body)
    except ValueError as exc:
        raise InvalidValueError(f"the request body is not valid JSON: {exc}") from exc


async def read_body(request: Request, limit: int) -> bytes:
    """The request body; LimitExceededError (413) past ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise LimitExceededError(_too_big(int(declared), limit))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise LimitExceededError(_too_big(size, limit))
        chunks.append(chunk)
    return b"".join(chunks)


def _too_big(size: int, limit: int) -> str:
    return (
        f"the request body has {size} bytes, more than max_request_bytes={limit}; "
        "send smaller batches (the server's --max-request-bytes)"
    )


def require(data: Any, key: str, kind: type | tuple[type, ...], where: str = "body") -> Any:
    """``data[key]`` checked to be a ``kind``; InvalidValueError names what is wrong."""
    if not isinstance(data, dict):
        raise InvalidValueError(f"the {where} must be a JSON object")
    if key not in data:
        raise InvalidValueError(f"the {where} lacks {key!r}")
    value = data[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
        raise InvalidValueError(f"{where}.{key} has the wrong type ({type(value).__name__})")
    return value


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def check_tags(tags: dict[str, str | None]) -> None:
    """Tag count and lengths within runtrack.limits (LimitExceededError names the limit)."""
    if len(tags) > limits.MAX_TAGS_PER_RUN:
        raise LimitExceededError(
            f"{len(tags)} tags in one call, more than MAX_TAGS_PER_RUN={limits.MAX_TAGS_PER_RUN}"
        )
    for key, value in tags.items():
        if len(key) > limits.MAX_TAG_KEY_LENGTH:
            raise LimitExceededError(
                f"tag key of {len(key)} characters, more than "
                f"MAX_TAG_KEY_LENGTH={limits.MAX_TAG_KEY_LENGTH}"
            )
        if value is not None and len(value) > limits.MAX_TAG_VALUE_LENGTH:
            raise LimitExceededError(
                f"tag {key!r} has a value of {len(value)} characters, more than "
                f"MAX_TAG_VALUE_LENGTH={limits.MAX_TAG_VALUE_LENGTH}"
            )
