"""Exit codes, tracebacks and signals become statuses and errors."""

from __future__ import annotations

import signal

from runtrack.model import RunStatus
from runtrack.runner.outcome import ProcessEnd, decide, parse_traceback

TB = """some output
Traceback (most recent call last):
  File "train.py", line 3, in <module>
    main()
  File "train.py", line 2, in main
    raise KeyError("missing column")
    ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
KeyError: 'missing column'
"""


def test_parse_traceback_takes_the_last_one() -> None:
    exc_type, message, tb = parse_traceback("Traceback (most recent call last):\nOld: x\n" + TB)
    assert (exc_type, message) == ("KeyError", "'missing column'")
    assert tb.startswith("Traceback") and tb.endswith("KeyError: 'missing column'")
    assert parse_traceback("no traceback here") is None


def test_dotted_exception_types_and_bare_ones() -> None:
    text = "Traceback (most recent call last):\n  File 'x'\nmylib.errors.BadThing: oops\n"
    assert parse_traceback(text)[:2] == ("BadThing", "oops")
    bare = "Traceback (most recent call last):\n  File 'x'\nKeyboardInterrupt\n"
    assert parse_traceback(bare)[:2] == ("KeyboardInterrupt", "")


def test_decide() -> None:
    assert decide([ProcessEnd(0, 0, "")], canceled=False) == (RunStatus.COMPLETED, None)
    status, error = decide([ProcessEnd(0, 1, TB)], canceled=False)
    assert status is RunStatus.FAILED and error is not None
    assert error.message == "User program failed with KeyError: 'missing column'"
    status, error = decide([ProcessEnd(0, -signal.SIGSEGV, "")], canceled=False)
    assert error is not None and "SIGSEGV" in error.message
    status, error = decide([ProcessEnd(0, -15, "", stopped_by_us=True)], canceled=True)
    assert status is RunStatus.CANCELED and error is not None and error.code == "Canceled"
    status, error = decide([ProcessEnd(0, -15, "", True)], canceled=False, timed_out=5)
    assert status is RunStatus.CANCELED and error is not None
    assert error.code == "MaxRunDurationExceeded" and "5" in error.message
    ends = [ProcessEnd(0, -15, "", True), ProcessEnd(1, 2, "usage"), ProcessEnd(2, -15, "", True)]
    status, error = decide(ends, canceled=False, world_size=3)
    assert error is not None and error.message == "User program (rank 1) exited with code 2"
