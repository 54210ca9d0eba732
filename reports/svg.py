"""Inline SVG pieces for the HTML report: LaTeX rendered offline, line plots, the dependency graph.

Everything here is computed from records alone and written as plain SVG markup, so the page needs
no network, no fonts and no scripts to show it.  LaTeX goes through matplotlib's mathtext parser
(``TextPath``: glyph outlines, no figure, no TeX installation); plots and the graph are drawn by
hand (a matplotlib figure per plot would cost ~50 ms each, too slow for a whole catalogue).
"""

from __future__ import annotations

import json
import math
import os
import re
from functools import lru_cache
from pathlib import Path
from html import escape
from typing import Any, Sequence

from .svg_base import COLORS, VIOLATION, fmt, num
from .svg_base import finite as _finite
from .svg_base import nice_ticks as _nice_ticks
from .svg_base import title_text as _title_text

__all__ = ["math_svg", "flush_math_cache", "line_plot", "bars_plot", "xy_plot", "histogram_plot", "dependency_graph", "num", "fmt",
           "COLORS", "VIOLATION", "VERDICT_COLORS"]


# --- LaTeX -------------------------------------------------------------------------------------

# SymPy LaTeX that mathtext does not know, rewritten to what it does.
_REWRITES = (
    (re.compile(r"\\operatorname\{([^{}]*)\}"), r"\\mathrm{\1}"),
    (re.compile(r"\\text\{([^{}]*)\}"), r"\\mathrm{\1}"),
    (re.compile(r"\\mathbb\{E\}"), r"\\mathrm{E}"),
    (re.compile(r"\\limits"), ""),
    (re.compile(r"\\displaystyle"), ""),
)


def _mathtext(latex: str) -> str:
    s = latex.strip()
    for pat, rep in _REWRITES:
        s = pat.sub(rep, s)
    return "$" + s + "$"


# Parsing LaTeX with mathtext costs ~20 ms a formula, most of the time of rendering a catalogue's
# report; rendered formulas are kept on disk between runs (one JSON file per matplotlib version,
# under $THMCHECK_CACHE_DIR, else $XDG_CACHE_HOME/thmcheck, else ~/.cache/thmcheck; set
# THMCHECK_CACHE_DIR to an empty string to switch it off).  The page is the same either way.
_MATH_FORMAT = 1  # bump when the SVG that math_svg writes changes
_disk: dict[str, Any] = {"path": None, "entries": None, "dirty": False}


def _cache_file() -> Path | None:
    root = os.environ.get("THMCHECK_CACHE_DIR")
    if root == "":
        return None
    if root is None:
        root = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
                            "thmcheck")
    version = _mpl_version()
    return None if version is None else Path(root) / f"math-svg-{_MATH_FORMAT}-mpl{version}.json"


@lru_cache(maxsize=1)
def _mpl_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("matplotlib")  # without importing it: a warm cache needs no matplotlib
    except Exception:  # noqa: BLE001 - PackageNotFoundError; then there is nothing to cache
        return None


def _disk_entries() -> dict[str, str]:
    path = _cache_file()
    if _disk["entries"] is None or _disk["path"] != path:
        entries: dict[str, str] = {}
        if path is not None:
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(loaded, dict):
                    entries = {k: v for k, v in loaded.items() if isinstance(k, str) and isinstance(v, str)}
            except (OSError, ValueError):
                entries = {}
        _disk.update(path=path, entries=entries, dirty=False)
    return _disk["entries"]


def flush_math_cache() -> None:
    """Write formulas rendered since the last flush to the disk cache (errors are ignored: a
    read-only home only costs time)."""
    path = _disk["path"]
    if not _disk["dirty"] or path is None:
        return
    entries = _disk["entries"]
    if len(entries) > 20000:  # a cache, not an archive
        entries = dict(list(entries.items())[-10000:])
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(entries), encoding="utf-8")
        tmp.replace(path)
        _disk["dirty"] = False
    except OSError:
        pass


@lru_cache(maxsize=4096)
def math_svg(latex: str, size: float = 13.0) -> str | None:
    """``latex`` as an inline SVG of glyph outlines (no fonts needed), or None when matplotlib is
    missing or its mathtext cannot parse the string (the caller then shows the source)."""
    if not latex or not latex.strip():
        return None
    entries = _disk_entries()
    key = f"{size!r}|{latex}"
    if key in entries:
        return entries[key] or None
    svg = _render_math(latex, size)
    entries[key] = svg or ""
    _disk["dirty"] = True
    return svg


def _render_math(latex: str, size: float) -> str | None:
    try:
        from matplotlib.font_manager import FontProperties
        from matplotlib.textpath import TextPath
    except ImportError:  # pragma: no cover - matplotlib is a declared dependency
        return None
    try:
        path = TextPath((0, 0), _mathtext(latex), prop=FontProperties(size=size))
    except Exception:  # noqa: BLE001 - mathtext raises ValueError and friends on unknown commands
        return None
    # The box of the control points (a Bezier curve lies in their hull): a hair larger than
    # Path.get_extents, which finds each curve's extrema and costs a third of the rendering time.
    verts = path.vertices[path.codes != 79] if path.codes is not None else path.vertices
    if len(verts) == 0:
        return None
    (ex0, ey0), (ex1, ey1) = verts.min(axis=0), verts.max(axis=0)
    if not math.isfinite(ex1 - ex0) or ex1 - ex0 <= 0:
        return None
    pad = 1.0
    x0, y0, x1, y1 = ex0 - pad, min(ey0, -0.25 * size) - pad, ex1 + pad, max(ey1, 0.75 * size) + pad
    parts = []
    for verts, code in path.iter_segments(simplify=False, curves=True):
        pts = " ".join(f"{verts[i] - x0:.2f},{y1 - verts[i + 1]:.2f}" for i in range(0, len(verts), 2))
        parts.append({1: "M", 2: "L", 3: "Q", 4: "C"}.get(int(code), "Z") + (pts if int(code) != 79 else ""))
    d = "".join(parts)
    w, h = x1 - x0, y1 - y0
    px = 1.25  # points to CSS pixels (at 96 dpi 1pt = 1.333px; a little tighter reads better)
    return (
        f'<svg class="math" role="img" aria-label="{escape(latex)}" xmlns="http://www.w3.org/2000/svg" '
        f'width="{w * px:.1f}" height="{h * px:.1f}" viewBox="0 0 {w:.2f} {h:.2f}" '
        f'style="vertical-align:{-(-y0) * px:.1f}px"><title>{escape(latex)}</title>'
        f'<path d="{d}" fill="currentColor"/></svg>'
    )


# --- plots -------------------------------------------------------------------------------------

def line_plot(
    series: Sequence[tuple[str, Sequence[Any], Sequence[Any], str]],
    *,
    title: str,
    xlabel: str = "step t",
    marker: float | None = None,
    zero_line: bool = False,
    width: int = 460,
    height: int = 210,
    allow_log: bool = True,
    css_class: str = "plot",
    band: Sequence[Any] | None = None,
    violations: Sequence[tuple[Any, Any]] = (),
) -> str:
    """A small line chart; the y axis is logarithmic when every value is positive and they span
    more than two decades.  ``series``: (label, xs, ys, colour).  ``band``: per x of the first
    series, a half-width drawn as a grey band around 0 (the rounding allowance of a margin plot);
    ``violations``: (x, y) points drawn as red dots (margins beyond the band below 0)."""
    ys_all = [y for _, _, ys, _ in series for y in _finite(ys)]
    xs_all = [x for _, xs, _, _ in series for x in _finite(xs)]
    # The legend has its own row between the title and the frame, so it never covers a curve.
    ml, mr, mt, mb = 80, 10, 38, 40
    legend_y = 33
    pw, ph = width - ml - mr, height - mt - mb
    out = [f'<svg class="{css_class}" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
           f'<title>{escape(title)}</title>',
           _title_text(title, ml, width)]
    if not ys_all or not xs_all:
        out.append(f'<text x="{ml + 10}" y="{mt + ph / 2}" class="pnote">no finite values to plot</text></svg>')
        return "".join(out)
    log = allow_log and min(ys_all) > 0 and max(ys_all) / min(ys_all) > 100
    f = (lambda v: math.log10(v)) if log else (lambda v: v)
    lo, hi = min(f(y) for y in ys_all), max(f(y) for y in ys_all)
    if zero_line and not log:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi - lo <= 1e-300 or (not log and hi - lo <= 1e-12 * max(abs(hi), abs(lo))):
        c = hi
        span = abs(c) * 1e-6 if c else 1.0
        lo, hi = c - span, c + span
    pad = 0.06 * (hi - lo)
    lo, hi = lo - pad, hi + pad
    x_lo, x_hi = min(xs_all), max(xs_all)
    if x_hi <= x_lo:
        x_lo, x_hi = x_lo - 1, x_hi + 1

    def px(x: float) -> float:
        return ml + (x - x_lo) / (x_hi - x_lo) * pw

    def py(v: float) -> float:
        return mt + (hi - v) / (hi - lo) * ph

    out.append(f'<rect x="{ml}" y="{mt}" width="{pw}" height="{ph}" class="pframe"/>')
    yt = [float(k) for k in range(math.ceil(lo), math.floor(hi) + 1)] if log else _nice_ticks(lo, hi)
    if log and len(yt) > 7:
        yt = yt[:: math.ceil(len(yt) / 6)]
    if log and not yt:
        yt = [lo + (hi - lo) / 2]
    digits = 3
    while not log and digits < 12 and len({f"{t:.{digits}g}" for t in yt}) < len(yt):
        digits += 1
    for t in yt:
        y = py(t)
        label = (f"1e{int(t)}" if float(t).is_integer() else f"{10 ** t:.3g}") if log else f"{t:.{digits}g}"
        out.append(f'<line x1="{ml}" x2="{ml + pw}" y1="{y:.1f}" y2="{y:.1f}" class="pgrid"/>'
                   f'<text x="{ml - 4}" y="{y + 3:.1f}" class="ptick" text-anchor="end">{label}</text>')
    for t in _nice_ticks(x_lo, x_hi, 6):
        x = px(t)
        out.append(f'<text x="{x:.1f}" y="{mt + ph + 13}" class="ptick" text-anchor="middle">{t:g}</text>')
    out.append(f'<text x="{ml + pw / 2}" y="{height - 4}" class="ptick" text-anchor="middle">{escape(xlabel)}'
               f'{" (log y)" if log else ""}</text>')
    if band is not None and not log and series:
        xs0 = list(series[0][1])
        upper = [(px(num(x)), py(min(hi, num(b)))) for x, b in zip(xs0, band) if math.isfinite(num(x)) and math.isfinite(num(b))]
        lower = [(px(num(x)), py(max(lo, -num(b)))) for x, b in zip(xs0, band) if math.isfinite(num(x)) and math.isfinite(num(b))]
        if upper:
            if len(upper) == 1:
                (x, yu), (_, yl) = upper[0], lower[0]
                upper, lower = [(x - 4, yu), (x + 4, yu)], [(x - 4, yl), (x + 4, yl)]
            d = " ".join(f"{x:.1f},{y:.1f}" for x, y in upper + lower[::-1])
            out.append(f'<polygon points="{d}" class="pband"><title>rounding allowance</title></polygon>')
    if zero_line and not log and lo < 0 < hi:
        out.append(f'<line x1="{ml}" x2="{ml + pw}" y1="{py(0):.1f}" y2="{py(0):.1f}" class="pzero"/>')
    if marker is not None and x_lo <= marker <= x_hi:
        out.append(f'<line x1="{px(marker):.1f}" x2="{px(marker):.1f}" y1="{mt}" y2="{mt + ph}" class="pmark"/>')
    lx = ml + 6
    for i, (label, xs, ys, colour) in enumerate(series):
        dash = ' stroke-dasharray="6,4"' if i % 2 else ""
        pts = [(px(num(x)), py(f(num(y)))) for x, y in zip(xs, ys)
               if math.isfinite(num(x)) and math.isfinite(num(y)) and (not log or num(y) > 0)]
        if not pts:
            continue
        if len(pts) == 1:
            x, y = pts[0]
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>')
        else:
            d = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            out.append(f'<polyline points="{d}" fill="none" stroke="{colour}" stroke-width="1.8"{dash}/>')
        out.append(f'<text x="{lx}" y="{legend_y}" class="plegend" fill="{colour}">{escape(label)}</text>')
        lx += 12 + 7.2 * len(label)
    shown = [(px(num(x)), py(num(y))) for x, y in violations if math.isfinite(num(x)) and math.isfinite(num(y))
             and lo <= num(y) <= hi]
    for x, y in shown:
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" class="pviol"><title>violated beyond rounding</title></circle>')
    if shown:
        out.append(f'<text x="{lx}" y="{legend_y}" class="plegend" fill="{COLORS["bound"]}">● violated</text>')
        lx += 12 + 7.2 * 10
    if band is not None:
        out.append(f'<text x="{lx}" y="{legend_y}" class="plegend" fill="#8c959f">▮ rounding</text>')
    out.append("</svg>")
    return "".join(out)


def bars_plot(rows: Sequence[tuple[str, float, float]], *, title: str, width: int = 460) -> str:
    """Observed vs bound as paired horizontal bars (one pair per instance), for claims with a
    single value per instance.  ``rows``: (label, observed, bound)."""
    ml, mr = 100, 120
    rowh = 34
    height = 30 + rowh * len(rows) + 10
    vals = [abs(v) for _, o, b in rows for v in (o, b) if math.isfinite(v)]
    top = max(vals) if vals and max(vals) > 0 else 1.0
    out = [f'<svg class="plot" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>',
           _title_text(title, 8, width)]
    pw = width - ml - mr
    for i, (label, o, b) in enumerate(rows):
        y = 28 + i * rowh
        out.append(f'<text x="8" y="{y + 14}" class="ptick">{escape(label)}</text>')
        for j, (name, v) in enumerate((("observed", o), ("bound", b))):
            w = pw * abs(v) / top if math.isfinite(v) else 0
            yy = y + j * 14
            faded = ' fill-opacity="0.45"' if v < 0 else ""
            out.append(f'<rect x="{ml}" y="{yy}" width="{max(w, 1):.1f}" height="11" fill="{COLORS[name]}"{faded}/>'
                       f'<text x="{ml + max(w, 1) + 4:.1f}" y="{yy + 9}" class="ptick">{name} {fmt(v, 4)}</text>')
    out.append("</svg>")
    return "".join(out)


def _anchor(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text)


from .svg_charts import histogram_plot, xy_plot  # noqa: E402 - re-exported


from .svg_graph import VERDICT_COLORS, dependency_graph  # noqa: E402 - re-exported for the page
