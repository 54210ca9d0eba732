"""The HTML report: one self-contained page rendered from a :class:`~reports.records.RunRecord`.

No network: no CDN scripts, fonts or images; LaTeX is rendered offline to inline SVG
(:func:`reports.svg.math_svg`), plots and the dependency graph are inline SVG, the only script is
the copy button of replay snippets.  Every string that comes from a spec or a record is
HTML-escaped.  A pure function of the records: the same run gives the same page.
"""

from __future__ import annotations

import math
from collections import Counter
from html import escape
from pathlib import Path
from typing import Any

from .records import VERDICTS, ClaimRecord, RunRecord
from .svg import COLORS, _anchor, bars_plot, dependency_graph, flush_math_cache, fmt, histogram_plot, line_plot, math_svg, num, xy_plot

__all__ = ["render_html", "write_html"]

# Worst first: the order verdicts are summarised in and a theorem's colour is chosen by.
_SEVERITY = ("error", "fail", "inconclusive", "pass", "proved")


def write_html(run: RunRecord, path: str | Path) -> Path:
    """Write the report of ``run`` to ``path`` (atomically)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(render_html(run), encoding="utf-8")
    tmp.replace(path)
    return path


def _e(text: Any) -> str:
    return escape("" if text is None else str(text), quote=True)


def _math(latex: str, fallback: str = "") -> str:
    svg = math_svg(latex) if latex else None
    if svg is not None:
        return svg
    text = latex or fallback
    return f'<code class="tex">{_e(text)}</code>' if text else ""


def _badge(verdict: str) -> str:
    return f'<span class="verdict v-{_e(verdict)}">{_e(verdict)}</span>'


def _claim_anchor(rec: ClaimRecord) -> str:
    return "claim-" + _anchor(rec.id)


def _sense(latex: str) -> str | None:
    """'le' / 'ge' from the claim's top-level relation as SymPy prints it (None when unclear)."""
    le = latex.count(r"\leq") + latex.count(" < ")
    ge = latex.count(r"\geq") + latex.count(" > ")
    if le + ge != 1:
        return None
    return "le" if le else "ge"


def _worst(verdicts: list[str]) -> str:
    for v in _SEVERITY:
        if v in verdicts:
            return v
    return "none"


# --- page pieces -------------------------------------------------------------------------------


def _summary(run: RunRecord) -> str:
    counts = Counter(c.verdict for c in run.claims)
    unexpected = run.unexpected
    parts = ['<section id="summary"><h2>Summary</h2><p class="counts">']
    for v in _SEVERITY:
        if counts.get(v):
            parts.append(f'{_badge(v)} <b>{counts[v]}</b> &nbsp; ')
    parts.append(f'&middot; {len(run.claims)} claims, <b class="{"bad" if unexpected else "good"}">'
                 f'{len(unexpected)} unexpected</b></p>')
    if not run.complete:
        # A partial run says so first: its counts cover only the claims that ran.
        parts.append(f'<div class="problems"><h3>Partial run: {_e(run.incomplete)}</h3><p>{len(run.not_run)} '
                     f'claim(s) not run (finish with <code>thmcheck verify --resume DIR</code>):</p><ul>')
        parts += [f"<li>{_e(cid)}</li>" for cid in run.not_run]
        parts.append("</ul></div>")
    if run.problems:
        parts.append('<div class="problems"><h3>Specs or plugins that failed to load</h3><ul>')
        for p in run.problems:
            parts.append(f'<li><b>{_e(p.get("source", ""))}</b> {_e(p.get("field", ""))}: {_e(p.get("message", ""))}</li>')
        parts.append("</ul></div>")
    order = sorted(run.claims, key=lambda c: (c.as_expected, _SEVERITY.index(c.verdict) if c.verdict in _SEVERITY else 0))
    parts.append('<table class="claims"><thead><tr><th>theorem :: claim</th><th>verdict</th><th>expected</th>'
                 '<th>instances</th><th>worst ratio</th><th>why</th></tr></thead><tbody>')
    for c in order:
        label = c.id + ("  [as printed]" if c.printed else "")
        cls = "unexpected" if not c.as_expected else ""
        why = c.reason
        if c.inherited:
            why += "; rests on " + ", ".join(f"{d.get('theorem')}::{d.get('claim')} ({d.get('verdict')})" for d in c.inherited)
        parts.append(
            f'<tr class="{cls}"><td><a href="#{_claim_anchor(c)}">{_e(label)}</a></td><td>{_badge(c.verdict)}</td>'
            f'<td>{_e(c.expected)}</td><td class="num">{c.instances}</td>'
            f'<td class="num">{"" if c.worst_ratio is None else fmt(c.worst_ratio, 4)}</td><td>{_e(why)}</td></tr>')
    parts.append("</tbody></table></section>")
    return "".join(parts)


def _graph(run: RunRecord, theorems: list[dict[str, Any]]) -> str:
    by_thm: dict[str, list[ClaimRecord]] = {}
    for c in run.claims:
        by_thm.setdefault(c.theorem, []).append(c)
    nodes = []
    for t in theorems:
        recs = by_thm.get(t["id"], [])
        nodes.append({
            "id": t["id"], "depends_on": list(t.get("depends_on", ())),
            "verdict": _worst([c.verdict for c in recs if not c.printed] or [c.verdict for c in recs]),
            "inherited": any(c.inherited for c in recs),
        })
    if not nodes:
        return ""
    return ('<section id="graph"><h2>Lemma dependency graph</h2><p class="hint">Arrows go from a lemma to the '
            'theorems whose proofs use it; a box is coloured by its worst verdict (claims as printed '
            'aside). A dashed orange outline marks a theorem whose verdict rests on a lemma that did not '
            'hold.</p><div class="graphwrap">' + dependency_graph(nodes) + "</div></section>")


def _theorem(t: dict[str, Any], recs: list[ClaimRecord]) -> str:
    tid = str(t.get("id", ""))
    parts = [f'<section class="theorem" id="thm-{_anchor(tid)}" data-theorem="{_e(tid)}">'
             f'<h2><span class="tid">{_e(tid)}</span> {_e(t.get("title", ""))}</h2>']
    if t.get("citation"):
        parts.append(f'<p class="cite">{_e(t["citation"])}</p>')
    meta = []
    if t.get("dynamics"):
        meta.append(f'dynamics <b>{_e(t["dynamics"])}</b>')
    if t.get("horizon") is not None:
        meta.append(f'horizon {_e(t["horizon"])}')
    if t.get("depends_on"):
        meta.append("depends on " + ", ".join(f'<a href="#thm-{_anchor(d)}">{_e(d)}</a>' for d in t["depends_on"]))
    if meta:
        parts.append('<p class="meta">' + " &middot; ".join(meta) + "</p>")
    hyp = [f"<li>{_e(s)}</li>" for s in t.get("structure", ())]
    hyp += [f'<li><span class="aname">{_e(a.get("name", ""))}</span> {_math(a.get("latex", ""), a.get("text", ""))}</li>'
            for a in t.get("assumptions", ())]
    if hyp:
        parts.append('<h3>Assumptions</h3><ul class="assumptions">' + "".join(hyp) + "</ul>")
    if t.get("note"):
        parts.append(f'<p class="note">{_e(t["note"])}</p>')
    specs = {c.get("name"): c for c in t.get("claims", ())}
    for rec in recs:
        parts.append(_claim(rec, specs.get(rec.claim, {})))
    parts.append("</section>")
    return "".join(parts)


def _claim(rec: ClaimRecord, spec: dict[str, Any]) -> str:
    cls = "claim" + ("" if rec.as_expected else " unexpected")
    parts = [f'<article class="{cls}" id="{_claim_anchor(rec)}" data-claim="{_e(rec.id)}" data-verdict="{_e(rec.verdict)}">'
             f'<h3>{_badge(rec.verdict)} <span class="cname">{_e(rec.claim)}</span>'
             f'{" <small>[as printed; corrected by " + _e(rec.corrected_by) + "]</small>" if rec.printed else ""}'
             f' <small class="kind">{_e(rec.kind)}</small></h3>']
    parts.append(f'<p class="statement">{_e(rec.statement)}</p>')
    parts.append(f'<div class="formula">{_math(rec.latex or spec.get("latex", ""), rec.statement)}</div>')
    extra = spec.get("assumptions") or ()
    if extra:
        parts.append('<p class="under">under ' + ", ".join(_math(a) for a in extra) + "</p>")
    facts = [
        ("verdict", _badge(rec.verdict) + ("" if rec.as_expected else ' <b class="bad">unexpected</b>')),
        ("expected", _e(rec.expected)),
        ("instances", str(rec.instances)),
        ("worst ratio", "" if rec.worst_ratio is None else fmt(rec.worst_ratio)),
        ("why", _e(rec.reason)),
        ("backend / seed / budget", f"{_e(rec.backend)} / {rec.seed} / {_e(rec.budget)}"),
    ]
    facts += _stat_facts(rec)
    if rec.tolerance:
        facts.append(("tolerance", _e(", ".join(f"{k} {v}" for k, v in rec.tolerance.items()))))
    if rec.inherited:
        facts.append(("rests on", '<span class="bad">' + ", ".join(
            f'<a href="#claim-{_anchor(str(d.get("theorem")) + "::" + str(d.get("claim")))}">'
            f'{_e(d.get("theorem"))}::{_e(d.get("claim"))}</a> ({_e(d.get("verdict"))})' for d in rec.inherited) + "</span>"))
    parts.append('<table class="facts">' + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in facts) + "</table>")
    for note in rec.notes:
        parts.append(f'<p class="note">{_e(note)}</p>')
    for d in rec.derivations:
        parts.append(_derivation(d))
    parts.append(_plots(rec))
    if rec.worst_instance is not None:
        parts.append(_instance("Worst instance (tightest ratio found)", rec.worst_instance))
    if rec.counterexample is not None:
        parts.append(_counterexample(rec))
    parts.append("</article>")
    return "".join(parts)


def _derivation(d: Any) -> str:
    ok = d.as_expected
    head = (f'<details class="derivation" {"open" if not ok else ""}><summary>derivation <b>{_e(d.name)}</b>'
            f'{" (as printed)" if d.printed else ""}: <span class="dstatus s-{_e(d.status)}">{_e(d.status)}</span>'
            f' (expected {_e(d.expected_status)}){"" if d.endpoint_match else " &middot; <b class=bad>end points do not match the claim</b>"}'
            f'</summary>')
    rows = []
    for s in d.steps:
        rows.append(f'<tr><td class="rel">{_math(_rel_tex(s.rel), s.rel)}</td><td>{_math(s.latex, s.expr)}</td>'
                    f'<td><span class="dstatus s-{_e(s.status)}">{_e(s.status)}</span></td>'
                    f'<td class="just">{_e(s.justification)}<br><small>{_e(s.method)}'
                    f'{": " + _e(s.detail) if s.detail else ""}</small>'
                    f'{"<br><small>witness: " + _e(s.witness) + "</small>" if s.witness else ""}</td></tr>')
    body = '<table class="steps">' + "".join(rows) + "</table>"
    if d.detail:
        body += f'<p class="note">{_e(d.detail)}</p>'
    if d.note:
        body += f'<p class="note">{_e(d.note)}</p>'
    return head + body + "</details>"


def _rel_tex(rel: str) -> str:
    return {"<=": r"\leq", ">=": r"\geq", "==": "=", "<": "<", ">": ">"}.get(rel, rel)


def _plots(rec: ClaimRecord) -> str:
    """Every plot the record has data for: the trajectory series, the probability or scaling
    panel, observed and bound against the spec's plot variable, the ratio histogram."""
    first, last = _stat_plots(rec), _sample_plots(rec) + _hist_plots(rec)
    series = rec.series or {}
    if not series:
        if first or last:
            return '<div class="plots">' + "".join(first + last) + "</div>"
        why = "no instance was evaluated" if rec.instances == 0 else "this record carries no trajectory series"
        return f'<div class="plots"><p class="pnote-html">No plot: {_e(why)}.</p></div>'
    out = ['<div class="plots">'] + first
    sense = _sense(rec.latex)
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
            if sense is not None:
                margin = [(num(b) - num(o)) if sense == "le" else (num(o) - num(b)) for o, b in zip(obs, bnd)]
                out.append(line_plot([("margin (>= 0 holds)", steps, margin, COLORS["margin"])],
                                     title=f"margin along the {title}", zero_line=True,
                                     allow_log=False, marker=None if marker is None else float(marker)))
        else:
            o, b = (num(obs[0]) if obs else math.nan), (num(bnd[0]) if bnd else math.nan)
            ratio = o / b if sense == "le" and b else (b / o if sense == "ge" and o else math.nan)
            label = f"ratio {fmt(ratio, 4)}" if math.isfinite(ratio) else title
            out.append(bars_plot([(f"{title}", o, b)], title=f"observed vs bound ({label})", width=330))
            traces = s.get("traces") or {}
            colours = [COLORS["t0"], COLORS["t1"], COLORS["t2"]]
            for i, (name, v) in enumerate(traces.items()):  # one panel each: their scales differ
                out.append(line_plot([(name, list(range(len(v))), v, colours[i % 3])], width=330, height=180,
                                     title=f"{name} along the {title}"))
    out += last
    out.append("</div>")
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
    return [xy_plot(
        title=f"observed and bound vs {x} ({len(xs)} instances)", xlabel=x,
        points=[("observed", xs, table["observed"], COLORS["observed"]), ("bound", xs, table["bound"], COLORS["bound"])],
        css_class="plot samples",
    )]


def _hist_plots(rec: ClaimRecord) -> list[str]:
    h = _field(rec, "ratio_hist")
    counts = h.get("counts") or []
    if not counts:
        return []
    total = sum(int(num(c)) for c in counts if math.isfinite(num(c)))
    extra = [f"{int(num(h[k]))} {label}" for k, label in (("below", "below"), ("above", "above"),
                                                          ("undefined", "undefined")) if num(h.get(k, 0)) > 0]
    return [histogram_plot(
        h.get("log10_edges", ()), counts,
        title=f"tightness ratio over {total + sum(int(num(h.get(k, 0))) for k in ('below', 'above', 'undefined'))} instances",
        note="outside the axis: " + ", ".join(extra) if extra else "",
    )]


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
        xlabel, log_x = x, True
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


def _stat_facts(rec: ClaimRecord) -> list[tuple[str, str]]:
    facts = []
    prob = _field(rec, "probability")
    if prob:
        facts.append(("probability", _e(probability_line(prob))))
        conf = prob.get("confirmation")
        if conf:
            facts.append(("confirmation", _e(_confirmation(conf))))
    sc = _field(rec, "scaling")
    if sc:
        facts.append(("scaling", _e(scaling_line(sc))))
        alts = sc.get("alternatives") or {}
        if alts:
            facts.append(("other models", _e("; ".join(
                f"{k}: p {fmt(a.get('exponent'), 4)} [{fmt(a.get('lower'), 4)}, {fmt(a.get('upper'), 4)}], "
                f"R² {fmt(a.get('r2'), 4)}" for k, a in sorted(alts.items()) if isinstance(a, dict)))))
        conf = sc.get("confirmation")
        if conf:
            facts.append(("confirmation", _e(_confirmation(conf))))
    return facts


def _confirmation(conf: Any) -> str:
    if not isinstance(conf, dict):
        return str(conf)
    return ", ".join(f"{k} {fmt(v, 6) if isinstance(v, (int, float)) else v}" for k, v in conf.items()
                     if not isinstance(v, (dict, list)))


def _instance(title: str, inst: Any) -> str:
    params = "".join(f"<tr><th>{_e(k)}</th><td>{fmt(v, 10)}</td></tr>" for k, v in sorted(inst.params.items()))
    data = {k: v for k, v in inst.data.items() if not isinstance(v, list) or len(str(v)) < 200}
    big = sorted(k for k in inst.data if k not in data)
    rows = "".join(f"<tr><th>{_e(k)}</th><td><code>{_e(v)}</code></td></tr>" for k, v in sorted(data.items()))
    if big:
        rows += f'<tr><th>arrays</th><td>{_e(", ".join(big))} (in results.json)</td></tr>'
    step = "" if inst.step is None else f", step {inst.step}"
    return (f'<details class="instance"><summary>{_e(title)}: {_e(inst.family)} / {_e(inst.dynamics)}{step}, '
            f'observed {fmt(inst.observed)}, bound {fmt(inst.bound)}, ratio {fmt(inst.ratio)}</summary>'
            f'<div class="cols"><table class="kv"><caption>parameters</caption>{params}</table>'
            f'<table class="kv"><caption>instance data</caption>{rows}</table></div></details>')


def _counterexample(rec: ClaimRecord) -> str:
    cx = rec.counterexample
    sid = "snippet-" + _anchor(rec.id)
    return (f'<div class="cex"><h4>Counterexample</h4><p>violated by <b>{fmt(cx.violation)}</b> in float64 '
            f'(rounding allowance {fmt(cx.tolerance, 3)}); confirmed in <b>{_e(cx.confirmed_precision)}</b>: '
            f'violated by <b>{fmt(cx.confirmed_violation)}</b>.</p>'
            + _instance("Counterexample instance", cx.instance)
            + f'<div class="snippet"><button type="button" class="copy" data-target="{sid}">copy replay snippet</button>'
            f'<pre id="{sid}"><code>{_e(cx.replay)}</code></pre></div>'
            f'<p class="hint">Or: <code>thmcheck replay results.json {_e(rec.id)}</code></p></div>')


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;color:#1f2328;background:#f6f8fa}
main{max-width:1100px;margin:0 auto;padding:18px 24px 60px}
header{background:#24292f;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}header p{margin:4px 0 0;color:#d0d7de;font-size:12px}
h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}h3{font-size:15px;margin:14px 0 6px}
section.theorem{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:4px 18px 12px;margin:18px 0}
section.theorem h2{border:0}.tid{font-family:ui-monospace,monospace;color:#0550ae}
article.claim{border-top:1px solid #eaeef2;padding:6px 0 10px}article.claim.unexpected{background:#fff5f5;box-shadow:-6px 0 0 #cf222e}
.verdict{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px;font-weight:600}
.v-proved{background:#1a7f37}.v-pass{background:#2da44e}.v-fail{background:#cf222e}.v-inconclusive{background:#bf8700}.v-error{background:#8250df}
.bad{color:#cf222e}.good{color:#1a7f37}.cite{color:#57606a;font-style:italic;margin:0}.meta,.hint,.kind{color:#57606a;font-size:12px}
.statement{margin:4px 0}.formula{margin:6px 0 8px 8px;color:#0b1f44}svg.math{overflow:visible}
table{border-collapse:collapse}table.claims{width:100%;background:#fff}table.claims td,table.claims th{border-bottom:1px solid #eaeef2;padding:4px 6px;text-align:left;vertical-align:top}
table.claims tr.unexpected{background:#fff0f0}td.num{text-align:right;font-variant-numeric:tabular-nums}
table.facts th{text-align:left;color:#57606a;font-weight:500;padding:1px 12px 1px 0;vertical-align:top}table.facts td{padding:1px 0}
table.steps td{padding:3px 8px;border-bottom:1px solid #eaeef2;vertical-align:middle}td.just{color:#57606a;font-size:12px}
.dstatus{font-weight:600}.s-proved{color:#1a7f37}.s-refuted{color:#cf222e}.s-undecided{color:#bf8700}
details{margin:6px 0}summary{cursor:pointer}.cols{display:flex;gap:24px;flex-wrap:wrap}table.kv th{text-align:left;padding-right:10px;font-weight:500;color:#57606a}
table.kv td code{font-size:12px;word-break:break-all}caption{text-align:left;font-weight:600}
.plots{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0}svg.plot{background:#fff;border:1px solid #eaeef2;border-radius:4px}
.ptitle{font-size:12px;font-weight:600;fill:#24292f}.ptick{font-size:10px;fill:#57606a}.plegend{font-size:11px;font-weight:600}.pnote{font-size:11px;fill:#57606a}
.pframe{fill:none;stroke:#d0d7de}.pgrid{stroke:#eaeef2}.pzero{stroke:#24292f;stroke-dasharray:4,3}.pmark{stroke:#fb8500;stroke-dasharray:3,3}
.gtext{font-size:11px;fill:#fff;font-family:ui-monospace,monospace}.graphwrap{overflow-x:auto;background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:8px}
.cex{border:1px solid #cf222e;border-radius:6px;padding:4px 12px;background:#fff}.cex h4{margin:6px 0;color:#cf222e}
.snippet{position:relative}pre{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:10px;overflow-x:auto;font-size:12px}
button.copy{position:absolute;right:6px;top:6px;font-size:12px;padding:2px 8px;cursor:pointer}
.problems{border:1px solid #8250df;border-radius:6px;padding:4px 12px;background:#fbf7ff}code.tex{background:#f6f8fa;padding:1px 4px}
.aname{font-family:ui-monospace,monospace;color:#57606a;margin-right:6px}ul.assumptions{margin:4px 0}
"""

_JS = """
document.addEventListener('click', function (ev) {
  var b = ev.target.closest ? ev.target.closest('button.copy') : null;
  if (!b) return;
  var pre = document.getElementById(b.getAttribute('data-target'));
  if (!pre) return;
  var text = pre.innerText;
  function done(ok) { b.textContent = ok ? 'copied' : 'select and copy'; setTimeout(function () { b.textContent = 'copy replay snippet'; }, 1500); }
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(false); });
  } else {
    var r = document.createRange(); r.selectNodeContents(pre);
    var s = window.getSelection(); s.removeAllRanges(); s.addRange(r);
    var ok = false; try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    done(ok);
  }
});
"""


def render_html(run: RunRecord) -> str:
    """The report of ``run`` as one self-contained HTML document."""
    theorems = [dict(t) for t in run.theorems]
    known = {t.get("id") for t in theorems}
    by_thm: dict[str, list[ClaimRecord]] = {}
    for c in run.claims:
        by_thm.setdefault(c.theorem, []).append(c)
    for tid in by_thm:
        if tid not in known:  # claims of a theorem the run has no summary for (a spec that failed early)
            theorems.append({"id": tid, "title": "", "depends_on": []})
    shown = [t for t in theorems if t.get("id") in by_thm]
    counts = Counter(c.verdict for c in run.claims)
    total = run.timings.get("total_s")
    sub = (f"{len(run.claims)} claims &middot; budget {_e(run.budget)} &middot; seed {run.seed} &middot; "
           f"backend {_e(run.backend)}" + (f" &middot; {fmt(total, 3)} s" if total is not None else "")
           + " &middot; " + " ".join(f"{_e(k)} {_e(v)}" for k, v in sorted(run.versions.items())))
    title = "thmcheck report: " + ", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts.get(v))
    body = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # Belt and braces: the page must never reach the network.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "script-src 'unsafe-inline'; img-src data:\">",
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f'<header><h1>{_e(title)}</h1><p>{sub}</p></header><main>',
        _summary(run), _graph(run, shown),
    ]
    body += [_theorem(t, by_thm.get(t["id"], [])) for t in shown]
    body.append(f"</main><script>{_JS}</script></body></html>")
    flush_math_cache()
    return "\n".join(body)
