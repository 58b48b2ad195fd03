"""The Ray compute target against a real one-node Ray cluster (``ray start --head``).

One module fixture starts the head and submits every run at once (a distributed run,
a failing one, one to cancel, one through the CLI), so the module pays Ray's start-up
and the job start-ups once, in parallel; the tests then check each run.
"""

from __future__ import annotations

import json
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from click.testing import CliRunner

from runtrack import (
    Experiment,
    MpiConfiguration,
    Run,
    ScriptRunConfig,
    Workspace,
)
from runtrack.cli import main
from runtrack.runner.ray_target import RAY_PROPERTY, SPEC_FILE, stage
from runtrack.runner.spec import RunSpec
from tests.ray_cluster import start_head

WAIT = 240.0

SCRIPTS = {
    "train.py": """
        import os, sys
        from runtrack import Run
        run = Run.get_context()
        keys = ["RANK", "WORLD_SIZE", "LOCAL_RANK", "NODE_RANK", "MASTER_ADDR", "MASTER_PORT"]
        print("env", " ".join(f"{k}={os.environ.get(k)}" for k in keys), flush=True)
        for i in range(3):
            run.log("loss", 1.0 / (i + 1))
            print("step", i, flush=True)
        sys.stderr.write("to stderr\\n")
        os.makedirs("outputs", exist_ok=True)
        open(f"outputs/rank{os.environ['RANK']}.txt", "w").write("model")
    """,
    "boom.py": """
        def inner():
            raise ValueError("bad value 42")
        print("about to fail", flush=True)
        inner()
    """,
    "slow.py": """
        import time
        print("slow started", flush=True)
        for _ in range(600):
            time.sleep(0.2)
    """,
    "hello.py": "print('hello from the cli')",
}


@dataclass
class Batch:
    ws: Workspace
    address: str
    runs: dict[str, Run]
    cli_run_id: str


def _folder(root: Path) -> Path:
    src = root / "src"
    src.mkdir()
    for name, body in SCRIPTS.items():
        (src / name).write_text(textwrap.dedent(body))
    (src / "big.bin").write_bytes(b"x" * 10)
    (src / ".amlignore").write_text("big.bin\n")
    return src


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Batch]:
    root = tmp_path_factory.mktemp("ray")
    src = _folder(root)
    with start_head() as address:
        uri = str(root / "ws")
        code = CliRunner().invoke(main, ["compute", "add", "ray1", "--ray", address,
                                         "--uri", uri])
        assert code.exit_code == 0, code.output
        ws = Workspace(uri)
        exp = Experiment(ws, "ray")
        runs = {
            "train": exp.submit(ScriptRunConfig(
                str(src), "train.py", compute_target="ray1",
                distributed_job_config=MpiConfiguration(process_count_per_node=2))),
            "boom": exp.submit(ScriptRunConfig(str(src), "boom.py", compute_target="ray1")),
            "slow": exp.submit(ScriptRunConfig(str(src), "slow.py", compute_target="ray1")),
        }
        result = CliRunner().invoke(main, ["submit", "--uri", uri, "-e", "ray", "--compute",
                                           "ray1", str(src / "hello.py")])
        assert result.exit_code == 0, result.output
        yield Batch(ws, address, runs, result.output.strip())
        for run in runs.values():
            if not Run.get(ws, run.id)._refresh().status.is_terminal:
                run.cancel()
        ws.close()


def _job_state(batch: Batch, run: Run) -> str:
    from ray.job_submission import JobSubmissionClient

    job = json.loads(run.get_properties()[RAY_PROPERTY])
    return str(JobSubmissionClient(batch.address).get_job_status(job["job_id"]).value)


def _text(run: Run, path: str) -> str:
    with run.experiment.workspace.artifacts.open(run.id, path) as fh:
        return bytes(fh.read()).decode()


def test_a_distributed_run_streams_logs_and_metrics_from_every_rank(
    batch: Batch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = batch.runs["train"]
    details = run.wait_for_completion(show_output=True, timeout_seconds=WAIT)
    shown = capsys.readouterr().out
    assert details["status"] == "Completed", details
    assert "step 2" in shown and "Status: Completed" in shown
    info = run._refresh()
    assert info.compute_target == "ray1" and RAY_PROPERTY in info.properties
    files = set(run.get_file_names())
    assert {"user_logs/std_log_process_00.txt", "user_logs/std_log_process_01.txt",
            "outputs/rank0.txt", "outputs/rank1.txt"} <= files
    for rank in (0, 1):
        log = _text(run, f"user_logs/std_log_process_{rank:02d}.txt")
        assert f"RANK={rank} WORLD_SIZE=2 LOCAL_RANK={rank} NODE_RANK=0" in log
        assert "MASTER_ADDR=None" not in log and "MASTER_PORT=0" not in log
        assert "step 2" in log and "to stderr" in log
    metrics = run.get_metrics()
    assert metrics["loss"] == [1.0, 0.5, pytest.approx(1 / 3)]
    assert metrics["rank1/loss"] == [1.0, 0.5, pytest.approx(1 / 3)]
    statuses = [json.loads(line) for line in
                _text(run, "system_logs/process_status.json").splitlines()]
    assert [s["exit_code"] for s in statuses if "exit_code" in s] == [0, 0]


def test_a_failing_script_fails_the_run_with_its_error(batch: Batch) -> None:
    details = batch.runs["boom"].wait_for_completion(raise_on_error=False,
                                                    timeout_seconds=WAIT)
    assert details["status"] == "Failed"
    error = details["error"]["error"]
    assert "bad value 42" in error["message"] and error["exit_code"] == 1


def test_cancel_stops_the_ray_job_and_every_process(batch: Batch) -> None:
    run = batch.runs["slow"]
    deadline = time.monotonic() + WAIT
    while run.get_status() != "Running":
        assert time.monotonic() < deadline and not run._info.status.is_terminal
        time.sleep(0.5)
    result = CliRunner().invoke(main, ["cancel", "--uri", str(batch.ws.settings.tracking_uri),
                                       run.id])
    assert result.exit_code == 0, result.output
    assert run.get_status() == "Canceled"
    deadline = time.monotonic() + 30
    while _job_state(batch, run) in ("PENDING", "RUNNING"):
        assert time.monotonic() < deadline, "the Ray job kept running"
        time.sleep(0.5)
    leftover = [p for p in psutil.process_iter(["cmdline"])
                if "slow.py" in " ".join(p.info["cmdline"] or [])]
    assert leftover == []


def test_runtrack_submit_compute_runs_on_the_cluster(batch: Batch) -> None:
    run = Run.get(batch.ws, batch.cli_run_id)
    assert run.wait_for_completion(timeout_seconds=WAIT)["status"] == "Completed"
    assert "hello from the cli" in _text(run, "user_logs/std_log.txt")
    deadline = time.monotonic() + 60  # the supervisor exits just after the run ends
    while (state := _job_state(batch, run)) in ("PENDING", "RUNNING"):
        assert time.monotonic() < deadline
        time.sleep(0.5)
    assert state == "SUCCEEDED"


def test_the_snapshot_and_environment_travel_as_the_runtime_env(tmp_path: Path) -> None:
    src = _folder(tmp_path)
    spec = RunSpec(run_id="r1", experiment_name="e", tracking_uri="sqlite:///x.db",
                   artifact_root=None, spool_dir=str(tmp_path / "spool"),
                   workdir=str(tmp_path / "work"), command=["python", "train.py"],
                   python="python", requirements=["tqdm==4.66.1"],
                   source_directory=str(src))
    working, runtime_env = stage(spec)
    names = sorted(p.name for p in working.iterdir())
    assert names == sorted([*SCRIPTS, ".amlignore", SPEC_FILE])  # big.bin is ignored
    assert RunSpec.from_json((working / SPEC_FILE).read_text()) == spec
    assert runtime_env["working_dir"] == str(working)
    assert runtime_env["pip"] == ["tqdm==4.66.1"]
    [module] = runtime_env["py_modules"]
    assert Path(module, "__init__.py").is_file() and Path(module).name == "runtrack"
    user_managed = RunSpec(**{**spec.__dict__, "requirements": None})
    assert "pip" not in stage(user_managed)[1]  # the cluster's own interpreter
