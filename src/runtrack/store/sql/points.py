"""Reading points back: index ranges and shape-preserving downsampling.

Both read only the chunk rows they need. :func:`downsample` works in two passes:
chunk metadata first (no blobs), so a chunk whose points all fall into one bucket is
folded in from its stored min/max/first/last without unpacking; then the blobs of
the chunks that straddle buckets. Within a chunk whose x values are sorted, bucket
boundaries are found by bisection and each bucket's min/max taken over a slice
(numpy ``reduceat`` when numpy is importable, builtin ``min``/``max`` otherwise);
other chunks (NaN, mixed types, unsorted steps or times) go point by point.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, select, tuple_

from runtrack.errors import InvalidValueError
from runtrack.model import Bucket, CellValue, MetricKind, SeriesData
from runtrack.store.bucket_columns import BucketColumns
from runtrack.store.sql import codec
from runtrack.store.sql.ingest import in_batches
from runtrack.store.sql.schema import chunks

X_MODES = ("index", "step", "time")


def read_series(
    conn: Connection, series_id: int, name: str, kind: MetricKind, start: int, end: int | None
) -> SeriesData:
    """Points ``start`` to ``end`` (exclusive) of one series, values as logged."""
    if start < 0 or (end is not None and end < start):
        raise InvalidValueError(
            f"read range [{start}, {end}) of {name!r} is not valid: need 0 <= start <= end"
        )
    statement = (
        select(
            chunks.c.first_index, chunks.c.count.label("npts"), chunks.c.encoding,
            chunks.c.steps_kind, chunks.c.step_min, chunks.c.steps, chunks.c.times, chunks.c.vals,
        )
        .where(chunks.c.series_id == series_id, chunks.c.first_index + chunks.c.count > start)
        .order_by(chunks.c.chunk_no)
    )
    if end is not None:
        statement = statement.where(chunks.c.first_index < end)
    rows = []
    for row in conn.execute(statement):
        low = max(start - row.first_index, 0)
        high = row.npts if end is None else min(end - row.first_index, row.npts)
        rows.append((row, low, high))
    times = codec.unpack_array("d", b"".join(_cut(r.times, 8, lo, hi) for r, lo, hi in rows))
    return SeriesData(
        name=name, kind=kind, start=start, steps=_steps(rows), times=times.tolist(),
        values=_values(rows),
    )


def read_many(
    conn: Connection, wanted: Sequence[tuple[int, str, MetricKind]]
) -> dict[int, SeriesData]:
    """Every point of each ``(series id, name, kind)`` in ``wanted``, keyed by series id:
    one chunk query per batch of series instead of one per series."""
    found: dict[int, list[tuple[Any, int, int]]] = {sid: [] for sid, _, _ in wanted}
    for part in in_batches(list(found)):
        statement = (
            select(
                chunks.c.series_id, chunks.c.count.label("npts"), chunks.c.encoding,
                chunks.c.steps_kind, chunks.c.step_min, chunks.c.steps, chunks.c.times,
                chunks.c.vals,
            )
            .where(chunks.c.series_id.in_(part))
            .order_by(chunks.c.series_id, chunks.c.chunk_no)
        )
        for row in conn.execute(statement).all():
            found[row.series_id].append((row, 0, row.npts))
    result: dict[int, SeriesData] = {}
    for sid, name, kind in wanted:
        rows = found[sid]
        times = codec.unpack_array("d", b"".join(row.times for row, _, _ in rows))
        result[sid] = SeriesData(
            name=name, kind=kind, start=0, steps=_steps(rows), times=times.tolist(),
            values=_values(rows),
        )
    return result


def read_values_packed(
    conn: Connection, series_id: int, start: int, end: int | None
) -> tuple[str, bytes] | None:
    """Values ``start`` to ``end`` of one series as ``(encoding, packed bytes)`` when
    every chunk in the range has the same packed encoding (``f``/``i``/``b``, see
    :mod:`~runtrack.store.sql.codec`); None otherwise (read them with
    :func:`read_series`). No per-point Python objects are made."""
    statement = (
        select(chunks.c.first_index, chunks.c.count.label("npts"), chunks.c.encoding,
               chunks.c.vals)
        .where(chunks.c.series_id == series_id, chunks.c.first_index + chunks.c.count > start)
        .order_by(chunks.c.chunk_no)
    )
    if end is not None:
        statement = statement.where(chunks.c.first_index < end)
    parts: list[bytes] = []
    encoding = ""
    for row in conn.execute(statement):
        code = codec.array_code(row.encoding)
        if code is None or (encoding and row.encoding != encoding):
            return None
        encoding = row.encoding
        low = max(start - row.first_index, 0)
        high = row.npts if end is None else min(end - row.first_index, row.npts)
        parts.append(_cut(row.vals, 1 if code == "b" else 8, low, high))
    return (encoding or "f"), b"".join(parts)


def _cut(blob: bytes, size: int, low: int, high: int) -> bytes:
    """Items ``low:high`` of a packed blob with items of ``size`` bytes."""
    if low == 0 and high * size == len(blob):
        return blob
    return blob[low * size : high * size]


def _steps(rows: list[tuple[Any, int, int]]) -> list[int | None]:
    kinds = {row.steps_kind for row, _, _ in rows}
    total = sum(high - low for _, low, high in rows)
    if not rows or kinds == {codec.STEPS_NONE}:
        return [None] * total
    if kinds == {codec.STEPS_RANGE}:
        first = expected = rows[0][0].step_min + rows[0][1]
        for row, low, high in rows:
            if row.step_min + low != expected:
                break
            expected += high - low
        else:
            return list(range(first, first + total))
    blob = b"".join(codec.packed_steps(_AsPiece(row), low, high) for row, low, high in rows)
    kind = codec.STEPS_ALL if all(map(codec.has_all_steps, kinds)) else codec.STEPS_MIXED
    return codec.unpack_steps(kind, blob, total)


class _AsPiece:
    """A read row seen through the attribute names :func:`codec.packed_steps` uses."""

    def __init__(self, row: Any) -> None:
        self.count, self.steps_kind = row.npts, row.steps_kind
        self.step_min, self.steps = row.step_min, row.steps


def _values(rows: list[tuple[Any, int, int]]) -> list[CellValue]:
    """Cells of the rows; consecutive chunks of one packed encoding are unpacked at once."""
    values: list[CellValue] = []
    i = 0
    while i < len(rows):
        encoding = rows[i][0].encoding
        code = codec.array_code(encoding)
        if code is None:
            row, low, high = rows[i]
            cells = codec.unpack_values(encoding, row.vals)
            values += cells[low:high] if low or high < len(cells) else cells
            i += 1
            continue
        size = 1 if code == "b" else 8
        j = i
        while j < len(rows) and rows[j][0].encoding == encoding:
            j += 1
        blob = b"".join(_cut(row.vals, size, low, high) for row, low, high in rows[i:j])
        values += codec.unpack_values(encoding, blob)
        i = j
    return values


class _Buckets:
    """Accumulates per-bucket count/first/last/min/max/x-extent in index order."""

    def __init__(self, low: float, high: float, buckets: int) -> None:
        self.low, self.high, self.size = low, high, buckets
        width = (high - low) / buckets
        self.edges = [low + k * width for k in range(1, buckets)]
        self.acc: dict[int, list[Any]] = {}

    def of(self, x: float) -> int:
        return bisect_right(self.edges, x)

    def add(
        self, k: int, n: int, first: float, last: float, low: float, high: float,
        x0: float, x1: float,
    ) -> None:
        acc = self.acc.get(k)
        if acc is None:
            self.acc[k] = [n, first, last, low, high, x0, x1]
            return
        acc[0] += n
        acc[2] = last
        acc[3] = min(acc[3], low)
        acc[4] = max(acc[4], high)
        acc[5] = min(acc[5], x0)
        acc[6] = max(acc[6], x1)

    def result(self) -> list[Bucket]:
        return [
            Bucket(float(a[5]), float(a[6]), a[0], float(a[1]), float(a[2]), float(a[3]),
                   float(a[4]))
            for _, a in sorted(self.acc.items())
        ]


_META = (
    chunks.c.chunk_no, chunks.c.first_index, chunks.c.count.label("npts"), chunks.c.encoding,
    chunks.c.steps_kind, chunks.c.n_num, chunks.c.vmin, chunks.c.vmax, chunks.c.first_num,
    chunks.c.last_num, chunks.c.step_min, chunks.c.step_max, chunks.c.steps_sorted,
    chunks.c.time_min, chunks.c.time_max, chunks.c.times_sorted,
)


def _extent(meta: Any, x: str) -> tuple[float, float] | None:
    if x == "index":
        return meta.first_index, meta.first_index + meta.npts - 1
    if x == "time":
        return meta.time_min, meta.time_max
    if meta.step_min is None:
        return None
    return meta.step_min, meta.step_max


def downsample(
    conn: Connection,
    series_id: int,
    buckets: int,
    x: str,
    x_min: float | None,
    x_max: float | None,
) -> list[Bucket]:
    """At most ``buckets`` buckets over the numeric points of one series."""
    _check_buckets(buckets, x)
    metas = conn.execute(
        select(*_META).where(chunks.c.series_id == series_id).order_by(chunks.c.chunk_no)
    ).all()
    planned = _plan(metas, buckets, x, x_min, x_max)
    if planned is None:
        return []
    acc, plan = planned
    blobs = _fetch(conn, series_id, [m.chunk_no for m, whole in plan if not whole], x)
    return _filled(acc, plan, blobs, x)


def downsample_many(
    conn: Connection,
    series_ids: Sequence[int],
    buckets: int,
    x: str,
    x_min: float | None,
    x_max: float | None,
) -> dict[int, list[Bucket]]:
    """:func:`downsample` of each series, reading the chunk metadata of all of them in
    one query and the chunks to unpack in another (per batch of series)."""
    return {sid: [] if planned is None else _filled(*planned, blobs, x)
            for sid, planned, blobs in _planned_many(conn, series_ids, buckets, x, x_min, x_max)}


def downsample_columns_many(
    conn: Connection,
    series_ids: Sequence[int],
    buckets: int,
    x: str,
    x_min: float | None,
    x_max: float | None,
) -> dict[int, BucketColumns]:
    """:func:`downsample_many` as :class:`BucketColumns` (needs numpy), the buckets
    gathered with array operations: the same buckets, no Python object per bucket."""
    import numpy

    return {sid: _columns(numpy, planned, blobs, x)
            for sid, planned, blobs in _planned_many(conn, series_ids, buckets, x, x_min, x_max)}


_Planned = tuple["_Buckets", list[tuple[Any, bool]]]


def _planned_many(
    conn: Connection,
    series_ids: Sequence[int],
    buckets: int,
    x: str,
    x_min: float | None,
    x_max: float | None,
) -> Iterator[tuple[int, _Planned | None, dict[int, tuple[bytes, bytes | None]]]]:
    """Each series' plan (None: no point in range) and the blobs of its chunks to unpack."""
    _check_buckets(buckets, x)
    column = {"index": None, "step": chunks.c.steps, "time": chunks.c.times}[x]
    for part in in_batches(list(dict.fromkeys(series_ids))):
        by_series: dict[int, list[Any]] = {sid: [] for sid in part}
        for meta in conn.execute(
            select(chunks.c.series_id, *_META).where(chunks.c.series_id.in_(part))
            .order_by(chunks.c.series_id, chunks.c.chunk_no)
        ):
            by_series[meta.series_id].append(meta)
        plans = {sid: _plan(metas, buckets, x, x_min, x_max)
                 for sid, metas in by_series.items()}
        wanted = {(sid, m.chunk_no) for sid, planned in plans.items() if planned is not None
                  for m, whole in planned[1] if not whole}
        blobs: dict[int, dict[int, tuple[bytes, bytes | None]]] = {sid: {} for sid in part}
        if wanted:
            columns = [chunks.c.series_id, chunks.c.chunk_no, chunks.c.vals]
            if column is not None:
                columns.append(column)
            for pairs in in_batches(sorted(wanted)):
                statement = select(*columns).where(
                    tuple_(chunks.c.series_id, chunks.c.chunk_no).in_(pairs))
                for row in conn.execute(statement):
                    blobs[row[0]][row[1]] = (row[2], row[3] if column is not None else None)
        for sid, planned in plans.items():
            yield sid, planned, blobs[sid]


def _check_buckets(buckets: int, x: str) -> None:
    if buckets < 1:
        raise InvalidValueError(f"buckets must be at least 1, got {buckets}")
    if x not in X_MODES:
        raise InvalidValueError(f"x must be one of {', '.join(X_MODES)}, got {x!r}")


def _plan(
    rows: Sequence[Any], buckets: int, x: str, x_min: float | None, x_max: float | None,
) -> tuple[_Buckets, list[tuple[Any, bool]]] | None:
    """The buckets and, for each chunk in range, whether its metadata alone fills its
    bucket (True) or it must be unpacked; None when no point is in range."""
    metas = [(m, extent) for m in rows if m.n_num and (extent := _extent(m, x)) is not None]
    if not metas:
        return None
    low = x_min if x_min is not None else min(e[0] for _, e in metas)
    high = x_max if x_max is not None else max(e[1] for _, e in metas)
    if high < low or math.isnan(low) or math.isnan(high):
        return None
    acc = _Buckets(low, high, buckets)
    plan: list[tuple[Any, bool]] = []
    for meta, (first_x, last_x) in metas:
        if last_x < low or first_x > high:
            continue
        inside = low <= first_x and last_x <= high
        clean = meta.n_num == meta.npts and (x != "step" or codec.has_all_steps(meta.steps_kind))
        plan.append((meta, inside and clean and acc.of(first_x) == acc.of(last_x)))
    return acc, plan


def _filled(
    acc: _Buckets, plan: list[tuple[Any, bool]], blobs: dict[int, tuple[bytes, bytes | None]],
    x: str,
) -> list[Bucket]:
    for meta, whole in plan:
        if whole:
            first_x, last_x = _extent(meta, x)  # type: ignore[misc]
            acc.add(acc.of(first_x), meta.npts, meta.first_num, meta.last_num, meta.vmin,
                    meta.vmax, first_x, last_x)
        else:
            _unpacked(acc, meta, blobs[meta.chunk_no], x)
    return acc.result()


def _fetch(
    conn: Connection, series_id: int, numbers: Sequence[int], x: str
) -> dict[int, tuple[bytes, bytes | None]]:
    column = {"index": None, "step": chunks.c.steps, "time": chunks.c.times}[x]
    found: dict[int, tuple[bytes, bytes | None]] = {}
    for part in in_batches(numbers):
        columns = [chunks.c.chunk_no, chunks.c.vals] + ([column] if column is not None else [])
        statement = select(*columns).where(
            chunks.c.series_id == series_id, chunks.c.chunk_no.in_(part)
        )
        for row in conn.execute(statement):
            found[row[0]] = (row[1], row[2] if column is not None else None)
    return found


def _unpacked(acc: _Buckets, meta: Any, blobs: tuple[bytes, bytes | None], x: str) -> None:
    vals_blob, x_blob = blobs
    xs: Sequence[Any]
    if x == "index":
        xs = range(meta.first_index, meta.first_index + meta.npts)
        ordered = True
    elif x == "time":
        xs = codec.unpack_array("d", x_blob or b"")
        ordered = bool(meta.times_sorted)
    else:
        xs = codec.step_sequence(meta.steps_kind, x_blob or b"", meta.step_min, meta.npts)
        ordered = bool(meta.steps_sorted) and codec.has_all_steps(meta.steps_kind)
    code = codec.array_code(meta.encoding)
    if code is not None and meta.n_num == meta.npts and ordered:
        _sliced(acc, xs, codec.unpack_array(code, vals_blob), vals_blob, code)
        return
    values = codec.unpack_values(meta.encoding, vals_blob)
    skip_step = x == "step"
    for i, value in enumerate(values):
        kind = type(value)
        if (kind is not float and kind is not int) or value != value:
            continue
        position = xs[i]
        if (skip_step and position == codec.STEP_NONE) or not acc.low <= position <= acc.high:
            continue
        number = float(value)  # type: ignore[arg-type]
        acc.add(acc.of(position), 1, number, number, number, number, position, position)


def _sliced(acc: _Buckets, xs: Sequence[Any], vs: Sequence[Any], blob: bytes, code: str) -> None:
    """Sorted x, all values numeric: one slice per bucket."""
    start = bisect_left(xs, acc.low)
    stop = bisect_right(xs, acc.high)
    if start >= stop:
        return
    bounds: list[tuple[int, int, int]] = []
    i = start
    last_bucket = acc.size - 1
    while i < stop:
        k = acc.of(xs[i])
        end = stop if k >= last_bucket else max(bisect_left(xs, acc.edges[k], i, stop), i + 1)
        bounds.append((k, i, end))
        i = end
    numpy = codec.optional_numpy()
    if numpy is not None:
        packed = numpy.frombuffer(blob, dtype=numpy.float64 if code == "d" else numpy.int64)
        starts = [b[1] for b in bounds]
        segment = packed[start:stop]
        offsets = numpy.asarray(starts) - start
        lows = numpy.minimum.reduceat(segment, offsets).tolist()
        highs = numpy.maximum.reduceat(segment, offsets).tolist()
    else:
        lows = [min(vs[a:b]) for _, a, b in bounds]
        highs = [max(vs[a:b]) for _, a, b in bounds]
    for (k, a, b), low, high in zip(bounds, lows, highs, strict=True):
        acc.add(k, b - a, vs[a], vs[b - 1], low, high, xs[a], xs[b - 1])


_NUMPY_TYPES = {"d": "float64", "q": "int64", "b": "int8"}


def _columns(
    numpy: Any, planned: _Planned | None, blobs: dict[int, tuple[bytes, bytes | None]], x: str,
) -> BucketColumns:
    """What :func:`_filled` makes, as columns: every contribution (a chunk that fills
    its bucket from its metadata, or one point of an unpacked chunk) in index order,
    its bucket found with ``searchsorted`` on the same edges, then one ``reduceat`` per
    column over the runs of equal buckets (a stable sort first when x is not sorted,
    so first and last stay the first and last logged). x values compare as float64:
    the same as the per-point path for steps and indexes below 2**53."""
    f64 = numpy.float64
    if planned is None:
        empty = numpy.zeros(0, dtype=f64)
        return BucketColumns(empty, empty, numpy.zeros(0, dtype=numpy.int64), empty, empty,
                             empty, empty)
    acc, plan = planned
    segments: list[tuple[Any, ...]] = []  # (x0, x1, count, first, last, low, high)
    wholes: list[tuple[Any, ...]] = []

    def flush() -> None:
        if wholes:
            cols = list(zip(*wholes, strict=True))
            segments.append(tuple(numpy.array(c, dtype=numpy.int64 if i == 2 else f64)
                                  for i, c in enumerate(cols)))
            wholes.clear()

    for meta, whole in plan:
        if whole:
            first_x, last_x = _extent(meta, x)  # type: ignore[misc]
            wholes.append((first_x, last_x, meta.npts, meta.first_num, meta.last_num,
                           meta.vmin, meta.vmax))
            continue
        flush()
        xs, vs = _chunk_points(numpy, acc, meta, blobs[meta.chunk_no], x)
        if len(xs):
            segments.append((xs, xs, numpy.ones(len(xs), dtype=numpy.int64), vs, vs, vs, vs))
    flush()
    if not segments:
        return _columns(numpy, None, blobs, x)
    x0, x1, count, first, last, low, high = (
        parts[0] if len(parts) == 1 else numpy.concatenate(parts)
        for parts in zip(*segments, strict=True))
    k = numpy.searchsorted(numpy.array(acc.edges, dtype=f64), x0, side="right")
    if len(k) > 1 and bool((k[1:] < k[:-1]).any()):
        order = numpy.argsort(k, kind="stable")
        k, x0, x1, count, first, last, low, high = (
            c[order] for c in (k, x0, x1, count, first, last, low, high))
    starts = numpy.flatnonzero(numpy.concatenate(([True], k[1:] != k[:-1])))
    ends = numpy.append(starts[1:], len(k)) - 1
    return BucketColumns(
        numpy.minimum.reduceat(x0, starts), numpy.maximum.reduceat(x1, starts),
        numpy.add.reduceat(count, starts), first[starts], last[ends],
        numpy.minimum.reduceat(low, starts), numpy.maximum.reduceat(high, starts))


def _chunk_points(
    numpy: Any, acc: _Buckets, meta: Any, blobs: tuple[bytes, bytes | None], x: str,
) -> tuple[Any, Any]:
    """x and value (float64 arrays) of the points of one chunk that count: numeric,
    not NaN, with a step when x is ``step``, within the buckets' range; in index order."""
    vals_blob, x_blob = blobs
    n = meta.npts
    present = None  # mask of the points that have a step
    if x == "index":
        xs = numpy.arange(meta.first_index, meta.first_index + n, dtype=numpy.float64)
    elif x == "time":
        xs = numpy.frombuffer(x_blob or b"", dtype=numpy.float64)
    elif meta.steps_kind == codec.STEPS_RANGE:
        xs = numpy.arange(meta.step_min, meta.step_min + n, dtype=numpy.float64)
    elif meta.steps_kind == codec.STEPS_NONE:
        empty = numpy.zeros(0, dtype=numpy.float64)
        return empty, empty
    else:
        steps = numpy.frombuffer(x_blob or b"", dtype=numpy.int64)
        present = steps != codec.STEP_NONE
        xs = steps.astype(numpy.float64)
    code = codec.array_code(meta.encoding)
    if code is not None and meta.n_num == n:  # packed, every value numeric and not NaN
        vs = numpy.frombuffer(vals_blob, dtype=_NUMPY_TYPES[code]).astype(numpy.float64)
    else:
        cells = codec.unpack_values(meta.encoding, vals_blob)
        kept = [(i, float(v)) for i, v in enumerate(cells)  # type: ignore[arg-type]
                if (type(v) is float or type(v) is int) and v == v]
        where = numpy.array([i for i, _ in kept], dtype=numpy.intp)
        vs = numpy.array([v for _, v in kept], dtype=numpy.float64)
        xs = xs[where]
        present = None if present is None else present[where]
    inside = (xs >= acc.low) & (xs <= acc.high)
    if present is not None:
        inside &= present
    if bool(inside.all()):
        return xs, vs
    return xs[inside], vs[inside]
