"""How ``run.log`` becomes the spool writer's scalar logger: the one hop of the hot path
that lives in ``sdk/`` (see docs/architecture.md, "The hops of one point")."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from runtrack.errors import RunStateError

if TYPE_CHECKING:
    from runtrack.spool.writer import SpoolWriter


class SlowLogging(Protocol):
    """A run handle: ``log`` is set on its instance; ``_log_slow`` takes each point the
    scalar logger does not (the checked path)."""

    def _log_slow(self, name: str, value: Any, description: str, step: Any) -> None: ...


R = TypeVar("R", bound=SlowLogging)


def install_log(ref: weakref.ReferenceType[R], writer: SpoolWriter) -> None:
    """What a run's RunMetrics calls with each new spool's main writer (bound to a weak
    reference of the run): installs the writer's scalar logger as ``run.log`` (the hot
    path: one call, no method lookup). It and the logger's slow path hold the run
    weakly: the logger is an attribute of the run, so a strong reference would make a
    cycle, and a dropped handle would wait for the garbage collector to end its spool."""
    run = ref()
    if run is None:
        return

    def slow(name: str, value: Any, description: str, step: Any) -> None:
        target = ref()
        if target is None:
            raise RunStateError(
                f"the run handle this log function came from is gone; keep a reference "
                f"to the run and call its log() (metric {name!r})"
            )
        target._log_slow(name, value, description, step)

    run.__dict__["log"] = writer.scalar_logger(slow)
