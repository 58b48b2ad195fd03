"""Log pumping and the ./logs mirror against a real local artifact store."""

from __future__ import annotations

import os
from pathlib import Path

from runtrack.runner.capture import FolderMirror, LogPump
from runtrack.store.artifacts import LocalArtifactStore


def test_pump_keeps_bytes_raw_and_a_tail(tmp_path: Path) -> None:
    store = LocalArtifactStore(str(tmp_path / "art"))
    read, write = os.pipe()
    pump = LogPump(read, store, "r1", "user_logs/std_log.txt")
    pump.start()
    payload = b"bar 1\rbar 2\r\x1b[31mred\x1b[0m\n" + b"line\n" * 50_000
    os.write(write, payload)
    os.close(write)
    pump.join(30)
    assert not pump.is_alive()
    with store.open("r1", "user_logs/std_log.txt") as fh:
        assert fh.read() == payload
    assert pump.tail().endswith("line\nline\n") and pump.total == len(payload)


def test_mirror_appends_and_reuploads_rewritten_files(tmp_path: Path) -> None:
    store = LocalArtifactStore(str(tmp_path / "art"))
    logs = tmp_path / "logs"
    (logs / "tb").mkdir(parents=True)
    mirror = FolderMirror(str(logs), store, "r1", "logs")
    (logs / "progress.txt").write_text("10%\n")
    (logs / "tb" / "events").write_bytes(b"\x00\x01")
    assert mirror.sync() == 2
    assert mirror.sync() == 0
    with open(logs / "progress.txt", "a") as fh:
        fh.write("20%\n")
    mirror.sync()
    assert store.read_range("r1", "logs/progress.txt", 0, 100) == b"10%\n20%\n"
    (logs / "progress.txt").write_text("rewritten and longer\n")
    mirror.sync()
    assert store.read_range("r1", "logs/progress.txt", 0, 100) == b"rewritten and longer\n"
    (logs / "progress.txt").write_text("short\n")
    mirror.sync()
    assert store.read_range("r1", "logs/progress.txt", 0, 100) == b"short\n"
    assert store.read_range("r1", "logs/tb/events", 0, 10) == b"\x00\x01"
