"""``RestArtifactStore``: the :class:`~runtrack.store.base.ArtifactStore` of a server.

Uploads stream from the source in 1 MiB blocks (a seekable source is rewound for a
retry); downloads stream into a spooled temporary file (in memory up to 8 MiB, then on
disk), so memory stays bounded for any file size. Appends are retried only when the
request never left (they are not idempotent).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from typing import BinaryIO, cast
from urllib.parse import quote

from runtrack.errors import NotFoundError
from runtrack.model import ArtifactInfo
from runtrack.store.base import iter_chunks
from runtrack.store.rest._http import HttpClient

_SPOOL_MEMORY = 8 << 20
_BINARY = "application/octet-stream"  # a POST of another type is refused (CSRF guard)


def _path(run_id: str, path: str) -> str:
    return f"/runs/{quote(run_id, safe='') or '%20'}/artifacts/{quote(path, safe='/')}"


class RestArtifactStore:
    """Run files kept by the server behind ``http``."""

    def __init__(self, http: HttpClient) -> None:
        self._http = http

    def put(
        self, run_id: str, path: str, source: bytes | BinaryIO, *, overwrite: bool = False
    ) -> ArtifactInfo:
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)

            def body() -> bytes | Iterable[bytes]:
                return data

            resendable = True
        else:
            stream = source
            start = stream.tell() if stream.seekable() else None
            resendable = start is not None

            def body() -> bytes | Iterable[bytes]:
                if start is not None:
                    stream.seek(start)
                return iter_chunks(stream)

        response = self._http.request(
            "PUT", _path(run_id, path), params={"overwrite": overwrite}, content=body,
            idempotent=resendable and overwrite, content_type=_BINARY,
        )
        return ArtifactInfo.from_json(response.json())

    def append(self, run_id: str, path: str, data: bytes) -> int:
        response = self._http.request(
            "POST", _path(run_id, path), content=lambda: data, idempotent=False,
            content_type=_BINARY,
        )
        return int(response.json()["size"])

    def open(self, run_id: str, path: str) -> BinaryIO:
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_MEMORY)  # noqa: SIM115 (returned)
        response = self._http.stream(_path(run_id, path))
        try:
            for block in response.iter_bytes(1 << 20):
                spool.write(block)
        finally:
            response.close()
        spool.seek(0)
        return cast(BinaryIO, spool)

    def read_range(self, run_id: str, path: str, offset: int, length: int) -> bytes:
        response = self._http.request(
            "GET", _path(run_id, path), params={"offset": offset, "length": length}
        )
        return response.content

    def list(self, run_id: str, prefix: str = "") -> list[ArtifactInfo]:
        data = self._http.json(
            "GET", f"/runs/{quote(run_id, safe='') or '%20'}/artifacts", params={"prefix": prefix}
        )
        return [ArtifactInfo.from_json(a) for a in data["artifacts"]]

    def exists(self, run_id: str, path: str) -> bool:
        try:
            response = self._http.request("HEAD", _path(run_id, path), allow_404=True)
        except NotFoundError:
            return False
        return response.status_code == 200

    def delete_run(self, run_id: str) -> None:
        self._http.request("DELETE", f"/runs/{quote(run_id, safe='') or '%20'}/artifacts")
