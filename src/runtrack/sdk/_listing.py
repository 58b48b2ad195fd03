"""Bulk reads behind a listing: the v1 loop ``for r in exp.get_runs(): r.get_metrics()``.

``Experiment.get_runs`` hands every run it yields one :class:`RunBatch`. The first
``get_metrics()`` of a run reads the points of that run and the next ones of the
listing in one store call (``TrackingStore.read_all_series``), up to a points budget,
instead of one read per series per run. Each prefetched run is served once and then
dropped, and only series that are still current: ``get_metrics()`` always lists the
run's series afresh, and a prefetched series whose count or last point differs from
that listing (the run was logged to since) is read again from the store. Points are
append-only, so an unchanged count and last point mean unchanged points.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from runtrack._rules import SYSTEM_PREFIX
from runtrack.model import SeriesData, SeriesInfo
from runtrack.store.base import TrackingStore
from runtrack.store.readers import SeriesIndexReader

#: runs read together at most, and points held at most by one bulk read (a run whose
#: series alone exceed it is read on its own)
RUNS_PER_READ = 200
POINTS_PER_READ = 2_000_000


class RunBatch:
    """The run ids one listing yielded, in order, and the points read ahead for them."""

    def __init__(
        self, store: TrackingStore, listed: Mapping[str, Mapping[str, tuple[str, int]]]
    ) -> None:
        """``listed``: the listing's run ids, in order, each with its series' kind and
        point count by name as of the listing (:func:`series_index`; they size the bulk
        reads)."""
        self._store = store
        self._order = list(listed)
        self._position = {run_id: i for i, run_id in enumerate(self._order)}
        # system metrics (sys/...) are left to get_system_metrics: get_metrics skips them
        self._names = {run_id: [n for n in by_name if not n.startswith(SYSTEM_PREFIX)]
                       for run_id, by_name in listed.items()}
        self._points = {run_id: sum(count for n, (_, count) in by_name.items()
                                    if not n.startswith(SYSTEM_PREFIX))
                        for run_id, by_name in listed.items()}
        self._read: set[str] = set()  # runs read ahead already (served or not)
        self._ahead: dict[str, dict[str, SeriesData]] = {}

    def current_series(self, run_id: str, infos: Sequence[SeriesInfo]) -> dict[str, SeriesData]:
        """The read-ahead points of ``run_id`` that ``infos`` (its series, listed just
        now) show to be current; reads ahead first when the run's turn has come. The
        run's entry is dropped: a second call for it returns {}."""
        position = self._position.get(run_id)
        if position is None:
            return {}
        if run_id not in self._read:
            self._read_ahead(position)
        ahead = self._ahead.pop(run_id, {})
        return {
            info.name: data for info in infos
            if (data := ahead.get(info.name)) is not None and _current(data, info)
        }

    def _read_ahead(self, position: int) -> None:
        chosen = [r for r in self._order[position : position + RUNS_PER_READ]
                  if r not in self._read]
        points, end = 0, 0
        for run_id in chosen:
            points += self._points[run_id]
            if end and points > POINTS_PER_READ:
                break
            end += 1
        names = sorted({n for run_id in chosen[:end] for n in self._names[run_id]})
        self._ahead.update(self._store.read_all_series(chosen[:end], names))
        self._read.update(chosen[:end])


def series_index(
    store: TrackingStore, run_ids: Sequence[str]
) -> dict[str, dict[str, tuple[str, int]]]:
    """Each run's series as ``{name: (kind value, count)}`` in first-logged order: one
    narrow store read where the store has it (``store.readers.SeriesIndexReader``), else
    the series summaries."""
    index: dict[str, dict[str, tuple[str, int]]] = {run_id: {} for run_id in run_ids}
    if isinstance(store, SeriesIndexReader):
        for run_id, name, kind, count in store.read_series_index(run_ids):
            index[run_id][name] = (kind, count)
        return index
    for run_id, by_name in store.get_summaries(run_ids).items():
        index[run_id] = {name: (s.kind.value, s.count) for name, s in by_name.items()}
    return index


def _current(data: SeriesData, info: SeriesInfo) -> bool:
    if data.kind is not info.kind or len(data.values) != info.count:
        return False
    return (data.times[-1] if data.times else None) == info.last_time
