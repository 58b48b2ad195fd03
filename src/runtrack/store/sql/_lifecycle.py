"""The statements of a run's lifecycle writes (create, tag, settle), built once.

A short run makes about ten store calls; building a SQLAlchemy statement costs about as
much as running it on SQLite, so these are module constants with bind parameters
(SQLAlchemy keeps their compiled form), and each call runs as few of them as its
checks allow:

* creating a run takes its number and its experiment's name in one
  ``UPDATE … RETURNING`` and learns that the id is taken from the primary key,
  instead of reading first;
* setting tags checks the run and counts its tags in one query and upserts them in
  one statement; only a run near ``MAX_TAGS_PER_RUN`` pays the exact count of new keys.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from runtrack import limits
from runtrack.errors import LimitExceededError, NotFoundError, PropertyConflictError
from runtrack.store.sql.dialects import Dialect
from runtrack.store.sql.schema import experiments, run_tags, runs

#: the experiment's next run number, taken (the value before the increment is the
#: new run's number), and the experiment's name
TAKE_RUN_NUMBER = (
    update(experiments)
    .where(experiments.c.id == bindparam("b_key"))
    .values(next_run_number=experiments.c.next_run_number + 1)
    .returning(experiments.c.next_run_number, experiments.c.name)
)

_RUN_TAG_COUNT = select(
    runs.c.id,
    select(func.count())
    .select_from(run_tags)
    .where(run_tags.c.run_id == runs.c.id)
    .scalar_subquery()
    .label("tags"),
).where(runs.c.id == bindparam("b_run"))

_PRESENT_KEYS = select(run_tags.c.key).where(
    run_tags.c.run_id == bindparam("b_run"),
    run_tags.c.key.in_(bindparam("b_keys", expanding=True)),
)


def _upsert(make: Any) -> Any:
    statement = make(run_tags)
    return statement.on_conflict_do_update(
        index_elements=[run_tags.c.run_id, run_tags.c.key],
        set_={"value": statement.excluded.value},
    )


_UPSERT_TAGS = {True: _upsert(sqlite.insert), False: _upsert(postgresql.insert)}


def set_run_tags(
    conn: Connection, dialect: Dialect, run_id: str, tags: dict[str, str | None]
) -> None:
    """Add or overwrite ``tags`` of ``run_id`` (NotFoundError when it does not exist,
    LimitExceededError beyond ``MAX_TAGS_PER_RUN``; nothing written then)."""
    row = conn.execute(_RUN_TAG_COUNT, {"b_run": run_id}).first()
    if row is None:
        raise NotFoundError(f"run {run_id!r} does not exist")
    if not tags:
        return
    total = int(row.tags) + len(tags)
    if total > limits.MAX_TAGS_PER_RUN:  # some keys may exist already: count exactly
        present = set(
            conn.execute(_PRESENT_KEYS, {"b_run": run_id, "b_keys": list(tags)}).scalars()
        )
        total = int(row.tags) + len([k for k in tags if k not in present])
        if total > limits.MAX_TAGS_PER_RUN:
            raise LimitExceededError(
                f"run {run_id!r} would have {total} tags, more than "
                f"MAX_TAGS_PER_RUN={limits.MAX_TAGS_PER_RUN}"
            )
    conn.execute(
        _UPSERT_TAGS[dialect.is_sqlite],
        [{"run_id": run_id, "key": k, "value": v} for k, v in tags.items()],
    )


def new_properties(
    run_id: str, existing: dict[str, str], properties: dict[str, str]
) -> dict[str, str]:
    """The properties of ``properties`` the run does not have yet, after the rules:
    a property never changes value, and a run keeps at most MAX_PROPERTIES_PER_RUN."""
    for key, value in properties.items():
        if key in existing and existing[key] != value:
            raise PropertyConflictError(
                f"run {run_id!r} already has property {key!r}={existing[key]!r}; properties "
                f"cannot change (tried {value!r}); use a tag for values that change"
            )
    new = {k: v for k, v in properties.items() if k not in existing}
    if len(existing) + len(new) > limits.MAX_PROPERTIES_PER_RUN:
        raise LimitExceededError(
            f"run {run_id!r} would have {len(existing) + len(new)} properties, more than "
            f"MAX_PROPERTIES_PER_RUN={limits.MAX_PROPERTIES_PER_RUN}"
        )
    return new
