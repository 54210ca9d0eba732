"""A Markdown summary of a run, for a paper's appendix or a pull request (records alone)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from .counterexamples import counterexample_path
from .falsifying import falsifying_text, is_expected_refutation, verdict_label
from .html import probability_line, scaling_line
from .records import RunRecord
from .tightness import tightness_line
from .svg import fmt

__all__ = ["render_markdown", "write_markdown"]

_ORDER = ("error", "fail", "inconclusive", "pass", "proved")


def _cell(text: object) -> str:
    """Table-cell text: pipes escaped, no line breaks."""
    return str("" if text is None else text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render_markdown(run: RunRecord, *, counterexamples: str | Path | None = None) -> str:
    """The Markdown summary of ``run``; ``counterexamples`` is the folder of its counterexample files
    (named in the replay commands)."""
    folder = counterexamples
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
        label = c.id
        verdict = verdict_label(c) if c.as_expected else f"**{verdict_label(c)}**"
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
    cexs = sorted((c for c in run.claims if c.counterexample is not None), key=is_expected_refutation)
    if cexs:
        lines += ["", "### Falsifying examples", ""]
        for c in cexs:
            cx = c.counterexample
            path = None if folder is None else str(counterexample_path(Path(folder).resolve(), c))
            lines += [
                "```text",
                falsifying_text(c, path=path).replace("```", "` ` `"),
                "```",
                "",
                f"Found violated by {fmt(cx.violation)} in float64 (allowance {fmt(cx.tolerance, 3)}), confirmed in "
                f"{cx.confirmed_precision}. Replay snippet:",
                "",
                "```python",
                cx.replay.replace("```", "` ` `"),
                "```",
                "",
            ]
    return "\n".join(lines).rstrip() + "\n"


def write_markdown(run: RunRecord, path: str | Path) -> Path:
    """Write the summary of ``run`` to ``path``; replay commands name the counterexample files of a
    ``counterexamples`` folder next to it, when there is one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    folder = path.parent / "counterexamples"
    path.write_text(render_markdown(run, counterexamples=folder if folder.is_dir() else None), encoding="utf-8")
    return path
