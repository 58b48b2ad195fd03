"""``/api/v1/logs/search`` (search every run's logs) and ``/api/v1/runs/{id}/log-index``.

``GET /logs/search?q=…`` takes ``experiment`` (repeatable id), ``status`` (repeatable),
``since`` (``7d``, ``12h``, a date …), ``run``, ``limit`` and ``context``, and answers
``{"query": …, "hits": [LogHit…]}`` newest line first; ``POST /logs/search`` takes the
same as a :class:`~runtrack.logsearch.LogQuery` JSON body (what ``RestStore`` sends). The
query text is plain words, never full-text syntax. ``…/log-index`` is how a remote
runner feeds the index (see ``store.base``). A store without the log-search extension
answers 400 with a message saying so.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from runtrack import limits
from runtrack.errors import InvalidValueError
from runtrack.logsearch import LogQuery, parse_since
from runtrack.model import RunStatus
from runtrack.server.api._wire import WireJSONResponse, wire
from runtrack.server.deps import get_store
from runtrack.store.base import LogSearchStore, TrackingStore

router = APIRouter(tags=["logs"], default_response_class=WireJSONResponse)

MAX_LINES_PER_CALL = 100_000


def _extension(store: TrackingStore) -> LogSearchStore:
    if not isinstance(store, LogSearchStore):
        raise InvalidValueError(
            "this server's store has no log search index; serve a SQLite or PostgreSQL "
            "workspace to search logs"
        )
    return store


def build_query(
    q: str,
    experiment: list[str],
    status: list[str],
    since: str | None,
    run: str | None,
    limit: int,
    context: int,
) -> LogQuery:
    """A :class:`LogQuery` from query-string values; InvalidValueError naming the bad one."""
    try:
        statuses = [RunStatus(s) for s in status if s] or None
    except ValueError as exc:
        names = ", ".join(s.value for s in RunStatus)
        raise InvalidValueError(f"status: {exc}; use one of {names}") from exc
    try:
        after = parse_since(since, time.time()) if since else None
    except ValueError as exc:
        raise InvalidValueError(str(exc)) from exc
    return LogQuery(
        text=q,
        experiment_ids=[e for e in experiment if e] or None,
        status=statuses,
        since=after,
        run_id=run or None,
        limit=limit,
        context=context,
    )


def search(store: TrackingStore, query: LogQuery) -> dict[str, Any]:
    """The payload of the search page and of ``/logs/search``."""
    hits = _extension(store).search_logs(query)
    return {"query": query.to_json(), "hits": [h.to_json() for h in hits]}


@router.get("/logs/search", summary="Search the logs of every run")
def search_get(
    q: str = Query(max_length=1000, description="Words to find, in this order"),
    experiment: list[str] = Query(default=[]),
    status: list[str] = Query(default=[]),
    since: str | None = Query(default=None, max_length=64),
    run: str | None = Query(default=None, max_length=limits.MAX_RUN_ID_LENGTH),
    limit: int = Query(default=50, ge=1, le=1000),
    context: int = Query(default=2, ge=0, le=20),
    store: TrackingStore = Depends(get_store),
) -> Any:
    return wire(search(store, build_query(q, experiment, status, since, run, limit, context)))


class SearchBody(BaseModel):
    text: str = Field(max_length=1000)
    experiment_ids: list[str] | None = None
    status: list[RunStatus] | None = None
    since: float | None = None
    run_id: str | None = Field(default=None, max_length=limits.MAX_RUN_ID_LENGTH)
    limit: int = Field(default=50, ge=1, le=1000)
    context: int = Field(default=2, ge=0, le=20)


@router.post("/logs/search", summary="Search the logs of every run (LogQuery body)")
def search_post(body: SearchBody, store: TrackingStore = Depends(get_store)) -> Any:
    return wire(search(store, LogQuery.from_json(body.model_dump())))


class IndexBody(BaseModel):
    path: str = Field(min_length=1, max_length=1024)
    first_line: int = Field(ge=1)
    lines: list[str] = Field(max_length=MAX_LINES_PER_CALL)


@router.post("/runs/{run_id}/log-index", summary="Add lines of a log file to the search index")
def index_lines(run_id: str, body: IndexBody, store: TrackingStore = Depends(get_store)) -> Any:
    index = _extension(store).index_log_lines
    return wire({"next_line": index(run_id, body.path, body.first_line, body.lines)})


@router.get("/runs/{run_id}/log-index", summary="Next line number the index expects for a log")
def index_position(
    run_id: str,
    path: str = Query(min_length=1, max_length=1024),
    store: TrackingStore = Depends(get_store),
) -> Any:
    return wire({"next_line": _extension(store).log_index_position(run_id, path)})
