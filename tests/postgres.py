"""A throwaway PostgreSQL server for tests (fixtures re-exported by tests/conftest.py).

``postgres_server`` (session) yields an admin URL: ``RUNTRACK_TEST_POSTGRES_URL`` when
set, else a fresh cluster made with the installed ``initdb``/``pg_ctl`` in a temporary
folder on a free 127.0.0.1 port, trust auth, stopped and removed at the end. As root
(PostgreSQL refuses to run as root) the cluster runs as the ``postgres`` user via
``runuser``. Without PostgreSQL binaries the tests skip, except under ``CI=true``,
where they fail. ``postgres_url`` (function) yields the URL of a new empty database.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.components import hidden
from tests.live_server import free_port

ENV_URL = "RUNTRACK_TEST_POSTGRES_URL"


def _bindir() -> Path | None:
    found = shutil.which("pg_config")
    if found:
        out = subprocess.run([found, "--bindir"], capture_output=True, text=True, check=False)
        candidate = Path(out.stdout.strip())
        if (candidate / "initdb").exists():
            return candidate
    for path in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True):
        return Path(path).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _service_user() -> str:
    """``postgres`` (Debian's package creates it), else a system user made for the tests."""
    import pwd

    for name in ("postgres", "runtrack-pg"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(["useradd", "--system", "--no-create-home", "runtrack-pg"], check=True,
                   timeout=60)
    return "runtrack-pg"


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: PostgreSQL tests must run)")
    pytest.skip(reason)


class _Cluster:
    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="runtrack-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            user = _service_user()
            runuser = shutil.which("runuser")
            if runuser is None:
                raise RuntimeError("running as root needs runuser to start PostgreSQL")
            self.as_user = [runuser, "-u", user, "--"]
            shutil.chown(self.root, user)
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        done = subprocess.run(
            [*self.as_user, *args], capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")

    def start(self) -> None:
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "--auth=trust", "-E", "UTF8", "--no-sync")
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", options,
                  "-l", str(self.root / "log"), "-w", "-t", "60", "start")

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                      "-w", "-t", "60", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """Admin URL of a PostgreSQL server the tests may create databases on."""
    reason = hidden("postgres")
    if reason:
        _missing(reason)
    given = os.environ.get(ENV_URL)
    if given:
        yield given
        return
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _missing("psycopg is not installed: pip install 'runtrack[postgres]'")
    bindir = _bindir()
    if bindir is None:
        _missing("PostgreSQL server binaries (initdb, pg_ctl) are not installed; "
                 f"install Debian's postgresql package or set {ENV_URL}")
        return
    cluster = _Cluster(bindir)
    try:
        cluster.start()
    except Exception:
        cluster.stop()
        raise
    yield cluster.url
    cluster.stop()


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """URL of a new, empty database, dropped after the test."""
    import psycopg

    name = f"rt_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = postgres_server.rpartition("/")
    yield f"{base}/{name}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
