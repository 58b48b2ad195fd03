# hi-ml-like helpers around the run API: workspace discovery, run lookup, downloads
from pathlib import Path

from azureml.core import Experiment, Run, ScriptRunConfig, Workspace
from azureml.core.run import _OfflineRun


def is_running_in_azure_ml(aml_run: Run | None = None) -> bool:
    aml_run = aml_run or Run.get_context()
    return not isinstance(aml_run, _OfflineRun) and hasattr(aml_run, "experiment")


def get_workspace(config_path: Path | None = None) -> Workspace:
    run = Run.get_context()
    if is_running_in_azure_ml(run):
        return run.experiment.workspace
    return Workspace.from_config(path=str(config_path) if config_path else None)


def download_files_from_run_id(
    run_id: str, output_folder: Path, prefix: str = "", workspace: Workspace | None = None
) -> list:
    workspace = workspace or get_workspace()
    run = workspace.get_run(run_id)
    return run.download_files(
        prefix=prefix, output_directory=str(output_folder), append_prefix=False
    )


assert not is_running_in_azure_ml()
ws = get_workspace(Path("."))
exp = Experiment(ws, "himl-helpers")
run = exp.submit(ScriptRunConfig(source_directory="code", script="score.py"))
run.wait_for_completion(raise_on_error=True)

ckpts = download_files_from_run_id(run.id, Path("ckpt"), prefix="outputs/checkpoints")
assert sorted(Path(p).name for p in ckpts) == [f"epoch={i}.ckpt" for i in range(3)]
assert Path("ckpt/epoch=2.ckpt").read_text() == "2"  # a folder prefix is stripped
logs = download_files_from_run_id(run.id, Path("logs_out"), prefix="user_logs/std_log.txt")
assert logs == [str(Path("logs_out/user_logs/std_log.txt"))]  # a file prefix is kept
assert "scoring on " + run.id in Path(logs[0]).read_text()
everything = download_files_from_run_id(run.id, Path("all"))
assert "all/user_logs/std_log.txt" in [Path(p).as_posix() for p in everything]
assert Run.get(ws, run.id).get_metrics()["epoch"] == [0, 1, 2]
print("CORPUS OK")
