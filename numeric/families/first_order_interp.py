"""Smooth interpolation of finite first-order data by a member of a generic first-order class.

Given points ``p_0 < ... < p_m`` on a line with values ``f_j`` and derivatives ``g_j`` (for
instance a worst case computed by performance estimation: the iterates, function values and
gradients of a method, and a minimiser), :func:`interpolate_1d` builds a one-dimensional
piecewise quadratic whose curvature lies in ``[lo, hi]`` on every piece and which passes through
the data when the data are interpolable in that class.  Between two consecutive points the
derivative is a convex combination ``lam * upper + (1 - lam) * lower`` of the two extreme paths
from ``g_a`` to ``g_b`` (upper: slope ``hi`` first, then ``lo``; lower: ``lo`` first, then ``hi``),
with ``lam`` chosen so the integral of the derivative is ``f_b - f_a``; a combination of slopes in
``[lo, hi]`` stays in ``[lo, hi]``, so the result is a member by construction.  Data that are not
interpolable are projected (the derivative jump clipped to what the curvature bounds allow, the
integral clipped to the reachable range): the result is still a member, just not through every
data point.
"""

from __future__ import annotations

import numpy as np
from kernels.first_order import RotatedPWQ

from ..api import InstanceBatch
from .first_order_param import SHRINK

__all__ = ["interpolate_1d", "member_from_data"]


def _paths(h: float, ga: float, gb: float, lo: float, hi: float) -> tuple[float, float, float, float]:
    """Switch points of the upper and lower paths and their integrals over [0, h]."""
    su = (gb - ga - lo * h) / (hi - lo)  # upper path: slope hi on [0, su], lo after
    sl = (hi * h - (gb - ga)) / (hi - lo)  # lower path: slope lo on [0, sl], hi after
    i_hi = ga * h + hi * su * su / 2 + hi * su * (h - su) + lo * (h - su) ** 2 / 2
    i_lo = ga * h + lo * sl * sl / 2 + lo * sl * (h - sl) + hi * (h - sl) ** 2 / 2
    return su, sl, i_hi, i_lo


def interpolate_1d(p: np.ndarray, f: np.ndarray, g: np.ndarray, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Knots ``z``, knot derivatives and ``phi(z_0)`` of a piecewise quadratic with curvature in
    ``[lo, hi]`` through the data (module docstring); points closer than 1e-12 (relative) are
    merged.  ``lo < hi`` required."""
    order = np.argsort(p, kind="stable")
    p, f, g = (np.asarray(a, dtype=np.float64)[order] for a in (p, f, g))
    scale = max(1.0, float(np.max(np.abs(p))))
    keep = np.concatenate([[True], np.diff(p) > 1e-12 * scale])
    p, f, g = p[keep], f[keep], g[keep]
    z, gz = [p[0]], [g[0]]
    for j in range(len(p) - 1):
        a, h = p[j], p[j + 1] - p[j]
        ga = gz[-1]
        gb = float(np.clip(g[j + 1], ga + lo * h, ga + hi * h))
        su, sl, i_hi, i_lo = _paths(h, ga, gb, lo, hi)
        target = f[j + 1] - f[j]
        lam = 0.0 if i_hi - i_lo <= 0 else float(np.clip((target - i_lo) / (i_hi - i_lo), 0.0, 1.0))

        def deriv(t: float) -> float:
            up = ga + hi * min(t, su) + lo * max(t - su, 0.0)
            down = ga + lo * min(t, sl) + hi * max(t - sl, 0.0)
            return lam * up + (1 - lam) * down

        for t in sorted({min(max(su, 0.0), h), min(max(sl, 0.0), h)}):
            if 0.0 < t < h:
                z.append(a + t)
                gz.append(deriv(t))
        z.append(p[j + 1])
        gz.append(gb)
    z_a = np.asarray(z)
    g_a = np.asarray(gz)
    # Rounding of the mixture may leave a slope a hair outside [lo, hi]: rebuild the derivative
    # piece by piece with every increment clipped to the allowed range (exact at lo = 0).
    for k in range(len(z_a) - 1):
        dz = z_a[k + 1] - z_a[k]
        g_a[k + 1] = g_a[k] + float(np.clip(g_a[k + 1] - g_a[k], lo * dz, hi * dz))
    return z_a, g_a, float(f[0])


def member_from_data(p: np.ndarray, f: np.ndarray, g: np.ndarray, x0: float, *, L: float, lower: float,
                     attrs: dict[str, float] | None = None) -> InstanceBatch:
    """A batch of one: the one-dimensional member through the data (``x0`` its start), curvatures
    built a ``SHRINK`` fraction inside ``[lower, L]`` (the end at exactly 0 kept), end pieces at the
    interval's end nearest 0."""
    span = L - lower
    lo_b = 0.0 if lower == 0 else lower + SHRINK * span
    hi_b = L - SHRINK * span
    z, gz, f0 = interpolate_1d(p, f, g, lo_b, hi_b)
    end = min(max(0.0, lo_b), hi_b)
    prob = RotatedPWQ(np.eye(1)[None], z[None, None, :], gz[None, None, :], np.full((1, 1), end),
                      np.full((1, 1), end), np.asarray([f0]))
    a = {"L": np.asarray([L]), "d": np.ones(1)}
    a.update({k: np.asarray([v]) for k, v in (attrs or {}).items()})
    return InstanceBatch("interpolated", prob, np.asarray([[x0]]), a)
