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
from reports.records import ClaimRecord, RunRecord

from .pipeline import error_records, run_theorem, theorem_summary
from .registry import Registry
from .spec import Theorem

__all__ = ["run", "versions", "error_records", "make_record", "write_outputs"]


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
    workers: int = 1,
    scheduler: str | None = None,
) -> RunRecord:
    """Check ``theorems`` (in the order given) and return the run record.

    ``backend`` is validated once here (``kernels.backend.check_request``): an explicitly requested
    backend that cannot run raises ``kernels.BackendUnavailable`` before anything runs; "auto" is
    resolved per kernel operation, and each record names the backend that actually ran.

    ``workers`` > 1 runs on a local Dask cluster of that many processes, ``scheduler`` (an address)
    on an existing Dask cluster (:mod:`theorems.distributed`); the records are the same as with
    ``workers=1``, which runs everything here, in this process.
    """
    resolved = kernels.backend.check_request(backend)
    if scheduler or workers > 1:
        return _run_on_dask(registry, list(theorems), budget=budget, seed=seed, backend=resolved, only=only or {},
                            progress=progress, on_theorem=on_theorem, workers=workers, scheduler=scheduler)
    spec = numeric.budget(budget)
    only = only or {}
    done: dict[str, list[ClaimRecord]] = {}
    claims: list[ClaimRecord] = []
    summaries = []
    t0 = time.perf_counter()
    for thm in theorems:
        summaries.append(theorem_summary(thm))
        try:
            recs = run_theorem(thm, budget=spec, seed=seed, backend=resolved, lookup=registry.lookup,
                               lemma_records=done, progress=progress, source=registry.replay_source(thm.id))
        except Exception as exc:
            tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
            recs = error_records(thm, f"the run raised {tb}", seed=seed, budget=budget, backend=resolved)
        done[thm.id] = recs
        wanted = only.get(thm.id)
        claims.extend(r for r in recs if not wanted or r.claim in wanted)
        if progress:
            progress(f"{thm.id}: done")
        if on_theorem:
            on_theorem(_record(claims, summaries, registry, seed, budget, resolved, t0))
    return _record(claims, summaries, registry, seed, budget, resolved, t0)


def _run_on_dask(registry: Registry, theorems: list[Theorem], *, budget: str, seed: int, backend: str,
                 only: dict[str, set[str]], progress: Callable[[str], None] | None,
                 on_theorem: Callable[[RunRecord], None] | None, workers: int, scheduler: str | None) -> RunRecord:
    """:func:`run` on Dask: the theorems' records (finished in any order) are put together in the
    selection's order; a run that lost its scheduler is marked incomplete, naming the claims not run."""
    from .distributed import run_distributed

    numeric.budget(budget)  # an unknown budget is a usage error before any cluster starts
    t0 = time.perf_counter()
    summaries = {t.id: theorem_summary(t) for t in theorems}

    def assemble(done: dict[str, list[ClaimRecord]], workers: int, incomplete: str = "") -> RunRecord:
        claims: list[ClaimRecord] = []
        not_run: list[str] = []
        for thm in theorems:
            wanted = only.get(thm.id)
            if thm.id in done:
                claims.extend(r for r in done[thm.id] if not wanted or r.claim in wanted)
            else:
                not_run.extend(f"{thm.id}::{c.name}" for c in thm.claims if not wanted or c.name in wanted)
        rec = make_record(claims, [summaries[t.id] for t in theorems if t.id in done],
                          [p.as_dict() for p in registry.problems], seed=seed, budget=budget, backend=backend,
                          total_s=time.perf_counter() - t0, incomplete=incomplete, not_run=not_run if incomplete else ())
        return replace(rec, timings={**rec.timings, "workers": float(workers)})

    def finished(done: dict[str, list[ClaimRecord]], workers: int) -> None:
        if on_theorem:
            on_theorem(assemble(done, workers))

    result = run_distributed(registry, theorems, budget=budget, seed=seed, backend=backend, workers=workers,
                             scheduler=scheduler, progress=progress, on_theorem=finished)
    return assemble(result.done, result.workers, result.incomplete)


def _record(claims, summaries, registry, seed, budget, backend, t0) -> RunRecord:
    return make_record(claims, summaries, [p.as_dict() for p in registry.problems], seed=seed, budget=budget,
                       backend=backend, total_s=time.perf_counter() - t0)


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
