"""Wait for a submitted run's supervisor process to exit: it stays after the run ended
until the run's log lines are in the search index (see runtrack.runner.logindex)."""

from __future__ import annotations

import json
import os
import time
from typing import Any

from runtrack.runner.spec import SUPERVISOR_PROPERTY


def wait_supervisor_exit(run: Any, timeout: float = 120.0) -> None:
    """Return once the supervisor of ``run`` (a submitted Run) is gone."""
    pid = int(json.loads(run.get_properties()[SUPERVISOR_PROPERTY])["pid"])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError(f"the supervisor of run {run.id} (pid {pid}) is still running")
