"""Exact membership of the diagonal-bound, PL least-squares, PL sine and small-network classes
(issue 17): generated members pass their exact (or extended) check, and a constant moved just past
its exact limit is rejected with a reason that names it.  The catalogue claims refuted on these
classes are checked in tests/test_exact_membership.py (``REFUTED``); the relaxed classes of the
necessity check are run here."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from kernels import RidgeQuadratic

from numeric import budget
from numeric.api import InstanceBatch, Knobs
from numeric.families.exact_members import diagonal_member_exact
from numeric.registry import CLASSES
from theorems.pipeline import run_theorem
from theorems.registry import build_registry


def _ridge_one(b: InstanceBatch, i: int, **attrs: float) -> InstanceBatch:
    """Instance i of a ridge-quadratic batch as a batch of one, some constants replaced."""
    p = b.problem
    one = RidgeQuadratic(p.A[i:i + 1], p.b[i:i + 1], p.R[i:i + 1], p.s[i:i + 1], p.c[i:i + 1], p.psi)
    a = {k: np.asarray(v)[i:i + 1].copy() for k, v in b.attrs.items()}
    a.update({k: np.array([v]) for k, v in attrs.items()})
    return InstanceBatch(b.family, one, b.w0[i:i + 1], a)


def _draws(cls_name: str, per_family: int, n: int = 10) -> list[InstanceBatch]:
    cls = CLASSES[cls_name]
    out = []
    for fam in cls.families:
        for seed in range(per_family):
            rng = np.random.default_rng(seed)
            k = Knobs(family=0, dim=(1, 2, 3, 5, 8, 12)[seed % 6], pattern=seed % 8,
                      log_scale=float(rng.uniform(-3, 3)), log_w0=float(rng.uniform(-1, 1)), u=(), seed=seed)
            b = fam.generate(rng, n, k)
            ok, why = cls.member(b)
            assert ok.all(), why
            out.append(b)
    return out


# ------------------------------------------------------------------------------------ diagonal_bound


def test_diagonal_bound_generated_members_pass_and_L_below_the_bound_fails() -> None:
    assert CLASSES["diagonal_bound"].member_exact is diagonal_member_exact
    count = 0
    for b in _draws("diagonal_bound", 8):
        for i in range(b.size):
            m = diagonal_member_exact(_ridge_one(b, i))
            assert m.ok and m.method == "exact", m.reason
            count += 1
            A = [[Fraction(x) for x in row] for row in np.asarray(b.problem.A[i], np.float64)]
            R = np.asarray(b.problem.R[i], np.float64)
            c = np.asarray(b.problem.c[i], np.float64)
            exact = max(abs(A[j][j]) + sum((abs(Fraction(float(ck))) * Fraction(float(r[j])) ** 2 for ck, r in zip(c, R)),
                                           Fraction(0)) for j in range(len(A)))
            # the largest float below the exact bound is rejected, and the reason names L
            below = float(exact)
            if Fraction(below) >= exact:
                below = float(np.nextafter(below, -np.inf))
            bad = diagonal_member_exact(_ridge_one(b, i, L=below))
            assert not bad.ok and "exceeds L" in bad.reason
    assert count >= 240


def test_diagonal_bound_relaxation_stays_necessary_with_exact_membership() -> None:
    """The descent lemma with L only a diagonal bound fails, and its counterexample is certified exactly."""
    from theorems.catalogue import descent
    from theorems.necessity import relaxations

    v = relaxations(descent.lemma_2_1_4)["structure:smooth -> diagonal_bound"][1][0].theorem
    reg = build_registry([("necessity", "", [v])])
    recs = run_theorem(v, budget=budget("quick"), seed=0, backend="numpy", lookup=reg.lookup)
    assert recs and all(r.verdict == "fail" for r in recs), [r.reason for r in recs]
    assert all(r.counterexample is not None and r.counterexample.membership == "exact" for r in recs)


# ------------------------------------------------------- least squares: os_linear, pl_smooth, pl_mu_overstated


def _min_one(b: InstanceBatch, i: int, **attrs: float) -> InstanceBatch:
    """Instance i of a MinimizerProblem batch as a batch of one, some constants replaced."""
    from numeric.families.pl import MinimizerProblem

    p = b.problem
    r = p.ridge
    rq = RidgeQuadratic(r.A[i:i + 1], r.b[i:i + 1], r.R[i:i + 1], r.s[i:i + 1], r.c[i:i + 1], r.psi)
    a = {k: np.asarray(v)[i:i + 1].copy() for k, v in b.attrs.items()}
    a.update({k: np.array([v]) for k, v in attrs.items()})
    return InstanceBatch(b.family, MinimizerProblem(rq, p.wstar[i:i + 1]), b.w0[i:i + 1], a)


def _ulps(x: float, k: int) -> float:
    """x moved by k ulps (towards +inf for k > 0)."""
    for _ in range(abs(k)):
        x = float(np.nextafter(x, np.inf if k > 0 else -np.inf))
    return x


def _crafted_os(**attrs: float) -> InstanceBatch:
    """X = [[2, 0, 0], [0, 1, 0]], y = (1, 1): H = diag(4, 1, 0), b = -X^T y, f* = -1, and every
    constant exactly at its limit (L = 4, mu = 2, alpha = 1/2, beta = 2)."""
    from numeric.families.pl import MinimizerProblem

    rq = RidgeQuadratic.quadratic(np.diag([4.0, 1.0, 0.0])[None], np.array([[-2.0, -1.0, 0.0]]))
    a = {"L": 4.0, "mu": 2.0, "f_star": -1.0, "d": 3.0, "alpha": 0.5, "beta": 2.0}
    a.update(attrs)
    return InstanceBatch("crafted", MinimizerProblem(rq, np.zeros((1, 3))), np.zeros((1, 3)),
                         {k: np.array([v]) for k, v in a.items()})


def test_os_linear_hook_decides_each_constant_at_its_limit() -> None:
    from numeric.families.pl_exact import os_linear_member_exact

    assert os_linear_member_exact(_crafted_os()).ok
    for name, value, needle in (("L", _ulps(4.0, -1), "L ="), ("mu", _ulps(2.0, 1), "mu ="),
                                ("alpha", _ulps(0.5, 1), "alpha"), ("beta", _ulps(2.0, -1), "beta"),
                                ("f_star", _ulps(-1.0, 1), "f_star"), ("f_star", _ulps(-1.0, -1), "f_star")):
        m = os_linear_member_exact(_crafted_os(**{name: value}))
        assert not m.ok and m.method == "exact" and needle in m.reason, (name, m)


def test_least_squares_members_pass_exactly_and_constants_past_the_spectrum_fail() -> None:
    from numeric.families.pl_exact import least_squares_member_exact, os_linear_member_exact

    assert CLASSES["os_linear"].member_exact is os_linear_member_exact
    count = 0
    for cname, hook in (("os_linear", os_linear_member_exact), ("pl_smooth", least_squares_member_exact)):
        for b in _draws(cname, 12)[:12]:  # pl_smooth's first family is least squares
            assert b.family in ("overparam_linear", "least_squares")
            for i in range(b.size):
                m = hook(_min_one(b, i))
                assert m.ok and m.method == "exact", (cname, m.reason)
                count += 1
                if i % 3:
                    continue
                ev = np.linalg.eigvalsh(np.asarray(b.problem.ridge.A[i], np.float64))
                d = ev.size
                top, low = ev[-1], ev[ev > 64 * d * 2.2e-16 * ev[-1]].min()
                # a few hundred ulps past the float eigenvalue is past the exact one too
                assert "L =" in hook(_min_one(b, i, L=_ulps(top, -256 * d))).reason
                assert "mu =" in hook(_min_one(b, i, mu=_ulps(2 * low, 256 * d))).reason
                assert "f_star" in hook(_min_one(b, i, f_star=_ulps(float(b.attrs["f_star"][i]), 1))).reason
                if cname == "os_linear":
                    assert "beta" in hook(_min_one(b, i, beta=_ulps(float(np.sqrt(top)), -256 * d))).reason
                    assert "alpha" in hook(_min_one(b, i, alpha=_ulps(float(np.sqrt(low)) / 2, 256 * d))).reason
    assert count >= 240


# --------------------------------------------------------- pl_smooth (all families), pl_mu_overstated, pl_sine


def test_pl_hooks_pass_every_generated_family_and_reject_moved_constants() -> None:
    from numeric.families.pl_exact import pl_member_exact, pl_mu_overstated_member_exact

    for name in ("pl_smooth", "pl_mu_overstated", "pl_sine"):
        assert CLASSES[name].member_exact is not None
    count = 0
    for cname, hook in (("pl_smooth", pl_member_exact), ("pl_mu_overstated", pl_mu_overstated_member_exact)):
        for b in _draws(cname, 6):
            method = "extended" if b.family.startswith("sine") else "exact"
            for i in range(b.size):
                m = hook(_min_one(b, i))
                assert m.ok and m.method == method, (b.family, m.reason)
                count += 1
    assert count >= 300
    for b in _draws("pl_smooth", 4):
        for i in range(0, b.size, 3):
            L, mu, fs = (float(b.attrs[k][i]) for k in ("L", "mu", "f_star"))
            if b.family == "sine":
                rq = b.problem.ridge
                alpha, beta, gamma = (Fraction(float(np.asarray(x)[i].ravel()[0])) for x in (rq.A, rq.R, rq.c))
                bound = float(alpha + gamma * beta * beta)
                below = bound if Fraction(bound) < alpha + gamma * beta * beta else float(np.nextafter(bound, -np.inf))
                assert "exceeds L" in pl_member_exact(_min_one(b, i, L=below)).reason
                # f_star one ulp lower is below min f (the PL inequality fails at the minimizer), one ulp
                # higher is no longer min f rounded up
                assert "f_star" in pl_member_exact(_min_one(b, i, f_star=_ulps(fs, -1))).reason
                assert "f_star" in pl_member_exact(_min_one(b, i, f_star=_ulps(fs, 1))).reason
                # the tight PL constant of the normalised example is 0.3511 (book), 1/16 certified:
                # 0.36 / 0.0625 times the certified one is past it
                assert "mu" in pl_member_exact(_min_one(b, i, mu=mu * 0.36 / 0.0625)).reason
            elif b.family == "g_of_aw":
                assert "f_star" in pl_member_exact(_min_one(b, i, f_star=_ulps(fs, 1))).reason
                rq = b.problem.ridge
                Ai = np.asarray(rq.R[i], np.float64)
                top = np.linalg.eigvalsh(rq.A[i] + Ai.T @ (np.asarray(rq.c[i])[:, None] * Ai))[-1]
                assert "exceed L" in pl_member_exact(_min_one(b, i, L=top * (1 - 1e-9))).reason
                assert "mu" in pl_member_exact(_min_one(b, i, mu=mu * (1 + 1e-6))).reason
            # doubling mu puts it outside pl_smooth but inside pl_mu_overstated (mu/2 certified)
            if b.family != "sine":
                assert not pl_member_exact(_min_one(b, i, mu=2 * mu)).ok or mu == 0
            assert pl_mu_overstated_member_exact(_min_one(b, i, mu=2 * mu)).ok


def test_kns_sine_hook_accepts_the_published_constant_and_rejects_the_tight_one_exceeded() -> None:
    """a = s = 1: L = 8, certified book mu = 1/16; the tight book constant is about 0.3511."""
    from numeric.families.pl import SINE_MU_OVER_L, MinimizerProblem, sine_profile
    from numeric.families.pl_exact import pl_member_exact

    prob = sine_profile(np.array([1.0]), np.array([1.0]), 2)
    fs = float(np.nextafter(-3.0, 0.0))  # -d gamma = -3 is a float; min f lies just above it
    base = {"L": 8.0, "mu": 8.0 * SINE_MU_OVER_L, "f_star": fs, "d": 2.0}

    def batch(**kw: float) -> InstanceBatch:
        a = {**base, **kw}
        return InstanceBatch("sine", MinimizerProblem(prob, np.zeros((1, 2))), np.zeros((1, 2)),
                             {k: np.array([v]) for k, v in a.items()})

    m = pl_member_exact(batch())
    assert m.ok and m.method == "extended", m.reason
    assert pl_member_exact(batch(mu=0.35)).ok
    assert not pl_member_exact(batch(mu=0.3525)).ok
    assert "exceeds L" in pl_member_exact(batch(L=float(np.nextafter(8.0, 0.0)))).reason
    assert "f_star" in pl_member_exact(batch(f_star=-3.0)).reason


def test_mu_overstated_relaxation_stays_necessary_with_exact_membership() -> None:
    from theorems.catalogue import pl
    from theorems.necessity import relaxations

    v = relaxations(pl.pl_rate)["structure:pl -> pl_mu_overstated"][1][0].theorem
    reg = build_registry([("necessity", "", [v])])
    recs = run_theorem(v, budget=budget("quick"), seed=0, backend="numpy", lookup=reg.lookup)
    fails = [r for r in recs if r.verdict == "fail"]
    assert fails, [r.reason for r in recs]
    assert all(r.counterexample is not None and r.counterexample.membership in ("exact", "extended") for r in fails)
