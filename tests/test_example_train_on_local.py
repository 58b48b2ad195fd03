"""examples/train_on_local reproduces the train-on-local sample as a submitted run."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_train_on_local(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if os.environ.get("CI") == "true":
        import sklearn  # noqa: F401  (CI installs the examples extra: never skip there)
    pytest.importorskip("sklearn", reason="needs the examples extra: pip install -e '.[examples]'")
    from runtrack import Workspace

    path = ROOT / "examples" / "train_on_local" / "submit.py"
    spec = importlib.util.spec_from_file_location("train_on_local_submit", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with Workspace(str(tmp_path / "ws")) as ws:
        run = module.main(ws)
        metrics = run.get_metrics()
        files = run.get_file_names()
    assert run.get_status() == "Completed"
    assert len(metrics["alpha"]) == 20 and all(type(a) is float for a in metrics["alpha"])
    assert metrics["alpha"][3] == 0.15000000000000002
    assert min(metrics["mse"]) == pytest.approx(3295.71, abs=0.01)
    assert metrics["alpha"][metrics["mse"].index(min(metrics["mse"]))] == pytest.approx(0.40)
    models = [f for f in files if f.startswith("outputs/ridge_") and f.endswith(".pkl")]
    assert len(models) == 20 and "outputs/ridge_0.40.pkl" in models
    out = capsys.readouterr().out
    assert "alpha is 0.40, and mse is 3295.71" in out
    assert "When alpha is 0.40, we have min MSE 3295.71." in out
