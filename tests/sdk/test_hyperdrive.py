"""HyperDrive sweeps: samplings and policies on their own, then real sweeps of real
script runs (examples/sweep: Ridge alpha on the diabetes data with random sampling and a
Bandit policy, whose best trial matches a plain grid search; Bayesian sampling with
max_concurrent_runs; canceling the parent)."""

from __future__ import annotations

import importlib.util
import json
import textwrap
from pathlib import Path

import pytest

from runtrack import Experiment, ScriptRunConfig
from runtrack.errors import InvalidTypeError, InvalidValueError
from runtrack.sdk.hyperdrive import (
    BanditPolicy,
    BayesianParameterSampling,
    GridParameterSampling,
    HyperDriveConfig,
    MedianStoppingPolicy,
    PrimaryMetricGoal,
    RandomParameterSampling,
    TruncationSelectionPolicy,
    choice,
    loguniform,
    normal,
    quniform,
    randint,
    uniform,
)
from runtrack.sdk.models import Model

MAX, MIN = PrimaryMetricGoal.MAXIMIZE, PrimaryMetricGoal.MINIMIZE
ALPHAS = [0.01, 0.1, 1.0, 10.0]
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sweep"


def test_grid_and_random_sampling() -> None:
    grid = GridParameterSampling({"a": choice(1, 2), "--b": choice(["x", "y"])})
    combos = []
    while (item := grid.next()) is not None:
        combos.append(item[1])
    assert combos == [{"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 2, "b": "x"},
                      {"a": 2, "b": "y"}]
    space = {"u": uniform(0, 1), "q": quniform(0, 10, 2), "l": loguniform(-3, 0),
             "n": normal(0, 1), "r": randint(3), "c": choice(range(3))}
    first = [RandomParameterSampling(space, seed=7).next() for _ in range(1)]
    again = [RandomParameterSampling(space, properties={"rndseed": 7}).next() for _ in range(1)]
    assert first == again
    drawn = first[0][1] if first[0] else {}
    assert 0 <= drawn["u"] <= 1 and drawn["q"] % 2 == 0 and 0.049 < drawn["l"] <= 1
    assert drawn["r"] in (0, 1, 2) and drawn["c"] in (0, 1, 2)
    with pytest.raises(InvalidValueError, match="only choice"):
        GridParameterSampling({"u": uniform(0, 1)})
    with pytest.raises(InvalidTypeError):
        RandomParameterSampling({"a": [1, 2]})
    with pytest.raises(InvalidValueError, match="min_value is above"):
        uniform(2, 1)


def test_policies() -> None:
    values = {"good": [0.9, 0.95], "ok": [0.85, 0.9], "bad": [0.5, 0.6]}
    bandit = BanditPolicy(slack_factor=0.1, evaluation_interval=1)
    assert set(bandit.stop(values, ["good", "ok", "bad"], MAX)) == {"bad"}
    by_amount = BanditPolicy(slack_amount=0.02, evaluation_interval=2)
    assert set(by_amount.stop(values, ["ok", "bad"], MAX)) == {"ok", "bad"}
    assert BanditPolicy(slack_factor=0.1, delay_evaluation=5).stop(values, ["bad"], MAX) == {}
    losses = {"a": [1.0], "b": [2.0], "c": [3.0], "d": [4.0]}
    assert set(MedianStoppingPolicy().stop(losses, ["a", "d"], MIN)) == {"d"}
    trunc = TruncationSelectionPolicy(truncation_percentage=50)
    assert set(trunc.stop(losses, ["a", "b", "c", "d"], MIN)) == {"c", "d"}
    assert "slack" in bandit.stop(values, ["bad"], MAX)["bad"]
    with pytest.raises(InvalidValueError, match="exactly one"):
        BanditPolicy()


def _grid_best() -> float:
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge
    from sklearn.metrics import mean_squared_error
    from sklearn.model_selection import train_test_split

    x, y = load_diabetes(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=0)
    scores = {a: mean_squared_error(y_test, Ridge(alpha=a).fit(x_train, y_train).predict(x_test))
              for a in ALPHAS}
    return min(scores, key=scores.__getitem__)


def _source(tmp_path: Path, body: str) -> str:
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "train.py").write_text(textwrap.dedent(body))
    return str(folder)


def test_ridge_sweep_example_matches_a_grid_search(exp: Experiment) -> None:
    """examples/sweep: random sampling + Bandit over Ridge's alpha; the best trial is the
    grid search's best alpha, and it is registered as a model."""
    spec = importlib.util.spec_from_file_location("sweep_submit", EXAMPLE / "submit.py")
    assert spec and spec.loader
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    assert example.ALPHAS == ALPHAS
    sweep = example.main(exp.workspace, max_total_runs=8, seed=3)
    assert sweep.get_status() == "Completed" and sweep.type == "hyperdrive"
    children = list(sweep.get_children())
    assert len(children) == 8
    sampled = {json.loads(c.get_properties()["hyperparameters"])["alpha"] for c in children}
    assert sampled == set(ALPHAS)  # this seed covers the whole grid
    best = sweep.get_best_run_by_primary_metric()
    assert best is not None and best.get_status() == "Completed"
    assert json.loads(best.get_properties()["hyperparameters"])["alpha"] == _grid_best()
    ranked = sweep.get_children_sorted_by_primary_metric(top=2)
    assert ranked[0]["run_id"] == best.id and len(ranked) == 2
    assert set(sweep.get_metrics()) == {c.id for c in children}
    assert "--alpha" in best.get_details()["runDefinition"]["arguments"]
    for child in children:
        if child.get_status() == "Canceled":
            assert "BanditPolicy" in child.get_properties()["runtrack.termination_reason"]
    model = Model(exp.workspace, "diabetes-ridge")
    assert model.run_id == best.id


def test_bayesian_sampling_and_concurrency(exp: Experiment, tmp_path: Path) -> None:
    script = """
        import argparse, json, os, time
        from runtrack import Run
        parser = argparse.ArgumentParser()
        parser.add_argument("--x", type=float)
        x = parser.parse_args().x
        run = Run.get_context()
        run.log("score", -(x - 2) ** 2)
    """
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(_source(tmp_path, script), "train.py"),
        hyperparameter_sampling=BayesianParameterSampling({"x": uniform(0, 4)}, seed=1),
        primary_metric_name="score", primary_metric_goal="maximize",
        max_total_runs=4, max_concurrent_runs=2,
    )
    sweep = exp.submit(config)
    sweep.wait_for_completion(raise_on_error=False, timeout_seconds=600)
    children = list(sweep.get_children())
    assert sweep.get_status() == "Completed" and len(children) == 4
    spans = sorted((c._refresh().start_time or 0, c._refresh().end_time or 0) for c in children)
    for i, (start, _end) in enumerate(spans):  # never more than 2 running at once
        assert sum(1 for s, e in spans[:i] if e > start) <= 1
    best = sweep.get_best_run_by_primary_metric()
    assert best is not None and best.get_metrics()["score"] <= 0

    from click.testing import CliRunner

    from runtrack.cli import main

    shown = CliRunner().invoke(main, ["sweep", "status", sweep.id, "--uri", str(tmp_path / "ws"),
                                      "--json"])
    assert shown.exit_code == 0, shown.output
    status = json.loads(shown.output)
    assert status["status"] == "Completed" and status["trials"][0]["run_id"] == best.id
    table = CliRunner().invoke(main, ["sweep", "status", sweep.id, "--uri", str(tmp_path / "ws")])
    assert "4 trials, maximize score" in table.output
    not_a_sweep = CliRunner().invoke(main, ["sweep", "status", best.id, "--uri",
                                            str(tmp_path / "ws")])
    assert not_a_sweep.exit_code != 0 and "not a sweep" in not_a_sweep.output


def test_canceling_the_parent_cancels_every_trial(exp: Experiment, tmp_path: Path) -> None:
    script = """
        import time
        from runtrack import Run
        Run.get_context().log("m", 1.0)
        time.sleep(120)
    """
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(_source(tmp_path, script), "train.py"),
        hyperparameter_sampling=GridParameterSampling({"k": choice(1, 2, 3)}),
        primary_metric_name="m", max_concurrent_runs=2,
    )
    sweep = exp.submit(config)
    import time

    deadline = time.monotonic() + 120
    while len(list(sweep.get_children())) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    sweep.cancel()
    for child in sweep.get_children():
        child.wait_for_completion(raise_on_error=False, timeout_seconds=120)
        assert child.get_status() == "Canceled"
        error = child.get_details()["error"]["error"]
        assert error["code"] == "Canceled" and "the sweep was canceled" in error["message"]
    sweep.wait_for_completion(raise_on_error=False, timeout_seconds=60)
    assert sweep.get_status() == "Canceled"
    assert len(list(sweep.get_children())) == 2  # no trial started after the cancel


def test_a_stopped_trial_says_why_in_its_error(exp: Experiment, tmp_path: Path) -> None:
    """The early termination policy's reason is the Canceled trial's error (Azure's
    ``get_details()["error"]`` shape), not only a property."""
    script = """
        import argparse, time
        from runtrack import Run
        parser = argparse.ArgumentParser()
        parser.add_argument("--x", type=float)
        x = parser.parse_args().x
        Run.get_context().log("score", x)
        if x < 1:
            time.sleep(120)  # the policy ends this trial long before
    """
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(_source(tmp_path, script), "train.py"),
        hyperparameter_sampling=GridParameterSampling({"x": choice(0.0, 1.0)}),
        policy=BanditPolicy(slack_factor=0.1, evaluation_interval=1),
        primary_metric_name="score", primary_metric_goal="maximize",
        max_total_runs=2, max_concurrent_runs=2,
    )
    sweep = exp.submit(config)
    sweep.wait_for_completion(raise_on_error=False, timeout_seconds=300)
    by_x = {json.loads(c.get_properties()["hyperparameters"])["x"]: c
            for c in sweep.get_children()}
    assert by_x[1.0].get_status() == "Completed" and "error" not in by_x[1.0].get_details()
    stopped = by_x[0.0]
    assert stopped.get_status() == "Canceled"
    error = stopped.get_details()["error"]["error"]
    assert error["code"] == "EarlyTermination"
    assert "early termination policy: BanditPolicy" in error["message"]
    assert "outside the slack" in error["message"]
    assert error["message"].endswith(stopped.get_properties()["runtrack.termination_reason"])
