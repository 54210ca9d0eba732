"""Probability and scaling claims: the statistics, and the whole path from spec to verdict on a toy
dynamics whose event probabilities and growth laws are known exactly."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import sympy

from kernels.rng import uniform
from kernels import RidgeQuadratic
from numeric import Dynamics, Run, RunRequest, observables, register_dynamics
from numeric.engine.stats import clopper_pearson, decide_interval, fit_growth
from reports.records import RunRecord, canonical_json
from theorems.pipeline import run_theorem
from theorems.registry import build_registry
from theorems.replay import replay_claim
from theorems.spec import (
    Citation, Claim, ClaimKind, Domain, Role, Scaling, SpecError, Structural, Sym, Theorem, Assumption,
)
from theorems.validate import validate
import numeric

# ------------------------------------------------------------------------------------------ statistics


def test_clopper_pearson_matches_closed_forms() -> None:
    # k = 0: the upper end solves (1 - p)^n = a/2; k = n: the lower end solves p^n = a/2.
    lo, hi = clopper_pearson(0, 20, 0.95)
    assert lo == 0.0 and hi == pytest.approx(1 - 0.025 ** (1 / 20), rel=1e-12)
    lo, hi = clopper_pearson(20, 20, 0.95)
    assert hi == 1.0 and lo == pytest.approx(0.025 ** (1 / 20), rel=1e-12)
    # A textbook value: 7 of 20 at 95 % gives [0.1539, 0.5922].
    lo, hi = clopper_pearson(7, 20, 0.95)
    assert (round(lo, 4), round(hi, 4)) == (0.1539, 0.5922)


def test_clopper_pearson_covers_at_least_its_level() -> None:
    rng = np.random.default_rng(0)
    p, n = 0.3, 50
    ks = rng.binomial(n, p, size=4000)
    cover = np.mean([lo <= p <= hi for lo, hi in (clopper_pearson(int(k), n, 0.9) for k in ks)])
    assert cover >= 0.9


def test_clopper_pearson_rejects_bad_counts() -> None:
    with pytest.raises(ValueError, match="successes"):
        clopper_pearson(5, 3, 0.9)
    with pytest.raises(ValueError, match="level"):
        clopper_pearson(1, 3, 1.0)


@pytest.mark.parametrize("sense,lo,hi,b,want", [
    ("ge", 0.95, 0.99, 0.9, "support"), ("ge", 0.5, 0.8, 0.9, "refute"), ("ge", 0.85, 0.95, 0.9, "open"),
    ("le", 0.1, 0.2, 0.3, "support"), ("le", 0.4, 0.5, 0.3, "refute"), ("le", 0.2, 0.4, 0.3, "open"),
])
def test_interval_decisions(sense: str, lo: float, hi: float, b: float, want: str) -> None:
    assert decide_interval(lo, hi, b, sense) == want


def test_growth_fits_recover_known_exponents() -> None:
    d = np.array([2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], dtype=float)
    noise = np.exp(0.01 * np.sin(np.arange(d.size)))
    power = fit_growth(d, 3.0 * d**0.5 * noise, "power", 0.95)
    assert power.lower < 0.5 < power.upper and power.upper - power.lower < 0.05
    polylog = fit_growth(d, 5.0 * np.log(d) ** 2 * noise, "polylog", 0.95)
    assert polylog.lower < 2.0 < polylog.upper
    # A polylog law is not a power law: the power fit's exponent drifts and its fit is worse.
    wrong = fit_growth(d, 5.0 * np.log(d) ** 2 * noise, "power", 0.95)
    assert wrong.r2 < polylog.r2
    lin = fit_growth(d, 2.0 + 0.25 * d, "linear", 0.95)
    assert lin.exponent == pytest.approx(0.25)


def test_growth_fit_rejects_unusable_data() -> None:
    with pytest.raises(ValueError, match="three"):
        fit_growth(np.array([2.0, 2.0, 4.0]), np.array([1.0, 1.0, 2.0]), "power", 0.9)
    with pytest.raises(ValueError, match="positive"):
        fit_growth(np.array([2.0, 4.0, 8.0]), np.array([1.0, -1.0, 2.0]), "power", 0.9)


# ------------------------------------------------------------------------- a toy dynamics, end to end
# "coin": each trajectory draws u ~ U(0, 1) from the counter-based generator keyed by (seed,
# trajectory id); its "steps" is the geometric-like count ceil(d * u) so its median grows like d.


@dataclass
class _CoinRun:
    u: np.ndarray
    steps: np.ndarray


def _run_coin(req: RunRequest) -> Run:
    u = uniform(req.seed, np.asarray(req.instance_ids, dtype=np.uint64), 0, 0).astype(req.dtype)
    d = np.full(u.shape, req.problem.dim, dtype=req.dtype)
    return Run(_CoinRun(u=u, steps=np.ceil(d * d * u) + 1), backend="numpy")


register_dynamics(Dynamics(
    name="test_coin", run=_run_coin,
    observables=observables(trajectory={"coin": lambda r: r.u, "steps": lambda r: r.steps}),
    accepts=(RidgeQuadratic,), doc="test dynamics: one uniform draw per trajectory",
))

P = Sym("P", Domain.NONNEGATIVE, Role.PROBABILITY, doc="probability that the coin shows below p")
p = Sym("p", Domain.POSITIVE, Role.PARAMETER, doc="threshold")
coin = Sym("coin", Domain.NONNEGATIVE, Role.OBSERVABLE, source="coin")
expo = Sym("k", Domain.REAL, Role.FIT, doc="growth exponent")
L = Sym("L", Domain.POSITIVE, Role.INSTANCE, source="L")


def _coin_theorem(claims: tuple[Claim, ...], tid: str = "toy.coin") -> Theorem:
    return Theorem(
        id=tid, title="A coin", citation=Citation("tests", "toy"), dynamics="test_coin",
        symbols=(P, p, coin, expo, L),
        structure=(Structural("smooth", "smooth", "any smooth instance"),),
        assumptions=(Assumption("p_low", sympy.Ge(p.s, sympy.Rational(1, 5))),
                     Assumption("p_high", sympy.Le(p.s, sympy.Rational(4, 5)))),
        claims=claims, horizon=1, dims=(2, 3),
    )


def _prob(name: str, rel, **kw) -> Claim:
    return Claim(name, rel, name, kind=ClaimKind.PROBABILITY, event=sympy.Le(coin.s, p.s), trials=400,
                 confidence=0.99, **kw)


TRUE_GE = _prob("half", sympy.Ge(P.s, p.s / 2))
FALSE_GE = _prob("too_much", sympy.Ge(P.s, p.s + sympy.Rational(3, 20)), printed=True, corrected_by="half")
TRUE_LE = _prob("at_most", sympy.Le(P.s, p.s + sympy.Rational(3, 20)))
FALSE_LE = _prob("at_most_less", sympy.Le(P.s, p.s - sympy.Rational(3, 20)), printed=True, corrected_by="at_most")
EXACT = _prob("exact", sympy.Ge(P.s, p.s), expect="inconclusive")


def _run(thm: Theorem, seed: int = 0):
    thm = validate(thm)
    reg = build_registry([("tests", "", [thm])])
    return run_theorem(thm, budget=numeric.budget("quick"), seed=seed, backend="numpy", lookup=reg.lookup), reg


def test_probability_claims_get_the_verdict_their_intervals_decide() -> None:
    recs, reg = _run(_coin_theorem((TRUE_GE, FALSE_GE, TRUE_LE, FALSE_LE, EXACT)))
    got = {r.claim: r.verdict for r in recs}
    assert got == {"half": "pass", "too_much": "fail", "at_most": "pass", "at_most_less": "fail",
                   "exact": "inconclusive"}, {r.claim: r.reason for r in recs}
    for r in recs:
        st = r.probability
        assert st["trials"] == 400 and st["confidence"] == 0.99 and st["instances"] == r.instances > 0
        w = st["worst"]
        assert 0 <= w["lower"] <= w["estimate"] <= w["upper"] <= 1
        assert r.samples["columns"][:4] == ["estimate", "lower", "upper", "bound"]
    fail = next(r for r in recs if r.claim == "too_much")
    conf = fail.probability["confirmation"]
    assert conf["decision"] == "refute" and conf["trial_id_start"] >= 1 << 40
    # The counterexample replays from its record: same trial ids, same counts, still refuted.
    res = replay_claim(reg, fail)
    assert res.reproduced and res.violation > 0
    assert "replay_recorded" in fail.counterexample.replay


def test_probability_snippet_runs() -> None:
    recs, _ = _run(_coin_theorem((TRUE_GE, FALSE_GE)))
    fail = next(r for r in recs if r.claim == "too_much")
    # The snippet needs the theorem in the registry; run it against this module's registry instead.
    src = fail.counterexample.replay.replace("instance)", "instance, registry=_reg)")
    ns = {"_reg": build_registry([("tests", "", [validate(_coin_theorem((TRUE_GE, FALSE_GE)))])])}
    exec(compile(src, "<snippet>", "exec"), ns)  # noqa: S102 - our own generated code
    assert ns["res"].reproduced


def test_probability_runs_are_deterministic() -> None:
    a, _ = _run(_coin_theorem((TRUE_GE, FALSE_GE)), seed=3)
    b, _ = _run(_coin_theorem((TRUE_GE, FALSE_GE)), seed=3)
    ja = canonical_json(RunRecord(claims=tuple(a), seed=3, budget="quick", backend="numpy"), drop_volatile=True)
    jb = canonical_json(RunRecord(claims=tuple(b), seed=3, budget="quick", backend="numpy"), drop_volatile=True)
    assert ja == jb


def _scaling(name: str, rel, model: str, **kw) -> Claim:
    return Claim(name, rel, name, kind=ClaimKind.SCALING, confidence=0.95,
                 scaling=Scaling(observable="steps", model=model, statistic="median", sizes=(2, 4, 8, 16, 32, 64),
                                 instances=2, trials=200), **kw)


def test_scaling_claims_fit_and_decide() -> None:
    # median steps = ceil(d^2 / 2) + 1: a power law of exponent ~2 (slightly less at small d).
    claims = (
        _scaling("grows_at_most_quadratically", sympy.Le(expo.s, sympy.Rational(21, 10)), "power"),
        _scaling("grows_at_most_linearly", sympy.Le(expo.s, 1), "power", printed=True,
                 corrected_by="grows_at_most_quadratically"),
        _scaling("grows_faster_than_d", sympy.Ge(expo.s, sympy.Rational(3, 2)), "power"),
    )
    recs, reg = _run(_coin_theorem(claims, "toy.coin_scaling"))
    got = {r.claim: r.verdict for r in recs}
    assert got == {"grows_at_most_quadratically": "pass", "grows_at_most_linearly": "fail",
                   "grows_faster_than_d": "pass"}, {r.claim: r.reason for r in recs}
    sc = recs[0].scaling
    assert sc["sizes"] == [2, 4, 8, 16, 32, 64] and len(sc["values"]) == 6
    assert sc["lower"] <= sc["exponent"] <= sc["upper"] and set(sc["alternatives"]) == {"polylog", "linear"}
    assert replay_claim(reg, recs[1]).reproduced


def test_statistical_specs_are_validated() -> None:
    with pytest.raises(SpecError, match="event"):
        validate(_coin_theorem((Claim("x", sympy.Ge(P.s, p.s), "x", kind=ClaimKind.PROBABILITY),)))
    with pytest.raises(SpecError, match="role probability"):
        validate(_coin_theorem((Claim("x", sympy.Ge(p.s, P.s), "x", kind=ClaimKind.PROBABILITY,
                                      event=sympy.Le(coin.s, p.s)),)))
    with pytest.raises(SpecError, match="probability or scaling claims only"):
        validate(_coin_theorem((Claim("x", sympy.Ge(P.s, p.s), "x", kind=ClaimKind.TRAJECTORY),)))
    with pytest.raises(SpecError, match="scaling"):
        validate(_coin_theorem((Claim("x", sympy.Le(expo.s, 1), "x", kind=ClaimKind.SCALING),)))
    with pytest.raises(SpecError, match="must be a number"):
        validate(_coin_theorem((_scaling("x", sympy.Le(expo.s, p.s), "power"),)))
    with pytest.raises(SpecError, match="confidence"):
        validate(_coin_theorem((_prob("x", sympy.Ge(P.s, p.s / 2)).__class__(
            "x", sympy.Ge(P.s, p.s / 2), "x", kind=ClaimKind.PROBABILITY, event=sympy.Le(coin.s, p.s),
            confidence=1.5),)))


def test_ratio_histogram_and_samples_are_recorded_for_deterministic_claims() -> None:
    from theorems.catalogue import descent

    thm = next(t for t in descent.THEOREMS if t.id == "descent.footnote_3")
    reg = build_registry([("tests", "", list(descent.THEOREMS))])
    recs = run_theorem(thm, budget=numeric.budget("quick"), seed=0, backend="numpy", lookup=reg.lookup)
    r = recs[0]
    h = r.ratio_hist
    assert len(h["counts"]) == len(h["log10_edges"]) - 1 == 35
    assert sum(h["counts"]) + h["below"] + h["above"] + h["undefined"] == r.instances
    cols = r.samples["columns"]
    assert cols[:3] == ["observed", "bound", "ratio"] and 0 < len(r.samples["rows"]) <= 256
    assert all(len(row) == len(cols) for row in r.samples["rows"])
    assert "eta" in cols and "L" in cols
