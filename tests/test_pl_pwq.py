"""The PL class with piecewise-quadratic members (numeric.families.pl_pwq): generated and polished
members belong, the computed PL constant is the true one (a dense grid of the PL ratio never goes
below it and comes within 0.1% of it), membership rejects members that are not PL or record too
large a mu, and GD's linear rate under PL (Karimi, Nutini and Schmidt 2016) passes on the class."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from kernels.first_order import RotatedPWQ, evaluate

from numeric import budget
from numeric.api import InstanceBatch, Knobs
from numeric.families.first_order_dynamics import minimiser_box
from numeric.families.pl_pwq import pl_constant
from numeric.registry import CLASSES
from theorems.pipeline import run_theorem
from theorems.registry import load_registry
from theorems.spec import Assumption, Citation, Claim, ClaimKind, Domain, Role, Structural, Sym, Theorem, Verdict

CLS = CLASSES["pl_pwq"]


def _batch(family: int, seed: int, n: int = 64, dim: int = 2) -> InstanceBatch:
    rng = np.random.default_rng(seed)
    k = Knobs(family=family, dim=dim, pattern=0, log_scale=float(rng.uniform(-1, 1)), log_w0=float(rng.uniform(-1, 1)),
              u=(), seed=seed)
    return CLS.families[family].generate(rng, n, k)


def test_generated_and_parametrised_members_belong() -> None:
    for fam in range(len(CLS.families)):
        for seed in range(6):
            ok, why = CLS.member(_batch(fam, seed, dim=1 + seed % 3))
            assert ok.all(), [w for w in why if w][:2]
    p = CLS.parametrisation
    assert p is not None
    P = p.size(5)
    rng = np.random.default_rng(2)
    lo, hi = p.bounds(P)
    for theta in (p.sample(rng, 64, P), np.where(rng.random((64, P)) < 0.5, lo, hi)):
        ok, why = CLS.member(p.build(theta))
        assert ok.all(), [w for w in why if w][:2]


@pytest.mark.parametrize("seed", range(12))
def test_pl_constant_is_the_infimum_of_the_pl_ratio(seed: int) -> None:
    b = _batch(seed % 2, 100 + seed, n=1, dim=1)
    p = b.problem
    mu = float(pl_constant(p)[0])
    z = p.z[0, 0]
    span = float(z[-1] - z[0]) + 1.0
    ys = np.concatenate([np.linspace(z[0] - 50 * span, z[-1] + 50 * span, 20001),
                         np.linspace(z[0] - span, z[-1] + span, 100001), z])
    f, grad, _ = evaluate(p.take(np.zeros(len(ys), dtype=int)), ys[:, None])
    fstar = float(minimiser_box(p)[2][0])
    gap = f - fstar
    keep = gap > 1e-9 * np.abs(f).max()
    ratio = grad[keep, 0] ** 2 / (2 * gap[keep])
    assert ratio.min() >= mu * (1 - 1e-9)
    assert ratio.min() <= mu * (1 + 1e-3)


def _one(z: list[float], g: list[float], cl: float, cr: float, mu: float) -> InstanceBatch:
    prob = RotatedPWQ(np.eye(1)[None], np.asarray([[z]]), np.asarray([[g]]), np.asarray([[cl]]), np.asarray([[cr]]),
                      np.zeros(1))
    return InstanceBatch("t", prob, np.zeros((1, 1)), {"L": np.ones(1), "mu": np.asarray([mu]), "d": np.ones(1)})


def test_membership_rejects_non_members() -> None:
    # phi' = 0 at 0 with curvature 1 on [-1, 1]; ends curvature 0.5: PL constant 0.5 (the ends).
    good = _one([-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0], 0.5, 0.5, 0.4)
    assert CLS.member(good)[0][0]
    assert float(pl_constant(good.problem)[0]) == pytest.approx(0.5)
    too_big = _one([-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0], 0.5, 0.5, 0.6)
    assert "PL inequality fails" in CLS.member(too_big)[1][0]
    # A second sign change of phi' (a local maximum near 3): not PL.
    two_minima = _one([-1.0, 0.0, 1.0, 3.0], [-1.0, 0.0, 1.0, -0.0001], 0.5, 0.5, 0.01)
    assert "PL inequality fails" in CLS.member(two_minima)[1][0]
    flat_end = _one([-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0], 0.0, 0.5, 0.01)  # f grows only linearly on the left
    assert "end piece" in CLS.member(flat_end)[1][0]
    steep = _one([-1.0, 0.0, 1.0], [-1.5, 0.0, 1.0], 0.5, 0.5, 0.01)  # curvature 1.5 > L
    assert "outside [-L, L]" in CLS.member(steep)[1][0]


L_ = Sym("L", Domain.POSITIVE, Role.INSTANCE, "L")
MU_ = Sym("mu", Domain.POSITIVE, Role.INSTANCE, "mu")
ETA_ = Sym("eta", Domain.POSITIVE, Role.PARAMETER)
FN_ = Sym("FN", Domain.NONNEGATIVE, Role.OBSERVABLE, "fgap_last")
F0_ = Sym("F0", Domain.NONNEGATIVE, Role.OBSERVABLE, "fgap_first")
N_ = Sym("N", Domain.POSITIVE, Role.OBSERVABLE, "horizon")
L, mu, eta, FN, F0, N = (s.s for s in (L_, MU_, ETA_, FN_, F0_, N_))


def test_gd_linear_rate_under_pl_passes() -> None:
    thm = Theorem(
        id="user.pl_gd_rate",
        title="GD with step 1/L on L-smooth mu-PL f: f(x_N) - f* <= (1 - mu/L)^N (f(x_0) - f*)",
        citation=Citation("Karimi, Nutini and Schmidt, ECML-PKDD 2016", "Theorem 1"),
        symbols=(L_, MU_, ETA_, FN_, F0_, N_),
        structure=(Structural("pl", "pl_pwq", "f is L-smooth and mu-PL"),),
        dynamics="fo_gd",
        assumptions=(Assumption("step", sympy.Eq(eta, 1 / L), "eta = 1/L"),),
        claims=(Claim("rate", FN <= (1 - mu / L) ** N * F0, "f(x_N) - f* <= (1 - mu/L)^N (f(x_0) - f*)",
                      kind=ClaimKind.TRAJECTORY),),
        horizon=3, dims=(1, 2))
    rec = run_theorem(thm, budget=budget("quick"), seed=0, backend="numba", lookup=load_registry().lookup)[0]
    assert rec.verdict == Verdict.PASS.value, rec.reason
    assert rec.worst_ratio is not None and 0.9 <= rec.worst_ratio <= 1.0


def test_a_pinned_L_holds_for_generated_and_polished_members() -> None:
    from numeric.constants import constrained, normalise

    cls = constrained(CLS, normalise(CLS, {"L": 2.5}))
    rng = np.random.default_rng(7)
    for fam in cls.families:
        b = fam.generate(rng, 32, Knobs(family=0, dim=2, pattern=0, log_scale=0.4, log_w0=0.0, u=(), seed=1))
        assert np.all(b.attrs["L"] == 2.5) and cls.member(b)[0].all()
    p = cls.parametrisation
    assert p is not None
    b = p.build(p.sample(rng, 32, p.size(3)))
    ok, why = cls.member(b)
    assert np.all(b.attrs["L"] == 2.5) and ok.all(), [w for w in why if w][:2]
    with pytest.raises(ValueError, match="has no constant 'mu'"):
        normalise(CLS, {"mu": 0.1})
