"""How MLflow routes are declared: ``@endpoint(router, "POST", "/runs/create")``.

A handler is a plain function ``(ctx, args) -> dict`` run in the thread pool (the
store is blocking). :class:`Args` merges the query string (GET requests carry their
fields there, with repeated keys for lists) and the JSON body (every other method),
and reads fields as MLflow's server does: unknown fields are ignored, enums arrive as
names or numbers, int64s as numbers or decimal strings, and a value of the wrong JSON
type (``{"name": 123}``) is INVALID_PARAMETER_VALUE in MLflow's words.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from runtrack.server.mlflow._errors import bad_type, invalid
from runtrack.server.mlflow._errors import required as required_field
from runtrack.store.base import ArtifactStore, TrackingStore

try:
    import orjson as _orjson
except ImportError:  # the optional ``fast`` extra
    _orjson = None  # type: ignore[assignment]

#: Runs whose recent metric points are remembered (see :meth:`MlflowState.recent_points`).
RECENT_RUNS = 256


@dataclass
class MlflowState:
    """Per-app state of the MLflow face: one lock per run for metric appends, and the
    next sequence number of this process's stream per run (only this process writes
    that stream, so the cached position stays right; it is re-read on a mismatch)."""

    locks: dict[str, threading.Lock] = field(default_factory=dict)
    positions: dict[str, int] = field(default_factory=dict)
    guard: threading.Lock = field(default_factory=threading.Lock)
    #: Identities of each run's recent metric points (replays are dropped), for the
    #: :data:`RECENT_RUNS` runs written last.
    recent: OrderedDict[str, OrderedDict[int, None]] = field(default_factory=OrderedDict)

    def recent_points(self, run_id: str) -> OrderedDict[int, None]:
        """The run's recent point identities (call under the run's lock)."""
        with self.guard:
            found = self.recent.get(run_id)
            if found is None:
                found = self.recent[run_id] = OrderedDict()
                while len(self.recent) > RECENT_RUNS:
                    self.recent.popitem(last=False)
            else:
                self.recent.move_to_end(run_id)
            return found

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

    def __init__(self, data: dict[str, Any], query_keys: frozenset[str] = frozenset()) -> None:
        self.data = data
        self.query_keys = query_keys

    @classmethod
    async def read(cls, request: Request) -> Args:
        data: dict[str, Any] = dict(request.path_params)
        query_keys = frozenset(request.query_params)
        for key in request.query_params:
            values = request.query_params.getlist(key)
            data[key] = values if len(values) > 1 else values[0]
        if request.method not in ("GET", "HEAD") or not query_keys:
            # MLflow's DELETEs carry a JSON body; like MLflow's server, a GET without a
            # query string reads one too
            body = await request.body()
            if body.strip():
                try:
                    parsed = json.loads(body)
                except ValueError as exc:
                    raise invalid(f"request body is not valid JSON: {exc}") from None
                if not isinstance(parsed, dict):
                    raise invalid("request body must be a JSON object")
                data.update({k: v for k, v in parsed.items() if k not in request.path_params})
                query_keys = query_keys - parsed.keys()
        return cls(data, query_keys)

    def get(self, *names: str) -> Any:
        for name in names:
            value = self.data.get(name)
            if value is not None:
                return value
        return None

    def text(self, *names: str, required: bool = False, default: str = "") -> str:
        """A string field. Like MLflow's server, a JSON value of another type (``123``
        for a name) is INVALID_PARAMETER_VALUE; an empty string counts as missing."""
        value = self.get(*names)
        if isinstance(value, list) and self.from_query(names[0]):
            value = value[0] if value else None
        if value is None or value == "":
            if required:
                raise required_field(names[0])
            return default
        if not isinstance(value, str):
            raise bad_type(names[0], value)
        return value

    def enum(self, *names: str, default: str = "") -> str:
        """An enum field: its name, or its number (proto3 JSON takes both)."""
        value = self.get(*names)
        if value is None or value == "":
            return default
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise bad_type(names[0], value)
        return str(value)

    def integer(
        self, *names: str, required: bool = False, default: int | None = None
    ) -> int | None:
        """An int64 field: a JSON number or a decimal string (as MLflow accepts)."""
        value = self.get(*names)
        if isinstance(value, list) and self.from_query(names[0]):
            value = value[0] if value else None
        if value is None or value == "":
            if required:
                raise required_field(names[0])
            return default
        try:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value)
        except (TypeError, ValueError, OverflowError):
            raise bad_type(names[0], value) from None

    def strings(self, name: str) -> list[str]:
        """A repeated string field (a JSON array of strings, or repeated query keys)."""
        value = self.data.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            if self.from_query(name) and isinstance(value, str):
                return [value]
            raise bad_type(name, value)
        if not all(isinstance(item, str) for item in value):
            raise bad_type(name, value)
        return value

    def from_query(self, name: str) -> bool:
        return name in self.query_keys

    def items(self, name: str) -> list[Any]:
        value = self.data.get(name)
        if value is None:
            return []
        if isinstance(value, list):
            return value
        if self.from_query(name):
            return [value]
        raise bad_type(name, value)

    def run_id(self) -> str:
        return self.text("run_id", "run_uuid", required=True)


Handler = Callable[[Ctx, Args], dict[str, Any]]


def context(request: Request) -> Ctx:
    app = request.app
    return Ctx(app.state.store, app.state.artifacts, app.state.mlflow)


def _answer(handler: Handler, ctx: Ctx, args: Args) -> bytes:
    """The handler's result as JSON bytes, encoded in the worker thread too (a search
    page of 10,000 runs is megabytes: not on the event loop)."""
    return encode(handler(ctx, args))


def encode(result: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON, as Starlette's JSONResponse writes it; through ``orjson``
    when it is installed (the ``fast`` extra: about 5x faster on a search page). Every
    double goes out through ``convert.wire_number``, so no NaN reaches the encoder;
    integers past 64 bits, which orjson refuses, take the standard encoder."""
    if _orjson is not None:
        try:
            return bytes(_orjson.dumps(result))
        except TypeError:
            pass
    return json.dumps(result, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def endpoint(router: APIRouter, method: str, path: str) -> Callable[[Handler], Handler]:
    """Register ``handler`` for ``method path`` on ``router`` (summary: its docstring)."""

    def register(handler: Handler) -> Handler:
        async def route(request: Request) -> Response:
            args = await Args.read(request)
            body = await run_in_threadpool(_answer, handler, context(request), args)
            return Response(body, media_type="application/json")

        route.__name__ = f"mlflow_{handler.__name__}"
        summary = (handler.__doc__ or handler.__name__).strip().splitlines()[0]
        router.add_api_route(path, route, methods=[method], summary=summary)
        return handler

    return register
