"""The search index over runs' log files (SQLite FTS5 / PostgreSQL full-text).

The log files stay the source of truth; this index holds their lines, cleaned and
cut to :data:`runtrack.limits.MAX_LOG_LINE_CHARS`, at most
:data:`runtrack.limits.MAX_INDEXED_LOG_LINES_PER_RUN` per run (later lines advance the
position but are not stored). Lines arrive incrementally per (run, path), numbered
from 1, and are applied idempotently: lines below the file's position are skipped, so
a retried call never doubles a line; lines a caller skipped (a gap) stay out.

Search matches the words of the query in that order (a phrase), case-insensitive,
punctuation ignored. The query is never handed to the full-text engine as syntax: on
SQLite its words become one quoted FTS5 phrase; on PostgreSQL it goes through
``phraseto_tsquery('simple', …)``, which has no syntax. Hits come newest line first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select, text, update

from runtrack import limits
from runtrack.errors import InvalidValueError, NotFoundError
from runtrack.model import LogHit, LogQuery, RunStatus
from runtrack.store.sql.dialects import Dialect
from runtrack.store.sql.schema import log_files, log_lines, runs

MAX_QUERY_CHARS = 1_000
MAX_HITS = 1_000
MAX_CONTEXT = 20
MAX_PATH_CHARS = 1_024
_WORD = re.compile(r"\w+")


def position(conn: Connection, run_id: str, path: str) -> int:
    """The next line number expected for ``path`` of ``run_id`` (1 if unseen)."""
    found = conn.execute(
        select(log_files.c.next_line).where(log_files.c.run_id == run_id, log_files.c.path == path)
    ).scalar()
    return 1 if found is None else int(found)


def index_lines(
    conn: Connection,
    dialect: Dialect,
    run_id: str,
    path: str,
    first_line: int,
    lines: Sequence[str],
) -> int:
    """Add ``lines`` (numbered from ``first_line``) of ``path``; return the next position."""
    if not isinstance(path, str) or not path or len(path) > MAX_PATH_CHARS:
        raise InvalidValueError(
            f"log path {path!r} must be a non-empty string of at most {MAX_PATH_CHARS} characters"
        )
    if not isinstance(first_line, int) or first_line < 1:
        raise InvalidValueError(f"first_line must be an int >= 1 (lines count from 1), not "
                                f"{first_line!r}")
    if any(not isinstance(line, str) for line in lines):
        raise InvalidValueError("log lines must be strings (decode bytes first)")
    row = conn.execute(
        select(log_files.c.id, log_files.c.next_line).where(
            log_files.c.run_id == run_id, log_files.c.path == path
        )
    ).first()
    if row is None:
        if conn.execute(select(runs.c.id).where(runs.c.id == run_id)).first() is None:
            raise NotFoundError(f"run {run_id!r} does not exist")
        dialect.insert_ignore(
            conn, log_files, [{"run_id": run_id, "path": path, "next_line": 1, "indexed": 0}],
            ["run_id", "path"],
        )
        row = conn.execute(
            select(log_files.c.id, log_files.c.next_line).where(
                log_files.c.run_id == run_id, log_files.c.path == path
            )
        ).one()
    file_id, expected = int(row.id), int(row.next_line)
    # lines below the position are already in; a gap (lines the caller dropped) stays one
    expected = max(expected, first_line)
    fresh = list(lines[expected - first_line :])
    if not fresh:
        return expected
    total = conn.execute(
        text("SELECT COALESCE(SUM(indexed), 0) FROM log_files WHERE run_id = :r"), {"r": run_id}
    ).scalar_one()
    room = max(0, limits.MAX_INDEXED_LOG_LINES_PER_RUN - int(total))
    kept = fresh[:room]
    if kept:
        dialect.insert_rows(
            conn,
            log_lines,
            [
                {"file_id": file_id, "line_no": expected + i, "text": _safe(line)}
                for i, line in enumerate(kept)
            ],
        )
    next_line = expected + len(fresh)
    conn.execute(
        update(log_files)
        .where(log_files.c.id == file_id)
        .values(next_line=next_line, indexed=log_files.c.indexed + len(kept))
    )
    return next_line


def _safe(line: str) -> str:
    # clients may send anything: NUL cannot be stored in PostgreSQL text, and lone
    # surrogates cannot be encoded for either database
    line = line[: limits.MAX_LOG_LINE_CHARS].replace("\x00", "")
    if not line.isascii():
        line = line.encode("utf-8", "replace").decode("utf-8")
    return line


def check_query(query: LogQuery) -> None:
    """InvalidValueError naming what is wrong with ``query``."""
    if not isinstance(query.text, str) or not _WORD.search(query.text):
        raise InvalidValueError(
            f"search text {query.text!r} has no word to look for: give at least one letter or "
            "digit (punctuation is ignored)"
        )
    if len(query.text) > MAX_QUERY_CHARS:
        raise InvalidValueError(
            f"search text is {len(query.text)} characters; at most {MAX_QUERY_CHARS}"
        )
    if not 1 <= query.limit <= MAX_HITS:
        raise InvalidValueError(f"limit must be between 1 and {MAX_HITS}, not {query.limit}")
    if not 0 <= query.context <= MAX_CONTEXT:
        raise InvalidValueError(
            f"context must be between 0 and {MAX_CONTEXT} lines, not {query.context}"
        )


def search(conn: Connection, dialect: Dialect, query: LogQuery) -> list[LogHit]:
    """Hits for ``query``, newest line first (see the module doc)."""
    check_query(query)
    params: dict[str, Any] = {"limit": query.limit}
    where: list[str] = []
    if dialect.is_sqlite:
        params["q"] = '"' + " ".join(_WORD.findall(query.text)) + '"'
        source = (
            "log_lines_fts JOIN log_lines l ON l.id = log_lines_fts.rowid"
        )
        where.append("log_lines_fts MATCH :q")
        order = "log_lines_fts.rowid DESC"
    else:
        params["q"] = query.text.replace("\x00", "")
        source = "log_lines l"
        where.append(
            "to_tsvector('simple'::regconfig, l.text) @@ "
            "phraseto_tsquery('simple'::regconfig, :q)"
        )
        order = "l.id DESC"
    if query.experiment_ids is not None:
        keys = [int(k) for k in query.experiment_ids if str(k).isdigit()]
        if not keys:
            return []
        names = []
        for i, key in enumerate(keys):
            params[f"e{i}"] = key
            names.append(f":e{i}")
        where.append(f"r.experiment_id IN ({', '.join(names)})")
    if query.status is not None:
        names = []
        for i, status in enumerate(query.status):
            params[f"s{i}"] = RunStatus(status).value
            names.append(f":s{i}")
        if not names:
            return []
        where.append(f"r.status IN ({', '.join(names)})")
    if query.since is not None:
        params["since"] = float(query.since)
        where.append("r.created_time >= :since")
    if query.run_id is not None:
        params["run"] = query.run_id
        where.append("r.id = :run")
    sql = (
        "SELECT l.file_id, l.line_no, l.text, f.path, r.id AS run_id, r.number, "
        "r.display_name, r.experiment_id, e.name AS experiment_name, r.status, "
        f"r.created_time FROM {source} "
        "JOIN log_files f ON f.id = l.file_id "
        "JOIN runs r ON r.id = f.run_id "
        "JOIN experiments e ON e.id = r.experiment_id "
        f"WHERE {' AND '.join(where)} ORDER BY {order} LIMIT :limit"
    )
    hits = []
    for row in conn.execute(text(sql), params):
        before: list[str] = []
        after: list[str] = []
        if query.context:
            for line_no, line in conn.execute(
                select(log_lines.c.line_no, log_lines.c.text)
                .where(
                    log_lines.c.file_id == row.file_id,
                    log_lines.c.line_no.between(
                        row.line_no - query.context, row.line_no + query.context
                    ),
                )
                .order_by(log_lines.c.line_no)
            ):
                if line_no < row.line_no:
                    before.append(line)
                elif line_no > row.line_no:
                    after.append(line)
        hits.append(
            LogHit(
                run_id=row.run_id,
                run_number=int(row.number),
                display_name=row.display_name,
                experiment_id=str(row.experiment_id),
                experiment_name=row.experiment_name,
                status=RunStatus(row.status),
                created_time=float(row.created_time),
                path=row.path,
                line_no=int(row.line_no),
                line=row.text,
                before=before,
                after=after,
            )
        )
    return hits

