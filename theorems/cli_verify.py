"""``thmcheck verify``: select, guard, run (serially or on Dask workers), write and summarise.

Split from :mod:`theorems.cli` so that the command-line module stays one job per file: this one
owns the verify command's flow (resume, resource and output checks, progress, exit status).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from .cli_common import say as _say
from .cli_common import select as _select

__all__ = ["cmd_verify", "plain_progress"]


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


def cmd_verify(args: argparse.Namespace, console: Console) -> int:
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
