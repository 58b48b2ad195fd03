"""Log search index: log_files, log_lines and the dialect's full-text index.

Revision ID: i18_logsearch
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "i18_logsearch"
down_revision: str | None = "i14_mlflow_latest"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "log_files",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "run_id", sa.String(256), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("next_line", sa.BigInteger, nullable=False),
        sa.Column("indexed", sa.BigInteger, nullable=False),
        sa.Column("first_id", sa.BigInteger, nullable=True),
        sa.Column("last_id", sa.BigInteger, nullable=True),
        sa.UniqueConstraint("run_id", "path", name="uq_log_files_run_path"),
    )
    op.create_table(
        "log_lines",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "file_id",
            sa.Integer,
            sa.ForeignKey("log_files.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("line_no", sa.BigInteger, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_index("ix_log_lines_file_line", "log_lines", ["file_id", "line_no"])
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE log_lines_fts USING fts5("
            "text, content='log_lines', content_rowid='id', tokenize='unicode61')"
        )
        op.execute(
            "CREATE TRIGGER log_lines_fts_ad AFTER DELETE ON log_lines BEGIN "
            "INSERT INTO log_lines_fts(log_lines_fts, rowid, text) "
            "VALUES ('delete', old.id, old.text); END"
        )
    else:
        op.execute(
            "CREATE INDEX ix_log_lines_tsv ON log_lines "
            "USING gin (to_tsvector('simple'::regconfig, text))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS log_lines_fts_ad")
        op.execute("DROP TABLE IF EXISTS log_lines_fts")
    op.drop_table("log_lines")
    op.drop_table("log_files")
