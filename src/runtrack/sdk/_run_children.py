"""Child runs of a run: create and list them (the helper behind
``Run.create_children`` and ``Run.get_children``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Generic, TypeVar

from runtrack import limits
from runtrack.errors import InvalidValueError, LimitExceededError
from runtrack.model import RunInfo, RunQuery, RunStatus
from runtrack.sdk._run_fields import tag_filter
from runtrack.store.base import TrackingStore

R = TypeVar("R")


class RunChildren(Generic[R]):
    """The children of run ``run_id``; ``start(tags)`` creates and starts one child,
    ``load(info)`` makes the handle of an existing one (both return the caller's run
    type, so this module needs no run class)."""

    def __init__(
        self,
        store: TrackingStore,
        run_id: str,
        *,
        start: Callable[[Mapping[str, str]], R],
        load: Callable[[RunInfo], R],
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.start = start
        self.load = load

    def create(
        self, count: int | None, tag_key: str | None, tag_values: Sequence[str] | None
    ) -> list[R]:
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
            children.append(self.start(tags))
        return children

    def list(
        self,
        recursive: bool,
        tags: Any,
        properties: Any,
        run_type: str | None,
        status: str | None,
        parent_id: str | None = None,
    ) -> Iterator[R]:
        """Children that match, oldest first; with ``recursive``, each one is followed by
        its own matching descendants."""
        query = RunQuery(
            parent_id=parent_id or self.run_id,
            tags=tag_filter(tags),
            properties=tag_filter(properties),
            run_type=run_type,
            status=[RunStatus(status)] if status else None,
            order_by=[("created_time", False)],
        )
        for info in self.store.search_runs(query):
            yield self.load(info)
            if recursive:
                yield from self.list(True, tags, properties, run_type, status, info.id)
