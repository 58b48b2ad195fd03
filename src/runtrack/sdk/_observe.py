"""What runs beside an interactive run: the system-metrics sampler and the log indexer.

Submitted runs get both from their supervisor (never from the user's process); an
interactive run gets the sampler, as a daemon thread, from ``start_logging()`` on,
and the log indexer while ``with run:`` copies its output into ``logs/user_log.txt``.
:meth:`RunObservers.stop` stops both and returns the run's error with what the logs
said (see :func:`runtrack.runner.explain.explain`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from runtrack import config
from runtrack.errors import ConfigError
from runtrack.model import ErrorInfo, RunStatus
from runtrack.store.base import ArtifactStore, TrackingStore

if TYPE_CHECKING:  # imported when a run starts: `import runtrack` stays light (no psutil)
    from runtrack.runner.logindex import IndexerThread

log = logging.getLogger("runtrack")


class RunObservers:
    """The sampler and (once :meth:`watch_logs` is called) the log indexer of one run."""

    def __init__(self, store: TrackingStore, artifacts: ArtifactStore, run_id: str) -> None:
        self._store = store
        self._artifacts = artifacts
        self._run_id = run_id
        self._indexer: IndexerThread | None = None
        try:
            interval = config.system_metrics_interval()
        except ConfigError as exc:  # never stop the user's run over its monitoring
            log.warning("runtrack: system metrics off: %s", exc)
            interval = None
        from runtrack.runner import sysmetrics

        self._sampler = sysmetrics.start(store, run_id, sysmetrics.this_process, interval)

    def watch_logs(self) -> None:
        if self._indexer is None:
            from runtrack.runner.logindex import IndexerThread, LogIndexer

            self._indexer = IndexerThread(LogIndexer(self._store, self._artifacts, self._run_id))
            self._indexer.start()

    def stop(
        self,
        status: RunStatus,
        error: ErrorInfo | None,
        sink: Callable[[dict[str, float]], None] | None = None,
    ) -> ErrorInfo | None:
        """Stop both; ``sink`` takes the sampler's last sample (see
        :meth:`runtrack.runner.sysmetrics.SystemSampler.stop`)."""
        if self._sampler is not None:
            self._sampler.stop(sink)
            self._sampler = None
        if self._indexer is None:
            return error
        from runtrack.runner.explain import explain

        indexer, self._indexer = self._indexer.stop(), None
        return explain(status, error, indexer.tracebacks())
