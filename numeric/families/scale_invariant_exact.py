"""Exact membership check (:attr:`numeric.api.InstanceClass.member_exact`) of the Rayleigh-quotient
scale-invariant classes ``rayleigh_si_slow_decay`` and ``rayleigh_si`` (the same definition).

For ``L(w) = w^T A w / w^T w`` the Hessian norm on the unit sphere is at most
``2 (lambda_max - lambda_min)`` (attained at the bottom eigenvector), so the class's constants are
used by its claims as bounds: ``rho`` an upper bound of ``max_{||w||=1} ||Hess L(w)||_2`` and
``lmin`` a lower bound of ``min L``.  Both follow from the spectrum of the stored A lying inside
``[lmin, lmin + rho/2]``, which is two exact PSD tests on the stored floats (dyadic rationals):
``A - lmin I >= 0`` and ``(lmin + rho/2) I - A >= 0``; then ``lambda_min >= lmin`` and
``2 (lambda_max - lambda_min) <= 2 (lmin + rho/2 - lmin) = rho``.  Equality of rho with
``2 (lambda_max - lambda_min)`` (the class's nominal definition) is not decidable on rounded
arrays and not needed by any claim: an upper bound is what the bounds of Lemmas 13.4.x use.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from ..api import InstanceBatch, Membership
from ..exact_membership import add, fraction_matrix, identity_times, is_psd

__all__ = ["rayleigh_member_exact", "rayleigh_large_w0_member_exact"]


def _const(batch: InstanceBatch, name: str) -> Fraction:
    v = float(np.asarray(batch.attrs[name], dtype=np.float64).reshape(-1)[0])
    if not math.isfinite(v):
        raise ValueError(f"{name} = {v!r} is not finite")
    return Fraction(v)


def rayleigh_member_exact(batch: InstanceBatch) -> Membership:
    """Instance 0 of ``batch`` (a Rayleigh quotient with constants rho, lam, lmin): A symmetric, its
    spectrum inside ``[lmin, lmin + rho/2]`` (so rho bounds the Hessian norm on the unit sphere and
    lmin bounds L from below), lam > 0 and w0 != 0, all decided exactly."""
    try:
        A = fraction_matrix(np.asarray(batch.problem.A, dtype=np.float64)[0])
        rho, lam, lmin = (_const(batch, k) for k in ("rho", "lam", "lmin"))
    except ValueError as exc:
        return Membership(False, "exact", str(exc))
    d = len(A)
    if any(A[i][j] != A[j][i] for i in range(d) for j in range(i)):
        return Membership(False, "exact", "A is not symmetric")
    if not lam > 0:
        return Membership(False, "exact", f"weight decay lam = {float(lam)!r} is not positive")
    w0 = np.asarray(batch.w0, dtype=np.float64).reshape(np.asarray(batch.w0).shape[0], -1)[0]
    if not np.all(np.isfinite(w0)) or not np.any(w0 != 0):
        return Membership(False, "exact", "w0 is zero or not finite")
    if not is_psd(add(A, identity_times(d, lmin), -1)):
        return Membership(False, "exact", f"A - lmin I is not PSD: lambda_min(A) < lmin = {float(lmin)!r}")
    if not is_psd(add(identity_times(d, lmin + rho / 2), A, -1)):
        return Membership(False, "exact", "(lmin + rho/2) I - A is not PSD: 2 (lambda_max - lambda_min) can exceed "
                          f"rho = {float(rho)!r}")
    return Membership(True, "exact")


#: ``rayleigh_si_slow_large_w0``'s box on ||w0||^2 and the slow classes' range of lam / rho, as exact powers of
#: ten: lam / rho in [10^(-17/5), 10^(-31/10)].
_W0N2_BOX = (Fraction(10), Fraction(10**4))


def rayleigh_large_w0_member_exact(batch: InstanceBatch) -> Membership:
    """``rayleigh_si_slow_large_w0``: the Rayleigh check (:func:`rayleigh_member_exact`) plus the class's own
    conditions, all exact: the constant w0n2 equal to ||w0||^2 of the stored w0 (the generator puts w0 on a grid
    where the float sum is exact), ||w0||^2 in [10, 10^4], and the slow classes' small weight decay
    lam / rho in [10^-3.4, 10^-3.1] (as ``(lam/rho)^5 >= 10^-17`` and ``(lam/rho)^10 <= 10^-31``)."""
    base = rayleigh_member_exact(batch)
    if not base.ok:
        return base
    try:
        w0n2, rho, lam = (_const(batch, k) for k in ("w0n2", "rho", "lam"))
    except (ValueError, KeyError) as exc:
        return Membership(False, "exact", f"missing or invalid constant: {exc}")
    w0 = np.asarray(batch.w0, dtype=np.float64).reshape(np.asarray(batch.w0).shape[0], -1)[0]
    n2 = sum((Fraction(float(v)) ** 2 for v in w0), Fraction(0))
    if w0n2 != n2:
        return Membership(False, "exact", f"w0n2 = {float(w0n2)!r} differs from ||w0||^2 = {float(n2)!r} "
                          f"(by {float(w0n2 - n2)!r})")
    if not (_W0N2_BOX[0] <= n2 <= _W0N2_BOX[1]):
        return Membership(False, "exact", f"||w0||^2 = {float(n2)!r} outside [10, 10^4]")
    r = lam / rho
    if not (r**5 * 10**17 >= 1 and r**10 * 10**31 <= 1):
        return Membership(False, "exact", f"lam / rho = {float(r)!r} outside [10^-3.4, 10^-3.1]")
    return Membership(True, "exact")
