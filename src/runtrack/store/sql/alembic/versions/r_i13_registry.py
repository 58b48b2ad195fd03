"""Model registry (registered models, versions, tags, properties, aliases), datasets
(names and versions) and run inputs.

Revision ID: i13_registry
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "i13_registry"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None

_VERSION_KEY = ["model_versions.model_id", "model_versions.version"]


def upgrade() -> None:
    op.create_table(
        "registered_models",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
        sa.Column("created_time", sa.Float, nullable=False),
        sa.Column("updated_time", sa.Float, nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("next_version", sa.Integer, nullable=False),
    )
    op.create_table(
        "registered_model_tags",
        sa.Column("model_id", sa.Integer,
                  sa.ForeignKey("registered_models.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("key", sa.String(250), primary_key=True),
        sa.Column("value", sa.Text, nullable=True),
    )
    op.create_table(
        "model_versions",
        sa.Column("model_id", sa.Integer,
                  sa.ForeignKey("registered_models.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("created_time", sa.Float, nullable=False),
        sa.Column("updated_time", sa.Float, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("files", sa.String(1024), nullable=True),
        sa.Column("run_id", sa.String(256), nullable=True),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("stage", sa.String(32), nullable=False),
    )
    op.create_index("ix_model_versions_run", "model_versions", ["run_id"])
    for name, nullable in (("model_version_tags", True), ("model_version_properties", False)):
        op.create_table(
            name,
            sa.Column("model_id", sa.Integer, primary_key=True),
            sa.Column("version", sa.Integer, primary_key=True),
            sa.Column("key", sa.String(250), primary_key=True),
            sa.Column("value", sa.Text, nullable=nullable),
            sa.ForeignKeyConstraint(["model_id", "version"], _VERSION_KEY, ondelete="CASCADE"),
        )
    op.create_table(
        "model_aliases",
        sa.Column("model_id", sa.Integer,
                  sa.ForeignKey("registered_models.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("alias", sa.String(255), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "datasets",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
        sa.Column("created_time", sa.Float, nullable=False),
        sa.Column("next_version", sa.Integer, nullable=False),
    )
    op.create_table(
        "dataset_versions",
        sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("created_time", sa.Float, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("digest", sa.String(128), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("tags", sa.Text, nullable=False),
    )
    op.create_table(
        "run_inputs",
        sa.Column("run_id", sa.String(256), sa.ForeignKey("runs.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("digest", sa.String(128), nullable=False),
        sa.Column("context", sa.String(250), nullable=False),
        sa.Column("dataset_name", sa.String(255), nullable=True),
        sa.Column("dataset_version", sa.Integer, nullable=True),
        sa.Column("source_type", sa.String(64), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("schema", sa.Text, nullable=False),
        sa.Column("profile", sa.Text, nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
    )
    op.create_index("ix_run_inputs_dataset", "run_inputs", ["dataset_name", "dataset_version"])


def downgrade() -> None:
    for name in ("run_inputs", "dataset_versions", "datasets", "model_aliases",
                 "model_version_properties", "model_version_tags", "model_versions",
                 "registered_model_tags", "registered_models"):
        op.drop_table(name)
