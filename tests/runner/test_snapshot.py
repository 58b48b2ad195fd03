"""Snapshot selection: gitignore semantics, which ignore file wins, limits, zip round trip."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from runtrack import limits
from runtrack.errors import InvalidValueError, LimitExceededError
from runtrack.runner.snapshot import extract_zip, snapshot_files, write_zip


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _rels(root: Path) -> list[str]:
    return [f.rel for f in snapshot_files(root)]


def test_gitignore_semantics(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            ".gitignore": "*.pyc\n/outputs\ndata/\n!keep.pyc\n# comment\n",
            "train.py": "",
            "a.pyc": "",
            "keep.pyc": "",
            "outputs/m.pkl": "",
            "sub/outputs/x.txt": "",
            "data/d.csv": "",
            "sub/data/e.csv": "",
            ".git/HEAD": "",
            "__pycache__/x.cpython.pyc": "",
            ".runtrack/runtrack.db": "",
        },
    )
    assert _rels(root) == [".gitignore", "keep.pyc", "sub/outputs/x.txt", "train.py"]


def test_runtrackignore_beats_amlignore_beats_gitignore(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"a.txt": "", "b.txt": "", "c.txt": "", ".gitignore": "a.txt\n"})
    assert "a.txt" not in _rels(root)
    (root / ".amlignore").write_text("b.txt\n")
    assert "a.txt" in _rels(root) and "b.txt" not in _rels(root)
    (root / ".runtrackignore").write_text("c.txt\n")
    assert {"a.txt", "b.txt"} <= set(_rels(root)) and "c.txt" not in _rels(root)


def test_limits_name_the_biggest_offenders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _tree(tmp_path, {"train.py": "x", "small/a.txt": "y"})
    (root / "checkpoints").mkdir()
    (root / "checkpoints" / "big.pt").write_bytes(b"0" * 4000)
    monkeypatch.setattr(limits, "SNAPSHOT_MAX_BYTES", 2000)
    with pytest.raises(LimitExceededError) as info:
        snapshot_files(root)
    message = str(info.value)
    assert message.index("checkpoints/") < message.index("small/")
    assert "checkpoints/big.pt" in message and ".runtrackignore" in message
    monkeypatch.setattr(limits, "SNAPSHOT_MAX_BYTES", 10_000)
    with pytest.raises(LimitExceededError, match="3 files"):
        snapshot_files(root, max_files=2)
    assert len(snapshot_files(root)) == 3


def test_zip_round_trip_keeps_modes(tmp_path: Path) -> None:
    root = _tree(tmp_path / "src", {"run.sh": "#!/bin/sh\necho hi\n", "pkg/mod.py": "x = 1\n"})
    os.chmod(root / "run.sh", 0o755)
    buf = io.BytesIO()
    write_zip(snapshot_files(root), buf)
    buf.seek(0)
    dest = tmp_path / "copy"
    assert extract_zip(buf, dest) == 2
    assert (dest / "pkg" / "mod.py").read_text() == "x = 1\n"
    assert os.access(dest / "run.sh", os.X_OK)


def test_a_file_removed_between_listing_and_zipping_is_left_out(tmp_path: Path) -> None:
    # a spool segment of a workspace inside the folder is deleted by its shipper at any
    # moment: the snapshot holds what still exists instead of failing the submit
    root = _tree(tmp_path / "src", {"train.py": "x = 1\n", "ws/spool/0.seg": "data"})
    files = snapshot_files(root)
    (root / "ws" / "spool" / "0.seg").unlink()
    buf = io.BytesIO()
    write_zip(files, buf)
    buf.seek(0)
    dest = tmp_path / "copy"
    assert extract_zip(buf, dest) == 1
    assert (dest / "train.py").read_text() == "x = 1\n"


def test_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(InvalidValueError, match="not a folder"):
        snapshot_files(tmp_path / "missing")
