"""The TrackingStore contract and the migrations against a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from runtrack.model import MetricBatch, NewRun, RunStatus
from runtrack.store.sql import SqlStore, migrations, schema
from runtrack.store.sql.dialects import Dialect
from runtrack.store.sql.schema import metadata
from tests.store.contract import TrackingStoreContract
from tests.store.test_migrations import REVISIONS


@pytest.fixture
def store(postgres_url: str) -> Iterator[SqlStore]:
    sql_store = SqlStore(postgres_url)
    yield sql_store
    sql_store.close()


class TestPostgresStore(TrackingStoreContract):
    pass


def test_it_is_postgres(store: SqlStore) -> None:
    assert store.dialect.name == "postgresql"
    with store.engine.connect() as conn:
        assert "PostgreSQL" in str(conn.exec_driver_sql("SELECT version()").scalar())


@pytest.mark.parametrize("start", [None, *REVISIONS[:-1]])
def test_upgrade_from(postgres_url: str, start: str | None) -> None:
    """From an empty database and from every earlier revision to head."""
    dialect = Dialect(postgres_url)
    engine = dialect.create_engine()
    if start is not None:
        migrations.upgrade(engine, dialect, start)
    engine.dispose()
    store = SqlStore(postgres_url)
    try:
        with store.engine.connect() as conn:
            assert migrations.current_revision(conn) == migrations.HEAD
            assert list(compare_metadata(
            MigrationContext.configure(conn, opts={"include_name": schema.managed_name}),
            metadata,
        )) == []
        exp = store.get_or_create_experiment("e")
        store.create_run(NewRun(exp.id, "r", display_name="r", run_type="script",
                         status=RunStatus.RUNNING))
        store.ingest("r", MetricBatch("s", 0, [("m", "scalar", 0, 1.0, 1.5)]))
        assert store.read_series("r", "m").values == [1.5]
    finally:
        store.close()
    SqlStore(postgres_url).close()  # re-opening an up-to-date database is a no-op
