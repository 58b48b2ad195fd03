"""The TrackingStore contract against SqlStore on a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runtrack.model import NewRun
from runtrack.store.sql import SqlStore
from tests.store.contract import TrackingStoreContract


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    sql_store = SqlStore(f"sqlite:///{tmp_path / 'nested' / 'runtrack.db'}")
    yield sql_store
    sql_store.close()


class TestSqliteStore(TrackingStoreContract):
    pass


def test_sqlite_settings(store: SqlStore, tmp_path: Path) -> None:
    assert (tmp_path / "nested" / "runtrack.db").is_file()
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_commits_leave_the_wal_to_grow_to_the_checkpoint_size(store: SqlStore) -> None:
    """A commit checkpoints once the WAL holds WAL_CHECKPOINT_PAGES pages, not
    SQLite's default 1,000: after ~1,600 pages of commits they are all still in it."""
    from runtrack.store.sql.dialects import WAL_CHECKPOINT_PAGES

    assert WAL_CHECKPOINT_PAGES > 1600
    with store.engine.connect() as conn:
        conn.exec_driver_sql("CREATE TABLE ballast (b BLOB)")
        conn.commit()
        for _ in range(80):  # 80 commits of ~20 pages each
            conn.exec_driver_sql("INSERT INTO ballast VALUES (randomblob(80000))")
            conn.commit()
        busy, frames, _done = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
    assert busy == 0 and frames > 1600


def test_two_stores_on_one_file_share_data(store: SqlStore, tmp_path: Path) -> None:
    other = SqlStore(f"sqlite:///{tmp_path / 'nested' / 'runtrack.db'}")
    try:
        exp = store.get_or_create_experiment("shared")
        assert other.get_or_create_experiment("shared").id == exp.id
    finally:
        other.close()


def test_points_are_packed_in_chunks(store: SqlStore) -> None:
    from sqlalchemy import func, select

    from runtrack.model import MetricBatch
    from runtrack.store.sql.ingest import TARGET_CHUNK
    from runtrack.store.sql.schema import chunks

    exp = store.get_or_create_experiment("e")
    store.create_run(NewRun(exp.id, "r", display_name="r", run_type="script"))
    n = TARGET_CHUNK * 2 + 10
    for start in range(0, n, 1000):
        records = [("m", "scalar", i, 0.0, float(i)) for i in range(start, min(n, start + 1000))]
        store.ingest("r", MetricBatch("s", start, records))
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(chunks)).scalar() == 3


def test_open_store_routes_by_scheme(tmp_path: Path) -> None:
    from runtrack.errors import ConfigError
    from runtrack.store import open_store

    folder_store = open_store(str(tmp_path / "ws"))
    assert isinstance(folder_store, SqlStore)
    folder_store.close()
    assert (tmp_path / "ws" / "runtrack.db").is_file()
    with pytest.raises(ConfigError, match="unsupported"):
        open_store("ftp://example.com/x")
    try:
        import runtrack.store.rest  # noqa: F401
    except ModuleNotFoundError:
        with pytest.raises(ConfigError, match=r"runtrack\.store\.rest"):
            open_store("http://127.0.0.1:1")


def test_importing_the_store_package_is_cheap() -> None:
    import subprocess
    import sys

    code = (
        "import sys, runtrack.store, runtrack.store.artifacts; "
        "bad = [m for m in ('sqlalchemy', 'alembic', 'fsspec', 'numpy') if m in sys.modules]; "
        "assert not bad, bad"
    )
    src = str(Path(__file__).resolve().parents[2] / "src")
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True,
        env={"PYTHONPATH": src}, check=False,
    )
    assert result.returncode == 0, result.stderr
