"""Certified membership check (:attr:`numeric.api.InstanceClass.member_exact`) of ``overparam_logistic``.

The class: ``l_hat(W) = sum_j c_j log(1 + exp(-s_j W))`` (``s_j = x_j y_j``, weights ``c_j >= 0``), k in
{2..6} equal factors ``w_i = w_0 > 0``, ``W_0 = w_0^k``, minimiser ``W* > 0`` with ``W_0 > W*``, and the
class box ``1e-3 <= W_0 <= 1e3``.  ``l_hat' (W) = -sum_j c_j s_j / (1 + exp(s_j W))`` is increasing, so
``W* > 0`` iff ``l_hat'(0) = -(1/2) sum_j c_j s_j < 0`` (exact in Fractions; it also gives a point with
``s_j > 0``) and ``W_0 > W*`` iff ``l_hat'(W_0) > 0`` (mpmath interval arithmetic at the exact ``w_0^k``;
together the two signs give a root of l_hat' in (0, W_0), so the minimiser exists).

The constants are used by the claims as bounds, and the check accepts exactly the safe side of each:

* ``W0 <= w_0^k``: the thresholds ``(2/lp) W0^(1/k - 1)`` and ``(2/lp) W0^(2/k - 1)`` have non-positive
  exponents, so a smaller W0 gives a threshold not below the true one (a step above it is above the true
  one), and ``W0 > Wstar`` then still implies the true ``W_0 > W*``;
* ``Wstar >= W*`` (certified by ``l_hat'(Wstar) > 0``): the hypothesis ``W0 > Wstar`` implies ``W_0 > W*``;
* ``0 < lprime0 <= l_hat'(W_0)`` (= ``|l_hat'(W_0)|``, positive): the thresholds scale with ``1/lp``.

So a claim refuted with the stored constants is refuted with the true ones.  The box and k are exact;
the transcendental signs and bounds make the method "extended".
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from ..api import InstanceBatch, Membership

__all__ = ["overparam_member_exact", "lprime_interval"]

#: Bits of the interval arithmetic: w_0^k has at most 6 * 53 significant bits, so W_0 enters exactly.
_PREC = 400
_BOX = (Fraction(1, 1000), Fraction(1000))
_K_RANGE = (2, 6)


def overparam_member_exact(batch: InstanceBatch) -> Membership:
    """Instance 0 of ``batch``: the class's definition and the safe side of each constant (module docstring)."""
    from mpmath import iv

    m = "extended"
    p = batch.problem
    x, y, c = (np.asarray(v, dtype=np.float64)[0] for v in (p.data.x, p.data.y, p.data.weight))
    w0 = np.asarray(batch.w0, dtype=np.float64)[0]
    k = int(np.asarray(p.k)[0])
    try:
        attrs = {q: float(np.asarray(batch.attrs[q], dtype=np.float64).reshape(-1)[0])
                 for q in ("W0", "Wstar", "k", "lprime0")}
    except KeyError as exc:
        return Membership(False, m, f"missing constant {exc}")
    arrays_finite = all(np.all(np.isfinite(v)) for v in (x, y, c, w0))
    if not arrays_finite or not all(math.isfinite(v) for v in attrs.values()):
        return Membership(False, m, "non-finite data, start or constants")
    if np.any(c < 0) or not np.any(c > 0):
        return Membership(False, m, "weights must be >= 0 with at least one positive")
    if not (_K_RANGE[0] <= k <= _K_RANGE[1]) or w0.shape[0] != k or attrs["k"] != k:
        return Membership(False, m, f"k = {k} must be an integer in [{_K_RANGE[0]}, {_K_RANGE[1]}] equal to "
                          f"w0's length ({w0.shape[0]}) and to the constant k = {attrs['k']!r}")
    if not (np.all(w0 == w0[0]) and w0[0] > 0):
        return Membership(False, m, "the factors must start equal and positive (w_i = w_0 > 0)")
    W0 = Fraction(float(w0[0])) ** k
    if not (_BOX[0] <= W0 <= _BOX[1]):
        return Membership(False, m, f"W_0 = w_0^k = {float(W0)!r} outside the class box [1e-3, 1e3]")
    if not (0 < Fraction(attrs["W0"]) <= W0):
        return Membership(False, m, f"constant W0 = {attrs['W0']!r} is not in (0, w_0^k] (w_0^k = {float(W0)!r})")
    s_exact = [Fraction(float(a)) * Fraction(float(b)) for a, b in zip(x, y)]
    if not sum(Fraction(float(cj)) * sj for cj, sj in zip(c, s_exact)) > 0:
        return Membership(False, m, "sum_j c_j y_j x_j <= 0: l_hat'(0) >= 0, the minimiser W* is not positive")
    # s_j = x_j y_j enters the interval arithmetic exactly: each product of two doubles has at most 106 bits.
    old = iv.prec
    iv.prec = _PREC
    try:
        s = [iv.mpf(float(a)) * iv.mpf(float(b)) for a, b in zip(x, y)]
        cf = [float(v) for v in c]
        W0_iv = iv.mpf(float(w0[0])) ** k
        g0 = lprime_interval(s, cf, W0_iv)
        if not (g0 > 0) is True:
            return Membership(False, m, "l_hat'(W_0) > 0 is not certified: W_0 is not certainly above the minimiser W*")
        if not (iv.mpf(attrs["lprime0"]) <= g0) is True or not attrs["lprime0"] > 0:
            return Membership(False, m, f"constant lprime0 = {attrs['lprime0']!r} is not in (0, |l_hat'(W_0)|]")
        if not attrs["Wstar"] > 0 or not (lprime_interval(s, cf, iv.mpf(attrs["Wstar"])) > 0) is True:
            return Membership(False, m, f"constant Wstar = {attrs['Wstar']!r} is not certified above the minimiser "
                              "W* (l_hat'(Wstar) > 0 fails)")
    finally:
        iv.prec = old
    return Membership(True, m)


def lprime_interval(s: list[Any], c: list[float], W: Any) -> Any:
    """An mpmath interval enclosing ``l_hat'(W) = -sum_j c_j s_j / (1 + exp(s_j W))`` for the slopes s (intervals),
    the float weights c and an interval W; call with ``iv.prec`` set."""
    from mpmath import iv

    total = iv.mpf(0)
    for sj, cj in zip(s, c):
        if cj != 0:
            total -= iv.mpf(cj) * sj / (1 + iv.exp(sj * W))
    return total
