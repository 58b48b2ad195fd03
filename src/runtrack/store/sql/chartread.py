"""``SqlStore``'s bulk downsample: the traces of a compare chart in one read.

``downsample_many`` finds the series of all (run, metric) pairs with one query, then
reads the chunk metadata of all of them with one more and the chunks that must be
unpacked with one more (per batch of series; :func:`runtrack.store.sql.points.
downsample_many`), where one ``downsample`` per pair costs a transaction and three
queries each. ``downsample_columns`` is the same read answered as columns (numpy),
what the chart route uses when numpy is installed.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, select, tuple_

from runtrack.model import Bucket
from runtrack.store.bucket_columns import BucketColumns
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
        with self._read() as conn:
            ids = self._series_ids(conn, pairs)
            found = points.downsample_many(conn, list(ids), buckets, x, x_min, x_max)
        return {ids[sid]: buckets_ for sid, buckets_ in found.items()}

    @staticmethod
    def _series_ids(
        conn: Connection, pairs: Sequence[tuple[str, str]]
    ) -> dict[int, tuple[str, str]]:
        """The series id of each (run id, metric name) pair that exists."""
        ids: dict[int, tuple[str, str]] = {}
        for part in in_batches(list(dict.fromkeys(pairs))):
            statement = select(series.c.id, series.c.run_id, series.c.name).where(
                tuple_(series.c.run_id, series.c.name).in_(part))
            ids.update({row.id: (row.run_id, row.name) for row in conn.execute(statement)})
        return ids

    def downsample_columns(
        self,
        pairs: Sequence[tuple[str, str]],
        buckets: int,
        *,
        x: str = "index",
        x_min: float | None = None,
        x_max: float | None = None,
    ) -> dict[tuple[str, str], BucketColumns]:
        """Optional (``store.bucket_columns.ColumnDownsampler``, needs numpy):
        :meth:`downsample_many` as columns, gathered with array operations."""
        with self._read() as conn:
            ids = self._series_ids(conn, pairs)
            found = points.downsample_columns_many(conn, list(ids), buckets, x, x_min, x_max)
        return {ids[sid]: columns for sid, columns in found.items()}
