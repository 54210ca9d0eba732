"""The worker side of a Dask run (:mod:`theorems.distributed`): the tasks and what they share.

Each task is a pure function of its arguments and of a :class:`TaskContext` (spec sources, budget,
seed, backend).  A worker rebuilds the registry itself (installed plugins by entry point, spec files
from their text, spec modules by name) and compiles each theorem once, so no compiled SymPy object
crosses the network, and a task re-run on another worker after a fault gives the same value.
A task that raises returns a :class:`TaskFailure` holding the message a serial run would have put in
the theorem's records.
"""

from __future__ import annotations

import contextlib
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from reports.records import ClaimRecord

from .pipeline import (
    CompiledTheorem,
    SymbolicStage,
    claim_records,
    compile_theorem,
    error_records,
    experiment_oracle,
    symbolic_stage,
)
from .registry import Registry, load_registry
from .resources import usable_cores
from .spec import Theorem

__all__ = ["SpecSources", "TaskContext", "TaskFailure", "spec_sources", "task_symbolic", "task_oracle", "task_part",
           "task_statistical", "task_finish", "task_records"]


@dataclass(frozen=True)
class SpecSources:
    """What a worker loads on top of the installed plugins: spec modules by import name, spec
    files as (path, text) -- the path is used where it exists with that text, else the text is
    written to a private folder on the worker."""

    modules: tuple[str, ...] = ()
    files: tuple[tuple[str, str], ...] = ()


def spec_sources(registry: Registry, theorems: list[Theorem]) -> SpecSources:
    """The spec files and modules the selected ``theorems`` (and their lemmas) came from."""
    modules: list[str] = []
    files: list[tuple[str, str]] = []
    for tid in registry.order:
        src = registry.sources.get(tid, "")
        if not src or src.startswith("plugin "):
            continue
        if src.endswith(".py"):
            path = registry.files.get(tid) or str(Path(src).resolve())
            if path not in (f for f, _ in files):
                files.append((path, Path(path).read_text(encoding="utf-8")))
        elif src not in modules:
            modules.append(src)
    return SpecSources(tuple(modules), tuple(files))


@dataclass(frozen=True)
class TaskContext:
    """Everything a task needs besides its own arguments (small; sent with every task)."""

    sources: SpecSources
    budget: str
    seed: int
    backend: str
    workers_per_host: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskFailure:
    """A task that raised: the message a serial run would have put in the theorem's records."""

    message: str


_REGISTRIES: dict[SpecSources, Registry] = {}
_COMPILED: dict[tuple[SpecSources, str], CompiledTheorem] = {}


def _local_file(path: str, text: str) -> str:
    p = Path(path)
    try:
        if p.is_file() and p.read_text(encoding="utf-8") == text:
            return path
    except OSError:
        pass
    import hashlib
    import tempfile

    folder = Path(tempfile.gettempdir()) / f"thmcheck-specs-{hashlib.sha1(text.encode()).hexdigest()[:16]}"
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / p.name
    copy.write_text(text, encoding="utf-8")
    return str(copy)


def _registry(sources: SpecSources) -> Registry:
    if sources not in _REGISTRIES:
        files = [_local_file(path, text) for path, text in sources.files]
        _REGISTRIES[sources] = load_registry(extra_modules=sources.modules, extra_files=files)
    return _REGISTRIES[sources]


def _theorem(ctx: TaskContext, thm_id: str) -> Theorem:
    reg = _registry(ctx.sources)
    if thm_id not in reg.theorems:
        raise KeyError(f"theorem {thm_id!r} does not load on this worker (is thmcheck, and the plugin that declares "
                       f"it, installed there?)")
    return reg.theorems[thm_id]


def _compiled(ctx: TaskContext, thm_id: str) -> CompiledTheorem:
    key = (ctx.sources, thm_id)
    if key not in _COMPILED:
        _COMPILED[key] = compile_theorem(_theorem(ctx, thm_id))
    return _COMPILED[key]


@contextlib.contextmanager
def _worker_env(ctx: TaskContext) -> Iterator[None]:
    """BLAS on one thread (as in a serial run) and numba on this worker's share of the cores."""
    import numba

    from numeric.engine.determinism import single_threaded_blas

    host = ""
    try:
        from distributed import get_worker

        host = get_worker().address.rsplit(":", 1)[0].split("://")[-1]
    except ValueError:  # not inside a worker (called directly)
        pass
    share = max(1, usable_cores() // max(1, ctx.workers_per_host.get(host, 1)))
    numba.set_num_threads(min(share, numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]
    with single_threaded_blas(), warnings.catch_warnings():
        # Hypothesis notices the worker's own threads touching the global `random` state while an
        # example is drawn and warns; the search never reads that state (all its randomness is
        # seeded NumPy generators and Hypothesis's own), so the warning is noise here.
        warnings.filterwarnings("ignore", message="Do not use the `random` module inside strategies")
        yield


def _failure(exc: BaseException) -> TaskFailure:
    tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return TaskFailure(f"the run raised {tb}")


def task_symbolic(ctx: TaskContext, thm_id: str) -> SymbolicStage | TaskFailure:
    """A theorem's symbolic stage."""
    import numeric

    from .resources import check_resources

    try:
        with _worker_env(ctx):
            thm = _theorem(ctx, thm_id)
            check_resources(thm, numeric.budget(ctx.budget))  # as run_theorem does, before any work
            return symbolic_stage(thm, _registry(ctx.sources).lookup)
    except Exception as exc:  # noqa: BLE001 - becomes the theorem's error records, as in a serial run
        return _failure(exc)


def task_oracle(ctx: TaskContext, thm_id: str, index: int) -> Any:
    """The exact oracle of experiment ``index`` (:func:`theorems.pipeline.experiment_oracle`): its
    PEPit records and seed batches, ``({}, [])`` where there is none."""
    try:
        with _worker_env(ctx):
            exp, names = _compiled(ctx, thm_id).experiments[index]
            return experiment_oracle(_theorem(ctx, thm_id), exp, names)
    except Exception as exc:  # noqa: BLE001
        return _failure(exc)


def task_part(ctx: TaskContext, thm_id: str, index: int, part: str, oracle: Any = None) -> Any:
    """One part of the search of experiment ``index`` of a theorem: (SearchPart, seconds).  The
    seed-batch part is given the experiment's oracle result."""
    import numeric
    from numeric.engine.split import run_part

    if isinstance(oracle, TaskFailure):
        return oracle
    try:
        with _worker_env(ctx):
            exp = _compiled(ctx, thm_id).experiments[index][0]
            t0 = time.perf_counter()
            seeds = oracle[1] if oracle is not None else ()
            got = run_part(exp, numeric.budget(ctx.budget), part, seed=ctx.seed, backend=ctx.backend,
                           seed_batches=seeds)
            return got, time.perf_counter() - t0
    except Exception as exc:  # noqa: BLE001
        return _failure(exc)


def task_statistical(ctx: TaskContext, thm_id: str, index: int) -> Any:
    """A probability or scaling experiment, whole: (outcomes, seconds)."""
    import numeric

    try:
        with _worker_env(ctx):
            exp = _compiled(ctx, thm_id).experiments[index][0]
            t0 = time.perf_counter()
            got = numeric.run_experiment(exp, numeric.budget(ctx.budget), seed=ctx.seed, backend=ctx.backend)
            return got, time.perf_counter() - t0
    except Exception as exc:  # noqa: BLE001
        return _failure(exc)


def task_finish(ctx: TaskContext, thm_id: str, index: int, *parts: Any) -> Any:
    """Merge an experiment's parts (in order), polish and confirm: (outcomes, seconds)."""
    import numeric
    from numeric.engine.split import finish_search

    failed = next((p for p in parts if isinstance(p, TaskFailure)), None)
    if failed is not None:
        return failed
    try:
        with _worker_env(ctx):
            exp = _compiled(ctx, thm_id).experiments[index][0]
            t0 = time.perf_counter()
            got = finish_search(exp, numeric.budget(ctx.budget), [p for p, _ in parts], seed=ctx.seed,
                                backend=ctx.backend)
            return got, time.perf_counter() - t0 + sum(s for _, s in parts)
    except Exception as exc:  # noqa: BLE001
        return _failure(exc)


def task_records(ctx: TaskContext, thm_id: str, source: str | None, sym: Any, experiments: list[Any],
                 oracles: list[Any], lemmas: list[tuple[str, list[ClaimRecord]]]) -> list[ClaimRecord]:
    """A theorem's claim records from its stages (error records if one of them failed)."""
    import numeric

    thm = _theorem(ctx, thm_id)
    failed = next((x for x in [sym, *oracles, *experiments] if isinstance(x, TaskFailure)), None)
    if failed is None:
        try:
            with _worker_env(ctx):
                compiled = _compiled(ctx, thm_id)
                outcomes: dict[str, Any] = {}
                seconds: dict[str, float] = {}
                for (_, names), (got, secs) in zip(compiled.experiments, experiments):
                    outcomes.update(got)
                    seconds.update({n: secs for n in names})
                pep: dict[str, Any] = {}
                for records, _ in oracles:
                    pep.update(records)
                return claim_records(thm, compiled, sym, outcomes, seconds, budget=numeric.budget(ctx.budget),
                                     seed=ctx.seed, lemma_records=dict(lemmas), source=source, pep_records=pep)
        except Exception as exc:  # noqa: BLE001
            failed = _failure(exc)
    return error_records(thm, failed.message, seed=ctx.seed, budget=ctx.budget, backend=ctx.backend)
