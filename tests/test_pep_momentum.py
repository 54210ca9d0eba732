"""The PEPit oracle for heavy-ball and Nesterov (PepSetup(method=...)): exact values against PEPit's
own example for the heavy ball and a PEP written here for Nesterov's scheme, worst cases turned
into members of the generic classes that reach the exact value, claims on ``fo_heavy_ball`` /
``fo_nesterov`` recording PEPit's value, and without PEPit importable everything runs as before."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import sympy
from kernels.first_order import first_order

from numeric import budget
from numeric.families.first_order_dynamics import minimiser_box
from numeric.registry import CLASSES
from theorems.pipeline import run_theorem
from theorems.registry import load_registry
from theorems.spec import (
    Assumption,
    Citation,
    Claim,
    ClaimKind,
    Domain,
    PepSetup,
    Role,
    Structural,
    Sym,
    Theorem,
    Verdict,
)

pep_oracle = pytest.importorskip("theorems.pep_oracle")
needs_pepit = pytest.mark.skipif(not pep_oracle.available(), reason="the thmcheck[pep] extra (PEPit + an SDP solver) is not installed")

MU, ALPHA = 0.1, 0.5
BETA = float(np.sqrt((1 - ALPHA * MU) * (1 - ALPHA)))  # PEPit's example's momentum
HB = PepSetup("strongly_convex", "value_ratio", 2, ALPHA, method="heavy_ball", mu=MU, momentum=BETA)
NEST = PepSetup("smooth_convex", "value_gap", 3, 1.0, method="nesterov")


@needs_pepit
def test_heavy_ball_matches_pepits_own_example() -> None:
    from PEPit.examples.unconstrained_convex_minimization import wc_heavy_ball_momentum

    ref, _ = wc_heavy_ball_momentum(MU, 1.0, ALPHA, BETA, HB.steps, solver="CLARABEL", verbose=-1)
    r = pep_oracle.solve(HB)
    assert r.value == pytest.approx(ref, rel=1e-6)
    rec = r.record()
    assert rec["source"].startswith("PEPit") and rec["solver"].startswith("CLARABEL")
    assert rec["accuracy"] is None or rec["accuracy"] < 1e-3


def _nesterov_by_hand(n: int) -> float:
    """Nesterov's scheme (Su, Boyd and Candes) written directly in PEPit, independently of the
    oracle's method code: max f(x_n) - f* over convex 1-smooth f with ||x_0 - x*|| <= 1."""
    from PEPit import PEP
    from PEPit.functions import SmoothConvexFunction

    pb = PEP()
    f = pb.declare_function(SmoothConvexFunction, L=1.0)
    xs = f.stationary_point()
    x0 = pb.set_initial_point()
    pb.set_initial_condition((x0 - xs) ** 2 <= 1)
    x_old, x = x0, x0
    for k in range(n):
        y = x + ((k - 1) / (k + 2)) * (x - x_old) if k else x
        x_old, x = x, y - f.gradient(y)
    pb.set_performance_metric(f(x) - f(xs))
    return float(pb.solve(wrapper="cvxpy", solver="CLARABEL", verbose=0))


@needs_pepit
def test_nesterov_matches_a_pep_written_by_hand_and_gd_where_they_coincide() -> None:
    assert pep_oracle.solve(NEST).value == pytest.approx(_nesterov_by_hand(NEST.steps), rel=1e-6)
    # For N <= 2 the momentum (k-1)/(k+2) is 0 at every step used: the scheme is GD, whose exact value
    # is Drori and Teboulle's 1 / (4N + 2).
    two = PepSetup("smooth_convex", "value_gap", 2, 1.0, method="nesterov")
    assert pep_oracle.solve(two).value == pytest.approx(1 / 10, rel=1e-6)


def test_unknown_method_or_metric_for_a_method_is_refused() -> None:
    with pytest.raises(ValueError, match="method 'adam' is not supported"):
        pep_oracle.method_points(PepSetup("smooth", "value_gap", 1, method="adam"), 0.0, lambda x: (0.0, 0.0))
    if pep_oracle.available():
        with pytest.raises(ValueError, match="defined for method 'gd' only"):
            pep_oracle.solve(PepSetup("smooth", "min_grad_vs_decrease", 1, method="nesterov"))


def _metric(setup: PepSetup, batch) -> float:
    run = first_order(batch.problem, batch.w0, np.full(1, setup.step), np.full(1, setup.momentum), setup.steps,
                      method=setup.method, backend="numpy")
    lo, hi, fstar, _ = minimiser_box(batch.problem)
    y = np.einsum("nij,nkj->nki", batch.problem.Q, run.x)[0]
    d2 = lambda k: float(np.sum((np.clip(y[k], lo[0], hi[0]) - y[k]) ** 2))  # noqa: E731
    gap = run.f[0] - fstar[0]
    return float(gap[-1] / gap[0]) if setup.metric == "value_ratio" else float(gap[-1] / d2(0))


@needs_pepit
@pytest.mark.parametrize("setup, cls", [(HB, "lsmooth_strongly_convex"), (NEST, "lsmooth_convex")])
def test_worst_case_members_belong_and_reach_the_exact_value(setup: PepSetup, cls: str) -> None:
    r = pep_oracle.solve(setup)
    best = 0.0
    for b in pep_oracle.seed_batches(setup, r):
        ok, why = CLASSES[cls].member(b)
        assert ok.all(), why
        best = max(best, _metric(setup, b))
    assert 0.99 * r.value <= best <= r.value * (1 + 1e-4)


L_ = Sym("L", Domain.POSITIVE, Role.INSTANCE, "L")
S_ = Sym("s", Domain.POSITIVE, Role.PARAMETER, draw="upper")
FN_ = Sym("FN", Domain.NONNEGATIVE, Role.OBSERVABLE, "fgap_last")
D0_ = Sym("D0", Domain.NONNEGATIVE, Role.OBSERVABLE, "dist2_first")
N_ = Sym("N", Domain.POSITIVE, Role.OBSERVABLE, "horizon")
L, s, FN, D0, N = (x.s for x in (L_, S_, FN_, D0_, N_))


def nesterov_rate(n: int) -> Theorem:
    """Su, Boyd and Candes' bound for Nesterov's scheme with s = 1/L, on the generic convex class."""
    return Theorem(
        id=f"user.nesterov_rate_n{n}",
        title="Nesterov with s = 1/L: f(x_N) - f* <= 2 L ||x_0 - x*||^2 / (N+1)^2",
        citation=Citation("Su, Boyd and Candes, JMLR 17 (2016)", "Theorem 6, r = 3"),
        symbols=(L_, S_, FN_, D0_, N_),
        structure=(Structural("smooth_convex", "lsmooth_convex", "f is convex and L-smooth with a minimiser x*"),),
        dynamics="fo_nesterov",
        assumptions=(Assumption("step", sympy.Eq(s, 1 / L), "s = 1/L"),),
        claims=(Claim("rate_last", FN <= 2 * L * D0 / (N + 1) ** 2, "f(x_N) - f* <= 2 L ||x_0 - x*||^2 / (N+1)^2",
                      kind=ClaimKind.TRAJECTORY, pep=PepSetup("smooth_convex", "value_gap", n, 1.0, method="nesterov")),),
        horizon=n,
        dims=(1, 2),
    )


@needs_pepit
def test_a_nesterov_claim_records_pepits_value_and_its_seed_reaches_it() -> None:
    n = 3
    rec = run_theorem(nesterov_rate(n), budget=budget("quick"), seed=0, backend="numba",
                      lookup=load_registry().lookup)[0]
    assert rec.verdict == Verdict.PASS.value, rec.reason
    pep = rec.tightness["exact_worst_pep"]
    assert pep["source"].startswith("PEPit")
    # The best instance's observed value at ||x_0 - x*|| = 1, L = 1 is ratio * bound.
    assert rec.worst_ratio is not None and rec.worst_ratio * 2 / (n + 1) ** 2 >= 0.99 * pep["value"]


def test_without_pepit_importable_the_claim_runs_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "PEPit", None)  # `import PEPit` now raises ImportError
    assert not pep_oracle.available()
    thm = nesterov_rate(2)
    off = run_theorem(thm, budget=budget("quick"), seed=0, backend="numba", lookup=load_registry().lookup, oracle=False)[0]
    rec = run_theorem(thm, budget=budget("quick"), seed=0, backend="numba", lookup=load_registry().lookup)[0]
    assert rec.verdict == off.verdict == Verdict.PASS.value
    assert "exact_worst_pep" not in rec.tightness and rec.instances == off.instances
    assert rec.worst_ratio == off.worst_ratio


@needs_pepit
def test_the_example_packages_nesterov_claim_gets_pepits_value() -> None:
    """The example plugin's ``nesterov`` dynamics runs the same scheme: its claim, given a PepSetup,
    records PEPit's exact value, and no instance of the example's class exceeds it."""
    from dataclasses import replace

    ex = pytest.importorskip("thmcheck_momentum.theorems")
    n = 3
    base = ex.nesterov_rate
    claim = replace(base.claim("rate_last"), pep=PepSetup("smooth_convex", "value_gap", n, 1.0, method="nesterov"))
    thm = replace(base, id="user.example_nesterov_pep", horizon=n, claims=(claim,))
    rec = run_theorem(thm, budget=budget("quick"), seed=0, backend="numba", lookup=load_registry().lookup)[0]
    assert rec.verdict == Verdict.PASS.value, rec.reason
    value = rec.tightness["exact_worst_pep"]["value"]
    assert value == pytest.approx(pep_oracle.solve(NEST).value)
    assert rec.worst_ratio is not None and 0.5 * value <= rec.worst_ratio * 2 / (n + 1) ** 2 <= value * (1 + 1e-6)
