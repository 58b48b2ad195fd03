"""How a sweep runs its trials cheaply, with every trial's logs, status and metrics as a
submitted run's: supervisors as threads of the sweep's process, one snapshot for the
sweep, and trial scripts that start logging without opening the store."""

from __future__ import annotations

import json
import os
import tempfile
import textwrap
import zipfile
from pathlib import Path

from runtrack import Experiment, ScriptRunConfig
from runtrack.runner.spec import SUPERVISOR_PROPERTY
from runtrack.sdk._lazy_store import LazyStore
from runtrack.sdk.hyperdrive import GridParameterSampling, HyperDriveConfig, choice

SCRIPT = """
    import argparse, sys
    from runtrack import Run
    parser = argparse.ArgumentParser()
    parser.add_argument("--k", type=int)
    k = parser.parse_args().k
    run = Run.get_context()
    run.log("score", float(k))
    # logging needed no database: the store is opened only when something asks it
    run.log("store_opened_by_logging", float("sqlalchemy" in sys.modules))
    run.tag("seen", run.get_status())  # this does open it, lazily
    print("trial", k, "done")
"""


def test_trials_are_supervised_in_the_sweeps_process(exp: Experiment, tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "train.py").write_text(textwrap.dedent(SCRIPT))
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(str(source), "train.py"),
        hyperparameter_sampling=GridParameterSampling({"k": choice(1, 2)}),
        primary_metric_name="score", primary_metric_goal="maximize",
        max_concurrent_runs=2,
    )
    sweep = exp.submit(config)
    sweep.wait_for_completion(raise_on_error=False, timeout_seconds=300)
    assert sweep.get_status() == "Completed"
    children = list(sweep.get_children())
    assert len(children) == 2
    # one snapshot, in the sweep; each trial names it
    assert "snapshot.zip" in sweep.get_file_names()
    saved = children[0].restore_snapshot(path=str(tmp_path / "restored"))
    assert zipfile.ZipFile(saved).namelist() == ["train.py"]
    for child in children:
        k = json.loads(child.get_properties()["hyperparameters"])["k"]
        props = child.get_properties()
        assert props["ContentSnapshotId"] == sweep.id
        assert "snapshot.zip" not in child.get_file_names()
        record = json.loads(props[SUPERVISOR_PROPERTY])
        assert record["pid"] == os.getpid() and record["shared"] is True
        # everything a submitted run has: status, metrics, logs, process files
        assert child.get_status() == "Completed"
        metrics = child.get_metrics()
        assert metrics["score"] == float(k)
        assert metrics["store_opened_by_logging"] == 0.0
        assert child.get_tags()["seen"] == "Running"
        files = child.get_file_names()
        for name in ("user_logs/std_log.txt", "system_logs/prepare.txt",
                     "system_logs/execution.txt", "system_logs/process_status.json"):
            assert name in files
        artifacts = child.experiment.workspace.artifacts
        log = artifacts.open(child.id, "user_logs/std_log.txt").read().decode()
        assert f"trial {k} done" in log
        assert not (Path(tempfile.gettempdir()) / "runtrack_runs" / child.id).exists()


def test_lazy_store_opens_on_first_use_only() -> None:
    opened: list[int] = []

    class Store:
        def get_run(self, run_id: str) -> str:
            return f"run {run_id}"

        def close(self) -> None:
            opened.append(-1)

    lazy = LazyStore(lambda: opened.append(1) or Store())
    lazy.close()  # never opens it to close it
    assert opened == [] and not lazy.opened
    assert lazy.get_run("a") == "run a" and lazy.get_run("b") == "run b"
    assert opened == [1] and lazy.opened
    lazy.close()
    assert opened == [1, -1]
