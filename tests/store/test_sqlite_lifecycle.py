"""SQLite's lifecycle writes through the driver (``store/sql/sqlite_lifecycle.py``) do what
the SQLAlchemy path does: the same rows, the same returned ``RunInfo``, the same errors.

Two stores on two SQLite files play one script of calls, one with ``driver_path`` (the
default on SQLite) and one without (the path PostgreSQL takes); every result and the
tables at the end must match, times aside.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from runtrack import limits
from runtrack.errors import RuntrackError, StoreUnavailableError
from runtrack.model import ErrorInfo, NewRun, RunInfo, RunStatus
from runtrack.store.sql import SqlStore
from runtrack.store.sql.schema import experiments, run_properties, run_tags, runs


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[SqlStore, SqlStore]]:
    fast = SqlStore(f"sqlite:///{tmp_path / 'fast.sqlite'}")
    generic = SqlStore(f"sqlite:///{tmp_path / 'generic.sqlite'}")
    assert fast.driver_path
    generic.driver_path = False
    yield fast, generic
    fast.close()
    generic.close()


def _timeless(value: Any) -> Any:
    if isinstance(value, RunInfo):
        return replace(value, created_time=0.0, start_time=value.start_time and 1.0,
                       end_time=value.end_time and 1.0)
    return value


def _outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", _timeless(call())
    except RuntrackError as exc:
        return type(exc).__name__, str(exc)


def _tables(store: SqlStore) -> list[list[tuple[Any, ...]]]:
    timeless = [c for c in runs.c if c.name not in ("created_time", "start_time", "end_time",
                                                       "last_activity")]
    with store.engine.connect() as conn:
        return [
            [tuple(r) for r in conn.execute(select(*timeless).order_by(runs.c.id))],
            [tuple(r) for r in conn.execute(select(run_tags).order_by(run_tags.c.run_id,
                                                                       run_tags.c.key))],
            [tuple(r) for r in conn.execute(
                select(run_properties).order_by(run_properties.c.run_id, run_properties.c.key))],
            [tuple(r) for r in conn.execute(select(experiments.c.name,
                                                   experiments.c.next_run_number))],
            [(r.start_time is None, r.end_time is None) for r in conn.execute(
                select(runs.c.start_time, runs.c.end_time).order_by(runs.c.id))],
        ]


def test_the_driver_path_does_what_the_sqlalchemy_path_does(
    stores: tuple[SqlStore, SqlStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_TAGS_PER_RUN", 4)
    monkeypatch.setattr(limits, "MAX_PROPERTIES_PER_RUN", 3)
    err = ErrorInfo("UserError", "it broke", "Traceback ...", 2)
    script: list[Callable[[SqlStore, str], Any]] = [
        lambda s, e: s.create_run(NewRun(e, "a", display_name="A", run_type="interactive",
                                         status=RunStatus.RUNNING, tags={"t": "1", "u": None},
                                         properties={"p": "x"}, definition={"k": [1]},
                                         description="d", compute_target="local")),
        lambda s, e: s.create_run(  # a taken id
            NewRun(e, "a", display_name="again", run_type="script")),
        lambda s, e: s.create_run(NewRun(e, "b", display_name="B", run_type="child", parent_id="a",
                                         status=RunStatus.NOT_STARTED)),
        lambda s, e: s.create_run(NewRun(e, "c", display_name="C", run_type="child",
                                         parent_id="nope")),
        lambda s, e: s.create_run(NewRun("999", "c", display_name="C", run_type="script")),
        lambda s, e: s.create_run(NewRun("x", "c", display_name="C", run_type="script")),
        lambda s, e: s.create_run(NewRun(e, "c", display_name="C", run_type="script",
                                         properties={"1": "1", "2": "2", "3": "3", "4": "4"})),
        lambda s, e: s.create_run(NewRun(e, "c", display_name="C", run_type="script",
                                         tags={str(k): "v" for k in range(5)})),
        lambda s, e: s.set_tags("a", {"t": "2", "v": "3"}),
        lambda s, e: s.set_tags("a", {"t": "4", "w": "5"}),  # 5 keys > 4
        lambda s, e: s.set_tags("a", {"t": "5", "u": "6"}),  # existing keys: still 4
        lambda s, e: s.set_tags("a", {}),
        lambda s, e: s.set_tags("nope", {"t": "1"}),
        lambda s, e: s.set_tags("nope", {}),
        lambda s, e: s.add_properties("a", {"p": "y"}),
        lambda s, e: s.set_status("b", RunStatus.RUNNING),
        lambda s, e: s.set_status("b", RunStatus.RUNNING),  # no change
        lambda s, e: s.set_status("b", RunStatus.FAILED, error=err),
        lambda s, e: s.set_status("b", RunStatus.COMPLETED),  # terminal is final
        lambda s, e: s.set_status("b", RunStatus.FAILED),  # the same terminal status
        lambda s, e: s.set_status("a", RunStatus.FINALIZING),
        lambda s, e: s.set_status("a", RunStatus.COMPLETED),
        lambda s, e: s.set_status("nope", RunStatus.COMPLETED),
        lambda s, e: s.get_run("a"),
        lambda s, e: s.get_run("b"),
    ]
    fast, generic = stores
    ids = [s.get_or_create_experiment("e").id for s in stores]
    for step, call in enumerate(script):
        got = [_outcome(lambda s=s, e=e, call=call: call(s, e))
               for s, e in zip(stores, ids, strict=True)]
        assert got[0] == got[1], f"step {step}"
    assert _tables(fast) == _tables(generic)
    info = fast.get_run("b")
    assert info.start_time is not None and info.end_time is not None
    assert info.error == err and info.status is RunStatus.FAILED


def test_a_failed_call_writes_nothing(stores: tuple[SqlStore, SqlStore]) -> None:
    fast, _ = stores
    exp = fast.get_or_create_experiment("e")
    fast.create_run(NewRun(exp.id, "a", display_name="A", run_type="script"))
    with pytest.raises(RuntrackError, match="already exists"):
        fast.create_run(NewRun(exp.id, "a", display_name="A", run_type="script"))
    # the failed create took no run number
    assert fast.create_run(NewRun(exp.id, "b", display_name="B", run_type="script")).number == 2


def test_an_unusable_database_file_is_named(stores: tuple[SqlStore, SqlStore]) -> None:
    fast, _ = stores
    exp = fast.get_or_create_experiment("e")
    fast.create_run(NewRun(exp.id, "a", display_name="A", run_type="script"))
    with fast._sqlite_write() as cur:  # the connection the store keeps for these writes
        cur.execute("PRAGMA query_only=ON")
    with pytest.raises(StoreUnavailableError, match=r"fast\.sqlite.*read-only"):
        fast.set_tags("a", {"t": "1"})
    fast.set_tags("a", {"t": "1"})  # on another connection: the unusable one is given up
    assert fast.get_run("a").tags == {"t": "1"}
