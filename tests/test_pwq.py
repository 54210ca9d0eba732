"""The worst-case class (1-D piecewise-quadratic C^{1,1}), its GD kernels, the polishing phase, the
tightness record and the necessity check."""

from __future__ import annotations

import numpy as np
import pytest

from kernels import PiecewiseQuadratic, gd_pwq
from numeric import CLASSES, budget
from numeric.engine.polish import cma_maximise
from numeric.families.pwq import PARAMETRISATION


def _worst_theta(n_steps: int) -> np.ndarray:
    """The exact worst case of min_t |f'(x_t)|^2 vs f(x_0) - f(x_N) at eta = 1/L (L = 1, f'(x_0) = 1)."""
    P = PARAMETRISATION.size(n_steps)
    K = P // 2
    th = np.zeros((1, P))
    th[0, :K] = 0.5
    k0 = K - PARAMETRISATION.k_right
    for j, k in enumerate(range(k0 - 1, -1, -1)):
        th[0, K + k] = 1.0 if j % 2 == 0 else -1.0
    return th


def test_reference_and_numba_agree_and_longdouble_replays() -> None:
    rng = np.random.default_rng(0)
    batch = PARAMETRISATION.build(PARAMETRISATION.sample(rng, 300, PARAMETRISATION.size(6)))
    eta = rng.uniform(0.1, 2.5, 300)
    a = gd_pwq(batch.problem.pwq, batch.w0, eta, 6, backend="numpy")
    b = gd_pwq(batch.problem.pwq, batch.w0, eta, 6, backend="numba")
    c = gd_pwq(batch.problem.pwq, batch.w0, eta, 6, backend="numpy", dtype=np.longdouble)
    for x, y in ((a.f, b.f), (a.x, b.x), (a.gnorm2, b.gnorm2), (a.fabs, b.fabs)):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.asarray(c.f, dtype=np.float64), a.f, rtol=1e-9, atol=1e-9)


def test_function_is_c11_with_the_stated_values() -> None:
    p = PiecewiseQuadratic(np.array([[0.0, 1.0, 3.0]]), np.array([[1.0, 2.0, 0.0]]), np.array([0.5]))
    for x, f, g in ((-1.0, -0.5, 1.0), (0.5, 0.5 + 0.5 + 0.125, 1.5), (2.0, 0.5 + 1.5 + 1.5, 1.0), (4.0, 0.5 + 1.5 + 2.0, 0.0)):
        r = gd_pwq(p, np.array([x]), np.array([0.0]), 0)
        assert r.f[0, 0] == pytest.approx(f) and r.gnorm2[0, 0] == pytest.approx(g * g)


def test_membership_is_independent_and_exact() -> None:
    cls = CLASSES["smooth_pwq"]
    batch = PARAMETRISATION.build(PARAMETRISATION.sample(np.random.default_rng(1), 200, 40))
    ok, _ = cls.member(batch)
    assert ok.all()
    bad = PiecewiseQuadratic(np.array([[0.0, 1.0]]), np.array([[0.0, 1.0 + 1e-12]]), np.array([0.0]))
    from numeric import InstanceBatch
    from numeric.families.pwq import PWQProblem

    ok, why = cls.member(InstanceBatch("x", PWQProblem(bad), np.zeros((1, 1)), {"L": np.ones(1), "d": np.ones(1)}))
    assert not ok[0] and "curvature" in why[0]


@pytest.mark.parametrize("n", [1, 2, 5, 10])
def test_the_class_contains_the_exact_worst_case(n: int) -> None:
    batch = PARAMETRISATION.build(_worst_theta(n))
    r = gd_pwq(batch.problem.pwq, batch.w0, np.ones(1), n)
    ratio = r.gnorm2.min() / (4 * (r.f[0, 0] - r.f[0, -1]) / (3 * n))
    assert 1 - 1e-8 < ratio <= 1.0


def test_cma_finds_a_box_maximum_deterministically() -> None:
    lo, hi = np.zeros(6), np.ones(6)
    target = np.array([0.2, 0.8, 1.0, 0.0, 0.5, 0.3])

    def f(x):
        return -np.sum((x - target) ** 2, axis=1)

    runs = [cma_maximise(f, np.full((3, 6), 0.5), lo, hi, np.random.default_rng(7), popsize=12, generations=150,
                         sigma0=0.2) for _ in range(2)]
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert runs[0][1].max() > -1e-6


def test_the_pwq_class_carries_its_parametrisation() -> None:
    assert CLASSES["smooth_pwq"].parametrisation is PARAMETRISATION
    assert CLASSES["smooth"].parametrisation is None


def test_pep_claim_record_carries_tightness_and_is_deterministic() -> None:
    from theorems.catalogue import pep
    from theorems.pipeline import run_theorem
    from theorems.registry import load_registry

    reg = load_registry()
    thm = pep.min_grad_theorem(1)
    recs = [run_theorem(thm, budget=budget("quick"), seed=3, backend="numba", lookup=reg.lookup)[0] for _ in range(2)]
    assert recs[0].verdict == "pass"
    t = recs[0].tightness
    assert t["exact_worst_ratio"] == 1.0 and t["bound"] == pytest.approx(4 / 3)
    assert 0.99 < t["fraction"] <= 1.0 and t["best_found"] == pytest.approx(4 / 3 * t["fraction"])
    assert recs[0].worst_ratio == recs[1].worst_ratio
    from reports.tightness import tightness_line

    assert "exact worst case 1.33333" in tightness_line(t)


def test_necessity_variants_are_formed_from_declared_relaxations() -> None:
    from theorems.catalogue import descent, schur
    from theorems.necessity import relaxations

    rel = relaxations(descent.lemma_2_1_4)
    text, variants, note = rel["step_size"]
    assert [v.how for v in variants] == ["eta <= 3/(2*L)", "eta <= 2/L", "eta <= 5/(2*L)"]
    assert "unbounded" in note  # dropping eta <= 1/L leaves eta unbounded
    srel = relaxations(schur.product_bounds)
    assert {"structure:psd_pairs -> psd_a_symmetric_b", "structure:psd_pairs -> symmetric_a_psd_b"} <= set(srel)
    v = srel["structure:psd_pairs -> psd_a_symmetric_b"][1][0].theorem
    assert v.structure[0].instance_class == "psd_a_symmetric_b" and not v.derivations
    assert all(s.domain.value == "real" for s in v.symbols if s.role.value == "observable")


def test_necessity_finds_the_step_size_of_the_descent_lemma_necessary() -> None:
    from theorems.catalogue import descent
    from theorems.necessity import check_necessity

    res = {r.assumption: r for r in check_necessity(descent.lemma_2_1_4, budget=budget("quick"), seed=0)}
    step = res["step_size"]
    assert step.status == "necessary" and step.counterexample["replayed"]
    assert step.counterexample["relaxation"] == "eta <= 3/(2*L)"
    # The structural hypothesis: with L only a bound on the Hessian's diagonal, the lemma fails.
    smooth = res["structure:smooth -> diagonal_bound"]
    assert smooth.status == "necessary" and smooth.counterexample["replayed"]


def test_the_diagonal_bound_class_holds_its_own_definition() -> None:
    cls = CLASSES["diagonal_bound"]
    rng = np.random.default_rng(0)
    from numeric import Knobs

    batch = cls.families[0].generate(rng, 16, Knobs(0, 4, 0, 0.0, 0.0, (), 1))
    ok, _ = cls.member(batch)
    assert ok.all()
    # An instance whose L is the true smoothness constant (spectral, usually larger) is not in it.
    smooth = CLASSES["smooth"].families[0].generate(np.random.default_rng(0), 16, Knobs(0, 4, 0, 0.0, 0.0, (), 1))
    ok, why = cls.member(smooth)
    assert not ok.all() and "diagonal Hessian bound" in next(w for w in why if w)
