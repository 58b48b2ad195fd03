"""Compact HTML summaries of runs and experiments for notebooks (``_repr_html_``).

Everything is inline-styled (no ``<style>`` block, no script), so it renders the same in
JupyterLab, classic Notebook, VS Code, nbconvert HTML and sanitising viewers. A link to
the web UI appears only where a server is known (an ``http(s)://`` workspace).
The live widget (``runtrack.widgets``) reuses these helpers.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import TYPE_CHECKING

from runtrack._format import duration_text, format_number, time_text
from runtrack._format import run_seconds as duration_seconds

if TYPE_CHECKING:
    from runtrack.sdk.experiment import Experiment
    from runtrack.sdk.run import Run
    from runtrack.sdk.workspace import Workspace

# Tables inherit the notebook's text colour and use translucent greys, so they read in
# light and dark themes; the RunDetails card sets its own white background and colour.
FONT = (
    "font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
    "font-size:13px;line-height:1.4"
)
TABLE = "border-collapse:collapse;margin:2px 0;" + FONT
TH = (
    "text-align:left;padding:4px 10px;border-bottom:2px solid rgba(128,128,128,.35);"
    "font-weight:600;white-space:nowrap;background:rgba(128,128,128,.08)"
)
TD = (
    "text-align:left;padding:4px 10px;border-bottom:1px solid rgba(128,128,128,.2);"
    "white-space:nowrap"
)
MUTED = "color:#6e7781"
MONO = "font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px"
LINK = "color:#0969da;text-decoration:none"

#: status → (text colour, background) of its badge
STATUS_COLORS: dict[str, tuple[str, str]] = {
    "Completed": ("#1a7f37", "#dafbe1"),
    "Running": ("#0969da", "#ddf4ff"),
    "Finalizing": ("#0969da", "#ddf4ff"),
    "Failed": ("#cf222e", "#ffebe9"),
    "Canceled": ("#57606a", "#eaeef2"),
    "CancelRequested": ("#57606a", "#eaeef2"),
}
_PENDING = ("#9a6700", "#fff8c5")
MAX_ROWS = 50


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def status_badge(status: str) -> str:
    fg, bg = STATUS_COLORS.get(status, _PENDING)
    return (
        f'<span style="display:inline-block;padding:0 8px;border-radius:10px;font-size:12px;'
        f'font-weight:600;color:{fg};background:{bg};white-space:nowrap">{esc(status)}</span>'
    )


def number_text(value: object) -> str:
    """A metric value, short (:func:`runtrack._format.format_number`; long text cut at 40
    characters)."""
    text = format_number(value)
    return text if len(text) <= 40 else text[:39] + "…"


def ui_base(workspace: Workspace) -> str | None:
    """Base URL of the web UI, when the workspace is a server; else None."""
    settings = workspace.settings
    return settings.tracking_uri.rstrip("/") if settings.is_remote else None


def run_url(run: Run) -> str | None:
    """``<server>/runs/<run id>`` for a server workspace; None for a local one."""
    base = ui_base(run.experiment.workspace)
    return f"{base}/runs/{run.id}" if base else None


def link(text: str, url: str | None) -> str:
    if url is None:
        return esc(text)
    return f'<a href="{esc(url)}" target="_blank" rel="noopener" style="{LINK}">{esc(text)}</a>'


def table(headers: list[str], rows: list[list[str]], *, caption: str = "") -> str:
    """A table from pre-escaped cell HTML."""
    head = "".join(f'<th style="{TH}">{h}</th>' for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td style="{TD}">{c}</td>' for c in row) + "</tr>" for row in rows
    )
    cap = (
        f'<caption style="caption-side:top;text-align:left;padding:2px 0 4px;{MUTED}">'
        f"{caption}</caption>"
        if caption
        else ""
    )
    return (
        f'<table style="{TABLE}">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


def _run_row(run: Run, *, with_experiment: bool, with_link: bool) -> list[str]:
    status = run.get_status()
    info = run.info
    name = f'{esc(info.display_name)}<br><span style="{MONO};{MUTED}">{esc(run.id)}</span>'
    cells = [esc(run.experiment.name)] if with_experiment else []
    cells += [
        f"{info.number}",
        name,
        esc(info.run_type),
        status_badge(status),
        time_text(info.start_time or info.created_time),
        duration_text(duration_seconds(info)),
    ]
    if with_link:
        cells.append(link("open", run_url(run)))
    return cells


def _runs_table(runs: list[Run], *, with_experiment: bool, caption: str = "") -> str:
    """Rows of runs; the "Details page" column only where a web UI is known."""
    with_link = any(ui_base(r.experiment.workspace) for r in runs)
    headers = ["Experiment"] if with_experiment else []
    headers += ["#", "Run", "Type", "Status", "Started", "Duration"]
    headers += ["Details page"] if with_link else []
    rows = [_run_row(r, with_experiment=with_experiment, with_link=with_link) for r in runs]
    return table(headers, rows, caption=caption)


def run_html(run: Run) -> str:
    """One-row table: experiment, number, name/id, type, status, times, link."""
    return _runs_table([run], with_experiment=True)


def runs_html(runs: Iterable[Run], *, limit: int = MAX_ROWS) -> str:
    """A table of runs (at most ``limit`` rows; the caption says how many more)."""
    items = list(runs)
    if not items:
        return f'<div style="{FONT};{MUTED}">No runs.</div>'
    caption = f"{len(items)} run{'s' if len(items) != 1 else ''}"
    if len(items) > limit:
        caption += f" (first {limit} shown)"
    return _runs_table(items[:limit], with_experiment=True, caption=caption)


def experiment_html(experiment: Experiment, *, limit: int = 10) -> str:
    """The experiment (name, workspace, run count) and its latest ``limit`` runs."""
    from runtrack.model import RunQuery
    from runtrack.sdk.run import Run

    store = experiment.workspace.store
    total = store.count_runs(RunQuery(experiment_ids=[experiment.id]))
    infos = store.search_runs(RunQuery(experiment_ids=[experiment.id], limit=limit))
    runs = [Run(experiment, info.id, _info=info) for info in infos]
    head = table(
        ["Experiment", "Workspace", "Runs", "Latest run"],
        [
            [
                f"<b>{esc(experiment.name)}</b>",
                esc(experiment.workspace.name),
                str(total),
                time_text(runs[0].info.created_time) if runs else "—",
            ]
        ],
    )
    if not runs:
        return head
    caption = f"latest {len(runs)} of {total}" if total > len(runs) else ""
    gap = '<div style="height:8px"></div>'
    return head + gap + _runs_table(runs, with_experiment=False, caption=caption)
