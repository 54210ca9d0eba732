"""Scatter-and-interval plots and histograms of the HTML report as inline SVG (split from
:mod:`reports.svg`, whose helpers they use)."""

from __future__ import annotations

import math
from html import escape
from typing import Any, Sequence

from .svg_base import COLORS, VIOLATION, num
from .svg_base import nice_ticks as _nice_ticks
from .svg_base import title_text as _title_text

__all__ = ["xy_plot", "histogram_plot"]


def _axis(values: Sequence[float], want_log: bool) -> tuple[bool, float, float]:
    """(log?, lo, hi) in plotted units for an axis showing ``values``; log when asked for and every
    value is positive and they span more than a decade."""
    vals = [v for v in values if math.isfinite(v)]
    if not vals:
        return False, 0.0, 1.0
    log = want_log and min(vals) > 0 and max(vals) / min(vals) > 10
    f = math.log10 if log else (lambda v: v)
    lo, hi = min(f(v) for v in vals), max(f(v) for v in vals)
    if hi - lo <= 1e-12 * max(abs(hi), abs(lo), 1e-300):
        span = abs(hi) * 0.1 if hi else 1.0
        lo, hi = lo - span, hi + span
    pad = 0.06 * (hi - lo)
    return log, lo - pad, hi + pad


def _ticks(log: bool, lo: float, hi: float, n: int) -> list[tuple[float, str]]:
    """(position in plotted units, label) pairs."""
    if log:
        ks = list(range(math.ceil(lo), math.floor(hi) + 1))
        if len(ks) < 3:  # less than two decades: label 1, 2, 5 times the powers of ten as well
            fine = [(math.log10(m) + k, f"{m * 10.0 ** k:g}") for k in range(math.floor(lo), math.ceil(hi) + 1)
                    for m in (1, 2, 5)]
            fine = [(pos, label) for pos, label in fine if lo <= pos <= hi]
            if len(fine) >= 2:
                return fine
        if len(ks) > n + 1:
            ks = ks[:: math.ceil(len(ks) / n)]
        if not ks:
            mid = (lo + hi) / 2
            return [(mid, f"{10 ** mid:.3g}")]
        return [(float(k), f"1e{k}" if abs(k) > 2 else f"{10.0 ** k:g}") for k in ks]
    ts = _nice_ticks(lo, hi, n)
    digits = 3
    while digits < 12 and len({f"{t:.{digits}g}" for t in ts}) < len(ts):
        digits += 1
    return [(t, f"{t:.{digits}g}") for t in ts]


def xy_plot(
    *,
    title: str,
    xlabel: str,
    ylabel: str = "",
    points: Sequence[tuple[str, Sequence[Any], Sequence[Any], str]] = (),
    lines: Sequence[tuple[str, Sequence[Any], Sequence[Any], str]] = (),
    intervals: Sequence[tuple[Any, Any, Any, str]] = (),
    ticks: Sequence[tuple[Any, Any, str]] = (),
    hline: float | None = None,
    legend_extra: Sequence[tuple[str, str]] = (),
    log_x: bool = True,
    log_y: bool = True,
    note: str = "",
    width: int = 460,
    height: int = 230,
    css_class: str = "plot",
) -> str:
    """A scatter / line chart with optional vertical interval bars and short horizontal ticks.
    ``points`` and ``lines``: (label, xs, ys, colour); ``intervals``: (x, lo, hi, colour);
    ``ticks``: (x, y, colour) short horizontal marks (a per-instance bound); ``hline``: a dashed
    reference level; ``legend_extra``: (label, colour) legend entries for the intervals / ticks.  Each axis is logarithmic when asked for and every value on it is positive
    (and spans more than a decade)."""
    # The axes fit the data (points, intervals, ticks); curves only set them when there is no data,
    # and are cut where they leave the frame (a poor alternative fit must not squash the data).
    marks = points if any(len(xs) for _, xs, _, _ in points) or intervals or ticks else lines
    xs_all = [num(x) for _, xs, _, _ in marks for x in xs]
    xs_all += [num(x) for x, _, _, _ in intervals] + [num(x) for x, _, _ in ticks]
    ys_all = [num(y) for _, _, ys, _ in marks for y in ys]
    ys_all += [num(v) for _, lo, hi, _ in intervals for v in (lo, hi)] + [num(y) for _, y, _ in ticks]
    if hline is not None:
        ys_all.append(hline)
    ml, mr, mt, mb = 64, 12, 24, 40
    # The legend sits in rows between the title and the frame, never over the data: the rows are
    # laid out for every series that may be drawn (one left out only leaves a gap).
    wanted = [lab for lab, *_ in lines] + [lab for lab, *_ in points] + [lab for lab, _ in legend_extra]
    legend_rows = _legend_rows([lab for lab in wanted if lab], width - ml - mr)
    legend_top = mt + 8
    mt += 13 * legend_rows
    pw, ph = width - ml - mr, height - mt - mb
    out = [f'<svg class="{css_class}" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
           f'<title>{escape(title)}</title>',
           _title_text(title, ml, width)]
    fx = [x for x in xs_all if math.isfinite(x)]
    fy = [y for y in ys_all if math.isfinite(y)]
    if not fx or not fy:
        out.append(f'<text x="{ml + 10}" y="{mt + ph / 2}" class="pnote">no finite values to plot</text></svg>')
        return "".join(out)
    lx_, x_lo, x_hi = _axis(fx, log_x)
    ly_, y_lo, y_hi = _axis(fy, log_y)

    def tx(v: float) -> float:
        return math.log10(v) if lx_ else v

    def ty(v: float) -> float:
        return math.log10(v) if ly_ else v

    def ok(v: float, log: bool) -> bool:
        return math.isfinite(v) and (not log or v > 0)

    def px(v: float) -> float:
        return ml + (tx(v) - x_lo) / (x_hi - x_lo) * pw

    def py(v: float) -> float:
        return mt + (y_hi - ty(v)) / (y_hi - y_lo) * ph

    def clampy(v: float) -> float:
        return min(max(v, mt), mt + ph)

    out.append(f'<rect x="{ml}" y="{mt}" width="{pw}" height="{ph}" class="pframe"/>')
    for pos, label in _ticks(ly_, y_lo, y_hi, 5):
        y = mt + (y_hi - pos) / (y_hi - y_lo) * ph
        out.append(f'<line x1="{ml}" x2="{ml + pw}" y1="{y:.1f}" y2="{y:.1f}" class="pgrid"/>'
                   f'<text x="{ml - 4}" y="{y + 3:.1f}" class="ptick" text-anchor="end">{label}</text>')
    for pos, label in _ticks(lx_, x_lo, x_hi, 6):
        x = ml + (pos - x_lo) / (x_hi - x_lo) * pw
        out.append(f'<text x="{x:.1f}" y="{mt + ph + 13}" class="ptick" text-anchor="middle">{label}</text>')
    axes = [("log x" if lx_ else ""), ("log y" if ly_ else "")]
    suffix = ", ".join(a for a in axes if a)
    out.append(f'<text x="{ml + pw / 2}" y="{height - 4}" class="ptick" text-anchor="middle">{escape(xlabel)}'
               f'{" (" + suffix + ")" if suffix else ""}</text>')
    if ylabel:
        out.append(f'<text x="10" y="{mt + ph / 2:.1f}" class="ptick" text-anchor="middle" '
                   f'transform="rotate(-90 10 {mt + ph / 2:.1f})">{escape(ylabel)}</text>')
    if hline is not None and ok(hline, ly_):
        y = py(hline)
        if mt <= y <= mt + ph:
            out.append(f'<line x1="{ml}" x2="{ml + pw}" y1="{y:.1f}" y2="{y:.1f}" class="pzero"/>')
    for x, lo, hi, colour in intervals:
        x, lo, hi = num(x), num(lo), num(hi)
        if not ok(x, lx_) or not math.isfinite(lo) or not math.isfinite(hi):
            continue
        y1 = clampy(py(lo)) if ok(lo, ly_) else mt + ph
        y2 = clampy(py(hi)) if ok(hi, ly_) else mt + ph
        xx = px(x)
        out.append(f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{y1:.1f}" y2="{y2:.1f}" stroke="{colour}" stroke-width="1.4"/>'
                   f'<line x1="{xx - 3:.1f}" x2="{xx + 3:.1f}" y1="{y1:.1f}" y2="{y1:.1f}" stroke="{colour}"/>'
                   f'<line x1="{xx - 3:.1f}" x2="{xx + 3:.1f}" y1="{y2:.1f}" y2="{y2:.1f}" stroke="{colour}"/>')
    for x, y, colour in ticks:
        x, y = num(x), num(y)
        if ok(x, lx_) and ok(y, ly_):
            xx, yy = px(x), py(y)
            out.append(f'<line x1="{xx - 6:.1f}" x2="{xx + 6:.1f}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="{colour}" '
                       f'stroke-width="2.2"/>')
    legend: list[tuple[str, str]] = []
    for i, (label, xs, ys, colour) in enumerate(lines):
        pts = sorted((num(x), num(y)) for x, y in zip(xs, ys))
        segments: list[list[tuple[float, float]]] = [[]]
        for x, y in pts:
            inside = ok(x, lx_) and ok(y, ly_) and mt - 1 <= py(y) <= mt + ph + 1 and ml - 1 <= px(x) <= ml + pw + 1
            if inside:
                segments[-1].append((px(x), py(y)))
            elif segments[-1]:
                segments.append([])
        segments = [seg for seg in segments if len(seg) >= 2]
        if not segments:
            continue
        dash = ' stroke-dasharray="6,4"' if i % 2 else ""
        for seg in segments:
            d = " ".join(f"{x:.1f},{y:.1f}" for x, y in seg)
            out.append(f'<polyline points="{d}" fill="none" stroke="{colour}" stroke-width="1.6"{dash}/>')
        legend.append((label, colour))
    for label, xs, ys, colour in points:
        drawn = 0
        for x, y in zip(xs, ys):
            x, y = num(x), num(y)
            if ok(x, lx_) and ok(y, ly_):
                out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="2.6" fill="{colour}" fill-opacity="0.75"/>')
                drawn += 1
        if drawn:
            legend.append((label, colour))
    legend += [(label, colour) for label, colour in legend_extra]
    lx, ly = ml + 6, legend_top
    for label, colour in legend:
        if label:
            w = _legend_width(label)
            if lx > ml + 6 and lx + w > ml + pw:
                lx, ly = ml + 6, ly + 13
            out.append(f'<text x="{lx:.1f}" y="{ly}" class="plegend" fill="{colour}">{escape(label)}</text>')
            lx += w
    if note:
        out.append(f'<text x="{ml + pw - 4}" y="{mt + ph - 6}" class="pnote" text-anchor="end">{escape(note)}</text>')
    out.append("</svg>")
    return "".join(out)


def _legend_width(label: str) -> float:
    """The horizontal room one legend entry takes (an estimate of the label's width)."""
    return 12 + 6.6 * len(label)


def _legend_rows(labels: Sequence[str], room: float) -> int:
    """How many rows ``labels`` take when wrapped into ``room`` pixels (0 for no labels)."""
    if not labels:
        return 0
    rows, x = 1, 6.0
    for label in labels:
        w = _legend_width(label)
        if x > 6 and x + w > room:
            rows, x = rows + 1, 6.0
        x += w
    return rows


def histogram_plot(
    edges: Sequence[Any],
    counts: Sequence[Any],
    *,
    title: str,
    xlabel: str = "",
    mark: float | None = 0.0,
    note: str = "",
    width: int = 460,
    height: int = 210,
    violated: bool = False,
) -> str:
    """A histogram from bin edges and counts (``len(edges) == len(counts) + 1``), with a dashed
    vertical line at ``mark`` (log10 ratio 0: observed = bound).  Bins above ratio 1 are drawn as
    violations only when ``violated`` (the claim has a confirmed counterexample); otherwise a ratio a
    hair above 1 is the bound attained to within rounding, and the bin is drawn as tight."""
    if not xlabel:
        xlabel = ("tightness ratio observed / bound (log scale; > 1 violates)" if violated
                  else "tightness ratio observed / bound (log scale; 1 = bound attained)")
    ml, mr, mt, mb = 54, 12, 24, 40
    pw, ph = width - ml - mr, height - mt - mb
    out = [f'<svg class="plot hist" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
           f'<title>{escape(title)}</title>',
           _title_text(title, ml, width)]
    e = [num(v) for v in edges]
    c = [max(num(v), 0.0) if math.isfinite(num(v)) else 0.0 for v in counts]
    if len(e) != len(c) + 1 or len(c) == 0 or not all(math.isfinite(v) for v in e) or e[-1] <= e[0]:
        out.append(f'<text x="{ml + 10}" y="{mt + ph / 2}" class="pnote">no histogram data</text></svg>')
        return "".join(out)
    x_lo, x_hi = e[0], e[-1]
    top = max(c) if max(c) > 0 else 1.0

    def px(v: float) -> float:
        return ml + (v - x_lo) / (x_hi - x_lo) * pw

    out.append(f'<rect x="{ml}" y="{mt}" width="{pw}" height="{ph}" class="pframe"/>')
    for t, label in _ticks(False, 0.0, top, 4):
        if t < 0:
            continue
        y = mt + ph - t / top * ph
        out.append(f'<line x1="{ml}" x2="{ml + pw}" y1="{y:.1f}" y2="{y:.1f}" class="pgrid"/>'
                   f'<text x="{ml - 4}" y="{y + 3:.1f}" class="ptick" text-anchor="end">{label}</text>')
    for k in range(math.ceil(x_lo), math.floor(x_hi) + 1):
        out.append(f'<text x="{px(k):.1f}" y="{mt + ph + 13}" class="ptick" text-anchor="middle">'
                   f'{"1e" + str(k) if abs(k) > 1 else f"{10.0 ** k:g}"}</text>')
    for i, n in enumerate(c):
        if n <= 0:
            continue
        x0, x1 = px(e[i]), px(e[i + 1])
        h = n / top * ph
        # Blue: slack; teal: the bin holding ratio 1 (tight); red: above it, and only for a claim
        # with a confirmed counterexample -- nothing within rounding is drawn as a violation.
        tight = "#0a6f8f"
        colour = COLORS["observed"] if e[i + 1] <= 0 else (VIOLATION if violated and e[i] > 0 else tight)
        out.append(f'<rect x="{x0 + 0.5:.1f}" y="{mt + ph - h:.1f}" width="{max(x1 - x0 - 1, 0.8):.1f}" height="{h:.1f}" '
                   f'fill="{colour}" fill-opacity="0.8"><title>[{e[i]:.2f}, {e[i + 1]:.2f}): {int(n)}</title></rect>')
    if mark is not None and x_lo <= mark <= x_hi:
        out.append(f'<line x1="{px(mark):.1f}" x2="{px(mark):.1f}" y1="{mt}" y2="{mt + ph}" class="pmark"/>'
                   f'<text x="{px(mark) + 3:.1f}" y="{mt + 10}" class="pnote">ratio = 1</text>')
    out.append(f'<text x="{ml + pw / 2}" y="{height - 4}" class="ptick" text-anchor="middle">{escape(xlabel)}</text>')
    if note:
        out.append(f'<text x="{ml + 4}" y="{mt + 22}" class="pnote">{escape(note)}</text>')
    out.append("</svg>")
    return "".join(out)
