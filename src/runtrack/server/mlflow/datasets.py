"""``experiments/search-datasets``: the datasets the runs of some experiments read
(MLflow's UI and ``MlflowClient._search_datasets`` ask it), from the store's run inputs,
so datasets recorded through the Azure face are listed too."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from runtrack.model import RunQuery
from runtrack.server.mlflow import convert
from runtrack.server.mlflow._endpoint import Args, Ctx, endpoint
from runtrack.server.mlflow._errors import MlflowRoute, invalid

router = APIRouter(route_class=MlflowRoute, tags=["mlflow"])

MAX_EXPERIMENTS = 20


@endpoint(router, "POST", "/api/2.0/mlflow/experiments/search-datasets")
def search_datasets(ctx: Ctx, args: Args) -> dict[str, Any]:
    """Distinct (experiment, name, digest, context) of the inputs of the experiments' runs."""
    wanted = [str(e) for e in args.items("experiment_ids")]
    if not wanted:
        raise invalid("SearchDatasets request must specify at least one experiment_id.")
    if len(wanted) > MAX_EXPERIMENTS:
        raise invalid(f"SearchDatasets takes at most {MAX_EXPERIMENTS} experiment_ids, "
                      f"got {len(wanted)}")
    summaries: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for mlflow_id in wanted:
        exp = convert.resolve_experiment(ctx.store, mlflow_id)
        runs = ctx.store.search_runs(RunQuery(experiment_ids=[exp.id], include_children=True,
                                              limit=None))
        inputs = ctx.store.get_run_inputs([r.id for r in runs])
        for run in runs:
            for item in inputs.get(run.id, []):
                name = item.dataset_name or item.name
                key = (mlflow_id, name, item.digest, item.context)
                summary: dict[str, Any] = {"experiment_id": mlflow_id, "name": name,
                                           "digest": item.digest}
                if item.context:
                    summary["context"] = item.context
                summaries.setdefault(key, summary)
    return {"dataset_summaries": list(summaries.values())}
