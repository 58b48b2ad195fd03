"""The local stand-in of one rank of a Ray run, and the actor that runs the rank.

``python -m runtrack.runner.ray_rank GROUP NODE CPUS -- ARGV...`` is started by
:class:`runtrack.runner.ray_target.RaySupervisor` for each rank, like a local rank
process: it places a :class:`RankProcess` actor in bundle ``NODE`` of placement group
``GROUP``, writes the actor's output (the rank's stdout and stderr, merged) to its own
stdout as it comes, and exits with the rank's exit code (or dies of the same signal).
SIGTERM/SIGINT asks the actor to stop the rank (SIGTERM to its process group, SIGKILL
after a grace period). The rank's process dies with the actor's worker, and the stand-in
with its supervisor (``PR_SET_PDEATHSIG``), so nothing outlives a killed run.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

POLL = 0.1
#: Variable of a rank's process: the id of the Ray node it runs on.
NODE_ID_ENV = "RUNTRACK_RAY_NODE_ID"
GRACE = 5.0
_PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Linux: deliver ``sig`` to this process when its parent ends (else nothing)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)


def _node_id() -> str:
    import ray

    return str(ray.get_runtime_context().get_node_id())


class RankProcess:
    """Runs one rank's command on the node Ray placed this actor on; buffers its output."""

    def __init__(self, command: list[str], env: dict[str, str], driver_python: str) -> None:
        argv = list(command)
        if argv and argv[0] == driver_python:  # the run's interpreter: this node's one
            argv[0] = sys.executable
        full = dict(os.environ)
        full.update(env)
        full[NODE_ID_ENV] = _node_id()
        self.popen = subprocess.Popen(
            argv,
            cwd=os.getcwd(),  # this node's copy of the job's working_dir
            env=full,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        self.buffer = bytearray()
        self.lock = threading.Lock()
        self.eof = threading.Event()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.popen.stdout is not None
        fd = self.popen.stdout.fileno()
        while block := os.read(fd, 1 << 16):
            with self.lock:
                self.buffer += block
        self.eof.set()

    def read(self) -> tuple[bytes, int | None]:
        """Output since the last call, and the exit code once the rank ended and all of
        its output was read (else None)."""
        ended = self.eof.is_set()
        with self.lock:
            data = bytes(self.buffer)
            self.buffer.clear()
        return data, (self.popen.poll() if ended else None)

    def terminate(self, grace: float) -> None:
        """SIGTERM the rank's process group; SIGKILL what is left after ``grace`` s."""

        def kill(sig: int) -> None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.popen.pid, sig)

        kill(signal.SIGTERM)

        def later() -> None:
            deadline = time.monotonic() + grace
            while self.popen.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            kill(signal.SIGKILL)

        threading.Thread(target=later, daemon=True).start()


def main(argv: list[str]) -> int:
    group_name, node, cpus = argv[0], int(argv[1]), float(argv[2])
    command = argv[4:] if argv[3:4] == ["--"] else argv[3:]
    die_with_parent(signal.SIGTERM)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    import ray
    from ray.util import get_placement_group
    from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

    from runtrack.runner.ray_target import NAMESPACE, RANK_ENV

    ray.init(address="auto", namespace=NAMESPACE, log_to_driver=False, logging_level=logging.ERROR)
    strategy = PlacementGroupSchedulingStrategy(
        get_placement_group(group_name), placement_group_bundle_index=node
    )
    actor: Any = (
        ray.remote(RankProcess)
        .options(num_cpus=cpus, scheduling_strategy=strategy)
        .remote(command, json.loads(os.environ.get(RANK_ENV, "{}")), sys.executable)
    )
    out = sys.stdout.buffer
    asked = False
    while True:
        if stop.is_set() and not asked:
            actor.terminate.remote(GRACE)
            asked = True
        try:
            data, code = ray.get(actor.read.remote(), timeout=60)
        except Exception as exc:  # the actor, its node or the cluster is gone
            sys.stderr.write(f"runtrack: the rank's Ray actor is lost: {exc}\n")
            sys.stderr.flush()
            return 1
        if data:
            out.write(data)
            out.flush()
        if code is not None:
            break
        time.sleep(POLL)
    if code < 0:  # end as the rank did: by the same signal
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    return int(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
