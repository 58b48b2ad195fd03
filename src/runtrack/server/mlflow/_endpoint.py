"""How MLflow routes are declared: ``@endpoint(router, "POST", "/runs/create")``.

A handler is a plain function ``(ctx, args) -> dict`` run in the thread pool (the
store is blocking). :class:`Args` merges the query string (GET requests carry their
fields there, with repeated keys for lists) and the JSON body (every other method),
and reads fields the lenient way MLflow's server does: unknown fields are ignored,
enums arrive as names, int64s as numbers or decimal strings.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from runtrack.server.mlflow._errors import invalid
from runtrack.store.base import ArtifactStore, TrackingStore


@dataclass
class MlflowState:
    """Per-app state of the MLflow face: one lock per run for metric appends, and the
    next sequence number of this process's stream per run (only this process writes
    that stream, so the cached position stays right; it is re-read on a mismatch)."""

    locks: dict[str, threading.Lock] = field(default_factory=dict)
    positions: dict[str, int] = field(default_factory=dict)
    guard: threading.Lock = field(default_factory=threading.Lock)

    def run_lock(self, run_id: str) -> threading.Lock:
        with self.guard:
            lock = self.locks.get(run_id)
            if lock is None:
                if len(self.locks) > 10_000:
                    self.locks = {k: v for k, v in self.locks.items() if v.locked()}
                    self.positions = {k: v for k, v in self.positions.items() if k in self.locks}
                lock = self.locks[run_id] = threading.Lock()
            return lock


@dataclass(frozen=True)
class Ctx:
    """What a handler works with."""

    store: TrackingStore
    artifacts: ArtifactStore
    state: MlflowState


class Args:
    """The request's fields (query string merged with the JSON body)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    @classmethod
    async def read(cls, request: Request) -> Args:
        data: dict[str, Any] = dict(request.path_params)
        for key in request.query_params:
            values = request.query_params.getlist(key)
            data[key] = values if len(values) > 1 else values[0]
        if request.method not in ("GET", "HEAD"):  # MLflow's DELETEs carry a JSON body
            body = await request.body()
            if body.strip():
                try:
                    parsed = json.loads(body)
                except ValueError as exc:
                    raise invalid(f"request body is not valid JSON: {exc}") from None
                if not isinstance(parsed, dict):
                    raise invalid("request body must be a JSON object")
                data.update({k: v for k, v in parsed.items() if k not in request.path_params})
        return cls(data)

    def get(self, *names: str) -> Any:
        for name in names:
            value = self.data.get(name)
            if value is not None:
                return value
        return None

    def text(self, *names: str, required: bool = False, default: str = "") -> str:
        value = self.get(*names)
        if value is None:
            if required:
                raise invalid(f"missing value for required parameter '{names[0]}'")
            return default
        if isinstance(value, list):
            value = value[0] if value else ""
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise invalid(f"parameter '{names[0]}' must be a string, got {value!r}")
        return str(value)

    def integer(
        self, *names: str, required: bool = False, default: int | None = None
    ) -> int | None:
        value = self.get(*names)
        if value is None:
            if required:
                raise invalid(f"missing value for required parameter '{names[0]}'")
            return default
        try:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value)
        except (TypeError, ValueError):
            raise invalid(f"parameter '{names[0]}' must be an integer, got {value!r}") from None

    def items(self, name: str) -> list[Any]:
        value = self.data.get(name)
        if value is None:
            return []
        return value if isinstance(value, list) else [value]

    def run_id(self) -> str:
        return self.text("run_id", "run_uuid", required=True)


Handler = Callable[[Ctx, Args], dict[str, Any]]


def context(request: Request) -> Ctx:
    app = request.app
    return Ctx(app.state.store, app.state.artifacts, app.state.mlflow)


def endpoint(router: APIRouter, method: str, path: str) -> Callable[[Handler], Handler]:
    """Register ``handler`` for ``method path`` on ``router`` (summary: its docstring)."""

    def register(handler: Handler) -> Handler:
        async def route(request: Request) -> Response:
            args = await Args.read(request)
            result = await run_in_threadpool(handler, context(request), args)
            return JSONResponse(result)

        route.__name__ = f"mlflow_{handler.__name__}"
        summary = (handler.__doc__ or handler.__name__).strip().splitlines()[0]
        router.add_api_route(path, route, methods=[method], summary=summary)
        return handler

    return register
