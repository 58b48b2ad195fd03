"""A real notebook, executed by nbclient on a real IPython kernel: it creates a run, logs
metrics, shows RunDetails while the run is live, completes it, and displays the reprs."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("ipywidgets")

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

CELLS = [
    """\
import io
from runtrack import Experiment, Workspace
from runtrack.widgets import RunDetails, runs_table

ws = Workspace("ws")
exp = Experiment(ws, "notebook")
run = exp.start_logging(display_name="nb-run")
for i in range(20):
    run.log("loss", 1 / (i + 1), step=i)
run.log("lr", 0.01)
run.upload_file("user_logs/std_log.txt", io.BytesIO(b"\\x1b[31mred line\\x1b[0m\\nplain\\n"))
run.flush()""",
    """\
details = RunDetails(run, refresh_start=0.1, refresh_max=0.5)
details.show()""",
    """\
run.log("loss", 0.01, step=20)
run.complete()
print("stopped:", details.wait(60), details.refreshes > 1, details.last_error)""",
    "run",
    "exp",
    "runs_table(exp.get_runs())",
]


def _kernel_name() -> str:
    from jupyter_client.kernelspec import KernelSpecManager

    specs = KernelSpecManager().find_kernel_specs()
    if "python3" not in specs:  # ipykernel registers its native spec; be explicit anyway
        pytest.fail(f"no python3 kernel spec (found {sorted(specs)}); install ipykernel")
    return "python3"


def _run_notebook(tmp_path: Path) -> Any:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    _execute(nb, tmp_path)
    return nb


def _execute(nb: Any, cwd: Path) -> None:
    client = nbclient.NotebookClient(
        nb,
        timeout=120,
        kernel_name=_kernel_name(),
        resources={"metadata": {"path": str(cwd)}},
        store_widget_state=True,
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNTRACK_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    client.execute(env=env)
    nbformat.write(nb, str(cwd / "executed.ipynb"))


def _data(cell: Any) -> dict[str, Any]:
    outputs = [o for o in cell.outputs if o.output_type in ("display_data", "execute_result")]
    assert len(outputs) == 1, cell.outputs
    return dict(outputs[0]["data"])


def test_notebook_shows_the_live_widget_and_the_reprs(tmp_path: Path) -> None:
    nb = _run_notebook(tmp_path)
    for cell in nb.cells:
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, errors

    shown = _data(nb.cells[1])
    # The widget for front ends with a widget manager, static HTML for the rest …
    assert WIDGET_MIME in shown
    model_id = shown[WIDGET_MIME]["model_id"]
    html = shown["text/html"]
    # … and the static HTML was updated in place to the final state.
    assert "Completed" in html and "nb-run" in html
    assert "refreshing every" not in html
    assert html.count("<svg") == 1  # one chart: loss (lr is a single value)
    assert '<span style="color:#cd3131">red line</span>' in html
    assert "<script" not in html
    assert "RunDetails: #1 nb-run" in shown["text/plain"]

    assert nb.cells[2].outputs[0]["text"].strip() == "stopped: True True None"

    # The widget model, updated from the refresh thread, ends in the same final state.
    state = nb.metadata["widgets"][WIDGET_STATE]["state"]
    value = state[model_id]["state"]["value"]
    assert "Completed" in value and "refreshing every" not in value
    assert value.count("<polyline") == 1

    run_html = _data(nb.cells[3])["text/html"]
    assert "nb-run" in run_html and "Completed" in run_html
    exp_html = _data(nb.cells[4])["text/html"]
    assert "notebook" in exp_html and "nb-run" in exp_html
    table_html = _data(nb.cells[5])["text/html"]
    assert "1 run" in table_html and "nb-run" in table_html


def test_alpha_sweep_example_notebook(tmp_path: Path) -> None:
    """examples/alpha_sweep.ipynb submits train-on-local and watches it to the end."""
    pytest.importorskip("sklearn")
    examples = Path(__file__).resolve().parents[1] / "examples"
    shutil.copy(examples / "alpha_sweep.ipynb", tmp_path)
    shutil.copytree(examples / "train_on_local", tmp_path / "train_on_local")
    nb = nbformat.read(tmp_path / "alpha_sweep.ipynb", as_version=4)
    _execute(nb, tmp_path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    for cell in code:
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, errors

    widgets = [c for c in code if "details.show()" in c.source]
    (watch,) = widgets
    html = _data(watch)["text/html"]
    assert "Completed" in html and "refreshing every" not in html
    assert html.count("<svg") == 2  # mse and alpha
    assert "alpha is 0.40, and mse is 3295.71" in html  # the log tail
    printed = "".join(o.get("text", "") for c in code for o in c.outputs)
    assert "When alpha is 0.40, we have min MSE 3295.71." in printed
    table = _data(code[-1])["text/html"]
    assert "1 run" in table and "Completed" in table
