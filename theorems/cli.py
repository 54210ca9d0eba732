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

__all__ = ["main"]


def _registry(extra_modules: Sequence[str] = (), extra_files: Sequence[str] = ()):
    from .registry import load_registry

    return load_registry(extra_modules=extra_modules, extra_files=extra_files)


def _spec_module(name: str) -> str | None:
    """``name`` if it imports as a module with a ``THEOREMS`` attribute; None if there is no such
    module (or it has no ``THEOREMS``).  A module that exists but fails to import raises."""
    import importlib

    if not name or not all(part.isidentifier() for part in name.split(".")):
        return None
    try:
        mod = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
            return None  # no such module (or package): an unknown id, reported as such
        raise
    return name if hasattr(mod, "THEOREMS") else None


def _select(ids: Sequence[str], console: Console):
    """The registry and the selection for command-line ``ids``, which may name spec files
    (``path.py``) and spec modules (``pkg.module``) as well as ids, family prefixes and
    ``theorem::claim``.  The theorems of the files and modules are added to the installed ones;
    only they (or, when ids are given too, those ids) are selected.  Returns ``(registry,
    theorems, only)``, or an exit code after printing why (a source that does not load, an id that
    is refused or matches nothing)."""
    from rich.text import Text

    from .registry import load_error

    def refuse(line: str) -> int:
        console.print(Text(line, style="red"), soft_wrap=True)
        return 2

    files = [a for a in ids if a.endswith(".py") and Path(a).is_file()]
    rest = [a for a in ids if a not in files]
    reg = _registry(extra_files=files) if files else _registry()
    modules: list[str] = []
    for raw in rest:
        name = raw.partition("::")[0]
        if any(t == name or t.startswith(name + ".") for t in reg.order):
            continue
        try:
            if _spec_module(name):
                modules.append(name)
        except Exception as exc:
            import importlib.util

            try:
                origin = getattr(importlib.util.find_spec(name), "origin", None)
            except Exception:  # its package does not import either
                origin = None
            return refuse(f"problem: {name}: import: {load_error(exc, origin)}")
    if modules:
        reg = _registry(extra_modules=modules, extra_files=files)
    sources = [*files, *modules]
    bad = [p for p in reg.problems if p.source in sources]
    if bad:
        for p in bad:
            console.print(Text(f"problem: {p}", style="red"), soft_wrap=True)
        return 2
    wanted = [a for a in rest if a not in modules]
    if sources and not wanted:
        for src in sources:
            file = str(Path(sys.modules[src].__file__ or "").resolve()) if src in modules else str(Path(src).resolve())
            declared = [t for t in reg.order if reg.files.get(t) == file]
            if not declared:
                for p in reg.problems:
                    console.print(Text(f"problem: {p}", style="red"), soft_wrap=True)
                return refuse(f"{src}: no valid theorem to check")
            wanted += declared
    try:
        theorems, only = reg.select(wanted)
    except KeyError as exc:
        return refuse(exc.args[0])
    return reg, theorems, only


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


def _workers(given: int | None) -> int:
    """Worker processes for ``verify``: ``--workers``, else ``THMCHECK_WORKERS``, else one per core."""
    import os

    if given is None:
        env = os.environ.get("THMCHECK_WORKERS", "").strip()
        if not env:
            from .resources import usable_cores

            return usable_cores()
        try:
            given = int(env)
        except ValueError:
            raise ValueError(f"THMCHECK_WORKERS must be a positive integer, got {env!r}") from None
    if given < 1:
        raise ValueError(f"must be a positive integer, got {given}")
    return given


def _say(console: Console, text: str, style: str | None = None) -> None:
    """Print ``text`` verbatim: paths and spec text may hold ``[`` that is not rich markup."""
    console.print(text, style=style, markup=False, highlight=False, soft_wrap=True)


def _cmd_verify(args: argparse.Namespace, console: Console) -> int:
    import kernels
    from reports.records import RecordError, dump_run
    from reports.terminal import render_run

    from .interrupt import SignalGuard, exit_code
    from .outputs import EXIT_OK, EXIT_UNEXPECTED, EXIT_USAGE, folder_problem, write_run_files
    from .runner import run, write_outputs

    prior = None
    if args.resume:
        from .resume import plan_resume

        picked_plan = _resume_inputs(args, console)
        if isinstance(picked_plan, int):
            return picked_plan
        reg, partial = picked_plan
        try:
            plan = plan_resume(partial, reg, Path(args.resume) / "results.json")
        except RecordError as exc:
            _say(console, str(exc), "red")
            return EXIT_USAGE
        theorems, only, prior = plan.theorems, plan.only, plan.prior
        args.seed, args.budget, args.backend, args.out = partial.seed, partial.budget, partial.backend, args.resume
        _say(console, f"resuming {Path(args.resume) / 'results.json'}: {len(partial.claims)} claims kept, "
                      f"{len(partial.not_run)} to run (seed {partial.seed}, budget {partial.budget}, "
                      f"backend {partial.backend})")
    else:
        picked = _select(args.ids, console)
        if isinstance(picked, int):
            return picked
        reg, theorems, only = picked
    try:
        kernels.backend.check_request(args.backend)
    except (kernels.BackendUnavailable, ValueError) as exc:
        # The message is printed verbatim: "[gpu]" in an install hint is not rich markup.
        _say(console, f"backend error: {exc}", "red")
        return EXIT_USAGE
    too_big = _resource_problems(theorems, args.budget)
    if too_big:
        for line in too_big:
            _say(console, f"problem: {line}", "red")
        return EXIT_USAGE
    out = Path(args.out)
    problem = folder_problem(out)
    if problem:
        _say(console, f"--out {out}: {problem}", "red")
        return EXIT_USAGE
    results = out / "results.json"
    quiet = args.quiet or not console.is_terminal
    save_failed: list[str] = []

    def save(partial) -> None:
        # A results file that cannot be saved mid-run is no reason to stop: the run's end writes
        # everything again, to a fallback folder if need be.
        try:
            dump_run(partial, results)
        except OSError as exc:
            if not save_failed:
                save_failed.append(str(exc))
                _say(console, f"warning: cannot save {results} during the run ({exc.strerror or exc}); "
                              "the results are kept in memory and written at the end", "yellow")

    try:
        workers = _workers(args.workers)
    except ValueError as exc:
        _say(console, f"--workers: {exc}", "red")
        return EXIT_USAGE
    common = dict(budget=args.budget, seed=args.seed, backend=args.backend, only=only, on_theorem=save, prior=prior,
                  workers=workers, scheduler=args.scheduler)
    with SignalGuard() as guard:
        if args.quiet:
            record = run(reg, theorems, stop=guard.check, **common)
        elif quiet:  # not a terminal (a CI log, a pipe): plain lines instead of a live bar
            record = run(reg, theorems, stop=guard.check, progress=plain_progress(console, theorems, only), **common)
        else:
            record = _run_with_bar(console, reg, theorems, only, guard, common)
    render_run(record, console, counterexamples=out / "counterexamples")
    saved = write_run_files(record, out, lambda r, o: write_outputs(r, o, markdown=args.markdown))
    if saved.fell_back:
        _say(console, saved.fallback_note, "red")
    paths = saved.paths
    _say(console, f"results written to {paths['results']}")
    for path in paths["counterexamples"]:
        _say(console, f"counterexample written to {path}")
    _say(console, f"report written to {paths['report']}")
    if paths["markdown"]:
        _say(console, f"markdown summary written to {paths['markdown']}")
    if not record.complete:
        folder = paths["results"].parent
        _say(console, f"{record.incomplete}: {len(record.not_run)} claim(s) not run; partial results in "
                      f"{paths['results']}; finish with: thmcheck verify --resume {folder}", "yellow")
        return exit_code(guard.received) if guard.received else EXIT_USAGE
    if saved.fell_back or record.problems:
        return EXIT_USAGE
    return EXIT_UNEXPECTED if record.unexpected else EXIT_OK


def _resource_problems(theorems, budget: str) -> list[str]:
    """One line per selected theorem whose search at ``budget`` cannot fit in memory."""
    from .resources import resource_problems

    return resource_problems(theorems, budget)


def plain_progress(console: Console, theorems, only):
    """Progress as plain lines, one per theorem started and finished (``thmcheck: [3/12]
    descent.footnote_3: searching descent``), for output that is not a terminal."""
    from rich.text import Text

    state = {"n": 0}

    def progress(msg: str) -> None:
        tid, _, what = msg.partition(": ")
        if what == "done":
            state["n"] += 1
        text = f"thmcheck: [{min(state['n'] + (what != 'done'), len(theorems))}/{len(theorems)}] {msg}"
        console.print(Text(text), soft_wrap=True)  # spec text: never markup
        console.file.flush()

    return progress


def _run_with_bar(console: Console, reg, theorems, only, guard, common):
    """The run with a progress bar over the claims."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from .runner import run

    # One bar over the claims (a theorem's claims are searched in experiments that share runs),
    # its description naming the theorem and the claims being searched now.
    total = sum(len(only.get(t.id) or t.claims) for t in theorems)
    with Progress(SpinnerColumn(), BarColumn(), MofNCompleteColumn(), TextColumn("claims"),
                  TimeElapsedColumn(), TextColumn("{task.description}", markup=False), console=console,
                  transient=True) as bar:
        task = bar.add_task("starting", total=total)
        state = {"pending": 0, "theorem": 0}

        def progress(msg: str) -> None:
            tid, _, what = msg.partition(": ")
            wanted = only.get(tid)
            if what.startswith("searching "):
                names = [n.strip() for n in what[len("searching "):].split(",")]
                bar.advance(task, state["pending"])
                state["pending"] = sum(1 for n in names if not wanted or n in wanted)
            elif what == "done":
                bar.advance(task, state["pending"])
                state["pending"] = 0
                state["theorem"] += 1
            bar.update(task, description=f"theorem {min(state['theorem'] + 1, len(theorems))}/{len(theorems)} {msg}")
            bar.refresh()

        return run(reg, theorems, progress=progress, stop=guard.check, **common)


def _resume_inputs(args: argparse.Namespace, console: Console):
    """For ``--resume DIR``: the registry (with the partial run's own spec files and modules) and
    the partial run, or an exit code after one line saying why not."""
    from reports.records import RecordError, load_run

    from .registry import load_registry
    from .resume import spec_sources

    if args.ids:
        _say(console, "--resume takes no ids: it runs what the partial run lists as not run", "red")
        return 2
    path = Path(args.resume) / "results.json"
    try:
        partial = load_run(path)
    except RecordError as exc:
        _say(console, str(exc), "red")
        return 2
    modules, files = spec_sources(partial)
    gone = [f for f in files if not Path(f).is_file()]
    if gone:
        _say(console, f"{path}: cannot resume: spec file {gone[0]} is gone", "red")
        return 2
    return load_registry(extra_modules=modules, extra_files=files), partial


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
    reg = _registry(extra_modules=[x for x in specs if not x.endswith(".py")],
                    extra_files=[x for x in specs if x.endswith(".py")]) if specs else _registry()
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
