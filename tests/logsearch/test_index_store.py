"""The log search index on real SQLite FTS5 and real PostgreSQL full-text."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runtrack import limits
from runtrack.errors import InvalidValueError, NotFoundError
from runtrack.logsearch import LogQuery
from runtrack.model import NewRun, RunStatus
from runtrack.store.sql import SqlStore

LOG = "user_logs/std_log.txt"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_url")
    s = SqlStore(url)
    yield s
    s.close()


def _run(
    store: SqlStore, run_id: str, exp: str = "e", status: RunStatus = RunStatus.RUNNING
) -> None:
    e = store.get_or_create_experiment(exp)
    store.create_run(NewRun(e.id, run_id, display_name=run_id, run_type="script", status=status))


def test_phrase_search_with_context_newest_first(store: SqlStore) -> None:
    _run(store, "a")
    _run(store, "b")
    store.index_log_lines("a", LOG, 1, ["start", "RuntimeError: CUDA out of memory.", "end"])
    store.index_log_lines("b", LOG, 1, ["x", "y", "torch: CUDA out of memory; tried 2 GiB"])
    hits = store.search_logs(LogQuery("cuda OUT of memory", context=1))
    assert [(h.run_id, h.line_no) for h in hits] == [("b", 3), ("a", 2)]
    assert hits[1].before == ["start"] and hits[1].after == ["end"]
    assert hits[0].after == [] and hits[0].before == ["y"]
    assert hits[0].path == LOG and hits[0].experiment_name == "e"
    # the words must come in that order
    assert store.search_logs(LogQuery("memory of out cuda")) == []


def test_context_across_batches_of_interleaved_files(store: SqlStore) -> None:
    _run(store, "a")
    store.index_log_lines("a", LOG, 1, ["a1", "a2", "a3"])
    store.index_log_lines("a", "logs/other.txt", 1, ["o1", "o2 needle", "o3"])
    store.index_log_lines("a", LOG, 4, ["a4 needle", "a5"])
    store.index_log_lines("a", "logs/other.txt", 4, ["o4"])
    hits = store.search_logs(LogQuery("needle", context=2))
    assert [(h.path, h.before, h.line, h.after) for h in hits] == [
        (LOG, ["a2", "a3"], "a4 needle", ["a5"]),
        ("logs/other.txt", ["o1"], "o2 needle", ["o3", "o4"]),
    ]
    many = store.search_logs(LogQuery("needle", context=0, limit=1))
    assert [(h.line, h.before, h.after) for h in many] == [("a4 needle", [], [])]


def test_filters(store: SqlStore) -> None:
    _run(store, "a", exp="one")
    _run(store, "b", exp="two")
    store.set_status("b", RunStatus.FAILED)
    for rid in ("a", "b"):
        store.index_log_lines(rid, LOG, 1, ["NCCL watchdog timeout"])
    two = store.get_experiment_by_name("two")
    assert two is not None
    assert [h.run_id for h in store.search_logs(LogQuery("nccl", experiment_ids=[two.id]))] == ["b"]
    assert [h.run_id for h in store.search_logs(
        LogQuery("nccl", status=[RunStatus.FAILED]))] == ["b"]
    assert [h.run_id for h in store.search_logs(LogQuery("nccl", run_id="a"))] == ["a"]
    assert store.search_logs(LogQuery("nccl", since=time.time() + 3600)) == []
    assert len(store.search_logs(LogQuery("nccl", limit=1))) == 1


def test_incremental_and_idempotent(store: SqlStore) -> None:
    _run(store, "a")
    assert store.log_index_position("a", LOG) == 1
    assert store.index_log_lines("a", LOG, 1, ["one", "two"]) == 3
    # a retried batch overlapping what is in never doubles a line
    assert store.index_log_lines("a", LOG, 2, ["two", "three"]) == 4
    assert store.log_index_position("a", LOG) == 4
    assert [h.line_no for h in store.search_logs(LogQuery("two"))] == [2]
    assert [h.line_no for h in store.search_logs(LogQuery("three"))] == [3]


def test_fts_syntax_is_plain_text(store: SqlStore) -> None:
    _run(store, "a")
    odd = 'x "quoted" AND (NEAR OR) * col:val -neg ^caret \' ; DROP TABLE runs; -- !& | <->'
    store.index_log_lines("a", LOG, 1, [odd, "plain"])
    for query in ['"quoted" AND (NEAR', "col:val -neg", "DROP TABLE runs;", "!& | <-> x",
                  "NEAR(", "*", 'x "quoted']:
        if any(c.isalnum() for c in query):
            hits = store.search_logs(LogQuery(query))
            assert [h.line_no for h in hits] == [1], query
        else:
            with pytest.raises(InvalidValueError, match="no word"):
                store.search_logs(LogQuery(query))
    assert store.get_run("a").id == "a"


def test_bad_input_lines_are_stored_safely(store: SqlStore) -> None:
    _run(store, "a")
    long = "y" * (10 << 20)
    store.index_log_lines("a", LOG, 1, ["nul\x00inside token", long, "\udcff lone surrogate"])
    hits = store.search_logs(LogQuery("nulinside"))
    assert [h.line for h in hits] == ["nulinside token"]
    hits = store.search_logs(LogQuery("token", context=1))
    assert len(hits[0].after[0]) == limits.MAX_LOG_LINE_CHARS


def test_cap_per_run(store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_INDEXED_LOG_LINES_PER_RUN", 3)
    _run(store, "a")
    assert store.index_log_lines("a", LOG, 1, ["w1", "w2"]) == 3
    assert store.index_log_lines("a", "logs/other.txt", 1, ["w3", "w4", "w5"]) == 4
    found = {h.line for q in ("w1", "w2", "w3", "w4", "w5") for h in store.search_logs(LogQuery(q))}
    assert found == {"w1", "w2", "w3"}
    # the position still moves on, so the indexer does not resend what was left out
    assert store.log_index_position("a", "logs/other.txt") == 4


def test_bad_calls(store: SqlStore) -> None:
    _run(store, "a")
    with pytest.raises(NotFoundError):
        store.index_log_lines("missing", LOG, 1, ["x"])
    with pytest.raises(InvalidValueError, match="first_line"):
        store.index_log_lines("a", LOG, 0, ["x"])
    with pytest.raises(InvalidValueError, match="strings"):
        store.index_log_lines("a", LOG, 1, [b"x"])  # type: ignore[list-item]
    with pytest.raises(InvalidValueError, match="limit"):
        store.search_logs(LogQuery("x", limit=0))
    with pytest.raises(InvalidValueError, match="context"):
        store.search_logs(LogQuery("x", context=99))
    with pytest.raises(InvalidValueError, match="at most"):
        store.search_logs(LogQuery("x" * 5000))


def test_deleting_a_run_drops_its_lines(store: SqlStore) -> None:
    _run(store, "a")
    _run(store, "b")
    store.index_log_lines("a", LOG, 1, ["shared words"])
    store.index_log_lines("b", LOG, 1, ["shared words"])
    store.delete_run("a")
    assert [h.run_id for h in store.search_logs(LogQuery("shared words"))] == ["b"]


def test_filters_when_many_files_match(store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> None:
    from runtrack.store.sql import logindex

    monkeypatch.setattr(logindex, "MAX_SEEK_FILES", 0)  # the chunked newest-first scan
    monkeypatch.setattr(logindex, "SCAN_CHUNK", 2)
    test_filters(store)


def test_filters_when_many_files_match_a_common_phrase(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runtrack.store.sql import logindex

    # many files, a phrase in every line of them: the newest matches (of other runs)
    # exhaust the scan's budget before the filter keeps any, then the files are sought
    monkeypatch.setattr(logindex, "MAX_SEEK_FILES", 1)
    monkeypatch.setattr(logindex, "PROBE_FILES", 1)  # too few to answer: the fallbacks run
    monkeypatch.setattr(logindex, "SCAN_CHUNK", 2)
    monkeypatch.setattr(logindex, "SCAN_BUDGET", 4)
    for name in ("old1", "old2", "old3", "new1", "new2"):
        _run(store, name, status=RunStatus.FAILED if name.startswith("old") else
             RunStatus.COMPLETED)
    for name in ("old1", "old2", "old3", "new1", "new2"):
        store.index_log_lines(name, LOG, 1, [f"step loss {name} {i}" for i in range(1, 5)])
    failed = store.search_logs(LogQuery("step loss", status=[RunStatus.FAILED], limit=6))
    assert [(h.run_id, h.line_no) for h in failed] == [
        ("old3", 4), ("old3", 3), ("old3", 2), ("old3", 1), ("old2", 4), ("old2", 3)
    ]
    few = store.search_logs(LogQuery("old1 3", status=[RunStatus.FAILED]))
    assert [(h.run_id, h.line_no) for h in few] == [("old1", 3)]
    assert store.search_logs(LogQuery("new1", status=[RunStatus.FAILED])) == []


def test_many_files_the_newest_answer_when_the_phrase_is_common_in_them(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runtrack.store.sql import logindex

    scans: list[int] = []
    real_scan = logindex._scan

    def counted_scan(*args: Any) -> tuple[list[int], bool]:
        scans.append(1)
        return real_scan(*args)

    monkeypatch.setattr(logindex, "_scan", counted_scan)
    monkeypatch.setattr(logindex, "MAX_SEEK_FILES", 2)
    sqlite = store.dialect.is_sqlite  # PostgreSQL has one statement for it all
    for name in ("f1", "f2", "f3", "ok"):
        _run(store, name, status=RunStatus.COMPLETED if name == "ok" else RunStatus.FAILED)
    # f1's lines arrive in two parts around f2's: files ordered by their newest line are
    # f3, f1, f2, but f2 holds lines newer than f1's first part
    store.index_log_lines("f1", LOG, 1, ["step loss f1 1", "step loss f1 2"])
    store.index_log_lines("f2", LOG, 1, [f"step loss f2 {i}" for i in range(1, 5)])
    store.index_log_lines("f1", LOG, 3, ["step loss f1 3", "step loss f1 4"])
    store.index_log_lines("f3", LOG, 1, [f"step loss f3 {i}" for i in range(1, 5)])
    store.index_log_lines("ok", LOG, 1, [f"step loss ok {i}" for i in range(1, 50)])

    def failed(limit: int) -> list[tuple[str, int]]:
        query = LogQuery("step loss", status=[RunStatus.FAILED], limit=limit)
        return [(h.run_id, h.line_no) for h in store.search_logs(query)]

    newest = [("f3", 4), ("f3", 3), ("f3", 2), ("f3", 1), ("f1", 4), ("f1", 3)]
    monkeypatch.setattr(logindex, "PROBE_FILES", 3)
    assert failed(5) == newest[:5]  # f3 and f1 sought; f2 holds only older lines
    if sqlite:
        assert scans == []  # the probe answered
    # 7 hits: the 2 probed files f3 and f1 hold 8, but f2 (after them) has lines newer
    # than f1's 2 and 1, so the probe cannot answer
    monkeypatch.setattr(logindex, "PROBE_FILES", 2)
    assert failed(7) == [*newest, ("f2", 4)]
    if sqlite:
        assert scans == [1]
    assert failed(20) == [*newest, ("f2", 4), ("f2", 3), ("f2", 2), ("f2", 1), ("f1", 2),
                          ("f1", 1)]
