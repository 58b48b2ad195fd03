"""Chart traces for scalar metrics of one or several runs, shape-preserving.

:func:`chart_traces` answers ``GET /api/v1/views/chart``: for each (run, metric) one
trace of at most about ``4 * buckets`` points. A series of at most ``2 * buckets``
points (most training curves) is sent as it was logged, every point at its own x,
which is smaller than its buckets would be and exact. Otherwise each bucket of the
store's downsample contributes its first, min, max and last value (min and max in the
order that follows the bucket's trend), so a spike inside a bucket always reaches the
chart. Zooming asks again with ``x_min``/``x_max`` and gets finer buckets over the
visible range.

With ``format=compact`` (what the pages ask for) each trace's x travels as whole-number
deltas (:func:`compact_trace`) and y to 5 significant digits, and the answer is
gzip-compressed when the client accepts it: 50 runs x 2 metrics is about a tenth of
the plain JSON on the wire.

The x axis is one of:

* ``index`` (order of logging), ``step``, ``time`` (unix seconds: wall time);
* ``relative``: seconds since the run started;
* ``metric:<name>``: another scalar metric of the same run, paired by step when both
  series carry steps for every point, else by position. Pairing reads the points
  (at most :data:`MAX_PAIRED_POINTS` per series) and buckets them here.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

from runtrack.errors import InvalidValueError, NotFoundError
from runtrack.model import Bucket, RunInfo, RunQuery, SeriesData
from runtrack.server.api import _chart_columns
from runtrack.store.base import TrackingStore
from runtrack.store.bucket_columns import BucketColumns, ColumnDownsampler, numpy_module
from runtrack.store.readers import BulkDownsampler

MAX_PAIRED_POINTS = 200_000
MAX_BUCKETS = 5_000
X_MODES = ("index", "step", "time", "relative")


def check_x(x: str) -> None:
    if x not in X_MODES and not (x.startswith("metric:") and len(x) > len("metric:")):
        raise InvalidValueError(
            f"x={x!r} is not an x axis: use one of {', '.join(X_MODES)} or metric:<name>"
        )


def run_label(run: RunInfo) -> str:
    return f"{run.display_name} #{run.number}"


def bucket_points(
    buckets: Sequence[Bucket], whole: bool = False
) -> tuple[list[float], list[float]]:
    """x and y of a line through each bucket's first, extreme values and last.

    The extremes are drawn at a third and two thirds of the bucket; with ``whole`` (an
    axis of whole numbers: steps, indexes) those positions are rounded to whole numbers
    inside the bucket, so no point sits at a fractional step.
    """
    xs: list[float] = []
    ys: list[float] = []
    for b in buckets:
        if b.count <= 1:
            xs.append(b.x_start)
            ys.append(b.first)
            continue
        width = b.x_end - b.x_start
        lows_first = b.first <= b.last
        middle = (b.minimum, b.maximum) if lows_first else (b.maximum, b.minimum)
        inner = [b.x_start + width / 3, b.x_start + 2 * width / 3]
        if whole:
            inner = [float(min(b.x_end, max(b.x_start, round(v)))) for v in inner]
        xs += [b.x_start, inner[0], inner[1], b.x_end]
        ys += [b.first, middle[0], middle[1], b.last]
    return xs, ys


def minmax_buckets(
    xs: Sequence[float], ys: Sequence[float], buckets: int
) -> list[Bucket]:
    """Equal-width x buckets over points sorted by x (first/last/min/max per bucket)."""
    if not xs:
        return []
    if len(xs) <= buckets:
        return [Bucket(x, x, 1, y, y, y, y) for x, y in zip(xs, ys, strict=False)]
    low, high = xs[0], xs[-1]
    width = (high - low) / buckets or 1.0
    out: list[Bucket] = []
    start = 0
    while start < len(xs):
        number = min(buckets - 1, int((xs[start] - low) / width))
        edge = low + (number + 1) * width
        end = start + 1
        while end < len(xs) and (xs[end] < edge or number == buckets - 1):
            end += 1
        part = ys[start:end]
        out.append(Bucket(xs[start], xs[end - 1], end - start, part[0], part[-1],
                          min(part), max(part)))
        start = end
    return out


def _numeric(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _paired(
    store: TrackingStore, run_id: str, x_name: str, y_name: str
) -> tuple[list[float], list[float]]:
    xs_data = store.read_series(run_id, x_name, 0, MAX_PAIRED_POINTS)
    ys_data = store.read_series(run_id, y_name, 0, MAX_PAIRED_POINTS)
    pairs: list[tuple[float, float]] = []
    if None not in xs_data.steps and None not in ys_data.steps:
        by_step = {s: _numeric(v) for s, v in zip(xs_data.steps, xs_data.values, strict=False)}
        for step, value in zip(ys_data.steps, ys_data.values, strict=False):
            x, y = by_step.get(step), _numeric(value)
            if x is not None and y is not None:
                pairs.append((x, y))
    else:
        for xv, yv in zip(xs_data.values, ys_data.values, strict=False):
            x, y = _numeric(xv), _numeric(yv)
            if x is not None and y is not None:
                pairs.append((x, y))
    pairs.sort(key=lambda p: p[0])
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _raw(
    data: SeriesData, x: str, x_min: float | None, x_max: float | None,
) -> tuple[list[float], list[float]] | None:
    """The numeric points of a short series on x ``step`` or ``index`` (within
    ``x_min``..``x_max``), sorted by x as the buckets would be; None when ``x`` is
    ``step`` and a point has no step (the index then serves, as for buckets)."""
    if x == "step" and None in data.steps:
        return None
    xs: list[float] = []
    ys: list[float] = []
    low = -math.inf if x_min is None else x_min
    high = math.inf if x_max is None else x_max
    positions = range(len(data.values)) if x == "index" else data.steps
    for position, value in zip(positions, data.values, strict=False):
        kind = type(value)  # what the buckets count: ints and floats, not NaN or bools
        if (kind is not float and kind is not int) or value != value:
            continue
        if low <= position <= high:  # type: ignore[operator]
            xs.append(float(position))  # type: ignore[arg-type]
            ys.append(float(value))  # type: ignore[arg-type]
    if any(b < a for a, b in itertools.pairwise(xs)):  # steps logged out of order
        order = sorted(range(len(xs)), key=xs.__getitem__)  # stable: ties keep their order
        xs, ys = [xs[i] for i in order], [ys[i] for i in order]
    return xs, ys


def _trace(
    store: TrackingStore, run: RunInfo, metric: str, x: str, buckets: int,
    x_min: float | None, x_max: float | None, data: SeriesData | None,
    bucketed: list[Bucket] | BucketColumns | None,
) -> dict[str, Any]:
    """The trace of one (run, metric); ``data``: its points, read already when the
    series is short enough to be sent as logged; ``bucketed``: its buckets (a list or
    columns), read already with other series' (x ``step``, ``index`` or ``time``)."""
    shift = 0.0
    x_used = x
    if data is not None:
        raw = _raw(data, x, x_min, x_max)
        if raw is None and x_min is None and x_max is None:
            raw = _raw(data, "index", None, None)
            x_used = "index"
        if raw is not None:
            return {"run_id": run.id, "run_label": run_label(run), "metric": metric,
                    "x_axis": x_used, "x": raw[0], "y": raw[1], "points": len(raw[0]),
                    "buckets": len(raw[0])}
    if x.startswith("metric:"):
        xs, ys = _paired(store, run.id, x[len("metric:"):], metric)
        keep = [i for i, v in enumerate(xs)
                if (x_min is None or v >= x_min) and (x_max is None or v <= x_max)]
        found = minmax_buckets([xs[i] for i in keep], [ys[i] for i in keep], buckets)
    else:
        axis = x
        if x == "relative":
            shift = run.start_time if run.start_time is not None else run.created_time
            axis = "time"
            x_min = None if x_min is None else x_min + shift
            x_max = None if x_max is None else x_max + shift
        if isinstance(bucketed, BucketColumns) and len(bucketed.count):
            return _columns_trace(run, metric, x_used, bucketed, shift)
        if bucketed is None:
            found = store.downsample(run.id, metric, buckets, x=axis, x_min=x_min, x_max=x_max)
        else:  # read already (empty columns: no point in range)
            found = bucketed if isinstance(bucketed, list) else []
        if not found and x == "step" and x_min is None and x_max is None:
            found = store.downsample(run.id, metric, buckets, x="index")  # logged without steps
            x_used = "index"
    px, py = bucket_points(found, whole=x_used in ("step", "index"))
    if shift:
        px = [v - shift for v in px]
    return {
        "run_id": run.id,
        "run_label": run_label(run),
        "metric": metric,
        "x_axis": x_used,
        "x": px,
        "y": py,
        "points": sum(b.count for b in found),
        "buckets": len(found),
    }


def _columns_trace(
    run: RunInfo, metric: str, x_used: str, columns: BucketColumns, shift: float
) -> dict[str, Any]:
    """What :func:`_trace` makes of buckets, from their columns (numpy)."""
    numpy = numpy_module()
    px, py = _chart_columns.bucket_points(numpy, columns, whole=x_used in ("step", "index"))
    if shift:
        px = px - shift
    return {"run_id": run.id, "run_label": run_label(run), "metric": metric,
            "x_axis": x_used, "x": px.tolist(), "y": py.tolist(),
            "points": int(columns.count.sum()), "buckets": len(columns.count)}


def chart_traces(
    store: TrackingStore,
    run_ids: Sequence[str],
    metrics: Sequence[str],
    *,
    x: str = "step",
    buckets: int = 1000,
    x_min: float | None = None,
    x_max: float | None = None,
) -> dict[str, Any]:
    """Traces for every (run, metric); pairs that do not exist are listed in ``missing``.

    The runs, their series' point counts and the points of every series short enough
    to be sent as logged are read for all ``run_ids`` at once (one bulk read per
    metric), and the longer series are bucketed in one read where the store can
    (:class:`~runtrack.store.readers.BulkDownsampler`), else one by one."""
    check_x(x)
    buckets = max(1, min(buckets, MAX_BUCKETS))
    wanted = list(dict.fromkeys(run_ids))
    found = {r.id: r for r in store.search_runs(RunQuery(
        conditions=[("attribute", "id", "IN", wanted)], include_children=True))}
    for run_id in wanted:
        if run_id not in found:
            store.get_run(run_id)  # its NotFoundError, as a single read would raise
    counts = {run_id: {name: info.count for name, info in by_name.items()}
              for run_id, by_name in store.get_summaries(wanted, list(metrics)).items()}
    short: dict[tuple[str, str], SeriesData] = {}
    if x in ("step", "index"):
        for metric in dict.fromkeys(metrics):
            ids = [r for r in wanted if counts.get(r, {}).get(metric, 2 * buckets + 1)
                   <= 2 * buckets]
            if ids:
                for run_id, by_name in store.read_all_series(ids, [metric]).items():
                    if metric in by_name:
                        short[run_id, metric] = by_name[metric]
    bulk: dict[tuple[str, str], list[Bucket]] | dict[tuple[str, str], BucketColumns] = {}
    pairs = [(r, m) for r in wanted for m in dict.fromkeys(metrics)
             if m in counts.get(r, {}) and (r, m) not in short]
    if pairs and x in ("step", "index", "time"):
        if isinstance(store, ColumnDownsampler) and numpy_module() is not None:
            bulk = store.downsample_columns(pairs, buckets, x=x, x_min=x_min, x_max=x_max)
        elif isinstance(store, BulkDownsampler):
            bulk = store.downsample_many(pairs, buckets, x=x, x_min=x_min, x_max=x_max)
    traces: list[dict[str, Any]] = []
    missing: list[dict[str, str]] = []
    for run_id in run_ids:
        for metric in metrics:
            if metric not in counts.get(run_id, {}):
                missing.append({"run_id": run_id, "metric": metric})
                continue
            try:
                traces.append(_trace(store, found[run_id], metric, x, buckets, x_min, x_max,
                                     short.get((run_id, metric)), bulk.get((run_id, metric))))
            except NotFoundError:
                missing.append({"run_id": run_id, "metric": metric})
    return {"x": x, "x_min": x_min, "x_max": x_max, "traces": traces, "missing": missing}


def _whole(values: Sequence[float]) -> bool:
    """Whether every value is a whole number that a float (and JavaScript) holds exactly."""
    return max(map(abs, values)) < 2**53 and all(map(float.is_integer, values))


def _quantum(values: Sequence[float]) -> float:
    """The unit x values are written in: 1 for whole numbers, else a power of ten at
    about a millionth of their span (far finer than a pixel)."""
    if _whole(values):
        return 1.0
    span = values[-1] - values[0] if len(values) > 1 else 0.0
    if not span > 0:
        return 1e-6
    return float(10 ** math.floor(math.log10(span / 1e6)))


def _short(values: Sequence[float]) -> list[float | None]:
    """Each value to 5 significant digits (more than a chart or its hover shows);
    non-finite ones as None (``v - v`` is 0 for finite values only)."""
    return [float(f"{v:.5g}") if v - v == 0 else None for v in values]


def compact_trace(trace: dict[str, Any]) -> dict[str, Any]:
    """A trace with ``x`` as ``x0`` + ``xq`` * running sum of ``xd`` (whole numbers) and
    ``y`` rounded to 5 significant digits (non-finite values as null); with numpy
    installed, computed by :mod:`._chart_columns` (the same numbers)."""
    out = {k: v for k, v in trace.items() if k not in ("x", "y")}
    numpy = numpy_module()
    if numpy is not None and trace["x"]:
        found = _chart_columns.compact_x(numpy, numpy.asarray(trace["x"], dtype=numpy.float64))
        if found is not None:
            out.update(x0=found[0], xq=found[1], xd=found[2],
                       y=_chart_columns.short(numpy, trace["y"]))
            return out
    xs: list[float] = [float(v) for v in trace["x"]]
    quantum = _quantum(xs) if xs else 1.0
    first = xs[0] if xs else 0.0
    deltas: list[int]
    if quantum == 1.0 and xs:  # whole numbers (steps, indexes): exact integer steps
        units = list(map(int, xs))
        deltas = [0, *map(int.__sub__, units[1:], units)]
    else:
        deltas = []
        previous = 0
        for value in xs:
            unit = round((value - first) / quantum)
            deltas.append(unit - previous)
            previous = unit
    out.update(x0=first, xq=quantum, xd=deltas, y=_short(trace["y"]))
    return out


def compact(payload: dict[str, Any]) -> dict[str, Any]:
    """The ``format=compact`` form of a :func:`chart_traces` answer."""
    return {**payload, "format": "compact",
            "traces": [compact_trace(t) for t in payload["traces"]]}
