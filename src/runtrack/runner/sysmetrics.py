"""System metrics of a run: CPU, memory, disk, network, open files, and NVIDIA GPUs.

A :class:`SystemSampler` thread samples every ``interval`` seconds (default 10, see
:func:`runtrack.config.system_metrics_interval`) and ingests the samples straight into
the store as scalar series under ``sys/`` on its own stream (no spool: a lost sample
costs nothing). It runs in the supervisor for submitted runs (never in the user's
process) and as a daemon thread for interactive runs; the thread is started when the
first sample is due (by :data:`runtrack.spool.starter.STARTER`), so a run that ends
sooner starts none and gets its one sample when it ends. Names:

* per process tree of a rank: ``sys/rank{r}/cpu_percent`` (sum over the tree, 100 =
  one core), ``sys/rank{r}/rss_bytes``, ``sys/rank{r}/open_files`` and, with NVML,
  ``sys/rank{r}/gpu_memory_bytes`` (the tree's processes' GPU memory);
* per machine: ``sys/node{n}/memory_used_bytes``, ``…/memory_percent``,
  ``…/disk_read_bytes``, ``…/disk_write_bytes``, ``…/net_sent_bytes``,
  ``…/net_recv_bytes`` (bytes since the sampler started) and per GPU ``i``:
  ``sys/node{n}/gpu{i}/utilization_percent``, ``…/memory_used_bytes``,
  ``…/power_watts``, ``…/temperature_c``.

NVML comes from the optional ``nvidia-ml-py`` package (``pip install runtrack[gpu]``),
imported only when present. Without it, without a GPU, or when NVML raises, the GPU
series are simply absent; the other series go on.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import psutil

from runtrack._rules import SYSTEM_PREFIX
from runtrack.model import MetricBatch, Record
from runtrack.spool.starter import STARTER
from runtrack.store.base import TrackingStore

log = logging.getLogger("runtrack.runner")

PREFIX = SYSTEM_PREFIX
STREAM = "sys"
FIRST_SAMPLE_AFTER = 2.0


#: set once ``import pynvml`` found no module: looking again would scan ``sys.path`` for
#: it at every run's start (a module put into ``sys.modules`` later is still found)
_NOT_INSTALLED: list[bool] = []


def load_nvml() -> Any | None:
    """The initialised ``pynvml`` module, or None (not installed, no driver, no GPU)."""
    if _NOT_INSTALLED and "pynvml" not in sys.modules:
        return None
    try:
        nvml: Any = importlib.import_module("pynvml")
    except ModuleNotFoundError as exc:
        if exc.name == "pynvml" and "pynvml" not in sys.modules:
            _NOT_INSTALLED.append(True)
        return None
    except ImportError:
        return None
    try:
        nvml.nvmlInit()
        if nvml.nvmlDeviceGetCount() < 1:
            return None
    except Exception as exc:  # NVMLError (no driver, no device…) or anything else
        log.debug("runtrack: NVML unavailable: %s", exc)
        return None
    return nvml


class Probe:
    """Takes one sample: ``sample()`` → ``{name: value}`` (see the module doc)."""

    def __init__(self, ranks: Callable[[], dict[int, int]], node: int = 0,
                 nvml: Any | None = None) -> None:
        self._ranks = ranks  # rank -> pid of its top process
        self._node = node
        self._procs: dict[int, psutil.Process] = {}
        self._me = psutil.Process(os.getpid())
        self._nvml = nvml
        self._disk0 = _disk()
        self._net0 = _net()

    def sample(self) -> dict[str, float]:
        out: dict[str, float] = {}
        pids_of_rank: dict[int, set[int]] = {}
        for rank, tree in self._trees().items():
            pids_of_rank[rank] = {p.pid for p in tree}
            cpu = rss = files = 0.0
            for p in tree:
                try:
                    with p.oneshot():
                        cpu += p.cpu_percent(None)
                        rss += p.memory_info().rss
                        files += p.num_fds() if hasattr(p, "num_fds") else len(p.open_files())
                except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                    continue
            base = f"{PREFIX}rank{rank}/"
            out[base + "cpu_percent"] = round(cpu, 2)
            out[base + "rss_bytes"] = rss
            out[base + "open_files"] = files
        node = f"{PREFIX}node{self._node}/"
        memory = psutil.virtual_memory()
        out[node + "memory_used_bytes"] = float(memory.total - memory.available)
        out[node + "memory_percent"] = float(memory.percent)
        disk, net = _disk(), _net()
        out[node + "disk_read_bytes"] = float(disk[0] - self._disk0[0])
        out[node + "disk_write_bytes"] = float(disk[1] - self._disk0[1])
        out[node + "net_sent_bytes"] = float(net[0] - self._net0[0])
        out[node + "net_recv_bytes"] = float(net[1] - self._net0[1])
        if self._nvml is not None:
            try:
                out.update(self._gpus(node, pids_of_rank))
            except Exception as exc:  # a GPU fell off the bus, the driver restarted…
                log.warning("runtrack: GPU metrics stopped: %s", exc)
                self._nvml = None
        return out

    def _trees(self) -> dict[int, list[psutil.Process]]:
        """Each rank's process and its descendants (the ranks are this process or its
        descendants: the supervisor's children, or an interactive run's own process)."""
        tops = {pid: rank for rank, pid in self._ranks().items()}
        try:
            parent = descendants(self._me)
        except psutil.Error:
            return {}
        trees: dict[int, list[psutil.Process]] = {}
        seen: dict[int, psutil.Process] = {}
        for pid in [self._me.pid, *parent]:
            top = pid
            while top not in tops and top in parent:
                top = parent[top]
            if top not in tops:
                continue
            known = self._procs.get(pid)
            if known is None:  # its first cpu_percent() is a baseline (0.0)
                try:
                    known = self._me if pid == self._me.pid else psutil.Process(pid)
                except psutil.Error:  # ended since the walk
                    continue
                self._procs[pid] = known
                if pid in tops:
                    known.cpu_percent(None)
            seen[pid] = known
            trees.setdefault(tops[top], []).append(known)
        self._procs = seen  # forget processes that ended
        return trees

    def _gpus(self, node: str, pids_of_rank: dict[int, set[int]]) -> dict[str, float]:
        nvml: Any = self._nvml
        out: dict[str, float] = {}
        used_by_pid: dict[int, float] = {}
        for i in range(nvml.nvmlDeviceGetCount()):
            handle = nvml.nvmlDeviceGetHandleByIndex(i)
            base = f"{node}gpu{i}/"
            out[base + "utilization_percent"] = float(
                nvml.nvmlDeviceGetUtilizationRates(handle).gpu
            )
            out[base + "memory_used_bytes"] = float(nvml.nvmlDeviceGetMemoryInfo(handle).used)
            out[base + "power_watts"] = nvml.nvmlDeviceGetPowerUsage(handle) / 1000.0
            out[base + "temperature_c"] = float(
                nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU)
            )
            for proc in nvml.nvmlDeviceGetComputeRunningProcesses(handle):
                used = getattr(proc, "usedGpuMemory", None)
                if used is not None:
                    used_by_pid[int(proc.pid)] = used_by_pid.get(int(proc.pid), 0.0) + used
        for rank, pids in pids_of_rank.items():
            out[f"{PREFIX}rank{rank}/gpu_memory_bytes"] = sum(
                used_by_pid.get(pid, 0.0) for pid in pids
            )
        return out


def descendants(proc: psutil.Process) -> dict[int, int]:
    """``{pid: parent pid}`` of every descendant of ``proc``.

    On Linux a walk down the kernel's per-thread child lists (``/proc/<pid>/task/<tid>/
    children``): its cost grows with the tree, not with every process on the machine,
    which psutil's ``children(recursive=True)`` reads (milliseconds on a busy host, paid
    by every short run's final sample). Elsewhere, psutil's scan."""
    root = proc.pid
    if not os.path.exists(f"/proc/{root}/task/{root}/children"):
        found: dict[int, int] = {}
        for child in proc.children(recursive=True):
            try:
                found[child.pid] = child.ppid()
            except psutil.Error:
                continue
        return found
    found = {}
    frontier = [root]
    while frontier:
        below: list[int] = []
        for pid in frontier:
            try:
                threads = os.listdir(f"/proc/{pid}/task")
            except OSError:  # ended meanwhile
                continue
            for tid in threads:
                try:
                    with open(f"/proc/{pid}/task/{tid}/children") as f:
                        text = f.read()
                except OSError:
                    continue
                for child in map(int, text.split()):
                    if child not in found:
                        found[child] = pid
                        below.append(child)
        frontier = below
    return found


def _disk() -> tuple[int, int]:
    """Bytes read and written by the machine's disks so far (as psutil's
    ``disk_io_counters()``: whole devices, not their partitions).

    On Linux the per-device counters are summed here, with the test for a whole device
    remembered per name: psutil's own sum checks ``/sys/block`` for every line and keeps
    a wrap-around cache, together most of a short run's two disk reads (~0.3 ms each on
    a busy host, against ~0.07 ms). The kernel's counters are 64-bit there."""
    if not sys.platform.startswith("linux"):
        counters = psutil.disk_io_counters()
        return (counters.read_bytes, counters.write_bytes) if counters else (0, 0)
    read = written = 0
    for name, counters in psutil.disk_io_counters(perdisk=True, nowrap=False).items():
        whole = _WHOLE_DEVICE.get(name)
        if whole is None:  # psutil's test: a name under /sys/block (not a partition)
            whole = _WHOLE_DEVICE[name] = os.access(
                f"/sys/block/{name.replace('/', '!')}", os.F_OK
            )
        if whole:
            read += counters.read_bytes
            written += counters.write_bytes
    return read, written


#: device name -> whether it is a whole device (see :func:`_disk`)
_WHOLE_DEVICE: dict[str, bool] = {}


def _net() -> tuple[int, int]:
    counters = psutil.net_io_counters()
    return (counters.bytes_sent, counters.bytes_recv) if counters else (0, 0)


class SystemSampler(threading.Thread):
    """Samples ``probe`` every ``interval`` s into ``run_id``'s ``sys/…`` series."""

    def __init__(self, store: TrackingStore, run_id: str, probe: Probe, interval: float) -> None:
        super().__init__(name=f"runtrack-sysmetrics-{run_id}", daemon=True)
        self.store = store
        self.run_id = run_id
        self.probe = probe
        self.interval = interval
        self.samples = 0
        self._stop_event = threading.Event()
        #: held while the thread samples; ``stop`` sets ``_stopped`` under it
        self._sampling = threading.Lock()
        self._stopped = False
        self._launched = False
        self._seq: int | None = None
        #: monotonic time of the first sample: a little after the start, so CPU % covers
        #: a real interval
        self.first_due = time.monotonic() + min(interval, FIRST_SAMPLE_AFTER)

    def start(self) -> None:
        """Start the thread, unless it was started or the sampler stopped already
        (:func:`start` leaves this to :data:`~runtrack.spool.starter.STARTER` at
        ``first_due``: a run that ends sooner never starts a thread)."""
        with self._sampling:
            if self._stopped or self._launched:
                return
            self._launched = True
        super().start()

    def run(self) -> None:
        wait = max(0.0, self.first_due - time.monotonic())
        while not self._stop_event.wait(wait):
            with self._sampling:
                if self._stopped:
                    return
                self.sample_once()
            wait = self.interval

    def sample_once(self) -> None:
        """Take and store one sample (errors are logged, never raised)."""
        try:
            values = self.probe.sample()
            if self._seq is None:
                self._seq = self.store.ingest_position(self.run_id, STREAM)
            now = time.time()
            records: list[Record] = [
                (name, "scalar", self.samples, now, value) for name, value in values.items()
            ]
            self._seq = self.store.ingest(self.run_id, MetricBatch(STREAM, self._seq, records))
            self.samples += 1
        except Exception as exc:
            log.debug("runtrack: system metrics sample failed: %s", exc)

    def stop(self, sink: Callable[[dict[str, float]], None] | None = None) -> None:
        """Stop; a run that ended before its first sample still gets one, through
        ``sink`` when given (an interactive run's own spool: it ships with the run's
        other points in one batch, instead of a store write of its own).

        Waits only for a sample in progress, never for the thread to end (that would
        cost a short run a thread hand-off): the thread exits when it next wakes."""
        with self._sampling:
            self._stopped = True
        self._stop_event.set()
        if self.samples != 0:
            return
        if sink is None:
            self.sample_once()
            return
        try:
            sink(self.probe.sample())
            self.samples += 1
        except Exception as exc:
            log.debug("runtrack: system metrics sample failed: %s", exc)


def start(
    store: TrackingStore,
    run_id: str,
    ranks: Callable[[], dict[int, int]],
    interval: float | None,
) -> SystemSampler | None:
    """A sampler whose thread starts when its first sample is due (None when
    ``interval`` is None: switched off)."""
    if interval is None:
        return None
    sampler = SystemSampler(store, run_id, Probe(ranks, 0, load_nvml()), interval)
    STARTER.add(sampler, sampler.first_due)
    return sampler


def this_process() -> dict[int, int]:
    """``ranks`` for an interactive run: rank 0 is this process."""
    return {0: os.getpid()}
