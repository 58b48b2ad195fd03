"""What a finished run leaves for its process's next run in the same spool folder to take
instead of making anew: at most one of each kind per process, under a name that starts
with ``.spare-`` (which recovery skips). ``owner.py`` keeps a run's lock file this way,
``spare.py`` a run's spool folder.

:class:`Spares` is the bookkeeping both share: one held item per process (a newer
folder's replaces an older one's), removed at exit, after which none is kept (a spool
closed by the exit's own drain removes its files instead of leaving a spare nobody
removes); the first keep in a folder sweeps the spares of processes that are gone;
a forked child forgets its parent's.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

SPARE_PREFIX = ".spare-"

T = TypeVar("T")


class Spares(Generic[T]):
    """One held ``(spool folder, path, item)``. ``remove(path, item)`` removes a spare
    and frees its item, ``close(item)`` only frees it (a forked child's copy), and
    ``sweep(folder)`` removes the spares of dead processes in a folder."""

    def __init__(
        self,
        remove: Callable[[str, T], None],
        close: Callable[[T], None],
        sweep: Callable[[str], None],
    ) -> None:
        self._remove, self._close, self._sweep = remove, close, sweep
        self._guard = threading.Lock()
        self._held: tuple[str, str, T] | None = None
        self._swept: set[str] = set()
        self._exit_hooked = False
        self._dropped = False  # set at exit: nothing is kept after
        os.register_at_fork(after_in_child=self.forget)

    def take(self, spool_dir: str) -> tuple[str, T] | None:
        """The spare of ``spool_dir`` (its path and item), now the caller's; None when
        this process holds none there."""
        with self._guard:
            held = self._held
            if held is None or held[0] != spool_dir:
                return None
            self._held = None
        return held[1], held[2]

    def keep(self, spool_dir: str, path: str, item: T, move: Callable[[], bool]) -> bool:
        """Hold ``item`` as the spare of ``spool_dir`` once ``move()`` (called under the
        lock) has put it at ``path``; False, with ``move`` not called, when a spare of
        ``spool_dir`` is held already or the process is exiting, and when ``move()``
        returns False."""
        with self._guard:
            old = self._held
            if self._dropped or (old is not None and old[0] == spool_dir) or not move():
                return False
            self._held = (spool_dir, path, item)
            first = spool_dir not in self._swept
            self._swept.add(spool_dir)
            if not self._exit_hooked:
                self._exit_hooked = True
                atexit.register(self.drop)
        if old is not None:  # another folder's: one is enough
            self._remove(old[1], old[2])
        if first:
            self._sweep(spool_dir)
        return True

    def drop(self, *, exiting: bool = True) -> None:
        """Remove the spare (at exit, after which none is kept; a killed process's is
        swept by the next one)."""
        with self._guard:
            held, self._held = self._held, None
            self._dropped = exiting
        if held is not None:
            self._remove(held[1], held[2])

    def forget(self) -> None:
        """In a forked child: the parent's spare is not this process's (the child's
        copy of it is freed, so a run the parent starts later is not held by the child)."""
        held, self._held = self._held, None
        self._guard = threading.Lock()
        self._swept = set()
        self._exit_hooked = False
        self._dropped = False
        if held is not None:
            self._close(held[2])
