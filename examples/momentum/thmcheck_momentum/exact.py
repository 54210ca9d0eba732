"""Exact membership hooks (``InstanceClass.member_exact``) of the momentum example's classes.

thmcheck calls a class's hook on every confirmed counterexample (and the shrinker on each of its
simplifications): a violation only counts when the instance belongs to its class with no rounding
slack.  Every stored float is a dyadic rational, so these definitions, polynomial inequalities in
the stored arrays and constants, are decided exactly with ``numeric.exact_membership`` (Fractions,
an exact PSD test), and each hook answers ``Membership(ok, "exact", reason)``.

* ``strongly_convex_quadratic``: ``A`` symmetric, ``A - mu I`` and ``L I - A`` PSD (every eigenvalue
  of A in [mu, L]), ``0 < mu <= L``, no ridge terms.
* ``smooth_convex``: ``A`` symmetric PSD, ``c >= 0``, Huber widths ``delta > 0`` and
  ``L I - A - R^T diag(c) R`` PSD.  The Huber function is C^1 with ``h'`` 1-Lipschitz and
  nondecreasing, so ``grad f(x) - grad f(y) = (A + R^T diag(c t) R)(x - y)`` for some ``t`` in
  [0, 1]^m (the difference quotients of ``h'``); that matrix lies between ``A >= 0`` and
  ``A + R^T diag(c) R <= L I`` in the Loewner order, which gives convexity and L-smoothness.
* ``smooth_strongly_convex_pwq``: per coordinate, knots strictly increasing, every interior
  curvature ``(g_{j+1} - g_j) / (z_{j+1} - z_j)`` and both end curvatures in [mu, L] (decided as
  ``mu dz <= dg <= L dz``), ``0 < mu <= L``, and ``g_m = 0`` at the declared minimiser knot.  A
  separable f whose coordinate functions have f_i' continuous and piecewise linear with slopes in
  [mu, L] is mu-strongly convex and L-smooth, and ``f'_i(z_m) = 0`` makes the stored x* its
  minimiser.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from numeric.api import InstanceBatch, Membership
from numeric.exact_membership import add, fraction_matrix, fractions, gram, identity_times, is_psd

__all__ = ["quadratic_member_exact", "convex_member_exact", "pwq_member_exact"]


def _no(reason: str) -> Membership:
    return Membership(False, "exact", reason)


def _const(batch: InstanceBatch, name: str) -> float:
    return float(np.asarray(batch.attrs[name], dtype=np.float64).reshape(-1)[0])


def _finite(*arrays: Any) -> bool:
    return all(bool(np.isfinite(np.asarray(a, dtype=np.float64)).all()) for a in arrays)


def _symmetric_A(problem: Any) -> list[list[Fraction]] | None:
    A = fraction_matrix(np.asarray(problem.A, dtype=np.float64)[0])
    n = len(A)
    return A if all(A[i][j] == A[j][i] for i in range(n) for j in range(i)) else None


def quadratic_member_exact(batch: InstanceBatch) -> Membership:
    """``strongly_convex_quadratic``: every eigenvalue of A in [mu, L], decided exactly."""
    p = batch.problem
    L, mu = _const(batch, "L"), _const(batch, "mu")
    if not _finite(p.A, p.xs, p.fs, L, mu):
        return _no("non-finite problem data or constants")
    if not 0 < mu <= L:
        return _no(f"constants must satisfy 0 < mu <= L (mu = {mu!r}, L = {L!r})")
    if np.asarray(p.c).shape[1] != 0:
        return _no("a quadratic has no ridge terms")
    A = _symmetric_A(p)
    if A is None:
        return _no("A is not symmetric")
    d = len(A)
    if not is_psd(add(A, identity_times(d, Fraction(mu)), -1)):
        return _no(f"A - mu I is not PSD: an eigenvalue of A is below mu = {mu!r}")
    if not is_psd(add(identity_times(d, Fraction(L)), A, -1)):
        return _no(f"L I - A is not PSD: an eigenvalue of A is above L = {L!r}")
    return Membership(True, "exact")


def convex_member_exact(batch: InstanceBatch) -> Membership:
    """``smooth_convex``: A PSD, c >= 0, delta > 0 and ``L I - A - R^T diag(c) R`` PSD, decided
    exactly (see the module docstring for why that is convexity and L-smoothness)."""
    p = batch.problem
    L = _const(batch, "L")
    if not _finite(p.A, p.xs, p.fs, p.R, p.c, p.delta, L):
        return _no("non-finite problem data or constants")
    if not L > 0:
        return _no(f"L = {L!r} must be positive")
    A = _symmetric_A(p)
    if A is None:
        return _no("A is not symmetric")
    d = len(A)
    c = fractions(np.asarray(p.c, dtype=np.float64)[0])
    if any(x < 0 for x in c):
        return _no("a ridge weight c_j is negative (f would not be convex)")
    if not bool((np.asarray(p.delta, dtype=np.float64) > 0).all()):
        return _no("a Huber width is not positive")
    if not is_psd(A):
        return _no("A is not positive semidefinite (f would not be convex)")
    M = A
    if c:
        R = fraction_matrix(np.asarray(p.R, dtype=np.float64)[0].reshape(len(c), d))
        M = add(A, gram(R, c))
    if not is_psd(add(identity_times(d, Fraction(L)), M, -1)):
        return _no(f"L I - A - R^T diag(c) R is not PSD: the curvature can exceed L = {L!r}")
    return Membership(True, "exact")


def pwq_member_exact(batch: InstanceBatch) -> Membership:
    """``smooth_strongly_convex_pwq``: every curvature in [mu, L] and f' = 0 at the minimiser knot,
    decided exactly (see the module docstring)."""
    p = batch.problem
    L, mu = _const(batch, "L"), _const(batch, "mu")
    if not _finite(p.z, p.g, p.cl, p.cr, p.fs, L, mu):
        return _no("non-finite problem data or constants")
    if not 0 < mu <= L:
        return _no(f"constants must satisfy 0 < mu <= L (mu = {mu!r}, L = {L!r})")
    Lq, muq = Fraction(L), Fraction(mu)
    z_all, g_all = np.asarray(p.z, dtype=np.float64)[0], np.asarray(p.g, dtype=np.float64)[0]
    cl, cr = fractions(np.asarray(p.cl)[0]), fractions(np.asarray(p.cr)[0])
    m = [int(v) for v in np.asarray(p.m)[0]]
    for i in range(z_all.shape[0]):
        z, g = fractions(z_all[i]), fractions(g_all[i])
        for j in range(len(z) - 1):
            dz, dg = z[j + 1] - z[j], g[j + 1] - g[j]
            if dz <= 0:
                return _no(f"coordinate {i}: knots are not strictly increasing (a zero-width piece breaks C^1)")
            if dg > Lq * dz:
                return _no(f"coordinate {i}: piece {j} has curvature above L = {L!r}")
            if dg < muq * dz:
                return _no(f"coordinate {i}: piece {j} has curvature below mu = {mu!r}")
        for name, a in (("left", cl[i]), ("right", cr[i])):
            if a > Lq:
                return _no(f"coordinate {i}: the {name} end piece has curvature above L = {L!r}")
            if a < muq:
                return _no(f"coordinate {i}: the {name} end piece has curvature below mu = {mu!r}")
        if not 0 <= m[i] < len(z):
            return _no(f"coordinate {i}: the minimiser index is not a knot")
        if g[m[i]] != 0:
            return _no(f"coordinate {i}: f' is not zero at the declared minimiser knot")
    return Membership(True, "exact")
