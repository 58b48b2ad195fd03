"""docs/porting.md: its Python blocks run as written in a fresh interpreter with the shim,
and its JSON blocks parse."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.porting.conftest import SRC, run_python

DOC = SRC.parent / "docs" / "porting.md"
TEXT = DOC.read_text(encoding="utf-8")
PYTHON = re.findall(r"```python\n(.*?)```", TEXT, re.S)


@pytest.mark.parametrize("index", range(len(PYTHON)))
def test_python_block_runs(index: int, tmp_path: Path, shim_env: dict[str, str]) -> None:
    script = tmp_path / f"block{index}.py"
    script.write_text(PYTHON[index])
    out = run_python(script, shim_env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr


def test_json_blocks_parse() -> None:
    blocks = re.findall(r"```json\n(.*?)```", TEXT, re.S)
    assert blocks
    for block in blocks:
        json.loads(block)
