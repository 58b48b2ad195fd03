"""Fidelity gaps of issue #12, checked in-process against a real local workspace."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from runtrack import (
    CondaDependencies,
    Environment,
    Experiment,
    InvalidValueError,
    LimitExceededError,
    NotFoundError,
    ScriptRunConfig,
    Workspace,
    limits,
)
from runtrack.catalog import ComputeTargetInfo
from runtrack.runner.target import LocalTarget
from runtrack.runner.targets import target_for
from runtrack.sdk.compute import ComputeTarget, ComputeTargetException


def test_unknown_compute_name_says_how_to_map_it(exp: Experiment) -> None:
    Path("x.py").write_text("print(1)\n")
    with pytest.raises(InvalidValueError, match=r"map_compute_target\('aml-ci', \"local\"\)"):
        exp.submit(ScriptRunConfig(".", "x.py", compute_target="aml-ci"))
    assert list(exp.get_runs()) == []  # refused before any run exists
    assert isinstance(target_for("aml-ci", {"aml-ci": ComputeTargetInfo("aml-ci", "local")}),
                      LocalTarget)
    with pytest.raises(InvalidValueError, match="not a runtrack target kind"):
        exp.workspace.map_compute_target("aml-ci", "slurm")


def test_compute_names_come_from_the_config_file(tmp_path: Path) -> None:
    Path("runtrack.json").write_text(json.dumps({"compute_targets": {"aml-ci": "local"}}))
    ws = Workspace.from_config()
    assert sorted(ws.compute_targets) == ["aml-ci", "local"]
    assert ComputeTarget(ws, "aml-ci").kind == "local"
    with pytest.raises(ComputeTargetException, match=r"ComputeTarget\.create"):
        ComputeTarget(ws, "gpu")
    with pytest.warns(UserWarning, match="provisions no cluster"):
        gpu = ComputeTarget.create(ws, "gpu", {"vm_size": "NC6"})
    assert gpu.kind == "local" and "gpu" in ws.compute_targets
    gpu.delete()
    assert "gpu" not in ws.compute_targets
    assert isinstance(ComputeTargetException("x"), NotFoundError)


def test_portal_urls_point_at_the_ui_or_the_local_folder(tmp_path: Path) -> None:
    ws = Workspace(str(tmp_path / "ws"))
    exp = Experiment(ws, "e")
    run = exp.start_logging(snapshot_directory=None)
    assert run.get_portal_url() == (tmp_path / "ws" / "artifacts" / run.id).as_uri()
    assert exp.get_portal_url() == (tmp_path / "ws").as_uri()
    run.complete()
    Path("runtrack.json").write_text(
        json.dumps({"tracking_uri": str(tmp_path / "ws"), "ui_url": "http://127.0.0.1:5000/"})
    )
    served = Workspace.from_config()
    assert Experiment(served, "e").get_portal_url() == f"http://127.0.0.1:5000/experiments/{exp.id}"
    assert served.get_run(run.id).get_portal_url() == f"http://127.0.0.1:5000/runs/{run.id}"


def test_mlflow_uri_of_a_local_workspace_is_a_sqlite_store_next_to_it(tmp_path: Path) -> None:
    ws = Workspace(str(tmp_path / "ws"))
    assert ws.get_mlflow_tracking_uri() == f"sqlite:///{tmp_path / 'ws' / 'mlflow.db'}"


def test_workspace_positional_and_get(tmp_path: Path) -> None:
    Path("config.json").write_text(
        json.dumps(
            {
                "subscription_id": "sub",
                "resource_group": "rg",
                "workspace_name": "w",
                "location": "westeurope",
            }
        )
    )
    ws = Workspace.from_config()
    assert (ws.subscription_id, ws.resource_group, ws.location, ws.name) == (
        "sub",
        "rg",
        "westeurope",
        "w",
    )
    positional = Workspace("sub", "rg", "w")
    assert (positional.subscription_id, positional.resource_group, positional.name) == (
        "sub",
        "rg",
        "w",
    )
    assert positional.tracking_uri == ws.tracking_uri
    assert Workspace.get("w", subscription_id="sub", resource_group="rg").name == "w"
    assert Workspace(str(tmp_path / "plain")).subscription_id is None  # a URI stays a URI


def test_start_logging_snapshot_limits_name_the_way_out(
    exp: Experiment, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(3):
        Path(f"f{i}.txt").write_text("x")
    monkeypatch.setattr(limits, "SNAPSHOT_MAX_FILES", 2)
    with pytest.raises(LimitExceededError, match="snapshot_directory=None"):
        exp.start_logging()
    assert list(exp.get_runs()) == []  # no half-made run
    run = exp.start_logging(snapshot_directory=None)
    assert "ContentSnapshotId" not in run.properties
    run.complete()


def test_environment_api_details(tmp_path: Path, ws: Workspace) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text("joblib\nazureml-core==1.48\n")
    env = Environment.from_pip_requirements("reqs", str(req))
    assert env.python.conda_dependencies is not None
    assert env.python.conda_dependencies.pip_packages == ["joblib", "azureml-core==1.48"]
    assert env.python.resolved_requirements() == ["joblib"]
    assert env.python.skipped_requirements() == ["azureml-core==1.48"]
    assert Environment("plain").python.conda_dependencies is not None
    assert Environment("plain").python.user_managed_dependencies is True
    explicit = Environment("explicit")
    explicit.python.user_managed_dependencies = True
    explicit.python.conda_dependencies = CondaDependencies.create(pip_packages=["joblib"])
    assert explicit.python.resolved_requirements() is None  # an explicit choice wins
    conda = CondaDependencies.create(conda_packages=["numpy=1.26", "scipy=1.11.4", "mkl"])
    assert conda.requirements() == ["numpy==1.26.*", "scipy==1.11.4", "mkl"]
    yml = tmp_path / "env.yml"
    yml.write_text("dependencies:\n  - python=3.10\n  - pandas\n  - pip:\n    - tqdm\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing skipped: no warning
        from_yaml = Environment.from_conda_specification("y", str(yml))
    assert from_yaml.python.resolved_requirements() == ["tqdm", "pandas"]
    assert from_yaml.python.conda_dependencies.get_python_version() == "3.10"
    with pytest.raises(NotFoundError, match="register"):
        Environment.get(ws, "missing")


def test_run_details_without_ipython_prints_the_summary(tmp_path: Path, exp: Experiment) -> None:
    run = exp.start_logging(snapshot_directory=None)
    run.log("loss", 0.5)
    run.complete()
    script = tmp_path / "show.py"
    script.write_text(
        "import sys\n"
        "sys.modules['IPython'] = None  # as if the notebook extra were not installed\n"
        "from runtrack import Workspace\n"
        "from runtrack.widgets import RunDetails\n"
        f"ws = Workspace({exp.workspace.tracking_uri!r})\n"
        f"RunDetails(ws.get_run({run.id!r})).show()\n"
    )
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert run.id in out.stdout and "Completed" in out.stdout
