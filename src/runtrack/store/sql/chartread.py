"""``SqlStore``'s bulk downsample: the traces of a compare chart in one read.

``downsample_many`` finds the series of all (run, metric) pairs with one query, then
reads the chunk metadata of all of them with one more and the chunks that must be
unpacked with one more (per batch of series; :func:`runtrack.store.sql.points.
downsample_many`), where one ``downsample`` per pair costs a transaction and three
queries each.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, tuple_

from runtrack.model import Bucket
from runtrack.store.sql import points
from runtrack.store.sql._connected import Connected
from runtrack.store.sql.ingest import in_batches
from runtrack.store.sql.schema import series


class ChartReadMethods(Connected):
    """The bulk downsample part of :class:`~runtrack.store.sql.SqlStore`."""

    def downsample_many(
        self,
        pairs: Sequence[tuple[str, str]],
        buckets: int,
        *,
        x: str = "index",
        x_min: float | None = None,
        x_max: float | None = None,
    ) -> dict[tuple[str, str], list[Bucket]]:
        """Optional (``store.readers.BulkDownsampler``): ``downsample`` of each (run id,
        metric name) pair; pairs that do not exist are left out."""
        wanted = list(dict.fromkeys(pairs))
        with self._read() as conn:
            ids: dict[int, tuple[str, str]] = {}
            for part in in_batches(wanted):
                statement = select(series.c.id, series.c.run_id, series.c.name).where(
                    tuple_(series.c.run_id, series.c.name).in_(part))
                ids.update({row.id: (row.run_id, row.name) for row in conn.execute(statement)})
            found = points.downsample_many(conn, list(ids), buckets, x, x_min, x_max)
        return {ids[sid]: buckets_ for sid, buckets_ in found.items()}
