"""The ``thmcheck`` command: list, show, verify, replay, report.

Exit codes: 0 all claims as expected; 1 some claim has an unexpected verdict (or a spec/plugin
failed to load); 2 usage errors (unknown id, unavailable backend, unreadable results file).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from rich.console import Console

__all__ = ["main"]


def _registry():
    from .registry import load_registry

    return load_registry()


def _cmd_list(args: argparse.Namespace, console: Console) -> int:
    from rich.table import Table
    from rich.text import Text

    reg = _registry()
    table = Table(title="thmcheck catalogue")
    table.add_column("id")
    table.add_column("claim")
    table.add_column("expected")
    table.add_column("statement", overflow="fold")
    for thm in reg.ordered():
        for c in thm.claims:
            label = c.name + ("  [as printed]" if c.printed else "")
            table.add_row(Text(thm.id), Text(label), thm.expected(c).value, Text(c.statement))
    console.print(table)
    for p in reg.problems:
        console.print(Text(f"problem: {p}", style="bold magenta"))
    return 1 if reg.problems else 0


def _cmd_show(args: argparse.Namespace, console: Console) -> int:
    import symbolic

    reg = _registry()
    try:
        theorems, only = reg.select([args.id])
    except KeyError as exc:
        console.print(f"[red]{exc.args[0]}[/]")
        return 2
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


def _cmd_verify(args: argparse.Namespace, console: Console) -> int:
    import kernels
    from reports.records import dump_run
    from reports.terminal import render_run

    from .runner import run

    reg = _registry()
    try:
        theorems, only = reg.select(args.ids)
    except KeyError as exc:
        console.print(f"[red]{exc.args[0]}[/]")
        return 2
    try:
        kernels.resolve_backend(args.backend)
    except (kernels.BackendUnavailable, ValueError) as exc:
        console.print(f"[red]backend error:[/] {exc}")
        return 2
    out = Path(args.out)
    results = out / "results.json"
    quiet = args.quiet or not console.is_terminal

    def save(partial) -> None:
        dump_run(partial, results)

    if quiet:
        record = run(reg, theorems, budget=args.budget, seed=args.seed, backend=args.backend, only=only,
                     on_theorem=save)
    else:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                      console=console, transient=True) as bar:
            task = bar.add_task("starting", total=len(theorems))

            def progress(msg: str) -> None:
                bar.update(task, description=msg, advance=1 if msg.endswith(": done") else 0)

            record = run(reg, theorems, budget=args.budget, seed=args.seed, backend=args.backend, only=only,
                         progress=progress, on_theorem=save)
    dump_run(record, results)
    render_run(record, console)
    console.print(f"results written to {results}")
    from reports.html import write_html

    console.print(f"report written to {write_html(record, out / 'report.html')}")
    if args.markdown:
        from reports.markdown import write_markdown

        console.print(f"markdown summary written to {write_markdown(record, out / 'report.md')}")
    return 1 if (record.unexpected or record.problems) else 0


def _cmd_report(args: argparse.Namespace, console: Console) -> int:
    from reports.html import write_html
    from reports.markdown import render_markdown
    from reports.records import RecordError, load_run

    try:
        record = load_run(args.results)
    except RecordError as exc:
        console.print(str(exc), markup=False, highlight=False)
        return 2
    html = args.html or (None if args.markdown else str(Path(args.results).with_name("report.html")))
    if html:
        console.print(f"report written to {write_html(record, html)}")
    if args.markdown == "-":
        sys.stdout.write(render_markdown(record))
    elif args.markdown:
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text(render_markdown(record), encoding="utf-8")
        console.print(f"markdown summary written to {args.markdown}")
    return 0


def _cmd_replay(args: argparse.Namespace, console: Console) -> int:
    from reports.records import RecordError, load_run

    from .replay import replay_claim

    try:
        run = load_run(args.results)
    except RecordError as exc:
        console.print(f"[red]{exc}[/]")
        return 2
    reg = _registry()
    wanted = [c for c in run.claims if c.counterexample is not None and (not args.claim or c.id == args.claim)]
    if not wanted:
        console.print("no counterexample to replay" + (f" for {args.claim}" if args.claim else ""))
        return 2 if args.claim else 0
    bad = 0
    for rec in wanted:
        res = replay_claim(reg, rec)
        state = "[green]reproduced[/]" if res.reproduced else "[red]NOT reproduced[/]"
        console.print(f"{rec.id}: {state}: violation {res.violation:.6g} (allowance {res.tolerance:.3g}, {res.precision})")
        bad += not res.reproduced
    return 1 if bad else 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="thmcheck", description="Check theorem statements symbolically and numerically.")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="theorems and claims, with ids and expected verdicts")
    show = sub.add_parser("show", help="statement, assumptions, derivations and citation of a theorem")
    show.add_argument("id", help="theorem id, family prefix or theorem::claim")
    ver = sub.add_parser("verify", help="check claims and write DIR/results.json")
    ver.add_argument("ids", nargs="*", help="theorem ids, family prefixes or theorem::claim (default: all)")
    ver.add_argument("--budget", choices=("quick", "default", "thorough"), default="default")
    ver.add_argument("--backend", choices=("auto", "numpy", "numba", "cupy"), default="auto")
    ver.add_argument("--seed", type=int, default=0)
    ver.add_argument("--out", default="thmcheck-out", help="output folder (default: thmcheck-out)")
    ver.add_argument("--quiet", action="store_true", help="no progress display (also when output is not a terminal)")
    ver.add_argument("--markdown", action="store_true", help="also write DIR/report.md (a Markdown summary)")
    rpt = sub.add_parser("report", help="render a saved results.json as HTML (and/or Markdown)")
    rpt.add_argument("results", help="path to results.json")
    rpt.add_argument("--html", help="output HTML file (default: report.html next to the results file)")
    rpt.add_argument("--markdown", help="output Markdown file ('-' for standard output)")
    rep = sub.add_parser("replay", help="replay the counterexamples stored in a results file")
    rep.add_argument("results", help="path to results.json")
    rep.add_argument("claim", nargs="?", help="only this theorem::claim")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console()
    if not console.is_terminal:
        # Logs (CI, redirected output) are read later in a wide viewer: do not wrap at 80 columns.
        console = Console(width=200)
    handler = {"list": _cmd_list, "show": _cmd_show, "verify": _cmd_verify, "replay": _cmd_replay,
               "report": _cmd_report}[args.command]
    return handler(args, console)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
