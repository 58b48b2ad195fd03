"""Issue #11 (client side): no value, damaged spool, race, full disk or outage wedges
a run, loses a point, or leaves a run "Running"."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from runtrack import Experiment, Workspace
from runtrack.errors import InvalidTypeError, InvalidValueError, LimitExceededError
from runtrack.model import MetricBatch, NewRun, RunStatus
from runtrack.spool import record as R
from runtrack.spool import writer as writer_module
from runtrack.spool.reader import SpoolReader
from runtrack.spool.sync import ship_leftovers
from runtrack.spool.writer import SpoolWriter, lock_path, segment_path

WAIT = 60.0


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNTRACK_")}
    env.update(extra)
    return env


def _python(code: str, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True, text=True, timeout=WAIT, env=_env(**extra),
    )


# -- item 1 and 4: bad values are refused before a byte is written --------------------


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (2**63, LimitExceededError),
        (-(2**63) - 1, LimitExceededError),
        (np.uint64(2**63), LimitExceededError),
        (np.datetime64("2024-01-01"), InvalidTypeError),
        (np.timedelta64(3, "s"), InvalidTypeError),
        (os.fsdecode(b"img_\xff.png"), InvalidValueError),
    ],
)
def test_a_refused_value_leaves_the_run_storing(exp: Experiment, value: object,
                                                 error: type[Exception]) -> None:
    run = exp.start_logging()
    run.log("count", 1)
    with pytest.raises(error):
        run.log("count", value)
    with pytest.raises(error):
        run.log("fresh", value)  # a name never seen before: nothing registered either
    run.log("after", 2.5)  # a new name after the refusal
    run.log("count", 2)
    run.log_row("rows", a=1)
    with pytest.raises(error):
        run.log_row("rows", a=value)
    with pytest.raises(error):
        run.log_list("items", [1, value])
    run.complete()
    assert run.get_metrics() == {"count": [1, 2], "after": 2.5, "rows": {"a": 1}}
    assert run.get_status() == "Completed"


def test_int64_edges_round_trip(exp: Experiment) -> None:
    run = exp.start_logging()
    run.log("edge", 2**63 - 1)
    run.log("edge", -(2**63))
    run.log("edge", np.uint64(2**63 - 1))
    run.log_list("u", np.array([0, 2**63 - 1], dtype=np.uint64))
    run.complete()
    assert run.get_metrics()["edge"] == [2**63 - 1, -(2**63), 2**63 - 1]
    assert run.get_metrics()["u"] == [0, 2**63 - 1]


def test_a_lone_surrogate_in_a_name_is_refused_and_nothing_is_left_registered(
    exp: Experiment,
) -> None:
    run = exp.start_logging()
    bad = os.fsdecode(b"loss_\xff")
    with pytest.raises(InvalidValueError, match="lone surrogate"):
        run.log(bad, 1.0)
    with pytest.raises(InvalidValueError, match="lone surrogate"):
        run.log_row("t", **{bad: 1})
    with pytest.raises(InvalidValueError, match="lone surrogate"):
        run.log("ok", 1.0, description=bad)
    with pytest.raises(InvalidValueError, match="lone surrogate"):
        run.log_list("lst", ["fine", bad])
    with pytest.raises(LimitExceededError):
        run.log_list("big", np.array([2**63], dtype=np.uint64))
    run.log("ok", 1.0)
    run.log("x", "ünïcode ✓")
    run.complete()
    assert run.get_metrics() == {"ok": 1.0, "x": "ünïcode ✓"}


def test_the_writer_never_leaves_a_partial_record(tmp_path: Path) -> None:
    w = SpoolWriter(tmp_path, "s")
    nid = w.intern("n", "scalar")
    with pytest.raises(InvalidValueError):
        w.write_int(nid, R.NO_STEP, 0.0, 2**63)
    with pytest.raises(InvalidValueError):
        w.intern(os.fsdecode(b"\xff"), "scalar")
    with pytest.raises(InvalidValueError):
        w.describe(nid, os.fsdecode(b"\xfe"))
    w.write_int(nid, R.NO_STEP, 0.0, 7)
    m = w.intern("m", "scalar")
    w.write_float(m, R.NO_STEP, 0.0, 1.5)
    w.close()
    chunk = SpoolReader(tmp_path, "s", columnar=False).read()
    assert [(r[0], r[4]) for r in chunk.records] == [("n", 7), ("m", 1.5)]


# -- item 1 and 9: a damaged spool is skipped and reported, never a stop -------------


def _damaged_stream(folder: Path) -> int:
    """A stream with an abandoned half-written point, an undecodable JSON record and
    a bad length word (which loses the rest of its segment); returns good points."""
    w = SpoolWriter(folder, "s", segment_size=64 * 1024)
    a = w.intern("a", "scalar")
    w.write_float(a, 0, 0.0, 0.0)
    # a point record abandoned half-written (what a struct.error used to leave)
    R.FLOAT_REC.pack_into(w.mm, w.offset, 40, R.FLOAT, a, 1, 0.0, 1.0, 0)
    w.offset += R.POINT_SIZE
    w.write_float(a, 2, 0.0, 2.0)
    b = w.intern("b", "scalar")
    w.write_json(b, R.NO_STEP, 0.0, "text")
    start = w.offset - 8
    w.mm[start : start + 4] = b"\xff\xfe{]"  # the JSON text is now garbage
    w.write_int(a, 3, 0.0, 3)
    w.write_float(a, 4, 0.0, 4.0)
    R.LEN.pack_into(w.mm, w.offset - R.POINT_SIZE, 12345)  # a length that lies
    w.write_float(a, 5, 0.0, 5.0)  # lost with the rest of segment 0
    w._open_segment(w._segment + 1)  # the next segment is read again
    for i in range(6, 10):
        w.write_float(a, i, 0.0, float(i))
    w.close()
    return 7  # steps 0, 2, 3, 6..9


@pytest.mark.parametrize("columnar", [True, False])
def test_reader_skips_and_reports_damaged_records(
    tmp_path: Path, columnar: bool, reader_scan: str
) -> None:
    good = _damaged_stream(tmp_path)
    reader = SpoolReader(tmp_path, "s", columnar=columnar)
    got = []
    while not reader.finished:
        chunk = reader.read(3)
        got.extend(chunk.records)
        assert chunk.first_seq + len(chunk.records) == reader.pos.seq
    assert [r[2] for r in got] == [0, 2, 3, 6, 7, 8, 9]
    assert len(got) == good
    assert reader.skipped >= 2
    text = "\n".join(reader.problems)
    assert "abandoned" in text and "undecodable" in text and "length 12345" in text


@pytest.mark.parametrize("columnar", [True, False])
def test_flipped_bytes_in_a_finished_segment_are_found_and_skipped(
    tmp_path: Path, columnar: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_module, "FIRST_SEGMENT", 256 * 1024)
    w = SpoolWriter(tmp_path, "s", segment_size=256 * 1024)
    nid = w.intern("x", "scalar")
    total = 12_000  # two segments, the first with several checksum blocks
    for i in range(total):
        w.write_float(nid, i, 0.0, float(i))
    w.close()
    first = segment_path(tmp_path, "s", 0)
    data = bytearray(first.read_bytes())
    points = R.HEADER_SIZE + 16  # after the NAME record
    victim = points + 2500 * R.POINT_SIZE  # inside the second 64 KiB block
    assert data[victim + 4] == R.FLOAT
    data[victim + 28] ^= 0x10  # one bit of a value: the record still looks fine
    first.write_bytes(bytes(data))
    reader = SpoolReader(tmp_path, "s", columnar=columnar)
    got = []
    while not reader.finished:
        got.extend(reader.read(5000).records)
    values = [r[4] for r in got]
    assert all(v == float(r[2]) for v, r in zip(values, got, strict=True))  # none altered
    lost = total - len(values)
    assert 0 < lost <= 64 * 1024 // R.POINT_SIZE + 1  # one block's records, no more
    assert reader.skipped == lost
    assert any("checksum" in p for p in reader.problems)


def test_a_reader_of_its_own_processs_stream_does_not_verify_checksums(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The in-process shipper (``own=True``) reads back the page cache its writer wrote:
    checksumming it again costs ~1 ms per 4 MB of points and finds nothing. A reader of
    a stream it did not make (recovery) still checks."""
    monkeypatch.setattr(writer_module, "FIRST_SEGMENT", 256 * 1024)
    w = SpoolWriter(tmp_path, "s", segment_size=256 * 1024)
    nid = w.intern("x", "scalar")
    for i in range(12_000):
        w.write_float(nid, i, 0.0, float(i))
    w.close()
    checked: list[bool] = []
    verify = SpoolReader._verify

    def spy(self: SpoolReader, mm: Any) -> list[tuple[int, int]]:
        checked.append(self.own)
        return verify(self, mm)

    monkeypatch.setattr(SpoolReader, "_verify", spy)
    for own in (True, False):
        reader = SpoolReader(tmp_path, "s", own=own)
        count = 0
        while not reader.finished:
            count += len(reader.read(5000).records)
        assert count == 12_000 and reader.problems == []
    assert checked and set(checked) == {False}  # only the reader that is not the writer's


def test_segments_an_in_process_shipper_already_has_carry_no_checksum(tmp_path: Path) -> None:
    w = SpoolWriter(tmp_path, "s", segment_size=64 * 1024)
    w.shipped_seq = lambda: w.seq
    nid = w.intern("x", "scalar")
    for i in range(3000):
        w.write_float(nid, i, 0.0, float(i))
    assert R.LEN.unpack_from(segment_path(tmp_path, "s", 0).read_bytes(), R.CHECK_AT)[0] == 0
    w.shipped_seq = None
    for i in range(3000):
        w.write_float(nid, i, 0.0, float(i))
    w.close()
    sealed = [
        R.LEN.unpack_from(p.read_bytes(), R.CHECK_AT)[0] for p in sorted(tmp_path.glob("*.seg"))
    ]
    assert sealed[0] == 0 and all(sealed[2:])


def test_sync_settles_other_runs_when_one_spool_is_damaged(ws: Workspace) -> None:
    exp = Experiment(ws, "damaged")
    broken, fine = exp.start_logging(), exp.start_logging()
    spool = ws.settings.spool_dir
    _damaged_stream(spool / broken.id)
    w = SpoolWriter(spool / fine.id, "s")
    w.write_float(w.intern("x", "scalar"), R.NO_STEP, 0.0, 1.0)
    w.release()  # the writer's process "died": no END record
    for run in (broken, fine):
        assert run._ending.ownership is not None
        run._ending.ownership.release(settled=False)  # and so did the owner of the run
    report = ship_leftovers(ws.store, spool)
    by_run = {item.run_id: item for item in report}
    assert by_run[broken.id].points == 7 and by_run[broken.id].problems
    assert by_run[fine.id].points == 1 and by_run[fine.id].marked_failed
    for run in (broken, fine):
        assert ws.store.get_run(run.id).status is RunStatus.FAILED
        assert not (spool / run.id).exists()
    assert ws.store.read_series(fine.id, "x").values == [1.0]


# -- item 2: liveness by the writer's lock, never by file contents --------------------

SLOW_ROLL = """
import sys, time
from runtrack import Experiment, Workspace
from runtrack.spool import writer as W
W.SpoolWriter.__init__.__kwdefaults__["segment_size"] = 64 * 1024
real = W.SpoolWriter._file_segment
def slow(self, number, size):
    found = real(self, number, size)
    if number:
        print("rolling", flush=True)   # segment file exists, header not written yet
        time.sleep(0.3)
    return found
W.SpoolWriter._file_segment = slow
ws = Workspace(sys.argv[1])
run = Experiment(ws, "live").start_logging()
print(run.id, flush=True)
for i in range(8000):
    run.log("x", float(i), step=i)
run.complete()
print("done", flush=True)
"""


def test_recovery_never_touches_a_live_writer_in_its_segment_roll(tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    Workspace(str(folder)).close()
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_ROLL, str(folder)], stdout=subprocess.PIPE, text=True,
        env=_env(),
    )
    assert proc.stdout is not None
    run_id = proc.stdout.readline().strip()
    rolls = 0
    ws = Workspace(str(folder))
    try:
        for line in proc.stdout:
            if line.strip() == "rolling":
                rolls += 1
                assert ship_leftovers(ws.store, ws.settings.spool_dir) == []
                Workspace(str(folder)).close()  # every open runs recovery too
            if line.strip() == "done":
                break
        assert proc.wait(timeout=WAIT) == 0
        assert rolls >= 2
        assert ws.store.get_run(run_id).status is RunStatus.COMPLETED
        assert ws.store.read_series(run_id, "x").values == [float(i) for i in range(8000)]
    finally:
        proc.kill()
        ws.close()


def test_lock_file_appears_locked(tmp_path: Path) -> None:
    from runtrack.spool.owner import lock_held

    w = SpoolWriter(tmp_path, "s")
    assert lock_held(lock_path(tmp_path, "s")) is True
    w.close()
    assert lock_held(lock_path(tmp_path, "s")) is False
    assert lock_held(tmp_path / "nothing.lock") is None


# -- item 3: a full disk never kills training ------------------------------------------

FULL_DISK = """
import sys
from runtrack import Experiment, Workspace
from runtrack.spool import writer as W
W.SpoolWriter.__init__.__kwdefaults__["segment_size"] = 128 * 1024
ws = Workspace(sys.argv[1])
run = Experiment(ws, "full").start_logging()
print(run.id, flush=True)
for i in range(60000):
    run.log("x", float(i), step=i)
    if i % 2000 == 0:
        run.flush()   # keeps the bounded memory buffer from filling
run.complete()
print("dropped", run._metrics.spooled.writer.dropped if run._metrics.spooled else 0, flush=True)
"""


@pytest.fixture
def tiny_tmpfs(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A 512 KiB tmpfs (as root, or through passwordless sudo); skipped where neither
    works, except in CI (CI=true), where it must."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    try:
        done = subprocess.run(
            [*sudo, "mount", "-t", "tmpfs", "-o", "size=512k,mode=1777", "tmpfs", str(mount)],
            capture_output=True, text=True,
        )
        error = done.stderr.strip() if done.returncode else ""
    except FileNotFoundError as exc:  # no mount or sudo command
        error = str(exc)
    if error and os.environ.get("CI") != "true":
        pytest.skip(f"mounting a small tmpfs needs root or sudo: {error}")
    assert not error, error
    yield mount
    subprocess.run([*sudo, "umount", "-l", str(mount)], check=False)


def test_a_full_disk_degrades_to_memory_and_training_goes_on(tmp_path: Path,
                                                              tiny_tmpfs: Path) -> None:
    folder = tmp_path / "ws"
    stat = os.statvfs(tiny_tmpfs)
    free = stat.f_bavail * stat.f_frsize
    (tiny_tmpfs / "filler").write_bytes(b"\1" * (free - 200 * 1024))  # room for 1 segment
    done = _python(FULL_DISK, str(folder), RUNTRACK_SPOOL_DIR=str(tiny_tmpfs / "spool"))
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("no room for the metric spool") == 1, done.stderr
    run_id, dropped = done.stdout.split("\n")[0], done.stdout.split()[-1]
    assert dropped == "0"
    ws = Workspace(str(folder))
    try:
        assert ws.store.get_run(run_id).status is RunStatus.COMPLETED
        assert ws.store.read_series(run_id, "x").values == [float(i) for i in range(60000)]
    finally:
        ws.close()


def test_memory_segments_are_bounded_and_freed_once_shipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The memory fallback without a tmpfs: the disk "fills" at segment 2."""
    import errno

    from runtrack.spool import writer as W
    from runtrack.spool.shipper import StreamShipper

    real = W.SpoolWriter._file_segment

    def full(self: W.SpoolWriter, number: int, size: int) -> object:
        if number >= 2:
            self._go_to_memory(OSError(errno.ENOSPC, "No space left on device"))
            return None
        return real(self, number, size)

    monkeypatch.setattr(W.SpoolWriter, "_file_segment", full)
    w = W.SpoolWriter(tmp_path, "s", segment_size=64 * 1024)
    nid = w.intern("x", "scalar")
    n = 0
    while w.dropped == 0:
        w.write_float(nid, n, 0.0, float(n))
        n += 1
    assert len(w.memory) == W.MEMORY_SEGMENTS
    assert not segment_path(tmp_path, "s", 2).exists()
    store = _Store()
    shipper = StreamShipper(store, "r", tmp_path, "s", memory=w.memory)  # type: ignore[arg-type]
    shipper.drain()
    assert len(w.memory) == 1  # shipped segments are given back
    assert store.values == [float(i) for i in range(n - 1)]  # the last one was dropped
    w.close()  # writing resumes once there is room
    shipper.drain()
    assert shipper.done and w.dropped == 1


class _Store:
    def __init__(self) -> None:
        self.values: list[object] = []

    def ingest(self, run_id: str, batch: MetricBatch) -> int:
        assert batch.first_seq == len(self.values)
        self.values.extend(r[4] for r in batch.records)
        return len(self.values)


# -- item 7: every run whose owner is gone gets settled ----------------------------------

DIES = """
import os, sys
from runtrack import Experiment, Workspace
ws = Workspace(sys.argv[1])
run = Experiment(ws, "dies").start_logging()
print(run.id, flush=True)
how = sys.argv[2]
if how != "before-first-metric":
    for i in range(100):
        run.log("loss", 1.0 / (i + 1), step=i)
if how == "inside-complete":
    run._close_spool()  # complete() got as far as closing the spool
if how == "no-complete":
    sys.exit(0)          # a clean exit that never completes the run
os._exit(9)             # killed
"""


@pytest.mark.parametrize(
    "how", ["before-first-metric", "inside-complete", "no-complete", "mid-run"]
)
def test_sync_settles_every_run_whose_owner_is_gone(tmp_path: Path, how: str) -> None:
    folder = tmp_path / "ws"
    done = _python(DIES, str(folder), how)
    run_id = done.stdout.split()[0]
    out = subprocess.run([sys.executable, "-m", "runtrack", "sync", "--uri", str(folder)],
                         capture_output=True, text=True, timeout=WAIT, env=_env())
    assert out.returncode == 0, out.stderr
    assert f"run {run_id}" in out.stdout and "marked Failed" in out.stdout
    ws = Workspace(str(folder))
    try:
        info = ws.store.get_run(run_id)
        assert info.status is RunStatus.FAILED
        assert info.error is not None and info.error.code == "ProcessDied"
        last = "no step was stored" if how == "before-first-metric" else "last step stored is 99"
        assert last in info.error.message
        if how != "before-first-metric":
            assert len(ws.store.read_series(run_id, "loss").values) == 100
        assert not (ws.settings.spool_dir / run_id).exists()
    finally:
        ws.close()


def test_a_live_owner_without_metrics_is_not_settled(exp: Experiment) -> None:
    run = exp.start_logging()
    assert ship_leftovers(exp.workspace.store, exp.workspace.settings.spool_dir) == []
    Workspace(exp.workspace.tracking_uri).close()
    assert run.get_status() == "Running"
    run.complete()
    assert not (exp.workspace.settings.spool_dir / run.id).exists()


# -- item 10: an abandoned run releases its thread, mapping and descriptors ---------------


def _spool_handles(spool_dir: Path) -> list[str]:
    """This process's descriptors and mappings of files in the spool (the store's pooled
    SQLite connections, which grow with the threads that used them, are not the spool's)."""
    root = str(spool_dir)
    fds = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            fds.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:  # closed between listing and reading
            continue
    maps = [line.split(maxsplit=5)[-1] for line in Path("/proc/self/maps").read_text().splitlines()]
    return sorted(path for path in fds + maps if path.startswith(root))


def test_a_run_never_completed_releases_its_resources(
    exp: Experiment, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the spool's resources are under test; the system-metrics sampler of an abandoned run
    # (a daemon thread until the process ends) is not
    monkeypatch.setenv("RUNTRACK_SYSTEM_METRICS_INTERVAL", "0")
    spool_dir = exp.workspace.settings.spool_dir

    def shippers(ids: list[str]) -> list[str]:
        names = {f"runtrack-shipper-{run_id}" for run_id in ids}
        return [t.name for t in threading.enumerate() if t.name in names]

    ids = []
    for _ in range(5):
        run = exp.start_logging()
        run.log("x", 1.0)  # a spool: writer, mapping, locks, shipper thread
        ids.append(run.id)
        assert any(run.id in path for path in _spool_handles(spool_dir))
        del run  # never completed
        gc.collect()
    deadline = time.monotonic() + WAIT
    while shippers(ids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert shippers(ids) == []
    assert _spool_handles(spool_dir) == []
    store = exp.workspace.store
    for run_id in ids:
        assert store.read_series(run_id, "x").values == [1.0]  # shipped on the way out
        assert not (spool_dir / run_id).exists()


def test_a_stop_that_arrives_during_a_read_still_ships_the_last_points(ws: Workspace) -> None:
    # the race behind a lost point of an abandoned run: the shipper's read found nothing,
    # then (before it looked at the stop flag) the last point, the END and the stop came
    from runtrack.spool.shipper import BackgroundShipper, StreamShipper

    experiment = ws.store.get_or_create_experiment("tests")
    run_id = ws.store.create_run(NewRun(experiment.id, "r", display_name="r", run_type="x")).id
    folder = ws.settings.spool_dir / run_id
    writer = SpoolWriter(folder, "s")
    stream = StreamShipper(ws.store, run_id, folder, "s")
    background: list[BackgroundShipper] = []
    read = stream.step
    arrived = threading.Event()

    def step_while_the_last_point_arrives() -> int:
        n = read()
        if not arrived.is_set() and background:
            arrived.set()
            writer.write_float(writer.intern("x", "scalar"), R.NO_STEP, time.time(), 7.0)
            writer.close()
            background[0].finish_in_background(WAIT)
        return n

    stream.step = step_while_the_last_point_arrives  # type: ignore[method-assign]
    background.append(BackgroundShipper(stream))
    background[0].join(WAIT)
    assert arrived.is_set() and not background[0].running
    assert ws.store.read_series(run_id, "x").values == [7.0]
    assert not folder.exists()


def test_points_logged_through_a_dropped_handle_are_stored_before_the_process_ends(
    tmp_path: Path,
) -> None:
    # `run.parent.log(...)` in a step script: the parent's handle is garbage at once and
    # the process exits right after; its shipper must finish before the interpreter ends
    # (the workspace here is opened first, so its recovery on open cannot hide a loss)
    ws = Workspace(str(tmp_path / "ws"))
    run = Experiment(ws, "dropped").start_logging(snapshot_directory=None)
    out = _python(
        """
        import sys
        from runtrack import Experiment, Run, Workspace
        exp = Experiment(Workspace(sys.argv[1]), "dropped")
        Run(exp, sys.argv[2]).log("trained", 1)  # a handle nobody keeps
        """,
        str(tmp_path / "ws"), run.id,
        RUNTRACK_SYSTEM_METRICS_INTERVAL="0",
    )
    assert out.returncode == 0, out.stderr
    assert ws.store.read_series(run.id, "trained").values == [1.0]
    run.complete()


@pytest.mark.parametrize("name", ["./cm", "a/../cm", "/cm", "cm/", "a//cm", "a\\..\\cm"])
def test_document_names_that_are_not_plain_paths_are_refused(exp: Experiment, name: str) -> None:
    run = exp.start_logging()
    with pytest.raises(InvalidValueError, match="file path"):
        run.log_confusion_matrix(name, {"schema_type": "confusion_matrix", "data": {}})
    run.log_confusion_matrix("cm/ok", {"schema_type": "confusion_matrix", "data": {}})
    run.complete()
    assert list(run.get_metrics()) == ["cm/ok"]
