"""The widget's data dict → one self-contained HTML fragment.

The same fragment is the live widget's content and the static fallback (text/html), so
every front end shows the same thing. Inline styles only, SVG charts, no script, no
network: it renders in a sanitising viewer and in an offline nbconvert export.
"""

from __future__ import annotations

from typing import Any

from runtrack._format import duration_text, time_text
from runtrack.sdk._html import (
    FONT,
    LINK,
    MONO,
    MUTED,
    esc,
    link,
    number_text,
    status_badge,
    table,
)
from runtrack.widgets._svg import Line, line_chart

CARD = (
    "border:1px solid #d0d7de;border-radius:8px;padding:12px 14px;background:#ffffff;"
    "color:#1f2328;max-width:980px;box-sizing:border-box;" + FONT
)
SECTION = (
    "margin:14px 0 6px;font-size:11px;font-weight:600;letter-spacing:.04em;"
    "text-transform:uppercase;color:#656d76"
)
TERMINAL = (
    "display:flex;flex-direction:column-reverse;overflow:auto;max-height:300px;"
    "background:#1e1e1e;border-radius:6px"
)
PRE = (
    "margin:0;padding:8px 10px;color:#d4d4d4;white-space:pre;line-height:1.35;"
    "font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px"
)


def render(data: dict[str, Any], *, refresh: dict[str, Any] | None = None) -> str:
    """HTML of everything in ``data`` (see ``Collector.collect``); ``refresh`` adds the
    footer's live state: ``{"active": bool, "interval": seconds}``."""
    parts = [f'<div class="runtrack-details" style="{CARD}">']
    parts.append(_header(data))
    if data["charts"] or data["values"]:
        parts.append(_metrics(data))
    if data["mode"] == "run" and data["children"]:
        parts.append(f'<div style="{SECTION}">Child runs ({len(data["children"])})</div>')
        parts.append(_runs_table(data, data["children"]))
    if data["log"] is not None:
        parts.append(_log(data["log"]))
    parts.append(_footer(data, refresh))
    parts.append("</div>")
    return "".join(parts)


def _header(data: dict[str, Any]) -> str:
    run = data["run"]
    if run is None:
        title = (
            f'<div style="font-size:15px;font-weight:600;margin-bottom:6px">'
            f"{esc(data['title'])}</div>"
        )
        return title + _runs_table(data, data["runs"])
    url = run["url"]
    open_link = (
        f'<a href="{esc(url)}" target="_blank" rel="noopener" style="{LINK};font-size:12px;'
        f'white-space:nowrap">Open in runtrack ↗</a>'
        if url
        else ""
    )
    facts = [
        f"run {run['number']}",
        f'<span style="{MONO}">{esc(run["id"])}</span>',
        esc(run["type"]),
        f"started {time_text(run['started'])}" if run["started"] else "not started",
        f"duration {esc(run['duration'])}",
        f"target {esc(run['target'])}",
    ]
    head = (
        '<div style="display:flex;align-items:center;gap:10px;flex-wrap:wrap">'
        f"{status_badge(run['status'])}"
        f'<span style="font-size:15px;font-weight:600">{esc(run["name"])}</span>'
        f'<span style="{MUTED}">{esc(run["experiment"])}</span>'
        f'<span style="flex:1"></span>{open_link}</div>'
        f'<div style="{MUTED};font-size:12px;margin-top:3px">{" · ".join(facts)}</div>'
    )
    if run["error"]:
        head += (
            '<div style="margin-top:8px;padding:6px 10px;border-left:3px solid #cf222e;'
            f'background:#ffebe9;color:#82071e;white-space:pre-wrap">{esc(run["error"])}</div>'
        )
    return head


def _swatch(color: str | None) -> str:
    if not color:
        return ""
    return (
        f'<span style="display:inline-block;width:10px;height:10px;border-radius:2px;'
        f'background:{color};margin-right:6px;vertical-align:-1px"></span>'
    )


def _runs_table(data: dict[str, Any], runs: list[dict[str, Any]]) -> str:
    columns = data["columns"]
    headers = ["Run", "Status", "Duration", "Started", *map(esc, columns)]
    rows = []
    for run in runs:
        values = data["metrics"].get(run["id"], {})
        name = (
            _swatch(run["color"])
            + link(run["name"], run["url"])
            + f' <span style="{MUTED};font-size:11px">#{run["number"]}</span>'
        )
        rows.append(
            [
                name,
                status_badge(run["status"]),
                esc(run["duration"]),
                time_text(run["started"]),
                *(
                    f'<span style="font-variant-numeric:tabular-nums">'
                    f"{esc(number_text(values.get(c)))}</span>"
                    if values.get(c) is not None
                    else f'<span style="{MUTED}">—</span>'
                    for c in columns
                ),
            ]
        )
    return f'<div style="overflow-x:auto">{table(headers, rows)}</div>'


def _metrics(data: dict[str, Any]) -> str:
    parts = [f'<div style="{SECTION}">Metrics</div>']
    labels = {s["run_id"]: (s["label"], s["color"]) for c in data["charts"] for s in c["series"]}
    if len(labels) > 1:
        parts.append(
            '<div style="display:flex;flex-wrap:wrap;gap:4px 14px;margin-bottom:6px;'
            'font-size:12px">'
            + "".join(f"<span>{_swatch(color)}{esc(lbl)}</span>" for lbl, color in labels.values())
            + "</div>"
        )
    if data["charts"]:
        parts.append(
            '<div style="display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));'
            'gap:10px">'
        )
        for chart in data["charts"]:
            parts.append(_chart(chart, single=len(labels) == 1))
        parts.append("</div>")
    if data["values"]:
        cells = "".join(
            f'<span style="white-space:nowrap"><span style="{MUTED}">{esc(k)}</span> '
            f"<b>{esc(number_text(v))}</b></span>"
            for k, v in data["values"].items()
        )
        parts.append(
            f'<div style="display:flex;flex-wrap:wrap;gap:4px 18px;margin-top:8px">{cells}</div>'
        )
    return "".join(parts)


def _chart(chart: dict[str, Any], *, single: bool) -> str:
    series = chart["series"]
    lines = [Line(s["x"], s["y"], s["color"], s["label"]) for s in series]
    last = ""
    if single and series and series[0]["last"] is not None:
        last = f'<span style="{MUTED};font-weight:400">last {number_text(series[0]["last"])}</span>'
    sampled = any(s["downsampled"] for s in series)
    note = (
        f'<span style="{MUTED};font-weight:400;font-size:11px">downsampled</span>'
        if sampled
        else ""
    )
    return (
        '<div style="border:1px solid #eaeef2;border-radius:6px;padding:6px 8px 4px">'
        '<div style="display:flex;justify-content:space-between;gap:8px;font-weight:600;'
        f'font-size:12px;margin-bottom:2px"><span>{esc(chart["name"])}</span>'
        f"<span>{note} {last}</span></div>"
        f"{line_chart(lines, x_label=chart['x'])}</div>"
    )


def _log(log: dict[str, Any]) -> str:
    path = log["path"]
    title = "Log"
    if path:
        n = len(log["lines"])
        shown = f"last {n} lines" if log["truncated"] else f"{n} line{'s' if n != 1 else ''}"
        title += (
            f' <span style="text-transform:none;font-weight:400">— {esc(path)} ({shown})</span>'
        )
    message = esc(log["message"] or "The log is empty.")
    body = (
        f'<div style="{TERMINAL}"><pre style="{PRE}">{log["html"]}</pre></div>'
        if path and log["lines"]
        else f'<div style="{MUTED};font-style:italic">{message}</div>'
    )
    return f'<div style="{SECTION}">{title}</div>{body}'


def _footer(data: dict[str, Any], refresh: dict[str, Any] | None) -> str:
    state = f"updated {time_text(data['generated_at'])[11:]}"
    if refresh is not None and refresh.get("active"):
        state += f" · refreshing every {duration_text(refresh['interval'])}"
    elif data["active"]:
        state += " · not refreshing (call .show() for live updates)"
    return f'<div style="{MUTED};font-size:11px;margin-top:10px;text-align:right">{state}</div>'
