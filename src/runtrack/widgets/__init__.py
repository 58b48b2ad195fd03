"""Notebook views of runs: ``RunDetails`` (live widget) and ``runs_table``.

``from runtrack.widgets import RunDetails; RunDetails(run).show()``. Needs IPython (and
ipywidgets for the live widget): ``pip install 'runtrack[notebook]'``; without a widget
front end the same content is shown as static HTML. See docs/notebooks.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from runtrack.widgets._details import RunDetails

if TYPE_CHECKING:
    from runtrack.sdk.run import Run

__all__ = ["RunDetails", "RunsTable", "runs_table"]


class RunsTable:
    """A list of runs that notebooks display as a compact table (``_repr_html_``)."""

    def __init__(self, runs: Iterable[Run], limit: int = 50) -> None:
        self.runs = list(runs)
        self.limit = limit

    def __len__(self) -> int:
        return len(self.runs)

    def _repr_html_(self) -> str:
        from runtrack.sdk._html import runs_html

        return runs_html(self.runs, limit=self.limit)

    def __repr__(self) -> str:
        lines = [f"{len(self.runs)} runs"]
        lines += [f"  {r.id}  {r.status}" for r in self.runs[: self.limit]]
        return "\n".join(lines)


def runs_table(runs: Iterable[Run], limit: int = 50) -> RunsTable:
    """Wrap ``runs`` (e.g. ``experiment.get_runs()``) for display as an HTML table."""
    return RunsTable(runs, limit)
