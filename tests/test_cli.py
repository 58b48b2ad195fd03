"""The command line against a real local workspace, through click's runner."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from runtrack import Experiment, Workspace
from runtrack.cli import main


def _seed(path: Path) -> str:
    ws = Workspace(str(path))
    exp = Experiment(ws, "cli-exp")
    run = exp.start_logging(tags={"team": "a"})
    for i in range(5):
        run.log("loss", 1.0 / (i + 1), step=i)
    run.upload_file("notes.txt", __file__)
    run.complete()
    ws.close()
    return run.id


def test_experiments_runs_show(tmp_path: Path) -> None:
    uri = str(tmp_path / "ws")
    run_id = _seed(tmp_path / "ws")
    runner = CliRunner()
    out = runner.invoke(main, ["experiments", "--uri", uri, "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data[0]["name"] == "cli-exp" and data[0]["run_count"] == 1
    out = runner.invoke(main, ["runs", "--uri", uri, "-e", "cli-exp", "-m", "loss", "--json"])
    rows = json.loads(out.output)
    assert rows[0]["id"] == run_id and rows[0]["metrics"]["loss"] == 0.2
    out = runner.invoke(main, ["runs", "--uri", uri, "-m", "loss"])
    assert out.exit_code == 0 and "0.2" in out.output and "Completed" in out.output
    out = runner.invoke(main, ["show", run_id, "--uri", uri, "--json"])
    shown = json.loads(out.output)
    assert shown["run"]["status"] == "Completed"
    assert shown["metrics"][0]["name"] == "loss" and shown["metrics"][0]["count"] == 5
    assert shown["files"][0]["path"] == "notes.txt"
    out = runner.invoke(main, ["show", run_id, "--uri", uri])
    assert "loss" in out.output and "team=a" in out.output
    out = runner.invoke(main, ["show", "missing", "--uri", uri])
    assert out.exit_code != 0 and "missing" in out.output
    out = runner.invoke(main, ["runs", "--uri", uri, "-e", "nope"])
    assert out.exit_code != 0 and "no experiment named 'nope'" in out.output


def test_every_command_has_help() -> None:
    runner = CliRunner()
    for name, command in main.commands.items():
        assert command.help, f"`runtrack {name}` has no help text"
        out = runner.invoke(main, [name, "--help"])
        assert out.exit_code == 0 and "Usage" in out.output


def test_python_dash_m_runs_the_cli() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "runtrack", "--version"], capture_output=True, text=True, check=True
    )
    assert "runtrack" in out.stdout
