"""Child runs of a run: start, list and submit them (mixed into Run)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from runtrack import limits
from runtrack.errors import InvalidValueError, LimitExceededError
from runtrack.model import RunInfo, RunQuery, RunStatus
from runtrack.sdk._run_fields import outputs_dir, tag_filter
from runtrack.store.base import TrackingStore

if TYPE_CHECKING:
    from pathlib import Path

    from runtrack.sdk.experiment import Experiment
    from runtrack.sdk.run import Run
    from runtrack.sdk.script_run_config import ScriptRunConfig


class ChildrenMixin:
    """Child-run methods of :class:`runtrack.Run`."""

    id: str
    experiment: Experiment
    _info: RunInfo
    _store: TrackingStore
    _outputs: Path | None
    _submitted: bool

    def child_run(
        self, name: str | None = None, run_id: str | None = None, outputs: str | None = None
    ) -> Run:
        """A started child run (use it as a context manager to complete it)."""
        child = _run_class()._create(
            self.experiment,
            run_id=run_id,
            run_type="child",
            display_name=name,
            parent_id=self.id,
            compute_target=self._info.compute_target,
        )
        child._outputs = outputs_dir(outputs) if outputs else None
        child._submitted = False
        return child

    def create_children(
        self,
        count: int | None = None,
        tag_key: str | None = None,
        tag_values: Sequence[str] | None = None,
    ) -> list[Run]:
        """Start ``count`` children (tagged ``batch_child_number``) or one per tag value."""
        if (count is None) == (tag_key is None or tag_values is None):
            raise InvalidValueError(
                "create_children() needs either count= or both tag_key= and tag_values="
            )
        n = count if count is not None else len(tag_values or [])
        if n > limits.MAX_CHILDREN_PER_CALL or n < 0:
            raise LimitExceededError(
                f"create_children() asked for {n} children; at most "
                f"{limits.MAX_CHILDREN_PER_CALL} per call"
            )
        children = []
        for i in range(n):
            tags = (
                {"batch_child_number": str(i), "azureml.batch_child_number": str(i)}
                if count is not None
                else {str(tag_key): str((tag_values or [])[i])}
            )
            child = _run_class()._create(
                self.experiment,
                run_type="child",
                parent_id=self.id,
                tags=tags,
                compute_target=self._info.compute_target,
            )
            children.append(child)
        return children

    def get_children(
        self,
        recursive: bool = False,
        tags: Any = None,
        properties: Any = None,
        type: str | None = None,
        status: str | None = None,
    ) -> Iterator[Run]:
        """Child runs (all descendants with ``recursive=True``), oldest first."""
        query = RunQuery(
            parent_id=self.id,
            tags=tag_filter(tags),
            properties=tag_filter(properties),
            run_type=type,
            status=[RunStatus(status)] if status else None,
            order_by=[("created_time", False)],
        )
        for info in self._store.search_runs(query):
            child = _run_class()(self.experiment, info.id, _info=info)
            yield child
            if recursive:
                yield from child.get_children(True, tags, properties, type, status)

    def submit_child(
        self, config: ScriptRunConfig, tags: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> Run:
        """Submit ``config`` as a child of this run (``experiment.submit(config,
        _parent_run_id=self.id)``); inside it, ``Run.get_context().parent`` is this run."""
        return self.experiment.submit(config, tags=tags, _parent_run_id=self.id, **kwargs)


def _run_class() -> type[Run]:
    from runtrack.sdk.run import Run  # run.py imports this module

    return Run
