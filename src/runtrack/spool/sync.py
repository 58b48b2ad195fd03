"""Ship leftover spools and settle runs whose owner is gone (``runtrack sync``).

Liveness is decided by locks the owners hold (:mod:`runtrack.spool.owner`): a stream
is shipped only when its writer's ``flock`` can be taken, and a run is settled only
when its owner's ``run.lock`` can be taken — never by the files' contents, which a
live writer may be changing. Spools written before streams had lock files fall
back to the process id in the newest segment header.

One damaged stream never stops the others: its error is reported and the next
stream is shipped.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from runtrack.errors import NotFoundError, StoreUnavailableError
from runtrack.model import ErrorInfo, RunStatus
from runtrack.spool import record as R
from runtrack.spool.console import ship_console_leftovers
from runtrack.spool.owner import (
    FINAL_SUFFIX,
    OWNER_SUFFIX,
    final_path,
    lock_held,
    owner_path,
    read_final,
)
from runtrack.spool.reader import list_streams
from runtrack.spool.shipper import StreamShipper
from runtrack.spool.spare import is_spare
from runtrack.spool.spare import sweep as sweep_spares
from runtrack.spool.writer import lock_path
from runtrack.store.base import ArtifactStore, TrackingStore

CRASH_CODE = "ProcessDied"


@dataclass(frozen=True)
class Shipped:
    """What recovery did with one stream (``stream`` "" for a run without streams
    left, settled from its owner lock or queued final status)."""

    run_id: str
    stream: str
    points: int
    finished: bool
    marked_failed: bool
    skipped: int = 0
    problems: list[str] = field(default_factory=list)
    settled: str | None = None  # the status recovery set, if it set one


def writer_pid(folder: Path, stream: str) -> int | None:
    """PID recorded in the stream's newest segment header."""
    segments = sorted(folder.glob(f"{stream}.*.seg"))
    if not segments:
        return None
    try:
        with open(segments[-1], "rb") as fh:
            head = fh.read(R.HEADER.size)
    except FileNotFoundError:
        return os.getpid()  # being removed right now: not ours to ship
    if len(head) < R.HEADER.size:
        return None
    magic, _version, _number, _seq, pid = R.HEADER.unpack(head)
    return int(pid) if magic == R.MAGIC else None


def _pid_alive(pid: int | None) -> bool:
    if pid is None or pid == os.getpid():
        return pid is not None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stream_alive(folder: Path, stream: str) -> bool:
    """Whether the stream's writer still holds it (its lock; else its pid lives)."""
    held = lock_held(lock_path(folder, stream))
    if held is not None:
        return held
    return _pid_alive(writer_pid(folder, stream))


def pending_streams(spool_dir: Path, include_live: bool = False) -> list[tuple[str, str]]:
    """(run id, stream) pairs with files left, skipping live writers unless asked."""
    found: list[tuple[str, str]] = []
    if not spool_dir.is_dir():
        return found
    for folder in sorted(p for p in spool_dir.iterdir() if p.is_dir() and not is_spare(p.name)):
        for stream in list_streams(folder):
            if include_live or not stream_alive(folder, stream):
                found.append((folder.name, stream))
    return found


def spool_size(spool_dir: Path, run_id: str, stream: str) -> int:
    total = 0
    for path in (spool_dir / run_id).glob(f"{stream}.*.seg"):
        with contextlib.suppress(FileNotFoundError):
            total += path.stat().st_size
    return total


def ship_leftovers(
    store: TrackingStore,
    spool_dir: Path,
    *,
    on_progress: Callable[[str, str, int], None] | None = None,
    artifacts: ArtifactStore | None = None,
) -> list[Shipped]:
    """Ship every stream whose writer is gone, then settle every run whose owner is
    gone: its queued final status, else Failed (ProcessDied) for interactive and
    child runs that are not terminal.

    Each stream is shipped exactly once into the store (the store skips what it
    already has), then its files are removed. Streams of runs that no longer exist
    in the store are left in place and reported with ``points=-1``. A store that
    is unreachable stops the pass (StoreUnavailableError); any other error on one
    stream is reported in its ``problems`` and the pass goes on. With ``artifacts``,
    console output left by dead processes is shipped too.
    """
    report: list[Shipped] = []
    if not spool_dir.is_dir():
        return report
    if artifacts is not None:
        ship_console_leftovers(artifacts, spool_dir)
    run_ids: set[str] = set()
    spares = False
    for entry in spool_dir.iterdir():
        if is_spare(entry.name):  # a process's spare folder: not a run's
            spares = True
        elif entry.is_dir():
            run_ids.add(entry.name)
        for suffix in (OWNER_SUFFIX, FINAL_SUFFIX):  # runs with no spool folder (yet)
            if entry.name.endswith(suffix) and not entry.name.startswith("."):
                run_ids.add(entry.name[: -len(suffix)])
    if spares:  # those of processes that are gone
        sweep_spares(spool_dir)
    for run_id in sorted(run_ids):
        report.extend(_recover_run(store, spool_dir, run_id, on_progress))
    return report


def _recover_run(
    store: TrackingStore,
    spool_dir: Path,
    run_id: str,
    on_progress: Callable[[str, str, int], None] | None,
) -> list[Shipped]:
    folder = spool_dir / run_id
    streams = list_streams(folder) if folder.is_dir() else []
    dead = [s for s in streams if not stream_alive(folder, s)]
    live = len(dead) < len(streams)
    owner = lock_held(owner_path(spool_dir, run_id))  # None: no owner (older/submitted runs)
    final = read_final(spool_dir, run_id)
    settle = not live and owner is not True and (owner is False or final is not None or dead)
    if not dead and not settle:
        return []
    try:
        run = store.get_run(run_id)
    except NotFoundError:
        return [Shipped(run_id, s, -1, False, False) for s in dead]
    items = [_ship_stream(store, run_id, folder, s, on_progress) for s in dead]
    if not settle:
        return items
    unfinished = any(not item.finished for item in items)
    status: str | None = None
    died = False
    if not run.status.is_terminal:
        if final is not None:
            store.set_status(run_id, final.status, error=final.error)
            status = final.status.value
        elif run.run_type in ("interactive", "child") and (owner is False or unfinished):
            store.set_status(run_id, RunStatus.FAILED, error=_died(store, run_id))
            status, died = RunStatus.FAILED.value, True
    if status is not None:
        last = items.pop() if items else Shipped(run_id, "", 0, True, False)
        items.append(replace(last, marked_failed=died, settled=status))
    for path in (final_path(spool_dir, run_id), owner_path(spool_dir, run_id)):
        path.unlink(missing_ok=True)
    return items


def _ship_stream(
    store: TrackingStore,
    run_id: str,
    folder: Path,
    stream: str,
    on_progress: Callable[[str, str, int], None] | None,
) -> Shipped:
    shipper = StreamShipper(store, run_id, folder, stream)
    total = 0
    try:
        while True:
            n = shipper.step()
            total += n
            if on_progress is not None and n:
                on_progress(run_id, stream, n)
            if n == 0:
                break
    except StoreUnavailableError:
        raise
    except Exception as exc:  # a damaged stream must not stop the other runs
        shipper.reader.close()
        problems = [*shipper.reader.problems, f"shipping stopped: {type(exc).__name__}: {exc}"]
        return Shipped(run_id, stream, total, False, False, shipper.reader.skipped, problems)
    finished = shipper.reader.finished
    shipper.remove_files()
    return Shipped(
        run_id, stream, total, finished, False, shipper.reader.skipped, shipper.reader.problems
    )


def _died(store: TrackingStore, run_id: str) -> ErrorInfo:
    steps = [s.last_step for s in store.list_series(run_id) if s.last_step is not None]
    last = f"the last step stored is {max(steps)}" if steps else "no step was stored"
    return ErrorInfo(
        CRASH_CODE,
        "the process logging this run ended without completing it (killed, crashed or "
        f"exited without run.complete()); its logged metrics were recovered from the "
        f"spool and {last}",
    )
