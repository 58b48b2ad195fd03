"""One ``run_text`` rebuild per run per write on SQLite (revision ``l17b_runtext_hold``):
a held run's row triggers wait, releasing the hold rebuilds the row once, and what the
index holds afterwards is what per-row rebuilds give (the SQLAlchemy path, which does
not hold)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from runtrack.errors import ConflictError
from runtrack.model import NewRun, RunQuery, RunStatus
from runtrack.store.sql import SqlStore
from tests.store.runtext_queue import fill_the_queue


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    sql_store = SqlStore(f"sqlite:///{tmp_path / 'rt.db'}")
    yield sql_store
    sql_store.close()


def _body(store: SqlStore, run_id: str) -> str:
    with store.engine.connect() as conn:
        return str(conn.execute(text("SELECT body FROM run_text WHERE run_id = :r"),
                                {"r": run_id}).scalar_one())


def _has_index(store: SqlStore) -> bool:
    with store.engine.connect() as conn:
        return conn.execute(text(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'run_text'"
        )).first() is not None


def test_a_held_run_is_rebuilt_once_when_released(store: SqlStore) -> None:
    if not _has_index(store):
        pytest.skip("this SQLite has no FTS5 trigram tokenizer")
    exp = store.get_or_create_experiment("e")
    # an ended run: a running one is stale (tg17_runtext_stale), which pauses more
    store.create_run(NewRun(exp.id, "r", display_name="n", run_type="script",
                            status=RunStatus.COMPLETED))
    conn = sqlite3.connect(store._sqlite_path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO run_text_hold (run_id) VALUES ('r')")
        conn.execute("INSERT INTO run_tags (run_id, key, value) VALUES ('r', 'k', 'v')")
        conn.execute("INSERT INTO run_properties (run_id, key, value) VALUES ('r', 'p', 'q')")
        held = conn.execute("SELECT body FROM run_text WHERE run_id = 'r'").fetchone()[0]
        assert "k=v" not in held and "p=q" not in held  # the row triggers waited
        conn.execute("DELETE FROM run_text_hold WHERE run_id = 'r'")
        body = conn.execute("SELECT body FROM run_text WHERE run_id = 'r'").fetchone()[0]
        assert body == "r\nn\n1\nscript\nk=v\np=q"
        conn.execute("INSERT INTO run_tags (run_id, key, value) VALUES ('r', 'k2', 'v2')")
        body = conn.execute("SELECT body FROM run_text WHERE run_id = 'r'").fetchone()[0]
        assert "k2=v2" in body  # not held: each row rebuilds, as before
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def test_driver_writes_index_what_the_generic_path_indexes(store: SqlStore) -> None:
    if not _has_index(store):
        pytest.skip("this SQLite has no FTS5 trigram tokenizer")
    exp = store.get_or_create_experiment("e")
    tags: dict[str, str | None] = {"a": "1", "b": None, "c": "x y"}
    for run_id, driver in (("fast", True), ("slow", False)):
        store.driver_path = driver
        store.create_run(NewRun(exp.id, run_id, display_name="same", run_type="script",
                                status=RunStatus.RUNNING, tags=tags,
                                properties={"p": "1", "q": "2"}))
        store.set_tags(run_id, {"a": "changed", "d": "4", "e": None})
        store.set_tags(run_id, {"f": "6"})
        store.set_status(run_id, RunStatus.COMPLETED)  # a running run's row waits
    store.driver_path = True
    fill_the_queue(store)  # for the end that fills the queue of ended runs
    fast, slow = _body(store, "fast"), _body(store, "slow")
    assert fast.split("\n")[4:] == slow.split("\n")[4:]  # all but id, name, number, type
    assert "a=changed" in fast and "f=6" in fast and "q=2" in fast
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM run_text_hold")).scalar_one() == 0
    found, total = store.search_runs_text(RunQuery(), ["a=changed", "d=4"])
    assert sorted(r.id for r in found) == ["fast", "slow"] and total == 2


def test_a_failed_write_leaves_no_hold(store: SqlStore) -> None:
    """The hold goes with the transaction: a write that fails rolls it back too."""
    exp = store.get_or_create_experiment("e")
    new = NewRun(exp.id, "r", display_name="n", run_type="script", tags={"a": "1", "b": "2"})
    store.create_run(new)
    with pytest.raises(ConflictError, match="already exists"):
        store.create_run(new)
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM run_text_hold")).scalar_one() == 0
    store.set_tags("r", {"c": "3", "d": "4"})  # the run can be held again
    assert store.get_run("r").tags == {"a": "1", "b": "2", "c": "3", "d": "4"}
