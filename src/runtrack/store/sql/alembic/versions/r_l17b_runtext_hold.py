"""One ``run_text`` refresh per run per write, not one per tag or property row.

The triggers of ``c15_runtext`` rebuild a run's ``run_text`` row (an FTS5 delete and a
trigram insert, ~0.1-0.2 ms) after every row written to ``runs``, ``run_tags`` and
``run_properties``: a ``create_run`` with five tags and two properties rebuilt it eight
times. SQLite has no statement-level triggers, so a writer that writes several rows of
one run now *holds* the run: it inserts the run's id into ``run_text_hold`` first (the
row triggers skip a held run) and deletes it last, in the same transaction; the delete
fires one rebuild. What ``run_text`` holds once the transaction commits is the same.
Writers that do not hold (the SQLAlchemy path, other tools) keep the per-row rebuilds.

SQLite only; ``run_text_hold`` is created even where ``run_text`` is not (its SQLite
lacked the trigram tokenizer), so a writer need not check: there, holding is a no-op.

Revision ID: l17b_runtext_hold
Revises: c15_runtext
"""

from __future__ import annotations

from alembic import op

revision = "l17b_runtext_hold"
down_revision: str | None = "c15_runtext"
branch_labels = None
depends_on = None

# The run_text row of a run, as c15_runtext builds it (frozen here).
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
    return (
        f"DELETE FROM run_text WHERE rowid = (SELECT {_KEY.format(r='r')} FROM runs r "
        f"WHERE r.id = {run_id}); {_FILL} WHERE r.id = {run_id};"
    )


def _unless_held(run_id: str) -> str:
    return f"WHEN NOT EXISTS (SELECT 1 FROM run_text_hold h WHERE h.run_id = {run_id})"


#: the row triggers of c15_runtext that a hold pauses: name -> (event, run id, statements)
_PAUSED = {
    "run_text_runs_ai": ("AFTER INSERT ON runs", "new.id", f"{_FILL} WHERE r.id = new.id;"),
    **{
        f"run_text_{short}_{suffix}": (f"AFTER {event} ON {table}", "new.run_id",
                                       _refresh("new.run_id"))
        for table, short in (("run_tags", "tags"), ("run_properties", "props"))
        for suffix, event in (("ai", "INSERT"), ("au", "UPDATE"))
    },
}


def _has_run_text() -> bool:
    return op.get_bind().exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'run_text'"
    ).first() is not None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("CREATE TABLE run_text_hold (run_id VARCHAR(256) NOT NULL PRIMARY KEY)")
    if not _has_run_text():
        return
    for name, (event, run_id, body) in _PAUSED.items():
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute(f"CREATE TRIGGER {name} {event} {_unless_held(run_id)} BEGIN {body} END")
    op.execute("CREATE TRIGGER run_text_hold_ad AFTER DELETE ON run_text_hold BEGIN "
               f"{_refresh('old.run_id')} END")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    if _has_run_text():
        op.execute("DROP TRIGGER IF EXISTS run_text_hold_ad")
        for name, (event, _run_id, body) in _PAUSED.items():
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
            op.execute(f"CREATE TRIGGER {name} {event} BEGIN {body} END")
    op.execute("DROP TABLE IF EXISTS run_text_hold")
