"""Stream a run's files as one zip archive, with memory bounded by one block.

``zipfile`` writes to a sink that is not seekable, so it emits data descriptors after
each member instead of seeking back; every block written is handed on at once and
nothing accumulates, however many gigabytes the run's logs hold. Formats that are
already compressed (images, archives) are stored, everything else is deflated.
"""

from __future__ import annotations

import logging
import time
import zipfile
from collections.abc import Iterator

from runtrack.errors import NotFoundError
from runtrack.store.base import ArtifactStore, is_safe_path, iter_chunks

log = logging.getLogger("runtrack.server")

BLOCK = 1 << 20
_STORED = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".zip", ".gz", ".bz2", ".xz", ".zst",
           ".pt", ".pth", ".npz", ".parquet")


class _Sink:
    """A write-only, non-seekable file whose written bytes are taken out as they come."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._position = 0

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def archive_name(run_id: str, prefix: str) -> str:
    tail = prefix.strip("/").replace("/", "-")
    return f"{run_id}-{tail}.zip" if tail else f"{run_id}.zip"


def zip_blocks(artifacts: ArtifactStore, run_id: str, prefix: str = "") -> Iterator[bytes]:
    """The zip archive of the run's files under ``prefix``, block by block.

    Members keep their run-relative paths; a path that is not a safe relative name
    (:func:`runtrack.store.base.is_safe_path`) and a file gone since it was listed are
    left out with a warning in the server log. The file list is taken when the first
    block is asked for; a log that grows while it is sent is cut at the size it had
    when its member began.
    """
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", allowZip64=True) as archive:  # type: ignore[call-overload]
        for info in artifacts.list(run_id, prefix):
            if not is_safe_path(info.path):  # never an unsafe member name (zip slip)
                log.warning("runtrack: %r of run %s left out of its archive", info.path, run_id)
                continue
            try:
                source = artifacts.open(run_id, info.path)
            except (NotFoundError, OSError) as exc:  # removed or unreadable since listed
                log.warning("runtrack: %r of run %s left out of its archive: %s",
                            info.path, run_id, exc)
                continue
            when = time.localtime(info.modified_time or time.time())[:6]
            member = zipfile.ZipInfo(info.path, date_time=when)
            member.compress_type = (
                zipfile.ZIP_STORED if info.path.lower().endswith(_STORED) else zipfile.ZIP_DEFLATED
            )
            member.external_attr = 0o644 << 16
            left = info.size
            with source, archive.open(
                member, "w", force_zip64=info.size > (1 << 31)
            ) as target:
                for block in iter_chunks(source, BLOCK):
                    block = block[:left]
                    left -= len(block)
                    target.write(block)
                    out = sink.take()
                    if out:
                        yield out
                    if left <= 0:
                        break
            out = sink.take()
            if out:
                yield out
    out = sink.take()
    if out:
        yield out
