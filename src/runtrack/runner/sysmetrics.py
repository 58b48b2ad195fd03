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
    """Takes one sample: ``sample()`` → ``{name: value}`` (see the module doc).

    A process's CPU percentage is its CPU time since its previous reading over the wall
    time between them (psutil's ``cpu_percent()``): the ranks' processes are read when
    the probe is made, so the first sample covers the time since then; a process first
    seen in a sample counts 0 in it."""

    def __init__(self, ranks: Callable[[], dict[int, int]], node: int = 0,
                 nvml: Any | None = None) -> None:
        self._ranks = ranks  # rank -> pid of its top process
        self._node = node
        self._nvml = nvml
        #: pid -> (its start time, CPU seconds, monotonic time) at its last reading
        self._cpu: dict[int, tuple[float, float, float]] = {}
        self._disk0, self._net0 = _node_counters(fresh=False)
        now = time.monotonic()
        for pid in ranks().values():
            cpu = _cpu_time(pid)
            if cpu is not None:
                self._cpu[pid] = (*cpu, now)

    def sample(self) -> dict[str, float]:
        out: dict[str, float] = {}
        pids_of_rank: dict[int, set[int]] = {}
        now = time.monotonic()
        seen: dict[int, tuple[float, float, float]] = {}
        for rank, tree in self._trees().items():
            cpu = rss = files = 0.0
            alive = False
            for pid in tree:
                figures = _figures(pid)
                if figures is None:  # ended since the walk, or ended and not reaped yet
                    continue
                alive = True
                started, seconds, resident, open_files = figures
                last = self._cpu.get(pid)
                if last is not None and last[0] == started:  # not a reused pid
                    cpu += _percent(seconds - last[1], now - last[2])
                seen[pid] = (started, seconds, now)
                rss += resident
                files += open_files
            if not alive:  # a rank whose processes have all ended has no figures
                continue
            pids_of_rank[rank] = set(tree)
            base = f"{PREFIX}rank{rank}/"
            out[base + "cpu_percent"] = round(cpu, 2)
            out[base + "rss_bytes"] = rss
            out[base + "open_files"] = files
        self._cpu = seen  # forget processes that ended
        node = f"{PREFIX}node{self._node}/"
        used, percent = _memory()
        out[node + "memory_used_bytes"] = used
        out[node + "memory_percent"] = percent
        disk, net = _node_counters(fresh=True)
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

    def _trees(self) -> dict[int, list[int]]:
        """Each rank's process and its descendants (the ranks are this process or its
        descendants: the supervisor's children, or an interactive run's own process)."""
        tops = {pid: rank for rank, pid in self._ranks().items()}
        me = os.getpid()
        try:
            parent = descendants(me)
        except psutil.Error:
            return {}
        trees: dict[int, list[int]] = {}
        for pid in [me, *parent]:
            top = pid
            while top not in tops and top in parent:
                top = parent[top]
            if top in tops:
                trees.setdefault(tops[top], []).append(pid)
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


#: the ``/proc`` read on Linux (a test points it, and psutil's ``PROCFS_PATH``, at a copy)
PROC = "/proc"
_LINUX = sys.platform.startswith("linux")
#: ``waitid`` option to count every kind of child (``__WALL``; Linux ≥ 4.7)
_WALL = 0x40000000


def _read(path: str) -> bytes:
    """A whole (``/proc``) file, with none of ``open()``'s buffered-text machinery."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _percent(cpu_seconds: float, wall_seconds: float) -> float:
    """psutil's ``cpu_percent()`` of one process (100 = one core)."""
    if wall_seconds <= 0:
        return 0.0
    return round(cpu_seconds / wall_seconds * 100, 1)


def _cpu_time(pid: int) -> tuple[float, float] | None:
    """``(start time, CPU seconds)`` of process ``pid``; None when it is gone (also when
    it has ended and is not reaped yet: a zombie) or hidden.
    On Linux one read of ``/proc/<pid>/stat`` (psutil makes a ``Process`` first, which
    reads it and the boot time), and for this process ``os.times()``: the same clock
    ticks, from a system call instead of a file. The start time tells a reused pid from
    the process read before (this process's own is never reused: 0 stands for it)."""
    if pid == os.getpid():
        times = os.times()
        return 0.0, times.user + times.system
    if not _LINUX:
        try:
            proc = psutil.Process(pid)
            with proc.oneshot():
                return _psutil_cpu_time(proc)
        except psutil.Error:
            return None
    try:
        stat = _read(f"{PROC}/{pid}/stat")
    except OSError:
        return None
    # after the command's ")": field n of proc(5) is fields[n - 3]
    fields = stat[stat.rfind(b")") + 2:].split()
    if fields[:1] == [b"Z"]:
        return None
    try:
        return float(fields[19]), (int(fields[11]) + int(fields[12])) / _TICKS
    except (IndexError, ValueError):
        return None


def _psutil_cpu_time(proc: psutil.Process) -> tuple[float, float] | None:
    """:func:`_cpu_time` of another process through psutil (in ``proc.oneshot()``)."""
    if proc.status() == psutil.STATUS_ZOMBIE:
        return None
    times = proc.cpu_times()
    return proc.create_time(), times.user + times.system


def _figures(pid: int) -> tuple[float, float, float, float] | None:
    """``(start time, CPU seconds, resident bytes, open files)`` of process ``pid``
    (:func:`_cpu_time`, psutil's ``memory_info().rss`` and ``num_fds()``); None when it
    is gone or hidden. Open files count 0 when they cannot be listed. Elsewhere than on
    Linux, all four from one psutil ``Process``."""
    if not _LINUX:
        try:
            proc = psutil.Process(pid)
            with proc.oneshot():
                cpu = _cpu_time(pid) if pid == os.getpid() else _psutil_cpu_time(proc)
                rss = proc.memory_info().rss
                try:
                    files = proc.num_fds() if hasattr(proc, "num_fds") else len(proc.open_files())
                except psutil.Error:
                    files = 0
        except psutil.Error:
            return None
        return (*cpu, float(rss), float(files)) if cpu is not None else None
    cpu = _cpu_time(pid)
    if cpu is None:
        return None
    try:  # statm's figure, as psutil's (stat's rss field differed by a few pages here)
        rss = int(_read(f"{PROC}/{pid}/statm").split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return None
    try:
        files = len(os.listdir(f"{PROC}/{pid}/fd"))
    except OSError:
        files = 0
    return (*cpu, float(rss), float(files))


def descendants(root: int) -> dict[int, int]:
    """``{pid: parent pid}`` of every descendant of process ``root`` (this process or
    one of its descendants).

    On Linux a walk down the kernel's per-thread child lists (``/proc/<pid>/task/<tid>/
    children``): its cost grows with the tree, not with every process on the machine,
    which psutil's ``children(recursive=True)`` reads (milliseconds on a busy host, paid
    by every short run's final sample). A process with no child at all (``waitid``
    says so without waiting) is not walked. Elsewhere, psutil's scan."""
    if not _child_lists():
        found: dict[int, int] = {}
        for child in psutil.Process(root).children(recursive=True):
            try:
                found[child.pid] = child.ppid()
            except psutil.Error:
                continue
        return found
    found = {}
    if root == os.getpid() and _childless():
        return found
    frontier = [root]
    while frontier:
        below: list[int] = []
        for pid in frontier:
            try:
                threads = os.listdir(f"{PROC}/{pid}/task")
            except OSError:  # ended meanwhile
                continue
            for tid in threads:
                try:
                    text = _read(f"{PROC}/{pid}/task/{tid}/children")
                except OSError:
                    continue
                for child in map(int, text.split()):
                    if child not in found:
                        found[child] = pid
                        below.append(child)
        frontier = below
    return found


#: whether ``/proc/<pid>/task/<tid>/children`` exists (a kernel build option), learnt
#: once per process
_CHILD_LISTS: list[bool] = []


def _child_lists() -> bool:
    if not _CHILD_LISTS:
        me = os.getpid()
        _CHILD_LISTS.append(_LINUX and os.path.exists(f"{PROC}/{me}/task/{me}/children"))
    return _CHILD_LISTS[0]


def _childless() -> bool:
    """Whether this process has no child process, alive or not yet reaped (its threads'
    children included). ``WNOWAIT``: a child that ended stays for its owner to reap."""
    try:
        os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT | _WALL)
    except ChildProcessError:
        return True
    except OSError:  # a kernel without __WALL for waitid: walk
        return False
    return False


def _memory() -> tuple[float, float]:
    """The machine's memory in use, in bytes and percent, as psutil's
    ``virtual_memory()`` computes them (total - available). On Linux three lines of
    ``/proc/meminfo``, where psutil parses all of them; psutil itself where the kernel's
    ``MemAvailable`` is missing or 0 (it estimates one then)."""
    if _LINUX:
        found: dict[bytes, int] = {}
        for line in _read(f"{PROC}/meminfo").splitlines():
            key, _, value = line.partition(b":")
            if key in _MEMINFO_KEYS:
                found[key] = int(value.split()[0]) * 1024
                if len(found) == len(_MEMINFO_KEYS):
                    break
        total, available = found.get(b"MemTotal", 0), found.get(b"MemAvailable", 0)
        if total > 0 and available > 0:
            if available > total:  # a container's distorted figures: psutil takes free
                available = found.get(b"MemFree", 0)
            return float(total - available), round((total - available) / total * 100, 1)
    memory = psutil.virtual_memory()
    return float(memory.total - memory.available), float(memory.percent)


_MEMINFO_KEYS = (b"MemTotal", b"MemFree", b"MemAvailable")


def _disk() -> tuple[int, int]:
    """Bytes read and written by the machine's disks so far (as psutil's
    ``disk_io_counters()``: whole devices, not their partitions).

    On Linux ``/proc/diskstats`` is read and summed here, with the test for a whole
    device remembered per name: psutil's own sum checks ``/sys/block`` for every line
    and keeps a wrap-around cache, together most of a short run's two disk reads (~0.3
    ms each on a busy host). The kernel's counters are 64-bit there."""
    if _LINUX:
        try:
            text = _read(f"{PROC}/diskstats")
        except OSError:  # no such file: psutil reads /sys/block instead
            text = None
        if text is not None:
            sectors = _whole_device_sectors(text)
            if sectors is not None:
                return sectors[0] * _SECTOR, sectors[1] * _SECTOR
    counters = psutil.disk_io_counters()
    return (counters.read_bytes, counters.write_bytes) if counters else (0, 0)


#: bytes per sector in ``/proc/diskstats`` (always 512, whatever the device's)
_SECTOR = 512


def _whole_device_sectors(text: bytes) -> tuple[int, int] | None:
    """Sectors read and written by the whole devices of a ``/proc/diskstats`` text;
    None for a line format psutil does not read either."""
    read = written = 0
    for line in text.splitlines():
        fields = line.split()
        size = len(fields)
        if size == 14 or size >= 18:  # Linux 2.6+
            name, r, w = fields[2], fields[5], fields[9]
        elif size == 15:  # Linux 2.4
            name, r, w = fields[3], fields[5], fields[9]
        elif size == 7:  # Linux 2.6, a partition
            name, r, w = fields[2], fields[4], fields[6]
        else:
            return None
        whole = _WHOLE_DEVICE.get(name)
        if whole is None:  # psutil's test: a name under /sys/block (not a partition)
            whole = _WHOLE_DEVICE[name] = os.access(
                b"/sys/block/" + name.replace(b"/", b"!"), os.F_OK
            )
        if whole:
            read += int(r)
            written += int(w)
    return read, written


#: device name -> whether it is a whole device (see :func:`_disk`)
_WHOLE_DEVICE: dict[bytes, bool] = {}


#: a baseline of the machine's disk and network counters may be a reading this old (s)
BASELINE_REUSE = 0.01
#: the last reading: (monotonic time, disk counters, network counters)
_last_reading: tuple[float, tuple[int, int], tuple[int, int]] = (-1e9, (0, 0), (0, 0))


def _node_counters(*, fresh: bool) -> tuple[tuple[int, int], tuple[int, int]]:
    """The machine's disk and network counters (:func:`_disk`, :func:`_net`). A sample
    (``fresh``) always reads them; a probe's baseline takes a reading less than
    :data:`BASELINE_REUSE` old instead (whole-machine counters, 10 ms apart: the last
    sample of one short run serves as the next one's baseline, two ``/proc`` reads
    fewer each)."""
    global _last_reading
    when, disk, net = _last_reading
    now = time.monotonic()
    if fresh or now - when > BASELINE_REUSE:
        disk, net = _disk(), _net()
        _last_reading = (now, disk, net)
    return disk, net


def _net() -> tuple[int, int]:
    """Bytes sent and received by the machine's network interfaces so far (psutil's
    ``net_io_counters()``). On Linux summed from ``/proc/net/dev`` here, without
    psutil's wrap-around cache: the kernel's counters are 64-bit there."""
    if _LINUX:
        sent = received = 0
        for line in _read(f"{PROC}/net/dev").splitlines()[2:]:
            fields = line[line.rfind(b":") + 1:].split()
            received += int(fields[0])
            sent += int(fields[8])
        return sent, received
    counters = psutil.net_io_counters()
    return (counters.bytes_sent, counters.bytes_recv) if counters else (0, 0)


#: clock ticks per second and bytes per page, for ``/proc/<pid>/stat`` (Linux)
_TICKS = os.sysconf("SC_CLK_TCK") if _LINUX else 100
_PAGE = os.sysconf("SC_PAGE_SIZE") if _LINUX else 4096


class SystemSampler:
    """Samples ``probe`` every ``interval`` s into ``run_id``'s ``sys/…`` series, from a
    daemon thread (:attr:`thread`) made by :meth:`start`."""

    def __init__(self, store: TrackingStore, run_id: str, probe: Probe, interval: float) -> None:
        self.store = store
        self.run_id = run_id
        self.probe = probe
        self.interval = interval
        self.samples = 0
        #: the sampling thread, once started (a run that ends sooner never makes one)
        self.thread: threading.Thread | None = None
        self._stop_event: threading.Event | None = None
        #: held while the thread samples; ``stop`` sets ``_stopped`` under it
        self._sampling = threading.Lock()
        self._stopped = False
        self._seq: int | None = None
        #: monotonic time of the first sample: a little after the start, so CPU % covers
        #: a real interval
        self.first_due = time.monotonic() + min(interval, FIRST_SAMPLE_AFTER)

    def start(self) -> None:
        """Make and start the thread, unless it was started or the sampler stopped
        already (:func:`start` leaves this to :data:`~runtrack.spool.starter.STARTER`
        at ``first_due``: a run that ends sooner never makes a thread)."""
        with self._sampling:
            if self._stopped or self.thread is not None:
                return
            self._stop_event = threading.Event()
            self.thread = threading.Thread(
                target=self._run, args=(self._stop_event,),
                name=f"runtrack-sysmetrics-{self.run_id}", daemon=True,
            )
        self.thread.start()

    def _run(self, stop_event: threading.Event) -> None:
        wait = max(0.0, self.first_due - time.monotonic())
        while not stop_event.wait(wait):
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
            stop_event = self._stop_event
        if stop_event is not None:
            stop_event.set()
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
