"""Static assets of the pages: gzip-compressed, and cached for good under immutable URLs.

* ``/assets/{version}/{path}``: a file of the ``static/`` folder. ``version`` is a hash
  of every file in that folder, so a page's module scripts importing ``./common.js``
  stay on the same version, and any change to any file gives new URLs. Answers carry
  ``Cache-Control: public, max-age=31536000, immutable``. An old version still answers
  (the current file, revalidated each time) so a page open across a server upgrade works.
* ``/vendor/{version}/plotly.min.js``: the Plotly.js bundle of the installed ``plotly``
  package, likewise immutable (``version`` hashes the bundle).
* ``/static/{path}`` and ``/vendor/plotly.min.js``: the same files under stable URLs
  (revalidated with an ETag), for pages that link them directly.

Every answer is gzip-compressed when the browser accepts it (compressed once per file
and kept in memory). Templates write URLs with the ``asset(path)`` and ``plotly_url()``
globals.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response

STATIC = Path(__file__).parent / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
MIN_GZIP_BYTES = 1024
TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Asset:
    raw: bytes
    compressed: bytes | None
    etag: str
    media_type: str


_lock = threading.Lock()
_loaded: dict[Path, tuple[float, Asset]] = {}


def _load(path: Path) -> Asset:
    """The file's bytes, gzip form and ETag, read again only when the file changed."""
    stamp = path.stat().st_mtime
    with _lock:
        found = _loaded.get(path)
        if found and found[0] == stamp:
            return found[1]
    raw = path.read_bytes()
    media = TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "text/plain"
    packed = gzip.compress(raw, 6, mtime=0) if len(raw) >= MIN_GZIP_BYTES else None
    asset = Asset(raw, packed, f'"{hashlib.sha256(raw).hexdigest()[:20]}"', media)
    with _lock:
        _loaded[path] = (stamp, asset)
    return asset


def _answer(request: Request, asset: Asset, cache_control: str) -> Response:
    headers = {"Cache-Control": cache_control, "ETag": asset.etag, "Vary": "Accept-Encoding"}
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    accepts = "gzip" in request.headers.get("accept-encoding", "").lower()
    if asset.compressed is not None and accepts:
        headers["Content-Encoding"] = "gzip"
        return Response(asset.compressed, media_type=asset.media_type, headers=headers)
    return Response(asset.raw, media_type=asset.media_type, headers=headers)


def _static_file(path: str) -> Path | None:
    root = STATIC.resolve()
    target = (root / path).resolve()
    if root not in target.parents or not target.is_file():
        return None
    return target


@cache
def static_version() -> str:
    """A hash over every file under ``static/`` (names and bytes)."""
    digest = hashlib.sha256()
    for file in sorted(p for p in STATIC.rglob("*") if p.is_file()):
        digest.update(file.relative_to(STATIC).as_posix().encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def asset(path: str) -> str:
    """The immutable URL of ``static/<path>``."""
    return f"/assets/{static_version()}/{path}"


def plotly_path() -> Path:
    try:
        import plotly
    except ImportError as exc:  # pragma: no cover - plotly is in the server extra
        raise RuntimeError(
            "the web pages draw charts with plotly.js from the 'plotly' package: "
            "pip install 'runtrack[server]'"
        ) from exc
    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


@cache
def plotly_version() -> str:
    digest = hashlib.sha256()
    with plotly_path().open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:12]


def plotly_url() -> str:
    return f"/vendor/{plotly_version()}/plotly.min.js"


def _not_found() -> Response:
    return Response("no such file", status_code=404, media_type="text/plain")


@router.get("/assets/{version}/{path:path}")
def versioned_asset(version: str, path: str, request: Request) -> Response:
    target = _static_file(path)
    if target is None:
        return _not_found()
    current = version == static_version()
    return _answer(request, _load(target), IMMUTABLE if current else REVALIDATE)


@router.get("/static/{path:path}")
def static_asset(path: str, request: Request) -> Response:
    target = _static_file(path)
    if target is None:
        return _not_found()
    return _answer(request, _load(target), REVALIDATE)


@router.get("/vendor/plotly.min.js")
def plotly_bundle(request: Request) -> Response:
    return _answer(request, _load(plotly_path()), REVALIDATE)


@router.get("/vendor/{version}/plotly.min.js")
def versioned_plotly(version: str, request: Request) -> Response:
    current = version == plotly_version()
    return _answer(request, _load(plotly_path()), IMMUTABLE if current else REVALIDATE)
