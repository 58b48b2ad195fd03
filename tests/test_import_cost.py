"""``import runtrack`` stays light: no SQLAlchemy, FastAPI, numpy, Pillow or psutil, and
at most ``MAX_NEW_MODULES`` modules (standard library included) beyond what the bare
interpreter had loaded. Counted, not timed: a module count does not depend on the load
of the machine (``python -X importtime -c "import runtrack"`` shows the time)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = (
    "sqlalchemy", "fastapi", "numpy", "PIL", "alembic", "starlette", "httpx", "matplotlib",
    "psutil",
)
#: today about 66 (39 of them runtrack's own); the bound of issue #17
MAX_NEW_MODULES = 100

CODE = (
    "import sys, json; before = set(sys.modules); import runtrack; "
    "print(json.dumps(sorted(set(sys.modules) - before)))"
)


def _new_modules() -> list[str]:
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True)
    loaded: list[str] = json.loads(out.stdout)
    return loaded


def test_import_runtrack_loads_no_heavy_dependency() -> None:
    loaded = {m.split(".")[0] for m in _new_modules()}
    assert "runtrack" in loaded
    assert not loaded & set(HEAVY), f"import runtrack loaded {sorted(loaded & set(HEAVY))}"


def test_import_runtrack_loads_few_modules() -> None:
    new = _new_modules()
    assert len(new) <= MAX_NEW_MODULES, f"import runtrack loaded {len(new)} modules: {new}"
