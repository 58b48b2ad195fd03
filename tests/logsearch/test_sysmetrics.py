"""The system-metrics sampler: psutil series, NVML missing or raising, the off switch.

No GPU exists on the test machines, so "NVML missing" is the real state of this
interpreter (``nvidia-ml-py`` is not installed by the test extras); "NVML raising" uses
a fake ``pynvml`` module put in ``sys.modules`` (the one fake in these tests: a real
NVML cannot be made to fail on demand without a GPU)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
import types
from typing import Any

import pytest

from runtrack import Experiment, config
from runtrack.errors import ConfigError
from runtrack.runner import sysmetrics
from runtrack.store.sql import SqlStore


def _probe(nvml: Any = None) -> sysmetrics.Probe:
    return sysmetrics.Probe(sysmetrics.this_process, 0, nvml)


def test_psutil_series_for_a_process_tree() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        probe = sysmetrics.Probe(lambda: {3: os.getpid()}, 1)
        probe.sample()
        values = probe.sample()
    finally:
        child.kill()
        child.wait()
    assert values["sys/rank3/rss_bytes"] > 1 << 20  # this process and its child
    assert values["sys/rank3/open_files"] >= 3
    assert values["sys/rank3/cpu_percent"] >= 0
    for name in ("memory_used_bytes", "memory_percent", "disk_read_bytes", "disk_write_bytes",
                 "net_sent_bytes", "net_recv_bytes"):
        assert f"sys/node1/{name}" in values
    assert not any("gpu" in k for k in values)


def test_nvml_missing_means_no_gpu_series(monkeypatch: pytest.MonkeyPatch) -> None:
    if importlib.util.find_spec("pynvml") is not None:  # installed here: make it missing
        monkeypatch.setitem(sys.modules, "pynvml", None)  # import pynvml -> ImportError
    assert sysmetrics.load_nvml() is None
    assert not any("gpu" in k for k in _probe(sysmetrics.load_nvml()).sample())


@pytest.mark.parametrize("fail_at", ["nvmlInit", "nvmlDeviceGetCount"])
def test_nvml_raising_while_loading_means_no_gpu_series(
    monkeypatch: pytest.MonkeyPatch, fail_at: str
) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", _fake_nvml(fail_at))
    assert sysmetrics.load_nvml() is None


class _NvmlError(Exception):
    pass


def _fake_nvml(fail_at: str) -> types.ModuleType:
    fake = types.ModuleType("pynvml")
    calls: dict[str, int] = {}

    def call(name: str, value: Any) -> Any:
        def fn(*_: Any) -> Any:
            calls[name] = calls.get(name, 0) + 1
            if name == fail_at:
                raise _NvmlError(f"NVML {name} failed")
            return value
        return fn

    memory = types.SimpleNamespace(used=3 << 30)
    proc = types.SimpleNamespace(pid=os.getpid(), usedGpuMemory=1 << 30)
    for name, value in (("nvmlInit", None), ("nvmlDeviceGetCount", 1),
                        ("nvmlDeviceGetHandleByIndex", object()),
                        ("nvmlDeviceGetUtilizationRates", types.SimpleNamespace(gpu=87)),
                        ("nvmlDeviceGetMemoryInfo", memory),
                        ("nvmlDeviceGetPowerUsage", 215_000),
                        ("nvmlDeviceGetTemperature", 66),
                        ("nvmlDeviceGetComputeRunningProcesses", [proc])):
        setattr(fake, name, call(name, value))
    fake.NVML_TEMPERATURE_GPU = 0  # type: ignore[attr-defined]
    return fake


def test_nvml_series_then_nvml_raising_mid_run(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _fake_nvml("never")
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    nvml = sysmetrics.load_nvml()
    assert nvml is fake
    probe = _probe(nvml)
    values = probe.sample()
    assert values["sys/node0/gpu0/utilization_percent"] == 87
    assert values["sys/node0/gpu0/memory_used_bytes"] == 3 << 30
    assert values["sys/node0/gpu0/power_watts"] == 215.0
    assert values["sys/node0/gpu0/temperature_c"] == 66
    assert values["sys/rank0/gpu_memory_bytes"] == 1 << 30

    def broken(*_: Any) -> Any:
        raise _NvmlError("GPU is lost")

    monkeypatch.setattr(fake, "nvmlDeviceGetUtilizationRates", broken)
    values = probe.sample()  # GPU series stop, the rest go on
    assert "sys/rank0/cpu_percent" in values and not any("gpu" in k for k in values)
    monkeypatch.setattr(fake, "nvmlDeviceGetUtilizationRates", lambda *_: None)
    assert not any("gpu" in k for k in probe.sample())  # and stay off for the run


def test_interval_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert config.system_metrics_interval() == 10.0
    monkeypatch.setenv("RUNTRACK_SYSTEM_METRICS_INTERVAL", "2.5")
    assert config.system_metrics_interval() == 2.5
    for off in ("0", "off", "OFF"):
        monkeypatch.setenv("RUNTRACK_SYSTEM_METRICS_INTERVAL", off)
        assert config.system_metrics_interval() is None
    for bad in ("fast", "-1", "0.01"):
        monkeypatch.setenv("RUNTRACK_SYSTEM_METRICS_INTERVAL", bad)
        with pytest.raises(ConfigError, match="RUNTRACK_SYSTEM_METRICS_INTERVAL"):
            config.system_metrics_interval()


def test_interactive_run_samples_in_a_daemon_thread(exp: Experiment,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNTRACK_SYSTEM_METRICS_INTERVAL", "0.2")
    run = exp.start_logging(outputs=False)
    sampler = run._ending.observers._sampler  # type: ignore[union-attr]
    assert sampler is not None
    deadline = time.monotonic() + 60  # bounded wait for the starter, not a timing assertion
    while sampler.samples < 1:
        assert time.monotonic() < deadline, "the sampler thread never sampled"
        time.sleep(0.02)
    thread = sampler.thread
    assert thread is not None and thread.daemon
    assert thread.is_alive()  # started when its first sample was due
    run.log("loss", 1.0)
    run.complete()
    samples = sampler.samples
    thread.join(30.0)  # complete() does not wait for the thread: it ends on its own
    assert not thread.is_alive() and sampler.samples == samples
    system = run.get_system_metrics()
    assert "sys/rank0/rss_bytes" in system and "sys/node0/memory_percent" in system
    assert run.get_metrics() == {"loss": 1.0}
    assert run.get_system_metrics("sys/rank0/rss_bytes").keys() == {"sys/rank0/rss_bytes"}


def test_switched_off_or_misconfigured_runs_have_none(exp: Experiment,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("RUNTRACK_SYSTEM_METRICS_INTERVAL", "0")
    run = exp.start_logging(outputs=False)
    run.complete()
    assert run.get_system_metrics() == {}
    monkeypatch.setenv("RUNTRACK_SYSTEM_METRICS_INTERVAL", "often")
    run = exp.start_logging(outputs=False)  # a bad setting never stops the run
    run.complete()
    assert run.get_system_metrics() == {}
    assert "RUNTRACK_SYSTEM_METRICS_INTERVAL" in caplog.text


def test_sampler_survives_a_failing_store(tmp_path: Any) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    sampler = sysmetrics.SystemSampler(store, "no-such-run", _probe(), 60)
    sampler.sample_once()  # NotFoundError inside: logged, not raised
    assert sampler.samples == 0
    store.close()


def test_a_missing_nvml_is_looked_up_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each run's sampler asks for NVML; once ``import pynvml`` found no module, later
    runs skip the ``sys.path`` scan, yet a module put into ``sys.modules`` is found."""
    monkeypatch.setattr(sysmetrics, "_NOT_INSTALLED", [])
    monkeypatch.delitem(sys.modules, "pynvml", raising=False)
    looked: list[str] = []

    def missing(name: str) -> Any:
        looked.append(name)
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    monkeypatch.setattr(sysmetrics.importlib, "import_module", missing)
    assert sysmetrics.load_nvml() is None
    assert sysmetrics.load_nvml() is None
    assert looked == ["pynvml"]
    monkeypatch.undo()
    monkeypatch.setattr(sysmetrics, "_NOT_INSTALLED", [True])
    fake = _fake_nvml("never")
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    assert sysmetrics.load_nvml() is fake


def test_a_short_run_starts_no_sampler_thread(exp: Experiment,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A run that ends before its first sample is due never starts the sampler's thread
    (the process-wide starter would have started it then); it still gets one sample,
    taken when it ends."""
    monkeypatch.setenv("RUNTRACK_SYSTEM_METRICS_INTERVAL", "60")
    run = exp.start_logging(outputs=False)
    sampler = run._ending.observers._sampler  # type: ignore[union-attr]
    assert sampler is not None
    run.log("loss", 1.0)
    run.complete()
    assert sampler.thread is None  # never made
    sampler.start()  # what the starter does at the deadline: nothing, the run is over
    assert sampler.thread is None
    assert "sys/rank0/rss_bytes" in run.get_system_metrics()


def test_disk_counters_are_psutils_sum_of_whole_devices() -> None:
    """``_disk`` sums the devices itself (cheaper); its totals are psutil's: read
    between two of psutil's readings, these counters only grow."""
    import psutil

    before = psutil.disk_io_counters()
    read, written = sysmetrics._disk()
    after = psutil.disk_io_counters()
    if before is None or after is None:  # no disks visible (some containers)
        assert (read, written) == (0, 0)
        return
    assert before.read_bytes <= read <= after.read_bytes
    assert before.write_bytes <= written <= after.write_bytes


def _burn_cpu(seconds: float) -> None:
    start = time.process_time()
    while time.process_time() - start < seconds:  # bounded: CPU time always advances
        sum(range(10_000))


def test_the_first_sample_covers_the_time_since_the_probe_was_made() -> None:
    """A short run's one sample gives its CPU over the run: the ranks' processes are
    read when the probe is made (their first reading used to be taken right before
    the first sample: 0, or a spike of thousands of percent on a clock tick)."""
    probe = _probe()
    _burn_cpu(0.2)
    cpu = probe.sample()["sys/rank0/cpu_percent"]
    assert 0 < cpu <= 100 * (os.cpu_count() or 1) * 1.1


def _ready_child() -> subprocess.Popen[str]:
    """A child process done starting, asleep: its figures stay still."""
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; print('ready', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )
    assert child.stdout is not None and child.stdout.readline() == "ready\n"
    return child


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_process_figures_are_psutils() -> None:
    """CPU seconds, resident bytes and open files of a process, read from ``/proc``
    here, equal psutil's figures for it."""
    import psutil

    child = _ready_child()
    try:
        figures = sysmetrics._figures(child.pid)
        proc = psutil.Process(child.pid)
        times = proc.cpu_times()
        rss, fds = proc.memory_info().rss, proc.num_fds()
        assert figures is not None and sysmetrics._figures(child.pid) == figures
        assert sysmetrics._cpu_time(child.pid) == figures[:2]
    finally:
        child.kill()
        child.wait()
    assert figures[1] == pytest.approx(times.user + times.system, abs=1e-9)
    assert figures[2:] == (rss, fds)
    me = psutil.Process()  # this process's CPU comes from os.times(): the same ticks
    before = me.cpu_times()
    mine = sysmetrics._cpu_time(os.getpid())
    after = me.cpu_times()
    assert mine is not None
    assert before.user + before.system <= mine[1] <= after.user + after.system
    assert sysmetrics._figures(child.pid) is None  # reaped: gone
    assert sysmetrics._cpu_time(child.pid) is None


_MEMINFO = """\
MemTotal:       16303428 kB
MemFree:         1123456 kB
MemAvailable:   {available} kB
Buffers:          345678 kB
Cached:          5678901 kB
SwapCached:            0 kB
Active:          6789012 kB
Inactive:        4567890 kB
Shmem:            123456 kB
Slab:             456789 kB
SReclaimable:     345678 kB
"""

_NET_DEV = """\
Inter-|   Receive                                   |  Transmit
 face |bytes packets errs drop fifo frame compressed multicast|bytes packets errs drop ...
    lo: 52919158548 8017966 0 0 0 0 0 0 52919158548 8017966 0 0 0 0 0 0
  eth0:12345678901 998877 1 2 0 0 0 3 98765432109 554433 4 5 0 0 0 0
veth1a2b:    4096 12 0 0 0 0 0 0 8192 24 0 0 0 0 0 0
"""


def _diskstats(whole: list[str]) -> str:
    """A ``/proc/diskstats`` text: lines of whole devices (real ones of this machine, so
    that psutil counts them too) in the formats of several kernels, and partitions."""
    lines = []
    for i, name in enumerate(whole):
        tail = " 0 0 0 0" + (" 0 0" if i % 2 else "")  # 4.18+ and 5.5+ field counts
        lines.append(f"   7 {i} {name} 100 2 {4096 + i} 30 200 3 {8192 + i} 40 0 50 70{tail}")
    lines.append(" 259 1 fakedisk0p1 100 2 777 30 200 3 888 40 0 50 70 0 0 0 0")
    lines.append("   3 1 fakehda1 10 555 20 666")
    return "\n".join(lines) + "\n"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("available", ["9876543", "17000000", None])
def test_machine_figures_are_psutils(tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
                                     available: str | None) -> None:
    """Memory, disk and network totals parsed here from ``/proc`` files equal psutil's
    (which reads the same copies through its ``PROCFS_PATH``), including memory above
    the total (a container's figures: psutil takes the free memory then) and a kernel
    without ``MemAvailable`` (psutil's own estimate)."""
    import psutil

    meminfo = _MEMINFO.format(available=available)
    if available is None:
        meminfo = "".join(line + "\n" for line in meminfo.splitlines()
                          if not line.startswith("MemAvailable"))
    whole = sorted(os.listdir("/sys/block"))[:3] if os.path.isdir("/sys/block") else []
    (tmp_path / "meminfo").write_text(meminfo)
    (tmp_path / "diskstats").write_text(_diskstats(whole))
    (tmp_path / "net").mkdir()
    (tmp_path / "net" / "dev").write_text(_NET_DEV)
    monkeypatch.setattr(psutil, "PROCFS_PATH", str(tmp_path))
    monkeypatch.setattr(sysmetrics, "PROC", str(tmp_path))
    monkeypatch.setattr(sysmetrics, "_WHOLE_DEVICE", {})
    memory = psutil.virtual_memory()
    assert sysmetrics._memory() == (memory.total - memory.available, memory.percent)
    disk = psutil.disk_io_counters(nowrap=False)
    assert disk is not None
    assert sysmetrics._disk() == (disk.read_bytes, disk.write_bytes)
    assert sysmetrics._disk()[0] == sum(4096 + i for i in range(len(whole))) * 512
    net = psutil.net_io_counters(nowrap=False)
    assert sysmetrics._net() == (net.bytes_sent, net.bytes_recv)
    assert sysmetrics._net() == (52919158548 + 98765432109 + 8192, 52919158548 + 12345678901 + 4096)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux child lists")
def test_child_processes_are_found_and_left_to_their_owner() -> None:
    """A process without children skips the walk (``waitid`` says so); one with a
    child, started by any thread, or one that ended and is not yet reaped, walks it;
    the check never reaps a child (its owner still gets the exit status)."""
    script = """if True:
        import os, subprocess, sys, threading, time
        from runtrack.runner import sysmetrics as s
        me = os.getpid()
        assert s._childless() and s.descendants(me) == {}
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        assert not s._childless() and s.descendants(me) == {child.pid: me}
        child.kill(); child.wait()
        assert s._childless()
        started = []
        thread = threading.Thread(target=lambda: started.append(
            subprocess.Popen([sys.executable, "-c", "import sys; sys.exit(3)"])))
        thread.start(); thread.join()
        ended = started[0]
        deadline = time.monotonic() + 60
        while open(f"/proc/{ended.pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert not s._childless() and ended.pid in s.descendants(me)
        assert ended.wait() == 3 and s._childless()
        print("ok")
    """
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, env={**os.environ})
    assert done.stdout == "ok\n", done.stderr


def test_the_psutil_path_of_other_systems(monkeypatch: pytest.MonkeyPatch) -> None:
    """Off Linux the figures come from psutil: the same series, the first sample's CPU
    counted from the probe's start as on Linux, children found by psutil's scan."""
    linux = sorted(_probe().sample())
    monkeypatch.setattr(sysmetrics, "_LINUX", False)
    monkeypatch.setattr(sysmetrics, "_CHILD_LISTS", [])
    child = _ready_child()
    try:
        probe = _probe()
        _burn_cpu(0.2)
        values = probe.sample()
        assert child.pid in sysmetrics.descendants(os.getpid())
    finally:
        child.kill()
        child.wait()
    assert sorted(values) == linux
    assert values["sys/rank0/cpu_percent"] > 0
    assert values["sys/rank0/rss_bytes"] > 1 << 20 and values["sys/rank0/open_files"] >= 3
    assert 0 < values["sys/node0/memory_percent"] <= 100


@pytest.mark.parametrize("linux", [True, False], ids=["proc", "psutil"])
def test_a_rank_whose_process_ended_gives_no_figures(
    linux: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rank whose process has exited but is not reaped yet (a zombie: the supervisor's
    last sample can come between the two) has no figures in the sample, not zeros (a
    0-byte resident size in a run's ``rss_bytes`` series)."""
    if linux and not sys.platform.startswith("linux"):
        pytest.skip("reads /proc")
    monkeypatch.setattr(sysmetrics, "_LINUX", linux)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = time.monotonic() + 60  # bounded wait for it to exit, not a timing check
        while os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
            assert time.monotonic() < deadline, "the child never exited"
            time.sleep(0.01)
        probe = sysmetrics.Probe(lambda: {0: os.getpid(), 1: child.pid})
        sample = probe.sample()
        assert sample["sys/rank0/rss_bytes"] > 1 << 20
        assert not [k for k in sample if k.startswith("sys/rank1/")], sample
    finally:
        child.wait()


def test_a_baseline_reuses_a_reading_of_the_last_moments(monkeypatch: pytest.MonkeyPatch) -> None:
    """A probe's baseline of the machine's disk and network counters is the last
    sample's reading when that is younger than BASELINE_REUSE (the next of a loop of
    short runs); a sample always reads them, and an older reading is read again."""
    reads: list[str] = []
    counters = iter(range(100, 10_000, 100))

    def disk() -> tuple[int, int]:
        reads.append("disk")
        value = next(counters)
        return value, value

    monkeypatch.setattr(sysmetrics, "_disk", disk)
    monkeypatch.setattr(sysmetrics, "_net", lambda: (0, 0))
    monkeypatch.setattr(sysmetrics, "_last_reading", (-1e9, (0, 0), (0, 0)))  # none yet
    monkeypatch.setattr(sysmetrics, "BASELINE_REUSE", 3600.0)
    first = _probe()
    assert first.sample()["sys/node0/disk_read_bytes"] == 100.0  # 200 - 100
    second = _probe()  # right after that sample: its reading is the baseline
    assert reads == ["disk", "disk"]
    assert second.sample()["sys/node0/disk_read_bytes"] == 100.0  # 300 - 200
    monkeypatch.setattr(sysmetrics, "BASELINE_REUSE", -1.0)
    _probe()
    assert reads == ["disk"] * 4
