"""Exact membership (:attr:`numeric.api.InstanceClass.member_exact`) of the saddle-escape classes
``saddle_global``, ``saddle_any``, ``saddle_minima`` and ``saddle_deep`` (issue 17).

Sine saddles ``f(x) = 1/2 x^T diag(h) x + sum_i c_i (sin x_i - x_i) + f0`` with the saddle at
``xs = 0`` are decided in rational arithmetic with no slack:

* ``grad f(0) = 0`` holds identically (``cos 0 = 1``), so the check requires ``xs = 0`` exactly and
  ``q = s = 0`` (no quartic terms);
* ``Hess f(0) = diag(h)`` (``sin 0 = 0``), so ``gamma = -min_i h_i`` exactly and ``gamma > 0``;
* ``Hess f(x) = diag(h_i - c_i sin x_i)`` has ``sup_x ||Hess f(x)|| = max_i (|h_i| + |c_i|)``, so
  ell-smoothness on R^d is ``ell >= max_i (|h_i| + |c_i|)``;
* ``||Hess f(x) - Hess f(y)|| = max_i |c_i| |sin x_i - sin y_i| <= max_i |c_i| ||x - y||`` with
  equality in the limit, so rho-Hessian-Lipschitz on R^d is ``rho >= max_i |c_i|``;
* the start is within ``delta0`` of the saddle: ``||w0 - xs||^2 <= delta0^2``; and ``d`` is the
  dimension.

Quartic and matrix saddles (``c = 0``; :mod:`numeric.families.escape`) are polynomials: ``xs`` must
be an exact critical point, ``gamma`` exactly ``-lambda_min(Hess f(xs))`` (the Hessian at xs is
diagonal), ``||w0 - xs|| <= delta0`` exactly, and ``ell``, ``rho`` at least the class's
certificates on ``B(0, R)``, whose exact real values are enclosed by rigorous interval arithmetic
(:func:`certificate_bounds`: every float operation's result moved one ulp outward, so the upper
endpoint bounds the exact certificate from above; the generators store constants at or above the same
bounds).
``fstar`` (``saddle_minima``) is a rational that is rarely a float, so it must be its correctly
rounded value.

``saddle_deep`` is ``saddle_global`` plus ``gamma / ell >= 0.1`` (decided as ``10 gamma >= ell`` in
rationals) and the growth factor ``G = (1 + gamma/ell)^100``: a rational with a 100-fold power in its
denominator, never a float, so ``G`` must be its correctly rounded value (Python's ``float`` of a
Fraction rounds to nearest).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..api import InstanceBatch, Membership
from ..exact_membership import fractions
from ..intervals import Interval, iabs, imax, point

__all__ = ["sine_saddle_member_exact", "saddle_member_exact", "deep_saddle_member_exact", "growth_factor_rounded",
           "DEEP_RATIO", "STUCK_HORIZON", "certificate_bounds"]

#: the least gamma / ell of the class saddle_deep
DEEP_RATIO = Fraction(1, 10)
#: the GD horizon of the stuck-region run that the deep class's growth factor G refers to
STUCK_HORIZON = 100


def _const(batch: InstanceBatch, name: str) -> Fraction:
    return Fraction(float(np.asarray(batch.attrs[name], dtype=np.float64).reshape(-1)[0]))


def _row(problem: object, name: str) -> list[Fraction]:
    return fractions(np.asarray(getattr(problem, name), dtype=np.float64).reshape(1, -1)[0])


def sine_saddle_member_exact(batch: InstanceBatch) -> Membership:
    """``saddle_global`` decided exactly (see the module docstring); ``ok`` False names the first
    condition that fails."""
    p = batch.problem
    h, c, q, xs = (_row(p, k) for k in ("h", "c", "q", "xs"))
    s = _row(p, "s")[0]
    ell, rho, gamma, delta0, dim = (_const(batch, k) for k in ("ell", "rho", "gamma", "delta0", "d"))
    w0 = fractions(np.asarray(batch.w0, dtype=np.float64).reshape(1, -1)[0])
    d = len(h)

    def no(reason: str) -> Membership:
        return Membership(False, "exact", reason)

    if not (len(c) == len(q) == len(xs) == len(w0) == d >= 1):
        return no("inconsistent dimensions")
    if dim != d:
        return no(f"d = {float(dim)!r} is not the dimension {d}")
    if any(x != 0 for x in q) or s != 0:
        return no("a saddle_global instance has no quartic terms (q = s = 0)")
    if any(x != 0 for x in xs):
        return no("xs must be the critical point 0 of the sine saddle")
    if gamma <= 0:
        return no("xs is not a strict saddle (gamma <= 0)")
    if gamma != -min(h):
        return no(f"gamma = {float(gamma)!r} != -lambda_min(Hess f(0)) = {float(-min(h))!r}")
    need_ell = max(abs(hi) + abs(ci) for hi, ci in zip(h, c))
    if ell < need_ell:
        return no(f"ell = {float(ell)!r} is below sup ||Hess f|| = max_i (|h_i| + |c_i|) = {float(need_ell)!r}")
    need_rho = max(abs(ci) for ci in c)
    if rho < need_rho:
        return no(f"rho = {float(rho)!r} is below the Hessian-Lipschitz constant max_i |c_i| = {float(need_rho)!r}")
    if delta0 < 0 or sum((a - b) ** 2 for a, b in zip(w0, xs)) > delta0 * delta0:
        return no(f"||w0 - xs|| exceeds delta0 = {float(delta0)!r}")
    return Membership(True, "exact")


def _where(mask: np.ndarray, a: Interval, b: Interval) -> Interval:
    return Interval(np.where(mask, a.lo, b.lo), np.where(mask, a.hi, b.hi))


def certificate_bounds(h: np.ndarray, q: np.ndarray, s: np.ndarray, xs: np.ndarray,
                       delta0: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rigorous upper bounds on the (ell, rho) certificates of
    :func:`numeric.families.escape.local_region` for quartic (c = 0) rows, vectorized over the rows.

    ``h, q, xs`` (n, d), ``s, delta0`` (n,): the stored floats.  Returns ``(ell, rho, bounded)``:
    the upper endpoints of interval enclosures (:mod:`numeric.intervals`) of the certificates' exact
    real values, and whether the row's sublevel set is bounded (where it is not, ell and rho are
    meaningless).  The computation is elementwise with the columns summed left to right, so a row
    gets the same bounds in any batch: a generator that stores ``ell >= bound`` passes the check
    that recomputes it for that row alone."""
    h, q, xs = (np.asarray(a, dtype=np.float64) for a in (h, q, xs))
    s, delta0 = np.asarray(s, dtype=np.float64), np.asarray(delta0, dtype=np.float64)
    n, d = h.shape
    two_delta = point(delta0) * 2.0
    n2 = point(np.zeros(n))
    for i in range(d):
        n2 = n2 + point(xs[:, i]).square()
    rad = n2.sqrt() + two_delta
    ell_loc = point(np.zeros(n))
    fxs = point(np.zeros(n))
    for i in range(d):
        hi, qi, x = point(h[:, i]), point(q[:, i]), point(xs[:, i])
        b = _where(q[:, i] > 0, iabs(x) + two_delta, point(np.zeros(n)))
        ell_loc = imax(ell_loc, iabs(hi), iabs(hi + qi * b.square() * 3.0))
        x2 = x.square()
        fxs = fxs + hi * x2 * 0.5 + qi * x2.square() * 0.25
    ell_loc = ell_loc + point(s) * rad.square() * 3.0
    fxs = fxs + point(s) * n2.square() * 0.25  # f(xs) - f0
    G = fxs + ell_loc * two_delta.square() * 0.5
    # s > 0 rows (the ||x||^4 saddle; q = 0 there): ||x||^2 <= y on {f <= F}, the region twice that ball.
    hmin = point(h.min(axis=1))
    s_safe = point(np.where(s > 0, s, 1.0))
    y = (-hmin + (hmin.square() + s_safe * G * 4.0).sqrt()) / s_safe
    ball = y.sqrt() * 2.0
    ell_s = imax(*(iabs(point(h[:, i])) for i in range(d))) + s_safe * ball.square() * 3.0
    rho_s = s_safe * ball * 6.0
    # s = 0 rows: per coordinate, x_i^2 <= xi2 on {f <= F}; the region is twice the sublevel box.
    neg_min = [np.where((q[:, i] > 0) & (h[:, i] < 0), 1.0, 0.0) for i in range(d)]
    q_safe = [point(np.where(q[:, i] > 0, q[:, i], 1.0)) for i in range(d)]
    m = [-(point(h[:, i]).square() / (q_safe[i] * 4.0)) * neg_min[i] for i in range(d)]
    msum = point(np.zeros(n))
    for mi in m:
        msum = msum + mi
    ell_q = point(np.zeros(n))
    rho_q = point(np.zeros(n))
    for i in range(d):
        hi, qi = point(h[:, i]), q_safe[i]
        Fi = (G - (msum - m[i])).clip_low(0.0)
        xi2 = (-hi + (hi.square() + qi * Fi * 4.0).sqrt()) / qi
        quart = q[:, i] > 0
        ell_i = imax(iabs(hi), iabs(hi + qi * xi2 * 12.0))  # box^2 = 4 xi2, times 3 q
        rho_i = qi * xi2.sqrt() * 12.0
        ell_q = imax(ell_q, _where(quart, ell_i, iabs(hi)))
        rho_q = imax(rho_q, _where(quart, rho_i, point(np.zeros(n))))
    bounded = np.where(s > 0, ~(q > 0).any(axis=1), ((q > 0) | (h > 0)).all(axis=1))
    ell = np.where(s > 0, ell_s.hi, ell_q.hi)
    rho = np.where(s > 0, rho_s.hi, rho_q.hi)
    return ell, rho, bounded


def saddle_member_exact(batch: InstanceBatch) -> Membership:
    """``saddle_any`` / ``saddle_minima``: sine rows as :func:`sine_saddle_member_exact`; quartic
    rows (c = 0) with xs an exact critical point, ``gamma = -lambda_min(Hess f(xs))`` exactly, and
    ``ell``, ``rho`` at least rational upper bounds on the class's certificates on B(0, R)."""
    p = batch.problem
    h, c, q, xs = (_row(p, k) for k in ("h", "c", "q", "xs"))
    s, f0 = _row(p, "s")[0], _row(p, "f0")[0]
    if s == 0 and all(qi == 0 for qi in q):
        return sine_saddle_member_exact(batch)
    ell, rho, gamma, delta0, dim = (_const(batch, k) for k in ("ell", "rho", "gamma", "delta0", "d"))
    w0 = fractions(np.asarray(batch.w0, dtype=np.float64).reshape(1, -1)[0])
    d = len(h)

    def no(reason: str) -> Membership:
        return Membership(False, "exact", reason)

    if not (len(c) == len(q) == len(xs) == len(w0) == d >= 1) or dim != d:
        return no("inconsistent dimensions")
    if any(ci != 0 for ci in c):
        return no("a quartic instance must have c = 0")
    if any(qi < 0 for qi in q) or s < 0:
        return no("q and s must be nonnegative")
    if sum(1 for x in xs if s * x != 0) > 1:
        return no("Hess f(xs) is not diagonal")
    n2 = sum(x * x for x in xs)
    grad = [hi * x + qi * x ** 3 + s * n2 * x for hi, qi, x in zip(h, q, xs)]
    if any(g != 0 for g in grad):
        return no("xs is not an exact critical point of f")
    hess = [hi + 3 * qi * x * x + s * n2 + 2 * s * x * x for hi, qi, x in zip(h, q, xs)]
    if gamma <= 0 or gamma != -min(hess):
        return no(f"gamma = {float(gamma)!r} is not -lambda_min(Hess f(xs)) = {float(-min(hess))!r} > 0")
    if delta0 < 0 or sum((a - b) ** 2 for a, b in zip(w0, xs)) > delta0 * delta0:
        return no(f"||w0 - xs|| exceeds delta0 = {float(delta0)!r}")
    if s > 0 and any(qi != 0 for qi in q):
        return no("q and s cannot both be nonzero")
    row = {k: np.asarray(getattr(p, k), dtype=np.float64).reshape(1, -1) for k in ("h", "q", "xs")}
    ell_b, rho_b, bounded = certificate_bounds(row["h"], row["q"], np.array([float(s)]), row["xs"],
                                               np.array([float(delta0)]))
    if not bounded[0]:
        return no("the sublevel set is not bounded (a coordinate with q = 0 and h <= 0)")
    if ell < Fraction(float(ell_b[0])):
        return no(f"ell = {float(ell)!r} is below the certified Hessian bound {float(ell_b[0])!r}")
    if rho < Fraction(float(rho_b[0])):
        return no(f"rho = {float(rho)!r} is below the certified Hessian-Lipschitz bound {float(rho_b[0])!r}")
    if "fstar" in batch.attrs:
        fstar = f0 + sum(-(hi * hi) / (4 * qi) for hi, qi in zip(h, q) if qi > 0 and hi < 0)
        # min f is a rational that is rarely a float: fstar must be its correctly rounded value.
        if s != 0 or _const(batch, "fstar") != Fraction(float(fstar)):
            return no(f"fstar is not min f = {float(fstar)!r} correctly rounded")
    return Membership(True, "exact")


def _growth(gamma: Fraction, ell: Fraction) -> Fraction:
    return (1 + gamma / ell) ** STUCK_HORIZON


def growth_factor_rounded(gamma: np.ndarray, ell: np.ndarray) -> np.ndarray:
    """``G = (1 + gamma/ell)^100`` computed exactly from the stored floats and rounded once to the
    nearest float64 (about 30 us per instance: the exact power has some 5000-bit terms).  An extended-precision
    power is not enough: its error, amplified a hundredfold by the power, misrounds about one value in a
    hundred, and ``saddle_deep``'s exact check asks for the correctly rounded value."""
    g = np.asarray(gamma, dtype=np.float64).reshape(-1).tolist()
    e = np.asarray(ell, dtype=np.float64).reshape(-1).tolist()
    return np.asarray([float(_growth(Fraction(a), Fraction(b))) for a, b in zip(g, e)], dtype=np.float64)


def deep_saddle_member_exact(batch: InstanceBatch) -> Membership:
    """``saddle_deep``: :func:`sine_saddle_member_exact`, then ``gamma / ell >= 0.1`` exactly and ``G``
    the correctly rounded ``(1 + gamma/ell)^100``."""
    base = sine_saddle_member_exact(batch)
    if not base.ok:
        return base
    gamma, ell, G = (_const(batch, k) for k in ("gamma", "ell", "G"))
    if gamma < DEEP_RATIO * ell:
        return Membership(False, "exact", f"gamma / ell = {float(gamma / ell)!r} is below {float(DEEP_RATIO)!r}")
    want = float(_growth(gamma, ell))
    if G != Fraction(want):
        return Membership(False, "exact", f"G = {float(G)!r} is not (1 + gamma/ell)^{STUCK_HORIZON} correctly rounded "
                                          f"({want!r})")
    return Membership(True, "exact")
