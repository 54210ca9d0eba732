"""Certified membership check (:attr:`numeric.api.InstanceClass.member_exact`) of the scale-invariant classes
``scale_invariant_losses`` (Rayleigh quotients, softplus(u^T w/||w||), normalised logistic losses) and
``logistic_si`` (the logistic family alone, no lmin).

The claims use the constants as bounds: ``rho`` an upper bound of ``max_{||w||=1} ||Hess L(w)||_2`` and
``lmin`` a lower bound of ``min L``.  For a Rayleigh quotient both are decided exactly by
:func:`numeric.families.scale_invariant_exact.rayleigh_member_exact`.  For ``L(w) = h(w/||w||)``,
``h(v) = (1/m) sum_k softplus(a_k^T v)``:

* rho.  :mod:`numeric.families.scale_invariant_softplus` proves ``max_{||w||=1} ||Hess L(w)|| <= rho_bar(lambda)``
  with ``lambda = lambda_max(C)``, ``C = (1/m) sum_k a_k a_k^T`` and
  ``rho_bar(lambda) = (lambda/4 + sqrt(lambda) + sqrt(lambda^2/12 + 4 lambda))/2`` (the module's
  ``(alpha + s + sqrt(4 alpha^2/3 + 4 s^2))/2`` with ``alpha = lambda/4``, ``s = sqrt(lambda)``).
  ``rho_bar`` is increasing, so ``rho >= rho_bar(lambda_max(C))`` holds as soon as some rational Lam has
  ``rho_bar(Lam) <= rho`` (square roots bounded from above by integer square roots) and ``Lam I - C``
  positive semidefinite (exact elimination on the Fractions of the stored a).  Lam is the largest float
  that passes the first test, so the check gives up at most a few ulps of rho.  Decided exactly.
* lmin.  h is convex, so for *any* point v* with ``g* = grad h(v*)`` and any v in the unit ball,
  ``h(v) >= h(v*) + g*^T (v - v*) >= h(v*) - g*^T v* - ||g*||``; the sphere lies in the ball, so that
  value bounds ``min L`` from below.  It is evaluated in mpmath interval arithmetic (softplus and sigmoid
  are transcendental; the enclosure is rigorous) at two points found in float64 by projected gradient
  descent on the ball (the generator's 200 steps and 400 steps); lmin must not exceed the larger lower end.
  That is an "extended" certificate.  When the ball's minimiser lies on the sphere (m = 1, separable data)
  the bound is tight to second order in the distance of v* from it.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from kernels.scale_invariant import NormalizedSoftplus, Rayleigh

from ..api import InstanceBatch, Membership
from ..exact_membership import add, fraction_matrix, gram, identity_times, is_psd
from .scale_invariant_exact import rayleigh_member_exact
from .softplus_ball import softplus_ball_point

__all__ = ["softplus_member_exact", "losses_member_exact", "logistic_member_exact", "rho_bar_upper",
           "certified_lmin_bound"]

#: Bits of the interval arithmetic for the lmin bound (the stored floats have 53; the enclosure's width
#: is then far below any float's spacing).
_PREC = 160


def _sqrt_up(x: Fraction, bits: int = 120) -> Fraction:
    """A rational upper bound of sqrt(x) (x >= 0), relative error below 2^-bits: ``ceil(sqrt(p q 4^k)) /
    (q 2^k)`` for x = p/q."""
    if x <= 0:
        return Fraction(0)
    p, q = x.numerator, x.denominator
    k = max(0, (bits - (p * q).bit_length() // 2) + 2)
    n = p * q * 4**k
    r = math.isqrt(n)
    if r * r < n:
        r += 1
    return Fraction(r, q * 2**k)


def rho_bar_upper(lam: Fraction) -> Fraction:
    """A rational upper bound of ``rho_bar(lam) = (lam/4 + sqrt(lam) + sqrt(lam^2/12 + 4 lam))/2``."""
    return (lam / 4 + _sqrt_up(lam) + _sqrt_up(lam * lam / 12 + 4 * lam)) / 2


def _rho_bar_float(lam: float) -> float:
    return (lam / 4 + math.sqrt(lam) + math.sqrt(lam * lam / 12 + 4 * lam)) / 2


def _largest_lambda(rho: Fraction) -> Fraction | None:
    """The largest float Lam >= 0 with ``rho_bar_upper(Lam) <= rho`` (None when rho < 0): a float solve of
    rho_bar(Lam) = rho by bisection, then ulp steps until the exact test holds on the right side."""
    if rho < 0:
        return None
    r = float(rho)
    lo, hi = 0.0, max(4.0 * r, 1.0)
    while _rho_bar_float(hi) < r:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            break
        lo, hi = (mid, hi) if _rho_bar_float(mid) <= r else (lo, mid)
    lam = hi
    while lam > 0 and rho_bar_upper(Fraction(lam)) > rho:
        lam = float(np.nextafter(lam, 0.0))
    # Step up while the next float still passes: the float solve may sit a few ulps low.
    while True:
        up = float(np.nextafter(lam, math.inf))
        if rho_bar_upper(Fraction(up)) > rho:
            return Fraction(lam)
        lam = up


def _iv_lt(x: float, y: object) -> bool:
    """Whether the float x is certainly <= the interval y (every point of it)."""
    from mpmath import iv

    return (iv.mpf(x) <= y) is True


def certified_lmin_bound(a: np.ndarray, v: np.ndarray) -> object:
    """An mpmath interval enclosing ``h(v) - grad h(v)^T v - ||grad h(v)||`` for the stored a (m, d) and a
    float point v (d,): a lower bound of ``min_{||w||=1} L`` whatever v is (see the module docstring)."""
    from mpmath import iv

    old = iv.prec
    iv.prec = _PREC
    try:
        A = [[iv.mpf(float(x)) for x in row] for row in np.asarray(a, dtype=np.float64)]
        V = [iv.mpf(float(x)) for x in np.asarray(v, dtype=np.float64)]
        m, d = len(A), len(V)
        h = iv.mpf(0)
        g = [iv.mpf(0)] * d
        for row in A:
            z = sum((r * x for r, x in zip(row, V)), iv.mpf(0))
            h += iv.log1p(iv.exp(z))  # exp is exact in range for mpmath (no overflow), log1p keeps relative accuracy
            sg = 1 / (1 + iv.exp(-z))
            g = [gi + sg * r for gi, r in zip(g, row)]
        h, g = h / m, [gi / m for gi in g]
        gv = sum((gi * x for gi, x in zip(g, V)), iv.mpf(0))
        gn = iv.sqrt(sum((gi * gi for gi in g), iv.mpf(0)))
        return h - gv - gn
    finally:
        iv.prec = old


def _const(batch: InstanceBatch, name: str) -> float:
    v = float(np.asarray(batch.attrs[name], dtype=np.float64).reshape(-1)[0])
    if not math.isfinite(v):
        raise ValueError(f"{name} = {v!r} is not finite")
    return v


def softplus_member_exact(batch: InstanceBatch, *, with_lmin: bool) -> Membership:
    """Instance 0 of ``batch`` (a :class:`NormalizedSoftplus` with constants rho, lam, d and, when
    ``with_lmin``, lmin): rho not below the certified Hessian bound rho_bar(lambda_max(C)) (exact), lam > 0,
    w0 finite and nonzero, d the dimension, and lmin not above a certified lower bound of min L
    (interval arithmetic: method "extended"); without lmin every test is exact."""
    method = "extended" if with_lmin else "exact"
    try:
        a = np.asarray(batch.problem.a, dtype=np.float64)[0]
        af = fraction_matrix(a)
        rho, lam = (_const(batch, k) for k in ("rho", "lam"))
        lmin = _const(batch, "lmin") if with_lmin else 0.0
    except (ValueError, KeyError) as exc:
        return Membership(False, method, f"missing or invalid constant or data: {exc}")
    m, d = a.shape
    if "d" in batch.attrs and _const(batch, "d") != d:
        return Membership(False, method, f"d = {_const(batch, 'd')!r} is not the dimension {d}")
    if not lam > 0:
        return Membership(False, method, f"weight decay lam = {lam!r} is not positive")
    w0 = np.asarray(batch.w0, dtype=np.float64).reshape(np.asarray(batch.w0).shape[0], -1)[0]
    if not np.all(np.isfinite(w0)) or not np.any(w0 != 0):
        return Membership(False, method, "w0 is zero or not finite")
    lam_cap = _largest_lambda(Fraction(rho))
    C = gram(af, [Fraction(1, m)] * m)
    if lam_cap is None or not is_psd(add(identity_times(d, lam_cap), C, -1)):
        return Membership(False, method, f"rho = {rho!r} is below the certified Hessian bound rho_bar(lambda_max(C)) "
                          "(lambda_max(C) exceeds the largest lambda with rho_bar(lambda) <= rho)")
    if with_lmin:
        bounds = [certified_lmin_bound(a, softplus_ball_point(a[None], iters)[0]) for iters in (200, 400)]
        if not any(_iv_lt(lmin, b) for b in bounds):
            return Membership(False, method, f"lmin = {lmin!r} exceeds the certified lower bound of min L "
                              "(h(v*) - grad h(v*)^T v* - ||grad h(v*)|| at the descent points v*)")
    return Membership(True, method)


def losses_member_exact(batch: InstanceBatch) -> Membership:
    """``scale_invariant_losses``: the Rayleigh check for a Rayleigh quotient, else the softplus check with lmin."""
    if isinstance(batch.problem, Rayleigh):
        return rayleigh_member_exact(batch)
    if not isinstance(batch.problem, NormalizedSoftplus):
        return Membership(False, "exact", f"unexpected problem type {type(batch.problem).__name__}")
    return softplus_member_exact(batch, with_lmin=True)


def logistic_member_exact(batch: InstanceBatch) -> Membership:
    """``logistic_si``: the softplus check without lmin (the class carries none), decided exactly."""
    if not isinstance(batch.problem, NormalizedSoftplus):
        return Membership(False, "exact", f"unexpected problem type {type(batch.problem).__name__}")
    return softplus_member_exact(batch, with_lmin=False)

