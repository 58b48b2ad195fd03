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

One spare per process (the bookkeeping of :mod:`runtrack.spool._spares`, shared with
the owner's lock file): one run at a time is the case it is made for.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from runtrack.spool._spares import SPARE_PREFIX, Spares
from runtrack.spool.owner import lock_held
from runtrack.spool.writer import SpareStream, lock_path, segment_path

SPARE_SUFFIX = ".stream"


def take(spool_dir: Path, folder: Path, stream: str) -> SpareStream | None:
    """The process's spare of ``spool_dir`` as stream ``stream`` (its files renamed),
    its folder renamed to ``folder``; None when there is none (or ``folder`` exists
    with files in it: the spare is then removed).

    A stream's name is never used twice: a run that logs again after ``complete()`` may
    take the spare its own first stream left, and the store would skip the new stream's
    points as ones it already has."""
    found = SPARE_FOLDER.take(os.fspath(spool_dir))
    if found is None:
        return None
    path, spare = found
    at = Path(path)
    try:
        os.rename(lock_path(at, spare.stream), lock_path(at, stream))
        os.rename(segment_path(at, spare.stream, 0), segment_path(at, stream, 0))
        os.rename(path, folder)  # onto an empty folder too: nothing is lost
    except OSError:
        _remove(path, spare)
        return None
    return replace(spare, stream=stream)


def keep(spool_dir: Path, folder: Path, spare: SpareStream) -> bool:
    """Zero the stream's segment and rename ``folder`` aside as the process's spare;
    False (nothing renamed; the caller removes the files and closes ``spare``) when the
    folder holds anything but the stream's two files, a spare of ``spool_dir`` is kept
    already, the process is exiting, or the disk refuses."""
    key = os.fspath(spool_dir)
    path = os.path.join(key, f"{SPARE_PREFIX}{os.getpid()}{SPARE_SUFFIX}")

    def move() -> bool:
        try:
            files = (lock_path(folder, spare.stream), segment_path(folder, spare.stream, 0))
            if set(os.listdir(folder)) != {file.name for file in files}:
                return False
            # the rest of the file is zeros already: never written since it was
            if os.pwrite(spare.segment_fd, bytes(spare.used), 0) != spare.used:
                return False
            os.rename(folder, path)
        except OSError:
            return False
        return True

    return SPARE_FOLDER.keep(key, path, spare, move)


def _remove(path: str, spare: SpareStream) -> None:
    _rmtree(path)
    spare.close()


def _rmtree(path: str | Path) -> None:
    import shutil  # (and bz2, lzma) not at `import runtrack`: only a spare's removal needs it

    shutil.rmtree(path, ignore_errors=True)


def is_spare(name: str) -> bool:
    """Whether an entry of a spool folder is a process's spare (not a run's folder)."""
    return name.startswith(SPARE_PREFIX) and name.endswith(SPARE_SUFFIX)


def sweep(spool_dir: Path | str) -> None:
    """Remove the spare folders of processes that are gone (their locks are free)."""
    try:
        names = os.listdir(spool_dir)
    except OSError:
        return
    for name in names:
        if not is_spare(name):
            continue
        folder = Path(spool_dir, name)
        try:
            locks = [folder / n for n in os.listdir(folder) if n.endswith(".lock")]
        except OSError:
            continue
        if not any(lock_held(lock) for lock in locks):
            _rmtree(folder)


#: the process's spare folder (see the module doc)
SPARE_FOLDER: Spares[SpareStream] = Spares(_remove, SpareStream.close, sweep)
