"""The supervisor of one submitted run: prepare, launch, watch, finalize.

It runs in its own process (started detached by :class:`runtrack.runner.target.LocalTarget`)
so it outlives both the submitting process and a crashing script, or as a thread of a
long-lived process that hosts many short runs (:mod:`runtrack.runner.inproc`: a sweep's
trials). Before it starts the processes it writes the run's preload file
(:func:`runtrack.runner.runenv.write_preload`), so their ``Run.get_context()`` need not
open the store. Phases and statuses::

    Queued ─► Preparing (unpack the snapshot, build the environment)
            ─► Running (node_count x process_count_per_node processes; logs pumped
               live; metric spools shipped; ./logs mirrored; cancel and the time
               limit watched; one failing process stops the others)
            ─► Finalizing (spools drained, ./outputs and ./logs uploaded)
            ─► Completed | Failed | Canceled (see runtrack.runner.outcome)
            ─► (the supervisor process ends once the log search index caught up)

Cancel arrives as SIGTERM/SIGINT to the supervisor or as the run's status
CancelRequested in the store (polled), so it works across processes and hosts.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import traceback
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from runtrack import config
from runtrack.errors import ConfigError, NotFoundError, RunStateError
from runtrack.model import ErrorInfo, RunInfo, RunStatus
from runtrack.runner import envs, outcome, procs, runenv, sysmetrics
from runtrack.runner import spec as layout
from runtrack.runner.capture import FolderMirror, LogPump
from runtrack.runner.explain import explain
from runtrack.runner.logindex import IndexerThread, LogIndexer
from runtrack.runner.snapshot import SNAPSHOT_ARTIFACT, extract_zip
from runtrack.runner.spec import RunSpec
from runtrack.spool.reader import list_streams
from runtrack.spool.shipper import StreamShipper
from runtrack.store.base import ArtifactStore, TrackingStore

log = logging.getLogger("runtrack.runner")

TICK = 0.05
STATUS_POLL = 0.5
SPOOL_EVERY = 0.2
LOGS_EVERY = 1.0
#: how long the supervisor process stays after the run ended to finish the log index
INDEX_WAIT = 600.0


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class PrepareFailed(Exception):
    """Raised by a target's :meth:`Supervisor.prepare` to fail the run with ``error``
    (e.g. a Ray cluster that cannot place the run's nodes)."""

    def __init__(self, error: ErrorInfo) -> None:
        super().__init__(error.message)
        self.error = error


class _Proc:
    def __init__(self, rank: int, node: int, popen: subprocess.Popen[bytes], pump: LogPump):
        self.rank = rank
        self.node = node
        self.popen = popen
        self.pump = pump
        self.returncode: int | None = None
        self.stopped_by_us = False


class Supervisor:
    """Runs ``spec`` against ``store``/``artifacts``; :meth:`run` returns the final status."""

    #: whether the log index writes run at a lower CPU priority (see IndexerThread)
    lower_index_priority = True

    def __init__(self, spec: RunSpec, store: TrackingStore, artifacts: ArtifactStore) -> None:
        self.spec = spec
        self.store = store
        self.artifacts = artifacts
        self.workdir = Path(spec.workdir) / "wd"
        #: False where the target owns the working folder (Ray's working_dir): kept at the end
        self.owns_workdir = True
        self.cancel_requested = threading.Event()
        self.procs: list[_Proc] = []
        self.pgids: list[int] = []
        self.shippers: dict[str, StreamShipper] = {}
        self.spool_folder = Path(spec.spool_dir) / spec.run_id
        self.logs = FolderMirror(str(self.workdir / "logs"), artifacts, spec.run_id, "logs")
        self.timed_out: float | None = None
        self.indexer = IndexerThread(LogIndexer(store, artifacts, spec.run_id),
                                     lower_priority=self.lower_index_priority)
        self.sampler: sysmetrics.SystemSampler | None = None
        self.info: RunInfo | None = None  # the run as the last status change left it

    # -- small helpers -------------------------------------------------------------------

    def phase(self, path: str, text: str) -> None:
        """Append timestamped ``text`` to a phase log (never raises)."""
        stamp = _now()
        lines = "".join(f"{stamp} {line}\n" for line in text.rstrip("\n").splitlines() or [""])
        try:
            self.artifacts.append(self.spec.run_id, path, lines.encode("utf-8", "replace"))
        except Exception as exc:
            log.warning("runtrack: cannot write %s: %s", path, exc)

    def _json_line(self, path: str, data: dict[str, Any]) -> None:
        try:
            self.artifacts.append(self.spec.run_id, path, (json.dumps(data) + "\n").encode())
        except Exception as exc:
            log.warning("runtrack: cannot write %s: %s", path, exc)

    def set_status(self, status: RunStatus, error: ErrorInfo | None = None) -> RunStatus:
        """Move the run, unless it is already terminal or its cancel was requested."""
        try:
            current = self.store.get_run(self.spec.run_id).status
            if current.is_terminal:
                return current
            if current is RunStatus.CANCEL_REQUESTED and not status.is_terminal:
                self.cancel_requested.set()
                return current
            self.info = self.store.set_status(self.spec.run_id, status, error=error)
            return self.info.status
        except RunStateError:
            return self.store.get_run(self.spec.run_id).status

    def settled(self, status: RunStatus) -> None:
        """Called once the run's final status is stored, before the supervisor cleans up
        and waits for the log index (a process hosting many runs hears of the end here)."""

    def request_cancel(self, *_: Any) -> None:
        self.cancel_requested.set()

    def _poll_cancel(self) -> None:
        try:
            if self.store.get_run(self.spec.run_id).status is RunStatus.CANCEL_REQUESTED:
                self.cancel_requested.set()
        except NotFoundError:  # the run was deleted: stop everything
            self.cancel_requested.set()
        except Exception as exc:
            log.debug("runtrack: cannot poll the run's status: %s", exc)

    # -- the phases ----------------------------------------------------------------------

    def run(self) -> RunStatus:
        if threading.current_thread() is threading.main_thread():  # its own process
            signal.signal(signal.SIGTERM, self.request_cancel)
            signal.signal(signal.SIGINT, self.request_cancel)
        self.indexer.start()
        try:
            python, extra = self.prepare()
        except envs.EnvironmentBuildError as exc:
            self.phase(layout.PREPARE_LOG, f"environment build failed: {exc.message}")
            return self.finish(
                RunStatus.FAILED,
                ErrorInfo("EnvironmentBuildFailed", exc.message[-20_000:]),
            )
        except PrepareFailed as exc:  # a target's own reason, with its error code
            self.phase(layout.PREPARE_LOG, f"preparing failed: {exc.error.message}")
            return self.finish(RunStatus.FAILED, exc.error)
        except Exception as exc:
            text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            self.phase(layout.PREPARE_LOG, f"preparing failed:\n{text}")
            return self.finish(
                RunStatus.FAILED,
                ErrorInfo("PrepareFailed", f"preparing the run failed: {exc}", traceback=text),
            )
        if self.cancel_requested.is_set():
            self._poll_cancel()
            return self.finish(*outcome.decide([], canceled=True))
        try:
            self.launch(python, extra)
            self.start_sampler()
            self.watch()
        except Exception as exc:  # our own bug: never leave processes or a Running run
            text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            self.phase(layout.EXECUTION_LOG, f"supervisor error:\n{text}")
            self.stop_all("supervisor error")
            return self.finish(
                RunStatus.FAILED, ErrorInfo("SupervisorError", str(exc), traceback=text)
            )
        status, error = outcome.decide(
            [
                outcome.ProcessEnd(p.rank, p.returncode or 0, p.pump.tail(), p.stopped_by_us)
                for p in sorted(self.procs, key=lambda p: p.rank)
            ],
            canceled=self.cancel_requested.is_set(),
            timed_out=self.timed_out,
            world_size=self.spec.world_size,
        )
        return self.finish(status, error)

    def prepare(self) -> tuple[str, dict[str, str]]:
        spec = self.spec
        self.set_status(RunStatus.PREPARING)
        self.phase(layout.PREPARE_LOG, f"run {spec.run_id}: preparing in {self.workdir}")
        with self.artifacts.open(spec.snapshot_run_id or spec.run_id, SNAPSHOT_ARTIFACT) as source:
            count = extract_zip(source, self.workdir)
        (self.workdir / "outputs").mkdir(exist_ok=True)
        (self.workdir / "logs").mkdir(exist_ok=True)
        self.phase(layout.PREPARE_LOG, f"snapshot unpacked: {count} files")

        def env_log(text: str) -> None:
            self.phase(layout.ENVIRONMENT_LOG, text)

        python, extra = envs.prepare(
            spec.python, spec.requirements, Path(spec.env_cache or spec.workdir), env_log
        )
        self.phase(layout.PREPARE_LOG, f"interpreter: {python}")
        return python, extra

    def launch(self, python: str, extra: dict[str, str]) -> None:
        spec = self.spec
        if spec.world_size > 1 and not spec.master_port:
            self.spec = spec = replace(spec, master_port=_free_port())
        base = runenv.base_env(spec)
        base.update(extra)
        if spec.command[:2] == ["/bin/sh", "-c"] and "PATH" not in extra:
            # a shell command's `python` is the run's interpreter, as in a command list
            base["PATH"] = f"{os.path.dirname(python)}{os.pathsep}{base.get('PATH', '')}"
        argv = [
            python if i == 0 and a in ("python", "python3") else a
            for i, a in enumerate(spec.command)
        ]
        paths = layout.rank_log_paths(spec.node_count, spec.process_count_per_node)
        self.set_status(RunStatus.RUNNING)
        preload = self.write_preload()
        if preload is not None:
            base[runenv.ENV_PRELOAD] = preload
        self.phase(layout.EXECUTION_LOG, f"starting {spec.world_size} process(es): {argv}")
        host = socket.gethostname()
        for rank in range(spec.world_size):
            node = rank // spec.process_count_per_node
            leader = self.pgids[node] if node < len(self.pgids) else None
            popen = self.spawn_rank(argv, runenv.process_env(base, spec, rank), rank, leader)
            if leader is None:
                self.pgids.append(popen.pid)
            assert popen.stdout is not None
            pump = LogPump(os.dup(popen.stdout.fileno()), self.artifacts, spec.run_id, paths[rank])
            popen.stdout.close()
            pump.start()
            self.procs.append(_Proc(rank, node, popen, pump))
            name = f"rank_{rank}"
            self._json_line(
                layout.PROCESS_INFO,
                {
                    "process_name": name,
                    "rank": rank,
                    "local_rank": rank % spec.process_count_per_node,
                    "node_rank": node,
                    "host": host,
                    "pid": popen.pid,
                    "pgid": self.pgids[node],
                    "log": paths[rank],
                },
            )
            self._json_line(
                layout.PROCESS_STATUS,
                {"process_name": name, "timestamp": _now(), "status": "Started"},
            )

    def spawn_rank(
        self, argv: list[str], env: dict[str, str], rank: int, leader: int | None
    ) -> subprocess.Popen[bytes]:
        """Start the process of ``rank`` (here; other targets start a local stand-in
        whose output and exit are the remote process's)."""
        return procs.spawn(argv, cwd=str(self.workdir), env=env, group=leader)

    def write_preload(self) -> str | None:
        """What ``Run.get_context()`` in the processes needs, so they need not open the
        store to start logging (None if it cannot be written: they open it then)."""
        try:
            info = self.info or self.store.get_run(self.spec.run_id)
            preload = runenv.Preload(
                info,
                self.store.get_experiment(info.experiment_id),
                {s.name: s.kind.value for s in self.store.list_series(info.id)},
            )
            return str(runenv.write_preload(Path(self.spec.workdir), preload))
        except Exception as exc:
            log.warning("runtrack: cannot write the run's preload file: %s", exc)
            return None

    def start_sampler(self) -> None:
        """System metrics of the run's process trees, from this (supervisor) process."""
        try:
            interval = config.system_metrics_interval()
        except ConfigError as exc:
            self.phase(layout.EXECUTION_LOG, f"system metrics off: {exc}")
            return

        def ranks() -> dict[int, int]:
            return {p.rank: p.popen.pid for p in self.procs if p.returncode is None}

        self.sampler = sysmetrics.start(self.store, self.spec.run_id, ranks, interval)

    def watch(self) -> None:
        spec = self.spec
        started = time.monotonic()
        deadline = (
            started + spec.max_run_duration_seconds if spec.max_run_duration_seconds else None
        )
        next_poll = next_spool = next_logs = 0.0
        stopping = False
        while True:
            now = time.monotonic()
            failed = False
            for p in self.procs:
                if p.returncode is None:
                    code = p.popen.poll()
                    if code is not None:
                        self._ended(p, code, stopping)
                        failed = failed or (code != 0 and not p.stopped_by_us)
            if all(p.returncode is not None for p in self.procs):
                break
            if not stopping:
                if now >= next_poll:
                    self._poll_cancel()
                    next_poll = now + STATUS_POLL
                reason = None
                if self.cancel_requested.is_set():
                    reason = "cancel requested"
                elif deadline is not None and now >= deadline:
                    self.timed_out = spec.max_run_duration_seconds
                    reason = f"max_run_duration_seconds={spec.max_run_duration_seconds:g} exceeded"
                elif failed:
                    reason = "a process failed"
                if reason is not None:
                    stopping = True
                    self.stop_all(reason)
                    continue
            if now >= next_spool:
                self.ship_spools()
                next_spool = now + SPOOL_EVERY
            if now >= next_logs:
                self.logs.sync()
                next_logs = now + LOGS_EVERY
            time.sleep(TICK)
        # what the processes left behind in their groups ends with the run
        if any(procs.group_members(g) for g in self.pgids):
            procs.terminate_tree([], self.pgids, spec.grace_seconds)
        for p in self.procs:
            p.pump.join(10.0)

    def _ended(self, p: _Proc, code: int, stopping: bool) -> None:
        p.returncode = code
        p.stopped_by_us = stopping and code != 0
        status = "Completed" if code == 0 else ("Terminated" if p.stopped_by_us else "Failed")
        self._json_line(
            layout.PROCESS_STATUS,
            {
                "process_name": f"rank_{p.rank}",
                "timestamp": _now(),
                "status": status,
                "exit_code": code,
            },
        )
        how = f"signal {outcome.signal_name(code)}" if code < 0 else f"exit code {code}"
        self.phase(layout.EXECUTION_LOG, f"rank {p.rank} (pid {p.popen.pid}) ended: {how}")

    def stop_all(self, reason: str) -> None:
        """End every process of the run (the whole tree of each node)."""
        live = [p for p in self.procs if p.returncode is None]
        self.phase(layout.EXECUTION_LOG, f"stopping {len(live)} process(es): {reason}")
        for p in live:
            p.stopped_by_us = True
        procs.terminate_tree([p.popen.pid for p in live], self.pgids, self.spec.grace_seconds)

    def ship_spools(self, final: bool = False) -> None:
        if self.spool_folder.is_dir():
            for stream in list_streams(self.spool_folder):
                if stream not in self.shippers:
                    self.shippers[stream] = StreamShipper(
                        self.store, self.spec.run_id, self.spool_folder, stream
                    )
        for name, shipper in list(self.shippers.items()):
            try:
                shipper.drain() if final else shipper.step()
                if final:
                    shipper.remove_files()
                    del self.shippers[name]
            except Exception as exc:  # kept on disk; `runtrack sync` ships it later
                log.warning("runtrack: cannot ship metric stream %s yet: %s", name, exc)

    def finish(self, status: RunStatus, error: ErrorInfo | None) -> RunStatus:
        """Finalize: ship metrics, upload outputs and logs, set the final status."""
        spec = self.spec
        if status is not RunStatus.CANCELED:
            self.set_status(RunStatus.FINALIZING)
        self.phase(layout.POST_LOG, "finalizing")
        if self.sampler is not None:
            self.sampler.stop()
        self.ship_spools(final=True)
        outputs = self.workdir / "outputs"
        uploaded = 0
        if outputs.is_dir():
            for file in sorted(p for p in outputs.rglob("*") if p.is_file()):
                rel = f"outputs/{file.relative_to(outputs).as_posix()}"
                try:
                    with open(file, "rb") as fh:
                        self.artifacts.put(spec.run_id, rel, fh, overwrite=True)
                    uploaded += 1
                except Exception as exc:
                    self.phase(layout.POST_LOG, f"cannot upload {rel}: {exc}")
        self.logs.sync()
        self.phase(layout.POST_LOG, f"uploaded {uploaded} file(s) from ./outputs")
        self._json_line(
            layout.PROCESS_STATUS,
            {"process_name": "*", "timestamp": _now(), "status": status.value},
        )
        ranks = layout.rank_log_paths(spec.node_count, spec.process_count_per_node)
        error = explain(  # from the tracebacks read: the index writes go on meanwhile
            status,
            error,
            self.indexer.stop_reading().tracebacks(),
            {path: rank for rank, path in enumerate(ranks)},
        )
        summary = f"run ended: {status.value}"
        if error is not None:
            summary += f" ({error.code}: {error.message})"
        self.phase(layout.POST_LOG, summary)
        try:
            current = self.store.get_run(spec.run_id)
            if status is RunStatus.CANCELED and self.timed_out is None:
                error = outcome.requested_cancel_error(current) or error
            if not current.status.is_terminal:
                self.store.set_status(spec.run_id, status, error=error)
        except RunStateError:
            pass
        self.settled(status)
        # everything worth keeping is in the run now (outputs, logs, the snapshot)
        if self.owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
        (Path(spec.workdir) / runenv.PRELOAD_FILE).unlink(missing_ok=True)
        # the run is over for its users; its log search results complete shortly after
        self.indexer.wait_indexed(INDEX_WAIT)
        return status


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def supervise(
    spec: RunSpec,
    store: TrackingStore,
    artifacts: ArtifactStore,
    kind: type[Supervisor] = Supervisor,
) -> RunStatus:
    """Run ``spec`` to the end (the body of the supervisor process); ``kind`` is the
    supervisor class of the run's compute target."""
    return kind(spec, store, artifacts).run()
