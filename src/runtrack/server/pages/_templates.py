"""The Jinja2 environment of the pages: filters for times, durations and numbers, and
:func:`query_url`, which rewrites the current query string (the runs table keeps its
whole state there)."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.datastructures import QueryParams

from runtrack._format import duration_text, format_number
from runtrack.server.pages._assets import asset, plotly_url

TEMPLATES = Path(__file__).parent / "templates"


def when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else ""


def short_when(ts: float | None) -> str:
    if not ts:
        return ""
    same_year = time.localtime(ts).tm_year == time.localtime().tm_year
    return time.strftime("%b %d, %H:%M" if same_year else "%Y-%m-%d %H:%M", time.localtime(ts))


def duration(seconds: float | None) -> str:
    return duration_text(seconds, empty="")


def number(value: Any) -> str:
    return format_number(value, empty="")


def size(value: int | None) -> str:
    if value is None:
        return ""
    amount = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if amount < 1024 or unit == "GB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} TB"


def query_url(
    params: QueryParams,
    path: str = "",
    *,
    set: dict[str, Any] | None = None,
    add: tuple[str, str] | None = None,
    remove: tuple[str, str] | None = None,
    drop: tuple[str, ...] = (),
) -> str:
    """``path`` + the current query string with keys set, a value added or removed."""
    items = [(k, v) for k, v in params.multi_items() if k not in drop]
    if set:
        items = [(k, v) for k, v in items if k not in set]
        items += [(k, str(v)) for k, v in set.items() if v is not None and v != ""]
    if add and add not in items:
        items.append(add)
    if remove:
        items = [item for item in items if item != remove]
    text = urlencode(items)
    return f"{path}?{text}" if text else path or "?"


def _clean(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def to_json(value: Any) -> Markup:
    """JSON safe to put inside a ``<script>`` element (NaN and infinities become null)."""
    text = json.dumps(_clean(value), allow_nan=False, default=str)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES))
    env = templates.env
    env.filters.update(when=when, short_when=short_when, duration=duration, number=number,
                       size=size, tojson_safe=to_json)
    env.globals.update(query_url=query_url, asset=asset, plotly_url=plotly_url)
    env.trim_blocks = True
    env.lstrip_blocks = True
    return templates
