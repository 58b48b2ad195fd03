"""Turn how the processes of a run ended into its final status and error.

Rules (first match wins):

* the run was cancelled → Canceled (error code ``Canceled``, or
  ``MaxRunDurationExceeded`` when the time limit ended it); whoever asked for the
  cancel may give the error instead (property ``runtrack.cancel_error``, see
  :func:`requested_cancel_error`);
* every process exited 0 → Completed;
* otherwise the first process to fail decides: a Python traceback in its output →
  ``User program failed with <Type>: <message>`` with the traceback tail; death by a
  signal → ``User program was killed by signal SIGKILL (9)``; another exit code →
  ``User program exited with code N``. Processes stopped because another one failed
  are reported as Terminated in ``process_status.json`` and do not decide.
"""

from __future__ import annotations

import re
import signal
from dataclasses import dataclass

from runtrack import limits
from runtrack.model import ErrorInfo, RunInfo, RunStatus
from runtrack.runner.spec import CANCEL_ERROR_PROPERTY, json_property

TRACEBACK_HEAD = "Traceback (most recent call last):"
TAIL_LINES = 40
_EXC_LINE = re.compile(r"^([A-Za-z_][\w.]*)(?::\s?(.*))?$")


@dataclass(frozen=True)
class ProcessEnd:
    """How one process ended: its rank, exit code (negative = signal) and output tail."""

    rank: int
    returncode: int
    tail: str
    stopped_by_us: bool = False


def signal_name(returncode: int) -> str:
    number = -returncode
    try:
        return f"{signal.Signals(number).name} ({number})"
    except ValueError:
        return f"signal {number}"


def parse_traceback(tail: str) -> tuple[str, str, str] | None:
    """(exception type, message, traceback tail) of the last traceback in ``tail``."""
    start = tail.rfind(TRACEBACK_HEAD)
    if start < 0:
        return None
    lines = tail[start:].splitlines()
    exc_type, message, end = None, "", len(lines)
    for i in range(1, len(lines)):
        line = lines[i]
        if not line or line[0].isspace():
            continue
        match = _EXC_LINE.match(line)
        if match:
            exc_type, message, end = match.group(1), match.group(2) or "", i + 1
            break
    if exc_type is None:
        return None
    text = "\n".join(lines[:end][-TAIL_LINES:])
    return exc_type.rsplit(".", 1)[-1] if "." in exc_type else exc_type, message, text


def decide(
    ends: list[ProcessEnd],
    *,
    canceled: bool,
    timed_out: float | None = None,
    world_size: int = 1,
) -> tuple[RunStatus, ErrorInfo | None]:
    """The run's final status and error from its processes' ends (see module doc)."""
    if timed_out is not None:
        return RunStatus.CANCELED, ErrorInfo(
            "MaxRunDurationExceeded",
            f"the run exceeded max_run_duration_seconds={timed_out:g} and was canceled",
        )
    if canceled:
        return RunStatus.CANCELED, ErrorInfo("Canceled", "the run was canceled by request")
    failed = [e for e in ends if e.returncode != 0 and not e.stopped_by_us]
    if not failed:
        if any(e.returncode != 0 for e in ends):
            return RunStatus.FAILED, ErrorInfo(
                "Terminated", "processes of the run were stopped before they finished"
            )
        return RunStatus.COMPLETED, None
    first = failed[0]
    where = f" (rank {first.rank})" if world_size > 1 else ""
    rank = first.rank if world_size > 1 else None
    if first.returncode < 0:
        return RunStatus.FAILED, ErrorInfo(
            "UserError",
            f"User program{where} was killed by signal {signal_name(first.returncode)}",
            type="Signal",
            traceback=_tail(first.tail) or None,
            exit_code=first.returncode,
            rank=rank,
        )
    parsed = parse_traceback(first.tail)
    if parsed is not None:
        exc_type, message, tb = parsed
        text = f"User program{where} failed with {exc_type}: {message}".rstrip(": ")
        return RunStatus.FAILED, ErrorInfo(
            "UserError",
            text[: limits.MAX_ERROR_MESSAGE_LENGTH],
            type=exc_type,
            traceback=tb[-limits.MAX_ERROR_MESSAGE_LENGTH :],
            exit_code=first.returncode,
            rank=rank,
        )
    return RunStatus.FAILED, ErrorInfo(
        "UserError",
        f"User program{where} exited with code {first.returncode}",
        traceback=_tail(first.tail) or None,
        exit_code=first.returncode,
        rank=rank,
    )


def requested_cancel_error(info: RunInfo) -> ErrorInfo | None:
    """The error that whoever canceled ``info``'s run gave for it (None if none, or if
    the property does not hold an error object)."""
    data = json_property(info.properties, CANCEL_ERROR_PROPERTY)
    if data is None or not data.get("message"):
        return None
    return ErrorInfo.from_json(data)


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])
