"""Shared pieces of the report's SVG drawing: record numbers, tick positions, titles, colours
(split from :mod:`reports.svg` so its chart modules need not import it back)."""

from __future__ import annotations

import math
from html import escape
from typing import Any, Iterable

__all__ = ["num", "fmt", "COLORS", "VIOLATION", "nice_ticks", "title_text", "finite"]


def num(v: Any) -> float:
    """A record number (JSON writes non-finite floats as strings) as a float."""
    if v is None:
        return math.nan
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return math.nan
    return float(v)


def fmt(v: Any, digits: int = 6) -> str:
    x = num(v)
    if math.isnan(x):
        return "n/a" if v is None else "nan"
    return f"{x:.{digits}g}"


COLORS = {"observed": "#1f77b4", "bound": "#d62728", "margin": "#2ca02c", "other": "#7f7f7f",
          "t0": "#9467bd", "t1": "#8c564b", "t2": "#17becf"}


#: The colour of a violation beyond rounding (histogram bins, margin dots); nothing else uses it.
VIOLATION = "#cf222e"


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.ceil(lo / step) * step
    out, t = [], start
    while t <= hi + 1e-9 * step:
        out.append(0.0 if abs(t) < 1e-12 * step else t)
        t += step
    return out


def title_text(title: str, x: float, width: float) -> str:
    """A plot title that stays inside the plot: moved to the left edge, then squeezed (SVG
    ``textLength``) when 12px bold text would run past the right edge."""
    est = 6.8 * len(title)
    if x + est > width - 4:
        x = 6
    squeeze = f' textLength="{width - 12:.0f}" lengthAdjust="spacingAndGlyphs"' if x + est > width - 4 else ""
    return f'<text x="{x}" y="15" class="ptitle"{squeeze}>{escape(title)}</text>'


def finite(values: Iterable[Any]) -> list[float]:
    return [x for x in (num(v) for v in values) if math.isfinite(x)]
