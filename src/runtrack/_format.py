"""The one rendering of durations, times and numbers: notebook HTML, pages, CLI, runs table.

The pages' JavaScript (``server/pages/static/js/common.js``: ``formatDuration``,
``formatNumber``) follows the same rules; ``tests/test_format.py`` runs both over the same
inputs. (Values exactly halfway between two roundings may differ: Python rounds them to
even, JavaScript away from zero.)
"""

from __future__ import annotations

import datetime as dt
import math
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


def format_number(value: object, empty: str = "—") -> str:
    """A metric value or count, short and the same everywhere.

    ``empty`` for None; ``True``/``False``; ``nan``, ``inf``, ``-inf``; ``0`` for either
    zero. Whole numbers below 1e15 in full with thousands separators (``1,234,567``;
    ``3.0`` is ``3``, as JavaScript sees it); other numbers from 0.001 to 1e15 with 4
    significant digits (``0.1235``, ``3.142``, ``512.5``), at least to the unit
    (``12,346``); the rest in exponent form with 4 significant digits (``1.5e-5``,
    ``9.223e18``). Anything else as ``str()``.
    """
    if value is None:
        return empty
    if value is True or value is False:
        return str(value)
    if not isinstance(value, (int, float)):
        return str(value)
    try:
        number = float(value)
    except OverflowError:  # an int beyond float range
        return str(value)
    if number != number:
        return "nan"
    if number in (math.inf, -math.inf):
        return "inf" if number > 0 else "-inf"
    if number == 0:
        return "0"
    size = abs(number)
    if size >= 1e15 or size < 1e-3:
        mantissa, _, exponent = f"{number:.3e}".partition("e")
        if "." in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}e{int(exponent)}"
    if number.is_integer() or size >= 1000:
        return _grouped(f"{number:.0f}")
    return _grouped(f"{number:.4g}")


def _grouped(text: str) -> str:
    """``text`` (a plain decimal) with commas between the thousands of its whole part."""
    sign = "-" if text.startswith("-") else ""
    whole, dot, fraction = text.removeprefix("-").partition(".")
    return f"{sign}{int(whole):,}{dot}{fraction}"
