"""The porting corpus: Azure ML v1-style scripts and notebooks, run unchanged.

Each folder under ``corpus/`` is a small project written the way the public v1
samples are (logging-api, manage-runs, train-on-local, DP-100 notebooks, pipeline-step
scripts, hi-ml-like helpers …): it imports ``from azureml.core import …`` — served by
the shim — and asserts what azureml-core would return. The folder is copied to a
fresh place with an Azure ``config.json`` (as a downloaded workspace config looks) and
its ``main.py`` (or ``main.ipynb``) runs in a fresh interpreter; it prints
``CORPUS OK`` at its end.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.porting.conftest import run_python

CORPUS = Path(__file__).resolve().parent / "corpus"
ENTRIES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir() and not p.name.startswith("_"))
AZURE_CONFIG = {
    "subscription_id": "00000000-1111-2222-3333-444444444444",
    "resource_group": "ml-rg",
    "workspace_name": "ml-workspace",
}


def test_the_corpus_is_big_enough() -> None:
    assert len(ENTRIES) >= 20


def _project(name: str, tmp_path: Path) -> Path:
    project = tmp_path / name
    shutil.copytree(CORPUS / name, project, ignore=shutil.ignore_patterns("__pycache__"))
    if not (project / "config.json").exists():
        (project / "config.json").write_text(json.dumps(AZURE_CONFIG))
    return project


@pytest.mark.parametrize("name", ENTRIES)
def test_corpus_entry_runs_unchanged(name: str, tmp_path: Path, shim_env: dict[str, str]) -> None:
    project = _project(name, tmp_path)
    if (project / "main.ipynb").exists():
        _run_notebook(project / "main.ipynb", shim_env)
        return
    out = run_python(project / "main.py", shim_env)
    assert out.returncode == 0, f"stdout:\n{out.stdout[-4000:]}\nstderr:\n{out.stderr[-4000:]}"
    assert out.stdout.rstrip().endswith("CORPUS OK"), out.stdout[-2000:]


def _run_notebook(path: Path, env: dict[str, str]) -> None:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)  # the kernel process inherits the shim
        NotebookClient(
            nb,
            timeout=240,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        ).execute()
    text = "".join(
        o.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for o in cell.get("outputs", [])
        if o.get("output_type") == "stream"
    )
    assert text.rstrip().endswith("CORPUS OK"), text[-2000:]
