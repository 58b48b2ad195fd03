"""What :class:`RunDetails` shows, collected as plain Python data (no HTML, no widgets).

:class:`Collector` reads through the SDK objects and the two store protocols of the
run's workspace (``workspace.store`` for series and summaries, ``workspace.artifacts``
for log tails); it never touches a database itself. Series are fetched incrementally
between refreshes (only points after the last one seen); long series are downsampled by the store
(per-bucket first/min/max/last, so spikes survive).
"""

from __future__ import annotations

import itertools
import logging
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from runtrack import _ansi, _format
from runtrack._rules import SYSTEM_PREFIX
from runtrack.errors import InvalidTypeError
from runtrack.model import MetricKind, SeriesInfo
from runtrack.sdk import _html
from runtrack.sdk._spooled import flush_run
from runtrack.sdk.experiment import Experiment
from runtrack.sdk.run import Run
from runtrack.widgets._svg import PALETTE

log = logging.getLogger("runtrack")

#: Where a run's main log lives, most specific first (see docs/notebooks.md): the single
#: process log, else rank 0 (of node 0), else the legacy driver log, else the tee of an
#: interactive ``with`` run.
LOG_PATTERNS = (
    re.compile(r"user_logs/std_log\.txt"),
    re.compile(r"user_logs/(node_0+/)?std_log_process_0+\.txt"),
    re.compile(r"user_logs/(node_\d+/)?std_log_process_\d+\.txt"),
    re.compile(r"azureml-logs/70_driver_log(_0+)?\.txt"),
    re.compile(r"azureml-logs/70_driver_log.*\.txt"),
    re.compile(r"logs/user_log\.txt"),
)
LOG_TAIL_BYTES = 128 * 1024
MAX_CHILDREN = 100
MAX_CHART_RUNS = 20
MAX_TABLE_METRICS = 8
MAX_CHARTS = 24


@dataclass
class _Points:
    """Cached raw points of one series: steps (None where not given) and numbers."""

    steps: list[int | None] = field(default_factory=list)
    values: list[float | None] = field(default_factory=list)


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        v = float(value)
        return v if v == v and v not in (float("inf"), float("-inf")) else None
    return None


def resolve(target: object) -> tuple[str, list[Run] | Experiment]:
    """``("run", [run])``, ``("runs", [runs…])`` or ``("experiment", experiment)``."""
    if isinstance(target, Run):
        return "run", [target]
    if isinstance(target, Experiment):
        return "experiment", target
    if isinstance(target, Iterable) and not isinstance(target, (str, bytes, dict)):
        runs = list(target)
        if all(isinstance(r, Run) for r in runs):
            return "runs", runs
    raise InvalidTypeError(
        f"RunDetails needs a Run, a list of runs or an Experiment, got {type(target).__name__}"
        " (an offline run from Run.get_context() outside a submitted run has nothing to show;"
        " use experiment.start_logging() or submit the script)"
    )


class Collector:
    """Builds the widget's data dict; keeps a cache of series between calls.

    ``metrics``: names to chart and to show as table columns (default: every scalar
    metric, at most ``MAX_CHARTS`` charts and ``MAX_TABLE_METRICS`` columns).
    ``log_lines``: how many of the last log lines to keep. ``max_points``: longer
    series are downsampled to about this many points.
    """

    def __init__(
        self,
        target: object,
        *,
        metrics: Sequence[str] | None = None,
        log_lines: int = 60,
        max_points: int = 1000,
        max_runs: int = 50,
    ) -> None:
        self.mode, self._target = resolve(target)
        self.metrics = list(metrics) if metrics is not None else None
        self.log_lines = log_lines
        self.max_points = max(8, max_points)
        self.max_runs = max_runs
        self._cache: dict[tuple[str, str], _Points] = {}
        self._flushed: set[str] = set()  # terminal runs already flushed once
        self.fingerprint: tuple[Any, ...] = ()

    # -- runs ----------------------------------------------------------------------

    def _runs(self) -> list[Run]:
        if isinstance(self._target, Experiment):
            return list(itertools.islice(self._target.get_runs(), self.max_runs))
        return list(self._target)

    def collect(self) -> dict[str, Any]:
        """Fetch everything shown, now. The result is plain data (JSON-serialisable)."""
        now = time.time()
        runs = self._runs()
        for run in runs:
            run.get_status()
        main = runs[0] if self.mode == "run" else None
        children = list(itertools.islice(main.get_children(), MAX_CHILDREN)) if main else []
        chart_runs = ([main] if main else runs) + children
        chart_runs = chart_runs[:MAX_CHART_RUNS]
        colors = {r.id: PALETTE[i % len(PALETTE)] for i, r in enumerate(chart_runs)}
        for run in chart_runs:
            if not run.info.status.is_terminal or run.id not in self._flushed:
                _flush(run.id)
        summaries = _summaries([*runs, *children])

        charts = self._charts(chart_runs, summaries, colors)
        table_runs = children if main else runs
        columns = self._columns(table_runs, summaries)
        data: dict[str, Any] = {
            "mode": self.mode,
            "title": self._title(main, runs),
            "generated_at": now,
            "active": any(not r.info.status.is_terminal for r in [*runs, *children]),
            "run": _entry(main, now, colors.get(main.id)) if main else None,
            "runs": [_entry(r, now, colors.get(r.id)) for r in runs],
            "children": [_entry(c, now, colors.get(c.id)) for c in children],
            "columns": columns,
            "metrics": {r.id: _last_values(summaries.get(r.id, {}), columns) for r in table_runs},
            "charts": charts,
            "values": _values(summaries.get(main.id, {}), {c["name"] for c in charts})
            if main
            else {},
            "log": self._log(main) if main else None,
            "url": _html.run_url(main) if main else None,
        }
        self.fingerprint = (
            tuple((r.id, r.status) for r in [*runs, *children]),
            tuple(
                sorted((rid, n, s.count) for rid, row in summaries.items() for n, s in row.items())
            ),
            data["log"]["size"] if data["log"] else None,
        )
        for run in chart_runs:
            if run.info.status.is_terminal:
                self._flushed.add(run.id)
        return data

    def _title(self, main: Run | None, runs: list[Run]) -> str:
        if main is not None:
            return f"{main.experiment.name} · {main.display_name}"
        if isinstance(self._target, Experiment):
            return f"{self._target.name} · {_count(len(runs))}"
        names = sorted({r.experiment.name for r in runs})
        return f"{', '.join(names) or 'no runs'} · {_count(len(runs))}"

    # -- metrics -------------------------------------------------------------------

    def _wanted(self, names: Iterable[str]) -> list[str]:
        ordered = list(dict.fromkeys(names))
        if self.metrics is None:
            return ordered
        return [m for m in self.metrics if m in ordered]

    def _charts(
        self,
        runs: list[Run],
        summaries: dict[str, dict[str, SeriesInfo]],
        colors: dict[str, str],
    ) -> list[dict[str, Any]]:
        scalar = [
            n
            for r in runs
            for n, s in summaries.get(r.id, {}).items()
            if s.kind is MetricKind.SCALAR and s.count > 1
        ]
        charts = []
        for name in self._wanted(scalar)[:MAX_CHARTS]:
            series: list[dict[str, Any]] = []
            use_steps = True
            for run in runs:
                info = summaries.get(run.id, {}).get(name)
                if info is None or info.kind is not MetricKind.SCALAR or info.count == 0:
                    continue
                xs, ys, by_step, sampled = self._points(run, info)
                if not ys:
                    continue
                use_steps = use_steps and by_step
                series.append(
                    {
                        "run_id": run.id,
                        "label": _label(run),
                        "color": colors.get(run.id, PALETTE[0]),
                        "x": xs,
                        "y": ys,
                        "count": info.count,
                        "last": _number(info.last_value),
                        "downsampled": sampled,
                    }
                )
            if any(len(s["y"]) > 1 for s in series):
                charts.append(
                    {"name": name, "x": "step" if use_steps else "index", "series": series}
                )
        return charts

    def _points(self, run: Run, info: SeriesInfo) -> tuple[list[float], list[float], bool, bool]:
        """(xs, ys, x is step, downsampled) of one scalar series, numeric points only."""
        store = run.experiment.workspace.store
        if info.count > self.max_points:
            x = "step" if info.last_step is not None else "index"
            try:
                buckets = store.downsample(run.id, info.name, self.max_points // 4, x=x)
            except Exception:  # e.g. a series with steps on only some points
                x = "index"
                buckets = store.downsample(run.id, info.name, self.max_points // 4, x=x)
            xs: list[float] = []
            ys: list[float] = []
            for b in buckets:
                mid = (b.x_start + b.x_end) / 2
                lo_first = b.first <= b.last
                for px, py in (
                    (b.x_start, b.first),
                    (mid, b.minimum if lo_first else b.maximum),
                    (mid, b.maximum if lo_first else b.minimum),
                    (b.x_end, b.last),
                ):
                    xs.append(float(px))
                    ys.append(float(py))
            return xs, ys, x == "step", True
        key = (run.id, info.name)
        cached = self._cache.setdefault(key, _Points())
        if len(cached.values) > info.count:  # should not happen; start over
            cached = self._cache[key] = _Points()
        if len(cached.values) < info.count:
            data = store.read_series(run.id, info.name, len(cached.values))
            cached.steps.extend(data.steps)
            cached.values.extend(_number(v) for v in data.values)
        by_step = all(s is not None for s in cached.steps)
        xs, ys = [], []
        for i, (step, value) in enumerate(zip(cached.steps, cached.values, strict=False)):
            if value is not None:
                xs.append(float(step) if by_step and step is not None else float(i))
                ys.append(value)
        return xs, ys, by_step, False

    def _columns(self, runs: list[Run], summaries: dict[str, dict[str, SeriesInfo]]) -> list[str]:
        names = [
            n
            for r in runs
            for n, s in summaries.get(r.id, {}).items()
            if s.kind is MetricKind.SCALAR
        ]
        return self._wanted(names)[:MAX_TABLE_METRICS]

    # -- log -----------------------------------------------------------------------

    def _log(self, run: Run) -> dict[str, Any]:
        files = {a.path: a.size for a in run.experiment.workspace.artifacts.list(run.id)}
        path = _pick_log(files)
        status = run.info.status
        out: dict[str, Any] = {
            "path": path,
            "size": files.get(path, 0) if path else 0,
            "lines": [],
            "html": "",
            "truncated": False,
            "message": None,
        }
        if path is None:
            out["message"] = (
                "No log file yet; waiting for the run to write one…"
                if not status.is_terminal
                else "This run has no log file."
            )
            return out
        size = files[path]
        offset = max(0, size - LOG_TAIL_BYTES)
        raw = run.experiment.workspace.artifacts.read_range(run.id, path, offset, size - offset)
        text = raw.decode("utf-8", "replace")
        if offset > 0:
            text = text.split("\n", 1)[1] if "\n" in text else ""
        screen = _ansi.Screen()
        screen.feed(text)
        lines = screen.plain_lines()
        out["truncated"] = offset > 0 or len(lines) > self.log_lines
        out["lines"] = lines[-self.log_lines :] if self.log_lines > 0 else []
        out["html"] = "\n".join(screen.html_lines(self.log_lines))
        return out


def _pick_log(files: Iterable[str]) -> str | None:
    """The main log among ``files`` (artifact paths), by ``LOG_PATTERNS``; None if none."""
    paths = sorted(files)
    for pattern in LOG_PATTERNS:
        for path in paths:
            if pattern.fullmatch(path):
                return path
    return None


def _flush(run_id: str) -> None:
    """Make what this process logged to the run readable (briefly; never raises)."""
    try:
        flush_run(run_id, 5.0)
    except Exception as exc:
        log.debug("runtrack: widget could not flush run %s: %s", run_id, exc)


def _count(n: int) -> str:
    return f"{n} run" if n == 1 else f"{n} runs"


def _label(run: Run) -> str:
    return f"#{run.number} {run.display_name}"


def _entry(run: Run, now: float, color: str | None) -> dict[str, Any]:
    info = run.info
    seconds = _format.run_seconds(info, now)
    return {
        "id": run.id,
        "name": info.display_name,
        "label": _label(run),
        "number": info.number,
        "experiment": info.experiment_name,
        "type": info.run_type,
        "status": info.status.value,
        "created": info.created_time,
        "started": info.start_time,
        "ended": info.end_time if info.status.is_terminal else None,
        "duration_s": seconds,
        "duration": _format.duration_text(seconds),
        "target": info.compute_target,
        "parent_id": info.parent_id,
        "error": info.error.message if info.error else None,
        "url": _html.run_url(run),
        "color": color,
    }


def _summaries(runs: list[Run]) -> dict[str, dict[str, SeriesInfo]]:
    """Summaries of every run, one store call per workspace (system metrics, ``sys/…``,
    left out as ``get_metrics()`` leaves them out)."""
    groups: dict[int, tuple[Any, list[str]]] = {}
    for run in runs:
        store = run.experiment.workspace.store
        groups.setdefault(id(store), (store, []))[1].append(run.id)
    out: dict[str, dict[str, SeriesInfo]] = {}
    for store, ids in groups.values():
        for run_id, by_name in store.get_summaries(list(dict.fromkeys(ids))).items():
            out[run_id] = {n: s for n, s in by_name.items() if not n.startswith(SYSTEM_PREFIX)}
    return out


def _last_values(series: dict[str, SeriesInfo], names: list[str]) -> dict[str, Any]:
    return {n: series[n].last_value if n in series else None for n in names}


def _values(series: dict[str, SeriesInfo], charted: set[str]) -> dict[str, Any]:
    """Metrics of the run not drawn as a chart: single values and non-scalar kinds."""
    out: dict[str, Any] = {}
    for name, info in series.items():
        if name in charted:
            continue
        if info.kind is MetricKind.SCALAR:
            out[name] = info.last_value if info.count == 1 else f"{info.count} values"
        elif info.kind is MetricKind.LIST:
            out[name] = f"list of {info.count}"
        elif info.kind is MetricKind.TABLE:
            out[name] = f"table, {info.count} rows x {len(info.columns)} columns"
        else:
            out[name] = info.kind.value.replace("_", " ")
    return out
