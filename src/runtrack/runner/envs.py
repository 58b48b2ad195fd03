"""Python environments of submitted runs: the user's interpreter or a cached venv.

* user-managed (the default): the run uses the given interpreter as it is.
* requirements: a virtual environment is built with ``python -m venv
  --system-site-packages`` (so runtrack and what the base interpreter has stay
  importable; the requirements installed into the venv take precedence), then
  ``pip install`` of the requirements with the base interpreter's pip. It is cached
  under ``<cache>/<hash>`` where the hash covers the base interpreter and the exact
  requirement lines; a file lock makes concurrent builds of one environment wait for
  each other. A failed build is removed and raises :class:`EnvironmentBuildError`
  carrying pip's output tail.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from runtrack.errors import RuntrackError

READY_MARKER = ".runtrack-ready"


class EnvironmentBuildError(RuntrackError):
    """Building the run's environment failed; ``details['output']`` holds pip's tail."""

    code = "ENVIRONMENT_BUILD_FAILED"


def environment_hash(python: str, requirements: list[str]) -> str:
    key = {
        "python": os.path.realpath(python),
        "requirements": [r.strip() for r in requirements if r.strip()],
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]


def venv_python(folder: Path) -> Path:
    return folder / "bin" / "python"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def prepare(
    python: str,
    requirements: list[str] | None,
    cache: Path,
    log: Callable[[str], None],
) -> tuple[str, dict[str, str]]:
    """The interpreter to run and the extra environment variables it needs."""
    if requirements is None:
        log(f"user-managed environment: {python}\n")
        return python, {}
    digest = environment_hash(python, requirements)
    folder = cache / digest
    with _locked(cache / f"{digest}.lock"):
        if (folder / READY_MARKER).is_file():
            log(f"using cached environment {folder} (requirements: {requirements})\n")
        else:
            _build(python, requirements, folder, log)
    extra = {
        "VIRTUAL_ENV": str(folder),
        "PATH": f"{folder / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    return str(venv_python(folder)), extra


def _build(python: str, requirements: list[str], folder: Path, log: Callable[[str], None]) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    log(f"building environment {folder} from {requirements}\n")
    try:
        _run([python, "-m", "venv", "--system-site-packages", "--without-pip", str(folder)], log)
        lines = [r.strip() for r in requirements if r.strip()]
        if lines:
            _run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "--python",
                    str(venv_python(folder)),
                    "install",
                    "--no-input",
                    "--disable-pip-version-check",
                    *lines,
                ],
                log,
            )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    (folder / READY_MARKER).write_text("ok\n")
    log("environment ready\n")


def _run(argv: list[str], log: Callable[[str], None]) -> None:
    log("$ " + " ".join(argv) + "\n")
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )
    assert proc.stdout is not None
    tail: list[str] = []
    for raw in proc.stdout:
        line = raw.decode("utf-8", "replace")
        log(line)
        tail = [*tail, line][-30:]
    code = proc.wait()
    if code != 0:
        output = "".join(tail).strip()
        raise EnvironmentBuildError(
            f"building the run's environment failed ({argv[2] if len(argv) > 2 else argv[0]} "
            f"exited with {code}):\n{output}\nFix the requirement or use a user-managed "
            "environment (Environment.python.user_managed_dependencies = True)",
            output=output,
        )
