"""``runtrack show`` fills the "last" column for string metrics too (issue #12)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from runtrack import Experiment, Workspace
from runtrack.cli import main


def test_show_prints_the_last_string_value(tmp_path: Path) -> None:
    uri = str(tmp_path / "ws")
    ws = Workspace(uri)
    run = Experiment(ws, "e").start_logging(snapshot_directory=None)
    run.log("phase", "warmup")
    run.log("phase", "final")
    run.log("acc", 0.5)
    run.complete()
    ws.close()
    out = CliRunner().invoke(main, ["show", run.id, "--uri", uri])
    assert out.exit_code == 0, out.output
    phase = next(line for line in out.output.splitlines() if "phase" in line)
    assert "final" in phase
    acc = next(line for line in out.output.splitlines() if "acc" in line)
    assert "0.5" in acc
    shown = json.loads(CliRunner().invoke(main, ["show", run.id, "--uri", uri, "--json"]).output)
    assert {m["name"]: m["last_value"] for m in shown["metrics"]}["phase"] == "final"
