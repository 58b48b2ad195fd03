"""Sweep Ridge's alpha with HyperDrive: random sampling, a Bandit policy, and the best
trial registered as a model.

    python -m pip install -e '.[examples]' && python examples/sweep/submit.py
"""

from __future__ import annotations

import json
from pathlib import Path

from runtrack import Experiment, ScriptRunConfig, Workspace
from runtrack.sdk.hyperdrive import (
    BanditPolicy,
    HyperDriveConfig,
    PrimaryMetricGoal,
    RandomParameterSampling,
    choice,
)

HERE = Path(__file__).resolve().parent
ALPHAS = [0.01, 0.1, 1.0, 10.0]


def main(workspace: Workspace | None = None, max_total_runs: int = 8, seed: int = 3):  # type: ignore[no-untyped-def]
    ws = workspace or Workspace.from_config()
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=str(HERE / "scripts"), script="train.py"),
        hyperparameter_sampling=RandomParameterSampling({"alpha": choice(ALPHAS)}, seed=seed),
        policy=BanditPolicy(slack_factor=0.01, evaluation_interval=1, delay_evaluation=1),
        primary_metric_name="mse",
        primary_metric_goal=PrimaryMetricGoal.MINIMIZE,
        max_total_runs=max_total_runs,
        max_concurrent_runs=4,
    )
    sweep = Experiment(ws, "sweep-ridge").submit(config)
    sweep.wait_for_completion(raise_on_error=False)
    for row in sweep.get_children_sorted_by_primary_metric(top=3):
        print(row["status"], row["hyperparameters"], row["best_primary_metric"])
    best = sweep.get_best_run_by_primary_metric()
    alpha = json.loads(best.get_properties()["hyperparameters"])["alpha"]
    print(f"best alpha {alpha}: mse {best.get_metrics()['mse'][-1]:.2f}")
    best.register_model("diabetes-ridge", "outputs/model.pkl", tags={"alpha": str(alpha)})
    return sweep


if __name__ == "__main__":
    main()
