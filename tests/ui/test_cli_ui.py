"""``runtrack demo`` and ``runtrack ui`` as real processes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from runtrack.model import MetricKind, RunQuery, RunStatus

STARTUP_TIMEOUT_S = 60.0


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("RUNTRACK_", "AZUREML_"))}


def test_demo_fills_a_workspace(tmp_path: Path) -> None:
    from runtrack.store import open_store

    folder = tmp_path / "demo"
    done = subprocess.run(
        [sys.executable, "-m", "runtrack", "demo", "--dir", str(folder), "--no-serve"],
        capture_output=True, text=True, timeout=240, env=_env(), cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "alpha-sweep: 5 run(s)" in done.stdout
    store = open_store(f"sqlite:///{folder / 'runtrack.db'}")
    try:
        names = {e.name: e for e in store.list_experiments()}
        assert set(names) == {"logging-api", "alpha-sweep"}
        sweep = store.search_runs(RunQuery(experiment_ids=[names["alpha-sweep"].id]))
        statuses = sorted(r.status.value for r in sweep)
        assert statuses == ["Completed"] * 4 + ["Failed"]
        failed = next(r for r in sweep if r.status is RunStatus.FAILED)
        assert failed.error is not None and "diverged" in (failed.error.traceback or "")
        assert failed.tags["alpha"] == "1.0"
        (interactive,) = store.search_runs(RunQuery(experiment_ids=[names["logging-api"].id]))
        kinds = {s.kind for s in store.list_series(interactive.id)}
        assert kinds == set(MetricKind)
    finally:
        store.close()


def test_ui_serves_a_local_workspace(tmp_path: Path) -> None:
    from runtrack import Experiment, Workspace

    folder = tmp_path / "ws"
    ws = Workspace(str(folder))
    Experiment(ws, "served").start_logging(outputs=False).complete()
    ws.close()
    process = subprocess.Popen(
        [sys.executable, "-m", "runtrack", "ui", "--uri", str(folder), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env(), cwd=tmp_path,
    )
    try:
        assert process.stdout is not None
        url = None
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                break
            found = re.search(r"http://127\.0\.0\.1:\d+", line)
            url = found.group(0) if found else None
        assert url is not None, "runtrack ui printed no URL"
        answer = None
        while time.monotonic() < deadline:
            try:
                answer = httpx.get(f"{url}/experiments", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert answer is not None and answer.status_code == 200
        assert "served" in answer.text
    finally:
        process.terminate()
        process.wait(timeout=15)
