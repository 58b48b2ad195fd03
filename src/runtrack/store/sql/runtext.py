"""``SqlStore``'s text search over runs: the runs page's search box inside the database.

A run matches when every word (any case) appears in one of its texts: display name,
id, number, run type, or a tag's or property's ``key=value`` (the key alone when a
tag has no value) — the rule of ``runtrack.server.api._runs_table.matches``, which
stores without this method apply in Python. Here the longest word selects its runs:
the union of the runs whose own columns, tag rows or property rows hold it (``LIKE``;
one subquery the database evaluates once); the other words and filters are then
tested on those runs only. Only the matching ids leave the database, ordered as the
query says, and only the requested page is read as runs. No index serves ``LIKE
'%word%'``: the first word scans the three tables, about 0.15 s of CPU at 100,000
runs with 3 tags and 2 properties each (``benchmarks/bench_runs_search.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, case, exists, or_, select, union
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

    own = or_(like(runs.c.display_name), like(runs.c.id), like(runs.c.number.cast(String)),
              like(runs.c.run_type))
    if first:
        return runs.c.id.in_(union(
            select(runs.c.id).where(own),
            *(select(t.c.run_id).where(side(t)) for t in (run_tags, run_properties)),
        ))
    return or_(own, *(exists().where(t.c.run_id == runs.c.id, side(t))
                      for t in (run_tags, run_properties)))


class RunTextMethods(Connected):
    """The run text search part of :class:`~runtrack.store.sql.SqlStore`."""

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
        where = [*(_holds(w, sqlite, i == 0) for i, w in enumerate(ordered)), *_filters(query)]
        with self._read() as conn:
            ids = list(conn.execute(_ordered(select(runs.c.id).where(*where), query)).scalars())
            page = ids[query.offset :]
            if query.limit is not None:
                page = page[: query.limit]
            found = load_runs(conn, page)
        return [found[i] for i in page if i in found], len(ids)
