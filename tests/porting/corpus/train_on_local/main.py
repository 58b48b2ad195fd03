# In the style of training/train-on-local: user-managed environment, local target
from azureml.core import Environment, Experiment, ScriptRunConfig, Workspace

ws = Workspace.from_config()
experiment = Experiment(workspace=ws, name="train-on-local")

user_managed_env = Environment("user-managed-env")
user_managed_env.python.user_managed_dependencies = True

src = ScriptRunConfig(
    source_directory="./src",
    script="train.py",
    compute_target="local",
    environment=user_managed_env,
)
run = experiment.submit(src)
assert run.get_status() in (
    "NotStarted",
    "Queued",
    "Preparing",
    "Starting",
    "Running",
    "Finalizing",
    "Completed",
)
details = run.wait_for_completion(show_output=True)
assert details["status"] == "Completed" and details["target"] == "local"
assert run.get_status() == "Completed"

metrics = run.get_metrics()
assert metrics["alpha"] == [0.0, 0.5, 1.0]
assert len(metrics["mse"]) == 3
names = run.get_file_names()
assert {"outputs/ridge_0.00.pkl", "outputs/ridge_0.50.pkl", "outputs/ridge_1.00.pkl"} <= set(names)
assert "user_logs/std_log.txt" in names
best_alpha = metrics["alpha"][min(range(3), key=lambda i: metrics["mse"][i])]
run.download_file(name=f"outputs/ridge_{best_alpha:.2f}.pkl", output_file_path="best.pkl")
import joblib  # noqa: E402

assert joblib.load("best.pkl").alpha == best_alpha
assert run.get_details()["runDefinition"]["script"] == "train.py"
assert run.id.startswith("train-on-local_")
print("CORPUS OK")
