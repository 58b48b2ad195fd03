"""The model registry on SQL: registered models, versions, tags, properties, aliases.

Every function takes the caller's connection (one unit of work per store call, see
:mod:`runtrack.store.sql`). Versions come from ``registered_models.next_version``,
bumped by an UPDATE that locks the model's row, so concurrent registrations of one
name (threads, processes, servers) get distinct versions.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from runtrack.catalog import ModelVersionInfo, RegisteredModelInfo
from runtrack.errors import ConflictError, NotFoundError, PropertyConflictError
from runtrack.store.sql.dialects import Dialect
from runtrack.store.sql.schema import (
    model_aliases,
    model_version_properties,
    model_version_tags,
    model_versions,
    registered_model_tags,
    registered_models,
)

_SHOWN = 10


def _names_hint(conn: Connection) -> str:
    names = list(conn.execute(
        select(registered_models.c.name).order_by(registered_models.c.name).limit(_SHOWN + 1)
    ).scalars())
    if not names:
        return "no model is registered yet"
    more = ", …" if len(names) > _SHOWN else ""
    return "registered models: " + ", ".join(repr(n) for n in names[:_SHOWN]) + more


def model_key(conn: Connection, name: str) -> int:
    """The row id of model ``name``; NotFoundError naming the models that exist."""
    key = conn.execute(
        select(registered_models.c.id).where(registered_models.c.name == name)
    ).scalar()
    if key is None:
        raise NotFoundError(f"no registered model called {name!r}; {_names_hint(conn)}")
    return int(key)


def version_key(conn: Connection, name: str, version: int) -> int:
    """The model row id, after checking that ``version`` of it exists."""
    key = model_key(conn, name)
    found = conn.execute(
        select(model_versions.c.version).where(model_versions.c.model_id == key)
        .order_by(model_versions.c.version)
    ).scalars().all()
    if int(version) not in found:
        have = ", ".join(str(v) for v in found) or "none"
        raise NotFoundError(
            f"model {name!r} has no version {version!r}; its versions are: {have}"
        )
    return key


def create_model(
    conn: Connection, dialect: Dialect, name: str, *, description: str | None,
    tags: dict[str, str | None] | None, must_be_new: bool,
) -> int:
    """Create model ``name`` (ConflictError if it exists and ``must_be_new``); its id."""
    now = time.time()
    before = conn.execute(
        select(registered_models.c.id).where(registered_models.c.name == name)
    ).scalar()
    if before is not None:
        if must_be_new:
            raise ConflictError(
                f"a registered model called {name!r} already exists; register a new "
                "version of it or choose another name"
            )
        return int(before)
    row = {"name": name, "created_time": now, "updated_time": now,
           "description": description, "next_version": 1}
    dialect.insert_ignore(conn, registered_models, [row], ["name"])
    key = model_key(conn, name)
    if tags:
        set_tags(conn, name, tags, None)
    return key


def create_version(
    conn: Connection, dialect: Dialect, name: str, *, source: str, files: str | None,
    run_id: str | None, description: str | None, tags: dict[str, str | None] | None,
    properties: dict[str, str] | None,
) -> ModelVersionInfo:
    key = create_model(conn, dialect, name, description=None, tags=None, must_be_new=False)
    conn.execute(
        update(registered_models).where(registered_models.c.id == key)
        .values(next_version=registered_models.c.next_version + 1, updated_time=time.time())
    )
    version = conn.execute(
        select(registered_models.c.next_version).where(registered_models.c.id == key)
    ).scalar_one() - 1
    now = time.time()
    conn.execute(insert(model_versions).values(
        model_id=key, version=version, created_time=now, updated_time=now, source=source,
        files=files, run_id=run_id, description=description, stage="None",
    ))
    if tags:
        set_tags(conn, name, tags, version)
    if properties:
        add_properties(conn, name, version, properties)
    return load_versions(conn, [(key, version)])[0]


def load_models(conn: Connection, *where: Any) -> list[RegisteredModelInfo]:
    rows = conn.execute(
        select(registered_models).where(*where).order_by(registered_models.c.name)
    ).all()
    if not rows:
        return []
    keys = [r.id for r in rows]
    tags: dict[int, dict[str, str | None]] = {k: {} for k in keys}
    for t in conn.execute(select(registered_model_tags)
                          .where(registered_model_tags.c.model_id.in_(keys))):
        tags[t.model_id][t.key] = t.value
    aliases: dict[int, dict[str, int]] = {k: {} for k in keys}
    for a in conn.execute(select(model_aliases).where(model_aliases.c.model_id.in_(keys))
                          .order_by(model_aliases.c.alias)):
        aliases[a.model_id][a.alias] = int(a.version)
    latest: dict[int, int] = {}
    for v in conn.execute(select(model_versions.c.model_id, model_versions.c.version)
                          .where(model_versions.c.model_id.in_(keys))):
        latest[v.model_id] = max(latest.get(v.model_id, 0), int(v.version))
    return [
        RegisteredModelInfo(
            name=r.name, created_time=r.created_time, updated_time=r.updated_time,
            description=r.description, tags=tags[r.id], aliases=aliases[r.id],
            latest_version=latest.get(r.id),
        )
        for r in rows
    ]


def load_versions(conn: Connection, pairs: Sequence[tuple[int, int]] | None = None,
                  *where: Any) -> list[ModelVersionInfo]:
    """Versions by ``(model id, version)`` pairs (None: all matching ``where``), ordered by
    model name then version."""
    query = select(model_versions, registered_models.c.name).join(
        registered_models, registered_models.c.id == model_versions.c.model_id
    ).where(*where).order_by(registered_models.c.name, model_versions.c.version)
    if pairs is not None:
        query = query.where(model_versions.c.model_id.in_({k for k, _ in pairs}))
    wanted = None if pairs is None else set(pairs)
    rows = [r for r in conn.execute(query)
            if wanted is None or (r.model_id, r.version) in wanted]
    if not rows:
        return []
    keys = list({r.model_id for r in rows})
    tags: dict[tuple[int, int], dict[str, str | None]] = {}
    for t in conn.execute(select(model_version_tags)
                          .where(model_version_tags.c.model_id.in_(keys))):
        tags.setdefault((t.model_id, t.version), {})[t.key] = t.value
    props: dict[tuple[int, int], dict[str, str]] = {}
    for p in conn.execute(select(model_version_properties)
                          .where(model_version_properties.c.model_id.in_(keys))):
        props.setdefault((p.model_id, p.version), {})[p.key] = p.value
    aliases: dict[tuple[int, int], list[str]] = {}
    for a in conn.execute(select(model_aliases).where(model_aliases.c.model_id.in_(keys))
                          .order_by(model_aliases.c.alias)):
        aliases.setdefault((a.model_id, a.version), []).append(a.alias)
    return [
        ModelVersionInfo(
            name=r.name, version=int(r.version), created_time=r.created_time,
            updated_time=r.updated_time, source=r.source, files=r.files, run_id=r.run_id,
            description=r.description, stage=r.stage,
            tags=tags.get((r.model_id, r.version), {}),
            properties=props.get((r.model_id, r.version), {}),
            aliases=aliases.get((r.model_id, r.version), []),
        )
        for r in rows
    ]


def touch(conn: Connection, key: int, version: int | None = None) -> None:
    now = time.time()
    conn.execute(update(registered_models).where(registered_models.c.id == key)
                 .values(updated_time=now))
    if version is not None:
        conn.execute(update(model_versions).where(
            model_versions.c.model_id == key, model_versions.c.version == version
        ).values(updated_time=now))


def update_model(conn: Connection, name: str, *, new_name: str | None,
                 description: str | None) -> RegisteredModelInfo:
    key = model_key(conn, name)
    values: dict[str, Any] = {"updated_time": time.time()}
    if new_name is not None and new_name != name:
        taken = conn.execute(
            select(registered_models.c.id).where(registered_models.c.name == new_name)
        ).first()
        if taken is not None:
            raise ConflictError(
                f"a registered model called {new_name!r} already exists; choose another name"
            )
        values["name"] = new_name
    if description is not None:
        values["description"] = description
    conn.execute(update(registered_models).where(registered_models.c.id == key).values(values))
    return load_models(conn, registered_models.c.id == key)[0]


def delete_model(conn: Connection, name: str) -> list[ModelVersionInfo]:
    """Delete the model and every version; the deleted versions (for their files)."""
    key = model_key(conn, name)
    gone = load_versions(conn, None, model_versions.c.model_id == key)
    for table in (model_aliases, model_version_properties, model_version_tags, model_versions,
                  registered_model_tags):
        conn.execute(delete(table).where(table.c.model_id == key))
    conn.execute(delete(registered_models).where(registered_models.c.id == key))
    return gone


def update_version(conn: Connection, name: str, version: int, *, description: str | None,
                   stage: str | None) -> ModelVersionInfo:
    key = version_key(conn, name, version)
    values: dict[str, Any] = {}
    if description is not None:
        values["description"] = description
    if stage is not None:
        values["stage"] = stage
    if values:
        conn.execute(update(model_versions).where(
            model_versions.c.model_id == key, model_versions.c.version == version
        ).values(values))
        touch(conn, key, version)
    return load_versions(conn, [(key, version)])[0]


def delete_version(conn: Connection, name: str, version: int) -> ModelVersionInfo:
    key = version_key(conn, name, version)
    gone = load_versions(conn, [(key, version)])[0]
    for table in (model_aliases, model_version_properties, model_version_tags, model_versions):
        conn.execute(delete(table).where(table.c.model_id == key, table.c.version == version))
    touch(conn, key)
    return gone


def set_tags(conn: Connection, name: str, tags: dict[str, str | None],
             version: int | None) -> None:
    if version is None:
        key = model_key(conn, name)
        conn.execute(delete(registered_model_tags).where(
            registered_model_tags.c.model_id == key,
            registered_model_tags.c.key.in_(list(tags)),
        ))
        conn.execute(insert(registered_model_tags),
                     [{"model_id": key, "key": k, "value": v} for k, v in tags.items()])
    else:
        key = version_key(conn, name, version)
        conn.execute(delete(model_version_tags).where(
            model_version_tags.c.model_id == key, model_version_tags.c.version == version,
            model_version_tags.c.key.in_(list(tags)),
        ))
        conn.execute(insert(model_version_tags), [
            {"model_id": key, "version": version, "key": k, "value": v} for k, v in tags.items()
        ])
    touch(conn, key, version)


def remove_tags(conn: Connection, name: str, keys: Sequence[str], version: int | None) -> None:
    if version is None:
        key = model_key(conn, name)
        conn.execute(delete(registered_model_tags).where(
            registered_model_tags.c.model_id == key, registered_model_tags.c.key.in_(list(keys))
        ))
    else:
        key = version_key(conn, name, version)
        conn.execute(delete(model_version_tags).where(
            model_version_tags.c.model_id == key, model_version_tags.c.version == version,
            model_version_tags.c.key.in_(list(keys)),
        ))
    touch(conn, key, version)


def add_properties(conn: Connection, name: str, version: int,
                   properties: dict[str, str]) -> None:
    key = version_key(conn, name, version)
    existing: dict[str, str] = {
        k: v for k, v in conn.execute(
            select(model_version_properties.c.key, model_version_properties.c.value).where(
                model_version_properties.c.model_id == key,
                model_version_properties.c.version == version,
            )
        ).tuples()
    }
    for k, v in properties.items():
        if k in existing and existing[k] != v:
            raise PropertyConflictError(
                f"model {name!r} version {version} already has property {k!r}="
                f"{existing[k]!r}; properties cannot change (tried {v!r}); use a tag"
            )
    new = {k: v for k, v in properties.items() if k not in existing}
    if new:
        conn.execute(insert(model_version_properties), [
            {"model_id": key, "version": version, "key": k, "value": v} for k, v in new.items()
        ])
        touch(conn, key, version)


def set_alias(conn: Connection, name: str, alias: str, version: int) -> None:
    key = version_key(conn, name, version)
    conn.execute(delete(model_aliases).where(model_aliases.c.model_id == key,
                                             model_aliases.c.alias == alias))
    conn.execute(insert(model_aliases).values(model_id=key, alias=alias, version=version))
    touch(conn, key)


def delete_alias(conn: Connection, name: str, alias: str) -> None:
    key = model_key(conn, name)
    gone = conn.execute(delete(model_aliases).where(model_aliases.c.model_id == key,
                                                    model_aliases.c.alias == alias))
    if not gone.rowcount:
        raise NotFoundError(f"model {name!r} has no alias {alias!r}")
    touch(conn, key)
