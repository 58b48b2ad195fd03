"""runtrack's own Python log of each process of a submitted run.

Inside a submitted run, the ``runtrack`` logger also writes to
``./logs/runtrack/<rank>_<pid>.log`` (shipped live with ``./logs``). The handler has
no level of its own, so it records at the level the script configured (for example
with ``logging.basicConfig(level=logging.DEBUG)``; WARNING by default).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

FOLDER = Path("logs") / "runtrack"
FORMAT = "%(asctime)s|%(name)s|%(levelname)s|%(message)s"


class _ProcessLogHandler(logging.FileHandler):
    pass


def attach_process_log(rank: int) -> None:
    """Add the per-process file handler to the ``runtrack`` logger (once)."""
    logger = logging.getLogger("runtrack")
    if any(isinstance(h, _ProcessLogHandler) for h in logger.handlers):
        return
    try:
        FOLDER.mkdir(parents=True, exist_ok=True)
        handler = _ProcessLogHandler(FOLDER / f"{rank}_{os.getpid()}.log", delay=True)
    except OSError:  # a read-only working folder must not stop the script
        return
    handler.setFormatter(logging.Formatter(FORMAT))
    logger.addHandler(handler)
