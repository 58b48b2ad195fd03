"""``import runtrack`` stays light: no SQLAlchemy, FastAPI, numpy or Pillow."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("sqlalchemy", "fastapi", "numpy", "PIL", "alembic", "starlette", "httpx", "matplotlib")


def test_import_runtrack_loads_no_heavy_dependency() -> None:
    code = (
        "import sys, json, runtrack; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    assert "runtrack" in loaded
    assert not loaded & set(HEAVY), f"import runtrack loaded {sorted(loaded & set(HEAVY))}"
