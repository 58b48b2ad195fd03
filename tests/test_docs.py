"""Docs are checked, not hoped for: commands, limits and the README's set-up commands."""

from __future__ import annotations

import re
from pathlib import Path

from runtrack import limits
from runtrack.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _bash_blocks(text: str) -> list[str]:
    return re.findall(r"```(?:bash|sh|console|shell)\n(.*?)```", text, re.S)


def test_every_cli_command_is_documented() -> None:
    doc = (ROOT / "docs" / "cli.md").read_text()
    missing = [name for name in main.commands if f"## `runtrack {name}" not in doc]
    assert not missing, f"docs/cli.md lacks a section for: {missing}"


def test_every_limit_is_documented() -> None:
    doc = (ROOT / "docs" / "limits.md").read_text()
    missing = [name for name in limits.ALL if f"`{name}`" not in doc]
    assert not missing, f"docs/limits.md lacks: {missing}"


def test_readme_opens_with_the_two_setup_commands_and_ci_runs_the_second() -> None:
    blocks = _bash_blocks((ROOT / "README.md").read_text())
    assert len(blocks) >= 2
    test_command = blocks[1].strip()
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in ci, f".ci/run must run the README's test command: {test_command}"
