"""The process's spare stream folder: a finished short run's spool folder, kept for the
next run instead of removed.

A short run's main stream is a folder holding two files, the stream's lock file and its
first segment (``FIRST_SEGMENT`` bytes). Making them and removing them again cost more
than the rest of the spool's work for a run: ~0.4 ms of a ~4 ms run, in ``mkdir``,
``rmdir``, the file creations and the ``unlink`` of the segment's reserved blocks.
So when a run's points are all stored and its folder holds nothing else, the folder
is renamed aside as ``<spool_dir>/.spare-<pid>.stream`` with its segment zeroed, its
lock still held and both files still open; the process's next run renames it into
place as its own folder and writes into the same segment.

What recovery sees stays what it saw without the spare:

* the spare is zeroed *before* it is renamed aside, so a run folder never holds another
  run's records (a zeroed segment has no header: nothing to ship);
* its lock is held all along, so no other process takes or removes it while this one
  lives; a dead process's spare is an unlocked folder under a name that starts with a
  dot, which recovery skips and the next process's :func:`sweep` removes;
* a forked child forgets the parent's spare (it closes its copies of the fds).

One spare per process: one run at a time is the case it is made for.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
from dataclasses import dataclass, replace
from pathlib import Path

from runtrack.spool.owner import SPARE_PREFIX, lock_held

SPARE_SUFFIX = ".stream"


@dataclass(frozen=True)
class SpareStream:
    """A stream's files, open: its lock (held) and its zeroed first segment."""

    stream: str
    lock_fd: int
    segment_fd: int
    size: int

    def close(self) -> None:
        for fd in (self.segment_fd, self.lock_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


class _SpareFolder:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        #: (spool folder, the spare's path, its stream), or None
        self._held: tuple[str, str, SpareStream] | None = None
        self._swept: set[str] = set()
        self._exit_hooked = False
        #: set by :meth:`drop` at exit: a spool closed later (by the exit's own drain)
        #: removes its files instead of leaving a spare nobody removes
        self._dropped = False
        self._zeros = b""

    def take(self, spool_dir: Path, folder: Path, stream: str) -> SpareStream | None:
        """The spare of ``spool_dir`` as stream ``stream`` (its files renamed), its
        folder renamed to ``folder``; None when there is none (or ``folder`` exists
        with files in it: the spare is then removed).

        A stream's name is never used twice: a run that logs again after ``complete()``
        may take the spare its own first stream left, and the store would skip the new
        stream's points as ones it already has."""
        key = os.fspath(spool_dir)
        with self._guard:
            held = self._held
            if held is None or held[0] != key:
                return None
            self._held = None
        path, spare = held[1], held[2]
        try:
            for suffix in (".lock", ".000000.seg"):
                os.rename(
                    os.path.join(path, spare.stream + suffix), os.path.join(path, stream + suffix)
                )
            os.rename(path, folder)  # onto an empty folder too: nothing is lost
        except OSError:
            _remove(path, spare)
            return None
        return replace(spare, stream=stream)

    def keep(self, spool_dir: Path, folder: Path, spare: SpareStream) -> bool:
        """Zero the stream's segment and rename ``folder`` aside as the spare; False
        (nothing renamed; the caller removes the files and closes ``spare``) when the
        folder holds anything but the stream's two files, a spare of ``spool_dir`` is
        kept already, or the disk refuses."""
        key = os.fspath(spool_dir)
        path = os.path.join(key, f"{SPARE_PREFIX}{os.getpid()}{SPARE_SUFFIX}")
        with self._guard:
            old = self._held
            if self._dropped or (old is not None and old[0] == key):
                return False
            try:
                names = sorted(os.listdir(folder))
                if names != [f"{spare.stream}.000000.seg", f"{spare.stream}.lock"]:
                    return False
                if len(self._zeros) != spare.size:
                    self._zeros = bytes(spare.size)
                if os.pwrite(spare.segment_fd, self._zeros, 0) != spare.size:
                    return False
                os.rename(folder, path)
            except OSError:
                return False
            self._held = (key, path, spare)
            first = key not in self._swept
            self._swept.add(key)
            if not self._exit_hooked:
                self._exit_hooked = True
                atexit.register(self.drop)
        if old is not None:  # the spare of another spool folder: one is enough
            _remove(old[1], old[2])
        if first:
            sweep(spool_dir)
        return True

    def drop(self, *, exiting: bool = True) -> None:
        """Remove the spare (at exit, after which none is kept; a killed process's is
        swept by the next one)."""
        with self._guard:
            held, self._held = self._held, None
            self._dropped = exiting
        if held is not None:
            _remove(held[1], held[2])

    def forget(self) -> None:
        """In a forked child: the parent's spare is not this process's."""
        held, self._held = self._held, None
        self._guard = threading.Lock()
        self._swept = set()
        self._exit_hooked = False
        self._dropped = False
        if held is not None:
            held[2].close()


SPARE_FOLDER = _SpareFolder()
os.register_at_fork(after_in_child=SPARE_FOLDER.forget)


def _remove(path: str, spare: SpareStream) -> None:
    _rmtree(path)
    spare.close()


def _rmtree(path: str | Path) -> None:
    import shutil  # (and bz2, lzma) not at `import runtrack`: only a spare's removal needs it

    shutil.rmtree(path, ignore_errors=True)


def is_spare(name: str) -> bool:
    """Whether an entry of a spool folder is a process's spare (not a run's folder)."""
    return name.startswith(SPARE_PREFIX) and name.endswith(SPARE_SUFFIX)


def sweep(spool_dir: Path) -> None:
    """Remove the spare folders of processes that are gone (their locks are free)."""
    try:
        names = os.listdir(spool_dir)
    except OSError:
        return
    for name in names:
        if not is_spare(name):
            continue
        folder = spool_dir / name
        try:
            locks = [folder / n for n in os.listdir(folder) if n.endswith(".lock")]
        except OSError:
            continue
        if not any(lock_held(lock) for lock in locks):
            _rmtree(folder)
