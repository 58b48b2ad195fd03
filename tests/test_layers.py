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
    "runtrack._bulk",
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
        # the seam: its protocols and their values
        if parts[2] in ("base", "readers", "bucket_columns"):
            return "store.base"
        return f"store.impl.{parts[2]}"
    return top  # sdk, spool, runner, server


ALLOWED: dict[str, set[str]] = {
    "core": {"core"},
    "store.base": {"core", "store.base"},
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


def imports_of(path: Path, nodes: list[ast.AST] | None = None) -> set[str]:
    """The runtrack modules ``path`` imports (in ``nodes`` when given: a part of it)."""
    if nodes is None:
        nodes = list(ast.walk(ast.parse(path.read_text(encoding="utf-8"))))
    found: set[str] = set()
    package = (
        module_name(path) if path.name == "__init__.py" else module_name(path).rsplit(".", 1)[0]
    )
    for node in nodes:
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


def import_time_imports(path: Path) -> set[str]:
    """The runtrack modules ``path`` imports when it is imported: module-level
    statements only (not inside functions, not under ``if TYPE_CHECKING:``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top: list[ast.AST] = []
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.If, ast.Try)):
            top += [n for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom))]
    return imports_of(path, top)


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, set()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_no_import_time_cycle_in_the_sdk() -> None:
    """Importing any sdk module never needs a module that is still half-imported: the
    import-time graph of ``runtrack.sdk`` is acyclic (lazy imports inside functions are
    how Workspace, Experiment and Run reach each other's classes)."""
    sdk = [p for p in MODULES if module_name(p).startswith("runtrack.sdk")]
    graph = {
        module_name(p): {m for m in import_time_imports(p) if m.startswith("runtrack.sdk")}
        for p in sdk
    }
    assert import_cycles(graph) == []


def test_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_cycles(graph) == [["a", "b", "c"]]


RUN_HELPERS = sorted(
    p
    for p in MODULES
    if module_name(p).startswith("runtrack.sdk._run_")
    or module_name(p) == "runtrack.sdk._script_run"
)


@pytest.mark.parametrize("path", RUN_HELPERS, ids=lambda p: module_name(p))
def test_run_helpers_never_import_run(path: Path) -> None:
    """Run's helpers (metrics, files, children, script-run control, field checks) get
    the store, the artifact store and the run id; none imports ``runtrack.sdk.run``,
    not even for type checking (``imports_of`` sees every import statement)."""
    assert "runtrack.sdk.run" not in imports_of(path)


def test_the_run_helpers_are_where_the_check_looks() -> None:
    names = {module_name(p) for p in RUN_HELPERS}
    assert {
        "runtrack.sdk._run_metrics", "runtrack.sdk._run_files", "runtrack.sdk._run_children",
        "runtrack.sdk._run_end", "runtrack.sdk._run_open", "runtrack.sdk._run_log",
        "runtrack.sdk._script_run",
    } <= names


def _class_bases(path: Path) -> dict[str, list[str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name: [ast.unparse(b) for b in node.bases]
        for node in ast.walk(tree) if isinstance(node, ast.ClassDef)
    }


def test_run_is_composed_not_mixed() -> None:
    """``Run`` has no base classes (its helpers are attributes), and no class in
    ``runtrack.sdk`` is a mixin: none is named ``*Mixin`` or inherits from one."""
    run_py = SRC / "sdk" / "run.py"
    assert _class_bases(run_py)["Run"] == []
    for path in MODULES:
        if not module_name(path).startswith("runtrack.sdk"):
            continue
        for name, bases in _class_bases(path).items():
            assert not name.endswith("Mixin"), f"{module_name(path)}.{name}"
            assert not any(b.endswith("Mixin") for b in bases), f"{module_name(path)}.{name}"


#: STYLE.md: one concept per module, split at 600 lines
MAX_MODULE_LINES = 600


def too_long(paths: list[Path], limit: int = MAX_MODULE_LINES) -> dict[str, int]:
    """The modules among ``paths`` with more than ``limit`` lines, and their length."""
    lengths = {str(p): len(p.read_text(encoding="utf-8").splitlines()) for p in paths}
    return {name: n for name, n in lengths.items() if n > limit}


def test_no_module_is_past_the_split_size() -> None:
    """Every Python module under src/ (runtrack and the azureml shim) has at most
    MAX_MODULE_LINES lines: past that, move a whole concept into a module of its own
    (as ``Run`` hands its ending to ``sdk/_run_end.py``)."""
    paths = sorted(SRC.parent.rglob("*.py"))
    assert len(paths) > len(MODULES)  # the shim is counted too
    assert too_long(paths) == {}


def test_the_size_check_sees_a_long_module(tmp_path: Path) -> None:
    long, short = tmp_path / "long.py", tmp_path / "short.py"
    long.write_text("x = 1\n" * (MAX_MODULE_LINES + 1), encoding="utf-8")
    short.write_text("x = 1\n" * MAX_MODULE_LINES, encoding="utf-8")
    assert too_long([long, short]) == {str(long): MAX_MODULE_LINES + 1}
