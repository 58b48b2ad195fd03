"""Ended runs get their ``run_text`` rows in batches, not one by one as each ends.

Since ``tg17_runtext_stale`` a run's row was built when it ended: one FTS5 trigram
insert, flushed as a segment of its own when the transaction committed (~0.18 ms of a
short run's ~2.3 ms). Now a stale run that ends is queued in ``run_text_ended`` and
stays stale (the run search tests its texts by ``LIKE``, as it tests a running run's,
so it finds the same runs at every moment); when the queue reaches
:data:`BATCH` runs, the end that fills it builds every queued run's row in one go (one
segment for all of them: ~25 µs a run). A run deleted while queued leaves the queue.

SQLite only. Like ``run_text_stale``, the queue and its triggers exist even where
``run_text`` does not (there, building a row is a no-op).

Revision ID: y18_runtext_batches
Revises: x17_series_no_name_index
"""

from __future__ import annotations

from alembic import op

revision = "y18_runtext_batches"
down_revision: str | None = "x17_series_no_name_index"
branch_labels = None
depends_on = None

#: queued ended runs that make a batch (frozen here)
BATCH = 64
#: RunStatus's terminal values (frozen here)
_TERMINAL = "('Completed', 'Failed', 'Canceled')"
_STALE = "EXISTS (SELECT 1 FROM run_text_stale s WHERE s.run_id = new.id)"
#: removing a stale mark builds the run's row (trigger run_text_stale_ad)
_BUILD_QUEUED = (
    "DELETE FROM run_text_stale WHERE run_id IN (SELECT run_id FROM run_text_ended); "
    "DELETE FROM run_text_ended;"
)
_TRIGGERS = {
    # replaces tg17's trigger of that name, which removed the mark at once
    "run_text_stale_settled": (
        f"AFTER UPDATE OF status ON runs WHEN new.status IN {_TERMINAL} AND {_STALE} "
        "BEGIN INSERT OR IGNORE INTO run_text_ended (run_id) VALUES (new.id); END"
    ),
    "run_text_ended_full": (
        f"AFTER INSERT ON run_text_ended WHEN (SELECT count(*) FROM run_text_ended) >= {BATCH} "
        f"BEGIN {_BUILD_QUEUED} END"
    ),
    "run_text_ended_runs_ad": (
        "AFTER DELETE ON runs BEGIN DELETE FROM run_text_ended WHERE run_id = old.id; END"
    ),
}
#: tg17's trigger, restored by the downgrade
_SETTLED_AT_ONCE = (
    f"AFTER UPDATE OF status ON runs WHEN new.status IN {_TERMINAL} BEGIN "
    "DELETE FROM run_text_stale WHERE run_id = new.id; END"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("CREATE TABLE run_text_ended (run_id VARCHAR(256) NOT NULL PRIMARY KEY) "
               "WITHOUT ROWID")
    for name, body in _TRIGGERS.items():
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in _BUILD_QUEUED.split(";")[:2]:  # the queued runs get their rows
        op.execute(statement)
    for name in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute(f"CREATE TRIGGER run_text_stale_settled {_SETTLED_AT_ONCE}")
    op.execute("DROP TABLE IF EXISTS run_text_ended")
