"""Start processes in process groups and end whole process trees.

A "node" of a local run is one process group: its first process leads the group and
the node's other processes join it, so one ``killpg`` reaches every process of the
node and the grandchildren they started. Descendants that left the group (with
``setsid``) are found through ``psutil`` before the group is signalled.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence

import psutil


def spawn(
    argv: Sequence[str], *, cwd: str, env: dict[str, str], group: int | None
) -> subprocess.Popen[bytes]:
    """Start ``argv`` with stdout and stderr merged into one pipe (order kept).

    ``group=None`` makes the process lead a new process group; otherwise it joins
    process group ``group``. Standard input is /dev/null.
    """
    pgid = 0 if group is None else group
    extra: dict[str, object] = {}
    if sys.version_info >= (3, 11):
        extra["process_group"] = pgid
    else:  # pragma: no cover - Python 3.10
        extra["preexec_fn"] = lambda: os.setpgid(0, pgid)
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        list(argv),
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        bufsize=0,
        close_fds=True,
        **extra,
    )


def descendants(pids: Iterable[int]) -> list[psutil.Process]:
    """Every live descendant of ``pids`` (and the processes themselves)."""
    found: dict[int, psutil.Process] = {}
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            found[pid] = proc
            for child in proc.children(recursive=True):
                found[child.pid] = child
        except psutil.Error:
            continue
    return list(found.values())


def signal_tree(pgids: Iterable[int], extra: Iterable[psutil.Process], sig: int) -> None:
    """Send ``sig`` to each process group and to each extra process (errors ignored)."""
    for pgid in set(pgids):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)
    for proc in extra:
        with contextlib.suppress(psutil.Error):
            proc.send_signal(sig)


def group_members(pgid: int) -> list[psutil.Process]:
    """Live (non-zombie) processes of process group ``pgid``."""
    found = []
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) == pgid and _running(proc):
                found.append(proc)
        except (OSError, psutil.Error):
            continue
    return found


def terminate_tree(pids: Sequence[int], pgids: Sequence[int], grace: float) -> None:
    """SIGTERM the groups and every descendant of ``pids``; SIGKILL what is left after
    ``grace`` s. Zombies count as ended (their parent reaps them)."""
    procs = descendants([*pids, *(p.pid for g in pgids for p in group_members(g))])
    signal_tree(pgids, procs, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not any(_running(p) for p in procs):
            break
        time.sleep(0.05)
    signal_tree(pgids, [p for p in procs if _running(p)], signal.SIGKILL)


def _running(proc: psutil.Process) -> bool:
    try:
        return bool(proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def process_started(pid: int) -> float | None:
    """The creation time of process ``pid`` (None if it does not exist)."""
    try:
        return float(psutil.Process(pid).create_time())
    except psutil.Error:
        return None


def is_same_process(pid: int, started: float) -> bool:
    """Whether ``pid`` is still the process that started at ``started`` (not a reuse)."""
    now = process_started(pid)
    if now is None:
        return False
    try:
        if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            return False
    except psutil.Error:
        return False
    return abs(now - started) < 1.0


def kill_run_processes(run_id: str, env_name: str = "RUNTRACK_RUN_ID") -> int:
    """SIGKILL every process of this user whose environment names run ``run_id``.

    Used when a run's supervisor is gone and its processes must not run on
    unobserved. Returns how many were signalled.
    """
    me = os.getpid()
    hits = []
    for proc in psutil.process_iter(["pid"]):
        if proc.pid == me:
            continue
        try:
            if proc.environ().get(env_name) == run_id:
                hits.append(proc)
        except psutil.Error:
            continue
    for proc in hits:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    return len(hits)
