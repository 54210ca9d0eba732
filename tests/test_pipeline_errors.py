"""Bad dynamics and broken runs become clear `error` verdicts, never counterexamples, and never
lose the other claims' results."""

from __future__ import annotations

from dataclasses import replace

from numeric import budget
from theorems.catalogue import descent as D
from theorems.pipeline import run_theorem
from theorems.registry import load_registry
from theorems.runner import run

REGISTRY = load_registry()


def test_overflowing_dynamics_is_an_error_naming_the_instance() -> None:
    # eta up to 4/L on indefinite quadratics for 2000 steps: iterates grow like 5^t and overflow.
    thm = replace(D.quadratic_upper_bound, id="errors.overflow", horizon=2000, dims=(2,))
    (rec,) = run_theorem(thm, budget=budget("quick"), seed=0, backend="numba", lookup=REGISTRY.lookup)
    assert rec.verdict == "error"
    assert rec.counterexample is None
    assert "non-finite values along the trajectory" in rec.reason and "eta=" in rec.reason


def test_an_exception_in_one_theorem_keeps_the_others(monkeypatch) -> None:
    import theorems.runner as runner_mod

    real = runner_mod.run_theorem

    def flaky(thm, **kw):
        if thm.id == "descent.footnote_3":
            raise RuntimeError("kernel exploded")
        return real(thm, **kw)

    monkeypatch.setattr(runner_mod, "run_theorem", flaky)
    thms = [REGISTRY.theorems["descent.footnote_3"], REGISTRY.theorems["descent.quadratic_upper_bound"]]
    seen = []
    record = run(REGISTRY, thms, budget="quick", seed=0, backend="numpy", on_theorem=seen.append)
    verdicts = {c.theorem: c.verdict for c in record.claims}
    assert verdicts["descent.footnote_3"] == "error"
    assert "RuntimeError: kernel exploded" in record.claims[0].reason
    assert verdicts["descent.quadratic_upper_bound"] == "proved"
    assert len(seen) == 2  # a partial record after every theorem: nothing computed is lost
