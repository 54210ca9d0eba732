"""Exact membership (:attr:`numeric.api.InstanceClass.member_exact`) of the PL classes on
quadratics: ``os_linear``, and the least-squares members of ``pl_smooth`` and ``pl_mu_overstated``.

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

import numpy as np

from ..api import InstanceBatch, Membership
from ..exact_membership import Matrix, add, fraction_matrix, fractions, gram, identity_times, is_psd

__all__ = ["quadratic_pl_exact", "solve_exact", "os_linear_member_exact", "least_squares_member_exact"]


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
