"""NumPy reference of ``pwq.gd`` (any float dtype; ``np.longdouble`` for replay)."""

from __future__ import annotations

import numpy as np

from . import PiecewiseQuadratic, pwq_value

__all__ = ["gd_kernel"]


def gd_kernel(problem: PiecewiseQuadratic, x0: np.ndarray, eta: np.ndarray, T: int) -> tuple[np.ndarray, ...]:
    """``pwq.gd`` on NumPy: iterates, values, squared gradients and rounding scales (B, T+1)."""
    B = x0.shape[0]
    dt = x0.dtype
    X = np.empty((B, T + 1), dtype=dt)
    f = np.empty((B, T + 1), dtype=dt)
    g2 = np.empty((B, T + 1), dtype=dt)
    fa = np.empty((B, T + 1), dtype=dt)
    x = x0.copy()
    for t in range(T + 1):
        fx, gx, fax = pwq_value(problem, x)
        X[:, t], f[:, t], g2[:, t], fa[:, t] = x, fx, gx * gx, fax
        if t < T:
            x = x - eta * gx
    return X, f, g2, fa
