"""``import runtrack`` stays light: no SQLAlchemy, FastAPI, numpy, Pillow or psutil, and
at most ``MAX_NEW_MODULES`` modules (standard library included) beyond what the bare
interpreter had loaded. Counted, not timed: a module count does not depend on the load
of the machine (``python -X importtime -c "import runtrack"`` shows the time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import runtrack

HEAVY = (
    "sqlalchemy", "fastapi", "numpy", "PIL", "alembic", "starlette", "httpx", "matplotlib",
    "psutil",
)
#: loaded on first use, not by ``import runtrack`` (issue #17): standard-library modules
#: only some calls need, and the runtrack modules of submission, the catalog and the log
#: renderer. (Counted with ``python -S``, so that no ``.pth`` file of the interpreter's
#: site-packages has loaded them before.)
DEFERRED = (
    "zipfile", "tempfile", "shutil", "random", "uuid", "platform", "bz2", "lzma", "html",
    "runtrack.catalog", "runtrack.runner.spec", "runtrack.runner.snapshot",
    "runtrack._ansi", "runtrack.sdk.script_run_config", "runtrack.sdk.environment",
)
#: today about 63 (39 of them runtrack's own); the bound of issue #17
MAX_NEW_MODULES = 100

CODE = (
    "import sys, json; before = set(sys.modules); import runtrack; "
    "print(json.dumps(sorted(set(sys.modules) - before)))"
)


def _new_modules(*flags: str) -> list[str]:
    # the runtrack under test, also under -S (which skips the .pth of an editable install)
    env = {**os.environ, "PYTHONPATH": str(Path(runtrack.__file__).parents[1])}
    out = subprocess.run(
        [sys.executable, *flags, "-c", CODE], capture_output=True, text=True, check=True, env=env
    )
    loaded: list[str] = json.loads(out.stdout)
    return loaded


def test_import_runtrack_loads_no_heavy_dependency() -> None:
    loaded = {m.split(".")[0] for m in _new_modules()}
    assert "runtrack" in loaded
    assert not loaded & set(HEAVY), f"import runtrack loaded {sorted(loaded & set(HEAVY))}"


def test_import_runtrack_loads_few_modules() -> None:
    new = _new_modules()
    assert len(new) <= MAX_NEW_MODULES, f"import runtrack loaded {len(new)} modules: {new}"


def test_import_runtrack_defers_what_only_some_calls_need() -> None:
    loaded = set(_new_modules("-S"))
    assert "runtrack" in loaded
    early = sorted(loaded & set(DEFERRED))
    assert not early, f"import runtrack loaded {early}"


def test_a_deferred_public_name_is_the_class_itself() -> None:
    code = (
        "import sys, runtrack; assert 'runtrack.sdk.script_run_config' not in sys.modules; "
        "from runtrack import ScriptRunConfig, Environment; "
        "from runtrack.sdk.script_run_config import ScriptRunConfig as S; "
        "assert ScriptRunConfig is S and runtrack.Environment is Environment; "
        "assert 'ScriptRunConfig' in dir(runtrack); print('ok')"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(runtrack.__file__).parents[1])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "ok", out.stderr


def test_an_unknown_name_is_still_an_attribute_error() -> None:
    try:
        runtrack.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:
        raise AssertionError("runtrack.NoSuchThing did not raise")
