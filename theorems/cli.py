"""The ``thmcheck`` command: list, show, verify, replay, report.

Exit codes: 0 all claims as expected; 1 some claim has an unexpected verdict, and nothing else;
2 usage, input/output and spec errors (unknown id, unavailable backend, unreadable results file,
an output that cannot be written where asked, a spec or plugin that failed to load, a spec file or
module that redeclares an installed id); 128 + N after signal N (SIGINT 130, SIGTERM 143), with the
partial results written and marked incomplete.

``list``, ``show`` and ``verify`` take theorem ids, family prefixes, ``theorem::claim``, and spec
files (``path.py``) or spec modules (``pkg.module``, tried for a name that is no known id) whose
``THEOREMS`` are added to the installed catalogue.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from rich.console import Console

from . import cli_common
from .cli_common import say as _say
from .cli_common import select as _select

__all__ = ["main"]


def _cmd_list(args: argparse.Namespace, console: Console) -> int:
    from rich.table import Table
    from rich.text import Text

    picked = _select(args.ids, console)
    if isinstance(picked, int):
        return picked
    reg, theorems, _ = picked
    table = Table(title="thmcheck catalogue")
    table.add_column("id")
    table.add_column("claim")
    table.add_column("expected")
    table.add_column("statement", overflow="fold")
    for thm in theorems:
        for c in thm.claims:
            label = c.name + ("  [as printed]" if c.printed else "")
            table.add_row(Text(thm.id), Text(label), thm.expected(c).value, Text(c.statement))
    console.print(table)
    for p in reg.problems:
        console.print(Text(f"problem: {p}", style="bold magenta"), soft_wrap=True)
    return 2 if reg.problems else 0


def _cmd_show(args: argparse.Namespace, console: Console) -> int:
    import symbolic

    picked = _select(args.ids, console)
    if isinstance(picked, int):
        return picked
    reg, theorems, only = picked

    def say(text: str) -> None:
        # Spec text is printed verbatim: brackets in citations are not rich markup.
        console.print(text, markup=False, highlight=False)

    for thm in theorems:
        say(f"{thm.id}: {thm.title}")
        say(f"  citation: {thm.citation}")
        say(f"  dynamics: {getattr(thm.dynamics, 'value', thm.dynamics)}; instance class: {thm.structure[0].text}")
        if thm.depends_on:
            say(f"  depends on: {', '.join(thm.depends_on)}")
        say("  symbols:")
        for s in thm.symbols:
            src = f" <- {s.source}" if s.source else ""
            say(f"    {s.name} ({s.domain.value}, {s.role.value}{src}): {s.doc}")
        say("  assumptions:")
        for a in thm.assumptions:
            say(f"    {a.name}: {a.relation}    {a.note}")
        for c in thm.claims:
            if only.get(thm.id) and c.name not in only[thm.id]:
                continue
            tag = " [as printed; expected refuted, corrected by " + str(c.corrected_by) + "]" if c.printed else ""
            say(f"  claim {c.name}{tag}: {c.statement}")
            say(f"    relation: {c.relation}")
            say(f"    latex:    {symbolic.latex(c.relation)}")
            for a in c.assumptions:
                say(f"    under {a.name}: {a.relation}")
            for d in thm.derivations:
                if d.claim != c.name:
                    continue
                say(f"    derivation {d.name}{' (as printed)' if d.printed else ''}:")
                say(f"        {d.start}")
                for step in d.steps:
                    say(f"      {step.rel} {step.expr}    [{type(step.by).__name__}"
                                  f"{'(' + ', '.join(step.by.facts) + ')' if hasattr(step.by, 'facts') else ''}"
                                  f"{'(' + step.by.lemma + '::' + step.by.claim + ')' if hasattr(step.by, 'lemma') else ''}]")
        for f in thm.facts:
            say(f"  fact {f.name}: {f.relation}    {f.note}")
        if thm.note:
            say(f"  note: {thm.note}")
    return 0


def _seed(text: str) -> int:
    """argparse type of --seed (see :func:`theorems.outputs.seed_argument`)."""
    from .outputs import seed_argument

    try:
        return seed_argument(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _cmd_report(args: argparse.Namespace, console: Console) -> int:
    from reports.html import write_html
    from reports.markdown import render_markdown
    from reports.records import RecordError, load_run

    from .outputs import EXIT_OK, EXIT_USAGE, file_problem

    html = args.html or (None if args.markdown else str(Path(args.results).with_name("report.html")))
    # Targets are checked before the results file is even read: a refused target costs nothing.
    for flag, target in (("--html", html), ("--markdown", args.markdown)):
        if target and target != "-":
            why = file_problem(target)
            if why:
                _say(console, f"{flag} {target}: {why}", "red")
                return EXIT_USAGE
    try:
        record = load_run(args.results)
    except RecordError as exc:
        _say(console, str(exc), "red")
        return EXIT_USAGE
    if not record.complete:
        _say(console, f"{args.results}: partial run ({record.incomplete}): {len(record.claims)} claims ran, "
                      f"{len(record.not_run)} not run", "yellow")
    try:
        if html:
            _say(console, f"report written to {write_html(record, html)}")
        if args.markdown == "-":
            sys.stdout.write(render_markdown(record))
        elif args.markdown:
            Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
            Path(args.markdown).write_text(render_markdown(record), encoding="utf-8")
            _say(console, f"markdown summary written to {args.markdown}")
    except OSError as exc:
        # Nothing is lost: the report is a pure function of the results file, which is untouched.
        _say(console, f"{exc.filename or html}: cannot write the report ({exc.strerror or exc}); "
                      f"{args.results} is unchanged", "red")
        return EXIT_USAGE
    return EXIT_OK


def _cmd_replay(args: argparse.Namespace, console: Console) -> int:
    from reports.counterexamples import is_counterexample_file, load_counterexample
    from reports.records import RecordError, load_run

    from .replay import replay_claim

    single = is_counterexample_file(args.results)
    try:
        wanted = [load_counterexample(args.results)] if single else [
            c for c in load_run(args.results).claims if c.counterexample is not None]
    except RecordError as exc:
        _say(console, str(exc), "red")
        return 2
    if not single:
        partial = load_run(args.results)
        if not partial.complete:
            _say(console, f"{args.results}: partial run ({partial.incomplete}): replaying the counterexamples of the "
                          f"{len(partial.claims)} claims that ran; {len(partial.not_run)} not run", "yellow")
    if args.claim:
        wanted = [c for c in wanted if c.id == args.claim]
    if not wanted:
        _say(console, "no counterexample to replay" + (f" for {args.claim}" if args.claim else ""))
        return 2 if args.claim else 0
    specs = list(args.spec or ())
    reg = cli_common.registry(extra_modules=[x for x in specs if not x.endswith(".py")],
                    extra_files=[x for x in specs if x.endswith(".py")]) if specs else cli_common.registry()
    bad = 0

    def say(text: str) -> None:
        console.print(text, markup=False, highlight=False)

    for rec in wanted:
        cx = rec.counterexample
        inst = cx.instance
        if single:
            say(f"{rec.id}: {rec.statement}" if rec.statement else rec.id)
            say(f"  searched with seed {rec.seed}, budget {rec.budget}, backend {rec.backend}; "
                f"instance {inst.family} / {inst.dynamics}" + ("" if inst.step is None else f", step {inst.step}"))
            say(f"  recorded:  observed {inst.observed!r}, bound {inst.bound!r}; violated by {cx.violation!r} in the "
                f"search (allowance {cx.tolerance:.3g}), by {cx.confirmed_violation!r} in {cx.confirmed_precision}")
        if rec.theorem not in reg.theorems:
            say(f"{args.results}: cannot replay {rec.id}: theorem {rec.theorem!r} is not in the installed catalogue "
                "(name its spec file or module with --spec)")
            return 2
        try:
            res = replay_claim(reg, rec)
        except (KeyError, TypeError, IndexError) as exc:
            say(f"{args.results}: cannot replay {rec.id}: malformed instance record "
                f"({type(exc).__name__}: {exc})")
            return 2
        except ValueError as exc:
            say(f"{rec.id}: NOT reproduced: {exc}")
            bad += 1
            continue
        from rich.text import Text

        state = Text("reproduced", style="green") if res.reproduced else Text("NOT reproduced", style="red")
        if single:
            line = Text(f"  replayed:  violated by {res.violation!r} ({res.precision}, allowance {res.tolerance:.3g}): ")
            line.append_text(state)
        else:
            line = Text(f"{rec.id}: ")
            line.append_text(state)
            line.append(f": violation {res.violation:.6g} (allowance {res.tolerance:.3g}, {res.precision})")
        console.print(line, soft_wrap=True)
        bad += not res.reproduced
    return 1 if bad else 0


def _cmd_verify(args: argparse.Namespace, console: Console) -> int:
    from .cli_verify import cmd_verify

    return cmd_verify(args, console)


def _cmd_necessity(args: argparse.Namespace, console: Console) -> int:
    from .necessity import cmd_necessity

    return cmd_necessity(args, console)


class _DefaultsHelp(argparse.HelpFormatter):
    """Help that states each option's default, except where there is none to state."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if "(default" in text or action.default is None or action.default is False or action.default in ("", []) \
                or action.default == argparse.SUPPRESS:
            return text
        return text + " (default: %(default)s)"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="thmcheck", description="Check theorem statements symbolically and numerically.")
    sub = p.add_subparsers(dest="command", required=True)
    what = ("theorem ids, family prefixes, theorem::claim, spec files (path.py) or spec modules (pkg.module); "
            "the theorems of files and modules are added to the installed ones")
    lst = sub.add_parser("list", help="theorems and claims, with ids and expected verdicts")
    lst.add_argument("ids", nargs="*", help=what + " (default: all)")
    show = sub.add_parser("show", help="statement, assumptions, derivations and citation of a theorem")
    show.add_argument("ids", nargs="+", metavar="id", help=what)
    ver = sub.add_parser("verify", help="check claims and write DIR/results.json",
                         description="Check every selected claim symbolically and numerically; print a verdict per "
                                     "claim and a falsifying example per refuted claim; write results.json, "
                                     "report.html and one counterexample file per refuted claim. Exit status 0 "
                                     "when every verdict is the expected one, 1 otherwise, 2 on usage errors.",
                         formatter_class=_DefaultsHelp)
    ver.add_argument("ids", nargs="*", help=what + " (default: all)")
    ver.add_argument("--budget", choices=("quick", "default", "thorough"), default="default",
                     help="search size: quick (CI, pytest), default, thorough (deep searches)")
    ver.add_argument("--backend", choices=("auto", "numpy", "numba", "cupy"), default="auto",
                     help="kernel backend; auto takes numba where a kernel exists, else the NumPy reference")
    ver.add_argument("--seed", type=_seed, default=0, help="seed of the search (same seed and budget, same results)")
    ver.add_argument("--out", default="thmcheck-out", help="output folder")
    ver.add_argument("--quiet", action="store_true",
                     help="no progress output (without it: a live bar on a terminal, plain 'thmcheck:' lines otherwise)")
    ver.add_argument("--markdown", action="store_true", help="also write DIR/report.md (a Markdown summary)")
    ver.add_argument("--workers", type=int, default=None, metavar="N",
                     help="worker processes on this machine (default: $THMCHECK_WORKERS, else one per core; "
                          "1 runs serially in this process); results do not depend on it")
    ver.add_argument("--scheduler", default=None, metavar="ADDRESS",
                     help="run on an existing Dask cluster (e.g. tcp://host:8786) instead of local workers")
    ver.add_argument("--resume", metavar="DIR", default="",
                     help="finish the partial run in DIR (its seed, budget, backend and claims); same results as "
                          "an uninterrupted run")
    rpt = sub.add_parser("report", help="render a saved results.json as HTML (and/or Markdown)")
    rpt.add_argument("results", help="path to results.json")
    rpt.add_argument("--html", help="output HTML file (default: report.html next to the results file)")
    rpt.add_argument("--markdown", help="output Markdown file ('-' for standard output)")
    rep = sub.add_parser("replay", help="replay the counterexamples stored in a results file, or one counterexample file")
    rep.add_argument("results", help="path to results.json or to DIR/counterexamples/<theorem>__<claim>.json")
    rep.add_argument("claim", nargs="?", help="only this theorem::claim")
    rep.add_argument("--spec", action="append", metavar="FILE_OR_MODULE",
                     help="a spec file or module holding theorems that are not installed plugins (repeatable)")
    nec = sub.add_parser("necessity", help="re-run theorems with each assumption relaxed or dropped: is it needed?")
    nec.add_argument("ids", nargs="*", help="theorem ids or family prefixes (default: those declaring relaxations)")
    nec.add_argument("--budget", choices=("quick", "default", "thorough"), default="quick")
    nec.add_argument("--backend", choices=("auto", "numpy", "numba", "cupy"), default="numba")
    nec.add_argument("--seed", type=_seed, default=0)
    nec.add_argument("--json", default="", help="also write the results as JSON to this path")
    nec.add_argument("--quiet", action="store_true")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console()
    if not console.is_terminal:
        # Logs (CI, redirected output) are read later in a wide viewer: do not wrap at 80 columns.
        console = Console(width=200)
    handler = {"list": _cmd_list, "show": _cmd_show, "verify": _cmd_verify, "replay": _cmd_replay,
               "report": _cmd_report, "necessity": _cmd_necessity}[args.command]
    return handler(args, console)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
