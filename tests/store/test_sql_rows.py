"""Rows read by SqlStore become the same model values as their ``__init__`` would make.

``store.sql.query.trusted`` fills frozen dataclasses without their generated
``__init__`` (the listing hot path); a field left out, misspelt or of another shape
would go unnoticed by ``==`` alone, so each value is compared field by field with its
``__init__``-built twin and its attribute set with the dataclass fields.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runtrack.model import ErrorInfo, MetricBatch, NewRun, RunQuery, RunStatus
from runtrack.store.sql import SqlStore
from runtrack.store.sql.query import trusted


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    sql_store = SqlStore(f"sqlite:///{tmp_path / 'runtrack.db'}")
    yield sql_store
    sql_store.close()


def _same_as_init(value: Any) -> None:
    names = {f.name for f in dataclasses.fields(value)}
    assert set(vars(value)) == names
    rebuilt = type(value)(**{name: getattr(value, name) for name in names})
    for name in names:
        mine, theirs = getattr(value, name), getattr(rebuilt, name)
        assert type(mine) is type(theirs), name
        assert mine == theirs or (mine != mine and theirs != theirs), name  # NaN == NaN
    with pytest.raises(dataclasses.FrozenInstanceError):
        value.name = "changed"


def test_trusted_values_equal_init_built_ones(store: SqlStore) -> None:
    exp = store.get_or_create_experiment("rows")
    store.create_run(NewRun(exp.id, "a", "first", "script", tags={"t": "1", "none": None},
                            properties={"p": "x"}, definition={"k": [1, 2]}))
    store.create_run(NewRun(exp.id, "b", "second", "sweep"))
    store.set_status("b", RunStatus.FAILED, error=ErrorInfo("UserError", "boom", exit_code=2))
    store.ingest("a", MetricBatch("s", 0, [
        ("loss", "scalar", 0, 1.0, 0.5), ("loss", "scalar", 1, 2.0, math.nan),
        ("row", "table", None, 3.0, {"x": 1, "y": "two"}),
        ("flags", "list", None, 4.0, True),
    ]))
    found = store.search_runs(RunQuery(experiment_ids=[exp.id]))
    assert {r.id for r in found} == {"a", "b"}
    for info in found:
        _same_as_init(info)
    a = next(r for r in found if r.id == "a")
    assert a.tags == {"t": "1", "none": None} and a.properties == {"p": "x"}
    assert a.definition == {"k": [1, 2]} and a.status is RunStatus.RUNNING
    b = next(r for r in found if r.id == "b")
    assert b.error == ErrorInfo("UserError", "boom", exit_code=2)
    summaries = store.get_summaries(["a", "b"])
    assert sorted(summaries["a"]) == ["flags", "loss", "row"] and summaries["b"] == {}
    for info in [*summaries["a"].values(), *store.list_series("a")]:
        _same_as_init(info)
    assert math.isnan(summaries["a"]["loss"].last)  # type: ignore[arg-type]
    assert summaries["a"]["row"].columns == ["x", "y"]


def test_trusted_is_the_plain_dataclass() -> None:
    made = trusted(ErrorInfo, {f.name: None for f in dataclasses.fields(ErrorInfo)}
                   | {"code": "c", "message": "m"})
    assert made == ErrorInfo("c", "m") and hash(made) == hash(ErrorInfo("c", "m"))
