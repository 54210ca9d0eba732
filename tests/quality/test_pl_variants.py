"""Falsification power on the PL family: every false variant is refuted at the quick budget with a
counterexample that replays from its record."""

from __future__ import annotations

import numpy as np
import pytest

from numeric import budget
from theorems.pipeline import run_theorem
from theorems.registry import build_registry, load_registry
from theorems.replay import replay_claim

from .variants_pl import VARIANTS

REGISTRY = load_registry()
VARIANT_REGISTRY = build_registry([("quality", __file__, VARIANTS)])


def test_variants_are_valid_specs() -> None:
    assert not VARIANT_REGISTRY.problems, VARIANT_REGISTRY.problems
    assert len(VARIANT_REGISTRY.theorems) == len(VARIANTS) >= 4


@pytest.mark.parametrize("thm", VARIANTS, ids=lambda t: t.id)
def test_false_variant_is_refuted_with_a_replayable_counterexample(thm) -> None:
    (rec,) = run_theorem(thm, budget=budget("quick"), seed=0, backend="numba", lookup=REGISTRY.lookup)
    assert rec.verdict == "fail", rec.reason
    cex = rec.counterexample
    assert cex is not None and cex.confirmed_violation > cex.tolerance
    replayed = replay_claim(VARIANT_REGISTRY, rec)
    assert replayed.reproduced
    assert replayed.violation == pytest.approx(cex.confirmed_violation, rel=1e-9)
    out: dict = {}
    exec(compile(cex.replay, "<replay>", "exec"), out)
    observed, bound = out["observed"], out["bound"]
    assert observed > bound  # every variant is an upper bound
    assert np.isfinite(float(observed)) and np.isfinite(float(bound))
