"""The payload of a sweep's page (also ``GET /api/v1/views/sweeps/{run_id}``).

A sweep is a HyperDrive parent run (:mod:`runtrack.sdk._sweep`): its property
``primary_metric_config`` names the primary metric and its goal, and each trial (a child
run) records its hyperparameters in its property ``hyperparameters`` (JSON). The page
draws one line per trial across the hyperparameters to the trial's best primary metric
value (a parallel-coordinates chart), and lists the trials best first, with why a
stopped trial was stopped (its error).
"""

from __future__ import annotations

import json
import math
from typing import Any

from runtrack.errors import NotFoundError
from runtrack.model import RunQuery
from runtrack.server.api._runs_table import run_row
from runtrack.store.base import TrackingStore

#: property names written by runtrack.sdk._sweep (the server does not import the SDK;
#: tests/ui/test_sweep_page.py checks that they agree)
CONFIG_PROPERTY = "primary_metric_config"
PARAMS_PROPERTY = "hyperparameters"
REASON_PROPERTY = "runtrack.termination_reason"
MAX_TRIALS = 2000


def _params(raw: str | None) -> dict[str, Any]:
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _dimension(name: str, values: list[Any]) -> dict[str, Any]:
    """How the chart draws one hyperparameter: numbers on a linear axis; anything
    else (strings, booleans, a mix) as categories in first-seen order."""
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool)
                  and math.isfinite(v) for v in values)
    if numeric:
        return {"name": name, "numeric": True, "values": [float(v) for v in values]}
    labels: list[str] = []
    for value in values:
        label = json.dumps(value) if not isinstance(value, str) else value
        if label not in labels:
            labels.append(label)
    index = {label: i for i, label in enumerate(labels)}
    return {
        "name": name, "numeric": False, "labels": labels,
        "values": [index[json.dumps(v) if not isinstance(v, str) else v] for v in values],
    }


def sweep_page(store: TrackingStore, run_id: str) -> dict[str, Any]:
    parent = store.get_run(run_id)
    config = _params(parent.properties.get(CONFIG_PROPERTY))
    if "name" not in config:
        raise NotFoundError(
            f"run {run_id} is not a sweep (a HyperDrive parent run); its page is /runs/{run_id}"
        )
    metric, maximize = str(config["name"]), config.get("goal") == "maximize"
    children = store.search_runs(
        RunQuery(parent_id=run_id, order_by=[("number", False)], limit=MAX_TRIALS)
    )
    summaries = store.get_summaries([c.id for c in children], [metric]) if children else {}
    trials = []
    for child in children:
        info = summaries.get(child.id, {}).get(metric)
        best = None if info is None else (info.maximum if maximize else info.minimum)
        row = run_row(child)
        row.update({
            "hyperparameters": _params(child.properties.get(PARAMS_PROPERTY)),
            "best": best,
            "reason": child.properties.get(REASON_PROPERTY),
            "error_message": child.error.message if child.error else None,
        })
        trials.append(row)
    ranked = sorted((t for t in trials if t["best"] is not None),
                    key=lambda t: t["best"], reverse=maximize)
    trials = ranked + [t for t in trials if t["best"] is None]
    names = sorted({k for t in trials for k in t["hyperparameters"]})
    charted = [t for t in ranked if all(k in t["hyperparameters"] for k in names)]
    dimensions = [_dimension(k, [t["hyperparameters"][k] for t in charted]) for k in names]
    return {
        "run": run_row(parent),
        "primary_metric": {"name": metric, "goal": "maximize" if maximize else "minimize"},
        "parameters": names,
        "trials": trials,
        "chart": {
            "trial_ids": [t["id"] for t in charted],
            "dimensions": dimensions,
            "metric": [t["best"] for t in charted],
        },
    }
