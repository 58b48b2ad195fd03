"""The chart route's numpy paths give exactly what the pure-Python ones give: the
store's bucket columns, the points drawn through buckets, compact x and 5-digit y."""

from __future__ import annotations

import asyncio
import json
import math
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from runtrack.model import MetricBatch, NewRun, RunStatus
from runtrack.server.api import _chart_columns, _chart_data
from runtrack.server.api._chart_data import chart_traces, compact
from runtrack.server.app import create_app
from runtrack.server.settings import ServerSettings
from runtrack.store.bucket_columns import BucketColumns, ColumnDownsampler, numpy_module
from runtrack.store.sql import SqlStore, ingest

np = pytest.importorskip("numpy")


def _awkward_floats(rng: random.Random, n: int) -> list[float]:
    """Values that stress 5-digit rounding: ties, powers of ten, tiny, huge, signed."""
    pool = [0.0, -0.0, 1.0, 10.0, 1e5, 99999.5, 999995.0, 1.23455, 0.000123455, 2.5e-7,
            1e-300, 5e-324, 1e300, -1.7976931348623157e308, 123456789.0, 0.1, 1 / 3]
    out = []
    for _ in range(n):
        kind = rng.random()
        if kind < 0.3:
            out.append(rng.choice(pool) * rng.choice([1, -1]))
        elif kind < 0.4:
            # a 5-digit decimal and a half: a tie in decimal, near one in binary
            out.append(float(f"{rng.randint(10000, 99999)}5e{rng.randint(-30, 30)}"))
        else:
            out.append(rng.uniform(-1, 1) * 10 ** rng.uniform(-40, 40))
    return out


@pytest.mark.parametrize("seed", range(5))
def test_short_rounds_as_python_formats(seed: int) -> None:
    rng = random.Random(seed)
    values = [*_awkward_floats(rng, 3000), math.nan, math.inf, -math.inf]
    rng.shuffle(values)
    got = _chart_columns.short(np, values)
    want = _chart_data._short(values)
    assert json.dumps(got) == json.dumps(want)


def _random_x(rng: random.Random, n: int) -> list[float]:
    kind = rng.choice(["steps", "time", "fraction", "duplicates", "one"])
    if kind == "one":
        return [rng.uniform(-1e9, 1e9)]
    if kind == "steps":
        return [float(s) for s in sorted(rng.sample(range(10**7), n))]
    if kind == "duplicates":
        return sorted(float(rng.randint(0, 20)) for _ in range(n))
    if kind == "time":
        start = 1.7e9 + rng.random()
        return [start + i * rng.uniform(0.001, 5) for i in range(n)]
    return sorted(rng.uniform(-3, 3) for _ in range(n))


@pytest.mark.parametrize("seed", range(8))
def test_compact_x_matches_the_python_form(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(40):
        xs = _random_x(rng, rng.randint(1, 300))
        trace = {"x": xs, "y": [0.0] * len(xs)}
        found = _chart_columns.compact_x(np, np.asarray(xs, dtype=np.float64))
        assert found is not None
        with_numpy = compact(_payload(trace))["traces"][0]
        without = _without_numpy(lambda t=trace: compact(_payload(t))["traces"][0])  # type: ignore[misc]
        assert (with_numpy["x0"], with_numpy["xq"], with_numpy["xd"]) == found
        assert json.dumps(with_numpy) == json.dumps(without)


def test_compact_x_leaves_non_finite_x_to_python() -> None:
    assert _chart_columns.compact_x(np, np.asarray([1.0, math.inf])) is None
    # x out of order, far from the first beyond a span's quantum: int64 cannot hold it
    assert _chart_columns.compact_x(np, np.asarray([0.5, 1e300, 0.501])) is None


def _payload(trace: dict[str, Any]) -> dict[str, Any]:
    return {"traces": [trace]}


def _without_numpy(call: Any) -> Any:
    """``call()`` with the chart code's pure-Python paths (as without numpy)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_chart_data, "numpy_module", lambda: None)
        return call()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SqlStore]:
    monkeypatch.setattr(ingest, "TARGET_CHUNK", 64)  # many chunks: whole and cut ones
    sql_store = SqlStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    yield sql_store
    sql_store.close()


def _fill(store: SqlStore, rng: random.Random) -> list[str]:
    """Runs whose series have NaN and ±inf, ints, duplicate and unordered steps, points
    without steps, a single point, and no numeric point at all."""
    exp = store.get_or_create_experiment("columns")
    ids = []
    for r in range(4):
        run_id = f"run-{r}"
        store.create_run(NewRun(exp.id, run_id, display_name=run_id, run_type="script",
                         status=RunStatus.COMPLETED))
        records: list[Any] = []
        n = [1, 60, 400, 1500][r]
        for i in range(n):
            t = 1000.0 + i * rng.choice([0.5, 1.0, 1.0, -0.25])
            value: Any = math.sin(i / 40) + rng.gauss(0, 0.1)
            if rng.random() < 0.02:
                value = rng.choice([math.nan, math.inf, -math.inf, "text", True])
            records.append(("floats", "scalar", i if r % 2 else i // 3, t, value))
            records.append(("ints", "scalar", rng.randint(0, 2 * n), t, rng.randint(-9, 9)))
            records.append(("nosteps", "scalar", None if i % 5 else i, t, float(i % 13)))
        records.append(("one", "scalar", 4, 1000.0, 2.5))
        records.append(("empty", "scalar", 0, 1000.0, math.nan))
        store.ingest(run_id, MetricBatch("s", 0, records))
        ids.append(run_id)
    return ids


METRICS = ["floats", "ints", "nosteps", "one", "empty", "absent"]


@pytest.mark.parametrize("seed", range(2))
def test_bucket_columns_are_the_buckets(store: SqlStore, seed: int) -> None:
    rng = random.Random(seed)
    ids = _fill(store, rng)
    assert isinstance(store, ColumnDownsampler) and numpy_module() is not None
    pairs = [(r, m) for r in ids for m in METRICS]
    for x in ("index", "step", "time"):
        for buckets in (1, 3, 120, 1000):
            for x_min, x_max in ((None, None), (10.0, 400.0), (1000.5, 1100.0)):
                lists = store.downsample_many(pairs, buckets, x=x, x_min=x_min, x_max=x_max)
                columns = store.downsample_columns(pairs, buckets, x=x, x_min=x_min,
                                                   x_max=x_max)
                assert set(columns) == set(lists)
                for pair, found in columns.items():
                    assert isinstance(found, BucketColumns)
                    assert found.buckets() == lists[pair], (pair, x, buckets, x_min)


@pytest.mark.parametrize("seed", range(2))
def test_chart_answers_are_the_same_with_and_without_numpy(store: SqlStore, seed: int) -> None:
    rng = random.Random(seed)
    ids = _fill(store, rng)
    for x in ("step", "index", "time", "relative"):
        for buckets in (1, 120, 400):
            for x_min, x_max in ((None, None), (3.0, 250.0)):
                if x == "relative" and x_min is not None:
                    x_min, x_max = -600.0, 100.0
                kwargs = dict(x=x, buckets=buckets, x_min=x_min, x_max=x_max)
                full = chart_traces(store, ids, METRICS, **kwargs)  # type: ignore[arg-type]
                reference = _without_numpy(lambda k=kwargs: chart_traces(store, ids, METRICS, **k))
                assert json.dumps(full) == json.dumps(reference), (x, buckets, x_min)
                assert json.dumps(compact(full)) == json.dumps(
                    _without_numpy(lambda f=full: compact(f)))


def test_the_compact_answer_is_the_same_json_with_either_encoder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws_store = SqlStore(f"sqlite:///{tmp_path / 'ws' / 'runtrack.db'}")
    (tmp_path / "ws").mkdir(exist_ok=True)
    ids = _fill(ws_store, random.Random(3))
    ws_store.close()
    app = create_app(ServerSettings.for_uri(str(tmp_path / "ws")))
    query: list[tuple[str, str | int | float | bool | None]] = [("run", r) for r in ids]
    query += [("metric", m) for m in METRICS] + [("buckets", 120), ("format", "compact")]

    async def get() -> bytes:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            answer = await c.get("/api/v1/views/chart", params=query)
            answer.raise_for_status()
            return answer.content

    try:
        fast = asyncio.run(get())
        monkeypatch.setitem(sys.modules, "orjson", None)  # as if not installed
        standard = asyncio.run(get())
    finally:
        app.state.store.close()
    assert json.loads(fast) == json.loads(standard)
    assert json.loads(standard)["traces"][0]["xd"]
