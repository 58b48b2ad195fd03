"""The TrackingStore contract against MemoryStore, and what only the memory store has:
named stores shared within a process, the ``memory://`` URI and its workspace."""

from __future__ import annotations

import math
import random
import uuid
from array import array
from pathlib import Path
from typing import Any

import pytest

from runtrack.errors import NotFoundError
from runtrack.model import MetricBatch, NewRun, Record, RunQuery, RunStatus
from runtrack.store.base import (
    LogSearchStore,
    RunRestater,
    SeriesValuesReader,
    ServesArtifacts,
    TrackingStore,
)
from runtrack.store.memory import MemoryStore
from runtrack.store.sql import SqlStore
from tests.store.contract import TrackingStoreContract, same


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


class TestMemoryStore(TrackingStoreContract):
    pass


def test_memory_store_extensions() -> None:
    store = MemoryStore()
    for offered in (TrackingStore, RunRestater, SeriesValuesReader):
        assert isinstance(store, offered), offered.__name__
    for absent in (LogSearchStore, ServesArtifacts):
        assert not isinstance(store, absent), absent.__name__


@pytest.mark.parametrize(
    "values, encoding",
    [([0.5, math.nan, -1e300], "f"), ([1, -(2**63), 2**63 - 1], "i"), ([True, False], "b"),
     ([1, 2.5], None), (["a"], None), ([None], None)],
)
def test_packed_values_match_sqlstore(values: list[Any], encoding: str | None,
                                      tmp_path: Path) -> None:
    sql = SqlStore(f"sqlite:///{tmp_path / 'rt.db'}")
    try:
        memory = MemoryStore()
        for store in (sql, memory):
            exp = store.get_or_create_experiment("e")
            store.create_run(NewRun(exp.id, "r", display_name="r", run_type="script"))
            store.ingest("r", MetricBatch("s", 0, [("m", "scalar", None, 1.0, v) for v in values]))
        got = memory.read_series_values("r", "m")
        assert got == sql.read_series_values("r", "m") and (got is None) is (encoding is None)
        # a part: SqlStore packs per stored chunk (None when the range holds a chunk of
        # other encodings); the memory store packs whenever the values allow it
        part = memory.read_series_values("r", "m", 1)
        if part is not None:
            unpacked: list[Any] = array({"f": "d", "i": "q", "b": "b"}[part[0]], part[1]).tolist()
            if part[0] == "b":
                unpacked = [bool(v) for v in unpacked]
            assert same(unpacked, values[1:])
            expected = sql.read_series_values("r", "m", 1)
            assert expected is None or expected == part
        assert memory.read_series_values("r", "m", 5, 9) == ("f", b"")
        assert memory.read_series_values("r", "m", 2, 1) is None
        with pytest.raises(NotFoundError):
            memory.read_series_values("r", "missing")
    finally:
        sql.close()


def test_memory_uris_open_fresh_or_named_stores() -> None:
    from runtrack.config import parse_uri
    from runtrack.store import open_store

    assert parse_uri("memory://").kind == "memory" and parse_uri("memory://x").kind == "memory"
    first, second = open_store("memory://"), open_store("memory://")
    assert isinstance(first, MemoryStore) and isinstance(second, MemoryStore)
    first.get_or_create_experiment("only-in-first")
    assert second.list_experiments() == []
    name = f"memory://shared-{uuid.uuid4().hex}"
    writer, reader = open_store(name), open_store(name)
    exp = writer.get_or_create_experiment("e")
    writer.create_run(NewRun(exp.id, "r1", display_name="r1", run_type="script"))
    writer.close()
    assert reader.get_run("r1").experiment_name == "e"


def test_memory_workspace_logs_and_reads_back() -> None:
    from runtrack import Experiment, Workspace

    ws = Workspace("memory://")
    assert ws.tracking_uri.startswith("memory://") and ws.tracking_uri != "memory://"
    run = Experiment(ws, "scratch").start_logging(snapshot_directory=None)
    for step in range(3):
        run.log("loss", 1.0 / (step + 1), step=step)
    ws.artifacts.put(run.id, "outputs/note.txt", b"hi")
    run.complete()
    assert run.get_metrics() == {"loss": [1.0, 0.5, 1.0 / 3]}
    again = Workspace(ws.tracking_uri)  # the same name: the same store and files
    assert [r.id for r in Experiment(again, "scratch").get_runs()] == [run.id]
    assert [a.path for a in again.artifacts.list(run.id)] == ["outputs/note.txt"]
    other = Workspace("memory://")  # a new memory workspace starts empty
    assert other.store.list_experiments() == [] and other.tracking_uri != ws.tracking_uri


# -- the memory store agrees with SqlStore where the contract leaves room ---------------------


def _mixed_series(rnd: random.Random, n: int, mode: int) -> list[Record]:
    values: list[Any] = []
    for _ in range(n):
        pick = rnd.random()
        if mode == 0 or pick < 0.7:
            values.append(rnd.uniform(-5, 5))
        elif pick < 0.8:
            values.append(rnd.randint(-9, 9))
        else:
            values.append(rnd.choice([math.nan, "s", True, None]))
    if mode == 2:  # steps out of order
        steps: list[int | None] = [rnd.randint(0, 500) for _ in range(n)]
    else:
        steps = [None if mode == 3 and rnd.random() < 0.1 else i * 3 for i in range(n)]
    return [("m", "scalar", s, 1000.0 + i / 2, v)
            for i, (s, v) in enumerate(zip(steps, values, strict=True))]


@pytest.mark.parametrize("seed", range(8))
def test_summaries_and_downsampling_match_sqlstore(seed: int, tmp_path: Path) -> None:
    rnd = random.Random(seed)
    mode = seed % 4
    records = _mixed_series(rnd, rnd.randint(1, 300), mode)
    sql, memory = SqlStore(f"sqlite:///{tmp_path / 'rt.db'}"), MemoryStore()
    try:
        for store in (sql, memory):
            exp = store.get_or_create_experiment("e")
            store.create_run(NewRun(exp.id, "r", display_name="r", run_type="script"))
        position = 0
        while position < len(records):
            size = rnd.randint(1, 80)
            for store in (sql, memory):
                store.ingest("r", MetricBatch("s", position, records[position:position + size]))
            position += size
        assert repr(memory.list_series("r")) == repr(sql.list_series("r"))  # NaN-safe
        assert repr(memory.read_series("r", "m", 5, 50)) == repr(sql.read_series("r", "m", 5, 50))
        for x in ("index", "step", "time"):
            for buckets in (1, 3, 17, 1000):
                # bucket edges: SqlStore spans its chunks, which may begin or end with
                # values that are not numbers; with only numbers, or a range, they agree
                ranges = [(10.0, 200.0)] + ([(None, None)] if mode == 0 else [])
                for low, high in ranges:
                    assert memory.downsample("r", "m", buckets, x=x, x_min=low, x_max=high) == (
                        sql.downsample("r", "m", buckets, x=x, x_min=low, x_max=high)
                    ), (x, buckets, low, high)
    finally:
        sql.close()


def test_search_matches_sqlstore(tmp_path: Path) -> None:
    rnd = random.Random(7)
    sql, memory = SqlStore(f"sqlite:///{tmp_path / 'rt.db'}"), MemoryStore()
    try:
        for i in range(30):
            status = rnd.choice([RunStatus.RUNNING, RunStatus.COMPLETED, RunStatus.FAILED])
            tags = {k: rnd.choice(["a", "B", "ab", None]) for k in ("t", "u") if rnd.random() < 0.7}
            parent = f"r{rnd.randrange(i)}" if i and rnd.random() < 0.2 else None
            points: list[Record] = [("acc", "scalar", j, 1.0 + j,
                                     rnd.choice([0.1, 0.5, 0.9, math.nan])) for j in range(3)]
            for store in (sql, memory):
                exp = store.get_or_create_experiment("x" if i % 3 else "y")
                store.create_run(NewRun(exp.id, f"r{i}", display_name=f"run {i % 7}",
                                        run_type="script", tags=tags, parent_id=parent,
                                        properties={"p": str(i % 3)}))
                if i % 4:
                    store.ingest(f"r{i}", MetricBatch("s", 0, points))
                if status is not RunStatus.RUNNING:
                    store.set_status(f"r{i}", status)
        queries = [
            RunQuery(include_children=True, order_by=[("display_name", False)]),
            RunQuery(order_by=[("metric:acc:last", True), ("number", False)], limit=7, offset=2),
            RunQuery(order_by=[("metric:acc:top", False)], include_children=True),
            RunQuery(tags={"t": None}, order_by=[("status", True), ("display_name", True)]),
            RunQuery(tags={"t": "a"}, metric_filters=[("acc", "max", ">=", 0.5)]),
            RunQuery(properties={"p": "1"}, status=[RunStatus.COMPLETED, RunStatus.FAILED]),
            RunQuery(conditions=[("tag", "t", "LIKE", "a%")], include_children=True),
            RunQuery(conditions=[("tag", "t", "ILIKE", "b")]),
            RunQuery(conditions=[("tag", "u", "IS NULL", None), ("property", "p", "!=", "0")]),
            RunQuery(conditions=[("attribute", "display_name", "NOT IN", ["run 1", "run 2"])]),
            RunQuery(conditions=[("attribute", "end_time", "IS NOT NULL", None)],
                     order_by=[("end_time", False)]),
            RunQuery(parent_id="r3"),
        ]
        for query in queries:
            got = [r.id for r in memory.search_runs(query)]
            assert got == [r.id for r in sql.search_runs(query)], query
            assert memory.count_runs(query) == sql.count_runs(query), query
    finally:
        sql.close()
