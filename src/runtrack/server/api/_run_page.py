"""The payload of a run's page (also ``GET /api/v1/views/runs/{run_id}``).

One read of everything the page's tabs start from: the run (with duration, error and
traceback), its parent and children, its metric series with summaries, its files
(the Outputs + logs tree), which of them are logs, and the images it logged, each
with the time it was logged, and its lineage: the datasets it read and the model
versions registered from it. Chart data is fetched by the page afterwards
(:mod:`runtrack.server.api._chart_data`), so this stays small for long series.
"""

from __future__ import annotations

from typing import Any

from runtrack._rules import SYSTEM_PREFIX
from runtrack.errors import NotFoundError
from runtrack.model import MetricKind, RunQuery
from runtrack.server.api._runs_table import duration, run_row
from runtrack.store.base import ArtifactStore, TrackingStore

MAX_CHILDREN = 500
MAX_IMAGES_PER_SERIES = 200
LOG_FOLDERS = ("logs/", "user_logs/", "system_logs/", "azureml-logs/")
TEXT_SUFFIXES = (".txt", ".log", ".out", ".err", ".json", ".csv", ".tsv", ".md", ".yaml",
                 ".yml", ".py", ".sh", ".cfg", ".ini", ".toml")
#: system metrics (runtrack.runner.sysmetrics) get the System tab, not the Metrics tab
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".bmp")


def is_log(path: str) -> bool:
    return path.startswith(LOG_FOLDERS) or path.endswith((".log", ".err", ".out"))


def file_kind(path: str) -> str:
    """``log``, ``text``, ``image`` or ``binary``: how the Outputs tab opens the file."""
    lower = path.lower()
    if is_log(path):
        return "log"
    if lower.endswith(IMAGE_SUFFIXES):
        return "image"
    return "text" if lower.endswith(TEXT_SUFFIXES) else "binary"


def _images(store: TrackingStore, run_id: str, name: str) -> list[dict[str, Any]]:
    data = store.read_series(run_id, name, 0, MAX_IMAGES_PER_SERIES)
    return [
        {"name": name, "path": value, "time": when, "step": step}
        for step, when, value in zip(data.steps, data.times, data.values, strict=False)
        if isinstance(value, str)
    ]


def run_page(store: TrackingStore, artifacts: ArtifactStore, run_id: str) -> dict[str, Any]:
    run = store.get_run(run_id)
    parent = None
    if run.parent_id:
        try:
            parent = run_row(store.get_run(run.parent_id))
        except NotFoundError:
            parent = None
    children = store.search_runs(
        RunQuery(parent_id=run_id, order_by=[("number", False)], limit=MAX_CHILDREN)
    )
    series = store.list_series(run_id)
    images: list[dict[str, Any]] = []
    for info in series:
        if info.kind is MetricKind.IMAGE:
            images += _images(store, run_id, info.name)
    images.sort(key=lambda i: i["time"])
    files = [
        {**f.to_json(), "kind": file_kind(f.path)} for f in artifacts.list(run_id)
    ]
    return {
        "run": {**run.to_json(), "duration": duration(run), "terminal": run.status.is_terminal},
        "parent": parent,
        "children": [run_row(c) for c in children],
        "series": [s.to_json() for s in series if not s.name.startswith(SYSTEM_PREFIX)],
        "system_series": [s.name for s in series if s.name.startswith(SYSTEM_PREFIX)],
        "files": files,
        "logs": [f["path"] for f in files if f["kind"] == "log"],
        "images": images,
        "inputs": [i.to_json() for i in store.get_run_inputs([run_id]).get(run_id, [])],
        "models": [v.to_json() for v in store.list_model_versions() if v.run_id == run_id],
    }
