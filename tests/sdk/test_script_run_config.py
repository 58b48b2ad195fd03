"""ScriptRunConfig semantics (no processes): arguments, command, run_config precedence."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from runtrack import (
    CondaDependencies,
    Environment,
    InvalidTypeError,
    InvalidValueError,
    MpiConfiguration,
    PyTorchConfiguration,
    RunConfiguration,
    ScriptRunConfig,
)


def test_arguments_are_stringified_and_argv_built() -> None:
    src = ScriptRunConfig(".", "train.py", arguments=["--lr", 0.1, "--epochs", 3, Path("d")])
    assert src.arguments == ["--lr", "0.1", "--epochs", "3", "d"]
    assert src.argv() == ["python", "train.py", "--lr", "0.1", "--epochs", "3", "d"]
    assert src.compute_target == "local" and src.run_config.node_count == 1
    with pytest.raises(InvalidTypeError, match="arguments"):
        ScriptRunConfig(".", "train.py", arguments=[{"a": 1}])


def test_command_excludes_script_and_arguments() -> None:
    assert ScriptRunConfig(".", command=["python", "x.py", 1]).argv() == ["python", "x.py", "1"]
    assert ScriptRunConfig(".", command="echo hi").argv() == "echo hi"
    with pytest.raises(InvalidValueError, match="not both"):
        ScriptRunConfig(".", "train.py", command=["python", "x.py"])
    with pytest.raises(InvalidValueError, match="script="):
        ScriptRunConfig(".").argv()


def test_distributed_configs_set_node_count_and_processes() -> None:
    mpi = ScriptRunConfig(".", "t.py", distributed_job_config=MpiConfiguration(2, node_count=3))
    assert mpi.run_config.node_count == 3 and mpi.run_config.process_count_per_node == 2
    torch = ScriptRunConfig(
        ".", "t.py", distributed_job_config=PyTorchConfiguration(process_count=4, node_count=2)
    )
    assert torch.run_config.process_count_per_node == 2
    assert torch.definition()["framework"] == "PyTorch"
    with pytest.raises(InvalidValueError, match="multiple of node_count"):
        ScriptRunConfig(
            ".", "t.py", distributed_job_config=PyTorchConfiguration(process_count=3, node_count=2)
        )
    with pytest.raises(InvalidTypeError):
        ScriptRunConfig(".", "t.py", distributed_job_config="mpi")  # type: ignore[arg-type]


def test_run_config_wins_and_stays_mutable() -> None:
    rc = RunConfiguration(script="inner.py", arguments=["a"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        src = ScriptRunConfig(".", run_config=rc, max_run_duration_seconds=5)
    assert any("ignored" in str(w.message) for w in caught)
    assert src.script == "inner.py" and src.run_config.max_run_duration_seconds is None
    assert ScriptRunConfig(".", "outer.py", run_config=rc).script == "outer.py"
    env = Environment("system-managed-env")
    env.python.user_managed_dependencies = False
    env.python.conda_dependencies = CondaDependencies.create(
        conda_packages=["python=3.11", "scikit-learn"], pip_packages=["joblib"]
    )
    src.run_config.environment = env
    assert src.environment.python.resolved_requirements() == ["joblib", "scikit-learn"]
    assert src.definition()["environment"]["name"] == "system-managed-env"


def test_environment_from_pip_requirements(tmp_path: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text("# pinned\nclick>=8\n\nrich\n")
    env = Environment.from_pip_requirements("reqs", str(req))
    assert env.python.resolved_requirements() == ["click>=8", "rich"]
    assert Environment("user").python.resolved_requirements() is None
    with pytest.raises(InvalidValueError):
        Environment.from_pip_requirements("x", str(tmp_path / "missing.txt"))


def test_submit_takes_only_script_run_configs(exp) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidTypeError, match="ScriptRunConfig"):
        exp.submit("train.py")
    with pytest.raises(InvalidValueError, match="not a file"):
        exp.submit(ScriptRunConfig(".", "missing.py"))
    with pytest.raises(InvalidValueError, match="compute target"):
        exp.submit(ScriptRunConfig(".", "x.py", compute_target="gpu-cluster"))
    assert list(exp.get_runs()) == []
