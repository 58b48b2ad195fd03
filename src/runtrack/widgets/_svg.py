"""Small line charts as inline SVG: no JavaScript, no network, crisp text.

One chart per metric; several series (runs) are overlaid in the palette's colours.
Hovering a line shows the run and its last value (an SVG ``<title>``).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

from runtrack._format import format_number

__all__ = ["PALETTE", "Line", "line_chart", "nice_ticks"]

#: Distinguishable on white, colour-blind friendly order first.
PALETTE = (
    "#1f6feb", "#e8590c", "#2f9e44", "#c2255c", "#7048e8",
    "#0c8599", "#e67700", "#5c940d", "#a61e4d", "#495057",
)  # fmt: skip

WIDTH, HEIGHT = 300, 150
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 46, 10, 8, 22
_TEXT = 'font-family="-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif" font-size="10"'


@dataclass(frozen=True)
class Line:
    """One series: x and y of equal length (numbers only), its colour and label."""

    xs: Sequence[float]
    ys: Sequence[float]
    color: str
    label: str


def fmt(value: float) -> str:
    """A short tick/tooltip label (:func:`runtrack._format.format_number`)."""
    return format_number(value)


def nice_ticks(lo: float, hi: float, count: int = 4) -> list[float]:
    """About ``count`` round tick values covering [lo, hi] (lo < hi)."""
    span = hi - lo
    raw = span / max(1, count)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks: list[float] = []
    value = first
    while value <= hi + step * 1e-9 and len(ticks) < 20:
        ticks.append(round(value, 12))
        value += step
    return ticks


def _range(values: list[float]) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    if lo == hi:
        pad = abs(lo) * 0.05 or 1.0
        return lo - pad, hi + pad
    pad = (hi - lo) * 0.05
    return lo - pad, hi + pad


def line_chart(lines: Sequence[Line], *, x_label: str = "") -> str:
    """An SVG chart of ``lines`` (empty lines are skipped); '' when nothing to draw."""
    lines = [ln for ln in lines if len(ln.xs) > 0]
    if not lines:
        return ""
    all_x = [float(x) for ln in lines for x in ln.xs]
    all_y = [float(y) for ln in lines for y in ln.ys]
    x_lo, x_hi = min(all_x), max(all_x)
    if x_lo == x_hi:
        x_lo, x_hi = x_lo - 1, x_hi + 1
    y_lo, y_hi = _range(all_y)
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM

    def sx(x: float) -> float:
        return PAD_LEFT + (x - x_lo) / (x_hi - x_lo) * plot_w

    def sy(y: float) -> float:
        return PAD_TOP + (1 - (y - y_lo) / (y_hi - y_lo)) * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" style="display:block">'
    ]
    for tick in nice_ticks(y_lo, y_hi):
        y = sy(tick)
        parts.append(
            f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#eaeef2" stroke-width="1"/>'
            f'<text x="{PAD_LEFT - 5}" y="{y + 3:.1f}" text-anchor="end" fill="#656d76" {_TEXT}>'
            f"{fmt(tick)}</text>"
        )
    base = PAD_TOP + plot_h
    parts.append(
        f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{base}" y2="{base}" '
        'stroke="#afb8c1" stroke-width="1"/>'
    )
    x_ticks = [t for t in nice_ticks(x_lo, x_hi, 4) if x_lo <= t <= x_hi]
    for tick in x_ticks:
        parts.append(
            f'<text x="{sx(tick):.1f}" y="{base + 13}" text-anchor="middle" fill="#656d76" '
            f"{_TEXT}>{fmt(tick)}</text>"
        )
    if x_label:
        parts.append(
            f'<text x="{WIDTH - PAD_RIGHT}" y="{HEIGHT - 1}" text-anchor="end" fill="#8c959f" '
            f'{_TEXT} font-size="9">{html.escape(x_label)}</text>'
        )
    for ln in lines:
        points = " ".join(
            f"{sx(float(x)):.1f},{sy(float(y)):.1f}" for x, y in zip(ln.xs, ln.ys, strict=False)
        )
        tip = html.escape(f"{ln.label}: last {fmt(float(ln.ys[-1]))} ({len(ln.ys)} points)")
        last_x, last_y = sx(float(ln.xs[-1])), sy(float(ln.ys[-1]))
        parts.append(f"<g><title>{tip}</title>")
        if len(ln.xs) > 1:
            parts.append(
                f'<polyline points="{points}" fill="none" stroke="{ln.color}" '
                'stroke-width="1.6" stroke-linejoin="round" stroke-linecap="round"/>'
            )
        parts.append(f'<circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="2.5" fill="{ln.color}"/>')
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)
