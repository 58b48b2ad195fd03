"""Imports point down the layers of STYLE.md; this test fails on any other edge.

It walks every module's imports (lazy ones inside functions included) with ``ast``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "runtrack"

CORE = {
    "runtrack._rules",
    "runtrack._wire",
    "runtrack._format",
    "runtrack._ansi",
    "runtrack.model",
    "runtrack.catalog",
    "runtrack.logsearch",
    "runtrack.errors",
    "runtrack.types",
    "runtrack.config",
    "runtrack.limits",
    "runtrack._version",
}


def layer(module: str) -> str:
    """The layer group a runtrack module belongs to."""
    if module in CORE:
        return "core"
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in ("cli", "widgets", "__main__"):
        return "interface"
    top = parts[1]
    if top == "store":
        if len(parts) == 2:
            return "store.registry"
        if parts[2] == "base":
            return "store.base"
        return f"store.impl.{parts[2]}"
    return top  # sdk, spool, runner, server


ALLOWED: dict[str, set[str]] = {
    "core": {"core"},
    "store.base": {"core"},
    "store.registry": {"core", "store.base", "store.impl.*"},
    "store.impl.*": {"core", "store.base", "<self>"},
    "spool": {"core", "store.base", "spool"},
    "runner": {"core", "store.base", "spool", "runner"},
    "sdk": {"core", "store.base", "store.registry", "spool", "runner", "sdk"},
    "server": {"core", "store.base", "store.registry", "server"},
    "interface": {"*"},
}


def allowed(src: str, dst: str) -> bool:
    key = "store.impl.*" if src.startswith("store.impl.") else src
    rules = ALLOWED[key]
    if "*" in rules or dst in rules:
        return True
    if "<self>" in rules and dst == src:
        return True
    return "store.impl.*" in rules and dst.startswith("store.impl.")


def module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    package = (
        module_name(path) if path.name == "__init__.py" else module_name(path).rsplit(".", 1)[0]
    )
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("runtrack"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            if name.startswith("runtrack"):
                if name == "runtrack" or name in (
                    "runtrack.store",
                    "runtrack.sdk",
                    "runtrack.spool",
                ):
                    # `from runtrack.store import base` names a submodule
                    for alias in node.names:
                        candidate = f"{name}.{alias.name}"
                        found.add(candidate if _exists(candidate) else name)
                else:
                    found.add(name)
    return found


def _exists(module: str) -> bool:
    rel = Path(*module.split(".")[1:])
    return (SRC / rel).with_suffix(".py").exists() or (SRC / rel / "__init__.py").exists()


MODULES = sorted(SRC.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_imports_point_down(path: Path) -> None:
    src = module_name(path)
    bad = [dst for dst in sorted(imports_of(path)) if not allowed(layer(src), layer(dst))]
    assert not bad, f"{src} ({layer(src)}) must not import {bad}"


def test_layer_table_knows_every_module() -> None:
    assert len(MODULES) > 20
    for path in MODULES:
        assert layer(module_name(path)) in {
            "core",
            "interface",
            "store.registry",
            "store.base",
            "spool",
            "runner",
            "sdk",
            "server",
        } or layer(module_name(path)).startswith("store.impl.")


def test_checker_catches_an_upward_import() -> None:
    assert not allowed("store.base", "sdk")
    assert not allowed("server", "sdk")
    assert not allowed("store.impl.sql", "store.impl.rest")
    assert allowed("store.impl.sql", "store.impl.sql")
    assert not allowed("spool", "runner")
