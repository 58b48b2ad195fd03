"""Environments with requirements see what the submitting interpreter sees (bug 1 of #12).

The submitting interpreter is usually itself a virtual environment; a built
environment must import runtrack and its dependencies from *that* interpreter, not
from the base Python the venv was made from.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import runtrack
from runtrack.runner import envs

SRC = Path(runtrack.__file__).resolve().parents[1]


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


def _make_submitting_venv(tmp_path: Path) -> Path:
    """A venv (no system site) whose packages come from its own .pth only: this
    checkout's runtrack, the current site-packages (dependencies) and a probe package."""
    venv = tmp_path / "submitter"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
        env=_clean_env(),
    ).stdout.strip()
    probe = tmp_path / "probe_site"
    (probe / "probe_pkg").mkdir(parents=True)
    (probe / "probe_pkg" / "__init__.py").write_text("VALUE = 42\n")
    deps = sysconfig.get_path("purelib")
    (Path(purelib) / "submitter.pth").write_text(f"{SRC}\n{probe}\n{deps}\n")
    return python


def test_built_environment_imports_what_the_submitting_venv_imports(tmp_path: Path) -> None:
    submitter = _make_submitting_venv(tmp_path)
    lines: list[str] = []
    python, extra = envs.prepare(str(submitter), [], tmp_path / "cache", lines.append)
    out = subprocess.run(
        [
            python,
            "-c",
            "import probe_pkg, runtrack, sqlalchemy; print(probe_pkg.VALUE, runtrack.__file__)",
        ],
        capture_output=True,
        text=True,
        env={**_clean_env(), **extra},
    )
    assert out.returncode == 0, out.stderr
    value, where = out.stdout.split()
    assert value == "42"
    assert Path(where).resolve() == SRC / "runtrack" / "__init__.py"


def test_two_submitting_venvs_get_two_environments(tmp_path: Path) -> None:
    first = _make_submitting_venv(tmp_path / "a")
    second = _make_submitting_venv(tmp_path / "b")
    built = {
        envs.prepare(str(p), [], tmp_path / "cache", lambda _: None)[0] for p in (first, second)
    }
    assert len(built) == 2
