"""Running a selection of theorems on Dask (``dask.distributed``): every core of this machine, or a
cluster of several.

The run is one task graph, built here and scheduled by Dask:

* per theorem, its **symbolic stage** (derivations, satisfiability of the assumptions);
* per experiment (claims sharing their hypotheses), its **search parts**
  (:func:`numeric.engine.split.part_names`: slices of the random bulk phase and the Hypothesis
  phase, each seeded from (seed, experiment, slice) exactly as the uncut search would be), then a
  **finish** task that merges them in order, polishes and confirms; probability and scaling
  experiments are one task each;
* per theorem, a **records** task that turns the outcomes into claim records; it also waits for the
  records of the theorems it depends on (``depends_on``).

Workers rebuild the registry themselves (installed plugins through their entry points, spec files
from their text, spec modules by name), so no compiled SymPy object ever crosses the network; each
worker compiles a theorem once and keeps it.  The parts are a function of the budget alone, and the
records are put together in the registry's order, so the result is the same JSON as a serial run
(timings aside) whatever the number of workers.

Faults.  A worker that dies (killed, out of memory) loses its running task; Dask runs it again on
another worker, and since tasks are pure nothing changes.  A task that keeps killing its workers
(Dask gives up after ``distributed.scheduler.allowed-failures`` deaths) becomes ``error`` records
naming the claims, the phase and the workers' memory limit.  If the scheduler itself goes away, the
theorems finished so far are returned in a run record marked ``incomplete="scheduler lost"`` that
lists the claims not run.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from reports.records import ClaimRecord

from .pipeline import (
    CompiledTheorem,
    SymbolicStage,
    claim_records,
    compile_theorem,
    error_records,
    experiment_oracle,
    experiment_plan,
    symbolic_stage,
)
from .registry import Registry, load_registry
from .resources import usable_cores
from .spec import Theorem

__all__ = ["SpecSources", "TaskContext", "TaskFailure", "DaskRun", "spec_sources", "run_distributed", "SCHEDULER_LOST"]

#: ``RunRecord.incomplete`` of a run whose scheduler went away before the end.
SCHEDULER_LOST = "scheduler lost"


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


# ---------------------------------------------------------------------------------------------------
# Worker side
# ---------------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------------
# Client side
# ---------------------------------------------------------------------------------------------------


@dataclass
class _Submitted:
    """The futures of one theorem, and what each key stands for (for messages about lost tasks)."""

    records: Any
    what: dict[str, str] = field(default_factory=dict)  # task key -> "claims a, b (phase)"


# Priorities (Dask runs the highest ready priority first; they order the work, never its results).
# The long sequential pieces of every theorem (symbolic stages, Hypothesis phases, probability and
# scaling searches) go before any bulk slice, whatever theorem they belong to: started late, one of
# them would be the run's tail while the other workers idle.  The bulk slices, which are short and
# many, fill the gaps.  Merging and records go as soon as they can, so results are saved early.
# Among equals, the selection's order: lemmas before what rests on them.
_PHASE = {"bulk": 0, "symbolic": 1, "long": 1, "finish": 2, "records": 3}
_PHASE_STRIDE = 1_000_000  # more than any selection's length


def _submit(client: Any, ctx: TaskContext, registry: Registry, thm: Theorem, token: str,
            submitted: dict[str, _Submitted], prior: dict[str, list[ClaimRecord]], rank: int) -> _Submitted:
    import numeric
    from numeric.engine.split import HYPOTHESIS_PART, SEEDS_PART, part_names

    what: dict[str, str] = {}
    tid = thm.id

    def key(kind: str) -> str:
        return f"thmcheck-{token}-{tid}-{kind}"

    def prio(phase: str) -> int:
        return _PHASE_STRIDE * _PHASE[phase] + rank

    k = key("symbolic")
    what[k] = f"{tid}::{', '.join(c.name for c in thm.claims)} (symbolic stage)"
    sym = client.submit(task_symbolic, ctx, tid, key=k, pure=False, priority=prio("symbolic"))
    experiments = []
    oracles = []
    for index, (names, statistical) in enumerate(experiment_plan(thm)):
        claims = ", ".join(names)
        if statistical:
            k = key(f"{index}-oracle")
            what[k] = f"{tid}::{claims} (exact oracle)"
            oracles.append(client.submit(task_oracle, ctx, tid, index, key=k, pure=False, priority=prio("long")))
            k = key(f"{index}-statistical")
            what[k] = f"{tid}::{claims} (probability/scaling search)"
            experiments.append(client.submit(task_statistical, ctx, tid, index, key=k, pure=False,
                                             priority=prio("long")))
            continue
        k = key(f"{index}-oracle")
        what[k] = f"{tid}::{claims} (exact oracle)"
        oracle = client.submit(task_oracle, ctx, tid, index, key=k, pure=False, priority=prio("long"))
        oracles.append(oracle)
        parts = []
        for part in part_names(numeric.budget(ctx.budget)):
            k = key(f"{index}-{part}")
            what[k] = f"{tid}::{claims} (search part {part})"
            # The seed and Hypothesis parts need the oracle's seed batches (the latter their count).
            needs = (oracle,) if part in (SEEDS_PART, HYPOTHESIS_PART) else ()
            parts.append(client.submit(task_part, ctx, tid, index, part, *needs, key=k, pure=False,
                                       priority=prio("long" if part == HYPOTHESIS_PART else "bulk")))
        k = key(f"{index}-finish")
        what[k] = f"{tid}::{claims} (polishing and confirmation)"
        experiments.append(client.submit(task_finish, ctx, tid, index, *parts, key=k, pure=False,
                                         priority=prio("finish")))
    # Lemma records: futures of the lemmas in this run, values of those taken from an earlier run.
    lemmas = [(dep, submitted[dep].records if dep in submitted else prior[dep])
              for dep in thm.depends_on if dep in submitted or dep in prior]
    k = key("records")
    what[k] = f"{tid}::{', '.join(c.name for c in thm.claims)} (records)"
    rec = client.submit(task_records, ctx, tid, registry.replay_source(tid), sym, experiments, oracles, lemmas,
                        key=k, pure=False, priority=prio("records"))
    return _Submitted(rec, what)


def _is_connection_loss(exc: BaseException) -> bool:
    from concurrent.futures import CancelledError

    from distributed.comm.core import CommClosedError

    return isinstance(exc, (CancelledError, CommClosedError, OSError, TimeoutError))


def _lost_message(exc: Any, submitted: dict[str, _Submitted], memory: str) -> str:
    key = str(getattr(exc, "task", "") or (exc.args[0] if exc.args else ""))
    task = next((w[key] for s in submitted.values() for w in [s.what] if key in w), key or "a task")
    return (f"the worker running {task} died each time it was tried (killed, or over its memory limit {memory}); "
            "fewer workers give each more memory")


def _memory_limit(client: Any) -> str:
    try:
        limits = {w.get("memory_limit", 0) for w in client.scheduler_info()["workers"].values()}
    except Exception:  # noqa: BLE001 - only for a message
        return "unknown"
    if not limits or 0 in limits:
        return "none"
    return " / ".join(f"{x / 2**30:.1f} GiB" for x in sorted(limits))


@dataclass(frozen=True)
class DaskRun:
    """What :func:`run_distributed` got back: the records per theorem id (those finished), why the
    run stopped early ("" when it did not), and how many workers it ran on."""

    done: dict[str, list[ClaimRecord]]
    incomplete: str
    workers: int


def run_distributed(
    registry: Registry,
    theorems: list[Theorem],
    *,
    budget: str,
    seed: int,
    backend: str,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[str], None] | None = None,
    on_theorem: Callable[[dict[str, list[ClaimRecord]], int], None] | None = None,
    stop: Callable[[], None] | None = None,
    prior: dict[str, list[ClaimRecord]] | None = None,
) -> DaskRun:
    """Check ``theorems`` (lemmas before what rests on them) on Dask.

    ``scheduler``: the address of a running Dask scheduler (``tcp://host:8786``) whose workers run
    the tasks; without it a local cluster of ``workers`` processes (default: one per core) is
    started and stopped here.  ``backend`` must already be resolved (``kernels.backend.check_request``).
    ``on_theorem`` is called with the records so far (and the number of workers) each time a theorem
    is done; :func:`theorems.runner.run` puts them in order into run records.  ``stop`` is called
    while waiting; when it raises :class:`~theorems.interrupt.Interrupted` the tasks are cancelled
    and the run returns what is done, marked with the interruption.  ``prior``: records of theorems
    done in an earlier, interrupted run; they are not run again.
    """
    from distributed import Client, KilledWorker, LocalCluster, wait

    from .interrupt import Interrupted

    prior = prior or {}
    done: dict[str, list[ClaimRecord]] = {t.id: prior[t.id] for t in theorems if t.id in prior}
    for tid in done:
        if progress:
            progress(f"{tid}: done")
    incomplete = ""
    with contextlib.ExitStack() as stack:
        stack.enter_context(_quiet_client_logs())
        if scheduler:
            client = stack.enter_context(Client(scheduler))
        else:
            cluster = stack.enter_context(LocalCluster(n_workers=int(workers or usable_cores()), threads_per_worker=1,
                                                       processes=True, dashboard_address=None,
                                                       silence_logs=logging.ERROR))
            client = stack.enter_context(Client(cluster))
        per_host: dict[str, int] = {}
        for addr in client.scheduler_info()["workers"]:
            host = addr.rsplit(":", 1)[0].split("://")[-1]
            per_host[host] = per_host.get(host, 0) + 1
        n_workers = sum(per_host.values())
        ctx = TaskContext(spec_sources(registry, theorems), budget, int(seed), backend, per_host)
        token = f"{os.getpid()}-{time.time_ns()}"
        submitted: dict[str, _Submitted] = {}
        for i, thm in enumerate(theorems):
            if thm.id not in done:
                submitted[thm.id] = _submit(client, ctx, registry, thm, token, submitted, done, len(theorems) - i)
        memory = _memory_limit(client)
        by_future = {s.records: next(t for t in theorems if t.id == tid) for tid, s in submitted.items()}
        pending = set(by_future)
        try:
            while pending and not incomplete:
                if stop:
                    stop()
                try:
                    finished, still = wait(list(pending), timeout=0.5, return_when="FIRST_COMPLETED")
                except TimeoutError:
                    continue
                except Exception as exc:  # noqa: BLE001 - only a lost connection gets here
                    if not _is_connection_loss(exc):
                        raise
                    incomplete = SCHEDULER_LOST
                    break
                pending = set(still)
                for fut in sorted(finished, key=lambda f: [t.id for t in theorems].index(by_future[f].id)):
                    thm = by_future[fut]
                    try:
                        done[thm.id] = fut.result()
                    except KilledWorker as exc:
                        done[thm.id] = error_records(thm, _lost_message(exc, submitted, memory), seed=seed,
                                                     budget=budget, backend=backend)
                    except Exception as exc:  # noqa: BLE001 - the scheduler or the connection to it
                        if _is_connection_loss(exc) or client.status != "running":
                            incomplete = SCHEDULER_LOST
                            break
                        tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
                        done[thm.id] = error_records(thm, f"the run raised {tb}", seed=seed, budget=budget,
                                                     backend=backend)
                    if progress:
                        progress(f"{thm.id}: searching {', '.join(c.name for c in thm.claims)}")
                        progress(f"{thm.id}: done")
                    if on_theorem:
                        on_theorem(dict(done), n_workers)
        except Interrupted as exc:
            incomplete = str(exc)
            with contextlib.suppress(Exception):
                client.cancel(list(pending))
        if incomplete == SCHEDULER_LOST:
            with contextlib.suppress(Exception):
                client.close(timeout=2)
    return DaskRun(done, incomplete, n_workers)


@contextlib.contextmanager
def _quiet_client_logs() -> Iterator[None]:
    """A lost scheduler is reported in the run record; the client's own reconnection tracebacks
    would only bury that under noise."""
    loggers = [logging.getLogger(name) for name in ("distributed.client", "distributed.worker", "distributed.nanny")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)
