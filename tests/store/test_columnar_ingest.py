"""The columnar (numpy) ingest path stores exactly what the record path stores.

The same random spool is shipped twice, once decoded into columns and once into
records, each into its own SQLite file with small chunks; the chunk rows, series
summaries and read-backs must be identical. Batches are cut at random sizes and
partly resent, so the skip-already-applied path is crossed too.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from runtrack.model import POINT_FLOAT, POINT_INT, MetricBatch, NewRun, PointColumns, RunStatus
from runtrack.spool import record as R
from runtrack.spool.reader import Position, SpoolReader
from runtrack.spool.writer import SpoolWriter
from runtrack.store.sql import SqlStore, codec, ingest
from runtrack.store.sql.schema import chunks, ingest_cursors, series

pytest.importorskip("numpy")


def _value(rng: random.Random, style: str) -> Any:
    if style == "float":
        return rng.choice([rng.uniform(-1e6, 1e6), math.nan, math.inf, -0.0, 1.5])
    if style == "int":
        return rng.choice([rng.randint(-(2**63), 2**63 - 1), rng.randint(-5, 5)])
    return rng.choice([rng.uniform(0, 1), rng.randint(0, 9), "text", None, True, False])


def _write_spool(folder: Path, rng: random.Random) -> int:
    w = SpoolWriter(folder, "s", segment_size=64 * 1024)
    styles = {f"m{k}": rng.choice(["float", "int", "mixed"]) for k in range(6)}
    ids = {name: w.intern(name, "scalar") for name in styles}
    lists = w.intern("hist", "list")
    table = w.intern("rows", "table")
    step_mode = {name: rng.choice(["range", "none", "random", "mixed"]) for name in styles}
    counters = dict.fromkeys(styles, 0)
    for i in range(rng.randint(200, 2500)):
        roll = rng.random()
        if roll < 0.03:
            w.write_many(lists, R.NO_STEP, 100.0 + i, [rng.uniform(0, 1) for _ in range(5)])
            continue
        if roll < 0.05:
            w.write_many(table, R.NO_STEP, 100.0 + i, [{"x": i, "y": rng.choice([1.5, "a"])}])
            continue
        if roll < 0.06:
            w.write_many(lists, 3, 100.0 + i, [1, "two", None])
            continue
        name = rng.choice(list(styles))
        mode = step_mode[name]
        counters[name] += 1
        step = {
            "range": counters[name],
            "none": R.NO_STEP,
            "random": rng.randint(-50, 50),
            "mixed": rng.choice([R.NO_STEP, counters[name]]),
        }[mode]
        value = _value(rng, styles[name])
        when = 100.0 + i + rng.choice([0.0, -0.5])
        if type(value) is float:
            w.write_float(ids[name], step, when, value)
        elif type(value) is int:
            w.write_int(ids[name], step, when, value)
        else:
            w.write_json(ids[name], step, when, value)
    w.close()
    return w.seq


def _ship(store: SqlStore, folder: Path, columnar: bool, rng: random.Random) -> None:
    position = Position()
    while True:
        reader = SpoolReader(folder, "s", position, columnar=columnar)
        chunk = reader.read(rng.randint(1, 400))
        reader.close()
        if not len(chunk.records) and (reader.finished or chunk.end == position):
            return
        if columnar:
            assert chunk.columns is not None or not len(chunk.records)
        batch = (
            MetricBatch.from_columns("s", chunk.first_seq, chunk.columns, chunk.descriptions)
            if chunk.columns is not None
            else MetricBatch("s", chunk.first_seq, list(chunk.records), chunk.descriptions)
        )
        store.ingest("r", batch)
        if rng.random() < 0.2:
            store.ingest("r", batch)  # a resend is skipped
        position = chunk.end


def _dump(store: SqlStore) -> tuple[list[Any], list[Any], list[Any]]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(chunks).order_by(chunks.c.series_id, chunks.c.chunk_no)).all()
        summary = conn.execute(select(series).order_by(series.c.id)).all()
        cursor = conn.execute(select(ingest_cursors)).all()
    return [tuple(r) for r in rows], [tuple(r) for r in summary], [tuple(r) for r in cursor]


def _same_rows(a: list[Any], b: list[Any]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert len(x) == len(y)
        for u, v in zip(x, y, strict=True):
            assert u == v or (isinstance(u, float) and math.isnan(u) and math.isnan(v)), (x, y)


@pytest.mark.parametrize("seed", range(6))
def test_columnar_and_record_ingest_store_the_same(
    seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader_scan: str,
    batch_split: str,
) -> None:
    monkeypatch.setattr(ingest, "TARGET_CHUNK", 50)
    rng = random.Random(seed)
    total = _write_spool(tmp_path / "spool", rng)
    dumps = []
    for columnar in (True, False):
        store = SqlStore(f"sqlite:///{tmp_path / f'db-{columnar}.sqlite'}")
        exp = store.get_or_create_experiment("e")
        store.create_run(NewRun(exp.id, "r", display_name="r", run_type="script",
                         status=RunStatus.RUNNING))
        _ship(store, tmp_path / "spool", columnar, random.Random(seed + 1000))
        assert store.ingest_position("r", "s") == total
        dumps.append(_dump(store))
        store.close()
    (chunks_a, series_a, cursor_a), (chunks_b, series_b, cursor_b) = dumps
    _same_rows(chunks_a, chunks_b)
    _same_rows(series_a, series_b)
    assert cursor_a == cursor_b


def test_column_records_materialise_lazily_and_match(tmp_path: Path) -> None:
    w = SpoolWriter(tmp_path, "s")
    a, b = w.intern("a", "scalar"), w.intern("b", "list")
    w.write_float(a, 1, 10.0, 0.5)
    w.write_int(a, R.NO_STEP, 11.0, -(2**63))
    w.write_json(a, 2, 12.0, "x")
    w.write_many(b, R.NO_STEP, 13.0, [1.0, 2.0])
    w.close()
    columnar = SpoolReader(tmp_path, "s", columnar=True).read()
    plain = SpoolReader(tmp_path, "s", columnar=False).read()
    assert isinstance(columnar.columns, PointColumns)
    assert plain.columns is None
    batch = MetricBatch.from_columns("s", 0, columnar.columns)
    assert len(batch.records) == 5
    assert list(batch.records) == list(plain.records) == [
        ("a", "scalar", 1, 10.0, 0.5),
        ("a", "scalar", None, 11.0, -(2**63)),
        ("a", "scalar", 2, 12.0, "x"),
        ("b", "list", None, 13.0, 1.0),
        ("b", "list", None, 13.0, 2.0),
    ]
    assert batch.records[1:3] == list(plain.records)[1:3]
    assert batch == MetricBatch("s", 0, list(plain.records))


def test_a_columnar_batch_groups_by_type(batch_split: str) -> None:
    """Every float-only or int-only series of a columnar batch, one point or many,
    comes as an ArrayGroup with its whole piece; a series mixing them comes as lists;
    names keep the order of their first points."""
    np = pytest.importorskip("numpy")
    from runtrack.store.sql import columnar

    names = {0: ("many", "scalar"), 1: ("one", "scalar"), 2: ("mixed", "scalar"),
             3: ("ints", "scalar")}
    ids = [1, 0, 2, 0, 3, 2, 0]
    types = [POINT_FLOAT, POINT_FLOAT, POINT_FLOAT, POINT_FLOAT, POINT_INT, POINT_INT,
             POINT_FLOAT]
    values = [0.5, 1.0, 2.0, 3.0, 7, 8, 4.0]
    count = len(ids)
    cols = PointColumns(
        names=names,
        ids=np.array(ids, dtype="<u4").tobytes(),
        types=np.array(types, dtype="u1").tobytes(),
        steps=np.array([R.NO_STEP, 0, 1, 1, 5, 2, 2], dtype="<i8").tobytes(),
        times=np.arange(count, dtype="<f8").tobytes(),
        values=b"".join(
            np.array([v], dtype="<f8" if type(v) is float else "<i8").tobytes() for v in values
        ),
        objects={},
    )
    groups = ingest.group_points(MetricBatch.from_columns("s", 0, cols, {}), 0)
    assert list(groups) == ["one", "many", "mixed", "ints"]
    assert isinstance(groups["one"], columnar.ArrayGroup)
    assert isinstance(groups["many"], columnar.ArrayGroup)
    assert isinstance(groups["ints"], columnar.ArrayGroup)
    assert isinstance(groups["mixed"], ingest._Group)
    assert (groups["mixed"].steps, groups["mixed"].values) == ([1, 2], [2.0, 8])
    many = groups["many"].encode("f", 0, 3)
    assert (many.count, many.steps_kind, many.step_min, many.step_max) == (
        3, codec.STEPS_RANGE, 0, 2)
    assert many == codec.encode_piece("f", [0, 1, 2], [1.0, 3.0, 6.0], [1.0, 3.0, 4.0])
