"""The run search index (revision ``c15_runtext``): SQLite's FTS5 trigram table
``run_text``, kept by triggers through every write of a run's texts, and PostgreSQL's
pg_trgm indexes; search through them finds what the Python rule finds, also for words
with FTS query syntax in them and words shorter than a trigram."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from runtrack.model import NewRun, RunQuery, RunStatus
from runtrack.server.api._runs_table import matches
from runtrack.store.sql import SqlStore, migrations
from runtrack.store.sql.dialects import Dialect
from runtrack.store.sql.query import _filters
from runtrack.store.sql.runtext import _holds
from runtrack.store.sql.schema import runs
from tests.store.runtext_queue import fill_the_queue

RUNS: list[tuple[str, dict[str, str | None], dict[str, str]]] = [
    # (display name, tags, properties): texts with FTS5 query syntax in them
    ('say "hi" there', {"quote": 'a"b', "star": "x*y"}, {"col": "body:abc"}),
    ("NEAR(a b) AND c", {"paren": "(x)", "caret": "^start"}, {"minus": "-neg"}),
    ("plain-run", {"apos": "it's", "or": "OR"}, {"plus": "a+b"}),
    ("other", {"empty": "", "bare": None}, {}),
]
WORDS = [
    ['"'], ['a"b'], ['"hi"'], ['say'], ["x*y"], ["*"], ["body:abc"], ["body:"], [":"],
    ["near(a"], ["and"], ["(x)"], ["("], [")"], ["^start"], ["^"], ["-neg"], ["-"],
    ["it's"], ["'"], ["or"], ["a+b"], ["+"], ["empty="], ["bare"], ["hi", '"'],
    ['"hi"', "it's"], ["run", "plain"], ["ab"], ["a"], ["x"], ["zz"], ["1"], ["run-"],
    ["quote=a\"b"], ["star=x*"], ["OR", "AND"], ["pl", "in-r"],
]


def _fill(store: SqlStore) -> list[str]:
    exp = store.get_or_create_experiment("idx")
    ids = []
    for i, (name, tags, props) in enumerate(RUNS):
        run = store.create_run(NewRun(exp.id, f"idx-{i}", display_name=name, run_type="script",
                                      status=RunStatus.COMPLETED, tags=tags, properties=props))
        ids.append(run.id)
    return ids


def _check(store: SqlStore, words_list: list[list[str]]) -> None:
    query = RunQuery(include_children=True)
    every = store.search_runs(query)
    for words in words_list:
        lowered = [w.lower() for w in words]
        expected = [r.id for r in every if matches(r, lowered)]
        found, total = store.search_runs_text(query, words)
        assert ([r.id for r in found], total) == (expected, len(expected)), words


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqlStore]:
    store = SqlStore(f"sqlite:///{tmp_path / 'rt.db'}")
    yield store
    store.close()


def _bodies(store: SqlStore) -> dict[str, set[str]]:
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT run_id, body FROM run_text")).all()
    return {r[0]: set(r[1].split("\n")) for r in rows}


def _texts(store: SqlStore) -> dict[str, set[str]]:
    out = {}
    for run in store.search_runs(RunQuery(include_children=True)):
        texts = {run.display_name, run.id, str(run.number), run.run_type}
        for source in (run.tags, run.properties):
            texts |= {k if v is None else f"{k}={v}" for k, v in source.items()}
        out[run.id] = texts
    return out


def test_sqlite_index_finds_what_the_python_rule_finds(sqlite_store: SqlStore) -> None:
    _fill(sqlite_store)
    _check(sqlite_store, WORDS)
    assert sqlite_store.search_runs_text(RunQuery(), ['a"b'])[1] == 1
    assert sqlite_store.search_runs_text(RunQuery(), ["x*"])[1] == 1


def test_sqlite_search_reads_the_index(sqlite_store: SqlStore) -> None:
    _fill(sqlite_store)
    assert sqlite_store.search_runs_text(RunQuery(), ["plain"])[1] == 1
    with sqlite_store.engine.begin() as conn:  # an emptied index finds nothing
        conn.execute(text("DELETE FROM run_text"))
    assert sqlite_store.search_runs_text(RunQuery(), ["plain"])[1] == 0
    assert sqlite_store.search_runs_text(RunQuery(), ["pl"])[1] == 0


def test_sqlite_index_follows_every_write(sqlite_store: SqlStore) -> None:
    store = sqlite_store
    ids = _fill(store)
    assert _bodies(store) == _texts(store)
    store.set_tags(ids[0], {"quote": "changed", "new": "tagvalue", "none": None})
    store.remove_tags(ids[1], ["paren"])
    store.add_properties(ids[2], {"added": "propvalue"})
    store.update_run(ids[3], display_name="renamed-run")
    exp = store.get_or_create_experiment("idx")
    child = store.create_run(NewRun(exp.id, "child", display_name="kid", run_type="script",
                                    status=RunStatus.RUNNING, parent_id=ids[2],
                                    tags={"k": "v"}))
    # a running run's row waits for its end (tg17_runtext_stale); the search finds it
    texts = _texts(store)
    assert _bodies(store) == {k: v for k, v in texts.items() if k != child.id}
    _check(store, [["changed"], ['a"b'], ["tagvalue"], ["none"], ["(x)"], ["propvalue"],
                   ["renamed"], ["other"], ["kid"], ["k=v"], *WORDS])
    store.set_status(child.id, RunStatus.COMPLETED)  # queued (y18_runtext_batches): found
    _check(store, [["kid"], ["k=v"]])
    fill_the_queue(store)
    assert _bodies(store) == _texts(store)
    store.delete_run(ids[2])  # and its child
    assert child.id not in _bodies(store)
    assert _bodies(store) == _texts(store)
    _check(store, [["propvalue"], ["kid"], *WORDS])


def test_upgrade_indexes_the_runs_already_there(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rt.db'}"
    dialect = Dialect(url)
    engine = dialect.create_engine()
    migrations.upgrade(engine, dialect, "s16a_compute")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO experiments (name, created_time, archived, "
                          "next_run_number) VALUES ('old', 0, 0, 2)"))
        conn.execute(text("INSERT INTO runs (id, experiment_id, number, display_name, status, "
                          "run_type, created_time, last_activity, compute_target) VALUES "
                          "('old-run', 1, 1, 'before the index', 'Completed', 'script', 0, 0, "
                          "'local')"))
        conn.execute(text("INSERT INTO run_tags (run_id, key, value) "
                          "VALUES ('old-run', 'model', 'legacy-net')"))
    engine.dispose()
    store = SqlStore(url)
    try:
        assert [r.id for r in store.search_runs_text(RunQuery(), ["legacy-net"])[0]] == [
            "old-run"]
        assert [r.id for r in store.search_runs_text(RunQuery(), ["model=leg"])[0]] == [
            "old-run"]
        assert _bodies(store) == _texts(store)
    finally:
        store.close()


@pytest.fixture
def postgres_store(postgres_url: str) -> Iterator[SqlStore]:
    store = SqlStore(postgres_url)
    yield store
    store.close()


def test_postgres_finds_what_the_python_rule_finds(postgres_store: SqlStore) -> None:
    ids = _fill(postgres_store)
    _check(postgres_store, WORDS)
    postgres_store.set_tags(ids[0], {"quote": "changed"})
    _check(postgres_store, [["changed"], ['a"b']])


def test_postgres_trigram_indexes_serve_the_search(postgres_store: SqlStore) -> None:
    """With pg_trgm (there in the test clusters) the word's tests can use the GIN
    indexes: with sequential scans off, the plan reads them."""
    _fill(postgres_store)
    with postgres_store.engine.connect() as conn:
        names = set(conn.execute(text(
            "SELECT indexname FROM pg_indexes WHERE indexname LIKE '%\\_trgm'")).scalars())
    assert names == {"ix_runs_id_trgm", "ix_runs_display_name_trgm", "ix_runs_run_type_trgm",
                     "ix_run_tags_key_trgm", "ix_run_tags_value_trgm",
                     "ix_run_properties_key_trgm", "ix_run_properties_value_trgm"}
    statement = select(runs.c.id).where(_holds("plain", False, True),
                                        *_filters(RunQuery()))
    compiled = statement.compile(postgres_store.engine,
                                 compile_kwargs={"literal_binds": True})
    with postgres_store.engine.connect() as conn:
        conn.execute(text("SET enable_seqscan = off"))
        plan = "\n".join(conn.execute(text(f"EXPLAIN {compiled}")).scalars())
    for name in ("ix_runs_display_name_trgm", "ix_run_tags_value_trgm",
                 "ix_run_properties_value_trgm"):
        assert name in plan, plan


def test_sqlite_without_the_index_scans_and_finds_the_same(tmp_path: Path) -> None:
    """A database migrated where SQLite had no trigram tokenizer has no ``run_text``
    (the migration leaves it out): the search scans the tables instead."""
    url = f"sqlite:///{tmp_path / 'rt.db'}"
    store = SqlStore(url)
    _fill(store)
    with store.engine.begin() as conn:
        for name in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                      "AND name LIKE 'run\\_text%' ESCAPE '\\'")).scalars():
            conn.execute(text(f"DROP TRIGGER {name}"))
        conn.execute(text("DROP TABLE run_text"))
    store.close()
    store = SqlStore(url)
    try:
        _check(store, WORDS)
        assert store._run_text_index is False
    finally:
        store.close()
