"""Raw SQLite errors that mean the database file is unusable become a StoreUnavailableError
naming the file and what to do — at open and on any later call."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtrack.errors import StoreUnavailableError
from runtrack.model import MetricBatch, NewRun, RunQuery, RunStatus
from runtrack.store import open_store


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "runtrack.db"
    path.write_bytes(b"this is a text file, not a database\n" * 200)
    with pytest.raises(StoreUnavailableError) as caught:
        open_store(f"sqlite:///{path}")
    message = str(caught.value)
    assert str(path) in message and "not a SQLite database" in message


def test_a_path_that_cannot_be_opened(tmp_path: Path) -> None:
    path = tmp_path / "runtrack.db"
    path.mkdir()  # a folder where the file should be
    with pytest.raises(StoreUnavailableError) as caught:
        open_store(f"sqlite:///{path}")
    message = str(caught.value)
    assert str(path) in message and "unable to open database file" in message
    assert "not a folder" in message


def test_a_folder_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreUnavailableError, match="cannot create the folder"):
        open_store(f"sqlite:///{blocker / 'sub' / 'runtrack.db'}")


def test_a_damaged_database_is_named_on_later_calls(tmp_path: Path) -> None:
    path = tmp_path / "runtrack.db"
    store = open_store(f"sqlite:///{path}")
    exp = store.get_or_create_experiment("e")
    for i in range(200):
        store.create_run(NewRun(exp.id, f"run-{i}", display_name="x" * 200, run_type="script",
                         status=RunStatus.RUNNING))
    store.ingest("run-0", MetricBatch("s", 0, [("m", "scalar", None, 1.0, 1.0)]))
    store.close()
    data = bytearray(path.read_bytes())
    page = 4096
    for at in range(2 * page, min(len(data), 12 * page)):
        data[at] = 0xA5
    path.write_bytes(bytes(data))
    with pytest.raises(StoreUnavailableError) as caught:
        reopened = open_store(f"sqlite:///{path}")
        try:
            for i in range(200):
                reopened.get_run(f"run-{i}")
            reopened.search_runs(RunQuery(experiment_ids=[exp.id]))
        finally:
            reopened.close()
    message = str(caught.value)
    assert str(path) in message
    assert "malformed" in message and ".recover" in message


def test_the_server_command_reports_a_damaged_database(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from runtrack.cli import main
    from tests.live_server import free_port

    folder = tmp_path / "ws"
    folder.mkdir()
    (folder / "runtrack.db").write_bytes(b"not a database at all\n" * 100)
    result = CliRunner().invoke(main, ["server", "--backend-store-uri", str(folder),
                                       "--port", str(free_port())])
    assert result.exit_code == 1, result.output
    assert "not a SQLite database" in result.output
    assert str(folder / "runtrack.db") in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_damaged_database_is_named_by_list_series(tmp_path: Path) -> None:
    # list_series reads through the SQLite driver directly (one SELECT a call); its raw
    # errors are mapped like SQLAlchemy's
    path = tmp_path / "runtrack.db"
    store = open_store(f"sqlite:///{path}")
    exp = store.get_or_create_experiment("e")
    store.create_run(NewRun(exp.id, "run-0", display_name="r", run_type="script"))
    for k in range(300):
        store.ingest("run-0", MetricBatch(f"s{k}", 0, [(f"metric-{k:03}-{'x' * 150}",
                                                        "scalar", None, 1.0, 1.0)]))
    store.close()
    data = bytearray(path.read_bytes())
    series_pages = _pages_of(path, "series")
    for number in series_pages:
        start = (number - 1) * 4096
        data[start + 8 : start + 4096] = b"\xa5" * (4096 - 8)
    path.write_bytes(bytes(data))
    reopened = open_store(f"sqlite:///{path}")
    try:
        with pytest.raises(StoreUnavailableError) as caught:
            reopened.list_series("run-0")
    finally:
        reopened.close()
    message = str(caught.value)
    assert str(path) in message and "malformed" in message


def _pages_of(path: Path, table: str) -> list[int]:
    """The page numbers of ``table``'s b-tree but its root (SQLite's dbstat)."""
    import sqlite3

    with sqlite3.connect(path) as conn:
        return [number for (number,) in conn.execute(
            "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf'", (table,))]
