"""Issue 17, finding 8: a true claim hypersensitive to the class's constants is never refuted.

GD with eta = 2/(L + mu) on ``rsi_smooth`` contracts ||w_t - w*||^2 by ((kappa - 1)/(kappa + 1))^2
per step.  At kappa -> 1 over 60 steps the bound is astronomically small, so an instance whose
stored L sits an ulp below the exact lambda_max of its stored matrix (once accepted by a membership
slack) violates it for real, in extended precision too.  Before the class stored its constants on
the safe side, seeds 5, 6 and 9 refuted this true claim at ``quick``."""

from __future__ import annotations

import pytest

from numeric import budget
from theorems.pipeline import OK_VERDICTS, run_theorem
from theorems.registry import build_registry

from .sensitive_specs import THEOREMS

REGISTRY = build_registry([("quality", "", THEOREMS)])


@pytest.mark.parametrize("seed", range(10), ids=[f"seed{s}" for s in range(10)])
def test_rate_at_kappa_near_one_is_not_refuted(seed: int) -> None:
    assert not REGISTRY.problems, REGISTRY.problems
    thm = REGISTRY.theorems["quality.rsi_optimal_step_rate"]
    for rec in run_theorem(thm, budget=budget("quick"), seed=seed, backend="numba", lookup=REGISTRY.lookup):
        assert rec.instances > 0
        assert rec.verdict in OK_VERDICTS, f"{rec.id} seed {seed}: {rec.verdict}: {rec.reason}"
        assert rec.counterexample is None


def test_a_slightly_stronger_rate_is_refuted() -> None:
    """The search is not blind here: one more factor of the rate is refuted."""
    from dataclasses import replace

    from .sensitive_specs import D1, DF, L, mu, t

    base = REGISTRY.theorems["quality.rsi_optimal_step_rate"]
    claim = replace(base.claims[0], relation=D1 <= ((L - mu) / (L + mu)) ** (2 * (t + 2)) * DF)
    thm = replace(base, id="quality.rsi_rate_one_step_too_fast", claims=(claim,))
    reg = build_registry([("quality", "", [thm])])
    assert not reg.problems, reg.problems
    (rec,) = run_theorem(reg.theorems[thm.id], budget=budget("quick"), seed=0, backend="numba", lookup=reg.lookup)
    assert rec.verdict == "fail", rec.reason
