"""Issue 9: true claims are never refuted, whatever the seed.

CI-affordable subset (quick budget): the two cheapest exact-worst-case claims, whose searches come
within a fraction of a percent of their bounds (so a spurious refutation by rounding or by an
instance outside the class would show): the N = 1 min-gradient claim over seeds 1-10, the h = 1.9
one-step claim over seeds 1-5 and the descent lemma over seeds 1-2.
benchmarks/bench_true_claims_seeds.py runs every catalogue claim over 10 seeds."""

from __future__ import annotations

import pytest

from numeric import budget
from theorems.pipeline import OK_VERDICTS, run_theorem
from theorems.registry import load_registry

REGISTRY = load_registry()
CASES = ([("pep.gd_min_grad_n1", s) for s in range(1, 11)] + [("pep.gd_one_step_h1_9", s) for s in range(1, 6)]
         + [("descent.lemma_2_1_4", s) for s in range(1, 3)])


@pytest.mark.parametrize("tid, seed", CASES, ids=[f"{t}-seed{s}" for t, s in CASES])
def test_true_claim_is_not_refuted(tid: str, seed: int) -> None:
    thm = REGISTRY.theorems[tid]
    for rec in run_theorem(thm, budget=budget("quick"), seed=seed, backend="numba", lookup=REGISTRY.lookup):
        assert rec.verdict in OK_VERDICTS, f"{rec.id} seed {seed}: {rec.verdict}: {rec.reason}"
        assert rec.counterexample is None
