"""Metric series held in lists: batch checks, summary upkeep, range reads and downsampling.

The rules are :class:`~runtrack.store.base.TrackingStore`'s (the contract suite checks them
against every store); the functions here never lock, the store calls them under its lock.
"""

from __future__ import annotations

import math
import operator
import sys
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from runtrack import _rules, _wire
from runtrack.errors import InvalidValueError
from runtrack.model import Bucket, CellValue, MetricKind, SeriesData, SeriesInfo

X_MODES = ("index", "step", "time")


def _copy(value: CellValue) -> CellValue:
    """A fresh copy of a cell (table rows are dicts; scalars are immutable)."""
    return dict(value) if type(value) is dict else value


def _is_number(value: object) -> bool:
    kind = type(value)
    return kind is float or kind is int


@dataclass
class Points:
    """New points of one metric name from one batch."""

    kind: str
    steps: list[int | None] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)


@dataclass
class Series:
    """One series: its points as parallel lists and its summary, folded at ingest."""

    name: str
    kind: MetricKind
    description: str = ""
    columns: list[str] = field(default_factory=list)
    steps: list[int | None] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    values: list[CellValue] = field(default_factory=list)
    last: float | None = None
    minimum: float | None = None
    maximum: float | None = None
    last_step: int | None = None
    first_value: CellValue = None
    last_value: CellValue = None
    last_time: float | None = None
    #: (step or 0, time, value) of the numeric point with the highest such key
    top: tuple[int, float, float] | None = None
    #: every value a number and not NaN; times ascending; every step given and ascending
    #: (then downsampling slices instead of visiting each point)
    clean: bool = True
    times_sorted: bool = True
    steps_sorted: bool = True

    def append(self, points: Points) -> None:
        """Add ``points`` (already checked) and fold them into the summary."""
        values = points.values
        if self.kind is MetricKind.TABLE:
            values = [_copy(v) for v in values]
        plain = _plain_numbers(values)
        if not self.values:
            self.first_value = _copy(values[0])
        self.steps += points.steps
        self.times += points.times
        self.values += values
        self.clean = self.clean and plain
        self.times_sorted = self.times_sorted and _ascending(self.times, len(points.times))
        self.steps_sorted = self.steps_sorted and None not in points.steps and _ascending(
            self.steps, len(points.steps))
        self.last_value = _copy(values[-1])
        self.last_time = points.times[-1]
        for step in reversed(points.steps):
            if step is not None:
                self.last_step = step
                break
        for value in reversed(values):
            if _is_number(value):
                self.last = float(value)
                break
        numbers = values if plain else [v for v in values if _is_number(v) and v == v]
        if numbers:
            low, high = float(min(numbers)), float(max(numbers))
            self.minimum = low if self.minimum is None else min(self.minimum, low)
            self.maximum = high if self.maximum is None else max(self.maximum, high)
        self._fold_top(points, plain)
        if self.kind is MetricKind.TABLE or any(type(v) is dict for v in values):
            seen = set(self.columns)
            for value in values:
                if isinstance(value, dict):
                    for key in value:
                        if key not in seen:
                            seen.add(key)
                            self.columns.append(str(key))

    def _fold_top(self, points: Points, plain: bool) -> None:
        """Keep the numeric point with the highest (step or 0, time, value), NaN lowest."""
        best = None if self.top is None else _rank(self.top)
        steps = [0 if s is None else s for s in points.steps]
        if plain:  # no NaN, no other values: tuples compare in C
            top = max(zip(steps, points.times, points.values, strict=True))
            candidate = (top[0], top[1], float(top[2]))
            if best is None or candidate > best:
                self.top = candidate
            return
        for step, stamp, value in zip(steps, points.times, points.values, strict=True):
            if not _is_number(value):
                continue
            candidate = (step, stamp, float(value))
            key = _rank(candidate)
            if best is None or key > best:
                best, self.top = key, candidate

    def info(self) -> SeriesInfo:
        top_step, top_time, top_value = self.top if self.top is not None else (None, None, None)
        return SeriesInfo(
            name=self.name, kind=self.kind, count=len(self.values),
            description=self.description, columns=list(self.columns), last=self.last,
            minimum=self.minimum, maximum=self.maximum, last_step=self.last_step,
            first_value=_copy(self.first_value), last_value=_copy(self.last_value),
            last_time=self.last_time, top_step=top_step, top_time=top_time,
            top_value=top_value,
        )

    def read(self, start: int = 0, end: int | None = None) -> SeriesData:
        if start < 0 or (end is not None and end < start):
            raise InvalidValueError(
                f"read range [{start}, {end}) of {self.name!r} is not valid: need "
                "0 <= start <= end"
            )
        part = slice(start, end)
        return SeriesData(
            name=self.name, kind=self.kind, start=start, steps=self.steps[part],
            times=self.times[part], values=[_copy(v) for v in self.values[part]],
        )

    def downsample(
        self, buckets: int, x: str, x_min: float | None, x_max: float | None
    ) -> list[Bucket]:
        """At most ``buckets`` buckets (first, last, min, max) over the numeric points;
        bucket edges split ``[x_min, x_max]`` (default: the numeric points' x extent)."""
        if buckets < 1:
            raise InvalidValueError(f"buckets must be at least 1, got {buckets}")
        if x not in X_MODES:
            raise InvalidValueError(f"x must be one of {', '.join(X_MODES)}, got {x!r}")
        xs = self._xs(x)
        if self.clean and self._sorted(x):
            if not self.values:
                return []
            low = x_min if x_min is not None else xs[0]
            high = x_max if x_max is not None else xs[-1]
            if high < low or math.isnan(low) or math.isnan(high):
                return []
            return _sliced(xs, self.values, low, high, buckets)  # type: ignore[arg-type]
        points = [
            (position, float(value))  # type: ignore[arg-type]
            for position, value in zip(xs, self.values, strict=True)
            if _is_number(value) and value == value and position is not None
        ]
        if not points:
            return []
        low = x_min if x_min is not None else min(p[0] for p in points)
        high = x_max if x_max is not None else max(p[0] for p in points)
        if high < low or math.isnan(low) or math.isnan(high):
            return []
        width = (high - low) / buckets
        edges = [low + k * width for k in range(1, buckets)]
        acc: dict[int, list[Any]] = {}
        for position, value in points:
            if not low <= position <= high:
                continue
            k = bisect_right(edges, position)
            found = acc.get(k)
            if found is None:
                acc[k] = [1, value, value, value, value, position, position]
                continue
            found[0] += 1
            found[2] = value
            found[3] = min(found[3], value)
            found[4] = max(found[4], value)
            found[5] = min(found[5], position)
            found[6] = max(found[6], position)
        return [
            Bucket(float(a[5]), float(a[6]), a[0], a[1], a[2], a[3], a[4])
            for _, a in sorted(acc.items())
        ]

    def _xs(self, x: str) -> Sequence[Any]:
        if x == "index":
            return range(len(self.values))
        return self.times if x == "time" else self.steps

    def _sorted(self, x: str) -> bool:
        return x == "index" or (self.times_sorted if x == "time" else self.steps_sorted)


_PACKED = {float: ("f", "d"), int: ("i", "q"), bool: ("b", "b")}


def pack_values(values: Sequence[Any]) -> tuple[str, bytes] | None:
    """``(encoding, little-endian bytes)`` of values all floats, all ints or all bools
    (``f``/``i``/``b``, as :class:`~runtrack.store.base.SeriesValuesReader` hands them
    out); None for anything else."""
    types = set(map(type, values))
    if not types:
        return "f", b""
    if len(types) > 1 or (packing := _PACKED.get(types.pop())) is None:
        return None
    encoding, code = packing
    packed = array(code, values)
    if sys.byteorder == "big":
        packed.byteswap()
    return encoding, packed.tobytes()


def _plain_numbers(values: Sequence[Any]) -> bool:
    """Whether every value is an int or a float and none is NaN (checked at C speed)."""
    types = set(map(type, values))
    if not types <= {float, int}:
        return False
    return float not in types or not any(map(math.isnan, values))


def _ascending(items: Sequence[Any], new: int) -> bool:
    """Whether the last ``new`` items (and the one before them) are in ascending order."""
    tail = items[max(len(items) - new - 1, 0) :]
    return all(map(operator.le, tail, tail[1:]))


def _sliced(
    xs: Sequence[float], values: Sequence[float], low: float, high: float, buckets: int
) -> list[Bucket]:
    """Buckets over sorted ``xs`` whose values are all numbers: one slice per bucket."""
    width = (high - low) / buckets
    edges = [low + k * width for k in range(1, buckets)]
    start, stop = bisect_left(xs, low), bisect_right(xs, high)
    out: list[Bucket] = []
    i = start
    while i < stop:
        k = bisect_right(edges, xs[i])
        end = stop if k >= buckets - 1 else max(bisect_left(xs, edges[k], i, stop), i + 1)
        part = values[i:end]
        out.append(Bucket(float(xs[i]), float(xs[end - 1]), end - i, float(part[0]),
                          float(part[-1]), float(min(part)), float(max(part))))
        i = end
    return out


def _rank(top: tuple[int, float, float]) -> tuple[int, float, float]:
    """The order of top points: by step, time, then value, NaN lowest."""
    step, stamp, value = top
    return (step, stamp, -math.inf if value != value else value)


def group_records(records: Sequence[Any]) -> dict[str, Points]:
    """The records of a batch by metric name, checked as every store checks them."""
    groups = _wire.group_records(records, Points)
    for name, group in groups.items():
        where = f"metric {name!r}"
        _rules.check_values(group.kind, group.values, where)
        _rules.check_steps(group.steps, where)
    return groups
