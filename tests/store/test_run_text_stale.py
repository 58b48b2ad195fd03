"""Stale runs on SQLite (revisions ``tg17_runtext_stale``, ``y18_runtext_batches``): a
run the driver path creates running has no ``run_text`` row while it runs, its writes
meanwhile build none; once it has ended it waits in the queue of ended runs, whose rows
are built together by the end that fills it; and the run search finds at every
moment, from any handle, what it finds once the rows are built (and what the Python
rule finds)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text

from runtrack.errors import ConflictError
from runtrack.model import NewRun, RunQuery, RunStatus
from runtrack.server.api._runs_table import matches
from runtrack.store.sql import SqlStore, migrations
from runtrack.store.sql.dialects import Dialect
from runtrack.store.sql.runtext import ENDED_BATCH
from tests.store.runtext_queue import fill_the_queue

# texts with FTS query syntax, short pieces, and characters the trigram index folds to
# ASCII letters (KELVIN SIGN, LONG S) or not (É)
RUNS: list[tuple[str, dict[str, str | None], dict[str, str]]] = [
    ('say "hi" there', {"quote": 'a"b', "star": "x*y"}, {"col": "body:abc"}),
    ("NEAR(a b) AND c", {"paren": "(x)", "kelvin": "\u212aelvin"}, {"minus": "-neg"}),
    ("plain-run", {"apos": "it's", "long": "cla\u017f\u017f"}, {"plus": "a+b"}),
    ("Été", {"empty": "", "bare": None}, {}),
]
WORDS = [
    ['"'], ['a"b'], ['"hi"'], ["say"], ["x*y"], ["*"], ["body:abc"], ["near(a"], ["and"],
    ["(x)"], ["("], ["-neg"], ["it's"], ["a+b"], ["empty="], ["bare"], ["hi", '"'],
    ["run", "plain"], ["ab"], ["a"], ["zz"], ["1"], ["2"], ["stale-"], ["kelvin"],
    ["kelvin=kel"], ["elvin"], ["class"], ["ass"], ["long=cla"], ["été"], ["ét"], ["Été"],
    ["t\u00e9"], ["quote=a\"b"], ["OR", "AND"], ["pl", "in-r"], ["star=x*", "script"],
]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    sql_store = SqlStore(f"sqlite:///{tmp_path / 'rt.db'}")
    with sql_store.engine.connect() as conn:
        if conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'run_text'")).first() \
                is None:
            pytest.skip("this SQLite has no FTS5 trigram tokenizer")
    yield sql_store
    sql_store.close()


def _rows(store: SqlStore, table: str) -> set[str]:
    with store.engine.connect() as conn:
        return set(conn.execute(text(f"SELECT run_id FROM {table}")).scalars())


def _fill(store: SqlStore, status: RunStatus) -> list[str]:
    exp = store.get_or_create_experiment("stale")
    ids = []
    for i, (name, tags, props) in enumerate(RUNS):
        run = store.create_run(NewRun(exp.id, f"stale-{i}", display_name=name,
                                      run_type="script", status=status))
        store.set_tags(run.id, dict(list(tags.items())[:1]))  # one tag per call, then
        store.set_tags(run.id, {**dict(list(tags.items())[1:]), "phase": "fill"})  # a hold
        if props:
            store.add_properties(run.id, props)
        ids.append(run.id)
    return ids


def _found(store: SqlStore) -> list[tuple[list[str], int]]:
    """What each of WORDS finds among the runs of ``_fill`` (not the fillers)."""
    query = RunQuery([store.get_or_create_experiment("stale").id], include_children=True)
    out = []
    for words in WORDS:
        found, total = store.search_runs_text(query, words)
        out.append(([r.id for r in found], total))
    return out


def test_a_running_run_has_no_row_until_it_ends_and_is_found_meanwhile(
    store: SqlStore,
) -> None:
    ids = _fill(store, RunStatus.RUNNING)
    store.update_run(ids[0], display_name='say "hi" there')  # a rename writes no row either
    assert _rows(store, "run_text_stale") == set(ids)
    assert _rows(store, "run_text") == set()
    while_running = _found(store)
    assert [total for _, total in while_running] != [0] * len(WORDS)
    # the index's answer once the rows are built is the same, word for word
    for run_id, status in zip(ids, (RunStatus.COMPLETED, RunStatus.FAILED,
                                    RunStatus.CANCELED, RunStatus.COMPLETED), strict=True):
        store.set_status(run_id, status)
    assert _rows(store, "run_text_ended") == set(ids)  # queued: still stale, still found
    assert _rows(store, "run_text_stale") == set(ids)
    assert _rows(store, "run_text") == set()
    assert _found(store) == while_running
    fill_the_queue(store)
    assert _rows(store, "run_text_stale") == set()
    assert _rows(store, "run_text") >= set(ids)
    assert _found(store) == while_running


def test_the_end_that_fills_the_queue_builds_every_queued_row(store: SqlStore) -> None:
    exp = store.get_or_create_experiment("e")
    ids = [store.create_run(NewRun(exp.id, f"b{i}", display_name="n", run_type="script",
                                   status=RunStatus.RUNNING, tags={"k": "v"})).id
           for i in range(ENDED_BATCH + 1)]
    for run_id in ids[: ENDED_BATCH - 1]:
        store.set_status(run_id, RunStatus.COMPLETED)
    assert _rows(store, "run_text_ended") == set(ids[: ENDED_BATCH - 1])
    assert _rows(store, "run_text") == set()
    store.set_status(ids[ENDED_BATCH - 1], RunStatus.FAILED)
    assert _rows(store, "run_text_ended") == set()
    assert _rows(store, "run_text") == set(ids[:ENDED_BATCH])
    assert _rows(store, "run_text_stale") == set(ids[ENDED_BATCH:])  # still running
    store.set_status(ids[ENDED_BATCH], RunStatus.COMPLETED)  # the next queue begins
    assert _rows(store, "run_text_ended") == set(ids[ENDED_BATCH:])
    found, total = store.search_runs_text(RunQuery(include_children=True), ["k=v"])
    assert sorted(r.id for r in found) == sorted(ids) and total == ENDED_BATCH + 1


def test_stale_and_indexed_runs_side_by_side(store: SqlStore) -> None:
    """The search is the union of the index's matches and the stale runs' matches, in
    the query's order and page; ASCII words find what the Python rule finds."""
    ids = _fill(store, RunStatus.RUNNING)
    for run_id in ids[::2]:
        store.set_status(run_id, RunStatus.COMPLETED)
    fill_the_queue(store)
    assert _rows(store, "run_text_stale") == set(ids[1::2])
    half = _found(store)
    every = store.search_runs(RunQuery(include_children=True))
    for words in (["kelvin"], ["a\"b", "script"], ["(x)"], ["-neg"], ["bare"], ["ab"]):
        expected = [r.id for r in every if matches(r, words)]
        found, total = store.search_runs_text(RunQuery(include_children=True), words)
        assert ([r.id for r in found], total) == (expected, len(expected)), words
    query = RunQuery(order_by=[("display_name", True)], offset=1, limit=2, run_type="script")
    found, total = store.search_runs_text(query, ["script"])
    names = sorted((name for name, _, _ in RUNS), reverse=True)
    assert ([r.display_name for r in found], total) == (names[1:3], 4)
    for run_id in ids[1::2]:
        store.set_status(run_id, RunStatus.COMPLETED)
    assert _found(store) == half


def test_another_handle_finds_a_tag_at_once(store: SqlStore, tmp_path: Path) -> None:
    exp = store.get_or_create_experiment("e")
    store.create_run(NewRun(exp.id, "r", display_name="n", run_type="script",
                            status=RunStatus.RUNNING))
    other = SqlStore(f"sqlite:///{tmp_path / 'rt.db'}")
    try:
        assert other.search_runs_text(RunQuery(), ["fresh-tag"])[1] == 0
        store.set_tags("r", {"fresh-tag": "1"})
        assert [r.id for r in other.search_runs_text(RunQuery(), ["fresh-tag=1"])[0]] == ["r"]
        store.set_tags("r", {"fresh-tag": "2"})
        assert other.search_runs_text(RunQuery(), ["fresh-tag=1"])[1] == 0
        store.remove_tags("r", ["fresh-tag"])
        assert other.search_runs_text(RunQuery(), ["fresh"])[1] == 0
    finally:
        other.close()


def test_what_marks_and_what_unmarks(store: SqlStore) -> None:
    exp = store.get_or_create_experiment("e")

    def new(run_id: str, status: RunStatus) -> NewRun:
        return NewRun(exp.id, run_id, display_name="n", run_type="script", status=status,
                      tags={"a": "1", "b": "2"})

    store.create_run(new("ended", RunStatus.COMPLETED))  # created ended: indexed at once
    store.create_run(new("queued", RunStatus.QUEUED))
    store.create_run(new("running", RunStatus.RUNNING))
    store.create_run(new("gone", RunStatus.RUNNING))
    store.driver_path = False  # the SQLAlchemy path (PostgreSQL's) marks nothing
    store.create_run(new("generic", RunStatus.RUNNING))
    store.driver_path = True
    assert _rows(store, "run_text_stale") == {"queued", "running", "gone"}
    assert _rows(store, "run_text") == {"ended", "generic"}
    with pytest.raises(ConflictError):  # a taken id: the mark goes with the transaction
        store.create_run(new("ended", RunStatus.RUNNING))
    store.set_status("queued", RunStatus.RUNNING)  # not an end: still stale
    store.restate_run("running", status=RunStatus.COMPLETED)  # MLflow's update: an end
    store.set_status("gone", RunStatus.FAILED)
    assert _rows(store, "run_text_ended") == {"running", "gone"}
    store.delete_run("gone")  # leaves the queue with its mark
    assert _rows(store, "run_text_ended") == {"running"}
    assert _rows(store, "run_text_stale") == {"queued", "running"}
    assert _rows(store, "run_text") == {"ended", "generic"}
    found, total = store.search_runs_text(RunQuery(), ["a=1", "b=2"])
    assert (sorted(r.id for r in found), total) == (["ended", "generic", "queued", "running"], 4)


def test_downgrade_builds_the_stale_runs_rows(store: SqlStore) -> None:
    ids = _fill(store, RunStatus.RUNNING)
    store.set_status(ids[0], RunStatus.COMPLETED)
    before = _found(store)
    config = Config()
    config.set_main_option("script_location", str(migrations.SCRIPT_LOCATION))
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "l17b_runtext_hold")
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
            "l17b_runtext_hold")
    assert _rows(store, "run_text") == set(ids)
    store.close()
    again = SqlStore(f"sqlite:///{store._sqlite_path}")  # upgraded again: nothing stale
    try:
        assert _rows(again, "run_text_stale") == set()
        assert _found(again) == before
    finally:
        again.close()


def test_without_the_index_marks_are_harmless(tmp_path: Path) -> None:
    """Where SQLite lacked the trigram tokenizer at migration (no ``run_text``), the
    table and the triggers that remove marks are there all the same: a running run is
    marked, its end unmarks it, and the search scans."""
    url = f"sqlite:///{tmp_path / 'rt.db'}"
    dialect = Dialect(url)
    engine = dialect.create_engine()
    migrations.upgrade(engine, dialect, "l17b_runtext_hold")
    with engine.begin() as conn:  # as c15_runtext leaves such a database
        for name in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                      "AND name LIKE 'run\\_text%' ESCAPE '\\'")).scalars():
            conn.execute(text(f"DROP TRIGGER {name}"))
        conn.execute(text("DROP TABLE run_text"))
    engine.dispose()
    store = SqlStore(url)
    try:
        exp = store.get_or_create_experiment("e")
        store.create_run(NewRun(exp.id, "r", display_name="n", run_type="script",
                                status=RunStatus.RUNNING, tags={"a": "1", "b": "2"}))
        assert _rows(store, "run_text_stale") == {"r"}
        assert store.search_runs_text(RunQuery(), ["a=1"])[1] == 1
        store.set_status("r", RunStatus.COMPLETED)
        assert _rows(store, "run_text_ended") == {"r"}
        assert store.search_runs_text(RunQuery(), ["a=1"])[1] == 1
        fill_the_queue(store)
        assert _rows(store, "run_text_stale") == set()
        assert store.search_runs_text(RunQuery(), ["a=1"])[1] == 1
        assert store._run_text_index is False
    finally:
        store.close()
