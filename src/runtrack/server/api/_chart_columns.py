"""The chart route's per-point work with numpy: a trace's points from bucket columns,
its compact x deltas and its y to 5 significant digits.

Each function gives exactly what its pure-Python counterpart in :mod:`._chart_data`
gives (``bucket_points``, ``compact_trace``, ``_short``; the tests compare them on
random data); the chart route uses these when numpy is installed. Values whose
rounding the array arithmetic cannot vouch for (a digit too close to a tie, an
exponent out of range) are rounded by the Python code, one by one.
"""

from __future__ import annotations

import math
from typing import Any

from runtrack.store.bucket_columns import BucketColumns

_EXACT_POWERS = 22  # 10**k is exact in float64 up to k = 22


def bucket_points(numpy: Any, columns: BucketColumns, whole: bool) -> tuple[Any, Any]:
    """x and y (float64 arrays) of the line through each bucket's first, extreme values
    and last, as ``_chart_data.bucket_points`` draws them."""
    x_start, x_end, count = columns.x_start, columns.x_end, columns.count
    first, last = columns.first, columns.last
    width = x_end - x_start
    inner = [x_start + width / 3, x_start + 2 * width / 3]
    if whole:
        inner = [numpy.minimum(x_end, numpy.maximum(x_start, numpy.rint(v))) for v in inner]
    lows_first = first <= last
    xs = numpy.stack([x_start, inner[0], inner[1], x_end], axis=1)
    ys = numpy.stack([first,
                      numpy.where(lows_first, columns.minimum, columns.maximum),
                      numpy.where(lows_first, columns.maximum, columns.minimum),
                      last], axis=1)
    keep = numpy.ones(xs.shape, dtype=bool)
    keep[count <= 1, 1:] = False  # a bucket of one point is that point
    return xs[keep], ys[keep]


def compact_x(numpy: Any, xs: Any) -> tuple[float, float, list[int]] | None:
    """``(x0, xq, xd)`` of ``compact_trace`` for a non-empty float64 array; None when
    a value is not finite or too far from the first (the Python code then decides)."""
    if not bool(numpy.isfinite(xs).all()):
        return None
    first = float(xs[0])
    if float(numpy.abs(xs).max()) < 2**53 and bool((numpy.floor(xs) == xs).all()):
        units = xs.astype(numpy.int64)
        return first, 1.0, numpy.diff(units, prepend=units[0]).tolist()
    span = float(xs[-1]) - first if len(xs) > 1 else 0.0
    quantum = float(10 ** math.floor(math.log10(span / 1e6))) if span > 0 else 1e-6
    with numpy.errstate(over="ignore"):
        steps = numpy.rint((xs - first) / quantum)
    if not float(numpy.abs(steps).max()) < 2**53:
        return None
    return first, quantum, numpy.diff(steps.astype(numpy.int64), prepend=0).tolist()


def short(numpy: Any, ys: Any) -> list[float | None]:
    """Each value to 5 significant digits, as ``float(f"{v:.5g}")``; non-finite as None.

    ``m = rint(v * 10**p)`` with ``p = 4 - floor(log10|v|)``, then ``m / 10**p`` (or
    ``m * 10**-p``): with ``m`` and the power of ten exact, that one division or
    product is correctly rounded, so it is the float nearest the 5-digit decimal, as
    parsing the formatted text gives. Where the scaled value is within 1e-6 of a tie,
    ``m`` is not 5 digits (a power-of-ten edge) or ``|p| > 22``, Python formats it.
    """
    values = numpy.asarray(ys, dtype=numpy.float64)
    finite = numpy.isfinite(values)
    out = values.copy()
    nonzero = finite & (values != 0)
    v = values[nonzero]
    with numpy.errstate(all="ignore"):
        p = 4 - numpy.floor(numpy.log10(numpy.abs(v))).astype(numpy.int64)
        usable = numpy.abs(p) <= _EXACT_POWERS
        p = numpy.where(usable, p, 0)
        power = 10.0 ** numpy.abs(p)
        up = p >= 0
        scaled = numpy.where(up, v * power, v / power)
        m = numpy.rint(scaled)
        rounded = numpy.where(up, m / power, m * power)
        size = numpy.abs(m)
        usable &= (size >= 10_000) & (size <= 100_000)
        usable &= numpy.abs(numpy.abs(scaled - numpy.trunc(scaled)) - 0.5) > 1e-6
    out[nonzero] = numpy.where(usable, rounded, v)
    result: list[float | None] = out.tolist()
    for i in numpy.flatnonzero(nonzero)[~usable].tolist():
        result[i] = float(f"{result[i]:.5g}")
    for i in numpy.flatnonzero(~finite).tolist():
        result[i] = None
    return result
