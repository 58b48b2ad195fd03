"""Submitted runs end to end, with real supervisor and script processes.

Runs that do not depend on each other are submitted together by one module fixture
and awaited afterwards, so the suite pays process start-up once, in parallel.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from runtrack import (
    Environment,
    Experiment,
    LimitExceededError,
    MpiConfiguration,
    PyTorchConfiguration,
    Run,
    RunFailedError,
    ScriptRunConfig,
    Workspace,
    limits,
)
from runtrack.runner.spec import SUPERVISOR_PROPERTY

WAIT = 90.0

SCRIPTS = {
    "ok.py": """
        import sys
        print("hello", sys.argv[1:])
        sys.stderr.write("to stderr\\n")
        print("bar 1\\rbar 2\\rbar 3")
        print("\\x1b[31mred\\x1b[0m")
        import os
        print("ids", os.environ["AZUREML_RUN_ID"], os.environ["RUNTRACK_RUN_ID"])
        print("outdir", os.environ["AZUREML_OUTPUT_DIRECTORY"], os.getcwd())
        os.makedirs("outputs/sub", exist_ok=True)
        open("outputs/sub/model.txt", "w").write("model")
        os.makedirs("logs", exist_ok=True)
        open("logs/progress.txt", "w").write("50%\\n")
    """,
    "boom.py": """
        def inner():
            raise ValueError("bad value 42")
        print("about to fail")
        inner()
    """,
    "exit0.py": "import sys; print('bye'); sys.exit(0)",
    "exit3.py": "import sys; print('bye'); sys.exit(3)",
    "sig.py": "import os, signal; print('dying', flush=True); os.kill(os.getpid(), signal.SIGKILL)",
    "sleeper.py": """
        import subprocess, sys, time
        child = subprocess.Popen(["sleep", "300"])
        open(sys.argv[1], "w").write(str(child.pid))
        print("ready", flush=True)
        time.sleep(300)
    """,
    "ranks.py": """
        import os, sys, time
        rank = int(os.environ["RANK"])
        keys = ["RANK", "WORLD_SIZE", "LOCAL_RANK", "NODE_RANK", "MASTER_ADDR", "MASTER_PORT"]
        print({k: os.environ[k] for k in keys})
        if len(sys.argv) > 1 and sys.argv[1] == "fail":
            if rank == 1:
                time.sleep(0.5)
                raise RuntimeError("rank one broke")
            time.sleep(300)
        if len(sys.argv) > 1 and sys.argv[1] == "metrics":
            import logging
            from runtrack import Run
            run = Run.get_context()
            logging.basicConfig(level=logging.INFO)
            logging.getLogger("runtrack.example").info("hello from rank %d", rank)
            logging.getLogger("runtrack.example").debug("below the level")
            run.log("who", rank)
            run.log("loss", 1.0 / (rank + 1))
    """,
    "live.py": """
        import os, sys, time
        print("first line", flush=True)
        deadline = time.time() + 60
        while not os.path.exists(sys.argv[1]) and time.time() < deadline:
            time.sleep(0.05)
        print("second line")
    """,
    "where.py": "import sys; print('prefix', sys.prefix, 'base', sys.base_prefix)",
}


def _source(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in SCRIPTS.items():
        (folder / name).write_text(textwrap.dedent(body).lstrip())
    (folder / "data").mkdir(exist_ok=True)
    (folder / "data" / "big.bin").write_bytes(b"x" * 1000)
    (folder / ".amlignore").write_text("data/\n")
    return folder


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("submit")
    prefixes = ("RUNTRACK_", "AZUREML_", "MLFLOW_")
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith(prefixes)}
    ws = Workspace(str(root / "ws"))
    exp = Experiment(ws, "submit-tests")
    src = _source(root / "src")
    runs: dict[str, Run] = {}
    for name in ("ok", "boom", "exit0", "exit3", "sig"):
        args = ["--n", 3, 0.5] if name == "ok" else None
        runs[name] = exp.submit(ScriptRunConfig(str(src), f"{name}.py", arguments=args))
    runs["shell"] = exp.submit(
        ScriptRunConfig(str(src), command="python where.py && echo shell-ok $((40 + 2))")
    )
    runs["command_list"] = exp.submit(ScriptRunConfig(str(src), command=["python", "exit3.py", 7]))
    runs["timeout"] = exp.submit(
        ScriptRunConfig(
            str(src), "sleeper.py", arguments=[str(root / "t.pid")], max_run_duration_seconds=1
        )
    )
    runs["fail_fast"] = exp.submit(
        ScriptRunConfig(
            str(src),
            "ranks.py",
            arguments=["fail"],
            distributed_job_config=PyTorchConfiguration(process_count=3),
        )
    )
    runs["nodes"] = exp.submit(
        ScriptRunConfig(
            str(src),
            "ranks.py",
            arguments=["metrics"],
            distributed_job_config=MpiConfiguration(process_count_per_node=2, node_count=2),
        )
    )
    for run in runs.values():
        run.wait_for_completion(raise_on_error=False, timeout_seconds=WAIT)
    yield {"ws": ws, "exp": exp, "src": src, "root": root, "runs": runs}
    ws.close()
    os.environ.update(saved)


def _log(run: Run, path: str = "user_logs/std_log.txt") -> str:
    with run.experiment.workspace.artifacts.open(run.id, path) as fh:
        return fh.read().decode()


def _json_lines(run: Run, path: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in _log(run, path).splitlines() if line]


def _error(run: Run) -> dict[str, Any]:
    return run.get_details()["error"]["error"]


def _wait_for(predicate: Any, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_success_captures_output_outputs_and_logs(world: Any) -> None:
    run = world["runs"]["ok"]
    assert run.get_status() == "Completed" and run.type == "script"
    log = _log(run)
    assert "hello ['--n', '3', '0.5']" in log and "to stderr" in log
    assert f"ids {run.id} {run.id}" in log
    assert "outdir ./outputs /" in log and "/runtrack_runs/" in log  # a fresh copy
    assert "bar 1\rbar 2\rbar 3" in log and "\x1b[31mred\x1b[0m" in log  # kept raw
    files = run.get_file_names()
    assert "outputs/sub/model.txt" in files and "logs/progress.txt" in files
    assert "snapshot.zip" in files
    for name in ("prepare", "environment", "execution", "post"):
        assert f"system_logs/{name}.txt" in files
    details = run.get_details()
    assert "error" not in details and details["runDefinition"]["script"] == "ok.py"
    assert "user_logs/std_log.txt" in details["logFiles"]
    status_lines = _json_lines(run, "system_logs/process_status.json")
    assert [x["status"] for x in status_lines] == ["Started", "Completed", "Completed"]
    assert status_lines[-1]["process_name"] == "*"


def test_snapshot_honours_amlignore_and_restores(world: Any, tmp_path: Path) -> None:
    import zipfile

    run = world["runs"]["ok"]
    path = run.restore_snapshot(path=str(tmp_path / "snaps"))
    assert path.endswith(f"{run.id}.zip")
    names = zipfile.ZipFile(path).namelist()
    assert "ok.py" in names and ".amlignore" in names
    assert not any(n.startswith("data/") for n in names)


def test_exception_fails_with_type_message_and_traceback(world: Any) -> None:
    run = world["runs"]["boom"]
    assert run.get_status() == "Failed"
    error = _error(run)
    assert error["message"] == "User program failed with ValueError: bad value 42"
    assert error["type"] == "ValueError" and error["exit_code"] == 1
    assert "in inner" in error["traceback"] and "Traceback" in error["traceback"]
    with pytest.raises(RunFailedError, match="bad value 42"):
        run.wait_for_completion()


def test_exit_codes(world: Any) -> None:
    assert world["runs"]["exit0"].get_status() == "Completed"
    run = world["runs"]["exit3"]
    assert run.get_status() == "Failed"
    assert _error(run)["message"] == "User program exited with code 3"
    assert _error(run)["exit_code"] == 3


def test_command_string_and_list(world: Any) -> None:
    shell = world["runs"]["shell"]
    assert shell.get_status() == "Completed"
    log = _log(shell)
    assert f"prefix {sys.prefix} " in log and "shell-ok 42" in log
    assert shell.get_details()["runDefinition"]["command"].startswith("python where.py")
    listed = world["runs"]["command_list"]
    assert _error(listed)["exit_code"] == 3
    assert listed.get_details()["runDefinition"]["command"] == ["python", "exit3.py", "7"]


def test_death_by_signal_is_named(world: Any) -> None:
    run = world["runs"]["sig"]
    assert run.get_status() == "Failed"
    assert "SIGKILL" in _error(run)["message"]
    assert "dying" in _log(run)


def test_max_run_duration_cancels(world: Any) -> None:
    run = world["runs"]["timeout"]
    assert run.get_status() == "Canceled"
    assert _error(run)["code"] == "MaxRunDurationExceeded"
    grandchild = int((world["root"] / "t.pid").read_text())
    _wait_for(lambda: not _alive(grandchild), 10)
    run.wait_for_completion()  # Canceled never raises


def test_one_rank_failing_stops_the_others(world: Any) -> None:
    run = world["runs"]["fail_fast"]
    assert run.get_status() == "Failed"
    error = _error(run)
    assert "(rank 1)" in error["message"] and "RuntimeError: rank one broke" in error["message"]
    events = _json_lines(run, "system_logs/process_status.json")
    ends = {e["process_name"]: e["status"] for e in events if e["status"] != "Started"}
    assert ends["rank_1"] == "Failed"
    assert ends["rank_0"] == ends["rank_2"] == "Terminated"
    assert "rank one broke" in _log(run, "user_logs/std_log_process_01.txt")


def test_multi_node_env_logs_and_metrics_per_rank(world: Any) -> None:
    run = world["runs"]["nodes"]
    assert run.get_status() == "Completed", run.get_details().get("error")
    files = run.get_file_names()
    ports = set()
    for rank in range(4):
        node = rank // 2
        path = f"user_logs/node_{node:02d}/std_log_process_{rank:02d}.txt"
        assert path in files
        line = eval(_log(run, path).strip().splitlines()[0])  # the dict the script printed
        assert line["RANK"] == str(rank) and line["WORLD_SIZE"] == "4"
        assert line["LOCAL_RANK"] == str(rank % 2) and line["NODE_RANK"] == str(node)
        assert line["MASTER_ADDR"] == "127.0.0.1"
        ports.add(line["MASTER_PORT"])
    assert len(ports) == 1 and int(ports.pop()) > 0
    metrics = run.get_metrics()
    assert metrics["who"] == 0 and metrics["loss"] == 1.0
    assert metrics["rank1/who"] == 1 and metrics["rank3/loss"] == 0.25
    own_logs = sorted(f for f in files if f.startswith("logs/runtrack/"))
    assert [Path(f).name.split("_")[0] for f in own_logs] == ["0", "1", "2", "3"]
    text = _log(run, own_logs[2])
    assert "|runtrack.example|INFO|hello from rank 2" in text and "below the level" not in text
    info = _json_lines(run, "system_logs/process_info.json")
    assert [i["node_rank"] for i in info] == [0, 0, 1, 1]
    assert info[0]["pgid"] == info[1]["pgid"] != info[2]["pgid"] == info[3]["pgid"]


def test_show_output_streams_header_log_and_summary(
    world: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    run = world["exp"].submit(ScriptRunConfig(str(world["src"]), "exit0.py"), show_output=True)
    out = capsys.readouterr().out
    assert out.startswith(f"RunId: {run.id}\nWeb View: ")
    assert "Streaming user_logs/std_log.txt" in out and "bye" in out
    assert "Execution Summary" in out and "Status: Completed" in out


def test_logs_are_live_while_the_script_runs(world: Any, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    run = world["exp"].submit(ScriptRunConfig(str(world["src"]), "live.py", arguments=[str(gate)]))
    try:
        _wait_for(
            lambda: (
                run.experiment.workspace.artifacts.exists(run.id, "user_logs/std_log.txt")
                and "first line" in _log(run)
            )
        )
        assert run.get_status() == "Running"
        assert "second line" not in _log(run)
    finally:
        gate.write_text("go")
    run.wait_for_completion(timeout_seconds=WAIT)
    assert "second line" in _log(run)


def test_cancel_from_another_process_ends_grandchildren(world: Any, tmp_path: Path) -> None:
    pid_file = tmp_path / "g.pid"
    run = world["exp"].submit(
        ScriptRunConfig(str(world["src"]), "sleeper.py", arguments=[str(pid_file)])
    )
    _wait_for(lambda: pid_file.exists() and pid_file.read_text().strip() != "")
    grandchild = int(pid_file.read_text())
    code = (
        "import sys; from runtrack import Workspace, Run; "
        "ws = Workspace(sys.argv[1]); Run.get(ws, sys.argv[2]).cancel()"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(world["root"] / "ws"), run.id], check=True, timeout=WAIT
    )
    assert run.get_status() == "Canceled"
    _wait_for(lambda: not _alive(grandchild), 10)
    assert _error(run)["code"] == "Canceled"


def test_supervisor_killed_does_not_leave_run_running(world: Any, tmp_path: Path) -> None:
    pid_file = tmp_path / "g.pid"
    run = world["exp"].submit(
        ScriptRunConfig(str(world["src"]), "sleeper.py", arguments=[str(pid_file)])
    )
    _wait_for(lambda: pid_file.exists() and pid_file.read_text().strip() != "")
    supervisor = json.loads(run.get_properties()[SUPERVISOR_PROPERTY])["pid"]
    os.kill(supervisor, signal.SIGKILL)
    _wait_for(lambda: not _alive(supervisor), 10)
    assert run.get_status() == "Failed"
    assert _error(run)["code"] == "SupervisorDied"
    grandchild = int(pid_file.read_text())
    _wait_for(lambda: not _alive(grandchild), 10)


def test_snapshot_limit_names_biggest_and_creates_no_run(
    world: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    src = tmp_path / "big"
    src.mkdir()
    (src / "train.py").write_text("print(1)\n")
    (src / "weights").mkdir()
    (src / "weights" / "huge.bin").write_bytes(b"0" * 5000)
    monkeypatch.setattr(limits, "SNAPSHOT_MAX_BYTES", 1000)
    before = len(list(world["exp"].get_runs()))
    with pytest.raises(LimitExceededError, match=r"weights/ .*huge\.bin"):
        world["exp"].submit(ScriptRunConfig(str(src), "train.py"))
    assert len(list(world["exp"].get_runs())) == before


def test_venv_environment_and_bad_requirement(world: Any) -> None:
    good = Environment("venv-env")
    good.python.user_managed_dependencies = False
    good.python.requirements = []  # a venv of its own, nothing to download
    bad = Environment("bad-env")
    bad.python.user_managed_dependencies = False
    bad.python.requirements = ["runtrack-surely-no-such-package-xyz==0.0.1"]
    src = str(world["src"])
    ok_run = world["exp"].submit(ScriptRunConfig(src, "where.py", environment=good))
    bad_run = world["exp"].submit(ScriptRunConfig(src, "where.py", environment=bad))
    ok_run.wait_for_completion(timeout_seconds=WAIT)
    prefix, base = _log(ok_run).split()[1::2]
    assert prefix != base and prefix.startswith(str(world["root"] / "ws" / "envs"))
    assert "environment ready" in _log(ok_run, "system_logs/environment.txt")
    with pytest.raises(RunFailedError):
        bad_run.wait_for_completion(timeout_seconds=WAIT)
    error = _error(bad_run)
    assert error["code"] == "EnvironmentBuildFailed"
    assert "runtrack-surely-no-such-package-xyz" in error["message"]
    assert bad_run.get_details()["startTimeUtc"] is None  # it never ran
    assert "user_logs/std_log.txt" not in bad_run.get_file_names()


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
