"""The tables of a runtrack database: the single source of the schema.

Migrations under ``alembic/versions`` are frozen snapshots of changes to this module;
``tests/store/test_migrations.py`` checks that a migrated database matches it exactly.

Layout in brief:

* ``experiments`` (+ ``experiment_tags``); ``next_run_number`` hands out run numbers
  atomically (the row is locked by the UPDATE that bumps it).
* ``runs`` (+ ``run_tags``, ``run_properties`` as rows, so filters are plain SQL);
  ``last_activity`` is kept current by every write touching the run.
* ``ingest_cursors``: per (run, writer stream), the next sequence number expected.
* ``series``: one row per (run, metric name) holding the summary, kept current at
  ingest so run lists never scan points. ``last`` is NULL when the last numeric value
  was NaN (``last_nan`` says so): NaN never reaches a SQL column, so SQLite and
  PostgreSQL sort and compare alike.
* ``chunks``: the points, packed. Each row holds ``count`` consecutive points of one
  series from ``first_index``: steps, times and values as packed arrays (see
  :mod:`runtrack.store.sql.codec`) plus the metadata downsampling and range reads
  need without unpacking (value min/max, x extents, sortedness).
* ``log_files`` / ``log_lines``: the search index over runs' log files (see
  :mod:`runtrack.store.sql.logindex`): per (run, path) the next line number expected
  and the id range of its lines (``first_id``..``last_id``: a filtered search seeks
  the full-text index by range), and one row per indexed line. The full-text part is
  dialect-specific and lives outside this metadata: an FTS5 table ``log_lines_fts``
  (external content, filled in bulk at each index call, emptied of deleted lines by a
  trigger) on SQLite, a GIN index on ``to_tsvector('simple', text)`` on
  PostgreSQL (see :data:`FULLTEXT_OBJECTS`).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

experiments = Table(
    "experiments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("created_time", Float, nullable=False),
    Column("archived", Boolean, nullable=False, default=False),
    Column("next_run_number", Integer, nullable=False, default=1),
)

experiment_tags = Table(
    "experiment_tags",
    metadata,
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=True),
)

runs = Table(
    "runs",
    metadata,
    Column("id", String(256), primary_key=True),
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("number", Integer, nullable=False),
    Column("display_name", String(256), nullable=False),
    Column("status", String(32), nullable=False),
    Column("run_type", String(64), nullable=False),
    Column("parent_id", String(256), ForeignKey("runs.id", ondelete="CASCADE"), nullable=True),
    Column("created_time", Float, nullable=False),
    Column("start_time", Float, nullable=True),
    Column("end_time", Float, nullable=True),
    Column("last_activity", Float, nullable=False),
    Column("description", Text, nullable=True),
    Column("compute_target", String(256), nullable=False),
    Column("definition", Text, nullable=True),
    Column("error", Text, nullable=True),
    UniqueConstraint("experiment_id", "number", name="uq_runs_experiment_number"),
)
Index("ix_runs_experiment_created", runs.c.experiment_id, runs.c.created_time)
Index("ix_runs_parent", runs.c.parent_id)

run_tags = Table(
    "run_tags",
    metadata,
    Column("run_id", String(256), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=True),
)
Index("ix_run_tags_key", run_tags.c.key)

run_properties = Table(
    "run_properties",
    metadata,
    Column("run_id", String(256), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)
Index("ix_run_properties_key", run_properties.c.key)

ingest_cursors = Table(
    "ingest_cursors",
    metadata,
    Column("run_id", String(256), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("stream", String(256), primary_key=True),
    Column("next_seq", BigInteger, nullable=False),
)

series = Table(
    "series",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(256), ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("columns", Text, nullable=True),
    Column("count", BigInteger, nullable=False, default=0),
    Column("last", Float, nullable=True),
    Column("last_nan", Boolean, nullable=False, default=False),
    Column("vmin", Float, nullable=True),
    Column("vmax", Float, nullable=True),
    Column("last_step", BigInteger, nullable=True),
    Column("first_value", Text, nullable=True),
    Column("last_value", Text, nullable=True),
    Column("last_time", Float, nullable=True),
    UniqueConstraint("run_id", "name", name="uq_series_run_name"),
)
Index("ix_series_name_last", series.c.name, series.c.last)

chunks = Table(
    "chunks",
    metadata,
    Column("series_id", Integer, ForeignKey("series.id", ondelete="CASCADE"), primary_key=True),
    Column("chunk_no", Integer, primary_key=True),
    Column("first_index", BigInteger, nullable=False),
    Column("count", Integer, nullable=False),
    Column("encoding", String(1), nullable=False),
    Column("steps_kind", Integer, nullable=False),
    Column("steps", LargeBinary, nullable=False),
    Column("times", LargeBinary, nullable=False),
    Column("vals", LargeBinary, nullable=False),
    Column("n_num", Integer, nullable=False),
    Column("vmin", Float, nullable=True),
    Column("vmax", Float, nullable=True),
    Column("first_num", Float, nullable=True),
    Column("last_num", Float, nullable=True),
    Column("step_min", BigInteger, nullable=True),
    Column("step_max", BigInteger, nullable=True),
    Column("steps_sorted", Boolean, nullable=False),
    Column("time_min", Float, nullable=False),
    Column("time_max", Float, nullable=False),
    Column("times_sorted", Boolean, nullable=False),
)

log_files = Table(
    "log_files",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(256), ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("path", String(1024), nullable=False),
    Column("next_line", BigInteger, nullable=False, default=1),
    Column("indexed", BigInteger, nullable=False, default=0),
    Column("first_id", BigInteger, nullable=True),
    Column("last_id", BigInteger, nullable=True),
    UniqueConstraint("run_id", "path", name="uq_log_files_run_path"),
)

log_lines = Table(
    "log_lines",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("file_id", Integer, ForeignKey("log_files.id", ondelete="CASCADE"), nullable=False),
    Column("line_no", BigInteger, nullable=False),
    Column("text", Text, nullable=False),
)
Index("ix_log_lines_file_line", log_lines.c.file_id, log_lines.c.line_no)

#: database objects of the full-text index that this metadata does not describe
#: (virtual tables, triggers, expression indexes); schema comparisons skip them
FULLTEXT_OBJECTS = frozenset(
    {"log_lines_fts", "log_lines_fts_data", "log_lines_fts_idx", "log_lines_fts_docsize",
     "log_lines_fts_config", "log_lines_fts_content", "ix_log_lines_tsv"}
)


def managed_name(name: str | None, type_: str, parent_names: object) -> bool:
    """For Alembic's ``include_name``: False for the full-text objects above."""
    return name not in FULLTEXT_OBJECTS
