"""Run lifecycle and storage commands: delete, archive/restore, gc, du, backup, db."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from runtrack import Experiment, Workspace
from runtrack.cli import main
from runtrack.cli.lifecycle import find_garbage


def _cli(*args: str, code: int = 0) -> str:
    out = CliRunner().invoke(main, list(args))
    assert out.exit_code == code, out.output
    return out.output


def _seed(path: Path, experiment: str = "life", *, finish: bool = True) -> str:
    ws = Workspace(str(path))
    run = Experiment(ws, experiment).start_logging()
    with run if finish else _nothing():
        run.log("loss", 0.5)
        run.upload_file("outputs/model.bin", __file__)
        print("a line of output")
        child = run.child_run()
        child.upload_file("child.txt", __file__)
        child.complete()
    if not finish:
        _LIVE.append(run)
    ws.close()
    return str(run.id)


#: runs seeded without finishing stay referenced: their owner (this process) holds them, so
#: recovery does not settle them as ProcessDied
_LIVE: list[Any] = []


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def test_delete_removes_runs_children_and_files(tmp_path: Path) -> None:
    uri = str(tmp_path / "ws")
    keep = _seed(tmp_path / "ws")
    gone = _seed(tmp_path / "ws")
    out = CliRunner().invoke(main, ["delete", gone, "--uri", uri], input="n\n")
    assert out.exit_code == 1 and "Aborted" in out.output
    assert (tmp_path / "ws" / "artifacts" / gone).is_dir()
    assert "and 1 child run(s)" in _cli("delete", gone, "--uri", uri, "--yes")
    runs = json.loads(_cli("runs", "--uri", uri, "--json"))
    assert [r["id"] for r in runs] == [keep]
    folders = sorted(p.name for p in (tmp_path / "ws" / "artifacts").iterdir())
    assert gone not in folders and keep in folders and len(folders) == 2  # keep + its child
    assert "no run with id" in _cli("delete", gone, "--uri", uri, "-y", code=1)


def test_delete_refuses_a_running_run(tmp_path: Path) -> None:
    uri = str(tmp_path / "ws")
    run_id = _seed(tmp_path / "ws", finish=False)
    assert "cancel it first" in _cli("delete", run_id, "--uri", uri, "-y", code=1)


def test_archive_and_restore_experiments(tmp_path: Path) -> None:
    uri = str(tmp_path / "ws")
    _seed(tmp_path / "ws", "old")
    _cli("archive", "old", "--uri", uri)
    assert json.loads(_cli("experiments", "--uri", uri, "--json")) == []
    listed = json.loads(_cli("experiments", "--uri", uri, "--json", "--all"))
    assert [e["name"] for e in listed] == ["old"]
    _cli("restore", "old", "--uri", uri, "--name", "renewed")
    listed = json.loads(_cli("experiments", "--uri", uri, "--json"))
    assert [e["name"] for e in listed] == ["renewed"]
    assert "no experiment named 'nope'" in _cli("archive", "nope", "--uri", uri, code=1)


def test_gc_is_a_dry_run_by_default(tmp_path: Path) -> None:
    uri = str(tmp_path / "ws")
    run_id = _seed(tmp_path / "ws")
    orphan = tmp_path / "ws" / "artifacts" / "deleted_run_1"
    orphan.mkdir()
    (orphan / "big.bin").write_bytes(b"x" * 5000)
    shown = json.loads(_cli("gc", "--uri", uri, "--json"))
    assert shown["removed"] is False and shown["bytes"] == 5000
    assert [i["path"] for i in shown["items"]] == [str(orphan)]
    assert orphan.exists()
    assert "would free 5.0 KB" in _cli("gc", "--uri", uri)
    assert "freed 5.0 KB" in _cli("gc", "--uri", uri, "--apply")
    assert not orphan.exists() and (tmp_path / "ws" / "artifacts" / run_id).exists()


def test_gc_finds_working_folders_of_ended_and_old_unknown_runs(tmp_path: Path) -> None:
    run_id = _seed(tmp_path / "ws")
    temp = tmp_path / "tmp"
    ended = temp / "runtrack_runs" / run_id
    unknown = temp / "runtrack_runs" / "other_workspace_run"
    for folder in (ended, unknown):
        folder.mkdir(parents=True)
        (folder / "spec.json").write_text("{}")
    ws = Workspace(str(tmp_path / "ws"))
    try:
        assert [g.path for g in find_garbage(ws, 7, temp)] == [ended]
        assert sorted(g.path for g in find_garbage(ws, 0, temp)) == sorted([ended, unknown])
    finally:
        ws.close()


def test_du_splits_metrics_files_and_logs(tmp_path: Path) -> None:
    uri = str(tmp_path / "ws")
    run_id = _seed(tmp_path / "ws")
    (row,) = json.loads(_cli("du", "--uri", uri, "--json"))
    assert row["experiment"] == "life" and row["runs"] == 2
    assert row["metrics"] > 0 and row["logs"] > 0
    assert row["artifacts"] >= 2 * Path(__file__).stat().st_size
    assert row["total"] == row["metrics"] + row["artifacts"] + row["logs"]
    per_run = json.loads(_cli("du", "--uri", uri, "-e", "life", "--json"))
    assert run_id in [r["run"] for r in per_run]
    assert "no experiment named 'x'" in _cli("du", "--uri", uri, "-e", "x", code=1)


def test_backup_while_a_run_logs_and_restore(tmp_path: Path) -> None:
    ws = Workspace(str(tmp_path / "ws"))
    run = Experiment(ws, "busy").start_logging()
    run.upload_file("outputs/weights.bin", __file__)
    stop = threading.Event()

    def log() -> None:
        for step in range(200_000):  # bounded
            if stop.is_set():
                return
            run.log("loss", 1.0 / (step + 1), step=step)
            if step % 500 == 0:
                run.flush()

    writer = threading.Thread(target=log)
    writer.start()
    try:
        out = _cli("backup", str(tmp_path / "bk"), "--uri", str(tmp_path / "ws"))
    finally:
        stop.set()
        writer.join()
        run.complete()
        ws.close()
    assert "backed up" in out
    db = sqlite3.connect(tmp_path / "bk" / "runtrack.db")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()
    # restore = use the backup folder as the workspace (moved into place)
    restored = tmp_path / "restored"
    (tmp_path / "bk").rename(restored)
    again = Workspace(str(restored))
    try:
        back = again.store.get_run(run.id)
        assert back.experiment_name == "busy"
        assert [f.path for f in again.artifacts.list(run.id, "outputs")] == [
            "outputs/weights.bin"
        ]
    finally:
        again.close()
    assert "exists and is not empty" in _cli("backup", str(restored), "--uri",
                                             str(tmp_path / "ws"), code=2)


def test_backup_refuses_non_sqlite_and_missing(tmp_path: Path) -> None:
    assert "no workspace at" in _cli("backup", str(tmp_path / "b"), "--uri",
                                     str(tmp_path / "nope"), code=1)
    out = _cli("backup", str(tmp_path / "b"), "--uri", "http://127.0.0.1:9", code=1)
    assert "copies SQLite workspaces" in out


@pytest.fixture
def newer_db(tmp_path: Path) -> Path:
    _seed(tmp_path / "ws")
    db = sqlite3.connect(tmp_path / "ws" / "runtrack.db")
    db.execute("UPDATE alembic_version SET version_num = '9999'")
    db.commit()
    db.close()
    return tmp_path / "ws"


def test_db_status_and_upgrade(tmp_path: Path) -> None:
    uri = str(tmp_path / "ws")
    _seed(tmp_path / "ws")
    assert "up to date" in _cli("db", "status", "--uri", uri)
    assert "already at schema revision" in _cli("db", "upgrade", "--uri", uri)
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    assert "none (empty database)" in _cli("db", "status", "--uri", f"sqlite:///{empty}")
    assert "upgraded schema revision none" in _cli("db", "upgrade", "--uri", f"sqlite:///{empty}")
    assert "up to date" in _cli("db", "status", "--uri", f"sqlite:///{empty}")


def test_a_newer_database_is_refused_in_one_line(newer_db: Path) -> None:
    assert "written by a newer runtrack" in _cli("db", "status", "--uri", str(newer_db))
    out = _cli("runs", "--uri", str(newer_db), code=1)
    assert out.count("\n") == 1 and "newer runtrack; upgrade runtrack" in out
