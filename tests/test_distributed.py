"""The Dask engine: a search cut into parts gives the uncut search's outcomes, a run on workers gives
the serial run's records, and faults (a worker killed, a task that keeps killing its workers, the
scheduler gone) lose nothing silently."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

import numeric
from numeric.engine.polish import polish_search
from numeric.engine.search import Search
from numeric.engine.split import (
    SLICE_ROUNDS,
    bulk_slices,
    finish_search,
    part_names,
    run_part,
    shrink_counterexamples,
)
from reports.records import canonical_json, load_run
from theorems.cli import main
from theorems.pipeline import compile_theorem
from theorems.registry import load_registry

REGISTRY = load_registry()


def _plain(x: Any) -> Any:
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {f.name: _plain(getattr(x, f.name)) for f in dataclasses.fields(x)}
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, np.ndarray):
        return x.tolist()
    return x


def _same(a: Any, b: Any) -> bool:
    # NaN != NaN: compare the JSON text, which spells both the same way.
    return json.dumps(_plain(a), sort_keys=True, default=repr) == json.dumps(_plain(b), sort_keys=True, default=repr)


# --------------------------------------------------------------------------------------------------
# Parts of a search
# --------------------------------------------------------------------------------------------------


def test_bulk_slices_cover_the_rounds_once() -> None:
    b = replace(numeric.budget("quick"), bulk_rounds=2 * SLICE_ROUNDS + 5)
    slices = bulk_slices(b)
    assert [r for a, z in slices for r in range(a, z)] == list(range(b.bulk_rounds))
    assert part_names(b)[-2:] == ["seeds", "hypothesis"] and len(part_names(b)) == len(slices) + 2


@pytest.mark.parametrize("theorem", ["descent.lemma_2_1_4", "schur.without_psd_a", "pep.gd_min_grad_n2"])
def test_search_in_parts_equals_the_uncut_search(theorem: str) -> None:
    """Three bulk slices + Hypothesis, merged, then polished and confirmed: the same outcomes (worst
    cases, candidates, confirmed counterexamples, histograms, samples) as one search run straight
    through -- including a theorem with confirmed violations and one the polisher works on."""
    b = replace(numeric.budget("quick"), bulk_rounds=2 * SLICE_ROUNDS + 3, bulk_batch=64, examples=8)
    exp = compile_theorem(REGISTRY.theorems[theorem]).experiments[0][0]
    whole = Search(exp, b, 3, "numba")
    whole.bulk()
    whole.hypothesis()
    polish_search(whole)
    whole.confirm()
    shrink_counterexamples(whole)
    expected = whole.finish()
    parts = [run_part(exp, b, name, seed=3, backend="numba") for name in reversed(part_names(b))][::-1]
    got = finish_search(exp, b, parts, seed=3, backend="numba")
    assert _same(got, expected)
    assert any(o.instances for o in got.values())


def test_parts_out_of_order_are_refused() -> None:
    b = numeric.budget("quick")
    exp = compile_theorem(REGISTRY.theorems["descent.lemma_2_1_4"]).experiments[0][0]
    parts = [run_part(exp, b, name, seed=0, backend="numba") for name in part_names(b)]
    with pytest.raises(ValueError, match="in order"):
        finish_search(exp, b, parts[::-1], seed=0, backend="numba")
    with pytest.raises(ValueError, match="unknown search part"):
        run_part(exp, b, "everything", seed=0, backend="numba")


# --------------------------------------------------------------------------------------------------
# Whole runs: workers vs serial
# --------------------------------------------------------------------------------------------------

# Deterministic claims with lemmas (descent), a probability claim resting on a lemma (escape), a
# closed form (cp), refuted claims with confirmed counterexamples (schur).
SUBSET = ["descent", "escape.lemma_7_3_1", "escape.theorem_7_2_1_ball", "cp.parities", "schur.without_psd_a"]


def _verify(tmp_path: Any, name: str, *extra: str) -> str:
    out = tmp_path / name
    code = main(["verify", *SUBSET, "--budget", "quick", "--seed", "2", "--out", str(out), "--quiet", *extra])
    assert code == 0
    return canonical_json(load_run(out / "results.json"), drop_volatile=True)


def test_two_workers_give_the_serial_records(tmp_path: Any) -> None:
    serial = _verify(tmp_path, "serial", "--workers", "1")
    spread = _verify(tmp_path, "dask", "--workers", "2")
    assert spread == serial
    assert load_run(tmp_path / "dask" / "results.json").timings["workers"] == 2
    assert "workers" not in load_run(tmp_path / "serial" / "results.json").timings


# --------------------------------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------------------------------

FAULT_SUBSET = ["descent.quadratic_upper_bound", "descent.lemma_2_1_4", "schur.without_psd_a"]


def _serial_records(ids: list[str]) -> str:
    from theorems.runner import run

    thms, only = REGISTRY.select(ids)
    return canonical_json(run(REGISTRY, thms, budget="quick", seed=1, backend="auto", only=only), drop_volatile=True)


@pytest.fixture(scope="module")
def cluster() -> Any:
    """Two local worker processes behind their nannies (which restart a worker that dies)."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=50) as lc, Client(lc) as client:
        yield lc, client


def _kill_first_worker_holding(client: Any, marker: str, killed: list[str]) -> Any:
    """A thread that SIGKILLs the process of the first worker found holding a task whose key
    contains ``marker`` (once), noting the key in ``killed``."""
    import os
    import signal
    import threading
    import time

    def watch() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            for addr, keys in client.processing().items():
                hit = [k for k in keys if marker in str(k)]
                if hit:
                    pid = client.run(os.getpid, workers=[addr])[addr]
                    os.kill(pid, signal.SIGKILL)
                    killed.append(str(hit[0]))
                    return
            time.sleep(0.02)

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    return t


def test_a_killed_worker_loses_nothing(cluster: Any) -> None:
    """A worker killed while it holds a search part: the part runs again (on the other worker or
    the restarted one) and the records are the serial run's."""
    from theorems.runner import run

    lc, client = cluster
    killed: list[str] = []
    watcher = _kill_first_worker_holding(client, "-bulk[", killed)
    thms, only = REGISTRY.select(FAULT_SUBSET)
    rec = run(REGISTRY, thms, budget="quick", seed=1, backend="auto", only=only, scheduler=lc.scheduler_address)
    watcher.join(timeout=1)
    assert killed, "the watcher never saw a search part on a worker"
    assert rec.complete
    assert canonical_json(rec, drop_volatile=True) == _serial_records(FAULT_SUBSET)


def test_a_task_that_keeps_killing_its_worker_becomes_error_records(cluster: Any) -> None:
    """Once Dask gives up on a task (here at its first worker death), the theorem's claims are
    ``error`` records naming the claims, the phase and the workers' memory limit."""
    from theorems.runner import run

    lc, client = cluster
    client.run_on_scheduler(lambda dask_scheduler: setattr(dask_scheduler, "allowed_failures", 0))
    try:
        killed: list[str] = []
        watcher = _kill_first_worker_holding(client, "schur.without_psd_a-0-bulk[", killed)
        thms, only = REGISTRY.select(FAULT_SUBSET)
        rec = run(REGISTRY, thms, budget="quick", seed=1, backend="auto", only=only, scheduler=lc.scheduler_address)
        watcher.join(timeout=1)
    finally:
        client.run_on_scheduler(lambda dask_scheduler: setattr(dask_scheduler, "allowed_failures", 3))
    assert killed
    lost = [c for c in rec.claims if c.theorem == "schur.without_psd_a"]
    assert lost and all(c.verdict == "error" for c in lost)
    reason = lost[0].reason
    # The killed worker held the bulk slice and maybe other tasks of the theorem: the records name
    # whichever of them Dask blamed first, with its claims and phase.
    assert "schur.without_psd_a::lower_bound, upper_bound" in reason
    assert "search part bulk[" in reason or "symbolic stage" in reason or "exact oracle" in reason
    assert "memory limit" in reason and "GiB" in reason
    # Other tasks the killed worker held die with it (allowed failures 0); each theorem is still
    # reported, and every error says which task was lost.
    assert rec.complete and {c.theorem for c in rec.claims} == set(FAULT_SUBSET)
    assert all("died each time it was tried" in c.reason for c in rec.claims if c.verdict == "error")


def test_a_lost_scheduler_leaves_marked_partial_results(tmp_path: Any) -> None:
    """The scheduler killed after the first theorem is done: `verify --scheduler` saves what it
    has, marked ``incomplete="scheduler lost"`` with the claims not run, and exits non-zero."""
    import subprocess
    import sys
    import threading
    import time

    from theorems.distributed import SCHEDULER_LOST

    info = tmp_path / "scheduler.json"
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--scheduler-file",
                                  str(info), "--port", "0", "--no-dashboard"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = None
    try:
        for _ in range(600):
            if info.exists() and info.read_text().strip():
                break
            time.sleep(0.05)
        address = json.loads(info.read_text())["address"]
        worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                                   "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out = tmp_path / "out"
        results = out / "results.json"

        def kill_after_first_theorem() -> None:
            for _ in range(6000):
                if results.exists():
                    scheduler.kill()
                    return
                time.sleep(0.02)

        killer = threading.Thread(target=kill_after_first_theorem, daemon=True)
        killer.start()
        ids = ["descent.quadratic_upper_bound", "schur.product_bounds", "pl.claim_6_2_2_pl"]
        code = main(["verify", *ids, "--budget", "quick", "--seed", "1", "--out", str(out), "--quiet",
                     "--scheduler", address])
        killer.join(timeout=1)
    finally:
        for p in (worker, scheduler):
            if p is not None:
                p.kill()
                p.wait()
    assert code != 0
    rec = load_run(results)
    assert rec.incomplete == SCHEDULER_LOST and not rec.complete
    selected = {f"{t}::{c.name}" for t in ids for c in REGISTRY.theorems[t].claims}
    ran = {c.id for c in rec.claims}
    assert ran and rec.not_run and not ran & set(rec.not_run)
    assert ran | set(rec.not_run) == selected
