"""Terminal rendering of run records (rich tables); a pure function of the records."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .html import probability_line, scaling_line
from .records import ClaimRecord, RunRecord
from .tightness import tightness_line

__all__ = ["claims_table", "render_run", "verdict_style", "summary_line", "stat_lines"]

_STYLE = {"proved": "bold green", "pass": "green", "fail": "bold red", "inconclusive": "yellow", "error": "bold magenta"}


def verdict_style(verdict: str) -> str:
    return _STYLE.get(verdict, "")


def _ratio(rec: ClaimRecord) -> str:
    return "" if rec.worst_ratio is None else f"{rec.worst_ratio:.4g}"


def claims_table(run: RunRecord) -> Table:
    """One row per claim: verdict, what the spec expected, instances, worst ratio, and why."""
    table = Table(title=f"thmcheck: {len(run.claims)} claims, budget {run.budget}, seed {run.seed}, backend {run.backend}")
    table.add_column("theorem :: claim", overflow="fold")
    table.add_column("verdict")
    table.add_column("expected")
    table.add_column("instances", justify="right")
    table.add_column("worst ratio", justify="right")
    table.add_column("why", overflow="fold")
    for rec in run.claims:
        verdict = Text(rec.verdict, style=verdict_style(rec.verdict))
        expected = Text(rec.expected + ("" if rec.as_expected else "  ✗ unexpected"),
                        style="" if rec.as_expected else "bold red")
        label = rec.id + ("  [as printed]" if rec.printed else "")
        why = rec.reason
        if rec.inherited:
            why += "; rests on " + ", ".join(f"{d['theorem']}::{d['claim']} ({d['verdict']})" for d in rec.inherited)
        # Spec text goes in as Text so brackets in it are never read as rich markup.
        table.add_row(Text(label), verdict, expected, str(rec.instances), _ratio(rec), Text(why))
    return table


def stat_lines(run: RunRecord) -> list[str]:
    """One line per probabilistic claim (n, k, interval, confidence), per scaling claim
    (exponent, interval, model) and per claim with a known exact worst case (bound, exact worst
    case, best found)."""
    out = []
    for rec in run.claims:
        for kind, line in (("probability", probability_line), ("scaling", scaling_line)):
            data = getattr(rec, kind, None)
            if isinstance(data, dict) and data:
                out.append(f"{rec.id} ({rec.verdict}): {line(data)}")
        if getattr(rec, "tightness", None):
            out.append(f"{rec.id} ({rec.verdict}): {tightness_line(rec.tightness)}")
    return out


def summary_line(run: RunRecord) -> str:
    counts: dict[str, int] = {}
    for rec in run.claims:
        counts[rec.verdict] = counts.get(rec.verdict, 0) + 1
    parts = [f"{counts[v]} {v}" for v in ("proved", "pass", "fail", "inconclusive", "error") if v in counts]
    unexpected = len(run.unexpected)
    partial = "" if getattr(run, "complete", True) else (
        f"; PARTIAL run ({run.incomplete}): {len(run.not_run)} claim(s) not run")
    return (", ".join(parts) or "no claims") + f"; {unexpected} unexpected" + (
        f"; {len(run.problems)} spec/plugin problem(s)" if run.problems else ""
    ) + partial


def render_run(run: RunRecord, console: Console | None = None) -> None:
    """Print the claims table, any spec/plugin problems, and a one-line summary."""
    console = console or Console()
    console.print(claims_table(run))
    for line in stat_lines(run):
        console.print(Text(line))
    for p in run.problems:
        console.print(Text(f"problem: {p['source']}: {p['field']}: {p['message']}", style="bold magenta"))
    console.print(Text(summary_line(run)))
