"""SqlStore's packed chunks against a brute-force model, with tiny chunks so every
merge and boundary case (step ranges, missing steps, type changes, NaN) is crossed."""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runtrack.model import MetricBatch, NewRun, RunStatus
from runtrack.store.sql import SqlStore, codec, ingest
from tests.store.contract import same


@pytest.fixture(params=[True, False], ids=["numpy", "pure-python"])
def store(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SqlStore]:
    monkeypatch.setattr(ingest, "TARGET_CHUNK", 64)
    if not request.param:
        monkeypatch.setattr(codec, "optional_numpy", lambda: None)
    sql_store = SqlStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    exp = sql_store.get_or_create_experiment("e")
    sql_store.create_run(NewRun(exp.id, "r", display_name="r", run_type="script",
                         status=RunStatus.RUNNING))
    yield sql_store
    sql_store.close()


def _random_points(rng: random.Random, n: int, step0: int, pattern: str) -> list[Any]:
    values: list[Any]
    if pattern == "float":
        values = [rng.uniform(-100, 100) for _ in range(n)]
        if rng.random() < 0.3:
            values[rng.randrange(n)] = math.nan
    elif pattern == "int":
        values = [rng.randint(-(2**40), 2**40) for _ in range(n)]
    else:
        pool: list[Any] = [1.5, 7, True, "s", None, math.nan, -math.inf, "t"]
        values = [rng.choice(pool) for _ in range(n)]
    step_mode = rng.choice(["range", "none", "sparse", "jumpy"])
    if step_mode == "range":
        steps: list[Any] = list(range(step0, step0 + n))
    elif step_mode == "none":
        steps = [None] * n
    elif step_mode == "sparse":
        steps = [step0 + i if rng.random() < 0.5 else None for i in range(n)]
    else:
        steps = [step0 + rng.randint(0, 3 * n) for _ in range(n)]
    return [(s, v) for s, v in zip(steps, values, strict=True)]


def _reference_buckets(
    xs: list[float], vs: list[Any], buckets: int, low: float, high: float
) -> list[tuple[Any, ...]]:
    width = (high - low) / buckets
    edges = [low + k * width for k in range(1, buckets)]
    acc: dict[int, list[Any]] = {}
    for x, v in zip(xs, vs, strict=True):
        if type(v) not in (int, float) or v != v or not low <= x <= high:
            continue
        k = bisect_right(edges, x)
        a = acc.setdefault(k, [0, float(v), 0.0, math.inf, -math.inf, x, x])
        a[0] += 1
        a[2] = float(v)
        a[3], a[4] = min(a[3], v), max(a[4], v)
        a[5], a[6] = min(a[5], x), max(a[6], x)
    return [
        (float(a[5]), float(a[6]), a[0], a[1], a[2], float(a[3]), float(a[4]))
        for _, a in sorted(acc.items())
    ]


@pytest.mark.parametrize("seed", range(6))
def test_random_series_match_a_brute_force_model(store: SqlStore, seed: int) -> None:
    rng = random.Random(seed)
    steps: list[Any] = []
    times: list[float] = []
    values: list[Any] = []
    seq = 0
    for _ in range(25):
        n = rng.choice([1, 3, 17, 64, 65, 150])
        pattern = rng.choice(["float", "float", "int", "mixed"])
        batch = _random_points(rng, n, len(values), pattern)
        records = []
        for s, v in batch:
            t = 1000.0 + len(times) + rng.choice([0.0, 0.0, 0.5, -3.0])
            records.append(("m", "scalar", s, t, v))
            steps.append(s)
            times.append(t)
            values.append(v)
        seq = store.ingest("r", MetricBatch("s", seq, records))
    data = store.read_series("r", "m")
    assert same(data.values, values) and data.steps == steps and data.times == times
    for _ in range(10):
        a = rng.randrange(len(values))
        b = rng.randrange(a, len(values) + 5)
        part = store.read_series("r", "m", a, b)
        assert same(part.values, values[a:b]) and part.steps == steps[a:b]
        assert part.times == times[a:b]
    modes: dict[str, list[Any]] = {
        "index": list(range(len(values))), "time": times, "step": steps,
    }
    for x, xs in modes.items():
        keep = [(px, v) for px, v in zip(xs, values, strict=True) if px is not None]
        numeric = [px for px, v in keep if type(v) in (int, float) and v == v]
        for buckets in (1, 7, 50, 5000):
            low, high = min(numeric), max(numeric)
            if x == "time":
                low = min(px for px, v in keep)  # chunk extents bound the default range
                high = max(px for px, v in keep)
            if rng.random() < 0.5:
                low, high = rng.uniform(low, high), high
            got = store.downsample("r", "m", buckets, x=x, x_min=low, x_max=high)
            want = _reference_buckets([p for p, _ in keep], [v for _, v in keep], buckets,
                                      low, high)
            assert [tuple(vars(b).values()) for b in got] == want, (x, buckets)
            columns = store.downsample_columns([("r", "m")], buckets, x=x, x_min=low,
                                               x_max=high)[("r", "m")]  # numpy
            assert [tuple(vars(b).values()) for b in columns.buckets()] == want, (x, buckets)
