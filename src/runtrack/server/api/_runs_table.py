"""The runs table's state (columns, sort, filters, page) and the rows it shows.

The state travels as query parameters, so a table view is a URL that can be shared
and bookmarked; the page ``/runs`` and its JSON twin ``/api/v1/views/runs`` read the
same parameters and build the same payload with :func:`runs_table`:

* ``experiment`` (repeatable): experiment ids; none = every experiment.
* ``status`` (repeatable): run statuses (``Running``, ``Failed`` …).
* ``tag`` (repeatable): ``key`` (has the tag) or ``key=value``.
* ``filter`` (repeatable): a metric threshold ``<metric>:<last|min|max><op><number>``
  with op one of ``< <= > >= == !=``, e.g. ``loss:min<0.2``.
* ``col`` (repeatable): an extra column, ``metric:<name>:<last|min|max>``,
  ``prop:<key>`` or ``tag:<key>``.
* ``sort``: a column key (``number``, ``display_name``, ``status``, ``start_time``,
  ``duration``, ``created_time`` or any ``col`` key), ``-`` in front for descending.
  Runs are ordered by the store (metrics included); tag and property columns, which
  the store cannot order by, are ordered here over the filtered runs.
* ``page`` (from 1) and ``per_page`` (at most :data:`MAX_PER_PAGE`).
* ``q``: words that must all appear (any case) in a run's display name, id, number,
  run type, or a tag's or property's key or value; combined with the other filters.
* ``archived``: ``1`` also shows archived runs (hidden by default). A run is archived
  when it carries the reserved tag :data:`ARCHIVED_TAG` (set and removed by the
  ``archive``/``unarchive`` run actions of :mod:`.workspace`); the page, its JSON twin,
  the CSV export and :func:`matching_runs` all filter the same way.
"""

from __future__ import annotations

import csv
import io
import math
import re
import time
from dataclasses import dataclass, field, replace
from typing import Any

from runtrack._format import run_seconds
from runtrack._rules import SYSTEM_PREFIX
from runtrack.errors import InvalidValueError
from runtrack.model import RunInfo, RunQuery, RunStatus
from runtrack.server.api._error_text import error_text
from runtrack.store.base import RunTextSearch, TrackingStore

MAX_PER_PAGE = 500
MAX_SEARCH_LENGTH = 500
MAX_CSV_ROWS = 10_000
DEFAULT_PER_PAGE = 50
#: The reserved tag that marks a run archived (value: when, as epoch seconds).
ARCHIVED_TAG = "runtrack.archived"
ATTRIBUTE_SORTS = ("number", "display_name", "status", "start_time", "duration", "created_time")
_AGGREGATES = ("last", "min", "max")
_FILTER = re.compile(r"^(?P<name>.+):(?P<field>last|min|max)\s*(?P<op><=|>=|==|!=|<|>)\s*"
                     r"(?P<value>\S+)$")


@dataclass(frozen=True)
class TableState:
    """What one runs-table view shows; parsed from and written back to a query string."""

    experiments: list[str] = field(default_factory=list)
    status: list[RunStatus] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    filters: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    sort: str = "-created_time"
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    search: str = ""
    archived: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "search": self.search,
            "experiments": list(self.experiments),
            "status": [s.value for s in self.status],
            "tags": list(self.tags),
            "filters": list(self.filters),
            "columns": list(self.columns),
            "sort": self.sort,
            "page": self.page,
            "per_page": self.per_page,
            "archived": self.archived,
        }


def parse_state(params: Any) -> TableState:
    """A :class:`TableState` from a starlette ``QueryParams`` (or any ``getlist`` mapping).

    Raises InvalidValueError naming the bad parameter.
    """
    try:
        status = [RunStatus(s) for s in params.getlist("status") if s]
    except ValueError as exc:
        names = ", ".join(s.value for s in RunStatus)
        raise InvalidValueError(f"status: {exc}; use one of {names}") from exc
    columns = [c for c in params.getlist("col") if c]
    for column in columns:
        _check_column(column)
    sort = params.get("sort") or "-created_time"
    key = sort.lstrip("-")
    if key not in ATTRIBUTE_SORTS:
        _check_column(key)
    filters = [f for f in params.getlist("filter") if f]
    for text in filters:
        parse_filter(text)
    return TableState(
        experiments=[e for e in params.getlist("experiment") if e],
        status=status,
        tags=[t for t in params.getlist("tag") if t],
        filters=filters,
        columns=columns,
        sort=sort,
        page=_int(params.get("page"), "page", 1, 1, 10**9),
        per_page=_int(params.get("per_page"), "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE),
        search=_search_text(params.get("q")),
        archived=_flag(params.get("archived"), "archived"),
    )


def _flag(text: str | None, name: str) -> bool:
    value = (text or "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise InvalidValueError(f"{name} must be 1 or 0, got {text!r}")


def _search_text(text: str | None) -> str:
    text = (text or "").strip()
    if len(text) > MAX_SEARCH_LENGTH:
        raise InvalidValueError(
            f"q has {len(text)} characters, more than {MAX_SEARCH_LENGTH}: search for less"
        )
    return text


def matches(run: RunInfo, words: list[str]) -> bool:
    """Every word (lower case) is in one of the run's searchable texts."""
    texts = [run.display_name, run.id, str(run.number), run.run_type]
    for source in (run.tags, run.properties):
        for key, value in source.items():
            texts.append(key if value is None else f"{key}={value}")
    haystack = "\n".join(texts).lower()
    return all(word in haystack for word in words)


def _int(text: str | None, name: str, default: int, low: int, high: int) -> int:
    if not text:
        return default
    try:
        value = int(text)
    except ValueError as exc:
        raise InvalidValueError(f"{name} must be a whole number, got {text!r}") from exc
    if not low <= value <= high:
        raise InvalidValueError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _check_column(key: str) -> None:
    kind, _, rest = key.partition(":")
    ok = bool(rest) and (
        (kind == "metric" and rest.rpartition(":")[2] in _AGGREGATES and rest.rpartition(":")[0])
        or kind in ("prop", "tag")
    )
    if not ok:
        raise InvalidValueError(
            f"unknown column {key!r}: use metric:<name>:<last|min|max>, prop:<key>, tag:<key> "
            f"or one of {', '.join(ATTRIBUTE_SORTS)}"
        )


def parse_filter(text: str) -> tuple[str, str, str, float]:
    """``loss:min<0.2`` -> ``("loss", "min", "<", 0.2)``; InvalidValueError if malformed."""
    match = _FILTER.match(text.strip())
    value = None
    if match:
        try:
            value = float(match["value"])
        except ValueError:
            value = None
    if match is None or value is None or math.isnan(value):
        raise InvalidValueError(
            f"metric filter {text!r} is not valid: write <metric>:<last|min|max><op><number> "
            "with op one of < <= > >= == !=, e.g. loss:min<0.2"
        )
    return match["name"], match["field"], match["op"], value


def column_label(key: str) -> str:
    kind, _, rest = key.partition(":")
    if kind == "metric":
        name, _, agg = rest.rpartition(":")
        return f"{name} ({agg})"
    return rest


def _query(state: TableState) -> RunQuery:
    tags: dict[str, str | None] = {}
    for text in state.tags:
        key, eq, value = text.partition("=")
        tags[key.strip()] = value.strip() if eq else None
    return RunQuery(
        experiment_ids=state.experiments or None,
        status=state.status or None,
        tags=tags,
        metric_filters=[parse_filter(f) for f in state.filters],
        conditions=[] if state.archived else [("tag", ARCHIVED_TAG, "IS NULL", None)],
    )


def _sort_value(run: RunInfo, key: str) -> str | None:
    kind, _, name = key.partition(":")
    source = run.tags if kind == "tag" else run.properties
    value = source.get(name)
    return None if value is None else str(value)


def _page(
    store: TrackingStore, state: TableState, query: RunQuery
) -> tuple[list[RunInfo], int]:
    """The runs of the state's page, and how many runs match in all."""
    descending = state.sort.startswith("-")
    key = state.sort.lstrip("-")
    offset = (state.page - 1) * state.per_page
    words = state.search.lower().split()
    by_text_column = key.startswith(("tag:", "prop:"))
    if words and isinstance(store, RunTextSearch) and all(map(str.isascii, words)):
        # the store matches the words (the database's case folding is ASCII's, so
        # other words take the path below, as stores without the extension do)
        if by_text_column:
            every, total = store.search_runs_text(query, words)
            return _by_text_column(every, key, descending)[offset : offset + state.per_page], total
        return store.search_runs_text(replace(
            query, order_by=[(key, descending)], offset=offset, limit=state.per_page), words)
    if words:
        # the store has no text search: the runs the other filters select, in order,
        # are matched here, then paged
        ordered = [] if by_text_column else [(key, descending)]
        every = store.search_runs(replace(query, order_by=ordered or query.order_by))
        found = [r for r in every if matches(r, words)]
        if not ordered:
            found = _by_text_column(found, key, descending)
        return found[offset : offset + state.per_page], len(found)
    total = store.count_runs(query)
    if by_text_column:
        every = store.search_runs(query)
        return _by_text_column(every, key, descending)[offset : offset + state.per_page], total
    paged = replace(query, order_by=[(key, descending)], offset=offset, limit=state.per_page)
    return store.search_runs(paged), total


def _by_text_column(every: list[RunInfo], key: str, descending: bool) -> list[RunInfo]:
    present = [r for r in every if _sort_value(r, key) is not None]
    missing = [r for r in every if _sort_value(r, key) is None]
    present.sort(key=lambda r: _natural(_sort_value(r, key) or ""), reverse=descending)
    return present + missing


def _natural(text: str) -> tuple[int, float, str]:
    """Numbers before text, numbers by value (so alpha=0.1 < alpha=0.05 is never shown)."""
    try:
        return (0, float(text), "")
    except ValueError:
        return (1, 0.0, text.lower())


def duration(run: RunInfo, now: float | None = None) -> float | None:
    return run_seconds(run, now)


def run_row(run: RunInfo, values: dict[str, Any] | None = None) -> dict[str, Any]:
    """One table row: the run's fields the table shows, plus column ``values``."""
    return {
        "id": run.id,
        "number": run.number,
        "display_name": run.display_name,
        "status": run.status.value,
        "terminal": run.status.is_terminal,
        "experiment_id": run.experiment_id,
        "experiment_name": run.experiment_name,
        "run_type": run.run_type,
        "created_time": run.created_time,
        "start_time": run.start_time,
        "end_time": run.end_time,
        "duration": duration(run),
        "tags": dict(run.tags),
        "properties": dict(run.properties),
        "values": values or {},
        "error": error_text(run),
        "archived": ARCHIVED_TAG in run.tags,
    }


def runs_table(store: TrackingStore, state: TableState) -> dict[str, Any]:
    """The payload the runs table renders (also ``GET /api/v1/views/runs``)."""
    query = _query(state)
    runs, total = _page(store, state, query)
    summaries = store.get_summaries([r.id for r in runs]) if runs else {}
    metric_names: set[str] = set()
    series_metrics: set[str] = set()
    rows = []
    for run in runs:
        by_name = summaries.get(run.id, {})
        metric_names.update(n for n, s in by_name.items() if s.kind.value == "scalar")
        series_metrics.update(
            n for n, s in by_name.items() if s.kind.value == "scalar" and s.count > 1
        )
        values: dict[str, Any] = {}
        for key in state.columns:
            kind, _, rest = key.partition(":")
            if kind == "metric":
                name, _, agg = rest.rpartition(":")
                info = by_name.get(name)
                values[key] = None if info is None else {
                    "last": info.last, "min": info.minimum, "max": info.maximum
                }[agg]
            elif kind == "prop":
                values[key] = run.properties.get(rest)
            else:
                values[key] = run.tags.get(rest)
        rows.append(run_row(run, values))
    experiments = store.list_experiments()
    chosen = [e.to_json() for e in experiments if e.id in state.experiments]
    return {
        "state": state.to_json(),
        "total": total,
        "archived_total": _archived_total(store, state, query),
        "pages": max(1, -(-total // state.per_page)),
        "columns": [{"key": c, "label": column_label(c)} for c in state.columns],
        "runs": rows,
        "metric_names": sorted(n for n in metric_names if not n.startswith(SYSTEM_PREFIX)),
        "system_metric_names": sorted(n for n in metric_names if n.startswith(SYSTEM_PREFIX)),
        "series_metrics": sorted(series_metrics),
        "property_keys": sorted({k for r in runs for k in r.properties}),
        "tag_keys": sorted({k for r in runs for k in r.tags if k != ARCHIVED_TAG}),
        "experiments": [{"id": e.id, "name": e.name} for e in experiments],
        "selected_experiments": chosen,
    }


def _archived_total(store: TrackingStore, state: TableState, query: RunQuery) -> int | None:
    """How many runs the filters would select among the archived ones (the toggle shows
    it); None with a text search, which the store cannot count."""
    if state.search.split():
        return None
    others = [c for c in query.conditions if c[1] != ARCHIVED_TAG]
    return store.count_runs(replace(query, conditions=[
        *others, ("tag", ARCHIVED_TAG, "IS NOT NULL", None)]))


def matching_runs(
    store: TrackingStore, state: TableState, limit: int
) -> tuple[list[RunInfo], int]:
    """The first ``limit`` runs (in the table's order) of every page the state selects,
    and how many match in all: "select all runs matching the filter"."""
    return _page(store, replace(state, page=1, per_page=limit), _query(state))


def table_csv(store: TrackingStore, state: TableState, max_rows: int) -> str:
    """Every run the state selects (all pages, at most ``max_rows``) as CSV: the fixed
    columns, the state's extra columns, then the tags."""
    out = io.StringIO()
    writer = csv.writer(out)
    labels = [column_label(c) for c in state.columns]
    writer.writerow(["number", "name", "id", "status", "experiment", "start_time",
                     "duration_s", *labels, "tags"])
    page, written = 1, 0
    while written < max_rows:
        table = runs_table(store, replace(state, page=page, per_page=MAX_PER_PAGE))
        for row in table["runs"][: max_rows - written]:
            start = row["start_time"]
            writer.writerow([
                row["number"], row["display_name"], row["id"], row["status"],
                row["experiment_name"],
                "" if start is None else time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(start)),
                "" if row["duration"] is None else f"{row['duration']:.3f}",
                *["" if row["values"][c] is None else row["values"][c] for c in state.columns],
                "; ".join(k if v is None else f"{k}={v}" for k, v in row["tags"].items()),
            ])
            written += 1
        if page >= table["pages"]:
            break
        page += 1
    return out.getvalue()
