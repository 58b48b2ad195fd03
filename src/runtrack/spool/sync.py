"""Ship leftover spools: runs whose process crashed, and offline runs (``runtrack sync``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from runtrack.errors import NotFoundError
from runtrack.model import ErrorInfo, RunStatus
from runtrack.spool import record as R
from runtrack.spool.reader import list_streams
from runtrack.spool.shipper import StreamShipper
from runtrack.store.base import TrackingStore

CRASH_CODE = "ProcessDied"


@dataclass(frozen=True)
class Shipped:
    run_id: str
    stream: str
    points: int
    finished: bool
    marked_failed: bool


def writer_pid(folder: Path, stream: str) -> int | None:
    """PID recorded in the stream's newest segment header."""
    segments = sorted(folder.glob(f"{stream}.*.seg"))
    if not segments:
        return None
    with open(segments[-1], "rb") as fh:
        head = fh.read(R.HEADER.size)
    if len(head) < R.HEADER.size:
        return None
    magic, _version, _number, _seq, pid = R.HEADER.unpack(head)
    return int(pid) if magic == R.MAGIC else None


def _alive(pid: int | None) -> bool:
    if pid is None or pid == os.getpid():
        return pid is not None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def pending_streams(spool_dir: Path, include_live: bool = False) -> list[tuple[str, str]]:
    """(run id, stream) pairs with files left, skipping live writers unless asked."""
    found: list[tuple[str, str]] = []
    if not spool_dir.is_dir():
        return found
    for folder in sorted(p for p in spool_dir.iterdir() if p.is_dir()):
        for stream in list_streams(folder):
            if include_live or not _alive(writer_pid(folder, stream)):
                found.append((folder.name, stream))
    return found


def spool_size(spool_dir: Path, run_id: str, stream: str) -> int:
    return sum(p.stat().st_size for p in (spool_dir / run_id).glob(f"{stream}.*.seg"))


def ship_leftovers(
    store: TrackingStore,
    spool_dir: Path,
    *,
    on_progress: Callable[[str, str, int], None] | None = None,
) -> list[Shipped]:
    """Ship every stream whose writer is gone; mark crashed interactive runs Failed.

    Each stream is shipped exactly once into the store (the store skips what it
    already has), then its files are removed. Streams of runs that no longer exist
    in the store are left in place and reported with ``points=-1``.
    """
    report: list[Shipped] = []
    for run_id, stream in pending_streams(spool_dir):
        folder = spool_dir / run_id
        try:
            run = store.get_run(run_id)
        except NotFoundError:
            report.append(Shipped(run_id, stream, -1, False, False))
            continue
        shipper = StreamShipper(store, run_id, folder, stream)
        total = 0
        while True:
            n = shipper.step()
            total += n
            if on_progress is not None and n:
                on_progress(run_id, stream, n)
            if n == 0:
                break
        finished = shipper.reader.finished
        marked = False
        if not finished and not run.status.is_terminal and run.run_type in ("interactive", "child"):
            store.set_status(
                run_id,
                RunStatus.FAILED,
                error=ErrorInfo(
                    CRASH_CODE,
                    "the process logging this run ended without completing it; "
                    "its logged metrics were recovered from the spool",
                ),
            )
            marked = True
        shipper.remove_files()
        report.append(Shipped(run_id, stream, total, finished, marked))
    return report
