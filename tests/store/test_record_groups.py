"""Both stores group a batch's records with ``runtrack._wire.group_records`` and so
reject a bad batch alike: one name with two kinds, a record that is not a five-tuple,
a time that is not a number; nothing of such a batch is stored."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runtrack import _wire
from runtrack.errors import InvalidTypeError, InvalidValueError
from runtrack.model import MetricBatch
from runtrack.store.base import TrackingStore
from runtrack.store.memory import MemoryStore
from runtrack.store.sql import SqlStore
from tests.store.contract import new_run


@pytest.fixture(params=["sql", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TrackingStore]:
    made: TrackingStore = (
        SqlStore(f"sqlite:///{tmp_path / 'rt.db'}") if request.param == "sql" else MemoryStore()
    )
    yield made
    made.close()


@pytest.mark.parametrize(
    "records, error, message",
    [
        ([("m", "scalar", None, 1.0, 1.0), ("m", "list", None, 2.0, 2.0)],
         InvalidValueError, "is scalar and list in one batch; a metric holds one kind"),
        ([("m", "scalar", None, 1.0)], InvalidTypeError, "must be \\(name, kind, step"),
        ([("m", "scalar", None, "noon", 1.0)], InvalidTypeError, "must be \\(name, kind, step"),
        ([("m", "sideways", None, 1.0, 1.0)], InvalidValueError, "sideways"),
    ],
)
def test_a_bad_batch_is_refused_alike_and_nothing_is_stored(
    store: TrackingStore, records: list[Any], error: type[Exception], message: str
) -> None:
    run_id = new_run(store)
    with pytest.raises(error, match=message):
        store.ingest(run_id, MetricBatch("s", 0, [("ok", "scalar", None, 0.5, 1.0), *records]))
    assert store.list_series(run_id) == []
    assert store.ingest_position(run_id, "s") == 0


def test_group_records_keeps_order_and_makes_times_floats() -> None:
    groups = _wire.group_records(
        [("a", "scalar", 0, 1, 1.0), ("b", "table", None, 2.5, {"x": 1}), ("a", "scalar", 1, 3, 2)],
        _Points,
    )
    assert list(groups) == ["a", "b"]
    a = groups["a"]
    assert (a.steps, a.times, a.values) == ([0, 1], [1.0, 3.0], [1.0, 2])
    assert type(groups["a"].times[0]) is float and groups["b"].kind == "table"


class _Points:
    """The least a group needs to be (``_wire.PointLists``)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.steps: list[int | None] = []
        self.times: list[float] = []
        self.values: list[Any] = []
