"""Optional bulk reads of a :class:`~runtrack.store.base.TrackingStore`: listings and charts.

Each is a small runtime-checkable protocol, found with ``isinstance`` like the other
extensions in :mod:`runtrack.store.base`; a store without them stays complete (the
callers fall back to ``get_summaries`` and ``downsample``):

* :class:`MetricTableReader`, ``read_metric_table(run_ids, names, system=True)``: the
  runs' scalar series summaries as :class:`ScalarSummary` tuples, for
  ``Experiment.search_runs`` and MLflow's ``runs/search`` (``SqlStore`` has it; else
  ``get_summaries`` serves).
* :class:`SeriesIndexReader`, ``read_series_index(run_ids)``: each series' name, kind
  and point count, for ``Experiment.get_runs`` (``SqlStore`` has it; else
  ``get_summaries`` serves).
* :class:`BulkDownsampler`, ``downsample_many(pairs, buckets, x=..., x_min, x_max)``:
  ``downsample`` of many (run, metric) pairs in one read, for compare charts
  (``SqlStore`` has it; else ``downsample`` serves, one pair at a time).
* :class:`TopPointReader`, ``read_top_points(run_ids)``: each scalar series' top point
  (highest step, then time, then value: MLflow's latest value) as :data:`TopPoint`
  tuples, for MLflow's ``runs/search`` (``SqlStore`` has it; else ``get_summaries``
  serves).
* :class:`ListingReader`, ``read_listing_values(run_ids)``, ``read_listing_stamps(run_id)``
  and ``listing_watch()``: every value of the runs' user series as :class:`ListedSeries`
  and the small read that says whether they are still current, for the v1 loop
  ``for r in exp.get_runs(): r.get_metrics()`` (``SqlStore`` has it; else
  ``read_all_series`` and ``list_series`` serve: :func:`listing_values`,
  :func:`listing_stamps`).
* :class:`RunTableReader`, ``read_run_table(query, names, system=False)``: the runs a
  query matches as plain rows of :data:`RUN_TABLE_COLUMNS`, their tags and properties,
  and their scalar metrics' last/min/max, in one read, for ``Experiment.search_runs``
  (``SqlStore`` has it; else ``search_runs`` and :func:`scalar_summaries` serve:
  :func:`run_table`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

from runtrack._rules import SYSTEM_PREFIX
from runtrack.model import CellValue, MetricKind, SeriesInfo

if TYPE_CHECKING:
    from runtrack.model import Bucket, RunQuery
    from runtrack.store.base import TrackingStore


class ScalarSummary(NamedTuple):
    """One scalar series' summary as :class:`MetricTableReader` reads it: the fields of
    :class:`SeriesInfo` that listings show (same names, same values, but ``points``:
    ``SeriesInfo.count``, a name tuples take)."""

    run_id: str
    name: str
    points: int
    last_value: Any
    minimum: float | None
    maximum: float | None
    last: float | None
    last_time: float | None
    last_step: int | None
    top_value: float | None
    top_time: float | None
    top_step: int | None

    @classmethod
    def of(cls, run_id: str, info: SeriesInfo) -> ScalarSummary:
        """The same summary taken from a :class:`SeriesInfo` (stores without
        :class:`MetricTableReader`)."""
        return cls(run_id, info.name, info.count, info.last_value, info.minimum, info.maximum,
                   info.last, info.last_time, info.last_step, info.top_value, info.top_time,
                   info.top_step)


def scalar_summaries(
    store: TrackingStore, run_ids: Sequence[str], names: Sequence[str] | None,
    *, system: bool = True,
) -> list[ScalarSummary]:
    """:meth:`MetricTableReader.read_metric_table` on any store: the store's own when
    it has it, else taken from ``get_summaries``."""
    if isinstance(store, MetricTableReader):
        return store.read_metric_table(run_ids, names, system=system)
    return [
        ScalarSummary.of(run_id, info)
        for run_id, by_name in store.get_summaries(run_ids, names).items()
        for name, info in by_name.items()
        if info.kind is MetricKind.SCALAR
        and (system or names is not None or not name.startswith(SYSTEM_PREFIX))
    ]


@runtime_checkable
class MetricTableReader(Protocol):
    """A store that reads the scalar series summaries of many runs as plain tuples (for
    ``Experiment.search_runs`` and MLflow's ``runs/search``), without a
    :class:`SeriesInfo` per series."""

    def read_metric_table(
        self, run_ids: Sequence[str], names: Sequence[str] | None, *, system: bool = True
    ) -> list[ScalarSummary]:
        """The scalar series of these runs, each run's in first-logged order: only
        ``names`` when given, else all of them (``system=False``: but system metrics,
        ``sys/...``)."""
        ...


@runtime_checkable
class SeriesIndexReader(Protocol):
    """A store that lists the series of many runs by name, kind and point count only
    (what a listing needs to size its bulk reads), without a :class:`SeriesInfo` each."""

    def read_series_index(self, run_ids: Sequence[str]) -> list[tuple[str, str, str, int]]:
        """``(run_id, name, kind value, count)`` of every series of these runs, each
        run's series in first-logged order."""
        ...


@runtime_checkable
class BulkDownsampler(Protocol):
    """A store that downsamples many series in one read (the compare chart's traces)."""

    def downsample_many(
        self,
        pairs: Sequence[tuple[str, str]],
        buckets: int,
        *,
        x: str = "index",
        x_min: float | None = None,
        x_max: float | None = None,
    ) -> dict[tuple[str, str], list[Bucket]]:
        """``downsample`` of each (run id, metric name) pair, by pair; pairs that do not
        exist are left out (no error)."""
        ...


#: ``(run_id, name, value, time, step)``: a scalar series' top point (highest step, then
#: time, then value), as :class:`TopPointReader` reads it
TopPoint = tuple[str, str, float, "float | None", int]


@runtime_checkable
class TopPointReader(Protocol):
    """A store that reads the top point of each scalar series of many runs (MLflow's
    "latest" metric value, what ``runs/search`` lists) in five plain columns."""

    def read_top_points(self, run_ids: Sequence[str]) -> list[TopPoint]:
        """The top point of every scalar series of these runs that holds a number,
        system metrics included, each run's in first-logged order (a series written
        before the store kept top points gives its last point)."""
        ...


class ListedSeries(NamedTuple):
    """One user series of a listed run with every value, as ``get_metrics()`` shows
    them, and the fields that say whether it is still current (:data:`Stamp`;
    ``points``: the series' count, a name tuples take)."""

    run_id: str
    name: str
    kind: str  # a MetricKind value
    points: int
    last_time: float | None
    values: list[CellValue]

    @property
    def stamp(self) -> Stamp:
        return (self.name, self.kind, self.points, self.last_time)


#: ``(name, kind value, count, last_time)`` of a series: points are append-only, so an
#: unchanged stamp means unchanged points
Stamp = tuple[str, str, int, "float | None"]


class ListingWatch(Protocol):
    """Says whether anything may have been written to a store since it was made."""

    def changed(self) -> bool:
        """False only when nothing was written since the watch was made."""
        ...

    def close(self) -> None:
        ...


@runtime_checkable
class ListingReader(Protocol):
    """A store that reads every value of the user series (not ``sys/...``) of many runs
    in few statements, for ``get_metrics()`` on the runs of ``Experiment.get_runs``."""

    def read_listing_values(self, run_ids: Sequence[str]) -> list[ListedSeries]:
        """Every user series of these runs with all its values, each run's in
        first-logged order."""
        ...

    def read_listing_stamps(self, run_id: str) -> list[Stamp]:
        """The stamps of the run's user series now, in first-logged order (a run
        without any, or no such run: [])."""
        ...

    def listing_watch(self) -> ListingWatch | None:
        """A watch made now, or None when the store cannot tell (then every run's
        stamps are read)."""
        ...


def listing_values(
    store: TrackingStore, run_ids: Sequence[str], names: Sequence[str]
) -> list[ListedSeries]:
    """:meth:`ListingReader.read_listing_values` on any store: the store's own when it
    has it (``names`` unused: it reads every user series), else the series ``names``
    through ``read_all_series`` (each run's in the order that returns)."""
    if isinstance(store, ListingReader):
        return store.read_listing_values(run_ids)
    return [
        ListedSeries(run_id, name, data.kind.value, len(data.values),
                     data.times[-1] if data.times else None, data.values)
        for run_id, by_name in store.read_all_series(run_ids, names).items()
        for name, data in by_name.items() if not name.startswith(SYSTEM_PREFIX)
    ]


def listing_stamps(store: TrackingStore, run_id: str) -> list[Stamp]:
    """:meth:`ListingReader.read_listing_stamps` on any store (else from
    ``list_series``)."""
    if isinstance(store, ListingReader):
        return store.read_listing_stamps(run_id)
    return [(info.name, info.kind.value, info.count, info.last_time)
            for info in store.list_series(run_id) if not info.name.startswith(SYSTEM_PREFIX)]


#: the run fields of ``Experiment.search_runs``' table, in its column order (times in
#: unix seconds, ``status`` its value)
RUN_TABLE_COLUMNS = (
    "run_id", "display_name", "number", "status", "run_type", "parent_id",
    "created_time", "start_time", "end_time",
)


class RunTable(NamedTuple):
    """What :class:`RunTableReader` reads: plain tuples, no model value per run."""

    #: one tuple of :data:`RUN_TABLE_COLUMNS` per run, in the query's order
    runs: list[tuple[Any, ...]]
    #: ``(run_id, key, value)`` of the runs' tags, and of their properties, any order
    tags: list[tuple[str, str, str | None]]
    properties: list[tuple[str, str, str]]
    #: ``(run_id, name, last value, minimum, maximum)`` of the runs' scalar series
    cells: list[tuple[str, str, CellValue, float | None, float | None]]


@runtime_checkable
class RunTableReader(Protocol):
    """A store that reads ``Experiment.search_runs``' table in one read."""

    def read_run_table(
        self, query: RunQuery, names: Sequence[str] | None, *, system: bool = False
    ) -> RunTable:
        """The runs ``query`` matches, their tags and properties, and the summaries of
        their scalar series (only ``names`` when given, else all; ``sys/...`` only
        with ``system``)."""
        ...


def run_table(
    store: TrackingStore, query: RunQuery, names: Sequence[str] | None, *,
    system: bool = False,
) -> RunTable:
    """:meth:`RunTableReader.read_run_table` on any store: the store's own when it has
    it, else ``search_runs`` and :func:`scalar_summaries`."""
    if isinstance(store, RunTableReader):
        return store.read_run_table(query, names, system=system)
    found = store.search_runs(query)
    cells = scalar_summaries(store, [r.id for r in found], names, system=system) \
        if found else []
    return RunTable(
        [(r.id, r.display_name, r.number, r.status.value, r.run_type, r.parent_id,
          r.created_time, r.start_time, r.end_time) for r in found],
        [(r.id, key, value) for r in found for key, value in r.tags.items()],
        [(r.id, key, value) for r in found for key, value in r.properties.items()],
        [(c.run_id, c.name, c.last_value, c.minimum, c.maximum) for c in cells],
    )
