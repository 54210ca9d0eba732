"""Terminal rendering of run records; a pure function of the records.

Wide consoles (:func:`fits_table`) get one table row per claim, its id never broken (ids are copied
into commands); narrower ones get one short block per claim.  Refuted claims then
get their falsifying-example block (:mod:`reports.falsifying`): in full for unexpected results, in
three lines for refutations the spec expected.  Every piece of spec or user text goes in as
:class:`rich.text.Text`, so brackets in it are never read as markup.
"""

from __future__ import annotations

from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .counterexamples import counterexample_path
from .falsifying import falsifying_lines, is_expected_refutation, number, verdict_label
from .html import probability_line, scaling_line
from .records import ClaimRecord, RunRecord
from .tightness import tightness_line

__all__ = ["claims_table", "claim_blocks", "render_run", "verdict_style", "summary_line", "stat_lines",
           "TABLE_MIN_WIDTH", "counterexample_blocks", "fits_table", "derivation_lines"]

#: Narrower consoles get one block per claim instead of the table.
TABLE_MIN_WIDTH = 100

_STYLE = {"proved": "bold green", "pass": "green", "fail": "bold red", "inconclusive": "yellow", "error": "bold magenta"}
#: A refutation the spec expected is a success of the tool, not an alarm.
EXPECTED_REFUTATION_STYLE = "cyan"


def verdict_style(verdict: str, rec: ClaimRecord | None = None) -> str:
    """The style of a verdict; with its record, refutations the spec expected are not red and
    unexpected verdicts are bold and reversed."""
    if rec is not None and is_expected_refutation(rec):
        return EXPECTED_REFUTATION_STYLE
    style = _STYLE.get(verdict, "")
    if rec is not None and not rec.as_expected:
        return (style + " reverse").strip()
    return style


def _ratio(rec: ClaimRecord) -> str:
    return "" if rec.worst_ratio is None else f"{rec.worst_ratio:.4g}"


def _why(rec: ClaimRecord, *, short: bool = False) -> str:
    cx = rec.counterexample
    if short and cx is not None and cx.evidence != "statistical":
        # The falsifying example below the table gives the details.
        why = f"violated by {number(cx.confirmed_violation)}" + (" (exact)" if cx.exact else "") + "; example below"
    else:
        why = rec.reason
    if rec.inherited:
        why += "; rests on " + ", ".join(f"{d['theorem']}::{d['claim']} ({d['verdict']})" for d in rec.inherited)
    return why


def _title(run: RunRecord) -> str:
    return f"thmcheck: {len(run.claims)} claims, budget {run.budget}, seed {run.seed}, backend {run.backend}"


def claims_table(run: RunRecord) -> Table:
    """One row per claim: id (never wrapped), verdict in words, worst ratio, and why (which says how
    many instances were searched)."""
    table = Table(title=_title(run), box=box.SIMPLE_HEAD)
    table.add_column("theorem::claim", no_wrap=True)
    table.add_column("verdict")
    table.add_column("worst ratio", justify="right")
    table.add_column("why", overflow="fold", ratio=1)
    for rec in run.claims:
        verdict = Text(verdict_label(rec, short=True), style=verdict_style(rec.verdict, rec))
        table.add_row(Text(rec.id), verdict, _ratio(rec), Text(_why(rec, short=True)))
    return table


def fits_table(run: RunRecord, width: int) -> bool:
    """Whether the table fits ``width`` columns with its ids whole and room for the reasons (about
    62 columns besides the longest id)."""
    longest = max((len(r.id) for r in run.claims), default=0)
    return width >= max(TABLE_MIN_WIDTH, longest + 62)


def claim_blocks(run: RunRecord) -> list[tuple[Text, Text]]:
    """The narrow layout: per claim its id (a line of its own, never wrapped) and, indented below it,
    verdict, counts and why."""
    out = []
    for rec in run.claims:
        body = Text("  ")
        body.append(verdict_label(rec), style=verdict_style(rec.verdict, rec))
        body.append(f" · {rec.instances} instances")
        if rec.worst_ratio is not None:
            body.append(f" · worst ratio {_ratio(rec)}")
        body.append("\n  " + _why(rec))
        out.append((Text(rec.id, style="bold"), body))
    return out


def counterexample_blocks(run: RunRecord, folder: str | Path | None = None) -> list[Text]:
    """The falsifying-example blocks of the run's refuted claims, unexpected ones first and in full;
    ``folder`` is where the counterexample files are (their absolute paths go into the replay
    commands)."""
    recs = [r for r in run.claims if r.counterexample is not None]
    recs.sort(key=lambda r: is_expected_refutation(r))
    out = []
    for rec in recs:
        path = None if folder is None else str(counterexample_path(Path(folder).resolve(), rec))
        lines = falsifying_lines(rec, path=path, compact=is_expected_refutation(rec))
        text = Text()
        text.append(lines[0], style=verdict_style(rec.verdict, rec))
        for line in lines[1:]:
            text.append("\n" + line)
        out.append(text)
    return out


def derivation_lines(run: RunRecord) -> list[str]:
    """One line per derivation encoded as printed (a proof with a known slip) and its outcome: the
    refuted step, with the witness that refutes it -- the headline of a theorem whose printed proof
    is wrong while its statement holds."""
    out = []
    for rec in run.claims:
        for d in rec.derivations:
            if not d.printed:
                continue
            bad = [st for st in d.steps if st.status == "refuted"]
            state = "refuted as expected" if d.as_expected and d.status == "refuted" else \
                f"{d.status} (expected {d.expected_status})"
            line = f"{rec.id}: printed proof {d.name!r} {state}"
            if bad:
                st = bad[0]
                line += f" at step {st.index} ({st.rel} {st.expr})"
                if st.witness:
                    line += "; witness " + ", ".join(f"{k} = {v}" for k, v in st.witness.items())
            out.append(line)
    return out


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
    """Counts per verdict, refutations the spec expected counted apart from unexpected failures."""
    counts: dict[str, int] = {}
    for rec in run.claims:
        key = "refuted as expected" if is_expected_refutation(rec) else rec.verdict
        counts[key] = counts.get(key, 0) + 1
    order = ("proved", "pass", "refuted as expected", "fail", "inconclusive", "error")
    parts = [f"{counts[v]} {v}" for v in order if v in counts]
    unexpected = len(run.unexpected)
    partial = "" if getattr(run, "complete", True) else (
        f"; PARTIAL run ({run.incomplete}): {len(run.not_run)} claim(s) not run")
    return (", ".join(parts) or "no claims") + f"; {unexpected} unexpected" + (
        f"; {len(run.problems)} spec/plugin problem(s)" if run.problems else ""
    ) + partial


def render_run(run: RunRecord, console: Console | None = None, *, counterexamples: str | Path | None = None) -> None:
    """Print the claims (a table, or blocks on a narrow console), the falsifying examples, the
    statistics lines, any spec/plugin problems, and a one-line summary.  ``counterexamples`` is the
    folder the counterexample files are written to."""
    console = console or Console()
    if fits_table(run, console.width):
        console.print(claims_table(run))
    else:
        console.print(Text(_title(run), style="bold"))
        for head, body in claim_blocks(run):
            console.print(head, soft_wrap=True)  # ids are copied into commands: never broken
            console.print(body)
    for block in counterexample_blocks(run, counterexamples):
        console.print()
        # Not wrapped by rich: replay commands and paths must stay copyable in one piece.
        console.print(block, soft_wrap=True)
    if run.claims and any(r.counterexample is not None for r in run.claims):
        console.print()
    for line in derivation_lines(run):
        console.print(Text(line), soft_wrap=True)
    for line in stat_lines(run):
        console.print(Text(line))
    for p in run.problems:
        console.print(Text(f"problem: {p['source']}: {p['field']}: {p['message']}", style="bold magenta"))
    console.print(Text(summary_line(run)))
