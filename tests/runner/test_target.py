"""Liveness of supervisors: runs whose supervisor is gone are resolved, others untouched."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import psutil
from click.testing import CliRunner

from runtrack.cli import main
from runtrack.model import NewRun, RunStatus
from runtrack.runner.spec import SUPERVISOR_PROPERTY
from runtrack.runner.target import LocalTarget, reap_orphans
from runtrack.store.sql import SqlStore


def _record(pid: int, started: float, host: str | None = None) -> dict[str, str]:
    data = {"host": host or socket.gethostname(), "pid": pid, "started": started}
    return {SUPERVISOR_PROPERTY: json.dumps(data)}


def test_reap_orphans_marks_only_runs_whose_supervisor_is_gone(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'runtrack.db'}")
    exp = store.get_or_create_experiment("e")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    started = psutil.Process(dead.pid).create_time()
    dead.wait()
    me = psutil.Process(os.getpid())
    cases = {
        "gone": _record(dead.pid, started),
        "alive": _record(me.pid, me.create_time()),
        "elsewhere": _record(dead.pid, started, host="another-machine"),
        "reused": _record(me.pid, me.create_time() - 100),  # same pid, other process
    }
    for run_id, props in cases.items():
        store.create_run(NewRun(
            exp.id,
            run_id,
            display_name=run_id,
            run_type="script",
            status=RunStatus.RUNNING,
            properties=props,
        ))
    store.set_status("reused", RunStatus.CANCEL_REQUESTED)
    changed = {info.id: info for info in reap_orphans(store, LocalTarget())}
    assert sorted(changed) == ["gone", "reused"]
    gone = store.get_run("gone")
    assert gone.status is RunStatus.FAILED and gone.error is not None
    assert gone.error.code == "SupervisorDied"
    assert store.get_run("reused").status is RunStatus.CANCELED
    assert store.get_run("alive").status is RunStatus.RUNNING
    assert store.get_run("elsewhere").status is RunStatus.RUNNING
    store.close()


def test_sync_command_resolves_orphans(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    store = SqlStore(f"sqlite:///{ws / 'runtrack.db'}")
    exp = store.get_or_create_experiment("e")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    started = psutil.Process(dead.pid).create_time()
    dead.wait()
    store.create_run(NewRun(
        exp.id,
        "r1",
        display_name="r1",
        run_type="script",
        status=RunStatus.QUEUED,
        properties=_record(dead.pid, started),
    ))
    store.close()
    result = CliRunner().invoke(main, ["sync", "--uri", str(ws)])
    assert result.exit_code == 0, result.output
    assert "run r1: marked Failed: its supervisor died" in result.output
