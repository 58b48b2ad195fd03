"""Run code as a ported user would: a fresh interpreter where ``azureml`` is the shim.

The shim is activated exactly as an installed runtrack does it, by processing the
``runtrack-azureml.pth`` file: a ``sitecustomize`` on ``PYTHONPATH`` adds ``src/`` as a
site folder (that is where the .pth lives in the checkout). Submitted runs inherit the
variable, so their scripts see the shim too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
ANNOUNCEMENT = "azureml-core is not installed"


@pytest.fixture
def shim_env(tmp_path: Path) -> dict[str, str]:
    site_dir = tmp_path / "shim_site"
    site_dir.mkdir()
    (site_dir / "sitecustomize.py").write_text(f"import site\nsite.addsitedir({str(SRC)!r})\n")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RUNTRACK_", "AZUREML_", "MLFLOW_"))
    }
    env["PYTHONPATH"] = os.pathsep.join([str(site_dir), str(SRC)])
    return env


def run_python(
    script: Path, env: dict[str, str], *args: str, cwd: Path | None = None, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    """Run ``script`` with a fresh interpreter; the result keeps stdout and stderr."""
    return subprocess.run(
        [sys.executable, str(script), *args],
        cwd=cwd or script.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
