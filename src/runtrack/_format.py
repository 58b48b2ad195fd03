"""The one rendering of durations and times: notebook HTML, pages, CLI, runs table.

The pages' JavaScript (``server/pages/static/js/common.js``: ``formatDuration``)
follows the same rules; ``tests/test_format.py`` runs both over the same inputs.
"""

from __future__ import annotations

import datetime as dt
import time

from runtrack.model import RunInfo


def run_seconds(info: RunInfo, now: float | None = None) -> float | None:
    """Seconds the run has been (or was) running; None before it started. A run that
    is not finished counts up to ``now`` (default: the clock)."""
    if info.start_time is None:
        return None
    end = info.end_time if info.status.is_terminal and info.end_time else None
    return max(0.0, (end if end is not None else (now or time.time())) - info.start_time)


def duration_text(seconds: float | None, empty: str = "—") -> str:
    """``850 ms``, ``4.2 s``, ``42 s``, ``3m 07s``, ``2h 05m``, ``3d 4h``; ``empty`` for None."""
    if seconds is None:
        return empty
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        short = f"{seconds:.0f}" if seconds >= 10 else f"{seconds:.1f}".removesuffix(".0")
        return f"{short} s"
    s = int(seconds)
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"


def time_text(ts: float | None, empty: str = "—") -> str:
    """Local time, ``YYYY-MM-DD HH:MM:SS``; ``empty`` for None (or 0)."""
    if not ts:
        return empty
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")
