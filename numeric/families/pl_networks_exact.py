"""Exact (or extended) membership of the small-network classes of :mod:`numeric.families.pl_networks`.

``rsi_leaky_glm`` is decided exactly.  With ``f(w) = 1/2 ||v sigma(X w) - y||^2`` (the stored problem:
one leaky-ReLU neuron, output weight v) and ``y = v sigma(X w*)`` *exactly*,
``f(w) = v^2/2 sum_i (sigma(u_i) - sigma(u*_i))^2`` (``u = X w``, ``u* = X w*``) and

* ``<grad f(w), w - w*> = v^2 sum_i sigma'(u_i) s_i (x_i^T (w - w*))^2`` with ``s_i`` the secant slope of
  sigma between u*_i and u_i, in [a, 1], and ``sigma'`` in {a, 1} (either value at the kink): at least
  ``a^2 v^2 ||X (w - w*)||^2 >= a^2 v^2 lambda_min(X^T X) ||w - w*||^2``.  So RSI with mu holds for every
  w when ``X^T X - mu / (a^2 v^2) I`` is PSD and mu > 0;
* ``||grad f(w)|| = v^2 ||X^T diag(sigma'(u)) (sigma(u) - sigma(u*))|| <= v^2 ||X||^2 ||w - w*||``
  (|sigma'| <= 1 and sigma 1-Lipschitz, for 0 < a < 1): the bound with L holds when
  ``L / v^2 I - X^T X`` is PSD.

Both are finitely many rational conditions on the stored floats; with ``y = v sigma(X w*)`` checked
entry by entry (an inexact y leaves a nonzero gradient at w*, and RSI fails near w*).

``os_network`` (``f_i(theta) = sum_j v_j phi(w_j^T x_i)``, phi = tanh or softplus) is decided in
interval arithmetic ("extended"): :func:`os_network_member_extended`.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from ..api import InstanceBatch, Membership
from ..exact_membership import add, fraction_matrix, fractions, gram, identity_times, is_psd, sqrt_upper

__all__ = ["glm_member_exact", "os_network_member_extended"]


def glm_member_exact(batch: InstanceBatch) -> Membership:
    """``rsi_leaky_glm`` decided exactly (module docstring); the reason names the first failing
    constant or array."""
    p = batch.problem
    if int(p.act) != 2 or np.asarray(p.v).shape[-1] != 1:
        return Membership(False, "exact", "not a single leaky-ReLU neuron")
    X = fraction_matrix(np.asarray(p.X, dtype=np.float64)[0])
    (v,) = fractions(np.asarray(p.v, dtype=np.float64)[0])
    y = fractions(np.asarray(p.y, dtype=np.float64)[0])
    ws = fractions(np.asarray(p.anchor, dtype=np.float64)[0])
    (a,) = fractions(np.asarray(p.a, dtype=np.float64).reshape(-1)[:1])
    L = Fraction(float(np.asarray(batch.attrs["L"], dtype=np.float64).reshape(-1)[0]))
    mu = Fraction(float(np.asarray(batch.attrs["mu"], dtype=np.float64).reshape(-1)[0]))
    n, d = len(X), len(ws)
    if not 0 < a < 1:
        return Membership(False, "exact", f"leaky slope a = {float(a)!r} not in (0, 1)")
    if v == 0:
        return Membership(False, "exact", "output weight v = 0")
    for i, row in enumerate(X):
        u = sum((x * w for x, w in zip(row, ws)), Fraction(0))
        if y[i] != v * (u if u >= 0 else a * u):
            return Membership(False, "exact", f"y_{i} is not v sigma(x_i^T w*) exactly: w* is not the minimizer")
    G = gram(X, [Fraction(1)] * n)  # X^T X
    v2 = v * v
    if mu <= 0 or not is_psd(add(G, identity_times(d, mu / (a * a * v2)), -1)):
        return Membership(False, "exact", f"mu = {float(mu)!r} exceeds a^2 v^2 lambda_min(X^T X)")
    if not is_psd(add(identity_times(d, L / v2), G, -1)):
        return Membership(False, "exact", f"L = {float(L)!r} is below v^2 lambda_max(X^T X)")
    return Membership(True, "exact")


# ------------------------------------------------------------------------------------------ os_network

#: sup |phi''|^2 per activation, rational: tanh'' = -2 tanh sech^2 peaks at tanh = 1/sqrt(3) with
#: value 4 / (3 sqrt 3), squared 16/27; softplus'' = s (1 - s) (s the sigmoid) peaks at 1/4.
_SUP_D2PHI_SQ = {0: Fraction(16, 27), 1: Fraction(1, 16)}
_PREC = 120  # bits of the interval enclosures; their width enters the test, so any precision is sound


def _frac(x: Any) -> Fraction:
    """An mpmath raw mpf tuple (sign, man, exp, bc) as an exact Fraction; raises on inf / nan."""
    sign, man, exp, _ = x
    if man == 0:
        if exp != 0:
            raise ValueError("non-finite interval endpoint")
        return Fraction(0)
    v = Fraction(man) * (Fraction(2) ** exp)
    return -v if sign else v


def _ends(x: Any) -> tuple[Fraction, Fraction]:
    """The endpoints of an mpmath interval as Fractions (exact: the endpoints are binary floats)."""
    lo, hi = x._mpi_
    return _frac(lo), _frac(hi)


def _phi_enclosures(z: Fraction, act: int) -> tuple[tuple[Fraction, Fraction], tuple[Fraction, Fraction]]:
    """Enclosures of phi(z) and phi'(z) for the exact rational z, by mpmath's outward-rounded interval
    arithmetic: tanh z = 1 - 2 / (e^{2z} + 1), tanh' z = 4 / (e^z + e^{-z})^2, softplus z = log(1 + e^z),
    softplus' z = 1 / (1 + e^{-z}) (each variable once or monotone, so the enclosures stay narrow)."""
    import mpmath  # noqa: PLC0415 - only certificates need it

    iv = mpmath.iv
    zi = iv.mpf(z.numerator) / z.denominator
    if act == 0:
        phi = 1 - 2 / (iv.exp(2 * zi) + 1)
        dphi = 4 / (iv.exp(zi) + iv.exp(-zi)) ** 2
    else:
        phi = iv.log(1 + iv.exp(zi))
        dphi = 1 / (1 + iv.exp(-zi))
    return _ends(phi), _ends(dphi)


def os_network_member_extended(batch: InstanceBatch) -> Membership:
    """``os_network`` decided from the stored floats with rigorous enclosures of tanh / softplus:

    * ``n <= k d`` and the anchor is theta_0;
    * ``sigma_min(J(theta_0)) >= 2 alpha``: each phi'(w_j^T x_i) (z exact) lies in an interval [l, h];
      with m its float midpoint, ``J = J_m + E``, ``|E_{i,(j,l)}| <= r_ij |v_j x_il|``, ``r_ij = max(h - m, m - l)``,
      so ``sigma_min(J) >= sigma_min(J_m) - ||E||_F``; the test is ``J_m J_m^T - (2 alpha + e)^2 I >= 0``
      exactly, with e a rational upper bound on ``||E||_F``;
    * ``||J(theta)|| <= beta`` for every theta: ``||J^T u||^2 = sum_j v_j^2 ||X^T diag(phi'(X w_j)) u||^2 <=
      ||v||^2 sup|phi'|^2 ||X||^2 ||u||^2`` with ``|phi'| <= 1`` (sech^2 <= 1, the sigmoid < 1); the test is
      ``beta^2 / ||v||^2 I - X^T X >= 0`` exactly;
    * ``||J(theta) - J(theta')|| <= Ljac ||theta - theta'||``: ``||J - J'||_F^2 = sum_{i,j} v_j^2 (phi'(w_j^T x_i)
      - phi'(w_j'^T x_i))^2 ||x_i||^2 <= ||v||_inf^2 sup|phi''|^2 max_i ||x_i||^2 ||X||^2 ||theta - theta'||^2``;
      the test is ``Ljac^2 / (||v||_inf^2 sup|phi''|^2 max_i ||x_i||^2) I - X^T X >= 0`` exactly (sup|phi''|^2
      rational: 16/27, 1/16);
    * ``||f(theta_0) - y|| <= alpha^2 / (4 Ljac)``: the upper end of the enclosure of ``||f(theta_0) - y||^2``
      against ``(alpha^2 / (4 Ljac))^2``."""
    import mpmath  # noqa: PLC0415

    p = batch.problem
    act = int(p.act)
    if act not in (0, 1):
        return Membership(False, "extended", "activation is neither tanh nor softplus")
    X = fraction_matrix(np.asarray(p.X, dtype=np.float64)[0])
    v = fractions(np.asarray(p.v, dtype=np.float64)[0])
    y = fractions(np.asarray(p.y, dtype=np.float64)[0])
    theta = np.asarray(batch.w0, dtype=np.float64)[0]
    al, be, Lj = (Fraction(float(np.asarray(batch.attrs[k], dtype=np.float64).reshape(-1)[0]))
                  for k in ("alpha", "beta", "Ljac"))
    n, d, kh = len(X), len(X[0]), len(v)
    if n > kh * d:
        return Membership(False, "extended", f"not over-parameterized: n = {n} > k d = {kh * d}")
    if not np.array_equal(np.asarray(p.anchor, dtype=np.float64)[0], theta):
        return Membership(False, "extended", "the anchor must be theta_0")
    if al <= 0 or be <= 0 or Lj <= 0:
        return Membership(False, "extended", "alpha, beta and Ljac must be positive")
    G = gram(X, [Fraction(1)] * n)  # X^T X
    v2 = sum((x * x for x in v), Fraction(0))
    vinf2 = max(x * x for x in v)
    if v2 == 0 or not is_psd(add(identity_times(d, be * be / v2), G, -1)):
        return Membership(False, "extended", f"beta = {float(be)!r} is below ||v|| ||X|| (the certified ||J|| bound)")
    rows2 = [sum((x * x for x in row), Fraction(0)) for row in X]
    c = vinf2 * _SUP_D2PHI_SQ[act] * max(rows2)
    if c > 0 and not is_psd(add(identity_times(d, Lj * Lj / c), G, -1)):
        return Membership(False, "extended", f"Ljac = {float(Lj)!r} is below the certified Jacobian Lipschitz bound")
    W = [fractions(theta[j * d:(j + 1) * d]) for j in range(kh)]
    old = mpmath.iv.prec
    mpmath.iv.prec = _PREC
    try:
        Jm: list[list[Fraction]] = [[Fraction(0)] * (kh * d) for _ in range(n)]
        e2 = Fraction(0)
        res_hi = Fraction(0)
        for i in range(n):
            f_lo = f_hi = Fraction(0)
            for j in range(kh):
                z = sum((a * b for a, b in zip(W[j], X[i])), Fraction(0))
                (pl, ph), (dl, dh) = _phi_enclosures(z, act)
                f_lo += v[j] * (pl if v[j] >= 0 else ph)
                f_hi += v[j] * (ph if v[j] >= 0 else pl)
                m = Fraction(float((dl + dh) / 2))
                r = max(dh - m, m - dl)
                e2 += r * r * v[j] * v[j] * rows2[i]
                for col in range(d):
                    Jm[i][j * d + col] = v[j] * m * X[i][col]
            r_lo, r_hi = f_lo - y[i], f_hi - y[i]
            res_hi += max(r_lo * r_lo, r_hi * r_hi)
    finally:
        mpmath.iv.prec = old
    JJt = gram([list(col) for col in zip(*Jm)], [Fraction(1)] * (kh * d))  # J_m J_m^T (n x n)
    lim = 2 * al + sqrt_upper(e2)
    if not is_psd(add(JJt, identity_times(n, lim * lim), -1)):
        return Membership(False, "extended", f"2 alpha = {float(2 * al)!r} exceeds sigma_min(J(theta_0)) (enclosed)")
    bound = al * al / (4 * Lj)
    if res_hi > bound * bound:
        return Membership(False, "extended", f"initial residual ||f(theta_0) - y|| may exceed alpha^2 / (4 Ljac) = {float(bound)!r}")
    return Membership(True, "extended")
