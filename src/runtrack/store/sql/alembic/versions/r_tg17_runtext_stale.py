"""A run's ``run_text`` row is built when the run ends, not at each tag while it runs.

Until ``l17b_runtext_hold`` each write of a run's texts rebuilt its ``run_text`` row (an
FTS5 delete and a trigram insert, ~0.2 ms of CPU): a short run paid it at its creation
and at each ``run.tag()``. Now a run can be *stale*: its id is in ``run_text_stale`` and
it has no ``run_text`` row; every trigger that would write its row skips it. The
SQLite driver path marks a run stale when it creates it in a non-terminal status; the
mark goes when the run reaches a terminal status (a trigger on ``runs.status``), which
builds the row once, or when the run is deleted. The run search
(``runtrack.store.sql.runtext``) tests a stale run's texts, computed from its rows, as
it reads the index's rows of the others, so it finds the same runs at every moment.

SQLite only; ``run_text_stale`` and the triggers that remove its marks are created
even where ``run_text`` is not (its SQLite lacked the trigram tokenizer), so a writer
need not check: there, a mark changes nothing.

Revision ID: tg17_runtext_stale
Revises: l17b_runtext_hold
"""

from __future__ import annotations

from alembic import op

revision = "tg17_runtext_stale"
down_revision: str | None = "l17b_runtext_hold"
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
#: RunStatus's terminal values (frozen here)
_TERMINAL = "('Completed', 'Failed', 'Canceled')"


def _refresh(run_id: str) -> str:
    return (
        f"DELETE FROM run_text WHERE rowid = (SELECT {_KEY.format(r='r')} FROM runs r "
        f"WHERE r.id = {run_id}); {_FILL} WHERE r.id = {run_id};"
    )


def _unless(table: str, run_id: str) -> str:
    return f"NOT EXISTS (SELECT 1 FROM {table} h WHERE h.run_id = {run_id})"


def _triggers(stale: bool) -> dict[str, str]:
    """The triggers that write run_text rows: name -> body; with ``stale``, each skips a
    stale run (without: as ``l17b_runtext_hold`` left them)."""

    def when(*conditions: str, run_id: str) -> str:
        tests = [*conditions, _unless("run_text_stale", run_id)] if stale else [*conditions]
        return f"WHEN {' AND '.join(tests)} " if tests else ""

    triggers = {
        "run_text_runs_ai": (
            f"AFTER INSERT ON runs {when(_unless('run_text_hold', 'new.id'), run_id='new.id')}"
            f"BEGIN {_FILL} WHERE r.id = new.id; END"
        ),
        "run_text_runs_au": (
            "AFTER UPDATE OF id, experiment_id, number, display_name, run_type ON runs "
            f"{when(run_id='new.id')}BEGIN DELETE FROM run_text WHERE rowid = "
            f"{_KEY.format(r='old')}; {_FILL} WHERE r.id = new.id; END"
        ),
        "run_text_hold_ad": (
            f"AFTER DELETE ON run_text_hold {when(run_id='old.run_id')}"
            f"BEGIN {_refresh('old.run_id')} END"
        ),
    }
    for table, short in (("run_tags", "tags"), ("run_properties", "props")):
        held = _unless("run_text_hold", "new.run_id")
        triggers.update({
            f"run_text_{short}_ai": (f"AFTER INSERT ON {table} {when(held, run_id='new.run_id')}"
                                     f"BEGIN {_refresh('new.run_id')} END"),
            f"run_text_{short}_au": (f"AFTER UPDATE ON {table} {when(held, run_id='new.run_id')}"
                                     f"BEGIN {_refresh('new.run_id')} END"),
            f"run_text_{short}_au_old": (
                f"AFTER UPDATE OF run_id ON {table} "
                f"{when('old.run_id IS NOT new.run_id', run_id='old.run_id')}"
                f"BEGIN {_refresh('old.run_id')} END"
            ),
            f"run_text_{short}_ad": (f"AFTER DELETE ON {table} {when(run_id='old.run_id')}"
                                     f"BEGIN {_refresh('old.run_id')} END"),
        })
    return triggers


#: the triggers that remove marks: when a run ends or goes (created with the table)
_UNMARK = {
    "run_text_stale_settled": (
        f"AFTER UPDATE OF status ON runs WHEN new.status IN {_TERMINAL} BEGIN "
        "DELETE FROM run_text_stale WHERE run_id = new.id; END"
    ),
    "run_text_stale_runs_ad": (
        "AFTER DELETE ON runs BEGIN DELETE FROM run_text_stale WHERE run_id = old.id; END"
    ),
}
#: a removed mark builds the run's row
_BUILD = ("run_text_stale_ad",
          f"AFTER DELETE ON run_text_stale BEGIN {_refresh('old.run_id')} END")


def _has_run_text() -> bool:
    return op.get_bind().exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'run_text'"
    ).first() is not None


def _replace(triggers: dict[str, str]) -> None:
    for name, body in triggers.items():
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute(f"CREATE TRIGGER {name} {body}")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("CREATE TABLE run_text_stale (run_id VARCHAR(256) NOT NULL PRIMARY KEY)")
    for name, body in _UNMARK.items():
        op.execute(f"CREATE TRIGGER {name} {body}")
    if _has_run_text():
        _replace(_triggers(stale=True))
        op.execute(f"CREATE TRIGGER {_BUILD[0]} {_BUILD[1]}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DELETE FROM run_text_stale")  # builds the rows of the stale runs
    if _has_run_text():
        op.execute(f"DROP TRIGGER IF EXISTS {_BUILD[0]}")
        _replace(_triggers(stale=False))
    for name in _UNMARK:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS run_text_stale")
