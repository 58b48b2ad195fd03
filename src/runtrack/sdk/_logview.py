"""Read a run's logs while it runs: pick a rank's file, follow it, render it.

:func:`stream_run` is what ``wait_for_completion(show_output=True)``,
``submit(..., show_output=True)`` and ``runtrack logs --follow`` print: a header naming
the run, each new chunk of the followed log as it is shipped, and an execution summary.
"""

from __future__ import annotations

import codecs
import json
import sys
import time
from typing import TYPE_CHECKING, TextIO

from runtrack.errors import InvalidValueError
from runtrack.model import RunInfo
from runtrack.store.base import ArtifactStore

if TYPE_CHECKING:
    from runtrack.sdk.run import Run

POLL_SECONDS = 0.2

INTERACTIVE_LOG = "logs/user_log.txt"


def log_path_for(info: RunInfo, rank: int = 0) -> str:
    """Artifact path of process ``rank``'s log (rank 0: the one to stream). A submitted
    (script) run has one log per process; any other run has the output its ``with run:``
    block captured, ``logs/user_log.txt``."""
    if info.run_type != "script":
        if rank != 0:
            raise InvalidValueError(
                f"run {info.id} ({info.run_type}) has one log, rank 0; there is no rank {rank}"
            )
        return INTERACTIVE_LOG
    definition = info.definition or {}
    nodes = int(definition.get("nodeCount") or 1)
    per_node = int(definition.get("processCountPerNode") or 1)
    from runtrack.runner.spec import rank_log_paths  # (and below) not at import time

    paths = rank_log_paths(nodes, per_node)
    if not 0 <= rank < len(paths):
        raise InvalidValueError(
            f"run {info.id} has ranks 0..{len(paths) - 1}; there is no rank {rank}"
        )
    return paths[rank]


def render_terminal(text: str) -> str:
    """What a terminal would show for ``text``, as plain text (:mod:`runtrack._ansi`)."""
    from runtrack import _ansi

    return _ansi.terminal_text(text)


class LogFollower:
    """Returns the bytes of one log artifact that appeared since the last call."""

    def __init__(self, artifacts: ArtifactStore, run_id: str, path: str) -> None:
        self.artifacts = artifacts
        self.run_id = run_id
        self.path = path
        self.offset = 0

    def read_new(self, limit: int = 1 << 20) -> bytes:
        if not self.artifacts.exists(self.run_id, self.path):
            return b""
        chunks: list[bytes] = []
        while True:
            data = self.artifacts.read_range(self.run_id, self.path, self.offset, limit)
            if not data:
                return b"".join(chunks)
            self.offset += len(data)
            chunks.append(data)
            if len(data) < limit:
                return b"".join(chunks)


def stream_run(
    run: Run,
    out: TextIO | None = None,
    *,
    rank: int = 0,
    raw: bool = True,
    timeout: float | None = None,
    header: bool = True,
) -> RunInfo:
    """Print ``run``'s header, follow its rank's log until the run ends, print a summary.

    ``raw=False`` renders carriage returns and drops colours (for files and pipes).
    TimeoutError after ``timeout`` seconds (the run keeps going). ``header=False``
    prints only the log's bytes.
    """
    out = out or sys.stdout
    deadline = None if timeout is None else time.monotonic() + timeout
    info = run.experiment.workspace.store.get_run(run.id)
    if header:
        out.write(f"RunId: {run.id}\nWeb View: {run.web_view()}\n")
    path = log_path_for(info, rank)
    follower = LogFollower(run.experiment.workspace.artifacts, run.id, path)
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    pending = ""
    started = False
    while True:
        status = run.get_status()
        done = run.info.status.is_terminal
        data = follower.read_new()
        if data:
            if not started and header:
                title = f"Streaming {path}"
                out.write(f"\n{title}\n{'=' * len(title)}\n\n")
            started = True
            text = pending + decoder.decode(data)
            if raw:
                out.write(text)
                pending = ""
            else:
                head, sep, pending = text.rpartition("\n")
                if sep:
                    out.write(render_terminal(head + sep))
            out.flush()
        if done and not data:
            break
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(
                f"run {run.id} is still {status} after {timeout:g} s; it keeps running"
            )
        time.sleep(POLL_SECONDS)
    if pending:
        out.write(pending if raw else render_terminal(pending))
    info = run.info
    if not header:
        out.flush()
        return info
    if info.status.value == "Failed" and not started:
        from runtrack.runner.spec import ENVIRONMENT_LOG

        artifacts = run.experiment.workspace.artifacts
        env_log = LogFollower(artifacts, run.id, ENVIRONMENT_LOG).read_new()
        if env_log:
            out.write("\n" + env_log.decode("utf-8", "replace")[-4000:])
    out.write(f"\nExecution Summary\n=================\nRunId: {run.id}\n")
    out.write(f"Web View: {run.web_view()}\nStatus: {info.status.value}\n")
    if info.error is not None and info.status.value != "Completed":
        out.write(json.dumps({"error": info.error.to_json()}, indent=2) + "\n")
    out.flush()
    return info
