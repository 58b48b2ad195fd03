"""Shared fixtures: a clean environment per test and one local workspace fixture."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.inprocess import inprocess_server  # noqa: F401  (shared fixture)
from tests.live_server import live_server  # noqa: F401  (shared fixture)
from tests.postgres import postgres_server, postgres_url  # noqa: F401  (shared fixtures)


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No RUNTRACK_/AZUREML_/MLFLOW_ variables leak in; each test runs in its own cwd."""
    for key in list(os.environ):
        if key.startswith(("RUNTRACK_", "AZUREML_", "MLFLOW_")):
            monkeypatch.delenv(key)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    yield


@pytest.fixture
def ws(tmp_path: Path):  # type: ignore[no-untyped-def]
    from runtrack import Workspace

    workspace = Workspace(str(tmp_path / "ws"))
    yield workspace
    workspace.close()


@pytest.fixture
def exp(ws):  # type: ignore[no-untyped-def]
    from runtrack import Experiment

    return Experiment(ws, "tests")


def _needs_built(function: object, module: str) -> None:
    """Skip where the optional C extension ``module`` is not built (no C compiler);
    fail in CI, which builds it."""
    if function is None:
        if os.environ.get("CI"):
            pytest.fail(f"the C extension {module} is not built in CI")
        pytest.skip(f"{module} is not built here (no C compiler?)")


@pytest.fixture(params=["C scan", "Python twin"])
def reader_scan(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The spool reader with its C scan of names and points (``_scalar.scan``) and with
    the Python path that stands in where it is not built: both must read the same."""
    from runtrack.spool import reader

    if request.param == "C scan":
        _needs_built(reader.scan, "runtrack.spool._scalar")
    else:
        monkeypatch.setattr(reader, "scan", None)
    return str(request.param)


@pytest.fixture(params=["C split", "numpy split"])
def batch_split(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The ingest's split of a columnar batch in C (``_columnar.split``) and through
    numpy where that is not built: both must store the same."""
    from runtrack.store.sql import columnar

    if request.param == "C split":
        _needs_built(columnar.c_split, "runtrack.store.sql._columnar")
        monkeypatch.setattr(columnar, "C_SPLIT_MAX", 1 << 62)  # every batch, whatever its size
    else:
        monkeypatch.setattr(columnar, "c_split", None)
    return str(request.param)


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A ``SqlStore`` URL: a fresh SQLite file, then the test PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runtrack.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto`` (pyproject's addopts): worker processes for the suite or a folder, none
    (one process, no start-up cost per worker) when only single files are named."""
    named = [Path(str(arg).split("::")[0]) for arg in config.args]
    if named and all(path.is_file() for path in named):
        return 0
    return None  # pytest-xdist's own choice: one worker per CPU


# Test files that must share one xdist worker (and so run one after the other, as in a
# serial run): each starts a Ray cluster, and two clusters at once compete for ports.
ONE_WORKER = {"tests/runner/test_ray_cluster.py": "ray", "tests/runner/test_ray_target.py": "ray"}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """``--dist loadfile`` with the files of :data:`ONE_WORKER` grouped on one worker."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class Scheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            scope = super()._split_scope(nodeid)
            return ONE_WORKER.get(scope, scope)

    return Scheduling(config, log)
