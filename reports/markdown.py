"""A Markdown summary of a run, for a paper's appendix or a pull request (records alone)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from .html import probability_line, scaling_line
from .records import RunRecord
from .tightness import tightness_line
from .svg import fmt

__all__ = ["render_markdown", "write_markdown"]

_ORDER = ("error", "fail", "inconclusive", "pass", "proved")


def _cell(text: object) -> str:
    """Table-cell text: pipes escaped, no line breaks."""
    return str("" if text is None else text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render_markdown(run: RunRecord) -> str:
    counts = Counter(c.verdict for c in run.claims)
    lines = [
        "## thmcheck results",
        "",
        f"{len(run.claims)} claims (budget `{run.budget}`, seed {run.seed}, backend `{run.backend}`): "
        + ", ".join(f"{counts[v]} {v}" for v in _ORDER if counts.get(v))
        + f"; **{len(run.unexpected)} unexpected**.",
        "",
    ]
    if not run.complete:
        lines += [f"**Partial run ({_cell(run.incomplete)}): {len(run.not_run)} claim(s) not run.**", ""]
    if run.problems:
        lines += ["**Specs or plugins that failed to load:**", ""]
        lines += [f"- `{_cell(p.get('source'))}` {_cell(p.get('field'))}: {_cell(p.get('message'))}" for p in run.problems]
        lines.append("")
    lines += ["| theorem :: claim | verdict | expected | instances | worst ratio | why |",
              "|---|---|---|---:|---:|---|"]
    order = sorted(run.claims, key=lambda c: c.as_expected)
    for c in order:
        label = c.id + (" (as printed)" if c.printed else "")
        verdict = c.verdict if c.as_expected else f"**{c.verdict}** (unexpected)"
        why = c.reason
        if c.inherited:
            why += "; rests on " + ", ".join(f"{d.get('theorem')}::{d.get('claim')} ({d.get('verdict')})" for d in c.inherited)
        ratio = "" if c.worst_ratio is None else fmt(c.worst_ratio, 4)
        lines.append(f"| `{_cell(label)}` | {verdict} | {c.expected} | {c.instances} | {ratio} | {_cell(why)} |")
    stats = [(c, kind, getattr(c, kind, None)) for c in run.claims for kind in ("probability", "scaling")]
    stats = [(c, kind, d) for c, kind, d in stats if isinstance(d, dict) and d]
    if stats:
        lines += ["", "### Probabilistic and scaling claims", ""]
        for c, kind, d in stats:
            text = probability_line(d) if kind == "probability" else scaling_line(d)
            lines.append(f"- `{_cell(c.id)}` ({c.verdict}): {_cell(text)}")
    tight = [c for c in run.claims if getattr(c, "tightness", None)]
    if tight:
        lines += ["", "### Tightness against exact worst cases", ""]
        lines += [f"- `{_cell(c.id)}` ({c.verdict}): {_cell(tightness_line(c.tightness))}" for c in tight]
    cexs = [c for c in run.claims if c.counterexample is not None]
    if cexs:
        lines += ["", "### Counterexamples", ""]
        for c in cexs:
            cx = c.counterexample
            lines += [
                f"**`{_cell(c.id)}`**: violated by {fmt(cx.violation)} in float64 (allowance {fmt(cx.tolerance, 3)}), "
                f"confirmed in {cx.confirmed_precision} (violation {fmt(cx.confirmed_violation)}). Replay:",
                "",
                "```python",
                cx.replay.replace("```", "` ` `"),
                "```",
                "",
            ]
    return "\n".join(lines).rstrip() + "\n"


def write_markdown(run: RunRecord, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_markdown(run), encoding="utf-8")
    return path
