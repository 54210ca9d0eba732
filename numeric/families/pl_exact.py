"""Exact membership (:attr:`numeric.api.InstanceClass.member_exact`) of the PL classes
``os_linear``, ``pl_smooth``, ``pl_mu_overstated`` and ``pl_sine``: least squares and g(A w) in
rationals, the sine example in interval arithmetic (:func:`g_of_aw_exact`, :func:`sine_pl_extended`).

A least-squares instance is stored as the quadratic ``f(w) = 1/2 w^T H w + b^T w`` with constants
``L``, ``mu`` (book PL convention) and ``f_star``.  It is ``1/2 ||A w - y||^2 - 1/2 ||y||^2`` for some
A, y exactly when H is positive semidefinite and b lies in range(H); then, decided in rationals on
the stored floats with no slack:

* L-smoothness: every eigenvalue of H is at most L, i.e. ``L I - H >= 0`` (PSD);
* PL with mu: a quadratic with H >= 0 and b in range(H) has ``||grad f||^2 >= 2 lambda_min^+(H)
  (f - f*)``, the best constant, so mu-PL is ``every nonzero eigenvalue of H >= mu/2``.  That is
  the polynomial condition ``H (H - mu/2 I) >= 0``: H and ``H - c I`` commute, so the eigenvalues
  of the product are ``lambda (lambda - c)``, nonnegative exactly when lambda = 0 or lambda >= c
  (no rank decision, no eigenvalue computed);
* ``f* = min f = 1/2 b^T x`` for any x with ``H x = -b`` (found by exact elimination; no solution
  means b is outside range(H) and f is unbounded below), and the stored ``f_star`` must equal it.

``os_linear`` (f(theta) = X theta, H = X^T X, X full row rank) adds ``||X|| <= beta``, i.e.
``beta^2 I - H >= 0``, and ``sigma_min(X) >= 2 alpha``, i.e. ``H (H - 4 alpha^2 I) >= 0`` (the
nonzero eigenvalues of X^T X are the squared singular values of X).  The generators make these
decidable by storing H, b and f* without rounding (:func:`numeric.families.pl.least_squares_parts`).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from ..api import InstanceBatch, Membership
from ..exact_membership import Matrix, add, fraction_matrix, fractions, gram, identity_times, is_psd

__all__ = ["quadratic_pl_exact", "solve_exact", "os_linear_member_exact", "least_squares_member_exact",
           "g_of_aw_exact", "sine_pl_extended", "pl_member_exact", "pl_mu_overstated_member_exact"]


def _const(batch: InstanceBatch, name: str) -> Fraction:
    return Fraction(float(np.asarray(batch.attrs[name], dtype=np.float64).reshape(-1)[0]))


def solve_exact(M: Matrix, rhs: list[Fraction]) -> list[Fraction] | None:
    """A solution x of ``M x = rhs`` in rationals (free variables set to 0), or None when the system
    is inconsistent; Gauss-Jordan elimination with exact pivots."""
    n, m = len(M), len(M[0]) if M else 0
    aug = [list(row) + [r] for row, r in zip(M, rhs)]
    pivots: list[int] = []
    row = 0
    for col in range(m):
        p = next((i for i in range(row, n) if aug[i][col] != 0), None)
        if p is None:
            continue
        aug[row], aug[p] = aug[p], aug[row]
        piv = aug[row][col]
        aug[row] = [x / piv for x in aug[row]]
        for i in range(n):
            if i != row and aug[i][col] != 0:
                f = aug[i][col]
                aug[i] = [a - f * b for a, b in zip(aug[i], aug[row])]
        pivots.append(col)
        row += 1
        if row == n:
            break
    if any(aug[i][m] != 0 for i in range(row, n)):
        return None
    x = [Fraction(0)] * m
    for i, col in enumerate(pivots):
        x[col] = aug[i][m]
    return x


def _nonzero_spectrum_at_least(H: Matrix, c: Fraction) -> bool:
    """Every nonzero eigenvalue of the PSD matrix H is >= c: ``H^2 - c H >= 0`` (module docstring)."""
    n = len(H)
    H2 = gram(H, [Fraction(1)] * n)  # H^T H = H^2 for symmetric H
    return is_psd(add(H2, [[c * x for x in row] for row in H], -1))


def quadratic_pl_exact(H: Matrix, b: list[Fraction], L: Fraction, mu: Fraction, f_star: Fraction) -> str:
    """Empty when ``1/2 w^T H w + b^T w`` is L-smooth and mu-PL with minimum ``f_star``, decided
    exactly (module docstring); else the first condition that fails, naming its constant."""
    d = len(H)
    if any(H[i][j] != H[j][i] for i in range(d) for j in range(i)):
        return "H is not symmetric"
    if not is_psd(H):
        return "H is not positive semidefinite: not PL"
    if all(x == 0 for row in H for x in row):
        return "zero Hessian"
    if not is_psd(add(identity_times(d, L), H, -1)):
        return f"L I - H is not PSD: an eigenvalue of H exceeds L = {float(L)!r}"
    if mu <= 0 or not _nonzero_spectrum_at_least(H, mu / 2):
        return f"PL constant mu = {float(mu)!r} exceeds 2 lambda_min^+(H) (H (H - mu/2 I) is not PSD)"
    x = solve_exact(H, [-v for v in b])
    if x is None:
        return "b is not in the range of H: f is unbounded below"
    fmin = sum((bi * xi for bi, xi in zip(b, x)), Fraction(0)) / 2
    if fmin != f_star:
        return f"f_star = {float(f_star)!r} is not min f = -1/2 b^T H^+ b = {float(fmin)!r} exactly"
    return ""


def _quadratic_parts(batch: InstanceBatch) -> tuple[Matrix, list[Fraction]] | str:
    rq = batch.problem.ridge
    if rq.ridges:
        return "not a least-squares instance (the problem has ridge terms)"
    return (fraction_matrix(np.asarray(rq.A, dtype=np.float64)[0]), fractions(np.asarray(rq.b, dtype=np.float64)[0]))


def least_squares_member_exact(batch: InstanceBatch, mu_factor: Fraction = Fraction(1)) -> Membership:
    """A least-squares member of ``pl_smooth`` (``mu_factor`` 1) or ``pl_mu_overstated`` (1/2: the
    class certifies only mu/2), decided exactly."""
    parts = _quadratic_parts(batch)
    if isinstance(parts, str):
        return Membership(False, "exact", parts)
    H, b = parts
    why = quadratic_pl_exact(H, b, _const(batch, "L"), mu_factor * _const(batch, "mu"), _const(batch, "f_star"))
    return Membership(not why, "exact", why)


def os_linear_member_exact(batch: InstanceBatch) -> Membership:
    """``os_linear``: the least-squares conditions plus ``||X|| <= beta`` and ``sigma_min(X) >= 2 alpha``
    for X with X^T X = H (module docstring), decided exactly."""
    parts = _quadratic_parts(batch)
    if isinstance(parts, str):
        return Membership(False, "exact", parts)
    H, b = parts
    why = quadratic_pl_exact(H, b, _const(batch, "L"), _const(batch, "mu"), _const(batch, "f_star"))
    if why:
        return Membership(False, "exact", why)
    alpha, beta = _const(batch, "alpha"), _const(batch, "beta")
    d = len(H)
    if beta <= 0 or not is_psd(add(identity_times(d, beta * beta), H, -1)):
        return Membership(False, "exact", f"beta = {float(beta)!r} is below ||X|| (beta^2 I - X^T X is not PSD)")
    if alpha <= 0 or not _nonzero_spectrum_at_least(H, 4 * alpha * alpha):
        return Membership(False, "exact", f"2 alpha = {float(2 * alpha)!r} exceeds sigma_min(X) (H (H - 4 alpha^2 I) is not PSD)")
    return Membership(True, "exact")


# ------------------------------------------------------------------ g(A w): quadratic plus log cosh


def g_of_aw_exact(rq: object, L: Fraction, mu: Fraction, f_star: Fraction) -> str:
    """Empty when the stored ``1/2 w^T H w + b^T w + sum_i gamma_i log cosh(a_i^T w + s_i)`` is
    ``g(A w) - m ||c||^2 / 2`` with ``g(z) = sum_i (m/2)(z_i - c_i)^2 + gamma_i log cosh(z_i - c_i)``
    (A = R, c = -s) and in the PL class with (L, mu, f_star), decided exactly:

    * ``H = m A^T A`` and ``b = -m A^T c`` entry for entry, some m > 0, and every gamma_i >= 0;
    * each term of g is >= 0 and 0 at z = c, so with A of full row rank min f = -m ||c||^2 / 2,
      which ``f_star`` must equal;
    * g is m-strongly convex, so ``||grad g||^2 >= 2 m (g - g*)``, and ``||A^T v||^2 >=
      lambda_min(A A^T) ||v||^2``: f is PL with book constant ``2 m lambda_min(A A^T)``; so
      ``A A^T - mu / (2m) I >= 0`` with mu > 0 (which also gives the full row rank);
    * the Hessian ``H + A^T diag(gamma_i sech^2) A`` lies between 0 and ``H + A^T diag(gamma) A``,
      so ``L I - H - A^T diag(gamma) A >= 0`` is L-smoothness."""
    A = fraction_matrix(np.asarray(rq.R, dtype=np.float64)[0])  # type: ignore[attr-defined]
    H = fraction_matrix(np.asarray(rq.A, dtype=np.float64)[0])  # type: ignore[attr-defined]
    b = fractions(np.asarray(rq.b, dtype=np.float64)[0])  # type: ignore[attr-defined]
    c = [-x for x in fractions(np.asarray(rq.s, dtype=np.float64)[0])]  # type: ignore[attr-defined]
    gam = fractions(np.asarray(rq.c, dtype=np.float64)[0])  # type: ignore[attr-defined]
    r, d = len(A), len(H)
    if r > d or any(g < 0 for g in gam):
        return "not a g(A w) instance (A must be wide and every gamma >= 0)"
    G = gram(A, [Fraction(1)] * r)
    i, j = max(((i, j) for i in range(d) for j in range(d)), key=lambda ij: abs(G[ij[0]][ij[1]]))
    if G[i][j] == 0:
        return "A is zero"
    m = H[i][j] / G[i][j]
    if m <= 0 or any(H[p][q] != m * G[p][q] for p in range(d) for q in range(d)):
        return "the quadratic part is not m A^T A exactly"
    Atc = [sum((A[k][p] * c[k] for k in range(r)), Fraction(0)) for p in range(d)]
    if any(bp != -m * x for bp, x in zip(b, Atc)):
        return "the linear part is not -m A^T c exactly"
    fmin = -m * sum((x * x for x in c), Fraction(0)) / 2
    if f_star != fmin:
        return f"f_star = {float(f_star)!r} is not min f = -m ||c||^2 / 2 = {float(fmin)!r} exactly"
    AAt = gram([list(col) for col in zip(*A)], [Fraction(1)] * d)  # A A^T
    if mu <= 0 or not is_psd(add(AAt, identity_times(r, mu / (2 * m)), -1)):
        return f"PL constant mu = {float(mu)!r} exceeds 2 m lambda_min(A A^T)"
    if not is_psd(add(add(identity_times(d, L), H, -1), gram(A, gam), -1)):
        return f"L I - H - A^T diag(gamma) A is not PSD: a Hessian eigenvalue can exceed L = {float(L)!r}"
    return ""


# ------------------------------------------------------------------------------- the KNS sine example


def sine_pl_extended(rq: object, L: Fraction, mu: Fraction, f_star: Fraction) -> str:
    """Empty when the stored ``f(w) = sum_i phi(w_i)``, ``phi(x) = (alpha/2) x^2 + gamma sin(beta x + o)``
    (A = alpha I, R = beta I, every c_i = gamma, every s_i = o, b = 0) is L-smooth and satisfies the PL
    inequality with the stored mu and f_star at every w, and f_star is min f rounded up to a float.
    With ``u = beta x``, ``phi = gamma g(u)``, ``g(u) = (rho/2) u^2 + sin(u + o)``, ``rho = alpha / (gamma
    beta^2)``, ``kappa = mu / (gamma beta^2)``, ``g_c = f_star / (d gamma)``, the PL inequality per
    coordinate (summed over i it is f's) is ``g'(u)^2 >= kappa (g(u) - g_c)``.  Certified by:

    * smoothness, exactly: phi'' = alpha - gamma beta^2 sin(.) lies in [alpha - gamma beta^2, alpha + gamma beta^2];
    * f* bracket, exactly and in interval arithmetic: ``phi >= -gamma`` everywhere and ``min phi > -gamma``
      (``o`` is a float, not -pi/2), so the float just below ``f_star`` must be ``<= -d gamma``; and
      ``g_c >= g(0) = sin(o)`` (an interval upper bound), so ``f_star >= min f``;
    * ``|u| <= 1``: ``g'' = rho - sin(u + o) >= c0`` (interval bound), and on an interval where g is
      c0-strongly convex ``g(u) - g(0) <= g(u) - min g <= g'(u)^2 / (2 c0)``; so ``kappa <= 2 c0`` with
      ``g_c >= g(0)`` gives the inequality there;
    * ``|u| >= U``: ``|g'| >= rho |u| - 1`` and ``g - g_c <= g + 1 <= (rho/2) u^2 + 2`` (``g_c >= -1``), so the
      rational quadratic ``(rho u - 1)^2 - kappa ((rho/2) u^2 + 2)``, increasing beyond its vertex, is
      checked at U (past the vertex);
    * ``1 <= |u| <= U``: ``g'^2 >= kappa (g + 1)`` on a cover by subintervals in mpmath interval
      arithmetic (outward rounding, so the enclosures are rigorous), halving any that fails."""
    import mpmath  # noqa: PLC0415 - only certificates need it

    A = fraction_matrix(np.asarray(rq.A, dtype=np.float64)[0])  # type: ignore[attr-defined]
    R = fraction_matrix(np.asarray(rq.R, dtype=np.float64)[0])  # type: ignore[attr-defined]
    cs = fractions(np.asarray(rq.c, dtype=np.float64)[0])  # type: ignore[attr-defined]
    offs = fractions(np.asarray(rq.s, dtype=np.float64)[0])  # type: ignore[attr-defined]
    bs = fractions(np.asarray(rq.b, dtype=np.float64)[0])  # type: ignore[attr-defined]
    d = len(A)
    alpha, beta, gamma, o = A[0][0], R[0][0], cs[0], offs[0]
    if not (len(R) == d and all(A[i][j] == (alpha if i == j else 0) for i in range(d) for j in range(d))
            and all(R[i][j] == (beta if i == j else 0) for i in range(d) for j in range(d))
            and all(x == gamma for x in cs) and all(x == o for x in offs) and all(x == 0 for x in bs)
            and alpha > 0 and beta > 0 and gamma > 0):
        return "not a separable sine instance"
    curv = gamma * beta * beta
    if L < alpha + curv or L < abs(alpha - curv):
        return f"certified smoothness max|alpha -+ gamma beta^2| = {float(alpha + curv)!r} exceeds L = {float(L)!r}"
    below = Fraction(float(np.nextafter(float(f_star), -np.inf)))
    if below > -d * gamma:
        return f"f_star = {float(f_star)!r} is not min f rounded up: the float below it exceeds -d gamma <= min f"
    rho, kappa, gc = alpha / curv, mu / curv, f_star / (d * gamma)
    iv = mpmath.iv
    old_prec = iv.prec
    iv.prec = 96
    try:
        def ivq(x: Fraction) -> Any:
            return iv.mpf(x.numerator) / x.denominator

        o_iv, rho_iv, kap_iv = ivq(o), ivq(rho), ivq(kappa)
        if not ivq(gc) >= iv.sin(o_iv):
            return f"f_star = {float(f_star)!r} is below g(0) d gamma >= min f: the PL inequality fails at the minimizer"
        c0 = rho_iv - iv.sin(o_iv + iv.mpf([-1, 1]))
        if mu <= 0 or not 2 * c0 >= kap_iv:
            return f"PL constant mu = {float(mu)!r} exceeds twice the curvature bound near the minimizer"
        a2 = rho * rho - kappa * rho / 2
        if a2 <= 0:
            return f"PL constant mu = {float(mu)!r} is too large for the quadratic growth of f"
        U = max(Fraction(2), Fraction(int(rho / a2) + 2))
        while (rho * U - 1) ** 2 < kappa * (rho * U * U / 2 + 2):
            U *= 2
            if U > 2**20:
                return f"PL constant mu = {float(mu)!r}: no tail bound found"
        for sign in (1, -1):
            todo = [(Fraction(1), U)]
            steps = 0
            while todo:
                lo, hi = todo.pop()
                steps += 1
                if steps > 20000:
                    return f"PL constant mu = {float(mu)!r} not certified on the middle range (too many subintervals)"
                u = ivq(lo) if lo == hi else iv.mpf([ivq(lo).a, ivq(hi).b])
                u = sign * u
                g1 = (rho_iv * u + iv.cos(u + o_iv)) ** 2
                g0 = rho_iv * u * u / 2 + iv.sin(u + o_iv)
                if g1.a >= (kap_iv * (g0 + 1)).b:
                    continue
                if hi - lo < Fraction(1, 2**30):
                    return f"PL constant mu = {float(mu)!r} fails near u = {sign * float(lo)!r} (beta x)"
                mid = (lo + hi) / 2
                todo += [(lo, mid), (mid, hi)]
    finally:
        iv.prec = old_prec
    return ""


def pl_member_exact(batch: InstanceBatch, mu_factor: Fraction = Fraction(1)) -> Membership:
    """``pl_smooth`` (``mu_factor`` 1), ``pl_mu_overstated`` (1/2: it certifies only mu/2) and
    ``pl_sine``, per family: least squares and g(A w) exactly, the sine example in interval
    arithmetic ("extended")."""
    from kernels import Ridge  # noqa: PLC0415

    rq = batch.problem.ridge
    L, mu, fs = _const(batch, "L"), mu_factor * _const(batch, "mu"), _const(batch, "f_star")
    if rq.ridges == 0:
        return least_squares_member_exact(batch, mu_factor)
    if rq.psi == Ridge.LOGCOSH:
        why = g_of_aw_exact(rq, L, mu, fs)
        return Membership(not why, "exact", why)
    if rq.psi == Ridge.SIN:
        why = sine_pl_extended(rq, L, mu, fs)
        return Membership(not why, "extended", why)
    return Membership(False, "exact", "no PL certificate for this problem type")


def pl_mu_overstated_member_exact(batch: InstanceBatch) -> Membership:
    """``pl_mu_overstated``: the PL class's certificate with mu/2."""
    return pl_member_exact(batch, Fraction(1, 2))
