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
    # a database at the current schema revision whose tables are not runtrack's: the
    # query fails in a way no message of runtrack's foresees
    import sqlite3

    from runtrack.store.sql.migrations import HEAD

    folder = tmp_path / "ws"
    folder.mkdir()
    with sqlite3.connect(folder / "runtrack.db") as db:
        db.execute("CREATE TABLE alembic_version(version_num TEXT)")
        db.execute("INSERT INTO alembic_version VALUES (?)", (HEAD,))
        db.execute("CREATE TABLE experiments(x INT)")
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
    ws = Workspace(str(tmp_path / "ws"))
    run = Experiment(ws, "cifar10-resnet50").start_logging()
    names = ["validation_loss", "validation_accuracy", "learning_rate"]
    for name in names:
        run.log(name, 0.123456)
    run.complete()
    ws.close()
    args = ["runs", "--uri", str(tmp_path / "ws")] + [a for n in names for a in ("-m", n)]
    out = CliRunner(env={"COLUMNS": "80"}).invoke(main, args)
    assert out.exit_code == 0, out.output
    assert run.id in out.output and "Completed" in out.output


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


def test_an_object_store_root_without_its_package_is_one_line(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    _interactive(tmp_path / "ws")
    # a fresh interpreter in which s3fs cannot be imported (installed or not)
    code = (
        "import sys; sys.modules['s3fs'] = None\n"
        "from runtrack.cli import main\n"
        "main(sys.argv[1:])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, "runs", "--uri", str(tmp_path / "ws")],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "RUNTRACK_ARTIFACT_ROOT": "s3://bucket/runs"},
    )
    assert out.returncode == 1, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "needs s3fs" in out.stderr and "pip install s3fs" in out.stderr


def test_shell_completion_completes_commands() -> None:
    import os

    env = {**os.environ, "_RUNTRACK_COMPLETE": "bash_complete", "COMP_WORDS": "runtrack ru",
           "COMP_CWORD": "1"}
    done = subprocess.run([sys.executable, "-m", "runtrack"], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert "plain,runs" in done.stdout.splitlines(), done.stdout + done.stderr


def test_every_setting_is_in_the_configuration_reference() -> None:
    from runtrack import config

    doc = (Path(__file__).resolve().parents[1] / "docs" / "configuration.md").read_text()
    names = [v for k, v in vars(config).items() if k.startswith("ENV_")]
    keys = ["tracking_uri", "artifact_root", "name", "workspace_name"]
    missing = [n for n in [*names, *keys, *config.CONFIG_CANDIDATES] if f"`{n}`" not in doc]
    assert not missing, f"docs/configuration.md lacks {missing}"


def test_submit_json(tmp_path: Path) -> None:
    script = tmp_path / "hello.py"
    script.write_text("print('hi')\n")
    out = CliRunner().invoke(main, ["submit", "-e", "js", "--uri", str(tmp_path / "ws"),
                                    "--json", "--follow", str(script)])
    first = out.output.splitlines()[0]
    data = json.loads(first)
    assert data["experiment_name"] == "js" and data["run_type"] == "script"


def test_a_missing_token_on_an_auth_server_is_one_line(tmp_path: Path) -> None:
    from tests.live_server import start_server

    server = start_server(tmp_path, "--auth")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "runtrack", "experiments", "--uri", server.url],
            capture_output=True, text=True, timeout=120, check=False,
        )
    finally:
        server.stop()
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "token" in lines[0], done.stderr
