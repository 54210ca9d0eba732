"""The HTML report: one self-contained page rendered from a :class:`~reports.records.RunRecord`.

No network: no CDN scripts, fonts or images; LaTeX is rendered offline to inline SVG
(:func:`reports.svg.math_svg`), plots and the dependency graph are inline SVG, the only script is
the copy button of replay snippets.  Every string that comes from a spec or a record is
HTML-escaped.  A pure function of the records: the same run gives the same page.
"""

from __future__ import annotations

from collections import Counter
from html import escape
from pathlib import Path
from typing import Any

from .counterexamples import counterexample_path
from .falsifying import falsifying_text, is_expected_refutation
from .records import VERDICTS, ClaimRecord, RunRecord
from .html_plots import field_of as _field
from .html_plots import plots, probability_line, scaling_line
from .svg import _anchor, dependency_graph, flush_math_cache, fmt, math_svg

__all__ = ["render_html", "write_html", "probability_line", "scaling_line"]

# Worst first: the order verdicts are summarised in and a theorem's colour is chosen by.
_SEVERITY = ("error", "fail", "inconclusive", "pass", "proved")


def write_html(run: RunRecord, path: str | Path) -> Path:
    """Write the report of ``run`` to ``path`` (atomically).  Replay commands name the counterexample
    files of a ``counterexamples`` folder next to it, when there is one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    folder = path.parent / "counterexamples"
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(render_html(run, counterexamples=folder if folder.is_dir() else None), encoding="utf-8")
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


def _badge(verdict: str, rec: ClaimRecord | None = None) -> str:
    """A verdict badge; with its record, a refutation the spec expected reads "refuted as expected"
    in its own colour (a success of the tool, not an alarm) and an unexpected verdict says so."""
    if rec is not None and is_expected_refutation(rec):
        return '<span class="verdict v-refuted" title="the claim as printed is false, as the spec expects">refuted as expected</span>'
    badge = f'<span class="verdict v-{_e(verdict)}">{_e(verdict)}</span>'
    if rec is not None and not rec.as_expected:
        badge += f' <b class="bad">unexpected (expected {_e(rec.expected)})</b>'
    return badge


def _claim_anchor(rec: ClaimRecord) -> str:
    return "claim-" + _anchor(rec.id)


def _worst(verdicts: list[str]) -> str:
    for v in _SEVERITY:
        if v in verdicts:
            return v
    return "none"


# --- page pieces -------------------------------------------------------------------------------


def _summary(run: RunRecord) -> str:
    counts = Counter(c.verdict for c in run.claims if not is_expected_refutation(c))
    refuted = [c for c in run.claims if is_expected_refutation(c)]
    unexpected = run.unexpected
    parts = ['<section id="summary"><h2>Summary</h2><p class="counts">']
    for v in _SEVERITY:
        if counts.get(v):
            parts.append(f'{_badge(v)} <b>{counts[v]}</b> &nbsp; ')
        if v == "fail" and refuted:
            parts.append(f'{_badge("fail", refuted[0])} <b>{len(refuted)}</b> &nbsp; ')
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
    parts.append('<table class="claims"><thead><tr><th>theorem::claim</th><th>verdict</th><th>expected</th>'
                 '<th>instances</th><th>worst ratio</th><th>why</th></tr></thead><tbody>')
    for c in order:
        label = c.id
        cls = "unexpected" if not c.as_expected else ""
        why = c.reason
        if c.inherited:
            why += "; rests on " + ", ".join(f"{d.get('theorem')}::{d.get('claim')} ({d.get('verdict')})" for d in c.inherited)
        parts.append(
            f'<tr class="{cls}"><td class="cid"><a href="#{_claim_anchor(c)}">{_e(label)}</a></td><td>{_badge(c.verdict, c)}</td>'
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
            # A refutation the spec expects is not a failure of the theorem: its own colour.
            "verdict": _worst([c.verdict for c in recs if not c.printed and not is_expected_refutation(c)])
            if any(not c.printed and not is_expected_refutation(c) for c in recs) else
            ("refuted" if any(is_expected_refutation(c) for c in recs) else _worst([c.verdict for c in recs])),
            "inherited": any(c.inherited for c in recs),
        })
    if not nodes:
        return ""
    return ('<section id="graph"><h2>Lemma dependency graph</h2><p class="hint">Arrows go from a lemma to the '
            'theorems whose proofs use it; a box is coloured by its worst verdict (claims as printed '
            'aside). A dashed orange outline marks a theorem whose verdict rests on a lemma that did not '
            'hold.</p><div class="graphwrap">' + dependency_graph(nodes) + "</div></section>")


def _theorem(t: dict[str, Any], recs: list[ClaimRecord], folder: Path | None = None) -> str:
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
        parts.append(_claim(rec, specs.get(rec.claim, {}), folder))
    parts.append("</section>")
    return "".join(parts)


def _claim(rec: ClaimRecord, spec: dict[str, Any], folder: Path | None = None) -> str:
    cls = "claim" + ("" if rec.as_expected else " unexpected")
    parts = [f'<article class="{cls}" id="{_claim_anchor(rec)}" data-claim="{_e(rec.id)}" data-verdict="{_e(rec.verdict)}">'
             f'<h3>{_badge(rec.verdict, rec)} <span class="cname">{_e(rec.claim)}</span>'
             f'{" <small>[as printed; corrected by " + _e(rec.corrected_by) + "]</small>" if rec.printed else ""}'
             f' <small class="kind">{_e(rec.kind)}</small></h3>']
    parts.append(f'<p class="statement">{_e(rec.statement)}</p>')
    parts.append(f'<div class="formula">{_math(rec.latex or spec.get("latex", ""), rec.statement)}</div>')
    extra = spec.get("assumptions") or ()
    if extra:
        parts.append('<p class="under">under ' + ", ".join(_math(a) for a in extra) + "</p>")
    facts = [
        ("verdict", _badge(rec.verdict, rec)),
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
    parts.append(plots(rec))
    if rec.worst_instance is not None:
        parts.append(_instance("Worst instance (tightest ratio found)", rec.worst_instance))
    if rec.counterexample is not None:
        parts.append(_counterexample(rec, folder))
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


def _counterexample(rec: ClaimRecord, folder: Path | None) -> str:
    """The falsifying-example block (the same text as the terminal's), the instance in full, the
    instance as the search found it when shrinking simplified it, and the replay snippet."""
    cx = rec.counterexample
    sid = "snippet-" + _anchor(rec.id)
    path = None if folder is None else str(counterexample_path(folder.resolve(), rec))
    cls = "cex expected" if is_expected_refutation(rec) else "cex"
    head = "Falsifying example" + (" (refuted as expected)" if is_expected_refutation(rec) else "")
    evidence = {"exact": "certified exactly in rational arithmetic",
                "extended precision": "confirmed in float64 and extended precision (no exact certificate)",
                "statistical": "statistical evidence (exact confidence intervals)"}.get(cx.evidence, "")
    parts = [f'<div class="{cls}"><h4>{_e(head)}</h4>',
             f'<pre class="falsifying">{_e(falsifying_text(rec, path=path))}</pre>']
    if evidence:
        parts.append(f'<p class="hint">{_e(evidence)}; found violated by {fmt(cx.violation)} in float64 '
                     f'(rounding allowance {fmt(cx.tolerance, 3)}).</p>')
    parts.append(_instance("Counterexample instance", cx.instance))
    if cx.found is not None:
        parts.append(_instance("As the search found it (before shrinking: " + "; ".join(cx.shrink) + ")", cx.found))
    parts.append(f'<div class="snippet"><button type="button" class="copy" data-target="{sid}">copy replay snippet</button>'
                 f'<pre id="{sid}"><code>{_e(cx.replay)}</code></pre></div></div>')
    return "".join(parts)


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;color:#1f2328;background:#f6f8fa}
main{max-width:1100px;margin:0 auto;padding:18px 24px 60px}
header{background:#24292f;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}header p{margin:4px 0 0;color:#d0d7de;font-size:12px}
h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}h3{font-size:15px;margin:14px 0 6px}
section.theorem{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:4px 18px 12px;margin:18px 0}
section.theorem h2{border:0}.tid{font-family:ui-monospace,monospace;color:#0550ae}
article.claim{border-top:1px solid #eaeef2;padding:6px 0 10px}article.claim.unexpected{background:#fff5f5;box-shadow:-6px 0 0 #cf222e}
.verdict{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px;font-weight:600}
.v-refuted{background:#0a6f8f}.v-proved{background:#1a7f37}.v-pass{background:#2da44e}.v-fail{background:#cf222e}.v-inconclusive{background:#bf8700}.v-error{background:#8250df}
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
.pframe{fill:none;stroke:#d0d7de}.pband{fill:#8c959f;fill-opacity:0.28}.pviol{fill:#cf222e;stroke:#fff;stroke-width:0.8}.pgrid{stroke:#eaeef2}.pzero{stroke:#24292f;stroke-dasharray:4,3}.pmark{stroke:#fb8500;stroke-dasharray:3,3}
.gtext{font-size:11px;fill:#fff;font-family:ui-monospace,monospace}.graphwrap{overflow:hidden;background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:8px}
.cex{border:1px solid #cf222e;border-radius:6px;padding:4px 12px;background:#fff}.cex h4{margin:6px 0;color:#cf222e}
.cex.expected{border-color:#0a6f8f}.cex.expected h4{color:#0a6f8f}pre.falsifying{white-space:pre-wrap;word-break:break-word}
td.cid{white-space:nowrap;font-family:ui-monospace,monospace;font-size:12px}
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


def render_html(run: RunRecord, *, counterexamples: str | Path | None = None) -> str:
    """The report of ``run`` as one self-contained HTML document; ``counterexamples`` is the folder
    holding its counterexample files (named in the replay commands)."""
    folder = None if counterexamples is None else Path(counterexamples)
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
    body += [_theorem(t, by_thm.get(t["id"], []), folder) for t in shown]
    body.append(f"</main><script>{_JS}</script></body></html>")
    flush_math_cache()
    return "\n".join(body)
