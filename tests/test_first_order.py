"""The generic first-order classes (lsmooth, lsmooth_convex, lsmooth_strongly_convex), their kernels
(NumPy reference vs numba), exact membership, the minimiser set and f*, encode/decode and the
continuous parametrisation."""

from __future__ import annotations

import numpy as np
import pytest
from kernels.first_order import RotatedPWQ, evaluate, first_order

from numeric.api import InstanceBatch, Knobs
from numeric.families.first_order_dynamics import minimiser_box
from numeric.registry import CLASSES

NAMES = ("lsmooth", "lsmooth_convex", "lsmooth_strongly_convex")


def _batch(name: str, family: int, seed: int, n: int = 64, dim: int = 3) -> InstanceBatch:
    rng = np.random.default_rng(seed)
    k = Knobs(family=family, dim=dim, pattern=seed % 8, log_scale=float(rng.uniform(-1, 1)),
              log_w0=float(rng.uniform(-2, 1)), u=(), seed=seed)
    return CLASSES[name].families[family].generate(rng, n, k)


@pytest.mark.parametrize("method", ["gd", "heavy_ball", "nesterov"])
def test_numba_matches_reference(method: str) -> None:
    b = _batch("lsmooth", 0, 1, n=40)
    n = b.size
    ref = first_order(b.problem, b.w0, np.full(n, 0.3), np.full(n, 0.4), 9, method=method, backend="numpy")
    nb = first_order(b.problem, b.w0, np.full(n, 0.3), np.full(n, 0.4), 9, method=method, backend="numba")
    assert nb.backend == "numba" and ref.backend == "numpy"
    for a, c in ((ref.x, nb.x), (ref.f, nb.f), (ref.gnorm2, nb.gnorm2), (ref.fabs, nb.fabs)):
        np.testing.assert_allclose(c, a, rtol=1e-9, atol=1e-12)


def test_gradient_is_the_derivative_of_the_value() -> None:
    b = _batch("lsmooth", 0, 2, n=16)
    rng = np.random.default_rng(0)
    x = rng.normal(size=b.w0.shape)
    v = rng.normal(size=b.w0.shape)
    h = 1e-6
    f1 = evaluate(b.problem, x + h * v)[0]
    f0 = evaluate(b.problem, x - h * v)[0]
    g = evaluate(b.problem, x)[1]
    np.testing.assert_allclose((f1 - f0) / (2 * h), np.sum(g * v, axis=1), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_generated_and_parametrised_members_belong(name: str) -> None:
    cls = CLASSES[name]
    for fam in range(len(cls.families)):
        for seed in range(6):
            ok, why = cls.member(_batch(name, fam, seed, dim=1 + seed % 3))
            assert ok.all(), [w for w in why if w][:3]
    p = cls.parametrisation
    assert p is not None
    P = p.size(5)
    ok, why = cls.member(p.build(p.sample(np.random.default_rng(3), 64, P)))
    assert ok.all(), [w for w in why if w][:3]
    lo, hi = p.bounds(P)
    corners = np.where(np.random.default_rng(4).random((64, P)) < 0.5, lo, hi)
    ok, why = cls.member(p.build(corners))
    assert ok.all(), [w for w in why if w][:3]


def _one(z: list[float], g: list[float], cl: float, cr: float, L: float = 1.0, **attrs: float) -> InstanceBatch:
    prob = RotatedPWQ(np.eye(1)[None], np.asarray([[z]]), np.asarray([[g]]), np.asarray([[cl]]), np.asarray([[cr]]),
                      np.zeros(1))
    a = {"L": np.asarray([L]), "d": np.ones(1)} | {k: np.asarray([v]) for k, v in attrs.items()}
    return InstanceBatch("t", prob, np.zeros((1, 1)), a)


def test_membership_rejects_instances_outside_each_class() -> None:
    steep = _one([0.0, 1.0], [0.0, 1.5], 0.0, 0.0)  # curvature 1.5 > L = 1
    concave = _one([0.0, 1.0], [0.0, -0.5], 0.0, 0.0)  # curvature -0.5: smooth, not convex
    unbounded = _one([0.0, 1.0], [0.5, 1.0], 0.0, 0.0)  # convex, derivative > 0 everywhere: no minimiser
    flat_end = _one([0.0, 1.0], [-1.0, 0.0], 0.2, 0.0)  # end curvature 0 < mu
    assert not CLASSES["lsmooth"].member(steep)[0][0]
    assert CLASSES["lsmooth"].member(concave)[0][0]
    assert not CLASSES["lsmooth_convex"].member(concave)[0][0]
    assert not CLASSES["lsmooth_convex"].member(unbounded)[0][0]
    assert CLASSES["lsmooth_convex"].member(flat_end)[0][0]
    assert not CLASSES["lsmooth_strongly_convex"].member(_one([0.0, 1.0], [-1.0, 0.0], 0.2, 0.0, mu=0.1, kappa=10.0))[0][0]
    # A rotation that is not orthogonal stretches the curvature: refused.
    b = _batch("lsmooth", 0, 0, n=4, dim=2)
    p = b.problem
    bad = InstanceBatch("t", RotatedPWQ(p.Q * 1.01, p.z, p.g, p.cl, p.cr, p.f0), b.w0, b.attrs)
    assert not CLASSES["lsmooth"].member(bad)[0].any()


@pytest.mark.parametrize("name", ["lsmooth_convex", "lsmooth_strongly_convex"])
def test_minimiser_box_and_fstar_match_a_fine_grid(name: str) -> None:
    for fam in range(4):
        b = _batch(name, fam, 11 + fam, n=12, dim=1)
        p = b.problem
        lo, hi, fstar, _ = minimiser_box(p)
        z = p.z[:, 0]
        span = z[:, -1] - z[:, 0] + 1.0
        grid = z[:, :1] - 2 * span[:, None] + np.linspace(0, 1, 20001)[None, :] * 5 * span[:, None]
        vals = np.stack([evaluate(p, grid[:, j:j + 1])[0] for j in range(grid.shape[1])], axis=1)
        assert np.all(vals.min(axis=1) >= fstar - 1e-9 * (1 + np.abs(fstar)))
        np.testing.assert_allclose(vals.min(axis=1), fstar, rtol=1e-6, atol=1e-6)
        inside = np.where(np.isfinite(lo[:, 0]), lo[:, 0], np.where(np.isfinite(hi[:, 0]), hi[:, 0], 0.0))
        at = evaluate(p, inside[:, None])
        np.testing.assert_allclose(at[0], fstar, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(at[1][:, 0], 0.0, atol=1e-9 * (1 + np.abs(p.g).max()))


@pytest.mark.parametrize("name", NAMES)
def test_encode_decode_round_trip(name: str) -> None:
    cls = CLASSES[name]
    b = _batch(name, 1, 5, n=3, dim=2)
    for i in range(3):
        back = cls.decode(cls.encode(b.problem, i))
        for f in ("Q", "z", "g", "cl", "cr", "f0"):
            np.testing.assert_array_equal(getattr(back, f)[0], getattr(b.problem, f)[i])


def test_heavy_ball_folklore_is_refuted_on_the_generic_strongly_convex_class() -> None:
    """The example package's heavy-ball claim (Polyak's rate for every L-smooth mu-strongly convex
    f, printed false) run on ``lsmooth_strongly_convex`` with the built-in heavy-ball dynamics:
    the ordinary generators find a confirmed counterexample (no hand-made instance)."""
    import dataclasses

    from thmcheck_momentum.theorems import heavy_ball_global

    from numeric import budget
    from theorems.pipeline import run_theorem
    from theorems.registry import load_registry
    from theorems.spec import Structural

    thm = dataclasses.replace(
        heavy_ball_global, id="check.heavy_ball_global_generic", dynamics="fo_heavy_ball",
        structure=(Structural("smooth_strongly_convex", "lsmooth_strongly_convex", "f is L-smooth and mu-strongly convex"),))
    rec = run_theorem(thm, budget=budget("quick"), seed=0, backend="numba", lookup=load_registry().lookup)[0]
    assert rec.verdict == "fail", rec.reason
    assert rec.counterexample is not None and rec.counterexample.confirmed_violation > rec.counterexample.tolerance
    assert rec.counterexample.instance.family != "interpolated"


def test_min_gradient_bound_one_percent_below_exact_is_refuted_at_default_n2() -> None:
    """GD with eta = 1/L, N = 2: a bound 1% below the exact worst case 4/(3N) of min_t ||grad f||^2
    / (L (f(x_0) - f(x_N))) is refuted on the generic L-smooth class at the default budget, without
    the PEPit oracle (the quick budget gets to about 96% of the exact value, short of it)."""
    import sympy

    from numeric import budget
    from theorems.catalogue import first_order as fo
    from theorems.pipeline import run_theorem
    from theorems.registry import load_registry
    from theorems.spec import Citation, Verdict

    thm = fo.min_grad_theorem(2, sympy.Rational(99, 100), tid="quality.fo_min_grad_n2_below_exact",
                              citation=Citation("thmcheck tests", "false variant at 0.99x exact"),
                              expect=Verdict.FAIL)
    (rec,) = run_theorem(thm, budget=budget("default"), seed=0, backend="numba",
                         lookup=load_registry().lookup, oracle=False)
    assert rec.verdict == "fail", rec.reason
    assert rec.counterexample is not None and rec.counterexample.confirmed_violation > rec.counterexample.tolerance
