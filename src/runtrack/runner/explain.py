"""Add what the logs say to a run's error: first/last traceback, failing rank, a hint.

:func:`explain` takes the error :mod:`runtrack.runner.outcome` decided (or None) and
the traceback scanners of the run's log files (:class:`~runtrack.runner.logindex.LogIndexer`)
and returns the error to record:

* a failed run keeps its code and message; it gains ``first_traceback`` (when the
  logs held an earlier, different one), ``rank`` and ``hint``;
* a run that ends well but printed a traceback and kept going gets an error with
  code ``TracebackInLog`` (its status stays Completed), so the runs table, the
  Failures page and ``get_details()['error']`` show it.
"""

from __future__ import annotations

from dataclasses import replace

from runtrack import limits
from runtrack.model import ErrorInfo, RunStatus
from runtrack.runner.logscan import TracebackScanner, hint_for

TRACEBACK_IN_LOG = "TracebackInLog"


def explain(
    status: RunStatus,
    error: ErrorInfo | None,
    scanners: list[TracebackScanner],
    ranks: dict[str, int] | None = None,
) -> ErrorInfo | None:
    """The error to record for a run that ended with ``status`` (see the module doc)."""
    ranks = ranks or {}
    if status is RunStatus.CANCELED:
        return error
    if error is None:
        if status is not RunStatus.COMPLETED or not scanners:
            return None
        first = min((s.first for s in scanners if s.first), key=lambda t: t.line)
        last = scanners[-1].last
        assert last is not None
        count = sum(s.count for s in scanners)
        text = (
            f"The run completed but printed {count} traceback(s); the last: "
            f"{last.exc_type}: {last.message}"
        ).rstrip(": ")
        return ErrorInfo(
            TRACEBACK_IN_LOG,
            text[: limits.MAX_ERROR_MESSAGE_LENGTH],
            type=last.exc_type,
            traceback=last.text,
            first_traceback=first.text if first is not last else None,
            rank=ranks.get(last.path),
            hint=hint_for(last.text, None),
        )
    mine = [s for s in scanners if error.rank is None or ranks.get(s.path) == error.rank]
    first_tb = next((s.first for s in mine if s.first is not None), None)
    rank = error.rank
    if rank is None and len(mine) == 1:
        rank = ranks.get(mine[0].path)
    traceback = error.traceback
    type_ = error.type
    if traceback is None and mine and mine[-1].last is not None:
        traceback, type_ = mine[-1].last.text, type_ or mine[-1].last.exc_type
    first_text = first_tb.text if first_tb is not None else None
    if first_text is not None and traceback is not None and first_text.strip() in traceback:
        first_text = None  # the only traceback is the one already recorded
    evidence = "\n".join([error.message, traceback or ""])
    return replace(
        error,
        type=type_,
        traceback=traceback,
        rank=rank,
        first_traceback=first_text,
        hint=error.hint or hint_for(evidence, error.exit_code),
    )
