"""The PEPit oracle path: smooth interpolation of first-order data by class members (always), and,
with the ``thmcheck[pep]`` extra installed, PEPit's exact values against the reference values in
tests/data/pep_reference.json, its worst cases turned into members, and the search seeded with
them reaching the exact worst case at the quick budget (false bounds at 0.99x refuted)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from kernels.first_order import evaluate, first_order

from numeric import budget
from numeric.families.first_order_interp import interpolate_1d, member_from_data
from numeric.registry import CLASSES
from theorems.catalogue import first_order as fo
from theorems.registry import load_registry
from theorems.spec import PepSetup, Verdict

REF = json.loads((Path(__file__).parent / "data" / "pep_reference.json").read_text())


@pytest.mark.parametrize("name, lower", [("lsmooth", -1.0), ("lsmooth_convex", 0.0)])
def test_interpolant_passes_through_consistent_data_and_is_a_member(name: str, lower: float) -> None:
    """Data read off a member (points, values, derivatives) are interpolable: the interpolant
    reproduces them exactly enough and belongs to the class."""
    rng = np.random.default_rng(0)
    cls = CLASSES[name]
    k_ok = 0
    for trial in range(20):
        from numeric.api import Knobs

        k = Knobs(family=trial % 2, dim=1, pattern=0, log_scale=0.0, log_w0=0.0, u=(), seed=trial)
        b = cls.families[trial % 2].generate(rng, 1, k)
        pts = np.sort(rng.normal(size=6) * 2)
        vals = [evaluate(b.problem, np.asarray([[p]])) for p in pts]
        f = np.asarray([v[0][0] for v in vals])
        g = np.asarray([v[1][0, 0] for v in vals])
        m = member_from_data(pts, f, g, float(pts[0]), L=1.0 if float(b.attrs["L"][0]) == 1.0 else float(b.attrs["L"][0]),
                             lower=lower * float(b.attrs["L"][0]))
        ok, why = cls.member(m)
        assert ok[0], why[0]
        back = [evaluate(m.problem, np.asarray([[p]])) for p in pts]
        np.testing.assert_allclose([v[0][0] for v in back], f, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose([v[1][0, 0] for v in back], g, rtol=1e-6, atol=1e-6)
        k_ok += 1
    assert k_ok == 20


def test_inconsistent_data_are_projected_to_a_member() -> None:
    # A derivative jump of 10 over a unit interval needs curvature 10 > L = 1.
    z, g, _ = interpolate_1d(np.asarray([0.0, 1.0, 2.0]), np.asarray([0.0, 5.0, -3.0]), np.asarray([0.0, 10.0, 0.0]),
                             -1.0, 1.0)
    assert np.all(np.diff(z) > 0)
    assert np.all(np.abs(np.diff(g)) <= np.diff(z) * (1 + 1e-12))


pep_oracle = pytest.importorskip("theorems.pep_oracle")
needs_pepit = pytest.mark.skipif(not pep_oracle.available(), reason="the thmcheck[pep] extra (PEPit + an SDP solver) is not installed")


@needs_pepit
@pytest.mark.parametrize("h", sorted(REF["one_step_decrease"]["by_h"]))
def test_pepit_one_step_matches_reference(h: str) -> None:
    r = pep_oracle.solve(PepSetup("smooth", "one_step_decrease", 1, float(h)))
    assert r.value == pytest.approx(REF["one_step_decrease"]["by_h"][h], abs=1e-5)


@needs_pepit
@pytest.mark.parametrize("n", ["1", "2", "5", "10"])
def test_pepit_min_grad_matches_reference_and_its_member_attains_it(n: str) -> None:
    setup = PepSetup("smooth", "min_grad_vs_decrease", int(n), 1.0)
    r = pep_oracle.solve(setup)
    assert r.value == pytest.approx(REF["min_grad_vs_decrease"]["by_N"][n], rel=1e-5)
    best = 0.0
    for b in pep_oracle.seed_batches(setup, r):
        ok, why = CLASSES["lsmooth"].member(b)
        assert ok.all(), why
        run = first_order(b.problem, b.w0, np.ones(1), np.zeros(1), int(n), backend="numpy")
        best = max(best, float(run.gnorm2[0].min() / (run.f[0, 0] - run.f[0, -1])))
    assert 0.999 * r.value <= best <= r.value * (1 + 1e-6)


REGISTRY = load_registry()
ONE_PCT = 0.99


@needs_pepit
@pytest.mark.parametrize("make, n", [(fo.min_grad_theorem, 10), (fo.convex_gradient_theorem, 10)])
def test_seeded_search_reaches_the_exact_worst_case_at_quick(make, n: int) -> None:
    from theorems.pipeline import run_theorem
    import sympy

    true = run_theorem(make(n), budget=budget("quick"), seed=0, backend="numba", lookup=REGISTRY.lookup)[0]
    assert true.verdict == Verdict.PASS.value, true.reason
    t = true.tightness
    assert t["exact_worst_pep"]["source"].startswith("PEPit")
    assert t["fraction"] >= 0.99 and t["fraction_of_pep"] >= 0.99
    false = make(n, sympy.Rational(99, 100), tid=f"quality.seeded_{make.__name__}_{n}", expect=Verdict.FAIL)
    rec = run_theorem(false, budget=budget("quick"), seed=0, backend="numba", lookup=REGISTRY.lookup)[0]
    assert rec.verdict == Verdict.FAIL.value, rec.reason
    assert rec.counterexample is not None and rec.counterexample.confirmed_violation > rec.counterexample.tolerance


@needs_pepit
def test_oracle_off_records_nothing_and_seeds_nothing() -> None:
    from theorems.pipeline import run_theorem

    thm = fo.one_step_theorem("1.0")
    on = run_theorem(thm, budget=budget("quick"), seed=0, backend="numba", lookup=REGISTRY.lookup)[0]
    off = run_theorem(thm, budget=budget("quick"), seed=0, backend="numba", lookup=REGISTRY.lookup, oracle=False)[0]
    assert on.tightness["exact_worst_pep"]["value"] == pytest.approx(0.5, abs=1e-6)
    assert "exact_worst_pep" not in off.tightness
    assert on.instances == off.instances + 2  # the two interpolated members
