"""Class constants a spec pins or bounds (``Structural(constants=...)``, numeric.constants): the
generators, the parametrisation and membership honour them, the record shows them, and a
malformed pin is one SpecError naming the spec and the field."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest
import sympy

from numeric import budget
from numeric.api import Knobs
from numeric.constants import constrained, normalise
from numeric.registry import CLASSES
from theorems.pipeline import run_theorem, theorem_summary
from theorems.registry import load_registry
from theorems.spec import (
    Assumption,
    Citation,
    Claim,
    ClaimKind,
    Domain,
    Role,
    SpecError,
    Structural,
    Sym,
    Theorem,
    Verdict,
)
from theorems.validate import validate

SC = "lsmooth_strongly_convex"
L_ = Sym("L", Domain.POSITIVE, Role.INSTANCE, "L")
K_ = Sym("kappa", Domain.POSITIVE, Role.INSTANCE, "kappa")
ETA_ = Sym("eta", Domain.POSITIVE, Role.PARAMETER)
DN_ = Sym("DN", Domain.NONNEGATIVE, Role.OBSERVABLE, "dist2_last")
D0_ = Sym("D0", Domain.NONNEGATIVE, Role.OBSERVABLE, "dist2_first")
N_ = Sym("N", Domain.POSITIVE, Role.OBSERVABLE, "horizon")
L, kappa, eta, DN, D0, N = (s.s for s in (L_, K_, ETA_, DN_, D0_, N_))


def gd_distance_rate(factor: Any = 1, constants: Any = None, tid: str = "user.gd_sc_distance") -> Theorem:
    """GD with eta = 1/L on mu-strongly convex L-smooth f: ||x_N - x*||^2 <= (1 - 1/kappa)^(2N)
    ||x_0 - x*||^2 -- per step the error contracts by max |1 - lambda / L| over curvatures lambda in
    [mu, L], which is 1 - mu / L, attained by the quadratic mu/2 ||x||^2 (so the bound is exact)."""
    return Theorem(
        id=tid,
        title="GD with step 1/L on F_{mu,L}: distance contracts by (1 - 1/kappa) per step",
        citation=Citation("Nesterov, Lectures on Convex Optimization (2018)", "Theorem 2.1.15"),
        symbols=(L_, K_, ETA_, DN_, D0_, N_),
        structure=(Structural("sc", SC, "f is mu-strongly convex and L-smooth",
                              constants={"kappa": 10} if constants is None else constants),),
        dynamics="fo_gd",
        assumptions=(Assumption("step", sympy.Eq(eta, 1 / L), "eta = 1/L"),),
        claims=(Claim("rate", DN <= factor * (1 - 1 / kappa) ** (2 * N) * D0,
                      "||x_N - x*||^2 <= (1 - 1/kappa)^(2N) ||x_0 - x*||^2", kind=ClaimKind.TRAJECTORY,
                      expect=Verdict.PASS if factor == 1 else Verdict.FAIL),),
        horizon=5,
        dims=(1, 2),
    )


def _knobs(family: int, seed: int, dim: int = 2) -> Knobs:
    return Knobs(family=family, dim=dim, pattern=0, log_scale=0.3, log_w0=0.0, u=(), seed=seed)


def test_every_generated_and_polished_member_has_the_pinned_kappa() -> None:
    base = CLASSES[SC]
    cls = constrained(base, normalise(base, {"kappa": 10}))
    rng = np.random.default_rng(0)
    for fam in cls.families:
        for seed in range(4):
            b = fam.generate(rng, 32, _knobs(0, seed, 1 + seed % 3))
            ok, why = cls.member(b)
            assert ok.all(), [w for w in why if w][:2]
            assert np.all(b.attrs["kappa"] == 10.0)
            np.testing.assert_allclose(b.attrs["L"] / b.attrs["mu"], 10.0, rtol=4e-16)
    p = cls.parametrisation
    assert p is not None
    P = p.size(5)
    lo, hi = p.bounds(P)
    for theta in (p.sample(rng, 64, P), np.where(rng.random((64, P)) < 0.5, lo, hi)):
        b = p.build(theta)
        ok, why = cls.member(b)
        assert ok.all(), [w for w in why if w][:2]
        assert np.all(b.attrs["kappa"] == 10.0)
    # An unpinned member (kappa drawn in [2, 100]) is outside the pinned class, and says why.
    free = base.families[0].generate(rng, 16, _knobs(0, 9))
    ok, why = cls.member(free)
    assert not ok.any() and "constant kappa is outside the spec's 10" in why[0]


def test_ranges_and_pairs_of_constants_are_honoured() -> None:
    base = CLASSES[SC]
    rng = np.random.default_rng(1)
    for given in ({"mu": (0.1, 1.0)}, {"L": 1, "kappa": (3, 30)}, {"L": (1, 4), "mu": 0.5}, {"mu": 2, "kappa": 5}):
        cls = constrained(base, normalise(base, given))
        for fam in cls.families:
            b = fam.generate(rng, 32, _knobs(0, 3))
            ok, why = cls.member(b)
            assert ok.all(), (given, [w for w in why if w][:2])
        p = cls.parametrisation
        assert p is not None
        b = p.build(p.sample(rng, 16, p.size(3)))
        assert cls.member(b)[0].all(), given
    smooth = constrained(CLASSES["lsmooth"], normalise(CLASSES["lsmooth"], {"L": 1}))
    b = smooth.families[1].generate(rng, 16, _knobs(1, 0))
    assert np.all(b.attrs["L"] == 1.0) and smooth.member(b)[0].all()


def test_pinned_kappa_rate_passes_and_a_false_version_is_refuted() -> None:
    """The exact rate with kappa = 10 pinned passes (and every instance had kappa = 10: any other
    would be a membership error); at 0.99x the exact value it is refuted and confirmed."""
    lookup = load_registry().lookup
    true = gd_distance_rate()
    validate(true)
    rec = run_theorem(true, budget=budget("quick"), seed=0, backend="numba", lookup=lookup)[0]
    assert rec.verdict == Verdict.PASS.value, rec.reason
    w = rec.worst_instance
    assert w is not None and w.params["kappa"] == 10.0
    assert rec.worst_ratio is not None and rec.worst_ratio >= 0.99
    assert theorem_summary(true)["constants"] == {"sc": {"kappa": 10.0}}
    assert "[pinned: kappa = 10]" in theorem_summary(true)["structure"][0]
    false = gd_distance_rate(sympy.Rational(99, 100), tid="user.gd_sc_distance_false")
    bad = run_theorem(false, budget=budget("quick"), seed=0, backend="numba", lookup=lookup)[0]
    assert bad.verdict == Verdict.FAIL.value, bad.reason
    ce = bad.counterexample
    assert ce is not None and ce.confirmed_violation > ce.tolerance
    assert ce.instance.params["kappa"] == 10.0


@pytest.mark.parametrize("given, words", [
    ({"Lip": 1}, "has no constant 'Lip'"),
    ({"kappa": 0.5}, "kappa = 0.5 is outside the class's domain 1 < kappa"),
    ({"L": -1}, "L = -1 is outside the class's domain 0 < L"),
    ({"kappa": "ten"}, "kappa: must be a number"),
    ({"kappa": True}, "kappa: must be a number"),
    ({"kappa": float("nan")}, "kappa: must be finite"),
    ({"kappa": (30, 3)}, "low > high"),
    ({"kappa": (1, 2, 3)}, "a range is a (low, high) pair"),
    ({"L": 1, "mu": 0.1, "kappa": 10}, "at most two of L, mu and kappa"),
    ({"L": 1, "mu": (0.1, 1)}, "kappa = L / mu > 1"),
    (["kappa", 10], "must be a dict"),
])
def test_bad_constants_are_one_line_spec_errors(given: Any, words: str) -> None:
    with pytest.raises(SpecError) as err:
        validate(gd_distance_rate(constants=given))
    msg = str(err.value)
    assert msg.startswith("user.gd_sc_distance: structure[0].constants: ") and "\n" not in msg
    assert words in msg, msg


def test_a_class_without_declared_constants_refuses_pins() -> None:
    from theorems.catalogue import descent

    thm = descent.lemma_2_1_4
    s = thm.structure[0]
    with pytest.raises(SpecError, match=r"structure\[0\]\.constants: class .* has no constant 'L'"):
        validate(replace(thm, structure=(replace(s, constants={"L": 1}),)))


def test_a_counterexample_outside_the_pins_is_an_error_not_a_refutation() -> None:
    """Defence in depth behind the search's membership: the certificate of a confirmed
    counterexample compares its constants with the pins exactly."""
    from numeric.engine.experiment import ClaimOutcome, Found
    from numeric.engine.membership import check_counterexample
    from theorems.pipeline import compile_theorem

    exp = compile_theorem(gd_distance_rate()).experiments[0][0]
    assert exp.constants == (("kappa", 10.0, 10.0),)
    found = Found(family="t", dynamics="fo_gd", data={}, params={"L": 1.0, "mu": 0.11, "kappa": 1 / 0.11}, step=None,
                  observed=1.0, bound=0.5, ratio=2.0, slack=-1.0, margin=0.5, tol=0.0)
    out = ClaimOutcome("rate")
    assert not check_counterexample(exp, out, found)
    assert out.error is not None and "kappa" in out.error and "outside the spec's [10, 10]" in out.error
