"""Buckets as columns: a downsample without one Python object per bucket.

A compare chart of 100 series at 120 buckets is 12,000 buckets; as :class:`~runtrack.
model.Bucket` objects they cost more than reading the points. A store with
:class:`ColumnDownsampler` (``SqlStore``, when numpy is installed) answers the same
downsample as :class:`BucketColumns`: seven numpy arrays, one item per bucket, in x
order, holding exactly what the ``Bucket`` list would (``buckets()`` makes that list).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol, runtime_checkable

from runtrack.model import Bucket


class BucketColumns(NamedTuple):
    """The fields of a list of :class:`~runtrack.model.Bucket` as numpy arrays
    (``count`` int64, the others float64)."""

    x_start: Any
    x_end: Any
    count: Any
    first: Any
    last: Any
    minimum: Any
    maximum: Any

    def buckets(self) -> list[Bucket]:
        """The same buckets as objects."""
        return [Bucket(*fields) for fields in zip(*(column.tolist() for column in self),
                                                  strict=True)]


@runtime_checkable
class ColumnDownsampler(Protocol):
    """A store that downsamples many series in one read into :class:`BucketColumns`."""

    def downsample_columns(
        self,
        pairs: Sequence[tuple[str, str]],
        buckets: int,
        *,
        x: str = "index",
        x_min: float | None = None,
        x_max: float | None = None,
    ) -> dict[tuple[str, str], BucketColumns]:
        """``downsample`` of each (run id, metric name) pair as columns; pairs that do
        not exist are left out. Needs numpy (see :func:`numpy_module`)."""
        ...


@functools.cache
def numpy_module() -> Any:
    """numpy when it is installed (the column paths need it), else None."""
    try:
        import numpy
    except ImportError:
        return None
    return numpy
