"""Falsification power: every false variant of every family (tests/quality/variants_*.py) is refuted
at the quick budget with a confirmed counterexample that replays from its record, and the replay
snippet stored in the record runs and shows the violation."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import numpy as np
import pytest

from numeric import budget
from theorems.pipeline import run_theorem
from theorems.registry import build_registry, load_registry
from theorems.replay import replay_claim

HERE = Path(__file__).parent
MODULES = sorted(m.name for m in pkgutil.iter_modules([str(HERE)]) if m.name.startswith("variants_"))
VARIANTS = {name: importlib.import_module(f"{__package__}.{name}").VARIANTS for name in MODULES}
REGISTRY = load_registry()
CASES = [(name, thm) for name, thms in VARIANTS.items() for thm in thms]


def test_every_family_has_at_least_four_valid_variants() -> None:
    assert {"variants_descent", "variants_pl", "variants_schur", "variants_scale_invariant", "variants_cp", "variants_escape"} <= set(VARIANTS)
    for name, thms in VARIANTS.items():
        reg = build_registry([(name, "", thms)])
        assert not reg.problems, [str(p) for p in reg.problems]
        assert len(reg.theorems) == len(thms) >= 4, name


@pytest.mark.parametrize("module, thm", CASES, ids=[t.id for _, t in CASES])
def test_false_variant_is_refuted_with_a_replayable_counterexample(module: str, thm) -> None:
    recs = run_theorem(thm, budget=budget("quick"), seed=0, backend="numba", lookup=REGISTRY.lookup,
                       source=f"{__package__}.{module}:VARIANTS")
    for rec in recs:
        assert rec.verdict == "fail", f"{rec.id}: {rec.reason}"
        cex = rec.counterexample
        assert cex is not None and cex.confirmed_violation > cex.tolerance
        replayed = replay_claim(build_registry([(module, "", VARIANTS[module])]), rec)
        assert replayed.reproduced
        assert replayed.violation == pytest.approx(cex.confirmed_violation, rel=1e-9)
        out: dict = {}
        exec(compile(cex.replay, "<replay>", "exec"), out)
        observed, bound = out["observed"], out["bound"]
        assert np.isfinite(float(observed)) and np.isfinite(float(bound))
        sense = ">=" if ">=" in cex.replay.splitlines()[-1] else "<="
        assert out["res"].reproduced and out["res"].violation == pytest.approx(cex.confirmed_violation, rel=1e-9)
        assert (observed < bound) if sense == ">=" else (observed > bound)
