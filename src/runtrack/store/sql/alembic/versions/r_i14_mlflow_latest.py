"""Series summaries keep the point with the highest (step, time, value): MLflow's latest.

Existing series take their last point (exact for series logged in step order).

Revision ID: i14_mlflow_latest
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "i14_mlflow_latest"
down_revision: str | None = "i13_registry"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("series") as batch:
        batch.add_column(sa.Column("top_step", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("top_time", sa.Float, nullable=True))
        batch.add_column(sa.Column("top_value", sa.Float, nullable=True))
        batch.add_column(sa.Column("top_nan", sa.Boolean, nullable=True))
    op.execute(
        "UPDATE series SET top_step = COALESCE(last_step, 0), top_time = last_time, "
        "top_value = last, top_nan = last_nan WHERE last IS NOT NULL OR last_nan"
    )


def downgrade() -> None:
    with op.batch_alter_table("series") as batch:
        for name in ("top_nan", "top_value", "top_time", "top_step"):
            batch.drop_column(name)
