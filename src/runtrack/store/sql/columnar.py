"""The numpy path of ingest: a columnar batch split into per-series arrays, with the
chunk piece and the summary figures of every series computed for all of them at once.

:func:`split` groups the points of a :class:`~runtrack.model.PointColumns` by metric
name (stable, so each series keeps sequence order) and returns, per series, either an
:class:`ArrayGroup` — every value a float, or every value an int — or plain lists for
the series that mix types, hold objects or are tables (the list path of
:mod:`runtrack.store.sql.ingest` handles every value). An ArrayGroup comes with the
piece of all its points and the figures its summary folds in, computed by
:func:`_wholes` in a fixed number of numpy passes over the whole batch (segment
reductions, one ``lexsort`` for the top points): a short run's last batch holds
fourteen series, and per-series numpy calls cost it more than its SQL. Both paths
store byte-identical chunks and summaries; ``tests/store/test_columnar_ingest.py``
checks that.

Where ``_columnar.c`` is built, a batch of at most :data:`C_SPLIT_MAX` points (a short
run's last batch: ~500 points of 14 series) is split by its ``split`` in one call, which
groups the points and computes the same Whole and Figures of each series in plain
loops; ``tests/store/test_short_batch_ingest.py`` compares the two on random batches.
"""

from __future__ import annotations

import functools
import math
from typing import Any

from runtrack import _wire
from runtrack.errors import InvalidValueError
from runtrack.model import NO_STEP, POINT_FLOAT, POINT_INT, CellValue, MetricKind, PointColumns
from runtrack.store.sql import codec

c_split: Any  # the C twin of split's numpy path (_columnar.c), where built
try:
    from runtrack.store.sql import _columnar

    c_split = _columnar.split
except ImportError:
    c_split = None

#: batches of at most this many points go through ``c_split``: its loops beat numpy's
#: fixed cost per call there, and numpy's vectorised passes win beyond (measured:
#: 509 points 9 vs 93 µs; 50,000 of one series 685 vs 149 µs)
C_SPLIT_MAX = 4096
_BINCOUNT_MAX = 1 << 20
_INT64_MAX = 2**63 - 1
#: Steps, times and values of one series as Python lists.
Lists = tuple[list[int | None], list[float], list[Any]]
#: name -> (kind, the series' new points)
Split = dict[str, tuple[str, "ArrayGroup | Lists"]]
#: the chunk piece of all of a series' new points, but its blobs: the fields of
#: :class:`~runtrack.store.sql.codec.Piece` from ``steps_kind`` on, without ``steps``,
#: ``times`` and ``vals`` (copied from the arrays only if the piece is used whole)
Whole = tuple[Any, ...]
#: what a series' summary folds in from its new points: first and last value, last
#: time, last step (None: no point has one), the top point (step, time, value), and
#: the least and greatest number (None: no number)
Figures = tuple[Any, Any, float, int | None, tuple[int, float, Any], Any, Any]
_NO_BLOB = (codec.STEPS_RANGE, codec.STEPS_NONE)


def top_key(state: dict[str, Any]) -> tuple[int, float, float] | None:
    """The summary's current top point as a sort key (NaN sorts lowest), or None."""
    if state["top_time"] is None:
        return None
    value = -math.inf if state["top_nan"] else state["top_value"]
    return (state["top_step"], state["top_time"], -math.inf if value is None else value)


def set_top(state: dict[str, Any], step: int, stamp: float, value: float) -> None:
    nan = value != value
    state["top_step"], state["top_time"] = step, stamp
    state["top_value"], state["top_nan"] = (None if nan else _finite_or_none(value)), nan


def _finite_or_none(value: float) -> float | None:
    try:
        return float(value)
    except OverflowError:
        return None


class ArrayGroup:
    """New points of one series whose values are all floats (``f``) or all ints (``i``),
    with the piece of all of them (``whole``, but its blobs) and their summary
    ``figures``. Its columns come as numpy arrays, or as the little-endian bytes of the
    C split (made arrays only if a chunk takes part of them)."""

    def __init__(
        self, np: Any, kind: str, encoding: str, steps: Any, times: Any, values: Any,
        whole: Whole, figures: Figures,
    ) -> None:
        self.np = np
        self.kind = kind
        self.encoding = encoding
        self._columns = (steps, times, values)
        self.count = len(values) if not isinstance(values, bytes) else len(values) // 8
        self.whole = whole
        self.figures = figures

    def _array(self, i: int, dtype: str) -> Any:
        column = self._columns[i]
        return self.np.frombuffer(column, dtype=dtype) if isinstance(column, bytes) else column

    @property
    def steps(self) -> Any:
        return self._array(0, "<i8")

    @property
    def times(self) -> Any:
        return self._array(1, "<f8")

    @property
    def values(self) -> Any:
        return self._array(2, "<f8" if self.encoding == "f" else "<i8")

    def _blob(self, i: int, dtype: str) -> bytes:
        column = self._columns[i]
        return column if isinstance(column, bytes) else column.astype(dtype).tobytes()

    def __len__(self) -> int:
        return self.count

    def segments(self) -> list[tuple[str, int, int]]:
        return [(self.encoding, 0, self.count)]

    def max_time(self) -> float:
        return float(self.whole[-2])

    def encode(self, encoding: str, start: int, end: int) -> codec.Piece:
        """Points ``start:end`` as a chunk piece (same bytes as ``codec.encode_piece``)."""
        if start == 0 and end == self.count:
            steps_kind = self.whole[0]
            return codec.Piece(
                self.encoding, end, steps_kind,
                b"" if steps_kind in _NO_BLOB else self._blob(0, "<i8"), self._blob(1, "<f8"),
                self._blob(2, "<f8" if self.encoding == "f" else "<i8"), *self.whole[1:],
            )
        steps, times, values = self.steps[start:end], self.times[start:end], self.values[start:end]
        n = end - start
        step_min: int | None = int(steps.min())
        step_max: int | None = int(steps.max())
        steps_sorted = False
        if step_min != NO_STEP:  # the least int64: every point has a step
            steps_sorted = bool((steps[1:] >= steps[:-1]).all())
            if bool((steps[1:] == steps[:-1] + 1).all()):
                steps_kind, steps_blob = codec.STEPS_RANGE, b""
            else:
                steps_kind, steps_blob = codec.STEPS_ALL, steps.astype("<i8").tobytes()
        elif step_max == NO_STEP:
            steps_kind, steps_blob = codec.STEPS_NONE, b""
            step_min = step_max = None
        else:
            steps_kind, steps_blob = codec.STEPS_MIXED, steps.astype("<i8").tobytes()
            step_min = int(steps[steps != NO_STEP].min())
        nums = values
        if self.encoding == "f":
            nan = self.np.isnan(values)
            nums = values[~nan] if bool(nan.any()) else values
        has = len(nums) > 0
        return codec.Piece(
            encoding=self.encoding,
            count=n,
            steps_kind=steps_kind,
            steps=steps_blob,
            times=times.astype("<f8").tobytes(),
            vals=values.tobytes(),
            n_num=len(nums),
            vmin=float(nums.min()) if has else None,
            vmax=float(nums.max()) if has else None,
            first_num=float(nums[0]) if has else None,
            last_num=float(nums[-1]) if has else None,
            step_min=step_min,
            step_max=step_max,
            steps_sorted=steps_sorted,
            time_min=float(times.min()),
            time_max=float(times.max()),
            times_sorted=bool((times[1:] >= times[:-1]).all()),
        )

    def fold(self, state: dict[str, Any]) -> None:
        """Fold the points into a series summary row (as ``ingest._fold_summary``)."""
        first, last, last_time, last_step, top, low, high = self.figures
        if state["count"] == 0:
            state["first_value"] = codec.dumps_cell(first)
        state["last_value"] = codec.dumps_cell(last)
        state["last_time"] = last_time
        state["count"] += self.count
        if last_step is not None:
            state["last_step"] = last_step
        if last != last:
            state["last"], state["last_nan"] = None, True
        else:
            state["last"], state["last_nan"] = float(last), False
        step, stamp, value = top
        best = top_key(state)
        if best is None or (step, stamp, -math.inf if value != value else float(value)) > best:
            set_top(state, step, stamp, value)
        if low is not None:
            state["vmin"] = low if state["vmin"] is None else min(state["vmin"], low)
            state["vmax"] = high if state["vmax"] is None else max(state["vmax"], high)


def split(np: Any, columns: PointColumns, skip: int) -> Split:
    """The points of ``columns`` from index ``skip`` on, per metric name, in order of
    each name's first point."""
    ids = np.frombuffer(columns.ids, dtype="<u4")[skip:]
    n = len(ids)
    if not n:
        return {}
    names, kinds, group_of = _groups(np, columns, ids)
    if c_split is not None and n <= C_SPLIT_MAX:  # one C call (see _columnar.c)
        tables = bytes(kind == MetricKind.TABLE.value for kind in kinds)
        firsts, groups = c_split(columns.ids, columns.types, columns.steps, columns.times,
                                 columns.values, skip, group_of, tables)
    else:
        firsts, groups = _numpy_groups(np, columns, skip, ids, kinds, group_of)
    out: dict[int, tuple[str, ArrayGroup | Lists]] = {}
    listed: list[int] = []
    for g, group in enumerate(groups):
        if group[0] is None:
            listed.append(g)
            continue
        encoding, steps, times, values, (whole, figures) = group
        out[g] = (kinds[g], ArrayGroup(np, kinds[g], encoding, steps, times, values, whole,
                                       figures))
    if listed:
        indexes = [groups[g][1] for g in listed]
        indexes = [np.frombuffer(i, dtype="<i8") if isinstance(i, bytes) else i for i in indexes]
        for g, lists in zip(listed, _lists(np, columns, skip, indexes), strict=True):
            out[g] = (kinds[g], lists)
    return {names[g]: out[g] for g in sorted(out, key=firsts.__getitem__)}


def _numpy_groups(
    np: Any, columns: PointColumns, skip: int, ids: Any, kinds: list[str], group_of: Any
) -> tuple[list[int], list[tuple[Any, ...]]]:
    """What ``_columnar.split`` returns, through numpy: each group's first point, and
    per group ``(encoding, steps, times, values, (whole, figures))`` for a float or int
    series (array views) or ``(None, indexes)`` for one taken as lists."""
    n = len(ids)
    types = np.frombuffer(columns.types, dtype="u1")[skip:]
    steps = np.frombuffer(columns.steps, dtype="<i8")[skip:]
    times = np.frombuffer(columns.times, dtype="<f8")[skip:]
    bits = np.frombuffer(columns.values, dtype="<i8")[skip:]
    if len(kinds) == 1:
        order, starts = None, np.zeros(1, dtype=np.intp)
        firsts = [0]
    else:
        gid = group_of[ids]
        order = np.argsort(gid, kind="stable")
        ranked = gid[order]
        starts = np.flatnonzero(np.concatenate(([True], ranked[1:] != ranked[:-1])))
        firsts = order[starts].tolist()
        types, steps, times, bits = types[order], steps[order], times[order], bits[order]
    ends = [*starts[1:].tolist(), n]
    low, high = np.minimum.reduceat(types, starts), np.maximum.reduceat(types, starts)
    encodings: list[str | None] = [
        None if lo != hi or kind == MetricKind.TABLE.value
        else "f" if lo == POINT_FLOAT else "i" if lo == POINT_INT else None
        for lo, hi, kind in zip(low.tolist(), high.tolist(), kinds, strict=True)
    ]
    wholes = _wholes(np, encodings, starts, n, steps, times, bits)
    groups: list[tuple[Any, ...]] = []
    for g, (a, b, encoding) in enumerate(zip(starts.tolist(), ends, encodings, strict=True)):
        if encoding is None:
            groups.append((None, np.arange(n) if order is None else order[a:b]))
        else:
            values = bits[a:b].view("<f8") if encoding == "f" else bits[a:b]
            groups.append((encoding, steps[a:b], times[a:b], values, wholes[g]))
    return firsts, groups


def _groups(np: Any, columns: PointColumns, ids: Any) -> tuple[list[str], list[str], Any]:
    """The batch's metric names and kinds (checked), and an array from metric id to the
    name's group number (several ids may share a name; one name holds one kind)."""
    first = int(ids[0])
    if bool((ids == first).all()):
        distinct = [first]
    elif int(ids.max()) < _BINCOUNT_MAX:
        distinct = np.flatnonzero(np.bincount(ids)).tolist()
    else:
        distinct = np.unique(ids).tolist()
    names: list[str] = []
    kinds: list[str] = []
    number: dict[str, int] = {}
    small = len(distinct) < 1 << 16  # numpy sorts 16-bit keys by radix
    group_of = np.zeros(max(distinct) + 1, dtype=np.uint16 if small else np.uint32)
    for nid in distinct:
        try:
            name, kind = columns.names[nid]
        except KeyError:
            raise InvalidValueError(
                f"a columnar batch uses metric id {nid} without a name"
            ) from None
        _check(name, kind)
        g = number.setdefault(name, len(names))
        if g == len(names):
            names.append(name)
            kinds.append(kind)
        elif kinds[g] != kind:
            raise InvalidValueError(
                f"metric {name!r} is {kinds[g]} and {kind} in one batch; a metric holds one kind"
            )
        group_of[nid] = g
    return names, kinds, group_of


def _wholes(
    np: Any, encodings: list[str | None], starts: Any, n: int, steps: Any, times: Any,
    bits: Any,
) -> dict[int, tuple[Whole, Figures]]:
    """The piece of all points (:data:`Whole`) and the summary figures of each float or
    int group of a batch whose points are ordered by group (group ``g`` from
    ``starts[g]``), by segment reductions over all groups at once."""
    groups = [g for g, encoding in enumerate(encodings) if encoding is not None]
    if not groups:
        return {}
    lasts = np.append(starts[1:], n) - 1
    counts = (lasts - starts + 1).tolist()
    k = len(counts)
    floats = bits.view("<f8")
    point_f = None  # every point is a float's
    if set(encodings) != {"f"}:
        point_f = np.repeat(np.array([e == "f" for e in encodings]), counts)
    nan = np.isnan(floats) if point_f is None else np.isnan(floats) & point_f
    nans = [0] * k
    if bool(nan.any()):
        nans = np.add.reduceat(nan.view(np.uint8), starts, dtype=np.int64).tolist()

    def each(bad: Any) -> list[bool]:
        """Per group: no pair of its points (each and the next) is ``bad``."""
        bad[lasts[:-1]] = False  # a group's last point and the next group's first
        ok = [True] * k
        found = np.flatnonzero(bad)
        if len(found):
            for g in np.unique(np.searchsorted(starts, found, side="right") - 1).tolist():
                ok[g] = False
        return ok

    step_lo = np.minimum.reduceat(steps, starts).tolist()
    step_hi = np.maximum.reduceat(steps, starts).tolist()
    steps_up = each(steps[1:] < steps[:-1])
    steps_range = each(steps[1:] - steps[:-1] != 1)
    given_lo = step_lo
    if any(lo == NO_STEP != hi for lo, hi in zip(step_lo, step_hi, strict=True)):
        given_lo = np.minimum.reduceat(np.where(steps == NO_STEP, _INT64_MAX, steps),
                                       starts).tolist()
    time_lo = np.minimum.reduceat(times, starts).tolist()
    time_hi = np.maximum.reduceat(times, starts).tolist()
    # a NaN time is in no order (the minimum carries it)
    times_up = [up and (c == 1 or lo == lo) for up, c, lo in zip(
        each(times[1:] < times[:-1]), counts, time_lo, strict=True)]
    f_lo = f_hi = i_lo = i_hi = nans
    if "f" in encodings:
        if point_f is None and not any(nans):
            f_lo = np.minimum.reduceat(floats, starts).tolist()
            f_hi = np.maximum.reduceat(floats, starts).tolist()
        else:
            number = ~nan if point_f is None else point_f & ~nan
            f_lo = np.minimum.reduceat(np.where(number, floats, np.inf), starts).tolist()
            f_hi = np.maximum.reduceat(np.where(number, floats, -np.inf), starts).tolist()
    if "i" in encodings:
        i_lo = np.minimum.reduceat(bits, starts).tolist()
        i_hi = np.maximum.reduceat(bits, starts).tolist()
    ranked = np.where(steps == NO_STEP, 0, steps) if step_lo.count(NO_STEP) else steps
    if all(lo != NO_STEP and up for lo, up in zip(step_lo, steps_up, strict=True)) and bool(
        ((lasts == starts) | (steps[lasts - 1] != steps[lasts])).all()
    ):  # steps present and rising to a single highest one: the last point of each
        tops = lasts
    else:
        tops = _tops(np, starts, counts, ranked, times, point_f, nan, floats, bits)
    at = np.concatenate((starts, lasts, tops))
    f_at, i_at = floats[at].tolist(), bits[at].tolist()
    times_at, ranked_at, steps_at = times[at].tolist(), ranked[at].tolist(), steps[at].tolist()
    out: dict[int, tuple[Whole, Figures]] = {}
    for g in groups:
        encoding = encodings[g]
        assert encoding is not None
        a, count = int(starts[g]), counts[g]
        b = a + count
        is_f = encoding == "f"
        got = f_at if is_f else i_at
        first, last, top = got[g], got[k + g], got[2 * k + g]
        n_num = count - nans[g]
        if is_f:
            low, high = (f_lo[g], f_hi[g]) if n_num else (None, None)
            first_num, last_num = first, last
            if nans[g] and n_num:
                kept = floats[a:b][~nan[a:b]]
                first_num, last_num = float(kept[0]), float(kept[-1])
        else:
            low, high = i_lo[g], i_hi[g]
            first_num, last_num = float(first), float(last)
        lo, hi = step_lo[g], step_hi[g]
        if lo != NO_STEP:
            steps_kind = codec.STEPS_RANGE if steps_range[g] else codec.STEPS_ALL
            step_min, step_max, steps_sorted = lo, hi, steps_up[g]
        elif hi == NO_STEP:
            steps_kind, step_min, step_max, steps_sorted = codec.STEPS_NONE, None, None, False
        else:
            steps_kind, step_min, step_max, steps_sorted = codec.STEPS_MIXED, given_lo[g], hi, False
        last_step: int | None = steps_at[k + g]
        if last_step == NO_STEP:  # the last point has none: the last one that has one
            given = np.flatnonzero(steps[a:b] != NO_STEP)
            last_step = int(steps[a + int(given[-1])]) if len(given) else None
        whole = (
            steps_kind, n_num, None if low is None else float(low),
            None if high is None else float(high), first_num if n_num else None,
            last_num if n_num else None, step_min, step_max, steps_sorted, time_lo[g],
            time_hi[g], times_up[g],
        )
        top_point = (ranked_at[2 * k + g], times_at[2 * k + g], top)
        out[g] = (whole, (first, last, times_at[k + g], last_step, top_point, low, high))
    return out


def _tops(
    np: Any, starts: Any, counts: list[int], ranked: Any, times: Any, point_f: Any, nan: Any,
    floats: Any, bits: Any,
) -> Any:
    """The index of each group's top point: the highest step (none counts as 0), then
    the latest time, then the highest value (NaN lowest), then the earliest. The usual
    series has one point at its highest step; only ties are sorted."""
    highest = np.repeat(np.maximum.reduceat(ranked, starts), counts)
    found = np.flatnonzero(ranked == highest)
    if len(found) == len(counts):  # one point per group
        return found
    group = np.repeat(np.arange(len(counts)), counts)[found]
    as_float = np.where(nan[found], -np.inf, floats[found])
    values = as_float if point_f is None else np.where(
        point_f[found], as_float, bits[found].astype("f8"))
    order = np.lexsort((-found, values, times[found], group))  # the last key sorts first
    ranked_groups = group[order]
    ends = np.flatnonzero(np.concatenate((ranked_groups[1:] != ranked_groups[:-1], [True])))
    return found[order[ends]]


def _lists(np: Any, columns: PointColumns, skip: int, indexes: list[Any]) -> list[Lists]:
    """Steps, times and values of the series whose points are at ``indexes`` (each
    counted from ``skip``) as Python lists: the rows of all of them are gathered at
    once, one numpy pass per column, then cut per series."""
    rows = (indexes[0] if len(indexes) == 1 else np.concatenate(indexes)) + skip
    codes = np.frombuffer(columns.types, dtype="u1")[rows].tolist()
    steps = np.frombuffer(columns.steps, dtype="<i8")[rows].tolist()
    times = np.frombuffer(columns.times, dtype="<f8")[rows].tolist()
    bits = np.frombuffer(columns.values, dtype="<i8")[rows]
    ints, floats = bits.tolist(), bits.view("<f8").tolist()
    out: list[Lists] = []
    start = 0
    for part in indexes:
        end = start + len(part)
        values: list[CellValue] = []
        for at in range(start, end):
            code = codes[at]
            if code == POINT_FLOAT:
                values.append(floats[at])
            elif code == POINT_INT:
                values.append(ints[at])
            else:
                values.append(columns.objects[int(rows[at])])
        given = [None if s == NO_STEP else s for s in steps[start:end]]
        out.append((given, times[start:end], values))
        start = end
    return out


def _check(name: object, kind: str) -> None:
    """The wire's name and kind rules; a pair of strings passes them once (a run's
    batches repeat their names; a refused pair raises and is not remembered)."""
    if type(name) is str and type(kind) is str:
        _checked(name, kind)
    else:
        _wire.check_name_and_kind(name, kind, f"metric {name!r}: ")


@functools.lru_cache(maxsize=4096)
def _checked(name: str, kind: str) -> None:
    _wire.check_name_and_kind(name, kind, f"metric {name!r}: ")
