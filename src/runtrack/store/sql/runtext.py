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
no word is long enough. A run the SQLite driver path created and that has not ended
is *stale* (revision ``tg17_runtext_stale``): it has no row yet (its tags are not
re-indexed one by one while it runs); its texts are joined from its rows as the index
joins them and tested by ``LIKE`` as the index would match each word, and those runs
join the index's matches. Where the database has no ``run_text`` (its SQLite lacked the
trigram tokenizer when migrated), and on PostgreSQL, the longest word selects its
runs: the union of the runs whose own columns, tag rows or property rows hold it
(``ILIKE``, which ``pg_trgm`` GIN indexes serve for words of 3 or more characters
when the extension was there at migration); the other words and filters are then
tested on those runs only.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    TextualSelect,
    and_,
    case,
    column,
    exists,
    literal_column,
    or_,
    select,
    text,
    union,
)
from sqlalchemy.types import Integer, String

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


#: ended stale runs whose rows are built together (frozen in ``y18_runtext_batches``)
ENDED_BATCH = 64

#: SQLite's run search index (revision ``c15_runtext``): one row per run, its texts
#: joined by newlines (a word has no space, so it never spans two), FTS5 trigram; the
#: row id is ``experiment_id * 2**32 + number`` (stable, unlike the rowid of ``runs``).
#: A *stale* run (revision ``tg17_runtext_stale``: its id in ``run_text_stale``) has no
#: row; its texts are joined here as the index joins them. A run is stale from its
#: creation until it has ended and :data:`ENDED_BATCH` ended stale runs are queued
#: (revision ``y18_runtext_batches``: ``run_text_ended``); the end that fills the
#: queue builds the rows of all of them in one go.
_BODY = (
    "runs.id || char(10) || runs.display_name || char(10) || runs.number || char(10) "
    "|| runs.run_type || coalesce((SELECT group_concat(char(10) || CASE WHEN t.value IS NULL "
    "THEN t.key ELSE t.key || '=' || t.value END, '') FROM run_tags t WHERE t.run_id = runs.id), "
    "'') || coalesce((SELECT group_concat(char(10) || p.key || '=' || p.value, '') "
    "FROM run_properties p WHERE p.run_id = runs.id), '')"
)
#: the texts as the index sees them for an ASCII word: it folds two other characters to
#: ASCII letters (SQLite's Unicode case folding: KELVIN SIGN to k, LONG S to s), which
#: LIKE does not
_FOLDED_BODY = f"replace(replace({_BODY}, char(8490), 'k'), char(383), 's')"
_LIKE = " LIKE :run_text_w{} ESCAPE '\\'"
_HITS = column("key", Integer)
#: a run joined to its hit by the row id
_BY_HIT = and_(runs.c.experiment_id == literal_column("hits.key").op(">>")(32),
               runs.c.number == literal_column("hits.key").op("&")(0xFFFFFFFF))


def _hits(words: Sequence[str]) -> TextualSelect:
    """The row ids (``key``) of the runs whose texts hold every word: the index's rows
    that do and the stale runs that do. A word of 3 or more ASCII characters is a phrase
    of the trigram index: exactly a substring in any case, as ``LIKE`` matches it. The
    others (shorter: no trigram; non-ASCII: the index folds their case beyond ASCII)
    are tested by ``LIKE`` on the bodies the index found, or on every body (one table
    scanned instead of three) when no word is indexed. A stale run's texts are tested
    by ``LIKE``, each word as the index would test it."""
    indexed = [len(w) >= 3 and w.isascii() for w in words]
    params = {f"run_text_w{i}": _pattern(w) for i, w in enumerate(words)}
    if any(indexed):
        params["run_text_match"] = " AND ".join(
            '"' + w.replace('"', '""') + '"' for w, i in zip(words, indexed, strict=True) if i)
    return _hits_sql(tuple(indexed)).bindparams(**params)


@functools.lru_cache(maxsize=32)
def _hits_sql(indexed: tuple[bool, ...]) -> TextualSelect:
    """:func:`_hits`'s statement for words that the index does or does not match
    (parsed once per shape: a search pays only its parameters)."""
    index_tests = ["run_text MATCH :run_text_match"] if any(indexed) else []
    stale_tests = ["runs.id IN (SELECT run_id FROM run_text_stale)"]
    for i, by_index in enumerate(indexed):
        if not by_index:
            index_tests.append("run_text.body" + _LIKE.format(i))
        stale_tests.append((_FOLDED_BODY if by_index else _BODY) + _LIKE.format(i))
    return text(
        f"SELECT run_text.rowid AS key FROM run_text WHERE {' AND '.join(index_tests)} "
        "UNION ALL SELECT runs.experiment_id * 4294967296 + runs.number AS key FROM runs "
        f"WHERE {' AND '.join(stale_tests)}"
    ).columns(_HITS)


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
                # the matching runs' row ids first, each joined to its run
                statement = statement.select_from(
                    _hits(ordered).subquery("hits").join(runs, _BY_HIT))
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
