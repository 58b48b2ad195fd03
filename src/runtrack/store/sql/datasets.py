"""Datasets and run inputs on SQL. Every function takes the caller's connection.

Dataset versions come from ``datasets.next_version`` (bumped by a row-locking UPDATE),
as model versions do. Run inputs are rows per run, unique by (name, digest, context):
logging the same input again is a no-op.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from runtrack.catalog import DatasetInfo, RunInputInfo
from runtrack.errors import ConflictError, NotFoundError
from runtrack.store.sql.dialects import Dialect
from runtrack.store.sql.schema import dataset_versions, datasets, run_inputs

_SHOWN = 10


def _names_hint(conn: Connection) -> str:
    names = list(conn.execute(
        select(datasets.c.name).order_by(datasets.c.name).limit(_SHOWN + 1)).scalars())
    if not names:
        return "no dataset is registered yet"
    more = ", …" if len(names) > _SHOWN else ""
    return "registered datasets: " + ", ".join(repr(n) for n in names[:_SHOWN]) + more


def _key(conn: Connection, name: str) -> int:
    key = conn.execute(select(datasets.c.id).where(datasets.c.name == name)).scalar()
    if key is None:
        raise NotFoundError(f"no registered dataset called {name!r}; {_names_hint(conn)}")
    return int(key)


def _infos(conn: Connection, *where: Any) -> list[DatasetInfo]:
    rows = conn.execute(
        select(dataset_versions, datasets.c.name)
        .join(datasets, datasets.c.id == dataset_versions.c.dataset_id)
        .where(*where).order_by(datasets.c.name, dataset_versions.c.version)
    )
    return [
        DatasetInfo(name=r.name, version=int(r.version), created_time=r.created_time,
                    kind=r.kind, definition=json.loads(r.definition), digest=r.digest,
                    description=r.description, tags=json.loads(r.tags))
        for r in rows
    ]


def register(
    conn: Connection, dialect: Dialect, name: str, *, kind: str, definition: dict[str, Any],
    digest: str, description: str | None, tags: dict[str, str] | None,
    create_new_version: bool,
) -> DatasetInfo:
    now = time.time()
    dialect.insert_ignore(conn, datasets, [{"name": name, "created_time": now,
                                            "next_version": 1}], ["name"])
    key = _key(conn, name)
    if not create_new_version:
        current = _infos(conn, dataset_versions.c.dataset_id == key)
        if current:
            latest = current[-1]
            if latest.digest == digest and latest.kind == kind:
                return latest
            raise ConflictError(
                f"dataset {name!r} exists (version {latest.version}) with another definition; "
                "pass create_new_version=True to register a new version, or use another name"
            )
    conn.execute(update(datasets).where(datasets.c.id == key)
                 .values(next_version=datasets.c.next_version + 1))
    version = conn.execute(
        select(datasets.c.next_version).where(datasets.c.id == key)).scalar_one() - 1
    conn.execute(insert(dataset_versions).values(
        dataset_id=key, version=version, created_time=now, kind=kind,
        definition=json.dumps(definition, sort_keys=True), digest=digest,
        description=description, tags=json.dumps(tags or {}, sort_keys=True),
    ))
    return _infos(conn, dataset_versions.c.dataset_id == key,
                  dataset_versions.c.version == version)[0]


def get(conn: Connection, name: str, version: int | None) -> DatasetInfo:
    key = _key(conn, name)
    found = _infos(conn, dataset_versions.c.dataset_id == key)
    if version is None and found:
        return found[-1]
    for info in found:
        if info.version == version:
            return info
    have = ", ".join(str(i.version) for i in found) or "none"
    raise NotFoundError(f"dataset {name!r} has no version {version!r}; its versions are: {have}")


def list_versions(conn: Connection, name: str | None) -> list[DatasetInfo]:
    if name is None:
        return _infos(conn)
    return _infos(conn, dataset_versions.c.dataset_id == _key(conn, name))


def log_inputs(conn: Connection, run_id: str, inputs: Sequence[RunInputInfo]) -> None:
    present = {
        (r.name, r.digest, r.context)
        for r in conn.execute(select(run_inputs.c.name, run_inputs.c.digest, run_inputs.c.context)
                              .where(run_inputs.c.run_id == run_id))
    }
    position = conn.execute(
        select(func.coalesce(func.max(run_inputs.c.position), -1))
        .where(run_inputs.c.run_id == run_id)
    ).scalar_one()
    rows = []
    for item in inputs:
        ident = (item.name, item.digest, item.context)
        if ident in present:
            continue
        present.add(ident)
        position += 1
        rows.append({
            "run_id": run_id, "position": position, "name": item.name, "digest": item.digest,
            "context": item.context, "dataset_name": item.dataset_name,
            "dataset_version": item.dataset_version, "source_type": item.source_type,
            "source": item.source, "schema": item.schema, "profile": item.profile,
            "tags": json.dumps(item.tags, sort_keys=True),
        })
    if rows:
        conn.execute(insert(run_inputs), rows)


def read_inputs(conn: Connection, run_ids: Sequence[str]) -> dict[str, list[RunInputInfo]]:
    out: dict[str, list[RunInputInfo]] = {r: [] for r in run_ids}
    if not run_ids:
        return out
    rows = conn.execute(select(run_inputs).where(run_inputs.c.run_id.in_(list(run_ids)))
                        .order_by(run_inputs.c.run_id, run_inputs.c.position))
    for r in rows:
        out[r.run_id].append(RunInputInfo(
            name=r.name, digest=r.digest, dataset_name=r.dataset_name,
            dataset_version=r.dataset_version, source_type=r.source_type, source=r.source,
            schema=r.schema, profile=r.profile, context=r.context, tags=json.loads(r.tags),
        ))
    return out
