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
  PostgreSQL sort and compare alike. ``top_*`` is the numeric point with the highest
  (step, time, value), steps missing counting as 0: MLflow's "latest" value, which
  differs from ``last`` when steps arrive out of order (NULL value + ``top_nan``: NaN).
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
    ForeignKeyConstraint,
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
    sqlite_with_rowid=False,  # z18_without_rowid: one b-tree, not a table and its key
)
Index("ix_run_tags_key", run_tags.c.key)

run_properties = Table(
    "run_properties",
    metadata,
    Column("run_id", String(256), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
    sqlite_with_rowid=False,  # z18_without_rowid: one b-tree, not a table and its key
)
Index("ix_run_properties_key", run_properties.c.key)

ingest_cursors = Table(
    "ingest_cursors",
    metadata,
    Column("run_id", String(256), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("stream", String(256), primary_key=True),
    Column("next_seq", BigInteger, nullable=False),
    sqlite_with_rowid=False,  # z18_without_rowid: one b-tree, not a table and its key
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
    Column("top_step", BigInteger, nullable=True),
    Column("top_time", Float, nullable=True),
    Column("top_value", Float, nullable=True),
    Column("top_nan", Boolean, nullable=True),
    UniqueConstraint("run_id", "name", name="uq_series_run_name"),
)

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

# -- model registry (``registry.py``) ------------------------------------------------------
# ``registered_models.next_version`` hands out versions atomically, as
# ``experiments.next_run_number`` does for runs; deleted versions are never reused.

registered_models = Table(
    "registered_models",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("created_time", Float, nullable=False),
    Column("updated_time", Float, nullable=False),
    Column("description", Text, nullable=True),
    Column("next_version", Integer, nullable=False, default=1),
)

registered_model_tags = Table(
    "registered_model_tags",
    metadata,
    Column("model_id", Integer, ForeignKey("registered_models.id", ondelete="CASCADE"),
           primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=True),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("model_id", Integer, ForeignKey("registered_models.id", ondelete="CASCADE"),
           primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("created_time", Float, nullable=False),
    Column("updated_time", Float, nullable=False),
    Column("source", Text, nullable=False),
    Column("files", String(1024), nullable=True),
    Column("run_id", String(256), nullable=True),
    Column("description", Text, nullable=True),
    Column("stage", String(32), nullable=False, default="None"),
)
Index("ix_model_versions_run", model_versions.c.run_id)

model_version_tags = Table(
    "model_version_tags",
    metadata,
    Column("model_id", Integer, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=True),
    ForeignKeyConstraint(["model_id", "version"],
                         ["model_versions.model_id", "model_versions.version"],
                         ondelete="CASCADE"),
)

model_version_properties = Table(
    "model_version_properties",
    metadata,
    Column("model_id", Integer, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
    ForeignKeyConstraint(["model_id", "version"],
                         ["model_versions.model_id", "model_versions.version"],
                         ondelete="CASCADE"),
)

model_aliases = Table(
    "model_aliases",
    metadata,
    Column("model_id", Integer, ForeignKey("registered_models.id", ondelete="CASCADE"),
           primary_key=True),
    Column("alias", String(255), primary_key=True),
    Column("version", Integer, nullable=False),
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
    # the run search index (runtrack.store.sql.runtext)
    | {f"run_text{part}" for part in ("", "_data", "_idx", "_docsize", "_config", "_content")}
    # SQLite: runs whose run_text row is rebuilt once at the end of a write (l17b_runtext_hold)
    | {"run_text_hold"}
    # SQLite: runs whose run_text row is built when they end (tg17_runtext_stale)
    | {"run_text_stale"}
    # SQLite: ended stale runs whose rows are built in the next batch (y18_runtext_batches)
    | {"run_text_ended"}
    | {f"ix_{table}_{column}_trgm" for table, column in (
        ("runs", "id"), ("runs", "display_name"), ("runs", "run_type"), ("run_tags", "key"),
        ("run_tags", "value"), ("run_properties", "key"), ("run_properties", "value"))}
)


def managed_name(name: str | None, type_: str, parent_names: object) -> bool:
    """For Alembic's ``include_name``: False for the full-text objects above."""
    return name not in FULLTEXT_OBJECTS

# -- datasets and run inputs (``datasets.py``) -----------------------------------------------

datasets = Table(
    "datasets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("created_time", Float, nullable=False),
    Column("next_version", Integer, nullable=False, default=1),
)

dataset_versions = Table(
    "dataset_versions",
    metadata,
    Column("dataset_id", Integer, ForeignKey("datasets.id", ondelete="CASCADE"),
           primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("created_time", Float, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("definition", Text, nullable=False),
    Column("digest", String(128), nullable=False),
    Column("description", Text, nullable=True),
    Column("tags", Text, nullable=False),
)

run_inputs = Table(
    "run_inputs",
    metadata,
    Column("run_id", String(256), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("name", String(500), nullable=False),
    Column("digest", String(128), nullable=False),
    Column("context", String(250), nullable=False),
    Column("dataset_name", String(255), nullable=True),
    Column("dataset_version", Integer, nullable=True),
    Column("source_type", String(64), nullable=False),
    Column("source", Text, nullable=False),
    Column("schema", Text, nullable=False),
    Column("profile", Text, nullable=False),
    Column("tags", Text, nullable=False),
)
Index("ix_run_inputs_dataset", run_inputs.c.dataset_name, run_inputs.c.dataset_version)

# -- named compute targets (``compute.py``) --------------------------------------------------

compute_targets = Table(
    "compute_targets",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("address", Text, nullable=True),
    Column("created_time", Float, nullable=False),
)
