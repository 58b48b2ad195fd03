"""Plain values of log search: what ``search_logs`` looks for and what it finds (the
/api/v1 wire format, as in :mod:`runtrack.model`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from runtrack.model import RunStatus
from runtrack.types import JSONDict


@dataclass(frozen=True)
class LogQuery:
    """What ``search_logs`` (an optional store extension) looks for.

    ``text`` matches log lines holding its words in that order (case-insensitive,
    punctuation ignored); ``since`` is a unix time (runs created at or after it);
    ``context`` lines before and after each hit are returned with it.
    """

    text: str
    experiment_ids: list[str] | None = None
    status: list[RunStatus] | None = None
    since: float | None = None
    run_id: str | None = None
    limit: int = 50
    context: int = 2

    def to_json(self) -> JSONDict:
        data: JSONDict = asdict(self)
        data["status"] = None if self.status is None else [s.value for s in self.status]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LogQuery:
        values = dict(data)
        if values.get("status") is not None:
            values["status"] = [RunStatus(s) for s in values["status"]]
        return cls(**values)


@dataclass(frozen=True)
class LogHit:
    """One matching log line: its run, file, 1-based line number and context."""

    run_id: str
    run_number: int
    display_name: str
    experiment_id: str
    experiment_name: str
    status: RunStatus
    created_time: float
    path: str
    line_no: int
    line: str
    before: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)

    def to_json(self) -> JSONDict:
        data: JSONDict = asdict(self)
        data["status"] = self.status.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LogHit:
        values = dict(data)
        values["status"] = RunStatus(values["status"])
        return cls(**values)


_SINCE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(text: str, now: float) -> float:
    """``7d``/``12h``/``30m``/``45s``/``2w`` before ``now``, or an ISO date/time (UTC when
    it has no zone), as a unix time. ValueError saying what is accepted otherwise."""
    import datetime as dt

    raw = text.strip()
    unit = raw[-1:].lower()
    if unit in _SINCE_UNITS and raw[:-1].replace(".", "", 1).isdigit():
        return now - float(raw[:-1]) * _SINCE_UNITS[unit]
    try:
        when = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(
            f"since {text!r} is not understood: give an age such as 7d, 12h, 30m, 45s, 2w, "
            "or a date such as 2024-05-01 (or 2024-05-01T13:00)"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.timestamp()
