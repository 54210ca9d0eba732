"""Issue 17: a long experiment is interruptible before it ends.

The runner's stop check used to be asked only before each theorem and between a theorem's
experiments, so a signal arriving during one long search (or one statistical measurement) waited for
it to finish.  The engine now asks before every batch and between the kernel chunks of a
probability claim's trials (numeric.engine.stop); chunking changes no value."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from numeric import budget
from numeric.engine import probability
from theorems.interrupt import Interrupted
from theorems.pipeline import run_theorem
from theorems.registry import load_registry
from theorems.runner import run

REG = load_registry()


class _SignalAfter:  # noqa: D101 - documented below
    """A stop check that 'receives a signal' at its ``n``-th call and raises from then on."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1
        if self.calls >= self.n:
            raise Interrupted("SIGINT")


def _stop_points(theorem_id: str) -> int:
    counter = _SignalAfter(10**9)
    run(REG, [REG.theorems[theorem_id]], budget="quick", seed=0, backend="numpy", stop=counter)
    return counter.calls


@pytest.mark.parametrize("theorem_id", ["descent.quadratic_upper_bound", "escape.stuck_probability"])
def test_a_signal_inside_an_experiment_stops_it_at_the_next_batch(theorem_id: str) -> None:
    points = _stop_points(theorem_id)
    # One check per batch, not just a handful per theorem: the quick budget runs tens of batches.
    assert points > 20, points
    stop = _SignalAfter(5)
    record = run(REG, [REG.theorems[theorem_id]], budget="quick", seed=0, backend="numpy", stop=stop)
    assert stop.calls == 5  # stopped at the first check after the signal, long before the end
    assert record.incomplete == "interrupted by SIGINT" and not record.claims
    assert set(record.not_run) == {f"{theorem_id}::{c.name}" for c in REG.theorems[theorem_id].claims}


def _records(theorem_id: str) -> list[dict]:
    recs = run_theorem(REG.theorems[theorem_id], budget=budget("quick"), seed=0, backend="numba",
                       lookup=REG.lookup)
    out = []
    for r in recs:
        d = asdict(r)
        d.pop("timings", None)
        out.append(d)
    return json.loads(json.dumps(out, default=str))


def test_chunked_trials_give_the_same_records(monkeypatch: pytest.MonkeyPatch) -> None:
    whole = _records("escape.stuck_probability")
    monkeypatch.setattr(probability, "CHUNK_ROWS", 64)  # quick runs 4 x 200 rows per call: now 4 chunks of 1 instance
    chunked = _records("escape.stuck_probability")
    assert chunked == whole
