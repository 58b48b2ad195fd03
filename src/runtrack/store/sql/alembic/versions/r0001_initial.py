"""Initial schema: experiments, runs, tags, properties, cursors, series, chunks.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
        sa.Column("created_time", sa.Float, nullable=False),
        sa.Column("archived", sa.Boolean, nullable=False),
        sa.Column("next_run_number", sa.Integer, nullable=False),
    )
    op.create_table(
        "experiment_tags",
        sa.Column(
            "experiment_id",
            sa.Integer,
            sa.ForeignKey("experiments.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("key", sa.String(250), primary_key=True),
        sa.Column("value", sa.Text, nullable=True),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.String(256), primary_key=True),
        sa.Column(
            "experiment_id",
            sa.Integer,
            sa.ForeignKey("experiments.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("display_name", sa.String(256), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("run_type", sa.String(64), nullable=False),
        sa.Column(
            "parent_id", sa.String(256), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=True
        ),
        sa.Column("created_time", sa.Float, nullable=False),
        sa.Column("start_time", sa.Float, nullable=True),
        sa.Column("end_time", sa.Float, nullable=True),
        sa.Column("last_activity", sa.Float, nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("compute_target", sa.String(256), nullable=False),
        sa.Column("definition", sa.Text, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.UniqueConstraint("experiment_id", "number", name="uq_runs_experiment_number"),
    )
    op.create_index("ix_runs_experiment_created", "runs", ["experiment_id", "created_time"])
    op.create_index("ix_runs_parent", "runs", ["parent_id"])
    for name, nullable in (("run_tags", True), ("run_properties", False)):
        op.create_table(
            name,
            sa.Column(
                "run_id",
                sa.String(256),
                sa.ForeignKey("runs.id", ondelete="CASCADE"),
                primary_key=True,
            ),
            sa.Column("key", sa.String(250), primary_key=True),
            sa.Column("value", sa.Text, nullable=nullable),
        )
        op.create_index(f"ix_{name}_key", name, ["key"])
    op.create_table(
        "ingest_cursors",
        sa.Column(
            "run_id", sa.String(256), sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("stream", sa.String(256), primary_key=True),
        sa.Column("next_seq", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "series",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "run_id", sa.String(256), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("columns", sa.Text, nullable=True),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.Column("last", sa.Float, nullable=True),
        sa.Column("last_nan", sa.Boolean, nullable=False),
        sa.Column("vmin", sa.Float, nullable=True),
        sa.Column("vmax", sa.Float, nullable=True),
        sa.Column("last_step", sa.BigInteger, nullable=True),
        sa.Column("first_value", sa.Text, nullable=True),
        sa.Column("last_value", sa.Text, nullable=True),
        sa.Column("last_time", sa.Float, nullable=True),
        sa.UniqueConstraint("run_id", "name", name="uq_series_run_name"),
    )
    op.create_index("ix_series_name_last", "series", ["name", "last"])
    op.create_table(
        "chunks",
        sa.Column(
            "series_id",
            sa.Integer,
            sa.ForeignKey("series.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("chunk_no", sa.Integer, primary_key=True),
        sa.Column("first_index", sa.BigInteger, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("encoding", sa.String(1), nullable=False),
        sa.Column("steps_kind", sa.Integer, nullable=False),
        sa.Column("steps", sa.LargeBinary, nullable=False),
        sa.Column("times", sa.LargeBinary, nullable=False),
        sa.Column("vals", sa.LargeBinary, nullable=False),
        sa.Column("n_num", sa.Integer, nullable=False),
        sa.Column("vmin", sa.Float, nullable=True),
        sa.Column("vmax", sa.Float, nullable=True),
        sa.Column("first_num", sa.Float, nullable=True),
        sa.Column("last_num", sa.Float, nullable=True),
        sa.Column("step_min", sa.BigInteger, nullable=True),
        sa.Column("step_max", sa.BigInteger, nullable=True),
        sa.Column("steps_sorted", sa.Boolean, nullable=False),
        sa.Column("time_min", sa.Float, nullable=False),
        sa.Column("time_max", sa.Float, nullable=False),
        sa.Column("times_sorted", sa.Boolean, nullable=False),
    )


def downgrade() -> None:
    for name in (
        "chunks", "series", "ingest_cursors", "run_properties", "run_tags", "runs",
        "experiment_tags", "experiments",
    ):
        op.drop_table(name)
