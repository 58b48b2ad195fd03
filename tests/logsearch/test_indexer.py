"""LogIndexer: incremental tailing of log artifacts into a real SQLite index."""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

import pytest

from runtrack import Experiment
from runtrack.logsearch import LogQuery
from runtrack.model import NewRun
from runtrack.runner.logindex import LogIndexer
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
