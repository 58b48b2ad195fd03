"""Stream a run's files as one zip archive, with memory bounded by one block.

``zipfile`` writes to a sink that is not seekable, so it emits data descriptors after
each member instead of seeking back; every block written is handed on at once and
nothing accumulates, however many gigabytes the run's logs hold. Formats that are
already compressed (images, archives) are stored, everything else is deflated.
"""

from __future__ import annotations

import time
import zipfile
from collections.abc import Iterator

from runtrack.store.base import ArtifactStore, iter_chunks

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

    Members keep their run-relative paths. The file list is taken when the first
    block is asked for; a log that grows while it is sent is cut at the size it had
    when its member began.
    """
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", allowZip64=True) as archive:  # type: ignore[call-overload]
        for info in artifacts.list(run_id, prefix):
            when = time.localtime(info.modified_time or time.time())[:6]
            member = zipfile.ZipInfo(info.path, date_time=when)
            member.compress_type = (
                zipfile.ZIP_STORED if info.path.lower().endswith(_STORED) else zipfile.ZIP_DEFLATED
            )
            member.external_attr = 0o644 << 16
            left = info.size
            with artifacts.open(run_id, info.path) as source, archive.open(
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
