"""Index for the runs page's search box (``runtrack.store.sql.runtext``).

SQLite (with FTS5's ``trigram`` tokenizer, SQLite >= 3.34): an FTS5 table
``run_text`` holding one row per run, its searchable texts joined by newlines, kept
by triggers on ``runs``, ``run_tags`` and ``run_properties``. PostgreSQL (with the
``pg_trgm`` extension): GIN trigram indexes on the columns the search reads. Where
neither is available the search scans, as before.

Revision ID: c15_runtext
Revises: s16a_compute
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "c15_runtext"
down_revision: str | None = "s16a_compute"
branch_labels = None
depends_on = None

#: the run's row id in run_text: stable (experiment and number never change), where
#: the rowid of ``runs`` is not (VACUUM may renumber a table without an integer key)
_KEY = "{r}.experiment_id * 4294967296 + {r}.number"
_BODY = (
    "{r}.id || char(10) || {r}.display_name || char(10) || {r}.number || char(10) "
    "|| {r}.run_type || coalesce((SELECT group_concat(char(10) || CASE WHEN t.value IS NULL "
    "THEN t.key ELSE t.key || '=' || t.value END, '') FROM run_tags t WHERE t.run_id = {r}.id), "
    "'') || coalesce((SELECT group_concat(char(10) || p.key || '=' || p.value, '') "
    "FROM run_properties p WHERE p.run_id = {r}.id), '')"
)
_FILL = ("INSERT INTO run_text(rowid, run_id, body) SELECT " + _KEY.format(r="r") + ", r.id, "
         + _BODY.format(r="r") + " FROM runs r")


def _refresh(run_id: str) -> str:
    """Statements (for a trigger) that rebuild run ``run_id``'s row."""
    return (
        f"DELETE FROM run_text WHERE rowid = (SELECT {_KEY.format(r='r')} FROM runs r "
        f"WHERE r.id = {run_id}); {_FILL} WHERE r.id = {run_id};"
    )


_TRIGGERS = {
    "run_text_runs_ai": f"AFTER INSERT ON runs BEGIN {_FILL} WHERE r.id = new.id; END",
    "run_text_runs_au": (
        "AFTER UPDATE OF id, experiment_id, number, display_name, run_type ON runs BEGIN "
        f"DELETE FROM run_text WHERE rowid = {_KEY.format(r='old')}; "
        f"{_FILL} WHERE r.id = new.id; END"
    ),
    "run_text_runs_ad": (
        f"AFTER DELETE ON runs BEGIN DELETE FROM run_text WHERE rowid = "
        f"{_KEY.format(r='old')}; END"
    ),
}
for _table, _short in (("run_tags", "tags"), ("run_properties", "props")):
    _TRIGGERS.update({
        f"run_text_{_short}_ai": f"AFTER INSERT ON {_table} BEGIN {_refresh('new.run_id')} END",
        f"run_text_{_short}_au": f"AFTER UPDATE ON {_table} BEGIN {_refresh('new.run_id')} END",
        f"run_text_{_short}_au_old": (
            f"AFTER UPDATE OF run_id ON {_table} WHEN old.run_id IS NOT new.run_id BEGIN "
            f"{_refresh('old.run_id')} END"
        ),
        f"run_text_{_short}_ad": f"AFTER DELETE ON {_table} BEGIN {_refresh('old.run_id')} END",
    })

#: PostgreSQL: (index, table, column) of the trigram indexes
_PG_INDEXES = [
    (f"ix_{table}_{column}_trgm", table, column)
    for table, columns in (("runs", ("id", "display_name", "run_type")),
                           ("run_tags", ("key", "value")),
                           ("run_properties", ("key", "value")))
    for column in columns
]


def _pg_index_sql(name: str, table: str, column: str) -> str:
    return f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column} gin_trgm_ops)"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        if not _sqlite_has_trigram(bind):
            logging.getLogger(__name__).warning(
                "SQLite %s has no FTS5 trigram tokenizer (needs 3.34 or newer): run search "
                "scans instead of using an index", bind.exec_driver_sql(
                    "SELECT sqlite_version()").scalar())
            return
        op.execute("CREATE VIRTUAL TABLE run_text USING fts5("
                   "run_id UNINDEXED, body, tokenize='trigram')")
        op.execute(_FILL)
        for name, body in _TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    elif bind.dialect.name == "postgresql":
        if not _postgres_has_trgm(bind):
            return
        for entry in _PG_INDEXES:
            op.execute(_pg_index_sql(*entry))


def _sqlite_has_trigram(bind: sa.Connection) -> bool:
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE VIRTUAL TABLE temp.run_text_probe USING fts5("
                                 "body, tokenize='trigram')")
            bind.exec_driver_sql("DROP TABLE temp.run_text_probe")
    except sa.exc.OperationalError:
        return False
    return True


def _postgres_has_trgm(bind: sa.Connection) -> bool:
    """Whether pg_trgm is there or could be created (its package installed, and the
    right to create it); if not, a warning says how to get the index."""
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except sa.exc.DBAPIError as exc:
        statements = "; ".join(_pg_index_sql(*entry) for entry in _PG_INDEXES)
        logging.getLogger(__name__).warning(
            "could not create the PostgreSQL extension pg_trgm (%s): run search scans "
            "instead of using an index. To index it, a superuser runs CREATE EXTENSION "
            "pg_trgm in this database, then: %s", str(exc).splitlines()[0], statements)
        return False
    return True


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in _TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS run_text")
    elif bind.dialect.name == "postgresql":
        for name, _table, _column in _PG_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
