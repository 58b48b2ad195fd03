"""Python environments of submitted runs: the user's interpreter or a cached venv.

* user-managed (the default): the run uses the given interpreter as it is.
* requirements: a virtual environment is built with ``python -m venv`` from the
  submitting interpreter, then ``pip install`` of the requirements with the running
  interpreter's pip. A ``.pth`` file in it adds every site folder and path entry the
  submitting interpreter sees (asked from that interpreter, ``PYTHONPATH`` aside), so
  runtrack and its dependencies import whether the submitting interpreter is a venv, a
  conda env or a system Python; the installed requirements come first. (A plain
  ``--system-site-packages`` would see the *base* Python of a venv, not the venv.) It
  is cached under ``<cache>/<hash>`` where the hash covers the submitting interpreter,
  the paths it sees and the exact requirement lines; a file lock makes concurrent
  builds of one environment wait for each other. A failed build is removed and raises
  :class:`EnvironmentBuildError` carrying pip's output tail.
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


BASE_PTH = "_runtrack_base.pth"
_QUERY = """
import json, os, site, sys, sysconfig
std = {sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib")}
sites = list(site.getsitepackages())
if site.ENABLE_USER_SITE:
    sites.append(site.getusersitepackages())
sites = [p for p in sites if os.path.isdir(p)]
paths = [p for p in sys.path if p and os.path.isdir(p) and p not in std and p not in sites
         and os.path.basename(p) != "lib-dynload"]
print(json.dumps({"sites": sites, "paths": paths}))
"""


def base_paths(python: str) -> dict[str, list[str]]:
    """The site folders and other path entries ``python`` imports from (not stdlib)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    out = subprocess.run(
        [python, "-c", _QUERY], capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL
    )
    if out.returncode != 0:
        raise EnvironmentBuildError(
            f"cannot ask interpreter {python} for its paths (exit {out.returncode}): "
            f"{out.stderr.strip()[-2000:]}; set Environment.python.interpreter_path to a "
            "working Python",
            output=out.stderr,
        )
    data: dict[str, list[str]] = json.loads(out.stdout)
    return data


def environment_hash(
    python: str, requirements: list[str], paths: dict[str, list[str]] | None = None
) -> str:
    key = {
        "python": os.path.abspath(python),
        "paths": paths or {},
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
    paths = base_paths(python)
    digest = environment_hash(python, requirements, paths)
    folder = cache / digest
    with _locked(cache / f"{digest}.lock"):
        if (folder / READY_MARKER).is_file():
            log(f"using cached environment {folder} (requirements: {requirements})\n")
        else:
            _build(python, requirements, paths, folder, log)
    extra = {
        "VIRTUAL_ENV": str(folder),
        "PATH": f"{folder / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    return str(venv_python(folder)), extra


def _build(
    python: str,
    requirements: list[str],
    paths: dict[str, list[str]],
    folder: Path,
    log: Callable[[str], None],
) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    log(f"building environment {folder} from {requirements}\n")
    try:
        _run([python, "-m", "venv", "--without-pip", str(folder)], log)
        _link_base(folder, paths)
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


def _link_base(folder: Path, paths: dict[str, list[str]]) -> None:
    """Write the .pth that makes the submitting interpreter's packages importable."""
    purelib = subprocess.run(
        [str(venv_python(folder)), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True, text=True, check=True, stdin=subprocess.DEVNULL,
    ).stdout.strip()
    site_dir = Path(purelib)
    site_dir.mkdir(parents=True, exist_ok=True)
    # One import line: site folders are added with their own .pth files processed
    # (editable installs live there); other entries are appended as they are.
    # (site.addpackage exec()s the line in a function: no comprehensions over its names.)
    line = (
        f"import site, sys; list(map(site.addsitedir, {paths.get('sites', [])!r})); "
        f"sys.path.extend({paths.get('paths', [])!r})\n"
    )
    (site_dir / BASE_PTH).write_text(line, encoding="utf-8")


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
