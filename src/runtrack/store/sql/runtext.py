"""``SqlStore``'s text search over runs: the runs page's search box inside the database.

A run matches when every word (any case) appears in one of its texts: display name,
id, number, run type, or a tag's or property's ``key=value`` (the key alone when a
tag has no value) — the rule of ``runtrack.server.api._runs_table.matches``, which
stores without this method apply in Python. Only the matching ids leave the
database, ordered as the query says, and only the requested page is read as runs.

On SQLite the words go through ``run_text`` (revision ``c15_runtext``): an FTS5
table with the trigram tokenizer holding each run's texts joined by newlines, kept by
triggers on ``runs``, ``run_tags`` and ``run_properties``. Words of 3 or more ASCII
characters are phrases of one ``MATCH`` (quoted, so FTS syntax in a word is plain
text); shorter words are tested by ``LIKE`` on the bodies found, or on every body when
no word is long enough. Where the database has no ``run_text`` (its SQLite lacked the
trigram tokenizer when migrated), and on PostgreSQL, the longest word selects its
runs: the union of the runs whose own columns, tag rows or property rows hold it
(``ILIKE``, which ``pg_trgm`` GIN indexes serve for words of 3 or more characters
when the extension was there at migration); the other words and filters are then
tested on those runs only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    TextClause,
    and_,
    case,
    column,
    exists,
    literal_column,
    or_,
    select,
    table,
    text,
    union,
)
from sqlalchemy.types import String

from runtrack.errors import InvalidValueError
from runtrack.model import RunInfo, RunQuery
from runtrack.store.sql._connected import Connected
from runtrack.store.sql.query import _filters, _ordered, load_runs
from runtrack.store.sql.schema import run_properties, run_tags, runs

_ESCAPE = "\\"


def _pattern(word: str) -> str:
    escaped = word.replace(_ESCAPE, _ESCAPE * 2).replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _holds(word: str, sqlite: bool, first: bool) -> ColumnElement[bool]:
    """The runs one of whose texts holds ``word`` (lower case, no space). The ``first``
    word selects its runs by scanning the three tables once; the others are tested on
    those runs only (a run's own tags and properties, by primary key)."""
    pattern = _pattern(word)

    def like(column: ColumnElement[Any]) -> ColumnElement[bool]:
        # SQLite's LIKE ignores ASCII case already (lower() on every row costs)
        if sqlite:
            return column.like(pattern, escape=_ESCAPE)
        return column.ilike(pattern, escape=_ESCAPE)

    def side(table: Table) -> ColumnElement[bool]:
        if "=" not in word:  # it cannot span the key, the "=" and the value
            return or_(like(table.c.key), like(table.c.value))
        # it may: the key=value text holds it; its longest piece between "=" is in the
        # key or the value, a cheaper test that lets few rows build that text
        piece = _pattern(max(word.split("="), key=len))
        text = case((table.c.value.is_(None), table.c.key),
                    else_=table.c.key + "=" + table.c.value)
        narrow = (or_(table.c.key.like(piece, escape=_ESCAPE),
                      table.c.value.like(piece, escape=_ESCAPE)) if sqlite else
                  or_(table.c.key.ilike(piece, escape=_ESCAPE),
                      table.c.value.ilike(piece, escape=_ESCAPE)))
        return and_(narrow, like(text))

    own_columns: list[ColumnElement[Any]] = [runs.c.display_name, runs.c.id, runs.c.run_type]
    if word.isdigit():  # only digits can be in a number (else each row's cast costs)
        own_columns.append(runs.c.number.cast(String))
    own = or_(*map(like, own_columns))
    if first:
        return runs.c.id.in_(union(
            select(runs.c.id).where(own),
            *(select(t.c.run_id).where(side(t)) for t in (run_tags, run_properties)),
        ))
    return or_(own, *(exists().where(t.c.run_id == runs.c.id, side(t))
                      for t in (run_tags, run_properties)))


#: SQLite's run search index (revision ``c15_runtext``): one row per run, its texts
#: joined by newlines (a word has no space, so it never spans two), FTS5 trigram; the
#: row id is ``experiment_id * 2**32 + number`` (stable, unlike the rowid of ``runs``)
run_text = table("run_text", column("run_id"), column("body"))
_ROWID: ColumnElement[int] = literal_column("run_text.rowid")
_BY_ROWID = and_(runs.c.experiment_id == _ROWID.op(">>")(32),
                 runs.c.number == _ROWID.op("&")(0xFFFFFFFF))


def _indexed(words: Sequence[str]) -> list[ColumnElement[bool] | TextClause]:
    """Tests on ``run_text`` that select the runs whose body holds every word. A word of
    3 or more ASCII characters is a phrase of the trigram index: exactly a substring in
    any case, as ``LIKE`` matches it. The
    others (shorter: no trigram; non-ASCII: the index folds their case beyond ASCII)
    are tested by ``LIKE`` on the bodies the index found, or on every body (one table
    scanned instead of three) when no word is indexed."""
    indexed = [w for w in words if len(w) >= 3 and w.isascii()]
    where: list[ColumnElement[bool] | TextClause] = []
    if indexed:
        phrase = " AND ".join('"' + w.replace('"', '""') + '"' for w in indexed)
        where.append(text("run_text MATCH :run_text_match").bindparams(run_text_match=phrase))
    where += [run_text.c.body.like(_pattern(w), escape=_ESCAPE)
              for w in words if w not in indexed]
    return where


class RunTextMethods(Connected):
    """The run text search part of :class:`~runtrack.store.sql.SqlStore`."""

    _run_text_index: bool | None = None

    def _has_run_text_index(self, conn: Connection) -> bool:
        """Whether this SQLite database has ``run_text`` (not where its SQLite lacked
        the trigram tokenizer when it was migrated); asked once per store."""
        if self._run_text_index is None:
            self._run_text_index = conn.execute(text(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'run_text'"
            )).first() is not None
        return self._run_text_index

    def search_runs_text(
        self, query: RunQuery, words: Sequence[str]
    ) -> tuple[list[RunInfo], int]:
        """The runs ``query`` selects whose texts hold every word (see the module doc),
        in its order and page, and how many match before paging."""
        if any(not isinstance(w, str) or not w or w.split() != [w] for w in words):
            raise InvalidValueError(
                f"search words must be non-empty strings without spaces, got {list(words)!r}"
            )
        # the longest word first: likely the fewest runs for the others to test
        ordered = sorted((w.lower() for w in words), key=len, reverse=True)
        sqlite = self.dialect.is_sqlite
        with self._read() as conn:
            statement = select(runs.c.id)
            if sqlite and self._has_run_text_index(conn):
                # the index's matches first, each joined to its run by the row id
                statement = statement.select_from(run_text.join(runs, _BY_ROWID))
                statement = statement.where(*_indexed(ordered))
            else:
                statement = statement.where(
                    *(_holds(w, sqlite, i == 0) for i, w in enumerate(ordered)))
            statement = _ordered(statement.where(*_filters(query)), query)
            ids = list(conn.execute(statement).scalars())
            page = ids[query.offset :]
            if query.limit is not None:
                page = page[: query.limit]
            found = load_runs(conn, page)
        return [found[i] for i in page if i in found], len(ids)
