"""SQLite: the small tables keyed by a run become ``WITHOUT ROWID`` tables.

``run_tags``, ``run_properties``, ``ingest_cursors`` and ``run_text_stale`` each had a
rowid table plus the index of its primary key; a write of one row changed a page of
each, and in WAL mode every changed page is a whole page appended to the log (and
written again, and synced, at the next checkpoint). Keyed by their primary key alone,
a row is one entry of one b-tree: a short run (5 tags) writes ~8 of its ~42 pages
less. No query names their rowids.

Each table is rebuilt under a temporary name, filled, and renamed over the old one;
its indexes and triggers are made again as they were. ``legacy_alter_table`` keeps
the rename from checking other tables' triggers, which name the old table meanwhile.

SQLite only.

Revision ID: z18_without_rowid
Revises: y18_runtext_batches
"""

from __future__ import annotations

from alembic import op

revision = "z18_without_rowid"
down_revision: str | None = "y18_runtext_batches"
branch_labels = None
depends_on = None

TABLES = ("run_tags", "run_properties", "ingest_cursors", "run_text_stale")
_SUFFIX = " WITHOUT ROWID"


def _rebuild(table: str, without_rowid: bool) -> None:
    conn = op.get_bind()
    rows = conn.exec_driver_sql(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL",
        (table,),
    ).all()
    create = next(sql for kind, name, sql in rows if kind == "table" and name == table)
    others = [(kind, name, sql) for kind, name, sql in rows if kind in ("index", "trigger")]
    # the columns and constraints: from the first "(" (the name may be quoted)
    body = create[create.index("("):].rstrip().removesuffix(_SUFFIX)
    new = f"{table}__rebuilt"
    for kind, name, _ in others:
        if kind == "trigger":  # (a trigger of the old table must not fire on its drop)
            op.execute(f"DROP TRIGGER {name}")
    op.execute(f"CREATE TABLE {new} {body}{_SUFFIX if without_rowid else ''}")
    op.execute(f"INSERT INTO {new} SELECT * FROM {table}")
    op.execute(f"DROP TABLE {table}")
    op.execute("PRAGMA legacy_alter_table = ON")
    try:
        op.execute(f"ALTER TABLE {new} RENAME TO {table}")
    finally:
        op.execute("PRAGMA legacy_alter_table = OFF")
    for _, _, sql in others:
        op.execute(sql)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        _rebuild(table, without_rowid=True)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        _rebuild(table, without_rowid=False)
