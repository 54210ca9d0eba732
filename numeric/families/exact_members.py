"""Exact membership checks (:attr:`numeric.api.InstanceClass.member_exact`) of the built-in
classes whose definitions are polynomial inequalities in the stored arrays.

Each takes a batch of one (a decoded record) and decides, in rational arithmetic on the stored
floats, a condition that *implies* the class's definition (for pure quadratics it is the
definition itself).  The float64 checks of the same classes allow the eigensolver's rounding;
these allow nothing.

* ``smooth`` (ridge quadratics ``1/2 w^T A w + b^T w + sum_k c_k psi(r_k^T w + s_k)`` with
  ``|psi''| <= 1``): every Hessian is ``A + R^T D R`` with ``|D_kk| <= |c_k|``, so with
  ``M = R^T diag(|c|) R``, ``L I - A - M >= 0`` and ``L I + A - M >= 0`` (PSD) put every Hessian
  eigenvalue in ``[-L, L]``.
* ``diagonal_bound`` (the same ridge quadratics, L a bound on the Hessian's diagonal only): the
  diagonal entry ``H_ii(w) = A_ii + sum_k c_k psi''(r_k^T w + s_k) R_ki^2`` lies within
  ``|A_ii| + sum_k |c_k| R_ki^2`` of 0 for every w, so that sum at most L for every i suffices.
* ``rsi_smooth`` (a strongly convex quadratic plus convex log-cosh ridges, known minimiser ``w*``):
  ``A - mu I >= 0`` gives mu-strong convexity, hence RSI with ``mu``; ``L I - A - M >= 0`` and
  ``L I + A >= 0`` (``0 <= D <= diag(c)``) give L-smoothness; ``grad f(w*) = 0`` exactly where every
  ridge argument at ``w*`` is 0 (``tanh 0 = 0``).
* matrix pairs: symmetric entry for entry and PSD where the class says so.
* ``lsmooth*`` (``f(x) = f0 + sum_i phi_i((Q x)_i)``, phi_i piecewise quadratic): with
  ``e >= ||Q^T Q - I||_F`` (a rational upper bound), ``sigma(Q)^2`` lies in ``[1 - e, 1 + e]``, so
  curvatures ``k`` with ``k (1 + e) <= L`` and the class's lower end met as the float check states it
  give Hessians ``Q^T D Q`` inside the class's interval.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Callable

import numpy as np

from ..api import InstanceBatch, Membership
from ..exact_membership import Matrix, add, fraction_matrix, fractions, gram, identity_times, is_psd, sqrt_upper

__all__ = ["smooth_member_exact", "diagonal_member_exact", "rsi_member_exact", "pairs_member_exact", "pwq_member_exact", "comparisons_only",
           "unit_data_member_exact"]


def _const(batch: InstanceBatch, name: str) -> Fraction:
    v = float(np.asarray(batch.attrs[name], dtype=np.float64).reshape(-1)[0])
    return Fraction(v)


def _ridge_parts(rq: Any) -> tuple[Matrix, Matrix, list[Fraction], list[Fraction]]:
    """A, R, c, s of instance 0 as Fractions."""
    A = fraction_matrix(np.asarray(rq.A, dtype=np.float64)[0])
    R = fraction_matrix(np.asarray(rq.R, dtype=np.float64)[0].reshape(-1, len(A)))
    return A, R, fractions(np.asarray(rq.c)[0]), fractions(np.asarray(rq.s)[0])


def _symmetric(M: Matrix) -> bool:
    return all(M[i][j] == M[j][i] for i in range(len(M)) for j in range(i))


def smooth_member_exact(batch: InstanceBatch) -> Membership:
    """``smooth``: every Hessian eigenvalue in [-L, L], certified exactly (see the module
    docstring)."""
    rq = batch.problem
    L = _const(batch, "L")
    A, R, c, _ = _ridge_parts(rq)
    d = len(A)
    if not _symmetric(A):
        return Membership(False, "exact", "A is not symmetric")
    M = gram(R, [abs(x) for x in c]) if R else [[Fraction(0)] * d for _ in range(d)]
    LI = identity_times(d, L)
    if not is_psd(add(add(LI, A, -1), M, -1)):
        return Membership(False, "exact", f"L I - A - R^T diag|c| R is not PSD: a Hessian eigenvalue can exceed L = {float(L)!r}")
    if not is_psd(add(add(LI, A), M, -1)):
        return Membership(False, "exact", f"L I + A - R^T diag|c| R is not PSD: a Hessian eigenvalue can be below -L = {-float(L)!r}")
    return Membership(True, "exact")


def diagonal_member_exact(batch: InstanceBatch) -> Membership:
    """``diagonal_bound``: every diagonal Hessian entry in [-L, L] at every w, certified exactly
    from ``|A_ii| + sum_k |c_k| R_ki^2 <= L`` (see the module docstring)."""
    L = _const(batch, "L")
    A, R, c, _ = _ridge_parts(batch.problem)
    if not _symmetric(A):
        return Membership(False, "exact", "A is not symmetric")
    for i in range(len(A)):
        bound = abs(A[i][i]) + sum((abs(ck) * row[i] * row[i] for ck, row in zip(c, R)), Fraction(0))
        if bound > L:
            return Membership(False, "exact", f"diagonal Hessian bound |A_ii| + sum_k |c_k| R_ki^2 = {float(bound)!r} "
                                              f"(i = {i}) exceeds L = {float(L)!r}")
    return Membership(True, "exact")


def rsi_member_exact(batch: InstanceBatch) -> Membership:
    """``rsi_smooth``: mu-strongly convex and L-smooth with ``grad f(w*) = 0``, certified exactly."""
    from kernels import Ridge

    p = batch.problem
    rq = p.ridge
    L, mu = _const(batch, "L"), _const(batch, "mu")
    A, R, c, s = _ridge_parts(rq)
    d = len(A)
    b = fractions(np.asarray(rq.b)[0])
    ws = fractions(np.asarray(p.wstar)[0])
    if not _symmetric(A):
        return Membership(False, "exact", "A is not symmetric")
    if R and (rq.psi != Ridge.LOGCOSH or any(x < 0 for x in c)):
        return Membership(False, "exact", "ridges are not convex log-cosh terms")
    # Ridge arguments at w*: tanh of a nonzero rational is irrational, so only zero arguments are
    # decided exactly (every generated member has them).
    z = [sum((r * w for r, w in zip(row, ws)), Fraction(0)) + sk for row, sk in zip(R, s)]
    if any(zk != 0 and ck != 0 for zk, ck in zip(z, c)):
        return Membership(False, "exact", "a ridge argument at w* is nonzero: grad f(w*) = 0 cannot be decided exactly")
    grad = [sum((a * w for a, w in zip(row, ws)), Fraction(0)) + bi for row, bi in zip(A, b)]
    if any(g != 0 for g in grad):
        return Membership(False, "exact", f"grad f(w*) = {[float(g) for g in grad]!r} is not exactly zero")
    if not is_psd(add(A, identity_times(d, mu), -1)):
        return Membership(False, "exact", f"A - mu I is not PSD: lambda_min(A) < mu = {float(mu)!r}")
    M = gram(R, c) if R else [[Fraction(0)] * d for _ in range(d)]
    LI = identity_times(d, L)
    if not is_psd(add(add(LI, A, -1), M, -1)):
        return Membership(False, "exact", f"L I - A - R^T diag(c) R is not PSD: a Hessian eigenvalue can exceed L = {float(L)!r}")
    if not is_psd(add(LI, A)):
        return Membership(False, "exact", f"L I + A is not PSD: a Hessian eigenvalue is below -L = {-float(L)!r}")
    return Membership(True, "exact")


def pairs_member_exact(psd_a: bool, psd_b: bool) -> Callable[[InstanceBatch], Membership]:
    """Matrix pairs: A and B symmetric, each PSD where ``psd_a`` / ``psd_b`` says, decided exactly."""
    def check(batch: InstanceBatch) -> Membership:
        P = batch.problem
        for name, M, psd in (("A", P.A, psd_a), ("B", P.B, psd_b)):
            F = fraction_matrix(np.asarray(M, dtype=np.float64)[0])
            if not _symmetric(F):
                return Membership(False, "exact", f"{name} is not symmetric")
            if psd and not is_psd(F):
                return Membership(False, "exact", f"{name} is not positive semidefinite (exact LDL^T has a negative pivot)")
        return Membership(True, "exact")

    return check


def pwq_member_exact(lower: float | None, convex: bool) -> Callable[[InstanceBatch], Membership]:
    """``lsmooth`` (``lower = -1``), ``lsmooth_convex`` (0) and ``lsmooth_strongly_convex`` (None:
    the lower end is the instance's ``mu``): the float check's conditions, decided exactly."""
    def check(batch: InstanceBatch) -> Membership:
        p = batch.problem
        Q = fraction_matrix(np.asarray(p.Q, dtype=np.float64)[0])
        d = len(Q)
        QtQ = gram(Q, [Fraction(1)] * d)
        e2 = sum(((QtQ[i][j] - (1 if i == j else 0)) ** 2 for i in range(d) for j in range(d)), Fraction(0))
        e = sqrt_upper(e2)
        if e >= Fraction(1, 10**6):
            return Membership(False, "exact", f"Q is not orthogonal: ||Q^T Q - I||_F ~ {float(e):.3g}")
        L = _const(batch, "L")
        lo = _const(batch, "mu") if lower is None else Fraction(lower) * L
        if lower is None and lo <= 0:
            return Membership(False, "exact", "mu <= 0")
        z_all = np.asarray(p.z, dtype=np.float64)[0]
        g_all = np.asarray(p.g, dtype=np.float64)[0]
        cl, cr = fractions(np.asarray(p.cl)[0]), fractions(np.asarray(p.cr)[0])
        for i in range(z_all.shape[0]):
            z, g = fractions(z_all[i]), fractions(g_all[i])
            pieces = [(g[k + 1] - g[k], z[k + 1] - z[k]) for k in range(len(z) - 1)]
            if any(dz < 0 for _, dz in pieces):
                return Membership(False, "exact", f"coordinate {i}: knots are not sorted")
            # A piece of slope change dg over width dz has curvature dg/dz; the end pieces'
            # curvatures are cl, cr (width 1).
            for dg, dz in pieces + [(cl[i], Fraction(1)), (cr[i], Fraction(1))]:
                if dg * (1 + e) > L * dz:
                    return Membership(False, "exact", f"coordinate {i}: a curvature exceeds L/(1 + e) = {float(L / (1 + e))!r}")
                if lower is None:
                    low_ok = dg * (1 - e) >= lo * dz
                elif lower == 0:
                    low_ok = dg >= 0
                else:
                    low_ok = dg * (1 + e) >= lo * dz
                if not low_ok:
                    return Membership(False, "exact", f"coordinate {i}: a curvature is below the class's lower end")
            if convex:
                left_ok = g[0] <= 0 or cl[i] > 0
                right_ok = g[-1] >= 0 or cr[i] > 0
                if not (left_ok and right_ok):
                    return Membership(False, "exact", f"coordinate {i}: f does not attain its minimum")
        return Membership(True, "exact")

    return check


def comparisons_only(member: Callable[[InstanceBatch], tuple[np.ndarray, list[str]]]) -> Callable[[InstanceBatch], Membership]:
    """The exact hook of a class whose float64 check already decides membership without rounding:
    it only compares stored values (finiteness, signs, nonzero rows, integer codes, combinatorial
    counts) and computes nothing in floating point.  Such a check is exact as it stands, so the hook
    re-runs it and says so; wrapping a check that does arithmetic (a norm, an eigenvalue) would be a
    false certificate."""
    def check(batch: InstanceBatch) -> Membership:
        ok, why = member(batch)
        good = bool(np.asarray(ok).reshape(-1)[0])
        return Membership(good, "exact", "" if good else why[0])

    return check


def unit_data_member_exact(batch: InstanceBatch) -> Membership:
    """Data that can be normalised row-wise: every entry finite and every row with a nonzero entry
    (decided on the stored floats, with no norm computed: a norm can underflow to 0)."""
    X = np.asarray(batch.problem.X, dtype=np.float64)[0]
    if not np.isfinite(X).all():
        return Membership(False, "exact", "a data point is not finite")
    if not (X != 0).any(axis=1).all():
        return Membership(False, "exact", "a data point is zero (cannot be normalised)")
    return Membership(True, "exact")
