"""Revision ``z18_without_rowid`` on SQLite: the small run-keyed tables are rebuilt as
``WITHOUT ROWID`` tables with their rows, indexes and triggers, a run's write changes
fewer pages, and the downgrade rebuilds them as they were."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

from runtrack.model import MetricBatch, NewRun, RunQuery, RunStatus
from runtrack.store.sql import SqlStore, migrations
from runtrack.store.sql.dialects import Dialect

TABLES = ("run_tags", "run_properties", "ingest_cursors", "run_text_stale")


def _layout(engine: Engine) -> dict[str, object]:
    """Per table: WITHOUT ROWID or not, its indexes and triggers, and its rows."""
    out: dict[str, object] = {}
    with engine.connect() as conn:
        for table in TABLES:
            sql = conn.execute(text("SELECT sql FROM sqlite_master WHERE type = 'table' AND "
                                    "name = :t"), {"t": table}).scalar_one()
            others = conn.execute(text(
                "SELECT type, name FROM sqlite_master WHERE tbl_name = :t AND type IN "
                "('index', 'trigger') AND sql IS NOT NULL ORDER BY name"), {"t": table}).all()
            rows = sorted(conn.execute(text(f"SELECT * FROM {table}")).all())
            out[table] = (sql.rstrip().endswith("WITHOUT ROWID"), others, rows)
    return out


def _config(conn: object) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations.SCRIPT_LOCATION))
    config.attributes["connection"] = conn
    return config


def test_upgrade_keeps_rows_indexes_and_triggers_and_downgrade_restores(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'rt.db'}"
    dialect = Dialect(url)
    engine = dialect.create_engine()
    migrations.upgrade(engine, dialect, "y18_runtext_batches")
    engine.dispose()
    store = SqlStore(url)  # upgrades to the head on open
    engine = store.engine
    try:
        exp = store.get_or_create_experiment("e")
        for run_id, status in (("ended", RunStatus.COMPLETED), ("running", RunStatus.RUNNING)):
            store.create_run(NewRun(exp.id, run_id, display_name=run_id, run_type="script",
                                    status=status, tags={"model": "net", "bare": None},
                                    properties={"seed": "1"}))
            store.ingest(run_id, MetricBatch("s", 0, [("m", "scalar", 0, 1.0, 1.5)]))
        after = _layout(engine)
        assert all(without for without, _, _ in after.values())  # type: ignore[misc]
        with engine.connect() as conn, pytest.raises(Exception, match="rowid"):
            conn.execute(text("SELECT rowid FROM run_tags"))
        # the run text triggers came back: a tag of an ended run reaches its row at once
        store.set_tags("ended", {"fresh": "tag"})
        found, _ = store.search_runs_text(RunQuery(), ["fresh=tag"])
        assert [r.id for r in found] == ["ended"]
        assert store.get_run("running").tags == {"model": "net", "bare": None}
        assert store.ingest_position("running", "s") == 1
        before = _layout(engine)
        with engine.begin() as conn:
            command.downgrade(_config(conn), "y18_runtext_batches")
        downgraded = _layout(engine)
        for table in TABLES:
            without, others, rows = downgraded[table]  # type: ignore[misc]
            assert not without
            assert (others, rows) == before[table][1:]  # type: ignore[index]
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(rowid) FROM run_tags")).scalar_one() == 5
    finally:
        store.close()
