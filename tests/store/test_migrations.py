"""Schema migrations: empty -> head, re-open is a no-op, every revision -> head.

When a revision is added, append it to ``REVISIONS``; ``test_upgrade_from`` then
starts from each earlier revision (and from an empty file) and checks that the result
matches ``schema.py`` and works as a store.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from runtrack.errors import ConfigError
from runtrack.model import MetricBatch, NewRun, RunStatus
from runtrack.store.sql import SqlStore, migrations, schema
from runtrack.store.sql.dialects import Dialect
from runtrack.store.sql.schema import metadata

# oldest first; the last one is HEAD
REVISIONS = ["0001", "i13_registry", "i14_mlflow_latest", "i18_logsearch", "s16a_compute",
             "c15_runtext", "l17b_runtext_hold", "tg17_runtext_stale",
             "x17_series_no_name_index", "y18_runtext_batches", "z18_without_rowid"]


def _url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'db' / 'runtrack.db'}"


def _diff(store: SqlStore) -> list[object]:
    with store.engine.connect() as conn:
        return list(compare_metadata(
            MigrationContext.configure(conn, opts={"include_name": schema.managed_name}),
            metadata,
        ))


def test_revision_list_matches_scripts() -> None:
    assert REVISIONS[-1] == migrations.HEAD == migrations.script_head()


def test_empty_database_to_head(tmp_path: Path) -> None:
    store = SqlStore(_url(tmp_path))
    try:
        with store.engine.connect() as conn:
            assert migrations.current_revision(conn) == migrations.HEAD
        assert _diff(store) == []
    finally:
        store.close()


@pytest.mark.parametrize("start", [None, *REVISIONS[:-1]])
def test_upgrade_from(tmp_path: Path, start: str | None) -> None:
    url = _url(tmp_path)
    dialect = Dialect(url)
    engine = dialect.create_engine()
    if start is not None:
        migrations.upgrade(engine, dialect, start)
    engine.dispose()
    store = SqlStore(url)
    try:
        assert _diff(store) == []
        exp = store.get_or_create_experiment("e")
        store.create_run(NewRun(exp.id, "r", display_name="r", run_type="script",
                         status=RunStatus.RUNNING))
        store.ingest("r", MetricBatch("s", 0, [("m", "scalar", 0, 1.0, 1.5)]))
        assert store.read_series("r", "m").values == [1.5]
    finally:
        store.close()


def test_reopening_is_a_no_op(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    SqlStore(_url(tmp_path)).close()

    def fail(*args: object) -> None:
        raise AssertionError("an up-to-date database must not be migrated again")

    monkeypatch.setattr(migrations, "_run_alembic", fail)
    SqlStore(_url(tmp_path)).close()


def test_opening_an_up_to_date_database_does_not_import_alembic(tmp_path: Path) -> None:
    SqlStore(_url(tmp_path)).close()
    code = (
        "import sys; from runtrack.store import open_store; "
        f"open_store({_url(tmp_path)!r}).close(); "
        "assert 'alembic' not in sys.modules, 'alembic imported'"
    )
    src = str(Path(__file__).resolve().parents[2] / "src")
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True,
        env={"PYTHONPATH": src}, check=False,
    )
    assert result.returncode == 0, result.stderr


def test_database_from_a_newer_runtrack_is_refused(tmp_path: Path) -> None:
    store = SqlStore(_url(tmp_path))
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'zz99'"))
    store.close()
    with pytest.raises(ConfigError, match="newer runtrack"):
        SqlStore(_url(tmp_path))


def test_concurrent_first_opens_migrate_once(tmp_path: Path) -> None:
    errors: list[BaseException] = []
    stores: list[SqlStore] = []

    def open_one() -> None:
        try:
            stores.append(SqlStore(_url(tmp_path)))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    for store in stores:
        assert store.list_experiments() == []
        store.close()
