"""Train on local: submit scripts/train.py as a run and read the sweep back.

    python -m pip install -e '.[examples]' && python examples/train_on_local/submit.py

The run uses this interpreter (a user-managed environment); its metrics land in the
workspace found from the current folder (``./.runtrack`` by default).
"""

from __future__ import annotations

from pathlib import Path

from runtrack import Environment, Experiment, ScriptRunConfig, Workspace

HERE = Path(__file__).resolve().parent


def main(workspace: Workspace | None = None):  # type: ignore[no-untyped-def]
    ws = workspace or Workspace.from_config()
    exp = Experiment(workspace=ws, name="train-on-local")

    user_managed_env = Environment("user-managed-env")
    user_managed_env.python.user_managed_dependencies = True
    src = ScriptRunConfig(
        source_directory=str(HERE / "scripts"),
        script="train.py",
        environment=user_managed_env,
    )
    run = exp.submit(src)
    print(run)
    run.wait_for_completion(show_output=True)

    metrics = run.get_metrics()
    best = min(range(len(metrics["mse"])), key=metrics["mse"].__getitem__)
    alpha, mse = metrics["alpha"][best], metrics["mse"][best]
    print(f"When alpha is {alpha:.2f}, we have min MSE {mse:.2f}.")
    print(run.get_file_names())
    return run


if __name__ == "__main__":
    main()
