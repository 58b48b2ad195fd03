"""Images for ``log_image``: sniff a file's type, render a figure to PNG.

Pillow and matplotlib are never imported here; a figure only needs ``savefig``.
"""

from __future__ import annotations

import io
from typing import Any

from runtrack.errors import InvalidTypeError, InvalidValueError

_SIGNATURES: list[tuple[bytes, int, str]] = [
    (b"\x89PNG\r\n\x1a\n", 0, "png"),
    (b"\xff\xd8\xff", 0, "jpeg"),
    (b"GIF87a", 0, "gif"),
    (b"GIF89a", 0, "gif"),
    (b"BM", 0, "bmp"),
    (b"II*\x00", 0, "tiff"),
    (b"MM\x00*", 0, "tiff"),
    (b"WEBP", 8, "webp"),
]


def image_type(head: bytes) -> str | None:
    """png, jpeg, gif, bmp, tiff or webp from the first bytes of a file; else None."""
    for magic, offset, kind in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            if kind == "webp" and head[:4] != b"RIFF":
                continue
            return kind
    if head.lstrip().startswith(b"<svg") or (b"<svg" in head[:512] and head.startswith(b"<?xml")):
        return "svg"
    return None


def render_figure(plot: Any, metric: str) -> bytes:
    """PNG bytes of a matplotlib figure or ``pyplot`` module (anything with savefig)."""
    savefig = getattr(plot, "savefig", None)
    if not callable(savefig):
        raise InvalidTypeError(
            f"log_image(plot=…) for metric {metric!r} needs a matplotlib Figure or pyplot "
            f"(an object with savefig), got {type(plot).__name__}"
        )
    buf = io.BytesIO()
    savefig(buf, format="png")
    data = buf.getvalue()
    if image_type(data[:16]) != "png":
        raise InvalidValueError(f"plot for metric {metric!r} did not render to a PNG image")
    return data
