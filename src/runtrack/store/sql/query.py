"""Reading runs and experiments: search/filter/sort/page, and rows -> model values.

Every function takes the caller's connection (one transaction per public store call)
and builds plain SQLAlchemy Core statements; filters on tags, properties and metric
summaries are ``EXISTS`` subqueries, ordering by a metric joins its ``series`` row,
and NULLs sort last whichever the direction (portable ``CASE`` instead of
``NULLS LAST``).
"""

from __future__ import annotations

import json
import math
import operator
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.types import String

from runtrack._rules import SYSTEM_PREFIX
from runtrack.errors import InvalidValueError
from runtrack.model import (
    ErrorInfo,
    ExperimentInfo,
    MetricKind,
    RunInfo,
    RunQuery,
    RunStatus,
    SeriesInfo,
)
from runtrack.store.readers import ScalarSummary, TopPoint
from runtrack.store.sql.codec import loads_cell
from runtrack.store.sql.ingest import in_batches
from runtrack.store.sql.schema import (
    experiment_tags,
    experiments,
    run_properties,
    run_tags,
    runs,
    series,
)

_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "==": operator.eq, "!=": operator.ne,
}
_FIELDS = {"last": series.c.last, "min": series.c.vmin, "max": series.c.vmax,
           "top": series.c.top_value}
_ATTRIBUTES = {
    "created_time": runs.c.created_time, "start_time": runs.c.start_time,
    "end_time": runs.c.end_time, "number": runs.c.number, "display_name": runs.c.display_name,
    "status": runs.c.status, "run_type": runs.c.run_type, "last_activity": runs.c.last_activity,
}


# -- experiments ----------------------------------------------------------------------------


def experiment_infos(conn: Connection, *where: ColumnElement[bool]) -> list[ExperimentInfo]:
    """Experiments matching ``where``, by name, with run_count/last_activity/tags."""
    stats = (
        select(
            runs.c.experiment_id,
            # top-level runs, as the experiment's runs table counts them (children
            # are listed under their parent)
            func.sum(case((runs.c.parent_id.is_(None), 1), else_=0)).label("run_count"),
            func.max(runs.c.last_activity).label("last_activity"),
        )
        .group_by(runs.c.experiment_id)
        .subquery()
    )
    query = (
        select(experiments, stats.c.run_count, stats.c.last_activity)
        .outerjoin(stats, stats.c.experiment_id == experiments.c.id)
        .where(*where)
        .order_by(experiments.c.name)
    )
    rows = conn.execute(query).all()
    tags: dict[int, dict[str, str | None]] = {row.id: {} for row in rows}
    for part in in_batches(list(tags)):
        for tag in conn.execute(
            select(experiment_tags).where(experiment_tags.c.experiment_id.in_(part))
        ):
            tags[tag.experiment_id][tag.key] = tag.value
    return [
        ExperimentInfo(
            id=str(row.id),
            name=row.name,
            created_time=row.created_time,
            tags=tags[row.id],
            archived=bool(row.archived),
            run_count=int(row.run_count or 0),
            last_activity=row.last_activity,
        )
        for row in rows
    ]


def experiment_key(experiment_id: str) -> int | None:
    """The integer key of an experiment id string, or None if it cannot be one."""
    try:
        return int(experiment_id)
    except (TypeError, ValueError):
        return None


# -- runs --------------------------------------------------------------------------------------


def _run_select() -> Select[Any]:
    return select(runs, experiments.c.name.label("experiment_name")).join(
        experiments, experiments.c.id == runs.c.experiment_id
    )


_RUN_BY_ID = _run_select().where(runs.c.id == bindparam("run_id"))
_TAGS_OF_RUN = select(run_tags.c.key, run_tags.c.value).where(
    run_tags.c.run_id == bindparam("run_id")
)
_PROPERTIES_OF_RUN = select(run_properties.c.key, run_properties.c.value).where(
    run_properties.c.run_id == bindparam("run_id")
)


def load_run(conn: Connection, run_id: str) -> RunInfo | None:
    """One run with its tags and properties, or None: three prepared statements (the
    lifecycle path reads a run after each change; :func:`load_runs` is for many)."""
    key = {"run_id": run_id}
    row = conn.execute(_RUN_BY_ID, key).first()
    if row is None:
        return None
    tags: dict[str, str | None] = dict(conn.execute(_TAGS_OF_RUN, key).tuples().all())
    props: dict[str, str] = dict(conn.execute(_PROPERTIES_OF_RUN, key).tuples().all())
    return _run_info(row, tags, props)


def load_runs(conn: Connection, run_ids: Sequence[str]) -> dict[str, RunInfo]:
    """The runs with these ids that exist, with tags and properties."""
    found: dict[str, RunInfo] = {}
    for part in in_batches(list(run_ids)):
        rows = conn.execute(_run_select().where(runs.c.id.in_(part))).all()
        found.update(_with_sides(conn, rows))
    return found


def _with_sides(conn: Connection, rows: Sequence[Any]) -> dict[str, RunInfo]:
    ids = [row.id for row in rows]
    tags: dict[str, dict[str, str | None]] = {run_id: {} for run_id in ids}
    props: dict[str, dict[str, str]] = {run_id: {} for run_id in ids}
    for part in in_batches(ids):
        for run_id, key, value in conn.execute(_TAGS, {"ids": part}).all():
            tags[run_id][key] = value
        for run_id, key, value in conn.execute(_PROPERTIES, {"ids": part}).all():
            props[run_id][key] = value
    return {row.id: _run_info(row, tags[row.id], props[row.id]) for row in rows}


#: built once (SQLAlchemy reuses their compiled form); rows are read as plain tuples
_TAGS = select(run_tags.c.run_id, run_tags.c.key, run_tags.c.value).where(
    run_tags.c.run_id.in_(bindparam("ids", expanding=True))
)
_PROPERTIES = select(run_properties.c.run_id, run_properties.c.key, run_properties.c.value).where(
    run_properties.c.run_id.in_(bindparam("ids", expanding=True))
)


def _run_info(row: Any, tags: dict[str, str | None], props: dict[str, str]) -> RunInfo:
    return trusted(RunInfo, {
        "id": row.id,
        "experiment_id": str(row.experiment_id),
        "experiment_name": row.experiment_name,
        "number": row.number,
        "display_name": row.display_name,
        "status": _STATUSES.get(row.status) or RunStatus(row.status),
        "run_type": row.run_type,
        "created_time": row.created_time,
        "start_time": row.start_time,
        "end_time": row.end_time,
        "parent_id": row.parent_id,
        "description": row.description,
        "compute_target": row.compute_target,
        "tags": tags,
        "properties": props,
        "definition": json.loads(row.definition) if row.definition else {},
        "error": ErrorInfo.from_json(json.loads(row.error)) if row.error else None,
    })


_STATUSES = {status.value: status for status in RunStatus}
_Frozen = TypeVar("_Frozen")


def trusted(cls: type[_Frozen], values: dict[str, Any]) -> _Frozen:
    """An instance of the frozen dataclass ``cls`` holding ``values`` (every field, of
    its declared type), made without the generated ``__init__``, which sets each field
    through ``object.__setattr__``: for the 5,000 series of a 1,000-run listing that
    cost more than reading their rows. Only for values read from our own tables;
    ``tests/store/test_sql_rows.py`` checks the result equals the ``__init__`` one."""
    made = object.__new__(cls)
    made.__dict__.update(values)
    return made


def _filters(query: RunQuery) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if query.experiment_ids is not None:
        keys = [k for k in map(experiment_key, query.experiment_ids) if k is not None]
        where.append(runs.c.experiment_id.in_(keys))
    if query.status is not None:
        where.append(runs.c.status.in_([RunStatus(s).value for s in query.status]))
    if query.run_type is not None:
        where.append(runs.c.run_type == query.run_type)
    for table, wanted in ((run_tags, query.tags), (run_properties, query.properties)):
        for key, value in wanted.items():
            match = and_(table.c.run_id == runs.c.id, table.c.key == key)
            if value is not None:
                match = and_(match, table.c.value == value)
            where.append(exists().where(match))
    for name, field, op, threshold in query.metric_filters:
        column, compare = _FIELDS.get(field), _OPS.get(op)
        if column is None or compare is None:
            raise InvalidValueError(
                f"metric filter ({name!r}, {field!r}, {op!r}) is not valid: field must be "
                f"one of {sorted(_FIELDS)} and op one of {sorted(_OPS)}"
            )
        if not isinstance(threshold, (int, float)) or math.isnan(threshold):
            raise InvalidValueError(
                f"metric filter on {name!r} needs a number, got {threshold!r}"
            )
        where.append(
            exists().where(
                series.c.run_id == runs.c.id, series.c.name == name, compare(column, threshold)
            )
        )
    where.extend(_condition(*c) for c in query.conditions)
    if query.parent_id is not None:
        where.append(runs.c.parent_id == query.parent_id)
    elif not query.include_children:
        where.append(runs.c.parent_id.is_(None))
    return where


_CONDITION_ATTRIBUTES = {
    "id": runs.c.id, "display_name": runs.c.display_name, "status": runs.c.status,
    "created_time": runs.c.created_time, "start_time": runs.c.start_time,
    "end_time": runs.c.end_time,
}
_SIDES = {"tag": run_tags, "property": run_properties}
_CONDITION_OPS = ("=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN", "NOT IN",
                  "IS NULL", "IS NOT NULL")


class _CaseLike(ColumnElement[bool]):
    """``column LIKE pattern``, case-sensitive on every dialect (SQLite's LIKE ignores
    ASCII case, so there it compiles to GLOB)."""

    inherit_cache = True
    type = Boolean()

    def __init__(self, column: Any, pattern: str) -> None:
        self.column = column
        self.pattern = pattern


@compiles(_CaseLike)
def _like_default(element: _CaseLike, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.column.like(element.pattern), **kw))


@compiles(_CaseLike, "sqlite")
def _like_sqlite(element: _CaseLike, compiler: Any, **kw: Any) -> str:
    pattern = literal(_glob(element.pattern), String())
    return f"({compiler.process(element.column, **kw)} GLOB {compiler.process(pattern, **kw)})"


def _glob(pattern: str) -> str:
    """A case-sensitive LIKE pattern as a SQLite GLOB pattern."""
    out = []
    for char in pattern:
        out.append("*" if char == "%" else "?" if char == "_" else
                   f"[{char}]" if char in "*?[]" else char)
    return "".join(out)


def _compare(column: ColumnElement[Any], op: str, value: Any) -> ColumnElement[bool]:
    if op == "LIKE":
        return _CaseLike(column, str(value))
    if op == "ILIKE":
        return column.ilike(value)
    if op == "IN":
        return column.in_(list(value))
    if op == "NOT IN":
        return column.not_in(list(value))
    if op == "IS NULL":
        return column.is_(None)
    if op == "IS NOT NULL":
        return column.is_not(None)
    compared: ColumnElement[bool] = _OPS["==" if op == "=" else op](column, value)
    return compared


def _condition(source: str, key: str, op: str, value: Any) -> ColumnElement[bool]:
    if op not in _CONDITION_OPS:
        raise InvalidValueError(f"condition op {op!r} is not one of {list(_CONDITION_OPS)}")
    if op in ("IN", "NOT IN") and not isinstance(value, (list, tuple)):
        raise InvalidValueError(f"condition {op} on {key!r} needs a list of values")
    if source in _SIDES:
        table = _SIDES[source]
        has = and_(table.c.run_id == runs.c.id, table.c.key == key)
        if op == "IS NULL":
            return ~exists().where(has)
        if op == "IS NOT NULL":
            return exists().where(has)
        return exists().where(has, _compare(table.c.value, op, value))
    if source == "attribute" and key in _CONDITION_ATTRIBUTES:
        return _compare(_CONDITION_ATTRIBUTES[key], op, value)
    raise InvalidValueError(
        f"condition on ({source!r}, {key!r}) is not valid: source must be tag, property or "
        f"attribute ({', '.join(_CONDITION_ATTRIBUTES)})"
    )


def _ordered(statement: Select[Any], query: RunQuery) -> Select[Any]:
    order: list[Any] = []
    for number, (key, descending) in enumerate(query.order_by):
        column: ColumnElement[Any]
        if key.startswith("metric:"):
            name, _, field = key[len("metric:") :].rpartition(":")
            if not name or field not in _FIELDS:
                raise InvalidValueError(
                    f"cannot order by {key!r}: use metric:<name>:<last|min|max|top>"
                )
            joined = series.alias(f"order_{number}")
            statement = statement.outerjoin(
                joined, and_(joined.c.run_id == runs.c.id, joined.c.name == name)
            )
            column = joined.c[_FIELDS[field].name]
        elif key == "duration":
            column = func.coalesce(runs.c.end_time, time.time()) - runs.c.start_time
        elif key in _ATTRIBUTES:
            column = _ATTRIBUTES[key]
        else:
            raise InvalidValueError(
                f"cannot order runs by {key!r}: use one of {sorted([*_ATTRIBUTES, 'duration'])} "
                "or metric:<name>:<last|min|max|top>"
            )
        order.append(case((column.is_(None), 1), else_=0))
        order.append(column.desc() if descending else column.asc())
    order.append(runs.c.id.asc())
    return statement.order_by(*order)


def search(conn: Connection, query: RunQuery) -> list[RunInfo]:
    """Runs matching ``query``, ordered and paged."""
    statement = _ordered(_run_select().where(*_filters(query)), query)
    if query.offset:
        statement = statement.offset(query.offset)
    if query.limit is not None:
        statement = statement.limit(query.limit)
    rows = conn.execute(statement).all()
    infos = _with_sides(conn, rows)
    return [infos[row.id] for row in rows]


def run_select(
    columns: Sequence[ColumnElement[Any]], query: RunQuery, *, ordered: bool = True
) -> Select[Any]:
    """``select(*columns)`` of the runs ``query`` matches (columns of ``runs``), paged
    and, with ``ordered``, ordered as :func:`search` returns them (unordered: for an
    ``IN`` subquery when the query has no page)."""
    statement = select(*columns).where(*_filters(query))
    if ordered or query.offset or query.limit is not None:
        statement = _ordered(statement, query)
    if query.offset:
        statement = statement.offset(query.offset)
    if query.limit is not None:
        statement = statement.limit(query.limit)
    return statement


def count(conn: Connection, query: RunQuery) -> int:
    statement = select(func.count()).select_from(runs).where(*_filters(query))
    return int(conn.execute(statement).scalar_one())


# -- series summaries -------------------------------------------------------------------------


_KINDS = {kind.value: kind for kind in MetricKind}
_AT = {column.name: i for i, column in enumerate(series.c)}  # positions in select(series)
_RUN_ID, _COUNT = _AT["run_id"], _AT["count"]  # by position: ``row.count`` is the tuple method
_NAME, _KIND, _DESCRIPTION, _COLUMNS = _AT["name"], _AT["kind"], _AT["description"], _AT["columns"]
_LAST, _LAST_NAN, _VMIN, _VMAX = _AT["last"], _AT["last_nan"], _AT["vmin"], _AT["vmax"]
_LAST_STEP, _FIRST_VALUE, _LAST_VALUE = _AT["last_step"], _AT["first_value"], _AT["last_value"]
_LAST_TIME, _TOP_STEP, _TOP_TIME = _AT["last_time"], _AT["top_step"], _AT["top_time"]
_TOP_VALUE, _TOP_NAN = _AT["top_value"], _AT["top_nan"]


def series_info(row: Any) -> SeriesInfo:
    """A row of ``select(series)`` as :class:`SeriesInfo` (no points read). Columns are
    read by position: this runs once per series of every listed run."""
    kind, columns = row[_KIND], row[_COLUMNS]
    return trusted(SeriesInfo, {
        "name": row[_NAME],
        "kind": _KINDS.get(kind) or MetricKind(kind),
        "count": row[_COUNT],
        "description": row[_DESCRIPTION] or "",
        "columns": json.loads(columns) if columns else [],
        "last": math.nan if row[_LAST_NAN] else row[_LAST],
        "minimum": row[_VMIN],
        "maximum": row[_VMAX],
        "last_step": row[_LAST_STEP],
        "first_value": loads_cell(row[_FIRST_VALUE]),
        "last_value": loads_cell(row[_LAST_VALUE]),
        "last_time": row[_LAST_TIME],
        "top_step": row[_TOP_STEP],
        "top_time": row[_TOP_TIME],
        "top_value": math.nan if row[_TOP_NAN] else row[_TOP_VALUE],
    })


def summaries(
    conn: Connection, run_ids: Sequence[str], names: Sequence[str] | None
) -> dict[str, dict[str, SeriesInfo]]:
    result: dict[str, dict[str, SeriesInfo]] = {run_id: {} for run_id in run_ids}
    if names is not None and not names:
        return result
    for part in in_batches(list(result)):
        statement = select(series).where(series.c.run_id.in_(part)).order_by(series.c.id)
        if names is not None:
            statement = statement.where(series.c.name.in_(list(names)))
        for row in conn.execute(statement).all():  # one fetch, not one per row
            result[row[_RUN_ID]][row[_NAME]] = series_info(row)
    return result


#: built once: SQLAlchemy then reuses its compiled form and cache key on every call
_RUN_SERIES = select(series).where(series.c.run_id == bindparam("run_id")).order_by(series.c.id)
#: the same query as SQLite text (qmark parameter), for the driver-level read of
#: ``SqlStore.list_series``; its rows are plain tuples in the same column order
RUN_SERIES_SQLITE = str(_RUN_SERIES.compile(dialect=sqlite_dialect()))


def run_summaries(conn: Connection, run_id: str) -> list[SeriesInfo]:
    """The summaries of one run's series in first-logged order (one prepared equality
    query: a get_metrics() call makes one per run)."""
    return [series_info(row) for row in conn.execute(_RUN_SERIES, {"run_id": run_id}).all()]


#: the scalar summaries of ``Experiment.search_runs`` and MLflow's ``runs/search``:
#: built once (cached compiled form)
_METRIC_TABLE = select(
    series.c.run_id, series.c.name, series.c.count, series.c.last_value, series.c.vmin,
    series.c.vmax, series.c.last, series.c.last_nan, series.c.last_time, series.c.last_step,
    series.c.top_value, series.c.top_nan, series.c.top_time, series.c.top_step,
).where(series.c.run_id.in_(bindparam("ids", expanding=True)),
        series.c.kind == MetricKind.SCALAR.value).order_by(series.c.id)
_METRIC_TABLE_NAMED = _METRIC_TABLE.where(series.c.name.in_(bindparam("names", expanding=True)))
_METRIC_TABLE_USER = _METRIC_TABLE.where(
    func.substr(series.c.name, 1, len(SYSTEM_PREFIX)) != SYSTEM_PREFIX)
#: the same on SQLite as driver text: rendering a 500-id ``IN`` list through SQLAlchemy
#: costs more than the query
_METRIC_TABLE_SQLITE = (
    "SELECT run_id, name, count, last_value, vmin, vmax, last, last_nan, last_time, "
    "last_step, top_value, top_nan, top_time, top_step FROM series "
    "WHERE kind = 'scalar' AND run_id IN ({ids}){more} ORDER BY id"
)


def metric_table(
    conn: Connection, run_ids: Sequence[str], names: Sequence[str] | None, system: bool
) -> list[ScalarSummary]:
    """The runs' scalar series summaries (only ``names``, else all, ``sys/...`` only
    with ``system``) as tuples: fourteen columns, no :class:`SeriesInfo`."""
    if names is not None and not names:
        return []
    wanted = None if names is None else list(names)
    out: list[ScalarSummary] = []
    for part in in_batches(list(run_ids)):
        rows: Sequence[Any]
        if conn.dialect.paramstyle == "qmark":  # SQLite
            more = ("" if system else f" AND substr(name, 1, {len(SYSTEM_PREFIX)}) != ?") \
                if wanted is None else f" AND name IN ({','.join('?' * len(wanted))})"
            text = _METRIC_TABLE_SQLITE.format(ids=",".join("?" * len(part)), more=more)
            given = wanted if wanted is not None else () if system else (SYSTEM_PREFIX,)
            rows = _sqlite_rows(conn, text, (*part, *given))
        elif wanted is not None:
            rows = conn.execute(_METRIC_TABLE_NAMED, {"ids": part, "names": wanted}).all()
        else:
            statement = _METRIC_TABLE if system else _METRIC_TABLE_USER
            rows = conn.execute(statement, {"ids": part}).all()
        out += [
            ScalarSummary(run_id, name, count, loads_cell(last_value), low, high,
                          math.nan if last_nan else last, last_time, last_step,
                          math.nan if top_nan else top_value, top_time, top_step)
            for (run_id, name, count, last_value, low, high, last, last_nan, last_time,
                 last_step, top_value, top_nan, top_time, top_step) in rows
        ]
    return out


#: MLflow's "latest" point of each numeric scalar series (``runs/search``): the point
#: with the highest step, then time, then value, which ingest keeps as ``top_*``; a
#: series without one (written before those columns) falls back to its last point
_HAS_TOP = and_(series.c.top_time.is_not(None),
                (series.c.top_value.is_not(None)) | (series.c.top_nan.is_(True)))
_TOP_POINTS = select(
    series.c.run_id, series.c.name,
    case((_HAS_TOP, series.c.top_value), else_=series.c.last),
    case((_HAS_TOP, series.c.top_nan), else_=series.c.last_nan),
    case((_HAS_TOP, series.c.top_time), else_=series.c.last_time),
    case((_HAS_TOP, series.c.top_step), else_=series.c.last_step),
).where(
    series.c.run_id.in_(bindparam("ids", expanding=True)),
    series.c.kind == MetricKind.SCALAR.value, series.c.count > 0,
    _HAS_TOP | series.c.last.is_not(None) | (series.c.last_nan.is_(True)),
).order_by(series.c.id)
_HAS_TOP_SQLITE = "(top_time IS NOT NULL AND (top_value IS NOT NULL OR top_nan = 1))"
_TOP_SQLITE = (
    "SELECT run_id, name, "
    + ", ".join(f"CASE WHEN {_HAS_TOP_SQLITE} THEN top_{c} ELSE last_{c} END"
                for c in ("value", "nan", "time", "step")).replace("last_value", "last")
    + " FROM series WHERE kind = 'scalar' AND count > 0 AND run_id IN ({ids}) AND "
    f"({_HAS_TOP_SQLITE} OR last IS NOT NULL OR last_nan = 1) ORDER BY id"
)


def top_points(conn: Connection, run_ids: Sequence[str]) -> list[TopPoint]:
    """``(run_id, name, value, time, step)`` of the top point of every numeric scalar
    series of these runs (system metrics too), each run's in first-logged order: five
    plain columns, no summary built, no logged value decoded."""
    out: list[TopPoint] = []
    nan = math.nan
    for part in in_batches(list(run_ids)):
        rows: Sequence[Any]
        if conn.dialect.paramstyle == "qmark":  # SQLite: see _METRIC_TABLE_SQLITE
            rows = conn.exec_driver_sql(
                _TOP_SQLITE.format(ids=",".join("?" * len(part))), tuple(part)).all()
        else:
            rows = conn.execute(_TOP_POINTS, {"ids": part}).all()
        out += [(run_id, name, nan if is_nan else value, stamp, step or 0)
                for run_id, name, value, is_nan, stamp, step in rows]
    return out


#: name, kind and count of the series of many runs (``Experiment.get_runs`` sizes its
#: bulk reads with them)
_SERIES_INDEX = select(series.c.run_id, series.c.name, series.c.kind, series.c.count).where(
    series.c.run_id.in_(bindparam("ids", expanding=True))
).order_by(series.c.id)
_SERIES_INDEX_SQLITE = (
    "SELECT run_id, name, kind, count FROM series WHERE run_id IN ({ids}) ORDER BY id"
)


def series_index(conn: Connection, run_ids: Sequence[str]) -> list[tuple[str, str, str, int]]:
    """``(run_id, name, kind, count)`` of the runs' series, in first-logged order."""
    out: list[tuple[str, str, str, int]] = []
    for part in in_batches(list(run_ids)):
        if conn.dialect.paramstyle == "qmark":  # SQLite: see _METRIC_TABLE_SQLITE
            text = _SERIES_INDEX_SQLITE.format(ids=",".join("?" * len(part)))
            out += _sqlite_rows(conn, text, tuple(part))
        else:
            out += [tuple(row) for row in conn.execute(_SERIES_INDEX, {"ids": part})]
    return out



def _sqlite_rows(conn: Connection, text: str, params: tuple[Any, ...]) -> list[Any]:
    """Rows of a SQLite query as plain tuples, in ``conn``'s transaction."""
    return [tuple(row) for row in conn.exec_driver_sql(text, params).all()]
