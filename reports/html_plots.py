"""The HTML report's plots: trajectory series, margins, probability and scaling panels, sample
scatter plots and the tightness-ratio histogram, each an inline SVG built from a record alone.
Split from :mod:`reports.html`, which lays out the page around them."""

from __future__ import annotations

import math
from html import escape
from typing import Any

from .mathtext import symbol_text
from .records import ClaimRecord
from .svg import COLORS, bars_plot, fmt, histogram_plot, line_plot, num, xy_plot

__all__ = ["plots", "probability_line", "scaling_line", "sense", "field_of"]


def _e(text: Any) -> str:
    return escape("" if text is None else str(text), quote=True)


def sense(latex: str) -> str | None:
    """'le' / 'ge' from the claim's top-level relation as SymPy prints it (None when unclear)."""
    le = latex.count(r"\leq") + latex.count(" < ")
    ge = latex.count(r"\geq") + latex.count(" > ")
    if le + ge != 1:
        return None
    return "le" if le else "ge"


def plots(rec: ClaimRecord) -> str:
    """Every plot the record has data for: the trajectory series, the probability or scaling
    panel, observed and bound against the spec's plot variable, the ratio histogram."""
    first, last = _stat_plots(rec), _sample_plots(rec) + _hist_plots(rec)
    series = rec.series or {}
    if not series:
        if first or last:
            return '<div class="plots">' + "".join(first + last) + "</div>" + "".join(_hist_note(rec))
        why = "no instance was evaluated" if rec.instances == 0 else "this record carries no trajectory series"
        return f'<div class="plots"><p class="pnote-html">No plot: {_e(why)}.</p></div>'
    out = ['<div class="plots">'] + first
    sense_ = sense(rec.latex)
    for key, title in (("worst", "worst instance"), ("counterexample", "counterexample")):
        s = series.get(key)
        if not s:
            continue
        if "error" in s:
            out.append(f'<p class="pnote-html">No plot for the {title}: {_e(s["error"])}</p>')
            continue
        obs, bnd, steps = s.get("observed", []), s.get("bound", []), s.get("steps", [])
        if rec.kind == "per_step" or len(obs) > 1:
            marker = s.get("step")
            out.append(line_plot(
                [("observed", steps, obs, COLORS["observed"]), ("bound", steps, bnd, COLORS["bound"])],
                title=f"observed vs bound along the {title}",
                marker=None if marker is None else float(marker)))
            if sense_ is not None:
                margin = [(num(b) - num(o)) if sense_ == "le" else (num(o) - num(b)) for o, b in zip(obs, bnd)]
                tol = s.get("tol")
                band = [abs(num(t)) for t in tol] if isinstance(tol, list) and len(tol) == len(margin) else None
                # Red dots only where the margin is below zero by more than the rounding allowance, and
                # only on a claim with a confirmed counterexample (a pass never shows a violation).
                refuted = rec.verdict == "fail" and rec.counterexample is not None
                viol = [(x, m) for x, m, t in zip(steps, margin, band or [0.0] * len(margin))
                        if refuted and math.isfinite(m) and m < -t]
                out.append(line_plot([("margin (≥ 0 holds)", steps, margin, COLORS["margin"])],
                                     title=f"margin along the {title}", zero_line=True, band=band, violations=viol,
                                     allow_log=False, marker=None if marker is None else float(marker)))
        else:
            o, b = (num(obs[0]) if obs else math.nan), (num(bnd[0]) if bnd else math.nan)
            ratio = o / b if sense_ == "le" and b else (b / o if sense_ == "ge" and o else math.nan)
            label = f"ratio {fmt(ratio, 4)}" if math.isfinite(ratio) else title
            out.append(bars_plot([(f"{title}", o, b)], title=f"observed vs bound ({label})", width=330))
            traces = s.get("traces") or {}
            colours = [COLORS["t0"], COLORS["t1"], COLORS["t2"]]
            for i, (name, v) in enumerate(traces.items()):  # one panel each: their scales differ
                out.append(line_plot([(name, list(range(len(v))), v, colours[i % 3])], width=330, height=180,
                                     title=f"{name} along the {title}"))
    out += last
    out.append("</div>")
    out += _hist_note(rec)
    out.append('<p class="hint">Trajectory plots re-run the instance once in float64 with the NumPy reference '
               'kernel (values at rounding level may differ from the search backend\'s); histograms and scatter '
               'plots show the instances the search evaluated.</p>')
    return "".join(out)


# --- plots of the statistics a record may carry (plain dicts: see reports.records) -----------------


def _field(rec: ClaimRecord, name: str) -> dict[str, Any]:
    value = getattr(rec, name, None)
    return value if isinstance(value, dict) else {}


def _sample_columns(rec: ClaimRecord) -> tuple[dict[str, list[float]], str]:
    """The samples table as {column: values} and the plot variable (an empty table and "" when
    the record names no plot variable: nothing is plotted from it then)."""
    samples = _field(rec, "samples")
    if not samples.get("x"):
        return {}, ""
    cols = [str(c) for c in samples.get("columns", ())]
    rows = [r for r in samples.get("rows", ()) if isinstance(r, (list, tuple)) and len(r) == len(cols)]
    table = {c: [num(r[i]) for r in rows] for i, c in enumerate(cols)}
    return table, str(samples.get("x") or "")


def _sample_plots(rec: ClaimRecord) -> list[str]:
    if rec.kind == "probability":
        return []  # drawn with their intervals by _probability_plot
    table, x = _sample_columns(rec)
    if not x or x not in table or "observed" not in table or "bound" not in table:
        return []
    xs = table[x]
    name = symbol_text(x)
    return [xy_plot(
        title=f"observed and bound vs {name} ({len(xs)} instances)", xlabel=name,
        points=[("observed", xs, table["observed"], COLORS["observed"]), ("bound", xs, table["bound"], COLORS["bound"])],
        css_class="plot samples",
    )]


def _hist_plots(rec: ClaimRecord) -> list[str]:
    h = _field(rec, "ratio_hist")
    counts = h.get("counts") or []
    if not counts:
        return []
    total = sum(int(num(c)) for c in counts if math.isfinite(num(c)))
    if total == 0:
        return []  # nothing to draw: said in words by the caller instead of an empty panel
    extra = [f"{int(num(h[k]))} {label}" for k, label in (("below", "below"), ("above", "above"),
                                                          ("undefined", "undefined")) if num(h.get(k, 0)) > 0]
    return [histogram_plot(
        h.get("log10_edges", ()), counts,
        title=f"tightness ratio over {total + sum(int(num(h.get(k, 0))) for k in ('below', 'above', 'undefined'))} instances",
        note="outside the axis: " + ", ".join(extra) if extra else "",
        violated=rec.verdict == "fail" and rec.counterexample is not None,
    )]


def _hist_note(rec: ClaimRecord) -> list[str]:
    """A line in place of a ratio histogram with nothing to draw (no instance had a defined ratio)."""
    h = _field(rec, "ratio_hist")
    counts = h.get("counts") or []
    if not counts or sum(int(num(c)) for c in counts if math.isfinite(num(c))) > 0:
        return []
    undefined = int(num(h.get("undefined", 0)))
    return [f'<p class="pnote-html">No ratio histogram: the observed/bound ratio is undefined on all '
            f'{undefined} instances (a side is zero or within rounding of it, as for an identity or a bound of 0).</p>']


def _stat_plots(rec: ClaimRecord) -> list[str]:
    out = []
    prob = _field(rec, "probability")
    if prob:
        out.append(_probability_plot(rec, prob))
    scal = _field(rec, "scaling")
    if scal:
        out.append(_scaling_plot(scal))
    return out


def _probability_plot(rec: ClaimRecord, prob: dict[str, Any]) -> str:
    """Each instance's success estimate with its Clopper–Pearson interval and the bound (a red
    tick), against the spec's plot variable when it has one, else against the instance index."""
    table, x = _sample_columns(rec)
    per = [p for p in prob.get("per_instance", ()) if isinstance(p, dict)]
    if x and x in table and "estimate" in table:
        xs, est = table[x], table["estimate"]
        lo, hi = table.get("lower", [math.nan] * len(xs)), table.get("upper", [math.nan] * len(xs))
        bnd = table.get("bound", [math.nan] * len(xs))
        xlabel, log_x = symbol_text(x), True
    elif per:
        xs = list(range(1, len(per) + 1))
        est = [num(p.get("estimate")) for p in per]
        lo, hi = [num(p.get("lower")) for p in per], [num(p.get("upper")) for p in per]
        bnd = [num(p.get("bound")) for p in per]
        xlabel, log_x = "instance", False
    else:
        w = prob.get("worst") or {}
        xs, est, lo, hi, bnd = [1], [num(w.get("estimate"))], [num(w.get("lower"))], [num(w.get("upper"))], [num(w.get("bound"))]
        xlabel, log_x = "worst instance", False
    intervals = [(a, b, c, COLORS["observed"]) for a, b, c in zip(xs, lo, hi)]
    # A bound above 1 says nothing about a probability; drawn at its true height it would flatten
    # the estimates, so it is drawn just above 1 and counted in the title.
    vacuous = sum(1 for b in bnd if b > 1.0)
    ticks = [(a, min(b, 1.05), COLORS["bound"]) for a, b in zip(xs, bnd)]
    note = f"; {vacuous} bound(s) above 1 drawn at 1.05" if vacuous else ""
    return xy_plot(
        title=f"P(event) with its interval vs {xlabel} ({len(xs)} instances{note})", xlabel=xlabel, width=560,
        ylabel="P(event)", points=[("estimate and interval", xs, est, COLORS["observed"])],
        intervals=intervals, ticks=ticks, legend_extra=[("bound", COLORS["bound"])], log_x=log_x, log_y=False,
        css_class="plot probability",
    )


def _g(model: str, d: float) -> float:
    """The regressor of a scaling model at size ``d``."""
    if model == "polylog":
        return math.log(math.log(d)) if d > 1 else math.nan
    if model == "power":
        return math.log(d) if d > 0 else math.nan
    return d


def _fit_curve(model: str, p: float, sizes: list[float], values: list[float], grid: list[float],
               intercept: Any = None) -> list[float]:
    """The fitted curve of ``model`` with exponent ``p``; the intercept is the record's when given,
    else the least-squares one for that exponent (the fitted line passes through the means)."""
    logy = model != "linear"
    pairs = [(_g(model, d), math.log(y) if logy and y > 0 else (y if not logy else math.nan))
             for d, y in zip(sizes, values)]
    pairs = [(a, b) for a, b in pairs if math.isfinite(a) and math.isfinite(b)]
    if not math.isfinite(p) or (not pairs and intercept is None):
        return []
    a = num(intercept) if intercept is not None else (
        sum(b for _, b in pairs) / len(pairs) - p * sum(g for g, _ in pairs) / len(pairs))
    out = []
    for d in grid:
        g = _g(model, d)
        out.append(math.exp(a + p * g) if logy and math.isfinite(g) else (a + p * g if math.isfinite(g) else math.nan))
    return out


_MODEL_TEX = {"polylog": "log y = a + p log(log d)", "power": "log y = a + p log d", "linear": "y = a + p d"}


def _scaling_plot(sc: dict[str, Any]) -> str:
    sizes = [num(d) for d in sc.get("sizes", ())]
    values = [num(v) for v in sc.get("values", ())]
    model = str(sc.get("model", ""))
    good = [d for d in sizes if math.isfinite(d) and d > 0]
    if good:
        lo, hi = min(good), max(good)
        grid = [lo * (hi / lo) ** (i / 47) for i in range(48)] if hi > lo else [lo]
    else:
        grid = []
    lines = [(f"fit ({model}) p = {fmt(sc.get('exponent'), 3)}", grid,
              _fit_curve(model, num(sc.get("exponent")), sizes, values, grid, sc.get("intercept")), COLORS["bound"])]
    palette = [COLORS["t0"], COLORS["t1"], COLORS["t2"]]
    alts = sc.get("alternatives") or {}
    for i, (name, alt) in enumerate(sorted(alts.items())):
        if name == model or not isinstance(alt, dict):
            continue
        lines.append((f"{name} p = {fmt(alt.get('exponent'), 3)}", grid,
                      _fit_curve(name, num(alt.get("exponent")), sizes, values, grid, alt.get("intercept")),
                      palette[i % 3]))
    stat = f"{sc.get('statistic', '')} {sc.get('observable', '')}".strip()
    return xy_plot(title=f"{stat} vs size d, with fitted curves", xlabel="size d", ylabel=stat, width=560,
                   height=250, points=[(stat or "measured", sizes, values, COLORS["observed"])], lines=lines,
                   css_class="plot scaling")


def _sense_word(sense: Any) -> str:
    return {"le": "<=", "ge": ">=", "<=": "<=", ">=": ">="}.get(str(sense), str(sense))


def probability_line(prob: dict[str, Any]) -> str:
    """One line: n trials, k successes, interval [lo, hi] at confidence c (the worst instance)."""
    w = prob.get("worst") or {}
    if not w:
        return f"no instance evaluated (confidence {fmt(prob.get('confidence'), 4)})"
    return (f"{w.get('trials')} trials, {w.get('successes')} successes, estimate {fmt(w.get('estimate'), 4)}, "
            f"interval [{fmt(w.get('lower'), 4)}, {fmt(w.get('upper'), 4)}] at confidence "
            f"{fmt(w.get('level', prob.get('confidence')), 6)} (family-wise {fmt(prob.get('confidence'), 4)}); "
            f"claim P {_sense_word(prob.get('sense'))} {fmt(w.get('bound'), 6)}")


def scaling_line(sc: dict[str, Any]) -> str:
    """One line: fitted exponent with its interval, the model and the claim's bound."""
    return (f"exponent {fmt(sc.get('exponent'), 4)}, interval [{fmt(sc.get('lower'), 4)}, {fmt(sc.get('upper'), 4)}] "
            f"at confidence {fmt(sc.get('confidence'), 4)}; model {sc.get('model', '')} "
            f"({_MODEL_TEX.get(str(sc.get('model')), '?')}), {sc.get('statistic', '')} of {sc.get('observable', '')} "
            f"over {len(sc.get('sizes') or ())} sizes, R² {fmt(sc.get('r2'), 4)}; "
            f"claim p {_sense_word(sc.get('sense'))} {fmt(sc.get('bound'), 6)}")



def field_of(rec: ClaimRecord, name: str) -> dict[str, Any]:
    """A record's dict-valued field (``probability``, ``scaling``, ...), {} when absent."""
    return _field(rec, name)

