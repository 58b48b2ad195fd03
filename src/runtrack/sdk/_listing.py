"""Bulk reads behind a listing: the v1 loop ``for r in exp.get_runs(): r.get_metrics()``.

``Experiment.get_runs`` hands every run it yields one :class:`RunBatch`. The first
``get_metrics()`` of a run reads every value of the user series of that run and the
next ones of the listing in one store call (``store.readers.listing_values``), up to a
points budget, instead of one read per series per run. Each run's read-ahead is served
once and then dropped, and only while it is current; else ``get_metrics()`` reads the
run afresh as it would outside a listing. Current means: nothing was written to the
store since just before the bulk read (the store's ``listing_watch``: SQLite's commit
counter, no read), or else the run's series have the stamps (name, kind, point count,
last point's time) they had in the bulk read, in the same order (one small read:
``listing_stamps``). Points are append-only, so unchanged stamps mean unchanged points.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from runtrack._rules import SYSTEM_PREFIX
from runtrack.store.base import TrackingStore
from runtrack.store.readers import (
    ListedSeries,
    ListingReader,
    ListingWatch,
    SeriesIndexReader,
    listing_stamps,
    listing_values,
)

#: runs read together at most, and points held at most by one bulk read (a run whose
#: series alone exceed it is read on its own)
RUNS_PER_READ = 200
POINTS_PER_READ = 2_000_000


class RunBatch:
    """The run ids one listing yielded, in order, and the values read ahead for them."""

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
        # run id -> its series, with the watch made just before the bulk read of them
        # (dropped, and so closed, with the last run it serves)
        self._ahead: dict[str, tuple[ListingWatch | None, list[ListedSeries]]] = {}

    def current(self, run_id: str) -> list[ListedSeries] | None:
        """The user series of ``run_id`` with their values in first-logged order, from
        the read-ahead (reading ahead first when the run's turn has come), or None when
        that is not known to be current (or the run is not in this listing, or was
        served already): then read the run as usual."""
        position = self._position.get(run_id)
        if position is None:
            return None
        if run_id not in self._read:
            self._read_ahead(position)
        watch, ahead = self._ahead.pop(run_id, (None, []))
        if not ahead:  # served already, or no series: the usual read (it checks the run)
            return None
        if watch is not None and not watch.changed():  # only a ListingReader's: ordered
            return ahead
        stamps = listing_stamps(self._store, run_id)
        by_name = {series.name: series for series in ahead}
        if len(stamps) != len(ahead) or any(
            (series := by_name.get(stamp[0])) is None or series.stamp != stamp
            for stamp in stamps
        ):
            return None
        return [by_name[stamp[0]] for stamp in stamps]

    def _read_ahead(self, position: int) -> None:
        chosen = [r for r in self._order[position : position + RUNS_PER_READ]
                  if r not in self._read]
        points, end = 0, 0
        for run_id in chosen:
            points += self._points[run_id]
            if end and points > POINTS_PER_READ:
                break
            end += 1
        chosen = chosen[:end]
        names = sorted({n for run_id in chosen for n in self._names[run_id]})
        # the watch first: a write during the read then counts as a change
        store = self._store
        watch = store.listing_watch() if isinstance(store, ListingReader) else None
        for run_id in chosen:
            self._ahead[run_id] = (watch, [])
        for series in listing_values(self._store, chosen, names):
            self._ahead[series.run_id][1].append(series)
        self._read.update(chosen)


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
