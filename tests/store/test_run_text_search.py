"""``SqlStore.search_runs_text`` (the runs page's search box inside the database) finds
exactly the runs the Python rule ``_runs_table.matches`` finds, on SQLite and
PostgreSQL, in the query's order and page; and the runs table answers the same
through it as through a store without it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from starlette.datastructures import QueryParams

from runtrack.errors import InvalidValueError
from runtrack.model import NewRun, RunQuery, RunStatus
from runtrack.server.api._runs_table import ARCHIVED_TAG, matches, parse_state, runs_table
from runtrack.store.base import RunTextSearch, TrackingStore
from runtrack.store.memory import MemoryStore
from runtrack.store.sql import SqlStore

RUNS: list[tuple[str, str, dict[str, str | None], dict[str, str]]] = [
    # (display name, run type, tags, properties)
    ("ResNet-50 baseline", "script", {"model": "resnet50", "lr": "0.1"}, {"seed": "7"}),
    ("vit 100% data", "hyperdrive", {"Team": "Vision", "bare": None}, {"git": "abc_def"}),
    ("under_score", "script", {"lr": "0.01", "path": "C:\\data\\x"}, {"note": "a=b=c"}),
    ("plain", "pipeline", {}, {}),
    ("ARCHIVED one", "script", {ARCHIVED_TAG: "1700000000", "model": "resnet50"}, {}),
    ("lr sweep", "script", {"lr": "0.001"}, {"seed": "70"}),
]
WORDS = [
    ["resnet"], ["RESNET-50"], ["100%"], ["%"], ["_"], ["abc_"], ["c_d"], ["\\"], ["\\data"],
    ["="], ["lr=0.1"], ["lr=0.1", "seed"], ["r=0"], ["a=b=c"], ["note=a"], ["bare"], ["bare="],
    ["team=vision"], ["vision", "bare"], ["hyperdrive"], ["script", "resnet50"], ["2"],
    ["run-"], ["zebra"], ["seed=7"], ["archived"], ["runtrack.archived"], ["0.0"],
    ["seed", "lr=0.1"], ["note", "a=b=c"], ["=", "_"], ["team", "bare="], ["0.1", "seed=7"],
    ["resnet50", "archived", "script"], ["vit", "bare", "zebra"],
]


def _fill(store: TrackingStore) -> None:
    exp = store.get_or_create_experiment("text")
    other = store.get_or_create_experiment("other")
    for i, (name, run_type, tags, props) in enumerate(RUNS):
        store.create_run(NewRun(exp.id if i % 2 == 0 else other.id, f"run-{i}", display_name=name,
                                run_type=run_type, status=RunStatus.COMPLETED, tags=tags,
                                properties=props))


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqlStore]:
    store = SqlStore(f"sqlite:///{tmp_path / 'rt.db'}")
    _fill(store)
    yield store
    store.close()


@pytest.fixture
def postgres_store(postgres_url: str) -> Iterator[SqlStore]:
    store = SqlStore(postgres_url)
    _fill(store)
    yield store
    store.close()


def _expected(store: TrackingStore, query: RunQuery, words: list[str]) -> list[str]:
    lowered = [w.lower() for w in words]
    return [r.id for r in store.search_runs(query) if matches(r, lowered)]


def _check_same_as_python(store: SqlStore) -> None:
    assert isinstance(store, RunTextSearch)
    query = RunQuery(include_children=True)
    for words in WORDS:
        found, total = store.search_runs_text(query, words)
        expected = _expected(store, query, words)
        assert [r.id for r in found] == expected, words
        assert total == len(expected), words
    # some words must find something, or the comparison above proves little
    assert store.search_runs_text(query, ["100%"])[0][0].id == "run-1"
    assert {r.id for r in store.search_runs_text(query, ["lr=0.1"])[0]} == {"run-0"}
    assert store.search_runs_text(query, ["%"])[1] == 1
    assert {r.id for r in store.search_runs_text(query, ["_"])[0]} == {"run-1", "run-2"}


def test_sqlite_finds_what_the_python_rule_finds(sqlite_store: SqlStore) -> None:
    _check_same_as_python(sqlite_store)


def test_postgres_finds_what_the_python_rule_finds(postgres_store: SqlStore) -> None:
    _check_same_as_python(postgres_store)


def test_filters_order_and_page_apply(sqlite_store: SqlStore) -> None:
    store = sqlite_store
    exp = store.get_experiment_by_name("text")
    assert exp is not None
    query = RunQuery(experiment_ids=[exp.id], order_by=[("display_name", False)],
                     conditions=[("tag", ARCHIVED_TAG, "IS NULL", None)])
    every, total = store.search_runs_text(query, ["script"])
    assert [r.display_name for r in every] == ["ResNet-50 baseline", "under_score"]
    assert total == 2
    page, total = store.search_runs_text(replace(query, offset=1, limit=1), ["script"])
    assert [r.id for r in page] == ["run-2"] and total == 2
    assert page[0].tags == {"lr": "0.01", "path": "C:\\data\\x"}  # whole runs come back
    assert store.search_runs_text(replace(query, offset=5), ["script"]) == ([], 2)


def test_bad_words_are_refused(sqlite_store: SqlStore) -> None:
    bad: list[list[Any]] = [[""], ["two words"], [3]]
    for words in bad:
        with pytest.raises(InvalidValueError, match="without spaces"):
            sqlite_store.search_runs_text(RunQuery(), words)


@pytest.mark.parametrize("q", ["resnet", "SCRIPT 0.0", "_", "100%", "lr=0.1", "zebra", "run-"])
@pytest.mark.parametrize("extra", ["", "&sort=display_name", "&sort=-tag:lr", "&archived=1",
                                   "&per_page=1&page=2"])
def test_runs_table_answers_as_without_the_extension(
    sqlite_store: SqlStore, q: str, extra: str
) -> None:
    memory = MemoryStore()
    _fill(memory)
    assert not isinstance(memory, RunTextSearch)  # the Python path
    state = parse_state(QueryParams(f"q={q}{extra}"))
    ours, theirs = runs_table(sqlite_store, state), runs_table(memory, state)
    assert ours["total"] == theirs["total"]
    assert [r["id"] for r in ours["runs"]] == [r["id"] for r in theirs["runs"]]
