"""A script submitted to a server workspace logs with plain ``mlflow`` calls: the runner
sets MLFLOW_TRACKING_URI / MLFLOW_RUN_ID, ``mlflow.start_run()`` attaches to the
submitted run, and ``mlflow.end_run()`` does not decide the run's status (the job does)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.live_server import LiveServer

pytestmark = pytest.mark.timeout(240)

SCRIPT = """
    import os, sys
    import mlflow
    print("uri", os.environ["MLFLOW_TRACKING_URI"])
    with mlflow.start_run() as run:
        assert run.info.run_id == os.environ["RUNTRACK_RUN_ID"], run.info.run_id
        mlflow.log_param("alpha", 0.03)
        for step in range(3):
            mlflow.log_metric("mse", 1.0 / (step + 1), step=step)
    # the MLflow run is "FINISHED" now; the script still fails, so the run must fail
    sys.exit(3 if "fail" in sys.argv else 0)
"""


@pytest.mark.parametrize("outcome", ["ok", "fail"])
def test_submitted_script_attaches_with_mlflow(
    mlflow: Any, live_server: LiveServer, tmp_path: Path, outcome: str
) -> None:
    from runtrack import Experiment, ScriptRunConfig, Workspace

    source = tmp_path / "src"
    source.mkdir()
    (source / "train.py").write_text(textwrap.dedent(SCRIPT))
    ws = Workspace(live_server.url)
    assert ws.get_mlflow_tracking_uri() == live_server.url
    try:
        exp = Experiment(ws, "mlflow-submitted")
        config = ScriptRunConfig(str(source), "train.py", arguments=[outcome])
        run = exp.submit(config)
        run.wait_for_completion(raise_on_error=False, timeout_seconds=180)
        assert run.get_status() == ("Completed" if outcome == "ok" else "Failed")
        assert run.get_metrics() == {"mse": [1.0, 0.5, 1.0 / 3]}
        assert run.get_properties()["alpha"] == "0.03"
        got = mlflow.MlflowClient().get_run(run.id)
        assert got.info.status == ("FINISHED" if outcome == "ok" else "FAILED")
        assert got.data.params["alpha"] == "0.03"
    finally:
        ws.close()


def test_local_workspace_gives_mlflow_a_sqlite_store_of_its_own(tmp_path: Path) -> None:
    from runtrack import Workspace

    ws = Workspace(str(tmp_path / "local"))
    try:
        assert ws.get_mlflow_tracking_uri() == f"sqlite:///{tmp_path / 'local' / 'mlflow.db'}"
    finally:
        ws.close()


def test_run_env_points_mlflow_at_the_server() -> None:
    from runtrack.runner.runenv import base_env
    from runtrack.runner.spec import RunSpec

    def spec(uri: str) -> RunSpec:
        return RunSpec("exp_1_ab", "exp", uri, None, "/tmp/spool", "/tmp/w", ["python"], "py")

    env = base_env(spec("http://h:5000"), {"RUNTRACK_TOKEN": "rt_x", "MLFLOW_RUN_ID": "old"})
    assert env["MLFLOW_TRACKING_URI"] == "http://h:5000"
    assert env["MLFLOW_RUN_ID"] == "exp_1_ab"
    assert env["MLFLOW_EXPERIMENT_NAME"] == "exp"
    assert env["MLFLOW_TRACKING_TOKEN"] == "rt_x"
    local = base_env(spec("sqlite:////tmp/x.db"), {"MLFLOW_RUN_ID": "old"})
    assert not [k for k in local if k.startswith("MLFLOW_")]
