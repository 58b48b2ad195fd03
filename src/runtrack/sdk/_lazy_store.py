"""A store opened on its first use.

A submitted script's ``Run.get_context()`` gets everything it needs to start logging
from its supervisor (see :mod:`runtrack.runner.runenv`), and logging goes through the
spool, which the supervisor ships: most trial scripts never call the store. Opening it
anyway (SQLAlchemy's import, the engine, a schema check) would cost every run about a
second before its first metric, so such a workspace holds a :class:`LazyStore` that
opens the real store when something first asks it for anything.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class LazyStore:
    """Stands for the object ``opener()`` returns, which it calls on first use."""

    def __init__(self, opener: Callable[[], Any]) -> None:
        self._opener = opener
        self._target: Any = None
        self._lock = threading.Lock()

    @property
    def opened(self) -> bool:
        return self._target is not None

    def _open(self) -> Any:
        if self._target is None:
            with self._lock:
                if self._target is None:
                    self._target = self._opener()
        return self._target

    def __getattr__(self, name: str) -> Any:
        return getattr(self._open(), name)

    def close(self) -> None:
        """Close the store if it was opened (never opens it to close it)."""
        if self._target is not None:
            self._target.close()
