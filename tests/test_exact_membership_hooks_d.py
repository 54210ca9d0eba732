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
