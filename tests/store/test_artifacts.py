"""ArtifactStore: a local folder and fsspec's memory filesystem, same expectations."""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtrack.errors import ArtifactExistsError, InvalidValueError, NotFoundError
from runtrack.store import open_artifacts
from runtrack.store.artifacts import FsspecArtifactStore, LocalArtifactStore, normalize_path
from runtrack.store.base import ArtifactStore


@pytest.fixture(params=["local", "memory"])
def artifacts(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ArtifactStore]:
    if request.param == "local":
        yield LocalArtifactStore(tmp_path / "artifacts")
    else:
        store = FsspecArtifactStore(f"memory://runtrack-{uuid.uuid4().hex}/artifacts")
        yield store
        if store.fs.exists(store.root):
            store.fs.rm(store.root, recursive=True)


def test_put_open_list_exists(artifacts: ArtifactStore) -> None:
    info = artifacts.put("r1", "outputs/model.bin", b"abc")
    assert (info.path, info.size) == ("outputs/model.bin", 3)
    artifacts.put("r1", "./logs//std_log.txt", io.BytesIO(b"x" * (3 << 20)))
    artifacts.put("r2", "other.txt", b"")
    with artifacts.open("r1", "outputs/model.bin") as source:
        assert source.read() == b"abc"
    assert artifacts.exists("r1", "logs/std_log.txt")
    assert not artifacts.exists("r1", "nope.txt")
    listed = artifacts.list("r1")
    assert [(a.path, a.size) for a in listed] == [
        ("logs/std_log.txt", 3 << 20),
        ("outputs/model.bin", 3),
    ]
    assert [a.path for a in artifacts.list("r1", "outputs")] == ["outputs/model.bin"]
    assert [a.path for a in artifacts.list("r1", "outputs/")] == ["outputs/model.bin"]
    assert artifacts.list("r1", "missing") == []
    assert artifacts.list("r9") == []


def test_put_refuses_to_overwrite_unless_asked(artifacts: ArtifactStore) -> None:
    artifacts.put("r1", "a.txt", b"one")
    with pytest.raises(ArtifactExistsError, match=r"a\.txt"):
        artifacts.put("r1", "a.txt", b"two")
    artifacts.put("r1", "a.txt", b"three", overwrite=True)
    assert artifacts.read_range("r1", "a.txt", 0, 100) == b"three"
    assert [a.path for a in artifacts.list("r1")] == ["a.txt"]  # no temp files left


def test_append_and_read_range(artifacts: ArtifactStore) -> None:
    assert artifacts.append("r1", "logs/live.txt", b"hello ") == 6
    assert artifacts.append("r1", "logs/live.txt", b"world") == 11
    assert artifacts.read_range("r1", "logs/live.txt", 6, 100) == b"world"
    assert artifacts.read_range("r1", "logs/live.txt", 0, 5) == b"hello"
    assert artifacts.read_range("r1", "logs/live.txt", 50, 5) == b""
    with pytest.raises(InvalidValueError):
        artifacts.read_range("r1", "logs/live.txt", -1, 5)


def test_missing_files(artifacts: ArtifactStore) -> None:
    with pytest.raises(NotFoundError):
        artifacts.open("r1", "missing.txt")
    with pytest.raises(NotFoundError):
        artifacts.read_range("r1", "missing.txt", 0, 1)


def test_delete_run(artifacts: ArtifactStore) -> None:
    artifacts.put("r1", "a/b.txt", b"1")
    artifacts.put("r2", "c.txt", b"2")
    artifacts.delete_run("r1")
    artifacts.delete_run("never-existed")
    assert artifacts.list("r1") == []
    assert [a.path for a in artifacts.list("r2")] == ["c.txt"]


@pytest.mark.parametrize(
    "path",
    ["", "   ", "/etc/passwd", "../escape.txt", "a/../../b", "a/..", "..", "C:/win.txt",
     "\\\\server\\share", "a\x00b", ".", "./"],
)
def test_paths_that_escape_are_rejected(artifacts: ArtifactStore, path: str) -> None:
    for call in (
        lambda: artifacts.put("r1", path, b"x"),
        lambda: artifacts.append("r1", path, b"x"),
        lambda: artifacts.open("r1", path),
        lambda: artifacts.exists("r1", path),
        lambda: artifacts.read_range("r1", path, 0, 1),
    ):
        with pytest.raises(InvalidValueError) as info:
            call()
        assert repr(path) in str(info.value)


@pytest.mark.parametrize("run_id", ["", "..", "a/b", "."])
def test_bad_run_ids_are_rejected(artifacts: ArtifactStore, run_id: str) -> None:
    with pytest.raises(InvalidValueError):
        artifacts.put(run_id, "a.txt", b"x")
    with pytest.raises(InvalidValueError):
        artifacts.delete_run(run_id)


def test_normalize_path() -> None:
    assert normalize_path("a\\b/./c//d.txt") == "a/b/c/d.txt"
    assert normalize_path("logs/") == "logs"


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlink_escapes_are_rejected(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "artifacts")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"secret")
    store.put("r1", "inside.txt", b"ok")
    run_dir = tmp_path / "artifacts" / "r1"
    (run_dir / "link").symlink_to(outside, target_is_directory=True)
    (run_dir / "file-link").symlink_to(outside / "secret.txt")
    for path in ("link/secret.txt", "link/new.txt", "file-link"):
        with pytest.raises(InvalidValueError, match="symbolic link"):
            store.open("r1", path)
        with pytest.raises(InvalidValueError, match="symbolic link"):
            store.put("r1", path, b"x", overwrite=True)
        with pytest.raises(InvalidValueError, match="symbolic link"):
            store.append("r1", path, b"x")
    assert (outside / "secret.txt").read_bytes() == b"secret"
    assert not (outside / "new.txt").exists()
    assert [a.path for a in store.list("r1")] == ["inside.txt"]
    store.delete_run("r1")
    assert (outside / "secret.txt").exists()


def test_open_artifacts_picks_the_implementation(tmp_path: Path) -> None:
    assert isinstance(open_artifacts(str(tmp_path)), LocalArtifactStore)
    assert isinstance(open_artifacts(f"file://{tmp_path}"), LocalArtifactStore)
    assert isinstance(open_artifacts("memory://bucket/x"), FsspecArtifactStore)
