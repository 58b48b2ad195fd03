"""The numpy fast path of ingest: a columnar batch split into per-series arrays.

:func:`split` groups the points of a :class:`~runtrack.model.PointColumns` by metric
name (stable, so each series keeps sequence order) and returns, per series, either
an :class:`ArrayGroup` — every value a float, or every value an int — that packs
chunk pieces and folds summaries straight from arrays, or plain lists for the rare
series that mixes types and for a series of few points (those go through the list path of
:mod:`runtrack.store.sql.ingest`, which handles every value). Both paths store
byte-identical chunks and summaries; ``tests/store/test_columnar_ingest.py`` checks
that.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from runtrack import _wire
from runtrack.errors import InvalidValueError
from runtrack.model import NO_STEP, POINT_FLOAT, POINT_INT, CellValue, MetricKind, PointColumns
from runtrack.store.sql import codec

_FEW_IDS = 24
_BINCOUNT_MAX = 1 << 20
#: Steps, times and values of one series as Python lists.
Lists = tuple[list[int | None], list[float], list[Any]]
#: name -> (kind, the series' new points)
Split = dict[str, tuple[str, "ArrayGroup | Lists"]]


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
    """New points of one series whose values are all floats (``f``) or all ints (``i``)."""

    def __init__(
        self, np: Any, kind: str, encoding: str, steps: Any, times: Any, values: Any
    ) -> None:
        self.np = np
        self.kind = kind
        self.encoding = encoding
        self.steps, self.times, self.values = steps, times, values

    def __len__(self) -> int:
        return len(self.values)

    def segments(self) -> list[tuple[str, int, int]]:
        return [(self.encoding, 0, len(self.values))]

    def max_time(self) -> float:
        return float(self.times.max())

    def encode(self, encoding: str, start: int, end: int) -> codec.Piece:
        """Points ``start:end`` as a chunk piece (same bytes as ``codec.encode_piece``)."""
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
        nums = self._numbers(values)
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
        np = self.np
        values, steps = self.values, self.steps
        if state["count"] == 0:
            state["first_value"] = codec.dumps_cell(values[0].item())
        last = values[-1].item()
        state["last_value"] = codec.dumps_cell(last)
        state["last_time"] = float(self.times[-1])
        state["count"] += len(values)
        if steps[-1] != NO_STEP:
            state["last_step"] = int(steps[-1])
        else:
            given = np.flatnonzero(steps != NO_STEP)
            if len(given):
                state["last_step"] = int(steps[given[-1]])
        if last != last:
            state["last"], state["last_nan"] = None, True
        else:
            state["last"], state["last_nan"] = float(last), False
        self._fold_top(state)
        nums = self._numbers(values)
        if len(nums):
            low, high = nums.min().item(), nums.max().item()
            state["vmin"] = low if state["vmin"] is None else min(state["vmin"], low)
            state["vmax"] = high if state["vmax"] is None else max(state["vmax"], high)

    def _numbers(self, values: Any) -> Any:
        """``values`` without NaN (themselves when there is none)."""
        if self.encoding != "f":
            return values
        nan = self.np.isnan(values)
        return values[~nan] if bool(nan.any()) else values

    def _fold_top(self, state: dict[str, Any]) -> None:
        """The point with the highest (step, time, value) (as ``ingest._fold_top``);
        the usual series has one point at its highest step, which needs no more looks."""
        np = self.np
        steps = self.steps
        if int(steps.min()) == NO_STEP:
            steps = np.where(steps == NO_STEP, 0, steps)
        pick = np.flatnonzero(steps == steps.max())
        if len(pick) > 1:
            pick = pick[self.times[pick] == self.times[pick].max()]
        if len(pick) > 1:
            keys = self.values[pick].astype("f8")
            if self.encoding == "f":
                keys = np.where(np.isnan(keys), -np.inf, keys)
            i = int(pick[np.argmax(keys)])
        else:
            i = int(pick[0])
        value = self.values[i].item()
        key = (int(steps[i]), float(self.times[i]), -math.inf if value != value else float(value))
        best = top_key(state)
        if best is None or key > best:
            set_top(state, key[0], key[1], value)


def split(np: Any, columns: PointColumns, skip: int, small: int = 0) -> Split:
    """The points of ``columns`` from index ``skip`` on, per metric name, in order of
    each name's first point. A series with fewer than ``small`` points comes back as
    lists (numpy's fixed cost per series outweighs a few points)."""
    ids = np.frombuffer(columns.ids, dtype="<u4")[skip:]
    if not len(ids):
        return {}
    types = np.frombuffer(columns.types, dtype="u1")[skip:]
    steps = np.frombuffer(columns.steps, dtype="<i8")[skip:]
    times = np.frombuffer(columns.times, dtype="<f8")[skip:]
    bits = np.frombuffer(columns.values, dtype="<i8")[skip:]
    by_name: dict[str, tuple[str, list[Any]]] = {}
    for nid, index in _by_id(np, ids):
        try:
            name, kind = columns.names[nid]
        except KeyError:
            raise InvalidValueError(
                f"a columnar batch uses metric id {nid} without a name"
            ) from None
        _check(name, kind)
        entry = by_name.setdefault(name, (kind, []))
        if entry[0] != kind:
            raise InvalidValueError(
                f"metric {name!r} is {entry[0]} and {kind} in one batch; a metric holds one kind"
            )
        entry[1].append(index)
    ordered: list[tuple[int, str, str, Any]] = []
    for name, (kind, parts) in by_name.items():
        if len(parts) == 1:
            index = parts[0]
        else:
            index = np.sort(np.concatenate([_as_index(np, p, len(ids)) for p in parts]))
        first = 0 if index is None else int(index[0])
        ordered.append((first, name, kind, index))
    ordered.sort(key=lambda item: item[0])
    arrays: dict[str, ArrayGroup] = {}
    listed: list[tuple[str, Any]] = []  # (name, index) of the series taken as lists
    for _, name, kind, index in ordered:
        count = len(ids) if index is None else len(index)
        if count >= small and kind != MetricKind.TABLE.value:
            sel = slice(None) if index is None else index
            codes = types[sel]
            if bool((codes == POINT_FLOAT).all()):
                floats = bits[sel].view("<f8")
                arrays[name] = ArrayGroup(np, kind, "f", steps[sel], times[sel], floats)
                continue
            if bool((codes == POINT_INT).all()):
                arrays[name] = ArrayGroup(np, kind, "i", steps[sel], times[sel], bits[sel])
                continue
        listed.append((name, index))
    lists = dict(zip(
        [name for name, _ in listed],
        _lists(np, columns, skip, [index for _, index in listed], len(ids)),
        strict=True,
    ))
    return {
        name: (kind, arrays[name] if name in arrays else lists[name])
        for _, name, kind, _ in ordered
    }


def _by_id(np: Any, ids: Any) -> list[tuple[int, Any]]:
    """(id, sorted indexes of its points, or None for "all points") per distinct id."""
    first = int(ids[0])
    if bool((ids == first).all()):
        return [(first, None)]
    counts = np.bincount(ids) if int(ids.max()) < _BINCOUNT_MAX else None
    if counts is not None and np.count_nonzero(counts) <= _FEW_IDS:
        # few names (the usual training loop): one comparison pass per name beats a sort
        return [(int(nid), np.flatnonzero(ids == nid)) for nid in np.flatnonzero(counts)]
    order = np.argsort(ids, kind="stable")
    ranked = ids[order]
    cuts = np.flatnonzero(ranked[1:] != ranked[:-1]) + 1
    bounds = [0, *cuts.tolist(), len(ids)]
    return [(int(ranked[a]), order[a:b]) for a, b in itertools.pairwise(bounds)]


def _as_index(np: Any, index: Any, n: int) -> Any:
    return np.arange(n) if index is None else index


def _lists(np: Any, columns: PointColumns, skip: int, indexes: list[Any], n: int) -> list[Lists]:
    """Steps, times and values of the series whose points are at ``indexes`` (each
    counted from ``skip``; None: all ``n``) as Python lists: the rows of all of them
    are gathered at once, one numpy pass per column, then cut per series."""
    if not indexes:
        return []
    parts = [_as_index(np, index, n) for index in indexes]
    rows = (parts[0] if len(parts) == 1 else np.concatenate(parts)) + skip
    codes = np.frombuffer(columns.types, dtype="u1")[rows].tolist()
    steps = np.frombuffer(columns.steps, dtype="<i8")[rows].tolist()
    times = np.frombuffer(columns.times, dtype="<f8")[rows].tolist()
    bits = np.frombuffer(columns.values, dtype="<i8")[rows]
    ints, floats = bits.tolist(), bits.view("<f8").tolist()
    out: list[Lists] = []
    start = 0
    for part in parts:
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
    _wire.check_name_and_kind(name, kind, f"metric {name!r}: ")
