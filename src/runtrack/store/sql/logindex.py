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
from itertools import repeat
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, text, update

from runtrack import limits
from runtrack.errors import InvalidValueError, NotFoundError
from runtrack.logsearch import LogHit, LogQuery
from runtrack.model import RunStatus
from runtrack.store.sql.dialects import Dialect
from runtrack.store.sql.schema import log_files, log_lines, runs

MAX_QUERY_CHARS = 1_000
MAX_HITS = 1_000
MAX_CONTEXT = 20
MAX_PATH_CHARS = 1_024
#: a filtered search seeks each matching file in the index when there are at most this many
MAX_SEEK_FILES = 64
#: otherwise it first seeks the newest PROBE_FILES of them (enough when the phrase is common
#: in them), then checks the newest matches in chunks of SCAN_CHUNK, at most SCAN_BUDGET of
#: them, before it seeks file by file (see ``_sqlite_ids``)
PROBE_FILES = 16
SCAN_CHUNK = 2_000
SCAN_BUDGET = 10_000
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
    if not all(map(isinstance, lines, repeat(str))):
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
    kept = _safe_lines(fresh[:room])
    values: dict[str, Any] = {"next_line": expected + len(fresh)}
    if kept:
        numbers = range(expected, expected + len(kept))
        if dialect.is_sqlite:
            # the driver's executemany (no per-row statement compiling); one statement in
            # this write transaction gives the rows consecutive ids, so the new lines are
            # the id range ending at last_insert_rowid(), which the FTS5 insert reads
            # by primary key
            conn.exec_driver_sql(
                "INSERT INTO log_lines (file_id, line_no, text) VALUES (?, ?, ?)",
                list(zip(repeat(file_id), numbers, kept)),
            )
            high = conn.exec_driver_sql("SELECT last_insert_rowid()").scalar_one()
            low = high - len(kept) + 1
            conn.exec_driver_sql(
                "INSERT INTO log_lines_fts(rowid, text) "
                "SELECT id, text FROM log_lines WHERE id BETWEEN ? AND ?",
                (low, high),
            )
        else:
            dialect.insert_rows(
                conn,
                log_lines,
                [{"file_id": file_id, "line_no": n, "text": line}
                 for n, line in enumerate(kept, expected)],
            )
            low, high = conn.execute(
                text("SELECT MIN(id), MAX(id) FROM log_lines WHERE file_id = :f "
                     "AND line_no >= :n"),
                {"f": file_id, "n": expected},
            ).one()
        values["indexed"] = log_files.c.indexed + len(kept)
        values["last_id"] = high
        values["first_id"] = func.coalesce(log_files.c.first_id, low)
    conn.execute(update(log_files).where(log_files.c.id == file_id).values(values))
    return int(values["next_line"])


def _safe_lines(lines: Sequence[str]) -> list[str]:
    """:func:`_safe` for many lines; the usual case (short ASCII lines without NUL) is
    checked on the whole batch at once."""
    whole = "".join(lines)
    if (
        whole.isascii()
        and "\x00" not in whole
        and max(map(len, lines), default=0) <= limits.MAX_LOG_LINE_CHARS
    ):
        return list(lines)
    return [_safe(line) for line in lines]


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
    where, params = _filters(query)
    if where is None:
        return []
    if dialect.is_sqlite:
        ids = _sqlite_ids(conn, query, where, params)
    else:
        params = {**params, "q": query.text.replace("\x00", ""), "limit": query.limit}
        ids = list(conn.execute(text(
            "SELECT l.id FROM log_lines l JOIN log_files f ON f.id = l.file_id "
            "JOIN runs r ON r.id = f.run_id WHERE to_tsvector('simple'::regconfig, l.text) @@ "
            "phraseto_tsquery('simple'::regconfig, :q)" + "".join(f" AND {w}" for w in where)
            + " ORDER BY l.id DESC LIMIT :limit"
        ), params).scalars())
    return _hits(conn, ids, query.context)


def _filters(query: LogQuery) -> tuple[list[str] | None, dict[str, Any]]:
    """SQL conditions on ``r`` (runs) for the query's filters; None: nothing can match."""
    where: list[str] = []
    params: dict[str, Any] = {}
    if query.experiment_ids is not None:
        keys = [int(k) for k in query.experiment_ids if str(k).isdigit()]
        if not keys:
            return None, params
        params.update({f"e{i}": key for i, key in enumerate(keys)})
        where.append(f"r.experiment_id IN ({', '.join(f':e{i}' for i in range(len(keys)))})")
    if query.status is not None:
        if not query.status:
            return None, params
        params.update({f"s{i}": RunStatus(s).value for i, s in enumerate(query.status)})
        where.append(f"r.status IN ({', '.join(f':s{i}' for i in range(len(query.status)))})")
    if query.since is not None:
        params["since"] = float(query.since)
        where.append("r.created_time >= :since")
    if query.run_id is not None:
        params["run"] = query.run_id
        where.append("r.id = :run")
    return where, params


def _sqlite_ids(
    conn: Connection, query: LogQuery, where: list[str], params: dict[str, Any]
) -> list[int]:
    """Ids of the newest matching lines on SQLite.

    Without filters: the FTS5 index's own newest-first order, stopped at the limit.
    With filters, whatever the filters keep and however common the phrase:

    * few matching files (at most :data:`MAX_SEEK_FILES`): each file's id range is
      sought in the FTS5 index, newest file first, until no later file can hold a
      newer line than the ``limit`` found;
    * many: the newest :data:`PROBE_FILES` files are sought as above, which answers when
      the phrase is common in them (no later file can hold a newer line than the
      ``limit`` found); otherwise the newest matches of the whole index are checked
      against the filters in chunks, up to :data:`SCAN_BUDGET` of them (a rare phrase
      ends there, complete, and so does a filter that keeps most lines); past that the
      phrase is common, and every file is sought as above (each seek stops at the limit).
    """
    phrase = '"' + " ".join(_WORD.findall(query.text)) + '"'
    if not where:
        return list(conn.execute(
            text("SELECT rowid FROM log_lines_fts WHERE log_lines_fts MATCH :q "
                 "ORDER BY rowid DESC LIMIT :limit"), {"q": phrase, "limit": query.limit}
        ).scalars())
    cond = " AND ".join(where)
    files_sql = (
        "SELECT f.id, f.first_id, f.last_id FROM log_files f JOIN runs r ON r.id = f.run_id "
        f"WHERE f.first_id IS NOT NULL AND {cond} ORDER BY f.last_id DESC"
    )
    files = conn.execute(text(f"{files_sql} LIMIT :n"), {**params, "n": MAX_SEEK_FILES + 1}).all()
    if len(files) > MAX_SEEK_FILES:
        # a phrase common in the newest files is answered by seeking a few of them
        found, complete = _seek(conn, phrase, files[:PROBE_FILES], query.limit)
        if complete:
            return found
        found, complete = _scan(conn, phrase, cond, params, query.limit)
        if complete:
            return found
        files = conn.execute(text(files_sql), params).all()
    return _seek(conn, phrase, files, query.limit)[0]


_SEEK = text(
    "SELECT log_lines_fts.rowid FROM log_lines_fts JOIN log_lines l ON l.id = "
    "log_lines_fts.rowid WHERE log_lines_fts MATCH :q AND log_lines_fts.rowid BETWEEN :lo "
    "AND :hi AND l.file_id = :f ORDER BY log_lines_fts.rowid DESC LIMIT :limit"
)


def _seek(
    conn: Connection, phrase: str, files: Sequence[Any], limit: int
) -> tuple[list[int], bool]:
    """The newest ``limit`` matches in ``files`` (id, first_id, last_id; by last_id,
    newest first), and whether they are the newest of any files that follow these:
    the search stopped at a file holding only older lines."""
    found: list[int] = []
    for file_id, low, high in files:
        if len(found) >= limit and high < found[limit - 1]:
            return found[:limit], True  # this and every later file hold only older lines
        found += conn.execute(
            _SEEK, {"q": phrase, "lo": low, "hi": high, "f": file_id, "limit": limit}
        ).scalars()
        found.sort(reverse=True)
    return found[:limit], False


def _scan(
    conn: Connection, phrase: str, cond: str, params: dict[str, Any], limit: int
) -> tuple[list[int], bool]:
    """The newest matches that pass ``cond``, and whether that is the answer (the limit
    was reached or the matches ran out before :data:`SCAN_BUDGET`)."""
    found: list[int] = []
    before: int | None = None
    scanned = 0
    while scanned < SCAN_BUDGET:
        bound = "" if before is None else " AND rowid < :before"
        chunk = list(conn.execute(
            text(f"SELECT rowid FROM log_lines_fts WHERE log_lines_fts MATCH :q{bound} "
                 f"ORDER BY rowid DESC LIMIT {SCAN_CHUNK}"),
            {"q": phrase, "before": before},
        ).scalars())
        if chunk:
            scanned += len(chunk)
            before = chunk[-1]
            found += sorted(_filtered(conn, chunk, cond, params), reverse=True)
        if len(found) >= limit or len(chunk) < SCAN_CHUNK:
            return found[:limit], True
    return found, False


def _filtered(conn: Connection, ids: list[int], cond: str, params: dict[str, Any]) -> list[int]:
    return list(conn.execute(text(
        "SELECT l.id FROM log_lines l JOIN log_files f ON f.id = l.file_id "
        f"JOIN runs r ON r.id = f.run_id WHERE l.id IN :ids AND {cond}"
    ).bindparams(bindparam("ids", expanding=True)), {**params, "ids": ids}).scalars())


def _parts(ids: list[int], size: int = SCAN_CHUNK) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


_HIT_ROWS = text(
    "SELECT l.id, l.file_id, l.line_no, l.text, f.path, r.id AS run_id, r.number, "
    "r.display_name, r.experiment_id, e.name AS experiment_name, r.status, r.created_time "
    "FROM log_lines l JOIN log_files f ON f.id = l.file_id JOIN runs r ON r.id = f.run_id "
    "JOIN experiments e ON e.id = r.experiment_id WHERE l.id IN :ids"
).bindparams(bindparam("ids", expanding=True))
_LINES_BY_ID = text(
    "SELECT file_id, line_no, text FROM log_lines WHERE id IN :ids"
).bindparams(bindparam("ids", expanding=True))
_LINES_AROUND = text(
    "SELECT line_no, text FROM log_lines WHERE file_id = :f AND line_no BETWEEN :lo AND :hi"
)


def _hits(conn: Connection, ids: list[int], context: int) -> list[LogHit]:
    """The hits of line ``ids`` (in that order) with ``context`` lines around each: the
    returned page only, in a few statements whatever the limit."""
    if not ids:
        return []
    rows = {row.id: row for row in conn.execute(_HIT_ROWS, {"ids": ids})}
    found = [rows[i] for i in ids if i in rows]
    around: dict[tuple[int, int], str] = {}
    if context and found:
        # a line's neighbours usually sit at the neighbouring ids (lines arrive in
        # batches): one primary-key read for all of them ...
        near = sorted({i + d for i in rows for d in range(-context, context + 1) if d})
        for part in _parts(near, 5_000):
            for file_id, line_no, line in conn.execute(_LINES_BY_ID, {"ids": part}):
                around[(file_id, line_no)] = line
        # ... and the hits at a batch edge (another file's lines next to it) look theirs up
        for row in found:
            wanted = range(max(1, row.line_no - context), row.line_no + context + 1)
            if any((row.file_id, n) not in around for n in wanted if n != row.line_no):
                for line_no, line in conn.execute(_LINES_AROUND, {
                    "f": row.file_id, "lo": wanted.start, "hi": wanted.stop - 1,
                }):
                    around[(row.file_id, line_no)] = line
    return [
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
            before=_context(around, row.file_id, range(row.line_no - context, row.line_no)),
            after=_context(around, row.file_id,
                           range(row.line_no + 1, row.line_no + context + 1)),
        )
        for row in found
    ]


def _context(around: dict[tuple[int, int], str], file_id: int, numbers: range) -> list[str]:
    return [around[(file_id, n)] for n in numbers if (file_id, n) in around]
