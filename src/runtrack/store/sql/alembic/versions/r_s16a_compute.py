"""Named compute targets of the workspace (``runtrack compute add``).

Revision ID: s16a_compute
Revises: i18_logsearch
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s16a_compute"
down_revision: str | None = "i18_logsearch"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compute_targets",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("address", sa.Text, nullable=True),
        sa.Column("created_time", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("compute_targets")
