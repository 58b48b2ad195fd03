"""Apply a :class:`~runtrack.model.MetricBatch` idempotently, keeping summaries current.

:func:`apply_batch` runs inside the caller's write transaction and never opens one.
Its steps:

1. Lock the run's row (concurrent ingests of one run apply one after the other), then
   compare ``batch.first_seq`` with the stream's cursor: records already applied are
   skipped, a gap raises InvalidValueError before anything is written.
2. Group the new records by metric name; create the missing series rows.
3. Per series, split the points into runs of one encoding
   (:func:`~runtrack.store.sql.codec.segments`), top up the series' last chunk while it
   is below :data:`TARGET_CHUNK` points and of the same encoding, then start new chunks.
4. Fold the new points into the series summary, advance the cursor and the run's
   ``last_activity``.

On PostgreSQL (psycopg) :class:`~runtrack.store.sql.SqlStore` runs these steps through
:mod:`runtrack.store.sql.pg_ingest`, with this module's grouping, packing and folding
(:func:`group_points`, :func:`pack_chunks`) and fewer, driver-level statements.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update

from runtrack import _rules, _wire, limits
from runtrack.errors import (
    InvalidTypeError,
    InvalidValueError,
    LimitExceededError,
    NotFoundError,
)
from runtrack.model import MetricBatch, MetricKind
from runtrack.store.sql import codec, columnar
from runtrack.store.sql.dialects import Dialect
from runtrack.store.sql.schema import chunks, ingest_cursors, runs, series

#: Points per chunk row before a new chunk starts.
TARGET_CHUNK = 8192
_IN_BATCH = 500


@dataclass
class _Group:
    """New points of one series as lists (any values); :class:`columnar.ArrayGroup`
    is its numpy twin with the same methods."""

    kind: str
    steps: list[int | None] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.values)

    def segments(self) -> list[tuple[str, int, int]]:
        return codec.segments(self.values)

    def encode(self, encoding: str, start: int, end: int) -> codec.Piece:
        return _encode(encoding, self.steps, self.times, self.values, start, end)

    def fold(self, state: dict[str, Any]) -> None:
        _fold_summary(state, self)

    def max_time(self) -> float:
        return max(self.times)


_AnyGroup = _Group | columnar.ArrayGroup


@dataclass
class Chunk:
    series_id: int
    chunk_no: int
    first_index: int
    piece: codec.Piece
    is_new: bool
    dirty: bool = False


def in_batches(items: Sequence[Any], size: int = _IN_BATCH) -> list[Sequence[Any]]:
    """``items`` cut into slices small enough for a SQL ``IN (...)`` list."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def apply_batch(conn: Connection, dialect: Dialect, run_id: str, batch: MetricBatch) -> int:
    """Apply ``batch`` to ``run_id``; return the stream's next expected sequence number."""
    # the run's row lock orders concurrent ingests of one run (a retry racing its
    # original, two replicas); SQLite ignores it (BEGIN IMMEDIATE locked the file)
    run = conn.execute(
        select(runs.c.last_activity).where(runs.c.id == run_id).with_for_update()
    ).first()
    if run is None:
        raise NotFoundError(f"run {run_id!r} does not exist; create it before logging to it")
    size = batch_size(batch)
    cursor = conn.execute(
        select(ingest_cursors.c.next_seq).where(
            ingest_cursors.c.run_id == run_id, ingest_cursors.c.stream == batch.stream
        )
    ).scalar()
    position = 0 if cursor is None else int(cursor)
    check_position(run_id, batch, position)
    groups = group_points(batch, position - batch.first_seq)
    names = sorted(set(groups) | set(batch.descriptions))
    states = _load_series(conn, run_id, names)
    check_kinds(run_id, groups, states)
    if create_series(conn, run_id, groups, states):
        states = _load_series(conn, run_id, names)
    for name, text in batch.descriptions.items():
        if name in states and text:
            states[name]["description"] = text
    if groups:
        work = {states[n]["id"]: (states[n]["count"], g) for n, g in groups.items()}
        _write_chunks(conn, dialect, work)
        for name, group in groups.items():
            group.fold(states[name])
    _save_series(conn, list(states.values()))
    new_position = max(position, batch.first_seq + size)
    if cursor is None:
        conn.execute(
            insert(ingest_cursors).values(
                run_id=run_id, stream=batch.stream, next_seq=new_position
            )
        )
    elif new_position != position:
        conn.execute(
            update(ingest_cursors)
            .where(ingest_cursors.c.run_id == run_id, ingest_cursors.c.stream == batch.stream)
            .values(next_seq=new_position)
        )
    if groups:
        latest = max(g.max_time() for g in groups.values())
        if latest > run.last_activity:
            conn.execute(update(runs).where(runs.c.id == run_id).values(last_activity=latest))
    return new_position


def batch_size(batch: MetricBatch) -> int:
    """The number of records of ``batch``; LimitExceededError past MAX_BATCH_RECORDS."""
    size = len(batch.columns) if batch.columns is not None else len(batch.records)
    if size > limits.MAX_BATCH_RECORDS:
        raise LimitExceededError(
            f"a batch holds {size} records, more than MAX_BATCH_RECORDS="
            f"{limits.MAX_BATCH_RECORDS}; split it"
        )
    return size


def check_position(run_id: str, batch: MetricBatch, position: int) -> None:
    """InvalidValueError when ``batch`` starts past the stream's cursor ``position``."""
    if batch.first_seq < 0 or batch.first_seq > position:
        raise InvalidValueError(
            f"batch for stream {batch.stream!r} of run {run_id!r} starts at sequence "
            f"{batch.first_seq} but the store expects {position}: records are missing; "
            "resend from the store's position (ingest_position)"
        )


def group_points(batch: MetricBatch, skip: int) -> dict[str, _AnyGroup]:
    """New points per metric name: from the batch's columns through numpy when both
    are there, else from its records."""
    np = codec.optional_numpy()
    if batch.columns is None or np is None:
        out: dict[str, _AnyGroup] = dict(_wire.group_records(batch.records[skip:], _Group))
    else:
        out = {}
        for name, (kind, found) in columnar.split(np, batch.columns, skip).items():
            out[name] = found if isinstance(found, columnar.ArrayGroup) else _Group(kind, *found)
    for name, group in out.items():
        _check_group(name, group)
    return out


def _check_group(name: str, group: _AnyGroup) -> None:
    """The rules of :mod:`runtrack._rules` for what a point may hold (numbers packed in
    arrays are int64/float64 by construction, so only their kind is checked)."""
    where = f"metric {name!r}"
    if isinstance(group, columnar.ArrayGroup):
        if group.kind not in _NUMBER_KINDS:
            _rules.check_value(group.kind, 0.0, where)  # raises: not what that kind holds
        return
    _rules.check_values(group.kind, group.values, where)
    _rules.check_steps(group.steps, where)


_NUMBER_KINDS = frozenset({MetricKind.SCALAR.value, MetricKind.LIST.value})


_SERIES_STATE = (
    series.c.id, series.c.name, series.c.kind, series.c.description, series.c.columns,
    series.c.count, series.c.last, series.c.last_nan, series.c.vmin, series.c.vmax,
    series.c.last_step, series.c.first_value, series.c.last_value, series.c.last_time,
    series.c.top_step, series.c.top_time, series.c.top_value, series.c.top_nan,
)


# Statements built once (building them per batch cost more than running them).
_LOAD_SERIES = select(*_SERIES_STATE).where(
    series.c.run_id == bindparam("b_run"), series.c.name.in_(bindparam("b_names", expanding=True))
)
_LATER = chunks.alias("later")
_LAST_CHUNKS = select(chunks).where(
    chunks.c.series_id.in_(bindparam("b_ids", expanding=True)),
    chunks.c.chunk_no
    == select(func.max(_LATER.c.chunk_no))
    .where(_LATER.c.series_id == chunks.c.series_id)
    .scalar_subquery(),
)


def _load_series(conn: Connection, run_id: str, names: Sequence[str]) -> dict[str, dict[str, Any]]:
    states: dict[str, dict[str, Any]] = {}
    for part in in_batches(names):
        for row in conn.execute(_LOAD_SERIES, {"b_run": run_id, "b_names": list(part)}):
            states[row.name] = dict(row._mapping)
    return states


def check_kinds(run_id: str, groups: dict[str, _AnyGroup], states: dict[str, Any]) -> None:
    """A metric keeps the kind it was created with (as ``Run.log*`` enforces)."""
    for name, group in groups.items():
        state = states.get(name)
        if state is not None and state["kind"] != group.kind:
            raise InvalidValueError(
                f"metric {name!r} of run {run_id!r} holds {state['kind']} values; it cannot "
                f"also take {group.kind} values: log them under another name"
            )


def create_series(
    conn: Connection, run_id: str, groups: dict[str, _AnyGroup], states: dict[str, Any]
) -> bool:
    """Create the series rows ``states`` lacks; whether there were any."""
    missing = [name for name in groups if name not in states]
    if not missing:
        return False
    existing = conn.execute(
        select(func.count()).select_from(series).where(series.c.run_id == run_id)
    ).scalar_one()
    check_name_count(run_id, existing, len(missing))
    rows = [
        {"run_id": run_id, "name": name, "kind": groups[name].kind, **NEW_SERIES}
        for name in missing
    ]
    conn.execute(insert(series), rows)
    return True


#: the columns a new series row starts with, besides its run, name and kind
NEW_SERIES: dict[str, Any] = {"description": "", "columns": None, "count": 0, "last_nan": False}


def check_name_count(run_id: str, existing: int, new: int) -> None:
    """LimitExceededError when ``new`` more metric names would put run ``run_id``, which
    has ``existing``, past ``MAX_METRIC_NAMES_PER_RUN``."""
    if existing + new > limits.MAX_METRIC_NAMES_PER_RUN:
        raise LimitExceededError(
            f"run {run_id!r} would have {existing + new} metric names, more than "
            f"MAX_METRIC_NAMES_PER_RUN={limits.MAX_METRIC_NAMES_PER_RUN}"
        )


def _last_chunks(conn: Connection, series_ids: Sequence[int]) -> dict[int, Chunk]:
    found: dict[int, Chunk] = {}
    for part in in_batches(series_ids):
        for row in conn.execute(_LAST_CHUNKS, {"b_ids": list(part)}):
            found[row.series_id] = Chunk(
                row.series_id, row.chunk_no, row.first_index, codec.piece_from_row(row), False
            )
    return found


def _write_chunks(
    conn: Connection, dialect: Dialect, work: dict[int, tuple[int, _AnyGroup]]
) -> None:
    """Pack each series' new points into chunks; ``work``: id -> (count so far, group)."""
    lasts = _last_chunks(conn, [sid for sid, (count, _) in work.items() if count])
    created = pack_chunks(work, lasts)
    dialect.insert_rows(
        conn,
        chunks,
        [
            {"series_id": c.series_id, "chunk_no": c.chunk_no, "first_index": c.first_index,
             **c.piece.row()}
            for c in created
        ],
    )
    changed = [c for c in lasts.values() if c.dirty]
    if changed:
        statement = (
            update(chunks)
            .where(chunks.c.series_id == bindparam("b_series"))
            .where(chunks.c.chunk_no == bindparam("b_chunk"))
            .values({name: bindparam(name) for name in codec.PIECE_COLUMNS})
        )
        conn.execute(
            statement,
            [{"b_series": c.series_id, "b_chunk": c.chunk_no, **c.piece.row()} for c in changed],
        )


def fold_batch(
    descriptions: dict[str, str], groups: dict[str, _AnyGroup],
    states: dict[str, dict[str, Any]], lasts: dict[int, Chunk],
) -> list[Chunk]:
    """A batch applied to its series' states in memory (the driver-level paths): the
    descriptions set, the new points packed into ``lasts`` and new chunks (returned),
    and each series' summary folded."""
    for name, text in descriptions.items():
        if name in states and text:
            states[name]["description"] = text
    if not groups:
        return []
    work = {states[n]["id"]: (states[n]["count"], g) for n, g in groups.items()}
    created = pack_chunks(work, lasts)
    for name, group in groups.items():
        group.fold(states[name])
    return created


def pack_chunks(
    work: dict[int, tuple[int, _AnyGroup]], lasts: dict[int, Chunk]
) -> list[Chunk]:
    """Pack the new points of ``work`` (id -> (count so far, group)): top up each series'
    last chunk in ``lasts`` (marked ``dirty``) and return the new chunks."""
    created: list[Chunk] = []
    for series_id, (index, group) in work.items():
        last = lasts.get(series_id)
        for encoding, start, end in group.segments():
            pos = start
            while pos < end:
                room = TARGET_CHUNK - last.piece.count if last is not None else 0
                if last is not None and last.piece.encoding == encoding and room > 0:
                    take = min(room, end - pos)
                    piece = group.encode(encoding, pos, pos + take)
                    last.piece = codec.merge_pieces(last.piece, piece)
                    last.dirty = True
                else:
                    take = min(TARGET_CHUNK, end - pos)
                    piece = group.encode(encoding, pos, pos + take)
                    number = last.chunk_no + 1 if last is not None else 0
                    last = Chunk(series_id, number, index, piece, True)
                    created.append(last)
                pos += take
                index += take
    return created


def _encode(
    encoding: str,
    steps: list[int | None],
    times: list[float],
    values: list[Any],
    start: int,
    end: int,
) -> codec.Piece:
    whole = start == 0 and end == len(values)
    try:
        if whole:
            return codec.encode_piece(encoding, steps, times, values)
        return codec.encode_piece(encoding, steps[start:end], times[start:end], values[start:end])
    except TypeError as exc:
        raise InvalidTypeError(
            f"metric steps must be ints or None and times numbers: {exc}"
        ) from exc


def _fold_summary(state: dict[str, Any], group: _Group) -> None:
    values = group.values
    if state["count"] == 0:
        state["first_value"] = codec.dumps_cell(values[0])
    state["last_value"] = codec.dumps_cell(values[-1])
    state["last_time"] = float(group.times[-1])
    state["count"] += len(values)
    for step in reversed(group.steps):
        if step is not None:
            state["last_step"] = step
            break
    for value in reversed(values):
        kind = type(value)
        if kind is float or kind is int:
            if value != value:
                state["last"], state["last_nan"] = None, True
            else:
                state["last"], state["last_nan"] = _as_float(value), False
            break
    _fold_top(state, group.steps, group.times, values)
    nums = codec.numeric(values)
    if nums:
        low, high = min(nums), max(nums)
        state["vmin"] = low if state["vmin"] is None else min(state["vmin"], low)
        state["vmax"] = high if state["vmax"] is None else max(state["vmax"], high)
    if group.kind == MetricKind.TABLE.value or any(type(v) is dict for v in values):
        columns: list[str] = json.loads(state["columns"]) if state["columns"] else []
        seen = set(columns)
        for value in values:
            if isinstance(value, dict):
                for key in value:
                    if key not in seen:
                        seen.add(key)
                        columns.append(str(key))
        state["columns"] = json.dumps(columns)


def _fold_top(
    state: dict[str, Any], steps: Sequence[int | None], times: Sequence[float],
    values: Sequence[Any],
) -> None:
    """Keep the numeric point with the highest (step, time, value): MLflow's latest."""
    best = columnar.top_key(state)
    found: tuple[int, float, float] | None = None
    for step, stamp, value in zip(steps, times, values, strict=True):
        kind = type(value)
        if kind is not float and kind is not int:
            continue
        key = (step or 0, float(stamp), -math.inf if value != value else float(value))
        if best is None or key > best:
            best, found = key, (step or 0, float(stamp), value)
    if found is not None:
        columnar.set_top(state, *found)


def _as_float(value: float) -> float | None:
    try:
        return float(value)
    except OverflowError:
        return None


def _save_series(conn: Connection, states: list[dict[str, Any]]) -> None:
    if not states:
        return
    fields = _SAVED_FIELDS
    conn.execute(_SAVE_SERIES, [{"b_id": s["id"], **{f: s[f] for f in fields}} for s in states])


_SAVED_FIELDS = [c.name for c in _SERIES_STATE if c.name not in ("id", "name", "kind")]
_SAVE_SERIES = (
    update(series)
    .where(series.c.id == bindparam("b_id"))
    .values({name: bindparam(name) for name in _SAVED_FIELDS})
)
