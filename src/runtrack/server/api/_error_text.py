"""A run's error as one short line (the runs table's "error" column, the Failures page)."""

from __future__ import annotations

import re

from runtrack.model import RunInfo

_FAILED_WITH = re.compile(r"^User program(?: \(rank \d+\))? failed with [\w.]+: ?")


def exception_message(message: str) -> str:
    """``User program failed with ValueError: bad`` → ``bad`` (other messages as they are)."""
    return _FAILED_WITH.sub("", message)


def error_text(run: RunInfo) -> str | None:
    """``Type: first line of the message`` (or the code), at most 300 characters."""
    if run.error is None:
        return None
    first = exception_message(run.error.message).strip().splitlines()
    kind = run.error.type or run.error.code
    return f"{kind}: {first[0]}"[:300] if first else kind
