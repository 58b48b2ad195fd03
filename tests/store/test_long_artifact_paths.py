"""Artifact paths up to MAX_ARTIFACT_PATH_LENGTH work on a local folder, beyond the file
system's 255-byte names and 4,096-byte paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtrack import Experiment, Workspace, limits
from runtrack.errors import InvalidValueError
from runtrack.store.artifacts import LONG_DIR, LocalArtifactStore

DEEP = "/".join(["d" * 200] * 24) + "/" + "f" * (limits.MAX_ARTIFACT_PATH_LENGTH - 4824)
WIDE = "outputs/" + "n" * 300 + ".txt"


def test_the_documented_maximum_path_is_reachable(tmp_path: Path) -> None:
    assert len(DEEP) == limits.MAX_ARTIFACT_PATH_LENGTH
    store = LocalArtifactStore(tmp_path / "art")
    for path in (DEEP, WIDE):
        info = store.put("r1", path, b"payload")
        assert info.path == path and info.size == 7
        assert store.exists("r1", path)
        with store.open("r1", path) as fh:
            assert fh.read() == b"payload"
    assert store.append("r1", DEEP, b"+more") == 12
    store.put("r1", "plain.txt", b"x")
    listed = {i.path: i.size for i in store.list("r1")}
    assert listed == {DEEP: 12, WIDE: 7, "plain.txt": 1}
    assert [i.path for i in store.list("r1", "outputs")] == [WIDE]
    assert [i.path for i in store.list("r1", "d" * 200)] == [DEEP]
    store.delete_run("r1")
    assert store.list("r1") == []


def test_the_reserved_folder_cannot_be_written(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "art")
    with pytest.raises(InvalidValueError, match="reserved"):
        store.put("r1", f"{LONG_DIR}/x", b"")


def test_a_run_uploads_and_lists_a_long_path(tmp_path: Path) -> None:
    source = tmp_path / "model.bin"
    source.write_bytes(b"weights")
    ws = Workspace(str(tmp_path / "ws"))
    try:
        run = Experiment(ws, "long").start_logging()
        run.upload_file(WIDE, str(source))
        run.complete()
        assert WIDE in run.get_file_names()
        run.download_file(WIDE, str(tmp_path / "back.bin"))
        assert (tmp_path / "back.bin").read_bytes() == b"weights"
    finally:
        ws.close()
