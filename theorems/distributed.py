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
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from reports.records import ClaimRecord

from .dask_tasks import (
    SpecSources,
    TaskContext,
    TaskFailure,
    spec_sources,
    task_finish,
    task_oracle,
    task_part,
    task_records,
    task_statistical,
    task_symbolic,
)
from .pipeline import error_records, experiment_plan
from .registry import Registry
from .resources import usable_cores
from .spec import Theorem

__all__ = ["SpecSources", "TaskContext", "TaskFailure", "DaskRun", "spec_sources", "run_distributed", "SCHEDULER_LOST"]

#: ``RunRecord.incomplete`` of a run whose scheduler went away before the end.
SCHEDULER_LOST = "scheduler lost"


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
