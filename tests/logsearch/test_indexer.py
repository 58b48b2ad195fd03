"""LogIndexer: incremental tailing of log artifacts into a real SQLite index."""

from __future__ import annotations

import threading
import traceback
from pathlib import Path
from typing import Any

import pytest

from runtrack import Experiment
from runtrack.logsearch import LogQuery
from runtrack.model import NewRun
from runtrack.runner.logindex import IndexerThread, LogIndexer
from runtrack.store.artifacts import LocalArtifactStore
from runtrack.store.sql import SqlStore


@pytest.fixture
def parts(tmp_path: Path) -> Any:
    store = SqlStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    artifacts = LocalArtifactStore(str(tmp_path / "artifacts"))
    exp = store.get_or_create_experiment("e")
    store.create_run(NewRun(exp.id, "r", display_name="r", run_type="script"))
    yield store, artifacts
    store.close()


def _lines(store: SqlStore, text: str) -> list[tuple[str, int]]:
    return [(h.path, h.line_no) for h in store.search_logs(LogQuery(text, limit=100))]


def test_incremental_with_partial_lines(parts: Any) -> None:
    store, artifacts = parts
    indexer = LogIndexer(store, artifacts, "r")
    artifacts.append("r", "user_logs/std_log.txt", b"alpha one\nbeta tw")
    artifacts.append("r", "system_logs/driver.txt", b"gamma\n")
    artifacts.append("r", "outputs/model.txt", b"alpha not a log\n")
    indexer.step()
    assert _lines(store, "alpha") == [("user_logs/std_log.txt", 1)]
    assert _lines(store, "beta") == []  # the line is not finished yet
    artifacts.append("r", "user_logs/std_log.txt", b"o\nalpha three")
    indexer.step()
    assert _lines(store, "beta two") == [("user_logs/std_log.txt", 2)]
    indexer.step(final=True)  # the end of the run: the unterminated last line counts
    assert _lines(store, "alpha") == [("user_logs/std_log.txt", 3), ("user_logs/std_log.txt", 1)]
    assert _lines(store, "gamma") == [("system_logs/driver.txt", 1)]


def test_store_away_then_back(parts: Any) -> None:
    store, artifacts = parts
    calls = {"n": 0}
    real = store.index_log_lines

    def flaky(*args: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("server away")
        return real(*args)

    store.index_log_lines = flaky  # the store itself, one call failing like a lost server
    indexer = LogIndexer(store, artifacts, "r")
    artifacts.append("r", "logs/user_log.txt", b"kept for retry\n")
    indexer.step()
    assert _lines(store, "kept") == []
    artifacts.append("r", "logs/user_log.txt", b"second\n")
    indexer.step()
    assert _lines(store, "kept for retry") == [("logs/user_log.txt", 1)]
    assert _lines(store, "second") == [("logs/user_log.txt", 2)]


TB = b"""Traceback (most recent call last):
  File "train.py", line 9, in <module>
    step()
ValueError: loss is nan
after the traceback
"""


def test_reading_and_tracebacks_do_not_wait_for_the_index(parts: Any) -> None:
    store, artifacts = parts
    real = store.index_log_lines
    entered, gate = threading.Event(), threading.Event()

    def slow(*args: Any) -> int:  # a store far slower than the logs
        entered.set()
        gate.wait(60)
        return int(real(*args))

    store.index_log_lines = slow
    thread = IndexerThread(LogIndexer(store, artifacts, "r"), every=0.05)
    thread.start()
    artifacts.append("r", "user_logs/std_log.txt", b"first line\n")
    assert entered.wait(30)  # the writer is inside the store now, and stays there
    artifacts.append("r", "user_logs/std_log.txt", TB)
    artifacts.append("r", "user_logs/std_log.txt", b"".join(b"%d\n" % i for i in range(30_000)))
    indexer = thread.stop_reading()  # returns while the writer is still blocked
    [scanner] = indexer.tracebacks()
    assert scanner.last is not None
    assert (scanner.last.exc_type, scanner.last.line) == ("ValueError", 2)
    # the index pass reads only what the store takes: nothing piled up meanwhile
    assert [len(f.pending) for f in indexer.files.values()] == [1]
    assert _lines(store, "after the traceback") == []
    gate.set()
    assert thread.wait_indexed(60)
    assert _lines(store, "after the traceback") == [("user_logs/std_log.txt", 6)]
    assert _lines(store, "first line") == [("user_logs/std_log.txt", 1)]
    assert _lines(store, "29999") == [("user_logs/std_log.txt", 30_006)]


def test_wait_indexed_gives_up_on_a_store_that_refuses(parts: Any) -> None:
    store, artifacts = parts

    def refuse(*args: Any) -> int:
        raise ConnectionError("server away")

    store.index_log_lines = refuse
    thread = IndexerThread(LogIndexer(store, artifacts, "r"), every=0.05)
    thread.start()
    artifacts.append("r", "logs/user_log.txt", b"never indexed\n")
    thread.stop_reading()
    assert not thread.wait_indexed(0.3)
    assert _lines(store, "never indexed") == []
    thread._writer.join(30)
    assert not thread._writer.is_alive()  # it stopped retrying


def test_interactive_run_indexes_its_output_and_notes_a_printed_traceback(
    exp: Experiment,
) -> None:
    with exp.start_logging(outputs=False) as run:
        print("training starts")
        try:
            raise OSError("disk quota exceeded on /scratch")
        except OSError:
            traceback.print_exc()
        print("training goes on")
    details = run.get_details()
    assert details["status"] == "Completed"
    error = details["error"]["error"]
    assert error["code"] == "TracebackInLog" and error["type"] == "OSError"
    hits = exp.workspace.store.search_logs(LogQuery("disk quota exceeded"))
    assert {(h.run_id, h.path) for h in hits} == {(run.id, "logs/user_log.txt")}
