"""CLI behaviour a newcomer meets first: one-line errors, missing workspaces, run
references (prefix, ``latest``), option validation, logs of every run type, ``--csv``."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from runtrack import Experiment, Workspace
from runtrack.cli import main


def _interactive(path: Path, *, captured: bool = True) -> str:
    ws = Workspace(str(path))
    run = Experiment(ws, "polish").start_logging()
    if captured:
        with run:
            print("hello from the run")
            run.log("loss", 0.5)
    else:
        run.log("loss", 0.5)
        run.complete()
    ws.close()
    return str(run.id)


def test_a_failing_command_prints_one_line_and_exits_1(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "runtrack", "runs", "--uri", "http://127.0.0.1:9"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: ") and "cannot be reached" in lines[0]
    assert "runtrack server" in lines[0]


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    _interactive(tmp_path / "ws")
    out = CliRunner().invoke(main, ["--debug", "show", "nope", "--uri", str(tmp_path / "ws")])
    assert out.exit_code == 1
    assert out.exc_info is not None and type(out.exc_info[1]).__name__ == "NotFoundError"
    out = CliRunner().invoke(main, ["show", "nope", "--uri", str(tmp_path / "ws")])
    assert out.exit_code == 1 and out.exc_info is not None
    assert type(out.exc_info[1]).__name__ == "SystemExit"
    assert "no run with id or id prefix 'nope'" in out.output and "runtrack runs" in out.output


def test_an_unexpected_error_is_one_line_with_a_debug_hint(tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    folder.mkdir()
    (folder / "runtrack.db").write_text("this is not a database")
    out = CliRunner().invoke(main, ["experiments", "--uri", str(folder)])
    assert out.exit_code == 1
    assert len(out.output.strip().splitlines()) == 1, out.output
    assert "--debug" in out.output


def test_read_only_commands_refuse_a_missing_workspace(tmp_path: Path) -> None:
    typo = tmp_path / "typo-workspace"
    runner = CliRunner()
    for args in (["runs"], ["experiments"], ["show", "x"], ["logs", "x"], ["download", "x"],
                 ["sync"]):
        out = runner.invoke(main, [*args, "--uri", str(typo)])
        assert out.exit_code == 1, (args, out.output)
        assert f"no workspace at {typo}" in out.output, out.output
    assert not typo.exists()


def test_runs_are_named_by_prefix_or_latest(tmp_path: Path) -> None:
    uri = str(tmp_path / "ws")
    first = _interactive(tmp_path / "ws")
    second = _interactive(tmp_path / "ws")
    runner = CliRunner()
    out = runner.invoke(main, ["show", "latest", "--uri", uri, "--json"])
    assert out.exit_code == 0 and json.loads(out.output)["run"]["id"] == second
    unique = next(
        first[:n] for n in range(1, len(first) + 1) if not second.startswith(first[:n])
    )
    out = runner.invoke(main, ["show", unique, "--uri", uri, "--json"])
    assert out.exit_code == 0 and json.loads(out.output)["run"]["id"] == first
    common = "polish_"
    out = runner.invoke(main, ["show", common, "--uri", uri])
    assert out.exit_code == 1 and "prefix of several runs" in out.output


def test_latest_in_an_empty_workspace_says_so(tmp_path: Path) -> None:
    Workspace(str(tmp_path / "ws")).close()
    out = CliRunner().invoke(main, ["show", "latest", "--uri", str(tmp_path / "ws")])
    assert out.exit_code == 1 and "no runs yet" in out.output


def test_metric_and_limit_are_validated(tmp_path: Path) -> None:
    uri = str(tmp_path / "ws")
    _interactive(tmp_path / "ws")
    runner = CliRunner()
    out = runner.invoke(main, ["runs", "--uri", uri, "--metric", "nope"])
    assert out.exit_code == 2 and "no listed run has a scalar metric named 'nope'" in out.output
    out = runner.invoke(main, ["runs", "--uri", uri, "--limit", "-1"])
    assert out.exit_code == 2 and "--limit" in out.output
    out = runner.invoke(main, ["runs", "--uri", uri, "--metric", "loss"])
    assert out.exit_code == 0 and "0.5" in out.output


def test_runs_csv(tmp_path: Path) -> None:
    uri = str(tmp_path / "ws")
    run_id = _interactive(tmp_path / "ws")
    out = CliRunner().invoke(main, ["runs", "--uri", uri, "--csv", "-m", "loss"])
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.output)))
    assert rows == [
        {"id": run_id, "experiment": "polish", "number": "1", "status": "Completed",
         "duration": rows[0]["duration"], "loss": "0.5"}
    ]


def test_ids_stay_on_one_line_in_an_80_column_table(tmp_path: Path) -> None:
    uri = str(tmp_path / "ws")
    run_id = _interactive(tmp_path / "ws")
    out = CliRunner(env={"COLUMNS": "80"}).invoke(main, ["runs", "--uri", uri, "-m", "loss"])
    assert run_id in out.output


def test_logs_of_an_interactive_run_show_its_captured_output(tmp_path: Path) -> None:
    uri = str(tmp_path / "ws")
    run_id = _interactive(tmp_path / "ws")
    out = CliRunner().invoke(main, ["logs", run_id, "--uri", uri])
    assert out.exit_code == 0 and "hello from the run" in out.output
    out = CliRunner().invoke(main, ["logs", run_id, "--uri", uri, "--rank", "1"])
    assert out.exit_code == 1 and "there is no rank 1" in out.output


def test_logs_of_an_uncaptured_run_say_why(tmp_path: Path) -> None:
    uri = str(tmp_path / "ws")
    run_id = _interactive(tmp_path / "ws", captured=False)
    out = CliRunner().invoke(main, ["logs", run_id, "--uri", uri])
    assert out.exit_code == 0 and "start_logging() as run" in out.output


def test_submit_a_missing_script_is_refused(tmp_path: Path) -> None:
    out = CliRunner().invoke(main, ["submit", "-e", "x", "--uri", str(tmp_path / "ws"),
                                    "nope.py"])
    assert out.exit_code == 2 and "nope.py is not a file" in out.output
    assert not (tmp_path / "ws").exists()


def test_cancel_of_a_finished_run_is_one_line(tmp_path: Path) -> None:
    uri = str(tmp_path / "ws")
    run_id = _interactive(tmp_path / "ws")
    out = CliRunner().invoke(main, ["cancel", run_id, "--uri", uri])
    assert out.exit_code == 1
    assert out.output.strip().splitlines() == [
        f"Error: run {run_id} is already Completed; terminal states are final"
    ]
