"""Run a selection of theorems into a :class:`~reports.records.RunRecord`.

Each theorem runs in isolation: an exception in one (a broken spec that slipped past validation, a
kernel failure) becomes ``error`` records for its claims, and the others still run.  After every
theorem the partial run can be handed to a callback, so a crash never loses finished work.
"""

from __future__ import annotations

import platform
import time
import traceback
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterable

import kernels
import numeric
from numeric.engine.stop import stop_checks
from reports.records import ClaimRecord, RunRecord

from .interrupt import Interrupted
from .pipeline import error_records, run_theorem, theorem_summary
from .registry import Registry
from .spec import Theorem

# Why a results file saved during a run is incomplete, until the run's end overwrites it.
UNFINISHED = "the run had not finished when this file was saved"

__all__ = ["UNFINISHED", "run", "versions", "error_records", "make_record", "write_outputs"]


def versions() -> dict[str, str]:
    """Versions of what produced the numbers (recorded, compared by nobody)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("thmcheck", "numpy", "numba", "sympy", "hypothesis", "z3-solver"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def run(
    registry: Registry,
    theorems: Iterable[Theorem],
    *,
    budget: str,
    seed: int,
    backend: str,
    only: dict[str, set[str]] | None = None,
    progress: Callable[[str], None] | None = None,
    on_theorem: Callable[[RunRecord], None] | None = None,
    stop: Callable[[], None] | None = None,
    prior: dict[str, list[ClaimRecord]] | None = None,
    workers: int = 1,
    scheduler: str | None = None,
) -> RunRecord:
    """Check ``theorems`` (in the order given) and return the run record.

    ``stop`` is called at safe points (before each theorem and between its experiments); when it
    raises :class:`~theorems.interrupt.Interrupted` the run ends there and the record returned is
    marked incomplete, listing the claims not run (a theorem cut short counts as not run).
    ``prior`` holds records of a partial run being resumed (theorem id -> records): those theorems
    are not run again, their records are used as they are.

    ``backend`` is validated once here (``kernels.backend.check_request``): an explicitly requested
    backend that cannot run raises ``kernels.BackendUnavailable`` before anything runs; "auto" is
    resolved per kernel operation, and each record names the backend that actually ran.

    ``workers`` > 1 runs on a local Dask cluster of that many processes, ``scheduler`` (an address)
    on an existing Dask cluster (:mod:`theorems.distributed`); the records are the same as with
    ``workers=1``, which runs everything here, in this process.
    """
    resolved = kernels.backend.check_request(backend)
    spec = numeric.budget(budget)
    only = only or {}
    if scheduler or workers > 1:
        return _run_on_dask(registry, list(theorems), budget=budget, seed=seed, backend=resolved, only=only,
                            progress=progress, on_theorem=on_theorem, stop=stop, prior=prior or {},
                            workers=workers, scheduler=scheduler)
    done: dict[str, list[ClaimRecord]] = {}
    claims: list[ClaimRecord] = []
    summaries = []
    t0 = time.perf_counter()
    theorems = list(theorems)
    prior = prior or {}
    for k, thm in enumerate(theorems):
        try:
            if stop:
                stop()
            if thm.id in prior:
                recs = prior[thm.id]
            else:
                recs = _run_one(thm, registry, spec, seed, resolved, done, progress, stop)
        except Interrupted as exc:
            missing = [f"{t.id}::{c.name}" for t in theorems[k:] for c in t.claims
                       if not only.get(t.id) or c.name in only[t.id]]
            return _record(claims, summaries, registry, seed, budget, resolved, t0, str(exc), missing)
        summaries.append({**theorem_summary(thm), "provided_by": registry.providers.get(thm.id, {})})
        done[thm.id] = recs
        wanted = only.get(thm.id)
        claims.extend(r for r in recs if not wanted or r.claim in wanted)
        if progress:
            progress(f"{thm.id}: done")
        if on_theorem:
            # Saved while the run goes on, so marked as unfinished: a process killed outright
            # (SIGKILL, out of memory) leaves a file that says what it lacks and can be resumed.
            rest = [f"{t.id}::{c.name}" for t in theorems[k + 1:] for c in t.claims
                    if not only.get(t.id) or c.name in only[t.id]]
            on_theorem(_record(claims, summaries, registry, seed, budget, resolved, t0,
                               UNFINISHED if rest else "", rest))
    return _record(claims, summaries, registry, seed, budget, resolved, t0)


def _run_one(thm: Theorem, registry: Registry, spec: Any, seed: int, backend: str,
             done: dict[str, list[ClaimRecord]], progress: Callable[[str], None] | None,
             stop: Callable[[], None] | None) -> list[ClaimRecord]:
    """One theorem's records; an exception becomes ``error`` records (an interrupt propagates)."""
    def report(msg: str) -> None:
        # Between a theorem's experiments is a safe point to stop at: nothing is half-recorded.
        if stop:
            stop()
        if progress:
            progress(msg)

    try:
        # Inside an experiment, the engine asks too, before every batch and kernel chunk
        # (numeric.engine.stop): a long search stops within a batch of the signal.
        with stop_checks(stop):
            return run_theorem(thm, budget=spec, seed=seed, backend=backend, lookup=registry.lookup,
                               lemma_records=done, progress=report, source=registry.replay_source(thm.id))
    except Exception as exc:
        tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return error_records(thm, f"the run raised {tb}", seed=seed, budget=spec.name, backend=backend)


def _run_on_dask(registry: Registry, theorems: list[Theorem], *, budget: str, seed: int, backend: str,
                 only: dict[str, set[str]], progress: Callable[[str], None] | None,
                 on_theorem: Callable[[RunRecord], None] | None, stop: Callable[[], None] | None,
                 prior: dict[str, list[ClaimRecord]], workers: int, scheduler: str | None) -> RunRecord:
    """:func:`run` on Dask: the theorems' records (finished in any order) are put together in the
    selection's order; a run stopped early (a signal, the scheduler lost) is marked incomplete,
    naming the claims not run."""
    from .distributed import run_distributed

    t0 = time.perf_counter()
    summaries_of: dict[str, dict[str, Any]] = {}  # each theorem's summary is made once (LaTeX is not free)

    def summary(thm: Theorem) -> dict[str, Any]:
        if thm.id not in summaries_of:
            summaries_of[thm.id] = {**theorem_summary(thm), "provided_by": registry.providers.get(thm.id, {})}
        return summaries_of[thm.id]

    def assemble(done: dict[str, list[ClaimRecord]], workers: int, incomplete: str = "") -> RunRecord:
        claims: list[ClaimRecord] = []
        summaries = []
        not_run: list[str] = []
        for thm in theorems:
            wanted = only.get(thm.id)
            if thm.id in done:
                claims.extend(r for r in done[thm.id] if not wanted or r.claim in wanted)
                summaries.append(summary(thm))
            else:
                not_run.extend(f"{thm.id}::{c.name}" for c in thm.claims if not wanted or c.name in wanted)
        if not_run and not incomplete:
            incomplete = UNFINISHED
        rec = _record(claims, summaries, registry, seed, budget, backend, t0, incomplete, not_run if incomplete else ())
        return replace(rec, timings={**rec.timings, "workers": float(workers)})

    def finished(done: dict[str, list[ClaimRecord]], workers: int) -> None:
        if on_theorem:
            on_theorem(assemble(done, workers))

    result = run_distributed(registry, theorems, budget=budget, seed=seed, backend=backend, workers=workers,
                             scheduler=scheduler, progress=progress, on_theorem=finished, stop=stop, prior=prior)
    return assemble(result.done, result.workers, result.incomplete)


def _record(claims, summaries, registry, seed, budget, backend, t0, incomplete="", not_run=()) -> RunRecord:
    return make_record(claims, summaries, [p.as_dict() for p in registry.problems], seed=seed, budget=budget,
                       backend=backend, total_s=time.perf_counter() - t0, incomplete=incomplete, not_run=not_run)


def make_record(claims: Iterable[ClaimRecord], summaries: Iterable[dict[str, Any]], problems: Iterable[dict[str, str]],
                *, seed: int, budget: str, backend: str, total_s: float,
                incomplete: str = "", not_run: Iterable[str] = ()) -> RunRecord:
    """The run record of ``claims`` (in run order) and the summaries of their theorems.

    A run that stopped early passes ``incomplete`` (why, in a few words) and ``not_run`` (the
    ``theorem::claim`` ids it did not get to)."""
    return RunRecord(
        claims=tuple(claims), seed=int(seed), budget=budget, backend=backend,
        theorems=tuple(summaries), problems=tuple(problems),
        versions=versions(), timings={"total_s": round(total_s, 3)},
        incomplete=incomplete, not_run=tuple(not_run),
    )


def write_outputs(record: RunRecord, out: str | Path, *, markdown: bool = False) -> dict[str, Any]:
    """Write a run's files into ``out``: ``results.json``, ``counterexamples/<theorem>__<claim>.json``,
    ``report.html`` and, with ``markdown``, ``report.md``.  Returns their paths by kind
    (``results``, ``counterexamples`` (a list), ``report``, ``markdown`` (None without it))."""
    from reports.counterexamples import write_counterexamples
    from reports.html import write_html
    from reports.records import dump_run

    out = Path(out)
    paths: dict[str, Any] = {"results": dump_run(record, out / "results.json")}
    paths["counterexamples"] = write_counterexamples(record, out / "counterexamples")
    paths["report"] = write_html(record, out / "report.html")
    paths["markdown"] = None
    if markdown:
        from reports.markdown import write_markdown

        paths["markdown"] = write_markdown(record, out / "report.md")
    return paths
