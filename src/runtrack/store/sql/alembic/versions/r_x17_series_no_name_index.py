"""Drop ``ix_series_name_last``: every read of ``series`` names its run, so it goes
through ``uq_series_run_name``; the index on (name, last) served no query, and each
run's new series wrote one of its leaf pages per metric name (a short run with system
metrics, 14 names, paid ~0.2 ms of its ~3.5 ms for them).

Revision ID: x17_series_no_name_index
Revises: tg17_runtext_stale
"""

from __future__ import annotations

from alembic import op

revision = "x17_series_no_name_index"
down_revision: str | None = "tg17_runtext_stale"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_series_name_last", table_name="series")


def downgrade() -> None:
    op.create_index("ix_series_name_last", "series", ["name", "last"])
