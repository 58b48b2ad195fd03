"""The TrackingStore contract, run against every implementation.

A test module subclasses :class:`TrackingStoreContract` and provides a ``store``
fixture yielding a fresh, empty store (see ``test_sqlite.py``). Nothing here knows
how a store keeps its data: only the protocol in ``runtrack.store.base`` is used.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

import pytest

from runtrack.errors import (
    ConflictError,
    InvalidTypeError,
    InvalidValueError,
    LimitExceededError,
    NotFoundError,
    PropertyConflictError,
    RunStateError,
)
from runtrack.model import ErrorInfo, MetricBatch, NewRun, RunQuery, RunStatus
from runtrack.store.base import TrackingStore
from tests.store.compute_contract import ComputeContract
from tests.store.registry_contract import RegistryContract

NAN, INF = float("nan"), float("inf")


def same(a: Any, b: Any) -> bool:
    """Equal with exact types (1 is not 1.0 is not True), NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def new_run(store: TrackingStore, run_id: str = "r1", experiment: str = "exp", **kw: Any) -> str:
    exp = store.get_or_create_experiment(experiment)
    kw.setdefault("status", RunStatus.RUNNING)
    store.create_run(NewRun(exp.id, run_id, display_name=kw.pop("display_name", run_id),
                     run_type=kw.pop("run_type", "script"), **kw))
    return run_id


def log(store: TrackingStore, run_id: str, name: str, values: list[Any], *,
        stream: str = "s", first_seq: int | None = None, steps: list[Any] | None = None,
        kind: str = "scalar", t0: float = 1000.0) -> int:
    seq = store.ingest_position(run_id, stream) if first_seq is None else first_seq
    steps = steps if steps is not None else [None] * len(values)
    records = [(name, kind, s, t0 + i, v) for i, (s, v) in enumerate(zip(steps, values,
                                                                          strict=True))]
    return store.ingest(run_id, MetricBatch(stream, seq, records))


class TrackingStoreContract(RegistryContract, ComputeContract):
    """Every method of TrackingStore, its errors and its edge cases."""

    # -- experiments ---------------------------------------------------------------------

    def test_get_or_create_experiment_is_idempotent(self, store: TrackingStore) -> None:
        first = store.get_or_create_experiment("alpha")
        again = store.get_or_create_experiment("alpha")
        assert first.id == again.id and first.name == "alpha"
        assert isinstance(first.id, str)
        assert store.get_experiment(first.id).name == "alpha"
        assert store.get_experiment_by_name("alpha") == again
        assert store.get_experiment_by_name("missing") is None

    @pytest.mark.parametrize("bad", ["999999", "nope", ""])
    def test_missing_experiment(self, store: TrackingStore, bad: str) -> None:
        with pytest.raises(NotFoundError):
            store.get_experiment(bad)
        with pytest.raises(NotFoundError):
            store.set_experiment_tags(bad, {"a": "b"})
        with pytest.raises(NotFoundError):
            store.update_experiment(bad, name="x")
        with pytest.raises(NotFoundError):
            store.create_run(NewRun(bad, "r", display_name="r", run_type="script",
                             status=RunStatus.NOT_STARTED))

    def test_list_experiments(self, store: TrackingStore) -> None:
        beta = store.get_or_create_experiment("beta")
        store.get_or_create_experiment("alpha")
        new_run(store, "r1", "beta")
        new_run(store, "r2", "beta")
        listed = store.list_experiments()
        assert [e.name for e in listed] == ["alpha", "beta"]
        assert [e.run_count for e in listed] == [0, 2]
        assert listed[0].last_activity is None
        assert listed[1].last_activity is not None
        assert listed[1].last_activity >= beta.created_time
        store.update_experiment(beta.id, archived=True)
        assert [e.name for e in store.list_experiments()] == ["alpha"]
        archived = store.list_experiments(include_archived=True)
        assert [(e.name, e.archived) for e in archived] == [("alpha", False), ("beta", True)]

    def test_run_count_leaves_out_child_runs(self, store: TrackingStore) -> None:
        new_run(store, "top", "gamma")
        new_run(store, "kid", "gamma", parent_id="top")
        assert [e.run_count for e in store.list_experiments()] == [1]

    def test_experiment_tags(self, store: TrackingStore) -> None:
        exp = store.get_or_create_experiment("e")
        store.set_experiment_tags(exp.id, {"a": "1", "b": None})
        store.set_experiment_tags(exp.id, {"a": "2"})
        assert store.get_experiment(exp.id).tags == {"a": "2", "b": None}
        store.remove_experiment_tags(exp.id, ["a", "unknown"])
        assert store.get_experiment(exp.id).tags == {"b": None}

    def test_update_experiment(self, store: TrackingStore) -> None:
        exp = store.get_or_create_experiment("old")
        store.get_or_create_experiment("taken")
        renamed = store.update_experiment(exp.id, name="new")
        assert renamed.name == "new" and renamed.id == exp.id
        assert store.get_experiment_by_name("old") is None
        with pytest.raises(ConflictError):
            store.update_experiment(exp.id, name="taken")
        assert store.update_experiment(exp.id, archived=True).archived
        assert not store.update_experiment(exp.id, archived=False).archived

    # -- runs -----------------------------------------------------------------------------

    def test_create_run_fields_and_numbering(self, store: TrackingStore) -> None:
        exp = store.get_or_create_experiment("e")
        before = time.time()
        run = store.create_run(NewRun(
            exp.id, "r1", display_name="first", run_type="script", status=RunStatus.RUNNING,
            tags={"t": "1", "n": None}, properties={"p": "x"}, compute_target="gpu",
            description="d", definition={"script": "train.py", "args": [1, 2]},
        ))
        assert run.id == "r1" and run.number == 1 and run.experiment_id == exp.id
        assert run.experiment_name == "e" and run.display_name == "first"
        assert run.status is RunStatus.RUNNING and run.run_type == "script"
        assert run.start_time is not None and run.start_time >= before - 1
        assert run.end_time is None and run.parent_id is None
        assert run.tags == {"t": "1", "n": None} and run.properties == {"p": "x"}
        assert run.compute_target == "gpu" and run.description == "d"
        assert run.definition == {"script": "train.py", "args": [1, 2]}
        assert store.get_run("r1") == run
        queued = store.create_run(NewRun(exp.id, "r2", display_name="b", run_type="script",
                                  status=RunStatus.NOT_STARTED))
        assert queued.number == 2 and queued.start_time is None
        other = store.get_or_create_experiment("other")
        assert store.create_run(NewRun(other.id, "r3", display_name="c", run_type="script",
                                status=RunStatus.QUEUED)).number == 1

    def test_create_run_errors(self, store: TrackingStore) -> None:
        new_run(store, "r1")
        exp = store.get_or_create_experiment("exp")
        with pytest.raises(ConflictError):
            store.create_run(NewRun(exp.id, "r1", display_name="x", run_type="script",
                             status=RunStatus.RUNNING))
        with pytest.raises(NotFoundError):
            store.create_run(NewRun(exp.id, "r2", display_name="x", run_type="script",
                             status=RunStatus.RUNNING, parent_id="missing"))
        with pytest.raises(NotFoundError):
            store.get_run("missing")

    def test_a_taken_run_id_takes_no_number(self, store: TrackingStore) -> None:
        new_run(store, "r1")
        with pytest.raises(ConflictError):
            new_run(store, "r1", tags={"t": "x"})
        assert store.get_run(new_run(store, "r2")).number == 2
        assert store.get_run("r1").tags == {}

    def test_tags_up_to_the_limit_and_overwrites_at_it(self, store: TrackingStore) -> None:
        from runtrack import limits

        run_id = new_run(store, "r1", tags={"first": "1"})
        full = {f"k{i}": str(i) for i in range(limits.MAX_TAGS_PER_RUN - 1)}
        store.set_tags(run_id, full)
        store.set_tags(run_id, {"first": "2", "k0": None})  # existing keys: allowed
        with pytest.raises(LimitExceededError):
            store.set_tags(run_id, {"k1": "new value", "one_too_many": "x"})
        tags = store.get_run(run_id).tags
        assert len(tags) == limits.MAX_TAGS_PER_RUN
        assert (tags["first"], tags["k0"], tags["k1"]) == ("2", None, "1")
        with pytest.raises(NotFoundError):
            store.set_tags("missing", {"a": "b"})

    def test_run_numbers_are_unique_under_concurrency(self, store: TrackingStore) -> None:
        exp = store.get_or_create_experiment("e")
        errors: list[BaseException] = []

        def create(worker: int) -> None:
            try:
                for i in range(10):
                    store.create_run(NewRun(exp.id, f"w{worker}-{i}", display_name="x",
                                     run_type="script", status=RunStatus.RUNNING))
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=create, args=(w,)) for w in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
        runs = store.search_runs(RunQuery(experiment_ids=[exp.id], limit=None))
        assert sorted(r.number for r in runs) == list(range(1, 41))

    def test_update_run(self, store: TrackingStore) -> None:
        new_run(store, "r1", description="old")
        run = store.update_run("r1", display_name="renamed")
        assert run.display_name == "renamed" and run.description == "old"
        assert store.update_run("r1", description="new").description == "new"
        with pytest.raises(NotFoundError):
            store.update_run("missing", display_name="x")

    def test_set_status_lifecycle(self, store: TrackingStore) -> None:
        new_run(store, "r1", status=RunStatus.NOT_STARTED)
        assert store.set_status("r1", RunStatus.QUEUED).start_time is None
        running = store.set_status("r1", RunStatus.RUNNING)
        assert running.status is RunStatus.RUNNING and running.start_time is not None
        assert store.set_status("r1", RunStatus.RUNNING) == running  # no-op
        again = store.set_status("r1", RunStatus.FINALIZING)
        assert again.start_time == running.start_time and again.end_time is None
        error = ErrorInfo(code="UserError", message="boom", traceback="tb", exit_code=3)
        failed = store.set_status("r1", RunStatus.FAILED, error=error)
        assert failed.status is RunStatus.FAILED and failed.end_time is not None
        assert failed.error == error
        assert store.set_status("r1", RunStatus.FAILED) == failed  # same status: no-op
        for status in (RunStatus.RUNNING, RunStatus.COMPLETED, RunStatus.CANCELED):
            with pytest.raises(RunStateError):
                store.set_status("r1", status)
        assert store.get_run("r1") == failed
        with pytest.raises(NotFoundError):
            store.set_status("missing", RunStatus.COMPLETED)

    def test_tags(self, store: TrackingStore) -> None:
        new_run(store, "r1", tags={"a": "1"})
        store.set_tags("r1", {"a": "2", "b": None, "c": "3"})
        assert store.get_run("r1").tags == {"a": "2", "b": None, "c": "3"}
        store.remove_tags("r1", ["c", "unknown"])
        assert store.get_run("r1").tags == {"a": "2", "b": None}
        store.set_status("r1", RunStatus.COMPLETED)
        store.set_tags("r1", {"after": "done"})  # tags stay mutable after completion
        assert store.get_run("r1").tags["after"] == "done"
        with pytest.raises(NotFoundError):
            store.set_tags("missing", {"a": "b"})
        with pytest.raises(NotFoundError):
            store.remove_tags("missing", ["a"])

    def test_properties_are_add_only(self, store: TrackingStore) -> None:
        new_run(store, "r1", properties={"a": "1"})
        store.add_properties("r1", {"a": "1", "b": "2"})
        assert store.get_run("r1").properties == {"a": "1", "b": "2"}
        with pytest.raises(PropertyConflictError):
            store.add_properties("r1", {"c": "3", "a": "changed"})
        assert store.get_run("r1").properties == {"a": "1", "b": "2"}  # nothing applied
        with pytest.raises(NotFoundError):
            store.add_properties("missing", {"a": "1"})

    def test_delete_run_cascades(self, store: TrackingStore) -> None:
        new_run(store, "parent")
        new_run(store, "child", parent_id="parent")
        new_run(store, "grandchild", parent_id="child")
        new_run(store, "other")
        for run_id in ("parent", "child", "grandchild", "other"):
            log(store, run_id, "m", [1.0, 2.0])
        store.delete_run("parent")
        for run_id in ("parent", "child", "grandchild"):
            with pytest.raises(NotFoundError):
                store.get_run(run_id)
            with pytest.raises(NotFoundError):
                store.list_series(run_id)
        assert store.read_series("other", "m").values == [1.0, 2.0]
        assert store.list_experiments()[0].run_count == 1
        assert store.get_summaries(["parent"]) == {"parent": {}}
        with pytest.raises(NotFoundError):
            store.delete_run("parent")

    # -- ingest ----------------------------------------------------------------------------

    def test_ingest_positions_and_retries(self, store: TrackingStore) -> None:
        new_run(store)
        assert store.ingest_position("r1", "s") == 0
        assert log(store, "r1", "m", [1.0, 2.0, 3.0], first_seq=0) == 3
        assert log(store, "r1", "m", [1.0, 2.0, 3.0], first_seq=0) == 3  # retried
        assert store.read_series("r1", "m").values == [1.0, 2.0, 3.0]
        assert store.ingest_position("r1", "s") == 3
        # overlapping: records 1..4, of which 1 and 2 were applied already
        assert log(store, "r1", "m", [2.0, 3.0, 4.0, 5.0], first_seq=1) == 5
        assert store.read_series("r1", "m").values == [1.0, 2.0, 3.0, 4.0, 5.0]
        assert store.list_series("r1")[0].count == 5

    def test_ingest_gap_applies_nothing(self, store: TrackingStore) -> None:
        new_run(store)
        log(store, "r1", "m", [1.0], first_seq=0)
        with pytest.raises(InvalidValueError):
            log(store, "r1", "m", [9.0, 9.0], first_seq=2)
        with pytest.raises(InvalidValueError):
            log(store, "r1", "new", [9.0], first_seq=5)
        assert store.ingest_position("r1", "s") == 1
        assert [s.name for s in store.list_series("r1")] == ["m"]
        assert store.read_series("r1", "m").values == [1.0]

    def test_two_streams_into_one_run(self, store: TrackingStore) -> None:
        new_run(store)
        log(store, "r1", "m", [1.0, 2.0], stream="rank0", first_seq=0)
        log(store, "r1", "m", [10.0], stream="rank1", first_seq=0)
        log(store, "r1", "m", [1.0, 2.0, 3.0], stream="rank0", first_seq=0)
        assert store.ingest_position("r1", "rank0") == 3
        assert store.ingest_position("r1", "rank1") == 1
        assert store.read_series("r1", "m").values == [1.0, 2.0, 10.0, 3.0]

    def test_ingest_unknown_run(self, store: TrackingStore) -> None:
        with pytest.raises(NotFoundError):
            store.ingest("missing", MetricBatch("s", 0, [("m", "scalar", None, 1.0, 1.0)]))
        with pytest.raises(NotFoundError):
            store.ingest_position("missing", "s")

    def test_ingest_into_finished_run_is_allowed(self, store: TrackingStore) -> None:
        new_run(store)
        store.set_status("r1", RunStatus.COMPLETED)
        log(store, "r1", "m", [1.0])  # a shipper drains after complete()
        assert store.read_series("r1", "m").values == [1.0]

    def test_descriptions_and_series_order(self, store: TrackingStore) -> None:
        new_run(store)
        records = [("zeta", "scalar", None, 1.0, 1), ("alpha", "scalar", None, 1.0, 2)]
        store.ingest("r1", MetricBatch("s", 0, records, descriptions={"zeta": "last z"}))
        log(store, "r1", "beta", [3])
        series = store.list_series("r1")
        assert [s.name for s in series] == ["zeta", "alpha", "beta"]
        assert series[0].description == "last z" and series[1].description == ""

    # -- series reads --------------------------------------------------------------------------

    def test_values_round_trip_with_exact_types(self, store: TrackingStore) -> None:
        new_run(store)
        values: list[Any] = [
            1, True, False, 2.5, 3.0, "text", "", None, NAN, INF, -INF, 2**63 - 1, -(2**63),
            "ünï ✓", 0, -7, 1e-300,
        ]
        steps = [None, 1, None, 3, 4, 5, 6, 7, 8, 9, 10, 2**62, None, 13, 14, 15, 2**63 - 1]
        log(store, "r1", "mixed", values, steps=steps)
        data = store.read_series("r1", "mixed")
        assert same(data.values, values)
        assert data.steps == steps
        assert data.times == [1000.0 + i for i in range(len(values))]
        assert data.start == 0 and data.name == "mixed"
        rows = [{"a": 1, "b": "x", "c": None, "d": NAN}, {"e": 2**63 - 1}]
        log(store, "r1", "rows", rows, kind="table")
        assert same(store.read_series("r1", "rows").values, rows)

    @pytest.mark.parametrize(
        "name, kind, step, value",
        [
            ("big", "scalar", None, 2**70),
            ("small", "list", None, -(2**63) - 1),
            ("step", "scalar", 2**63, 1.0),
            ("a\x00b", "scalar", None, 1.0),
            ("surrogate", "scalar", None, "img_\udcff.png"),
            ("row_in_scalar", "scalar", None, {"x": 1}),
            ("number_in_table", "table", None, 1.5),
            ("big_cell", "table", None, {"x": 2**64}),
        ],
    )
    def test_ingest_refuses_what_the_sdk_refuses(
        self, store: TrackingStore, name: str, kind: str, step: Any, value: Any
    ) -> None:
        new_run(store)
        with pytest.raises((InvalidValueError, InvalidTypeError)):
            log(store, "r1", name, [value], kind=kind, steps=[step])
        assert store.ingest_position("r1", "s") == 0
        assert [s.name for s in store.list_series("r1")] == []

    def test_a_metric_keeps_its_kind(self, store: TrackingStore) -> None:
        new_run(store)
        log(store, "r1", "m", [1.0])
        with pytest.raises(InvalidValueError, match="holds scalar values"):
            log(store, "r1", "m", [{"x": 1}], kind="table", stream="t")
        assert store.read_series("r1", "m").values == [1.0]

    @pytest.mark.parametrize(
        "values",
        [
            [float(i) / 3 for i in range(50)],
            list(range(-25, 25)),
            [i % 3 == 0 for i in range(50)],
            [f"s{i}" for i in range(50)],
            [None] * 50,
            [{"x": i, "y": float(i)} for i in range(50)],
            [2**63 - 50 + i for i in range(50)],
        ],
        ids=["float", "int", "bool", "str", "none", "rows", "int64"],
    )
    def test_homogeneous_series_round_trip(self, store: TrackingStore, values: list[Any]) -> None:
        new_run(store)
        kind = "table" if isinstance(values[0], dict) else "scalar"
        log(store, "r1", "m", values[:20], kind=kind)
        log(store, "r1", "m", values[20:], kind=kind)
        assert same(store.read_series("r1", "m").values, values)

    def test_long_series_range_reads(self, store: TrackingStore) -> None:
        new_run(store)
        values = [i * 0.5 for i in range(30_000)]
        steps = list(range(0, 60_000, 2))
        for start in range(0, 30_000, 7_000):
            log(store, "r1", "m", values[start:start + 7_000], steps=steps[start:start + 7_000])
        full = store.read_series("r1", "m")
        assert full.values == values and full.steps == steps
        part = store.read_series("r1", "m", 8_190, 16_390)
        assert part.start == 8_190 and part.values == values[8_190:16_390]
        assert part.steps == steps[8_190:16_390]
        assert store.read_series("r1", "m", 29_990).values == values[29_990:]
        assert store.read_series("r1", "m", 40_000).values == []
        assert store.read_series("r1", "m", 5, 5).values == []

    def test_type_changes_inside_one_series(self, store: TrackingStore) -> None:
        new_run(store)
        values: list[Any] = [float(i) for i in range(100)] + list(range(100)) + ["a"] * 5
        values += [True] * 30 + [1.5, "b", 2, None] * 10 + [float(i) for i in range(100)]
        for start in range(0, len(values), 37):
            log(store, "r1", "m", values[start:start + 37])
        assert same(store.read_series("r1", "m").values, values)

    def test_read_missing_series(self, store: TrackingStore) -> None:
        new_run(store)
        with pytest.raises(NotFoundError):
            store.read_series("r1", "missing")
        with pytest.raises(NotFoundError):
            store.read_series("missing", "m")
        with pytest.raises(NotFoundError):
            store.downsample("r1", "missing", 10)

    def test_table_rows(self, store: TrackingStore) -> None:
        new_run(store)
        rows: list[Any] = [{"epoch": 1, "acc": 0.5}, {"epoch": 2, "acc": 0.7, "note": "x"}]
        log(store, "r1", "table", rows, kind="table")
        data = store.read_series("r1", "table")
        assert same(data.values, rows) and data.kind.value == "table"
        info = store.list_series("r1")[0]
        assert info.columns == ["epoch", "acc", "note"] and info.count == 2

    # -- summaries -----------------------------------------------------------------------------

    def test_summary_upkeep(self, store: TrackingStore) -> None:
        new_run(store)
        log(store, "r1", "m", [3.0, "skip", NAN, 1, True], steps=[0, 1, 2, 3, None])
        log(store, "r1", "m", [5.5, None, 2.0], steps=[10, None, 12])
        info = store.list_series("r1")[0]
        assert info.count == 8 and info.kind.value == "scalar"
        assert info.last == 2.0 and info.minimum == 1.0 and info.maximum == 5.5
        assert info.last_step == 12 and info.last_time == 1002.0
        assert same(info.first_value, 3.0) and same(info.last_value, 2.0)
        log(store, "r1", "m", [NAN])
        info = store.list_series("r1")[0]
        assert info.last is not None and math.isnan(info.last)
        assert info.minimum == 1.0 and info.maximum == 5.5

    def test_summary_of_non_numeric_series(self, store: TrackingStore) -> None:
        new_run(store)
        log(store, "r1", "s", ["a", "b"])
        log(store, "r1", "b", [True, False])
        summaries = store.get_summaries(["r1"])["r1"]
        for name in ("s", "b"):
            assert summaries[name].last is None and summaries[name].minimum is None
            assert summaries[name].maximum is None and summaries[name].count == 2
        assert summaries["s"].last_value == "b" and summaries["b"].last_value is False

    def test_get_summaries(self, store: TrackingStore) -> None:
        new_run(store, "r1")
        new_run(store, "r2")
        new_run(store, "r3")
        log(store, "r1", "acc", [0.1, 0.9, 0.5])
        log(store, "r1", "loss", [3.0, 1.0])
        log(store, "r2", "acc", [0.2])
        got = store.get_summaries(["r1", "r2", "r3"])
        assert set(got) == {"r1", "r2", "r3"} and got["r3"] == {}
        assert list(got["r1"]) == ["acc", "loss"]
        assert got["r1"]["acc"].maximum == 0.9 and got["r1"]["acc"].last == 0.5
        only = store.get_summaries(["r1", "r2"], names=["acc"])
        assert list(only["r1"]) == ["acc"] and only["r2"]["acc"].last == 0.2
        assert store.get_summaries(["r1"], names=[]) == {"r1": {}}

    def test_read_all_series_equals_one_read_per_series(self, store: TrackingStore) -> None:
        for run_id in ("r1", "r2", "r3"):
            new_run(store, run_id)
        for part in range(3):  # several ingest calls: several chunks per series
            log(store, "r1", "loss", [1.0 / (i + 1) for i in range(part * 50, part * 50 + 50)],
                steps=list(range(part * 50, part * 50 + 50)))
        log(store, "r1", "mixed", [1, 2.5, NAN, "x", None, True, 2**60],
            steps=[None, 5, 3, None, 7, 8, 9])
        log(store, "r1", "rows", [{"a": 1, "b": "x"}, {"a": 2}], kind="table")
        log(store, "r2", "loss", [0.5])
        log(store, "r2", "flags", [True, False, True])
        got = store.read_all_series(["r1", "r2", "r3", "nope"])
        assert set(got) == {"r1", "r2", "r3", "nope"}
        assert got["r3"] == {} and got["nope"] == {}
        assert list(got["r1"]) == ["loss", "mixed", "rows"]
        for run_id, by_name in got.items():
            for name, data in by_name.items():
                one = store.read_series(run_id, name)
                assert (data.name, data.kind, data.start) == (name, one.kind, 0)
                assert data.steps == one.steps and data.times == one.times
                assert same(data.values, one.values), (run_id, name)
        assert got["r1"]["loss"].values[149] == 1.0 / 150 and len(got["r1"]["loss"].values) == 150
        only = store.read_all_series(["r1", "r2"], names=["loss"])
        assert list(only["r1"]) == ["loss"] and only["r2"]["loss"].values == [0.5]
        assert store.read_all_series(["r1"], names=[]) == {"r1": {}}
        assert store.read_all_series([]) == {}

    # -- downsampling ----------------------------------------------------------------------------

    def test_spike_in_a_million_points_survives(self, store: TrackingStore) -> None:
        new_run(store)
        n, spike_at, dip_at = 1_000_000, 654_321, 123_457
        values = [math.sin(i / 1000.0) for i in range(n)]
        values[spike_at], values[dip_at] = 1e9, -1e9
        for start in range(0, n, 100_000):
            log(store, "r1", "m", values[start:start + 100_000])
        for buckets in (2000, 700, 10):
            got = store.downsample("r1", "m", buckets)
            assert 0 < len(got) <= buckets
            assert sum(b.count for b in got) == n
            assert max(b.maximum for b in got) == 1e9
            assert min(b.minimum for b in got) == -1e9
            spike = next(b for b in got if b.maximum == 1e9)
            assert spike.x_start <= spike_at <= spike.x_end
            assert got[0].first == values[0] and got[-1].last == values[-1]
            assert got[0].x_start == 0 and got[-1].x_end == n - 1
        zoom = store.downsample("r1", "m", 100, x_min=654_000, x_max=655_000)
        assert len(zoom) <= 100 and sum(b.count for b in zoom) == 1001
        assert max(b.maximum for b in zoom) == 1e9

    def test_downsample_small_series_keeps_every_point(self, store: TrackingStore) -> None:
        new_run(store)
        values = [5.0, 1.0, 4.0, 2.0, 3.0]
        log(store, "r1", "m", values)
        got = store.downsample("r1", "m", 100)
        assert [(b.count, b.first, b.minimum, b.maximum) for b in got] == [
            (1, v, v, v) for v in values
        ]
        assert [b.x_start for b in got] == [0.0, 1.0, 2.0, 3.0, 4.0]
        one = store.downsample("r1", "m", 1)
        assert len(one) == 1
        assert (one[0].count, one[0].first, one[0].last) == (5, 5.0, 3.0)
        assert (one[0].minimum, one[0].maximum) == (1.0, 5.0)

    def test_downsample_by_step_and_time(self, store: TrackingStore) -> None:
        new_run(store)
        values = [float(i % 17) for i in range(1000)]
        steps: list[int | None] = [i * 10 for i in range(1000)]
        steps[500] = None
        log(store, "r1", "m", values, steps=steps)
        by_step = store.downsample("r1", "m", 10, x="step")
        assert len(by_step) == 10 and sum(b.count for b in by_step) == 999
        assert by_step[0].x_start == 0 and by_step[-1].x_end == 9990
        zoom = store.downsample("r1", "m", 5, x="step", x_min=100, x_max=190)
        assert sum(b.count for b in zoom) == 10
        assert zoom[0].x_start == 100 and zoom[-1].x_end == 190
        by_time = store.downsample("r1", "m", 4, x="time", x_min=1000.0, x_max=1099.0)
        assert sum(b.count for b in by_time) == 100
        assert max(b.maximum for b in by_time) == 16.0

    def test_downsample_skips_non_numeric(self, store: TrackingStore) -> None:
        new_run(store)
        log(store, "r1", "m", [1.0, "x", NAN, None, 7, True, 3.0])
        got = store.downsample("r1", "m", 1)
        assert len(got) == 1 and got[0].count == 3
        assert (got[0].minimum, got[0].maximum, got[0].first, got[0].last) == (1.0, 7.0, 1.0, 3.0)
        log(store, "r1", "s", ["a", "b"])
        assert store.downsample("r1", "s", 10) == []

    def test_downsample_unsorted_steps(self, store: TrackingStore) -> None:
        new_run(store)
        log(store, "r1", "m", [1.0, 2.0, 3.0, 4.0], steps=[30, 10, 20, 0])
        got = store.downsample("r1", "m", 2, x="step")
        assert [(b.count, b.minimum, b.maximum) for b in got] == [(2, 2.0, 4.0), (2, 1.0, 3.0)]
        assert [(b.first, b.last) for b in got] == [(2.0, 4.0), (1.0, 3.0)]

    def test_downsample_rejects_bad_arguments(self, store: TrackingStore) -> None:
        new_run(store)
        log(store, "r1", "m", [1.0])
        with pytest.raises(InvalidValueError):
            store.downsample("r1", "m", 10, x="wall")
        with pytest.raises(InvalidValueError):
            store.downsample("r1", "m", 0)

    # -- search ------------------------------------------------------------------------------------

    def _runs_for_search(self, store: TrackingStore) -> str:
        exp = store.get_or_create_experiment("search")
        specs = [
            ("a", RunStatus.COMPLETED, {"team": "x", "lr": "0.1"}, {"seed": "1"}, [0.5, 0.7]),
            ("b", RunStatus.FAILED, {"team": "y"}, {"seed": "2"}, [0.9, 0.2]),
            ("c", RunStatus.RUNNING, {"team": "x"}, {}, [0.3]),
            ("d", RunStatus.COMPLETED, {}, {"seed": "1"}, None),
        ]
        for run_id, status, tags, props, acc in specs:
            store.create_run(NewRun(exp.id, run_id, display_name=f"run {run_id}", run_type="script",
                             status=RunStatus.RUNNING, tags=tags, properties=props))
            if acc is not None:
                log(store, run_id, "acc", acc)
            if status is not RunStatus.RUNNING:
                store.set_status(run_id, status)
            time.sleep(0.002)
        store.create_run(NewRun(exp.id, "a.child", display_name="child", run_type="child",
                         status=RunStatus.RUNNING, parent_id="a"))
        return exp.id

    def _ids(self, store: TrackingStore, **kw: Any) -> list[str]:
        query = RunQuery(**kw)
        found = [r.id for r in store.search_runs(query)]
        assert store.count_runs(RunQuery(**{**kw, "limit": None, "offset": 0})) >= len(found)
        return found

    def test_search_filters(self, store: TrackingStore) -> None:
        exp_id = self._runs_for_search(store)
        new_run(store, "elsewhere", "other")
        ids = self._ids
        assert ids(store, experiment_ids=[exp_id]) == ["d", "c", "b", "a"]  # newest first
        assert sorted(ids(store)) == ["a", "b", "c", "d", "elsewhere"]
        assert ids(store, experiment_ids=[]) == []
        assert sorted(ids(store, status=[RunStatus.COMPLETED])) == ["a", "d"]
        assert sorted(ids(store, tags={"team": "x"})) == ["a", "c"]
        assert sorted(ids(store, tags={"team": None})) == ["a", "b", "c"]
        assert ids(store, tags={"team": "x", "lr": None}) == ["a"]
        assert sorted(ids(store, properties={"seed": "1"})) == ["a", "d"]
        assert ids(store, metric_filters=[("acc", "max", ">", 0.8)]) == ["b"]
        assert sorted(ids(store, metric_filters=[("acc", "last", ">=", 0.3)])) == ["a", "c"]
        assert sorted(ids(store, metric_filters=[("acc", "min", "!=", 0.3)])) == ["a", "b"]
        assert ids(store, metric_filters=[("acc", "last", "==", 0.2)]) == ["b"]
        assert ids(store, run_type="child") == []
        assert ids(store, run_type="child", include_children=True) == ["a.child"]
        assert ids(store, parent_id="a") == ["a.child"]
        assert "a.child" in ids(store, include_children=True)
        assert store.count_runs(RunQuery(experiment_ids=[exp_id])) == 4
        assert store.count_runs(RunQuery(experiment_ids=[exp_id], include_children=True)) == 5
        with pytest.raises(InvalidValueError):
            store.search_runs(RunQuery(metric_filters=[("acc", "median", ">", 1.0)]))
        with pytest.raises(InvalidValueError):
            store.search_runs(RunQuery(metric_filters=[("acc", "last", "~", 1.0)]))

    def test_search_conditions(self, store: TrackingStore) -> None:
        exp_id = self._runs_for_search(store)

        def ids(*conditions: tuple[str, str, str, Any]) -> list[str]:
            return sorted(self._ids(store, experiment_ids=[exp_id], conditions=list(conditions)))

        assert ids(("tag", "team", "LIKE", "X")) == []  # LIKE minds case on every dialect
        assert ids(("tag", "team", "ILIKE", "X")) == ["a", "c"]
        assert ids(("tag", "team", "LIKE", "_")) == ["a", "b", "c"]
        assert ids(("tag", "team", "IN", ["y", "z"])) == ["b"]
        assert ids(("tag", "team", "NOT IN", ["y"])) == ["a", "c"]  # needs the key
        assert ids(("tag", "lr", "IS NULL", None)) == ["b", "c", "d"]
        assert ids(("property", "seed", "!=", "1")) == ["b"]
        assert ids(("property", "seed", "IS NOT NULL", None), ("tag", "team", "=", "x")) == ["a"]
        assert ids(("attribute", "display_name", "LIKE", "run %")) == ["a", "b", "c", "d"]
        assert ids(("attribute", "id", "IN", ["a", "d", "zz"])) == ["a", "d"]
        assert ids(("attribute", "status", "IN", ["Completed"])) == ["a", "d"]
        assert ids(("attribute", "end_time", "IS NULL", None)) == ["c"]
        for bad in [("bogus", "k", "=", "v"), ("tag", "k", "~", "v"), ("tag", "k", "IN", "v"),
                    ("attribute", "secret", "=", "v")]:
            with pytest.raises(InvalidValueError):
                store.search_runs(RunQuery(conditions=[bad]))

    def test_search_order_and_paging(self, store: TrackingStore) -> None:
        exp_id = self._runs_for_search(store)

        def order(*keys: tuple[str, bool], **kw: Any) -> list[str]:
            return self._ids(store, experiment_ids=[exp_id], order_by=list(keys), **kw)

        assert order(("created_time", False)) == ["a", "b", "c", "d"]
        assert order(("number", True)) == ["d", "c", "b", "a"]
        assert order(("display_name", False)) == ["a", "b", "c", "d"]
        assert order(("metric:acc:last", True)) == ["a", "c", "b", "d"]  # no metric: last
        assert order(("metric:acc:last", False)) == ["b", "c", "a", "d"]
        assert order(("metric:acc:max", True)) == ["b", "a", "c", "d"]
        assert order(("metric:acc:min", False)) == ["b", "c", "a", "d"]
        assert order(("status", False), ("number", False)) == ["a", "d", "b", "c"]
        assert order(("start_time", False))[:4] == ["a", "b", "c", "d"]
        assert len(order(("duration", True))) == 4
        assert order(("number", False), limit=2) == ["a", "b"]
        assert order(("number", False), limit=2, offset=2) == ["c", "d"]
        assert order(("number", False), offset=3) == ["d"]
        assert order(("number", False), limit=0) == []
        with pytest.raises(InvalidValueError):
            order(("nonsense", True))
        with pytest.raises(InvalidValueError):
            order(("metric:acc:median", True))

    def test_search_returns_full_runs(self, store: TrackingStore) -> None:
        self._runs_for_search(store)
        found = {r.id: r for r in store.search_runs(RunQuery(include_children=True))}
        for run_id, run in found.items():
            assert run == store.get_run(run_id)
        assert found["a"].tags == {"team": "x", "lr": "0.1"}
        assert found["a.child"].parent_id == "a"
