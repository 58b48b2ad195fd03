"""``SqlStore``'s named compute targets (the ``compute_targets`` table)."""

from __future__ import annotations

import time

from sqlalchemy import delete, insert, select

from runtrack.catalog import (
    LOCAL_COMPUTE,
    ComputeTargetInfo,
    check_compute_target,
)
from runtrack.errors import ConflictError, InvalidValueError, NotFoundError
from runtrack.store.sql._connected import Connected
from runtrack.store.sql.schema import compute_targets


class ComputeMethods(Connected):
    """The compute-target part of :class:`~runtrack.store.sql.SqlStore`."""

    def add_compute_target(
        self, name: str, kind: str, address: str | None = None
    ) -> ComputeTargetInfo:
        check_compute_target(name, kind, address)
        info = ComputeTargetInfo(name, kind, address or None, time.time())
        with self._write() as conn:
            taken = conn.execute(
                select(compute_targets.c.name).where(compute_targets.c.name == name)
            ).first()
            if taken is not None:
                raise ConflictError(
                    f"compute target {name!r} exists already; remove it first "
                    f"(runtrack compute remove {name}) to change it"
                )
            conn.execute(insert(compute_targets).values(**info.to_json()))
        return info

    def list_compute_targets(self) -> list[ComputeTargetInfo]:
        with self._read() as conn:
            rows = conn.execute(select(compute_targets).order_by(compute_targets.c.name)).all()
        return [ComputeTargetInfo(r.name, r.kind, r.address, r.created_time) for r in rows]

    def remove_compute_target(self, name: str) -> None:
        if name == LOCAL_COMPUTE:
            raise InvalidValueError(f"compute target {LOCAL_COMPUTE!r} always exists")
        with self._write() as conn:
            gone = conn.execute(delete(compute_targets).where(compute_targets.c.name == name))
            if gone.rowcount == 0:
                raise NotFoundError(f"compute target {name!r} does not exist in this workspace")
