"""What a short run's one batch costs less of, and stores the same.

* A series' first and last values are written without a JSON encoder when they are
  plain numbers: the text must be ``json.dumps``'s.
* A float/int series of a columnar batch gets its piece and summary figures from
  reductions over the whole batch (``ArrayGroup``); they equal what the list path
  (``ingest._Group``) gives the same points, alone or among other series, ties of the
  top point, NaN and missing steps included.
* On SQLite the first batch of a run inserts its series with their summaries: no read
  of states that cannot exist, no second write of the rows it has just made.
"""

from __future__ import annotations

import json
import math
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from runtrack import _rules
from runtrack.errors import InvalidValueError
from runtrack.model import NO_STEP, POINT_FLOAT, POINT_INT, MetricBatch, NewRun, PointColumns
from runtrack.store.sql import SqlStore, codec, columnar, ingest

np = pytest.importorskip("numpy")


def test_a_cell_is_the_text_json_writes() -> None:
    rng = random.Random(7)
    values: list[Any] = [
        0.0, -0.0, 0.1, 1e16, 1e-7, 5e-324, 1.7976931348623157e308, math.nan, math.inf,
        -math.inf, 0, -1, 2**63 - 1, -(2**63), 2**70, True, False, None, "x", {"a": 1.5},
    ]
    values += [rng.uniform(-1, 1) * 10 ** rng.randint(-300, 300) for _ in range(2000)]
    values += [rng.randint(-(2**63), 2**63 - 1) for _ in range(200)]
    for value in values:
        expected = json.dumps(codec._tag(value), separators=(",", ":"), allow_nan=False)
        assert codec.dumps_cell(value) == expected, value
        back = codec.loads_cell(expected)
        assert back == value or (value != value and back != back)


def _columns(steps: list[int], times: list[float], values: list[Any]) -> PointColumns:
    n = len(values)
    is_int = all(type(v) is int for v in values)
    bits = (np.array(values, dtype="<i8") if is_int
            else np.array(values, dtype="<f8").view("<i8"))
    return PointColumns(
        names={0: ("m", "scalar")}, ids=np.zeros(n, dtype="<u4").tobytes(),
        steps=np.array(steps, dtype="<i8").tobytes(), times=np.array(times).tobytes(),
        values=bits.tobytes(),
        types=np.full(n, POINT_INT if is_int else POINT_FLOAT, dtype="u1").tobytes(),
    )


_NAN = math.nan
_SHAPES = {
    "range": ([0, 1, 2, 3], [1.0, 2.0, 3.0, 4.0], [0.5, 0.25, 0.75, 0.1]),
    "tied top, later time wins": ([1, 9, 9, 3], [1.0, 2.0, 5.0, 9.0], [0.1, 0.9, 0.2, 0.3]),
    "tied step and time": ([9, 9, 9, 2], [2.0, 2.0, 2.0, 1.0], [0.1, 0.8, 0.3, 0.9]),
    "NaN ranks lowest": ([4, 4, 1], [3.0, 3.0, 1.0], [_NAN, -5.0, 2.0]),
    "only NaN": ([4, 4], [3.0, 3.0], [_NAN, _NAN]),
    "NaN last": ([0, 1, 2], [1.0, 2.0, 3.0], [1.0, 2.0, _NAN]),
    "no steps": ([NO_STEP] * 3, [1.0, 3.0, 2.0], [3.0, 1.0, 2.0]),
    "some steps": ([NO_STEP, 5, NO_STEP, -2], [1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0]),
    "steps not sorted": ([5, 3, 8, 8], [1.0, 1.0, 1.0, 1.0], [1.0, -1.0, 0.0, 7.0]),
    "ints": ([0, 7, 7], [1.0, 2.0, 2.0], [2**62, -3, 2**53 + 1]),
    "one point": ([3], [1.0], [2.5]),
}


def _listed(steps: list[int], times: list[float], values: list[Any]) -> ingest._Group:
    return ingest._Group("scalar", [None if s == NO_STEP else s for s in steps], times, values)


def _folded(group: ingest._Group | columnar.ArrayGroup, before: str) -> dict[str, Any]:
    state: dict[str, Any] = {
        "count": 0, "columns": None, "vmin": None, "vmax": None, "top_step": None,
        "top_time": None, "top_value": None, "top_nan": None,
    }
    if before == "with a top":
        state.update(count=5, first_value="1", vmin=-1.0, vmax=1.0, top_step=7,
                     top_time=2.0, top_value=0.5, top_nan=False)
    group.fold(state)
    return state


def _same_state(a: dict[str, Any], b: dict[str, Any]) -> None:
    # equal as stored: an int minimum of one path is the other's float (a REAL column)
    assert a.keys() == b.keys()
    for key, value in a.items():
        other = b[key]
        assert value == other or (value != value and other != other), key


@pytest.mark.parametrize("shape", list(_SHAPES))
@pytest.mark.parametrize("before", ["new series", "with a top"])
def test_array_and_list_groups_pack_and_fold_the_same(
    shape: str, before: str, batch_split: str
) -> None:
    cols = _columns(*_SHAPES[shape])
    (_, arrays), = columnar.split(np, cols, 0).values()
    assert isinstance(arrays, columnar.ArrayGroup)
    listed = _listed(*_SHAPES[shape])
    n = len(listed)
    assert arrays.encode(arrays.encoding, 0, n) == listed.encode(arrays.encoding, 0, n)
    if n > 1:  # a later chunk's part
        assert arrays.encode(arrays.encoding, 1, n) == listed.encode(arrays.encoding, 1, n)
    _same_state(_folded(arrays, before), _folded(listed, before))


def test_every_series_of_a_batch_gets_its_own_figures(batch_split: str) -> None:
    """All the shapes in one batch, their points interleaved: the reductions over the
    batch keep each series to its own points."""
    rng = random.Random(3)
    points = [(k, i) for k, shape in enumerate(_SHAPES.values()) for i in range(len(shape[2]))]
    rng.shuffle(points)
    points.sort(key=lambda p: (p[1], rng.random()))  # each series keeps its order
    shapes = list(_SHAPES.values())
    bits = [np.array([shapes[k][2][i]], dtype="<i8" if type(shapes[k][2][i]) is int
                     else "<f8").tobytes() for k, i in points]
    cols = PointColumns(
        names={k: (f"m{k}", "scalar") for k in range(len(shapes))},
        ids=np.array([k for k, _ in points], dtype="<u4").tobytes(),
        steps=np.array([shapes[k][0][i] for k, i in points], dtype="<i8").tobytes(),
        times=np.array([shapes[k][1][i] for k, i in points], dtype="<f8").tobytes(),
        values=b"".join(bits),
        types=np.array([POINT_INT if type(shapes[k][2][i]) is int else POINT_FLOAT
                        for k, i in points], dtype="u1").tobytes(),
    )
    got = columnar.split(np, cols, 0)
    assert len(got) == len(shapes)
    for k, shape in enumerate(shapes):
        _, arrays = got[f"m{k}"]
        assert isinstance(arrays, columnar.ArrayGroup)
        listed = _listed(*shape)
        assert arrays.encode(arrays.encoding, 0, len(listed)) == listed.encode(
            arrays.encoding, 0, len(listed))
        _same_state(_folded(arrays, "with a top"), _folded(listed, "with a top"))


def test_mixed_series_come_as_lists_in_batch_order(batch_split: str) -> None:
    """A series mixing floats and ints, or holding objects, comes as lists gathered in
    one pass; values keep their types (floats, ints, JSON objects) and steps their
    absence, past ``skip``; a float-only series comes as arrays."""
    names = {0: ("a", "scalar"), 1: ("b", "scalar"), 2: ("c", "list")}
    ids = [0, 1, 0, 2, 1, 1]
    types = [POINT_FLOAT, POINT_INT, POINT_FLOAT, 255, POINT_FLOAT, POINT_INT]
    bits = np.array([1.5, 0.0, 2.5, 0.0, 4.5, 0.0]).view("<i8").copy()
    bits[1], bits[5] = 7, -(2**63)
    cols = PointColumns(
        names=names, ids=np.array(ids, dtype="<u4").tobytes(),
        steps=np.array([0, NO_STEP, 1, 4, 2, 3], dtype="<i8").tobytes(),
        times=np.arange(6, dtype="<f8").tobytes(), values=bits.tobytes(),
        types=np.array(types, dtype="u1").tobytes(), objects={3: "text"},
    )
    got = columnar.split(np, cols, 1)
    assert list(got) == ["b", "a", "c"]  # in order of each name's first point after skip
    assert got["b"] == ("scalar", ([None, 2, 3], [1.0, 4.0, 5.0], [7, 4.5, -(2**63)]))
    kind, a = got["a"]
    assert kind == "scalar" and isinstance(a, columnar.ArrayGroup)
    assert (a.steps.tolist(), a.times.tolist(), a.values.tolist()) == ([1], [2.0], [2.5])
    assert got["c"] == ("list", ([4], [3.0], ["text"]))


def test_control_characters_in_names_are_refused_printable_ones_taken() -> None:
    for bad in ("é\x01", "a\x1fb", "\x00"):
        with pytest.raises(InvalidValueError, match="control characters"):
            _rules.check_name(bad)
    for good in ("loss", "a\x7fb", "é/accuracy", "sys/gpu0/util"):
        assert _rules.check_name(good) == good


def _statements(store: SqlStore) -> list[str]:
    seen: list[str] = []

    @event.listens_for(store.engine, "checkout")
    def trace(dbapi: sqlite3.Connection, *_: Any) -> None:
        dbapi.set_trace_callback(seen.append)

    return seen


def test_a_first_batch_inserts_its_series_with_their_summaries(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'rt.db'}")
    seen = _statements(store)  # (the store keeps the connection its first write checks out)
    exp = store.get_or_create_experiment("e")
    store.create_run(NewRun(exp.id, "r", display_name="r", run_type="script"))
    seen.clear()
    records = [(f"m{k}", "scalar", i, 10.0 + i, i * 0.5 + k) for i in range(80) for k in range(3)]
    records += [("sys/cpu", "scalar", 0, 99.0, 12.0)]
    assert store.ingest("r", MetricBatch("s", 0, records)) == len(records)
    first = [s for s in seen if "series" in s]
    assert not any(s.startswith('UPDATE "series"') for s in first)
    assert not any('FROM "series" s LEFT JOIN' in s for s in first)  # nothing to read
    (insert,) = [s for s in first if s.startswith('INSERT INTO "series"')]
    assert insert.count("'m0', 'scalar', '', NULL, 80, 39.5") == 1  # its summary, at once
    seen.clear()
    more = [("m0", "scalar", 80, 90.0, 1.0), ("new", "scalar", 0, 90.0, 2.0)]
    assert store.ingest("r", MetricBatch("s", len(records), more)) == len(records) + 2
    assert any('FROM "series" s LEFT JOIN' in s for s in seen)  # m0's state and last chunk
    assert sum(s.startswith('UPDATE "series"') for s in seen) == 1  # m0 only
    series = {s.name: s for s in store.list_series("r")}
    assert (series["m0"].count, series["m0"].last, series["new"].count) == (81, 1.0, 1)
    assert (series["m2"].minimum, series["m2"].maximum) == (2.0, 41.5)
    assert store.read_series("r", "sys/cpu").values == [12.0]
    store.close()


def _random_columns(rng: random.Random) -> tuple[PointColumns, int]:
    """A batch of random points: floats (NaN, ±inf, ±0.0), ints (int64 edges), objects,
    a table, two ids of one name, missing and tied steps and times; and a skip."""
    n = rng.randint(1, 400)
    names = {0: ("a", "scalar"), 1: ("b", "scalar"), 2: ("c", "list"), 3: ("t", "table"),
             4: ("a", "scalar"), 5: ("d", "scalar"), 6: ("e", "scalar")}
    style = {nid: rng.choice(["f", "i", "mixed", "f"]) for nid in names}
    ids, types, steps, times, bits, objects = [], [], [], [], [], {}
    step_of = {nid: rng.choice(["range", "none", "some", "random"]) for nid in names}
    for i in range(n):
        nid = rng.choice(list(names))
        kind = style[nid]
        pick = rng.choice("fi") if kind == "mixed" else kind
        if names[nid][1] == "table" or (kind == "mixed" and rng.random() < 0.2):
            types.append(2)
            bits.append(0)
            objects[i] = {"x": 1} if names[nid][1] == "table" else "text"
        elif pick == "f":
            types.append(POINT_FLOAT)
            value = rng.choice([rng.uniform(-1e9, 1e9), math.nan, math.inf, -math.inf, 0.0,
                                -0.0, 1.5, 1.5])
            bits.append(int(np.array([value], dtype="<f8").view("<i8")[0]))
        else:
            types.append(POINT_INT)
            bits.append(rng.choice([rng.randint(-(2**63), 2**63 - 1), 2**53 + 1, 2**53, 7, 7]))
        ids.append(nid)
        mode = step_of[nid]
        steps.append({"range": i, "none": NO_STEP, "random": rng.randint(-3, 3),
                      "some": rng.choice([NO_STEP, rng.randint(0, 5)])}[mode])
        times.append(rng.choice([float(i), 5.0, 5.0, float(n - i)]))
    cols = PointColumns(
        names=names, ids=np.array(ids, dtype="<u4").tobytes(),
        types=np.array(types, dtype="u1").tobytes(),
        steps=np.array(steps, dtype="<i8").tobytes(), times=np.array(times).tobytes(),
        values=np.array(bits, dtype="<i8").tobytes(), objects=objects,
    )
    return cols, rng.randint(0, n - 1)


def _flat(split: columnar.Split) -> list[Any]:
    out: list[Any] = []
    for name, (kind, group) in split.items():
        if isinstance(group, columnar.ArrayGroup):
            out.append((name, kind, group.encoding, group.steps.tolist(), group.times.tolist(),
                         group.values.tolist(), group.whole, group.figures))
        else:
            out.append((name, kind, group))
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (list, tuple)):
        return (type(a) is type(b) and len(a) == len(b)
                and all(_same(x, y) for x, y in zip(a, b, strict=True)))
    if isinstance(a, float) and isinstance(b, float):
        return (a != a and b != b) or a == b
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("batch_split", ["C split"], indirect=True)
@pytest.mark.parametrize("seed", range(40))
def test_the_c_split_gives_what_the_numpy_split_gives(
    seed: int, monkeypatch: pytest.MonkeyPatch, batch_split: str
) -> None:
    """Random batches (every kind of value, step and time, ties included): the C split
    and the numpy split give the same groups, arrays, pieces and figures, value types
    included."""
    cols, skip = _random_columns(random.Random(seed))
    with_c = _flat(columnar.split(np, cols, skip))
    monkeypatch.setattr(columnar, "c_split", None)
    with_numpy = _flat(columnar.split(np, cols, skip))
    assert [item[0] for item in with_c] == [item[0] for item in with_numpy]
    for a, b in zip(with_c, with_numpy, strict=True):
        assert _same(a, b), (a, b)
