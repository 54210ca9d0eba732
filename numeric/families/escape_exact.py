"""Exact membership (:attr:`numeric.api.InstanceClass.member_exact`) of the saddle-escape class
``saddle_global``.

Its members are sine saddles ``f(x) = 1/2 x^T diag(h) x + sum_i c_i (sin x_i - x_i) + f0`` with the
saddle at ``xs = 0``.  Everything the class asserts has a closed form in the stored floats, so it is
decided in rational arithmetic with no slack:

* ``grad f(0) = 0`` holds identically (``cos 0 = 1``), so the check requires ``xs = 0`` exactly and
  ``q = s = 0`` (no quartic terms);
* ``Hess f(0) = diag(h)`` (``sin 0 = 0``), so ``gamma = -min_i h_i`` exactly and ``gamma > 0``;
* ``Hess f(x) = diag(h_i - c_i sin x_i)`` has ``sup_x ||Hess f(x)|| = max_i (|h_i| + |c_i|)``, so
  ell-smoothness on R^d is ``ell >= max_i (|h_i| + |c_i|)``;
* ``||Hess f(x) - Hess f(y)|| = max_i |c_i| |sin x_i - sin y_i| <= max_i |c_i| ||x - y||`` with
  equality in the limit, so rho-Hessian-Lipschitz on R^d is ``rho >= max_i |c_i|``;
* the start is within ``delta0`` of the saddle: ``||w0 - xs||^2 <= delta0^2``; and ``d`` is the
  dimension.

The quartic and matrix saddles of ``saddle_any`` / ``saddle_minima`` are not covered here (see the
report of branch hooks-a): their stored ``xs`` of a matrix saddle is only a rounded critical point,
and their certificates take square roots.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..api import InstanceBatch, Membership
from ..exact_membership import fractions

__all__ = ["sine_saddle_member_exact"]


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
